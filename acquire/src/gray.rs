//! An 8-bit grayscale picture and the pixel operations the QR pipeline needs: scaling, global
//! (Otsu) and local (integral-image mean) thresholds. 0 is black, 255 is white.

/// A row-major 8-bit grayscale picture, whatever it came from (camera, image file, PDF).
#[derive(Clone, PartialEq, Eq)]
pub struct Gray {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl std::fmt::Debug for Gray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gray({}×{})", self.width, self.height)
    }
}

/// A thresholded picture: `true` is a dark pixel.
#[derive(Clone, Debug)]
pub struct Bits {
    pub width: usize,
    pub height: usize,
    pub dark: Vec<bool>,
}

impl Gray {
    /// `None` unless `pixels` holds exactly `width × height` bytes.
    pub fn new(width: usize, height: usize, pixels: Vec<u8>) -> Option<Gray> {
        (width.checked_mul(height)? == pixels.len()).then_some(Gray { width, height, pixels })
    }

    /// A blank (white) picture.
    pub fn white(width: usize, height: usize) -> Gray {
        Gray {
            width,
            height,
            pixels: vec![255; width * height],
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    pub fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.pixels
    }

    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    /// Half the size in each direction, each pixel the mean of a 2×2 block: cheaper to search
    /// and smooths sensor noise and JPEG blocks.
    pub fn half(&self) -> Gray {
        let (w, h) = (self.width / 2, self.height / 2);
        let mut pixels = Vec::with_capacity(w * h);
        for y in 0..h {
            let r0 = &self.pixels[2 * y * self.width..];
            let r1 = &self.pixels[(2 * y + 1) * self.width..];
            for x in 0..w {
                let sum = r0[2 * x] as u16 + r0[2 * x + 1] as u16 + r1[2 * x] as u16 + r1[2 * x + 1] as u16;
                pixels.push(((sum + 2) / 4) as u8);
            }
        }
        Gray {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Scaled by `factor` (> 1) with bilinear interpolation, so that codes printed with fewer
    /// than ~3 pixels per module get finder patterns the detector can measure.
    pub fn enlarged(&self, factor: usize) -> Gray {
        let (w, h) = (self.width * factor, self.height * factor);
        let mut pixels = Vec::with_capacity(w * h);
        let f = factor as f32;
        for y in 0..h {
            let sy = ((y as f32 + 0.5) / f - 0.5).max(0.0);
            let y0 = (sy as usize).min(self.height - 1);
            let y1 = (y0 + 1).min(self.height - 1);
            let fy = sy - y0 as f32;
            for x in 0..w {
                let sx = ((x as f32 + 0.5) / f - 0.5).max(0.0);
                let x0 = (sx as usize).min(self.width - 1);
                let x1 = (x0 + 1).min(self.width - 1);
                let fx = sx - x0 as f32;
                let top = self.at(x0, y0) as f32 * (1.0 - fx) + self.at(x1, y0) as f32 * fx;
                let bottom = self.at(x0, y1) as f32 * (1.0 - fx) + self.at(x1, y1) as f32 * fx;
                pixels.push((top * (1.0 - fy) + bottom * fy + 0.5) as u8);
            }
        }
        Gray {
            width: w,
            height: h,
            pixels,
        }
    }

    /// The rectangle `[x, x+w) × [y, y+h)`, clipped to the picture.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Gray {
        let x = x.min(self.width);
        let y = y.min(self.height);
        let w = w.min(self.width - x);
        let h = h.min(self.height - y);
        let mut pixels = Vec::with_capacity(w * h);
        for row in y..y + h {
            pixels.extend_from_slice(&self.pixels[row * self.width + x..row * self.width + x + w]);
        }
        Gray {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Mirror image (left-right), as a front camera or a photo of the back of a sheet gives.
    pub fn mirrored(&self) -> Gray {
        let mut pixels = Vec::with_capacity(self.pixels.len());
        for row in self.pixels.chunks_exact(self.width.max(1)) {
            pixels.extend(row.iter().rev());
        }
        Gray {
            width: self.width,
            height: self.height,
            pixels,
        }
    }

    /// Rotated by a quarter turn clockwise.
    pub fn rotated_cw(&self) -> Gray {
        let (w, h) = (self.height, self.width);
        let mut pixels = Vec::with_capacity(self.pixels.len());
        for y in 0..h {
            for x in 0..w {
                pixels.push(self.at(y, self.height - 1 - x));
            }
        }
        Gray {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Unsharp mask over the 3×3 neighbourhood: restores the edges that defocus and motion
    /// blur soften, so that small modules separate again.
    pub fn sharpened(&self, amount: f32) -> Gray {
        let (w, h) = (self.width, self.height);
        let mut pixels = self.pixels.clone();
        for y in 1..h.saturating_sub(1) {
            for x in 1..w.saturating_sub(1) {
                let mut sum = 0u32;
                for row in self.pixels[(y - 1) * w + x - 1..].chunks(w).take(3) {
                    sum += row[..3].iter().map(|&p| p as u32).sum::<u32>();
                }
                let p = self.pixels[y * w + x] as f32;
                let mean = sum as f32 / 9.0;
                pixels[y * w + x] = (p + amount * (p - mean)).clamp(0.0, 255.0) as u8;
            }
        }
        Gray {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Otsu's global threshold: the level that best separates the histogram into two classes.
    pub fn otsu_level(&self) -> u8 {
        let mut hist = [0u64; 256];
        for &p in &self.pixels {
            hist[p as usize] += 1;
        }
        let total = self.pixels.len() as f64;
        let sum_all: f64 = hist.iter().enumerate().map(|(i, &n)| i as f64 * n as f64).sum();
        let (mut best, mut best_var) = (128u8, -1.0f64);
        let (mut w0, mut sum0) = (0.0f64, 0.0f64);
        for (level, &n) in hist.iter().enumerate() {
            w0 += n as f64;
            sum0 += level as f64 * n as f64;
            let w1 = total - w0;
            if w0 == 0.0 || w1 == 0.0 {
                continue;
            }
            let m0 = sum0 / w0;
            let m1 = (sum_all - sum0) / w1;
            let var = w0 * w1 * (m0 - m1) * (m0 - m1);
            if var > best_var {
                best_var = var;
                best = level as u8;
            }
        }
        best
    }

    /// Dark where a pixel is at or below `level`.
    pub fn threshold(&self, level: u8) -> Bits {
        Bits {
            width: self.width,
            height: self.height,
            dark: self.pixels.iter().map(|&p| p <= level).collect(),
        }
    }

    /// Dark where a pixel is darker than the mean of the `window`-sized square around it by more
    /// than `offset` levels: follows shadows, gradients and glare that defeat one global level.
    pub fn local_threshold(&self, window: usize, offset: u8) -> Bits {
        let (w, h) = (self.width, self.height);
        // Integral image with a zero row and column in front: sums of any rectangle in O(1).
        let iw = w + 1;
        let mut integral = vec![0u64; iw * (h + 1)];
        for y in 0..h {
            let mut row_sum = 0u64;
            for x in 0..w {
                row_sum += self.pixels[y * w + x] as u64;
                integral[(y + 1) * iw + x + 1] = integral[y * iw + x + 1] + row_sum;
            }
        }
        let r = (window / 2).max(1);
        let mut dark = Vec::with_capacity(w * h);
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let sum =
                    integral[y1 * iw + x1] + integral[y0 * iw + x0] - integral[y0 * iw + x1] - integral[y1 * iw + x0];
                let n = ((y1 - y0) * (x1 - x0)) as u64;
                let p = self.pixels[y * w + x] as u64;
                dark.push((p + offset as u64) * n < sum);
            }
        }
        Bits {
            width: w,
            height: h,
            dark,
        }
    }
}

impl Bits {
    /// Light and dark swapped: codes printed light on dark.
    pub fn inverted(&self) -> Bits {
        Bits {
            width: self.width,
            height: self.height,
            dark: self.dark.iter().map(|d| !d).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Gray {
        Gray::new(w, h, (0..w * h).map(|i| (i % 256) as u8).collect()).expect("size")
    }

    #[test]
    fn new_refuses_a_wrong_length() {
        assert!(Gray::new(3, 3, vec![0; 8]).is_none());
        assert!(Gray::new(usize::MAX, 2, vec![]).is_none());
    }

    #[test]
    fn geometry_round_trips() {
        let g = ramp(7, 5);
        assert_eq!(g.mirrored().mirrored(), g);
        let r = g.rotated_cw();
        assert_eq!((r.width(), r.height()), (5, 7));
        assert_eq!(r.rotated_cw().rotated_cw().rotated_cw(), g);
        assert_eq!(g.crop(5, 3, 10, 10).pixels(), &[26, 27, 33, 34]);
        assert_eq!(g.half().width(), 3);
        assert_eq!(g.enlarged(2).at(0, 0), g.at(0, 0));
    }

    #[test]
    fn otsu_separates_two_levels() {
        let g = Gray::new(4, 1, vec![20, 30, 200, 210]).expect("size");
        let level = g.otsu_level();
        assert!((30..200).contains(&level), "{level}");
        assert_eq!(g.threshold(level).dark, [true, true, false, false]);
    }

    #[test]
    fn local_threshold_follows_a_gradient() {
        // A dark dot on a bright-to-dim gradient: one global level cannot isolate it.
        let mut g = Gray::new(40, 1, (0..40).map(|x| 250 - 4 * x as u8).collect()).expect("size");
        g.pixels_mut()[30] = 40;
        let bits = g.local_threshold(9, 10);
        assert_eq!(bits.dark.iter().filter(|d| **d).count(), 1);
        assert!(bits.dark[30]);
    }
}
