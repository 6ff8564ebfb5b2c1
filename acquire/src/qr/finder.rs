//! A second way to locate codes, for when rqrr finds no grid: rqrr drops a code whose
//! alignment pattern it cannot find, and blur or small modules often wash that out. Here the
//! finder patterns are found by their 1:1:3:1:1 run lengths across rows and columns of the
//! thresholded picture; every plausible triple gives a grid (the fourth corner completed as a
//! parallelogram, sizes around the measured one), which [`refit`](super::refit) fits to the
//! finder and timing patterns and samples from the grayscale picture.

use super::refit::Homography;
use crate::gray::Bits;

/// A finder pattern's centre and module size, in pixels.
#[derive(Clone, Copy, Debug)]
pub struct Finder {
    pub x: f64,
    pub y: f64,
    pub module: f64,
    hits: u32,
}

/// Finder candidates kept for grouping (the strongest first). Small modules give a real finder
/// few hits while text gives many look-alikes, so the pool is generous; the geometry of a triple
/// and a cheap agreement check (in the caller) thin it out.
const MAX_FINDERS: usize = 24;
/// Geometrically plausible triples kept per picture.
const MAX_TRIPLES: usize = 600;

fn ratio_ok(runs: &[usize; 5]) -> Option<f64> {
    let total: usize = runs.iter().sum();
    if total < 7 {
        return None;
    }
    let module = total as f64 / 7.0;
    let tol = module * 0.7;
    let ok = (runs[0] as f64 - module).abs() < tol
        && (runs[1] as f64 - module).abs() < tol
        && (runs[2] as f64 - 3.0 * module).abs() < 3.0 * tol
        && (runs[3] as f64 - module).abs() < tol
        && (runs[4] as f64 - module).abs() < tol;
    ok.then_some(module)
}

/// Run lengths through (`x`, `y`) along direction (`dx`, `dy`): the dark centre run and the
/// two runs on each side. Returns the centre's offset along the line and the runs.
fn runs_through(bits: &Bits, x: usize, y: usize, dx: isize, dy: isize, max_run: usize) -> Option<(f64, [usize; 5])> {
    let at = |i: isize| -> Option<bool> {
        let px = x as isize + i * dx;
        let py = y as isize + i * dy;
        if px < 0 || py < 0 || px as usize >= bits.width || py as usize >= bits.height {
            return None;
        }
        Some(bits.dark[py as usize * bits.width + px as usize])
    };
    if at(0) != Some(true) {
        return None;
    }
    // Walk outwards from the centre, counting the centre run, then light, then dark.
    let walk = |dir: isize| -> Option<[usize; 3]> {
        let mut counts = [0usize; 3];
        let mut i = 0isize;
        for (stage, want) in [true, false, true].into_iter().enumerate() {
            while at(i) == Some(want) {
                counts[stage] += 1;
                i += dir;
                if counts[stage] > max_run {
                    return None;
                }
            }
            if at(i).is_none() && stage < 2 {
                return None;
            }
        }
        Some(counts)
    };
    let back = walk(-1)?;
    let fwd = walk(1)?;
    let centre = back[0] + fwd[0] - 1;
    let runs = [back[2], back[1], centre, fwd[1], fwd[2]];
    // Offset of the centre run's middle from the starting point.
    let offset = (fwd[0] as f64 - back[0] as f64) / 2.0;
    Some((offset, runs))
}

/// Finder patterns in `bits`: row scan, then a column and a row check through each candidate.
pub fn find(bits: &Bits) -> Vec<Finder> {
    let (w, h) = (bits.width, bits.height);
    let max_run = w.max(h) / 4;
    let mut found: Vec<Finder> = Vec::new();
    let step = if h > 800 { 2 } else { 1 };
    for y in (0..h).step_by(step) {
        let row = &bits.dark[y * w..(y + 1) * w];
        let mut runs = [0usize; 5];
        let mut x = 0;
        // Collect runs along the row; check every window of five starting with a dark run.
        let mut run_list: Vec<(usize, usize, bool)> = Vec::new();
        while x < w {
            let colour = row[x];
            let start = x;
            while x < w && row[x] == colour {
                x += 1;
            }
            run_list.push((start, x - start, colour));
        }
        for win in run_list.windows(5) {
            if !win[0].2 {
                continue;
            }
            for (i, r) in win.iter().enumerate() {
                runs[i] = r.1;
            }
            if ratio_ok(&runs).is_none() {
                continue;
            }
            let cx = win[2].0 + win[2].1 / 2;
            confirm(bits, cx, y, max_run, &mut found);
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.hits));
    found.truncate(MAX_FINDERS);
    found
}

fn confirm(bits: &Bits, cx: usize, y: usize, max_run: usize, found: &mut Vec<Finder>) {
    let Some((dy, vruns)) = runs_through(bits, cx, y, 0, 1, max_run) else {
        return;
    };
    let Some(vmodule) = ratio_ok(&vruns) else { return };
    let cy = (y as f64 + dy).round().max(0.0) as usize;
    let Some((dx, hruns)) = runs_through(bits, cx, cy, 1, 0, max_run) else {
        return;
    };
    let Some(hmodule) = ratio_ok(&hruns) else { return };
    if hmodule / vmodule > 2.5 || vmodule / hmodule > 2.5 {
        return;
    }
    let (fx, fy, module) = (cx as f64 + dx, y as f64 + dy, (hmodule + vmodule) / 2.0);
    match found
        .iter_mut()
        .find(|f| (f.x - fx).abs() < f.module * 2.0 && (f.y - fy).abs() < f.module * 2.0)
    {
        Some(f) => {
            let n = f.hits as f64;
            f.x = (f.x * n + fx) / (n + 1.0);
            f.y = (f.y * n + fy) / (n + 1.0);
            f.module = (f.module * n + module) / (n + 1.0);
            f.hits += 1;
        }
        None => found.push(Finder {
            x: fx,
            y: fy,
            module,
            hits: 1,
        }),
    }
}

/// A candidate code: the transform from grid coordinates (of a grid of `size` modules) to the
/// picture, from three finder patterns.
#[derive(Debug)]
pub struct Candidate {
    pub h: Homography,
    pub size: usize,
}

/// Every plausible triple of finders as a grid: top-left is the corner at the right angle.
pub fn candidates(finders: &[Finder]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let n = finders.len();
    for i in 0..n {
        for j in i + 1..n {
            for k in j + 1..n {
                if out.len() >= MAX_TRIPLES {
                    return out;
                }
                if let Some(c) = triple(finders[i], finders[j], finders[k]) {
                    out.push(c);
                }
            }
        }
    }
    out
}

fn dist(a: Finder, b: Finder) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

fn triple(a: Finder, b: Finder, c: Finder) -> Option<Candidate> {
    let modules = [a.module, b.module, c.module];
    let (lo, hi) = modules
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), m| (lo.min(*m), hi.max(*m)));
    if hi / lo > 2.0 {
        return None;
    }
    // The top-left finder is opposite the longest side.
    let (ab, bc, ca) = (dist(a, b), dist(b, c), dist(c, a));
    let (tl, p, q) = if bc >= ab && bc >= ca {
        (a, b, c)
    } else if ca >= ab && ca >= bc {
        (b, c, a)
    } else {
        (c, a, b)
    };
    let (l1, l2) = (dist(tl, p), dist(tl, q));
    if l1.max(l2) / l1.min(l2) > 2.0 {
        return None;
    }
    let (v1, v2) = ((p.x - tl.x, p.y - tl.y), (q.x - tl.x, q.y - tl.y));
    let cos = (v1.0 * v2.0 + v1.1 * v2.1) / (l1 * l2);
    if cos.abs() > 0.6 {
        return None;
    }
    // Clockwise in picture coordinates (y down): top-right, then bottom-left.
    let (tr, bl) = if v1.0 * v2.1 - v1.1 * v2.0 > 0.0 {
        (p, q)
    } else {
        (q, p)
    };
    let module = (tl.module + tr.module + bl.module) / 3.0;
    let span = (dist(tl, tr) + dist(tl, bl)) / 2.0 / module;
    // Finder centres are 3.5 modules in from the edges: size = span + 7, and size ≡ 1 (mod 4).
    let size = (((span + 7.0 - 17.0) / 4.0).round() * 4.0 + 17.0).clamp(21.0, 177.0) as usize;
    let far = size as f64 - 3.5;
    let br = (tr.x + bl.x - tl.x, tr.y + bl.y - tl.y);
    let h = Homography::between(
        [(3.5, 3.5), (far, 3.5), (far, far), (3.5, far)],
        [(tl.x, tl.y), (tr.x, tr.y), br, (bl.x, bl.y)],
    )?;
    Some(Candidate { h, size })
}
