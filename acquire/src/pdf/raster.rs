//! Rasterises the dark fills of a page — a QR code drawn as rectangles or paths — into a
//! grayscale picture, without a PDF renderer: only filled areas and their darkness count.

use super::content::Paint;
use crate::gray::Gray;

/// Target size of the smallest filled feature, in pixels: plenty for the QR pipeline.
const PIXELS_PER_UNIT: f64 = 4.0;
/// The longer side of the picture is capped at this many pixels.
const MAX_SIDE: f64 = 2400.0;
/// Features thinner than this (in page units) are hairlines, not modules.
const MIN_FEATURE: f64 = 0.05;
/// Fewer dark shapes than this cannot be a QR code (version 1 has more modules than this).
pub const MIN_DARK_FILLS: usize = 20;
const QUIET_ZONE_UNITS: f64 = 6.0;

/// One filled path in page space.
#[derive(Debug)]
pub struct Fill {
    pub polygons: Vec<Vec<(f64, f64)>>,
    pub darkness: f64,
    pub even_odd: bool,
}

impl Fill {
    pub fn from_paint(paint: Paint) -> Option<Fill> {
        match paint {
            Paint::Fill {
                polygons,
                darkness,
                even_odd,
            } => Some(Fill {
                polygons,
                darkness,
                even_odd,
            }),
            Paint::Draw { .. } => None,
        }
    }

    fn is_dark(&self) -> bool {
        self.darkness >= 0.5
    }

    /// The bounds of each of its polygons (a code is often one path of many rectangles).
    fn polygon_bounds(&self) -> impl Iterator<Item = Bounds> + '_ {
        self.polygons.iter().filter_map(|p| Bounds::of(p.iter()))
    }
}

#[derive(Clone, Copy, Debug)]
struct Bounds {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Bounds {
    fn of<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> Option<Bounds> {
        let mut b: Option<Bounds> = None;
        for &(x, y) in points {
            if !x.is_finite() || !y.is_finite() {
                continue;
            }
            b = Some(match b {
                None => Bounds {
                    x0: x,
                    y0: y,
                    x1: x,
                    y1: y,
                },
                Some(b) => Bounds {
                    x0: b.x0.min(x),
                    y0: b.y0.min(y),
                    x1: b.x1.max(x),
                    y1: b.y1.max(y),
                },
            });
        }
        b
    }

    fn union(self, o: Bounds) -> Bounds {
        Bounds {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }

    fn thinner_side(&self) -> f64 {
        (self.x1 - self.x0).min(self.y1 - self.y0)
    }
}

/// The dark fills painted onto white, cropped to where they are, scaled so the smallest filled
/// feature is a few pixels wide. `None` when there are too few dark fills to be a code.
pub fn rasterise(fills: &[Fill]) -> Option<Gray> {
    let dark: Vec<Bounds> = fills
        .iter()
        .filter(|f| f.is_dark())
        .flat_map(Fill::polygon_bounds)
        .collect();
    if dark.len() < MIN_DARK_FILLS {
        return None;
    }
    let unit = dark
        .iter()
        .map(Bounds::thinner_side)
        .filter(|s| *s >= MIN_FEATURE)
        .fold(f64::INFINITY, f64::min);
    if !unit.is_finite() {
        return None;
    }
    let area = dark.iter().copied().reduce(Bounds::union)?;
    let margin = unit * QUIET_ZONE_UNITS;
    let (x0, y0) = (area.x0 - margin, area.y0 - margin);
    let (w, h) = (area.x1 - area.x0 + 2.0 * margin, area.y1 - area.y0 + 2.0 * margin);
    let scale = (PIXELS_PER_UNIT / unit).min(MAX_SIDE / w.max(h));
    let (pw, ph) = ((w * scale).ceil() as usize, (h * scale).ceil() as usize);
    if pw < 21 || ph < 21 {
        return None;
    }
    let mut picture = Gray::white(pw, ph);
    // Page space has y upwards; pictures have y downwards.
    let to_pixels = |(x, y): (f64, f64)| ((x - x0) * scale, (y0 + h - y) * scale);
    for fill in fills {
        let level = (255.0 * (1.0 - fill.darkness.clamp(0.0, 1.0))).round() as u8;
        let polygons: Vec<Vec<(f64, f64)>> = fill
            .polygons
            .iter()
            .map(|poly| poly.iter().copied().map(to_pixels).collect())
            .collect();
        fill_polygons(&mut picture, &polygons, level, fill.even_odd);
    }
    Some(picture)
}

/// Scanline fill at pixel centres, with the even-odd or non-zero winding rule.
fn fill_polygons(picture: &mut Gray, polygons: &[Vec<(f64, f64)>], level: u8, even_odd: bool) {
    let Some(b) = Bounds::of(polygons.iter().flatten()) else {
        return;
    };
    let (w, h) = (picture.width(), picture.height());
    let first_row = b.y0.max(0.0).floor() as usize;
    let last_row = (b.y1.ceil().max(0.0) as usize).min(h);
    let mut crossings: Vec<(f64, i32)> = Vec::new();
    for row in first_row..last_row {
        let y = row as f64 + 0.5;
        crossings.clear();
        for poly in polygons {
            for (i, &(xa, ya)) in poly.iter().enumerate() {
                let (xb, yb) = poly[(i + 1) % poly.len()];
                if (ya <= y) != (yb <= y) {
                    let x = xa + (y - ya) * (xb - xa) / (yb - ya);
                    crossings.push((x, if yb > ya { 1 } else { -1 }));
                }
            }
        }
        crossings.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut winding = 0;
        for pair in crossings.windows(2) {
            winding += pair[0].1;
            let inside = if even_odd { winding % 2 != 0 } else { winding != 0 };
            if !inside {
                continue;
            }
            let from = (pair[0].0 - 0.5).ceil().max(0.0) as usize;
            let to = ((pair[1].0 - 0.5).ceil().max(0.0) as usize).min(w);
            let row_pixels = &mut picture.pixels_mut()[row * w..(row + 1) * w];
            for p in &mut row_pixels[from.min(to)..to] {
                *p = level;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64) -> Vec<(f64, f64)> {
        vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s)]
    }

    #[test]
    fn a_checkerboard_of_rectangles_rasterises_to_its_modules() {
        let mut fills = vec![Fill {
            polygons: vec![square(-100.0, -100.0, 1000.0)],
            darkness: 0.0,
            even_odd: false,
        }];
        for i in 0..7 {
            for j in 0..7 {
                if (i + j) % 2 == 0 {
                    fills.push(Fill {
                        polygons: vec![square(10.0 + 2.0 * i as f64, 10.0 + 2.0 * j as f64, 2.0)],
                        darkness: 1.0,
                        even_odd: false,
                    });
                }
            }
        }
        let picture = rasterise(&fills).expect("enough fills");
        // Modules of 2 units become 4 px; 14 units of code plus 2 × 6 modules of quiet zone.
        assert_eq!(picture.width(), 76);
        let dark = picture.pixels().iter().filter(|p| **p < 128).count();
        assert_eq!(dark, 25 * 4 * 4);
        // Top-left module of the code (page y is up: the row at the top is j = 6, dark).
        assert_eq!(picture.at(24 + 1, 24 + 1), 0);
        assert_eq!(picture.at(24 + 4 + 1, 24 + 1), 255);
    }

    #[test]
    fn too_few_fills_or_nonsense_coordinates_give_nothing() {
        let few: Vec<Fill> = (0..3)
            .map(|i| Fill {
                polygons: vec![square(i as f64, 0.0, 1.0)],
                darkness: 1.0,
                even_odd: false,
            })
            .collect();
        assert!(rasterise(&few).is_none());
        let nan: Vec<Fill> = (0..50)
            .map(|_| Fill {
                polygons: vec![vec![(f64::NAN, 1.0); 4]],
                darkness: 1.0,
                even_odd: false,
            })
            .collect();
        assert!(rasterise(&nan).is_none());
    }
}
