//! A second reading of a grid rqrr located but could not decode.
//!
//! rqrr measures the code's size on its timing pattern, in the thresholded picture; blur and
//! low contrast wash the timing pattern out and the size comes out wrong, so every module is
//! sampled in the wrong place. Its perspective is still right where it matters — it was fitted
//! to the three finder patterns — so the grid is refitted here at the neighbouring sizes, and
//! each module is sampled from the *grayscale* picture (bilinear) against the mean of the
//! modules around it, which also follows shadows across the code.

use crate::gray::Gray;
use rqrr::{BitGrid, Point};

/// Module-space neighbourhood (radius) whose mean decides a module's colour.
const NEIGHBOURHOOD: usize = 3;

/// The grayscale picture as the sampler reads it: a code printed light on dark is read with its
/// values turned round, so that the code's dark modules are always the low values.
#[derive(Clone, Copy)]
pub struct Ink<'a> {
    pub picture: &'a Gray,
    pub light_on_dark: bool,
}

impl Ink<'_> {
    fn value(&self, x: f64, y: f64) -> Option<f64> {
        let v = bilinear(self.picture, x, y)?;
        Some(if self.light_on_dark { 255.0 - v } else { v })
    }
}

/// A perspective transform (homography) from grid coordinates to picture coordinates.
#[derive(Clone, Copy, Debug)]
pub struct Homography([f64; 9]);

impl Homography {
    /// The transform taking `from[i]` to `to[i]`; `None` when the points are degenerate.
    pub fn between(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Option<Homography> {
        // Solve for h0..h7 (h8 = 1): x' = (h0 x + h1 y + h2) / (h6 x + h7 y + 1), likewise y'.
        let mut m = [[0f64; 9]; 8];
        for (i, ((x, y), (u, v))) in from.iter().zip(to.iter()).enumerate() {
            m[2 * i] = [*x, *y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u, *u];
            m[2 * i + 1] = [0.0, 0.0, 0.0, *x, *y, 1.0, -x * v, -y * v, *v];
        }
        for col in 0..8 {
            let pivot = (col..8).max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs()))?;
            if m[pivot][col].abs() < 1e-12 {
                return None;
            }
            m.swap(col, pivot);
            for row in 0..8 {
                if row != col {
                    let f = m[row][col] / m[col][col];
                    let pivot_row = m[col];
                    for (cell, p) in m[row].iter_mut().zip(pivot_row).skip(col) {
                        *cell -= f * p;
                    }
                }
            }
        }
        let mut h = [0f64; 9];
        for i in 0..8 {
            h[i] = m[i][8] / m[i][i];
        }
        h[8] = 1.0;
        h.iter().all(|v| v.is_finite()).then_some(Homography(h))
    }

    pub fn map(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w)
    }
}

/// rqrr's perspective for a grid of `size` modules, recovered from the grid's bounds (which
/// rqrr computes as the images of (0,0), (size+1,0), (size+1,size+1), (0,size+1)).
pub fn from_bounds(bounds: &[Point; 4], size: usize) -> Option<Homography> {
    let s = size as f64 + 1.0;
    let to = bounds.map(|p| (p.x as f64, p.y as f64));
    Homography::between([(0.0, 0.0), (s, 0.0), (s, s), (0.0, s)], to)
}

/// Where the corners of a grid of `size` modules are, given rqrr's transform `h` for a grid of
/// `fitted` modules (finder patterns sit at modules 0..7 and size-7..size in either fit).
fn corners(h: &Homography, fitted: usize, size: usize) -> [(f64, f64); 4] {
    let s = size as f64 * (fitted as f64 - 7.0) / (size as f64 - 7.0);
    [h.map(0.0, 0.0), h.map(s, 0.0), h.map(s, s), h.map(0.0, s)]
}

fn grid_to_picture(corners: &[(f64, f64); 4], size: usize) -> Option<Homography> {
    let s = size as f64;
    Homography::between([(0.0, 0.0), (s, 0.0), (s, s), (0.0, s)], *corners)
}

/// Modules whose colour every code of `size` modules shares: the three finder patterns and the
/// two timing patterns. `(x, y, dark)`.
fn function_modules(size: usize) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    for (fx, fy) in [(0, 0), (size - 7, 0), (0, size - 7)] {
        for y in 0..7 {
            for x in 0..7 {
                let ring = x.min(y).min(6 - x).min(6 - y);
                out.push((fx + x, fy + y, ring != 1));
            }
        }
    }
    for i in 8..size - 8 {
        out.push((i, 6, i % 2 == 0));
        out.push((6, i, i % 2 == 0));
    }
    out
}

/// The function modules and the alignment patterns' modules: what the fit maximises. The
/// alignment patterns are what pins the fourth corner, which no finder marks.
fn fitted_modules(size: usize) -> Vec<(usize, usize, bool)> {
    let mut out = function_modules(size);
    let centres = alignment_centres(size);
    let last = size - 7;
    for &cy in &centres {
        for &cx in &centres {
            // The three corners taken by finder patterns have no alignment pattern.
            if matches!((cx, cy), (6, 6)) || (cx, cy) == (6, last) || (cx, cy) == (last, 6) {
                continue;
            }
            for y in 0..5 {
                for x in 0..5 {
                    let ring = x.min(y).min(4 - x).min(4 - y);
                    out.push((cx + x - 2, cy + y - 2, ring != 1));
                }
            }
        }
    }
    out
}

/// The rows (and columns) of the alignment patterns' centres in a code of `size` modules, as
/// ISO/IEC 18004 Annex E places them: the first at 6, the last 7 in from the far edge, the rest
/// evenly spaced by an even step. Version 1 has none.
fn alignment_centres(size: usize) -> Vec<usize> {
    let version = (size - 17) / 4;
    if version < 2 {
        return Vec::new();
    }
    let count = version / 7 + 2;
    let step = if version == 32 {
        26
    } else {
        (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
    };
    let mut centres: Vec<usize> = (0..count - 1).map(|i| size - 7 - i * step).collect();
    centres.push(6);
    centres.reverse();
    centres
}

/// The grayscale value at the centre of each module `(x, y)` through `h`; `None` when one of
/// them falls outside the picture.
fn module_values(ink: Ink, h: &Homography, modules: impl Iterator<Item = (usize, usize)>) -> Option<Vec<f64>> {
    modules
        .map(|(x, y)| {
            let (px, py) = h.map(x as f64 + 0.5, y as f64 + 0.5);
            ink.value(px, py)
        })
        .collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// How well the function modules read through `h`: dark ones darker than the mean, light ones
/// lighter. `None` when the grid leaves the picture.
fn fitness(ink: Ink, h: &Homography, modules: &[(usize, usize, bool)]) -> Option<f64> {
    let values = module_values(ink, h, modules.iter().map(|&(x, y, _)| (x, y)))?;
    let mean = mean(&values);
    Some(
        modules
            .iter()
            .zip(&values)
            .map(|(&(_, _, dark), v)| if dark { mean - v } else { v - mean })
            .sum(),
    )
}

/// The share of the function modules of a `size`-module grid that read the right colour through
/// `h` (grid coordinates of that size): a cheap test of a candidate before fitting it.
pub fn agreement(ink: Ink, h: &Homography, size: usize) -> Option<f64> {
    if size < 21 {
        return None;
    }
    let modules = function_modules(size);
    let values = module_values(ink, h, modules.iter().map(|&(x, y, _)| (x, y)))?;
    let mean = mean(&values);
    let right = modules
        .iter()
        .zip(&values)
        .filter(|((_, _, dark), v)| (**v < mean) == *dark)
        .count();
    Some(right as f64 / modules.len() as f64)
}

/// Moves each corner a little at a time while the function modules read better (coordinate
/// descent at shrinking steps of a module's width).
fn jiggle(ink: Ink, mut corners: [(f64, f64); 4], size: usize) -> Option<Homography> {
    let modules = fitted_modules(size);
    let module_px = ((corners[1].0 - corners[0].0).hypot(corners[1].1 - corners[0].1)) / size as f64;
    let mut best = fitness(ink, &grid_to_picture(&corners, size)?, &modules)?;
    for step in [0.5, 0.25, 0.125] {
        let d = step * module_px;
        for _round in 0..4 {
            let mut improved = false;
            for i in 0..8 {
                for sign in [-1.0, 1.0] {
                    let mut trial = corners;
                    let c = &mut trial[i / 2];
                    if i % 2 == 0 {
                        c.0 += sign * d;
                    } else {
                        c.1 += sign * d;
                    }
                    let Some(h) = grid_to_picture(&trial, size) else {
                        continue;
                    };
                    if let Some(f) = fitness(ink, &h, &modules)
                        && f > best
                    {
                        best = f;
                        corners = trial;
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }
    grid_to_picture(&corners, size)
}

/// A grid of `size` modules, refitted and sampled from the picture, starting from rqrr's
/// transform `h` for a grid of `fitted` modules.
pub struct Sampled {
    size: usize,
    dark: Vec<bool>,
}

impl Sampled {
    pub fn new(ink: Ink, h: &Homography, fitted: usize, size: usize) -> Option<Sampled> {
        if !(21..=177).contains(&size) || !(size - 17).is_multiple_of(4) {
            return None;
        }
        let h = jiggle(ink, corners(h, fitted, size), size)?;
        let values = module_values(ink, &h, (0..size).flat_map(|y| (0..size).map(move |x| (x, y))))?;
        // Each module against the mean of its neighbourhood in module space.
        let mut dark = Vec::with_capacity(size * size);
        for y in 0..size {
            for x in 0..size {
                let (y0, y1) = (y.saturating_sub(NEIGHBOURHOOD), (y + NEIGHBOURHOOD + 1).min(size));
                let (x0, x1) = (x.saturating_sub(NEIGHBOURHOOD), (x + NEIGHBOURHOOD + 1).min(size));
                let mut sum = 0.0;
                for yy in y0..y1 {
                    sum += values[yy * size + x0..yy * size + x1].iter().sum::<f64>();
                }
                let mean = sum / ((y1 - y0) * (x1 - x0)) as f64;
                dark.push(values[y * size + x] < mean);
            }
        }
        Some(Sampled { size, dark })
    }
}

impl BitGrid for Sampled {
    fn size(&self) -> usize {
        self.size
    }
    fn bit(&self, y: usize, x: usize) -> bool {
        self.dark[y * self.size + x]
    }
}

fn bilinear(g: &Gray, x: f64, y: f64) -> Option<f64> {
    if !(x >= 0.0 && y >= 0.0) {
        return None;
    }
    let (x0, y0) = (x as usize, y as usize);
    if x0 + 1 >= g.width() || y0 + 1 >= g.height() {
        return None;
    }
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let top = g.at(x0, y0) as f64 * (1.0 - fx) + g.at(x0 + 1, y0) as f64 * fx;
    let bottom = g.at(x0, y0 + 1) as f64 * (1.0 - fx) + g.at(x0 + 1, y0 + 1) as f64 * fx;
    Some(top * (1.0 - fy) + bottom * fy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_modules_are_those_every_code_of_that_size_shares() {
        use qrcode::{Color, EcLevel, QrCode, Version};
        for version in [1, 2, 7, 10, 19, 32, 40] {
            let code = QrCode::with_version(b"certkiosk", Version::Normal(version), EcLevel::L).expect("fits");
            let size = code.width();
            let colors = code.to_colors();
            let modules = fitted_modules(size);
            for &(x, y, dark) in &modules {
                assert_eq!(
                    colors[y * size + x] == Color::Dark,
                    dark,
                    "version {version} module ({x}, {y})"
                );
            }
            let patterns = alignment_centres(size).len().pow(2).saturating_sub(3);
            assert_eq!(
                modules.len(),
                3 * 49 + 2 * (size - 16) + 25 * patterns,
                "version {version}"
            );
        }
    }

    #[test]
    fn a_homography_maps_its_four_points_and_inverts_nothing_else() {
        let from = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        let to = [(5.0, 7.0), (40.0, 9.0), (42.0, 50.0), (3.0, 44.0)];
        let h = Homography::between(from, to).expect("fits");
        for (f, t) in from.iter().zip(to) {
            let (x, y) = h.map(f.0, f.1);
            assert!((x - t.0).abs() < 1e-9 && (y - t.1).abs() < 1e-9);
        }
        assert!(Homography::between(from, [(1.0, 1.0); 4]).is_none());
    }
}
