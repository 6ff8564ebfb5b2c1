//! QR codes out of one grayscale picture, within a time budget.
//!
//! rqrr is the decoder. On its own it finds only the easy codes: its single built-in threshold
//! and its capstone search miss codes under glare, shadow, blur, small modules, light-on-dark
//! printing and mirroring. The pipeline therefore hands rqrr the same picture several ways —
//! rqrr's own threshold, local thresholds at two window sizes, Otsu, half and double scale,
//! inverted — and reads every grid it finds both ways round (mirrored codes). Tries run
//! cheapest and likeliest first and stop as soon as a text is accepted (for the kiosk: a text
//! that parses as a credential), or when the budget is spent.
//!
//! rqrr can panic on some photos (docs/design.md §7): every call into it is contained, and a panic
//! counts as a failed try.

mod finder;
mod refit;

use crate::gray::{Bits, Gray};
use refit::Ink;
use rqrr::{BitGrid, PreparedImage};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// What one scan found.
#[derive(Debug, Default, Clone)]
pub struct Scan {
    /// Distinct texts, in the order found.
    pub texts: Vec<String>,
    pub accepted: bool,
    /// Tries run, out of the pipeline's list.
    pub tries: u32,
    /// Decoder panics contained.
    pub panics: u32,
    pub out_of_time: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    Half,
    One,
    Double,
    /// Original size, sharpened (blurred photos).
    Sharp,
    /// Double size, sharpened (blurred small modules).
    DoubleSharp,
}

#[derive(Clone, Copy, Debug)]
enum Threshold {
    /// rqrr's own running-average threshold.
    Rqrr,
    Otsu,
    /// Local mean over a window of (shorter side / divisor) pixels.
    Local {
        divisor: usize,
        offset: u8,
    },
}

#[derive(Clone, Copy, Debug)]
struct Try {
    scale: Scale,
    threshold: Threshold,
    inverted: bool,
}

impl Try {
    /// How the grids this try locates are sampled again from the grayscale picture.
    fn ink<'a>(&self, source: &'a Gray) -> Ink<'a> {
        Ink {
            picture: source,
            light_on_dark: self.inverted,
        }
    }
}

const fn t(scale: Scale, threshold: Threshold, inverted: bool) -> Try {
    Try {
        scale,
        threshold,
        inverted,
    }
}

const LOCAL_WIDE: Threshold = Threshold::Local { divisor: 8, offset: 8 };
const LOCAL_NARROW: Threshold = Threshold::Local { divisor: 24, offset: 4 };

/// The order of tries: cheapest per code found first, measured on the corpus of `scripts/corpus`
/// (each try's cost and the codes it reads, ordered greedily by codes per millisecond; tries
/// that read no code the others miss were dropped). Half size suits the large modules of
/// close-up frames and costs a quarter; rqrr's own threshold rarely reads what the local ones
/// miss.
const TRIES: &[Try] = &[
    t(Scale::Half, LOCAL_WIDE, false),
    t(Scale::One, Threshold::Otsu, false),
    t(Scale::One, LOCAL_WIDE, false),
    t(Scale::One, Threshold::Otsu, true),
    t(Scale::One, LOCAL_NARROW, false),
    t(Scale::Sharp, LOCAL_NARROW, false),
    t(Scale::Double, LOCAL_WIDE, false),
    t(Scale::Double, LOCAL_WIDE, true),
    t(Scale::One, Threshold::Rqrr, false),
    t(Scale::Double, LOCAL_NARROW, false),
    t(Scale::DoubleSharp, LOCAL_NARROW, false),
];

/// Strength of the unsharp mask for blurred pictures.
const SHARPEN: f32 = 2.0;
/// Pictures larger than this are not enlarged (the enlargement would cost more than it finds).
/// Phone photos (1920×1080, 2000×1500) are: their codes are often at 2–3 px per module too.
const MAX_PIXELS_TO_DOUBLE: usize = 3_200_000;
/// Smaller than this, halving leaves too few pixels per module to be worth a try.
const MIN_SIDE_TO_HALVE: usize = 400;

/// Reads the QR codes in `picture`, stopping at the first text `accept` takes or when `budget`
/// is spent (a try that has started is finished).
pub fn scan(picture: &Gray, budget: Duration, accept: &dyn Fn(&str) -> bool) -> Scan {
    let deadline = Instant::now() + budget;
    let mut scan = Scan::default();
    if picture.width() < 21 || picture.height() < 21 {
        return scan;
    }
    let mut scaled = Scaled::new(picture);
    for step in TRIES {
        if Instant::now() >= deadline {
            scan.out_of_time = true;
            break;
        }
        let Some(source) = scaled.get(step.scale) else {
            continue;
        };
        scan.tries += 1;
        // All the texts of this try are kept (a page may carry several codes), then stop if one
        // of them is the one wanted.
        for text in read_grids(source, step, &mut scan.panics) {
            if !scan.texts.contains(&text) {
                scan.accepted |= accept(&text);
                scan.texts.push(text);
            }
        }
        if scan.accepted {
            return scan;
        }
    }
    scan
}

/// For people tuning the pipeline: what each try does with `picture` — grids found, and each
/// grid's decoding error or text length. Used by `cargo run --example qr-explain`.
pub fn explain(picture: &Gray) -> Vec<String> {
    let mut scaled = Scaled::new(picture);
    let mut lines = Vec::new();
    for step in TRIES {
        let Some(source) = scaled.get(step.scale) else {
            lines.push(format!("{step:?}: skipped at this size"));
            continue;
        };
        let bits = binarised(source, step);
        let ink = step.ink(source);
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut results: Vec<String> = locate(source, bits.as_ref())
                .iter()
                .map(|g| {
                    let plain = rqrr::Grid::new(Borrowed(&g.grid)).decode();
                    let flipped = rqrr::Grid::new(Transposed(&g.grid)).decode();
                    match (plain, flipped) {
                        (Ok((_, t)), _) | (_, Ok((_, t))) => format!("text of {} bytes", t.len()),
                        (Err(a), Err(b)) => match refitted(ink, g) {
                            Some(t) => format!("size {} {a:?}; refitted: text of {} bytes", g.grid.size(), t.len()),
                            None => format!(
                                "size {} {a:?}/{b:?}; refit failed; bounds {:?}",
                                g.grid.size(),
                                g.bounds
                            ),
                        },
                    }
                })
                .collect();
            if let Some(bits) = &bits {
                let finders = finder::find(bits);
                let candidates = finder::candidates(&finders);
                let texts = from_finders(ink, bits);
                let best = candidates
                    .iter()
                    .filter_map(|c| refit::agreement(ink, &c.h, c.size))
                    .fold(0.0, f64::max);
                results.push(format!(
                    "finder patterns: {} found, {} triples (best agreement {best:.2}), {} text(s)",
                    finders.len(),
                    candidates.len(),
                    texts.len()
                ));
            }
            results
        }));
        let took = started.elapsed();
        lines.push(match outcome {
            Ok(results) => format!("{step:?} ({took:.1?}): {results:?}"),
            Err(_) => format!("{step:?} ({took:.1?}): rqrr panicked"),
        });
    }
    lines
}

/// The picture at each scale, made when first needed.
struct Scaled<'a> {
    one: &'a Gray,
    half: Option<Option<Gray>>,
    double: Option<Option<Gray>>,
    sharp: Option<Gray>,
    double_sharp: Option<Option<Gray>>,
}

impl<'a> Scaled<'a> {
    fn new(one: &'a Gray) -> Self {
        Scaled {
            one,
            half: None,
            double: None,
            sharp: None,
            double_sharp: None,
        }
    }

    fn get(&mut self, scale: Scale) -> Option<&Gray> {
        let one = self.one;
        match scale {
            Scale::One => Some(one),
            Scale::Half => self
                .half
                .get_or_insert_with(|| (one.width().min(one.height()) >= MIN_SIDE_TO_HALVE).then(|| one.half()))
                .as_ref(),
            Scale::Double => self
                .double
                .get_or_insert_with(|| (one.pixels().len() <= MAX_PIXELS_TO_DOUBLE).then(|| one.enlarged(2)))
                .as_ref(),
            Scale::Sharp => Some(self.sharp.get_or_insert_with(|| one.sharpened(SHARPEN))),
            Scale::DoubleSharp => {
                if self.double.is_none() {
                    self.get(Scale::Double);
                }
                let double = self.double.as_ref().and_then(Option::as_ref);
                self.double_sharp
                    .get_or_insert_with(|| double.map(|d| d.sharpened(SHARPEN)))
                    .as_ref()
            }
        }
    }
}

fn binarised(source: &Gray, step: &Try) -> Option<Bits> {
    let bits = match step.threshold {
        Threshold::Rqrr => return None,
        Threshold::Otsu => source.threshold(source.otsu_level()),
        Threshold::Local { divisor, offset } => {
            source.local_threshold((source.width().min(source.height()) / divisor).max(15), offset)
        }
    };
    Some(if step.inverted { bits.inverted() } else { bits })
}

/// Every text rqrr reads from the grids it finds in `source` prepared as `step` says.
fn read_grids(source: &Gray, step: &Try, panics: &mut u32) -> Vec<String> {
    let bits = binarised(source, step);
    let ink = step.ink(source);
    let found = catch_unwind(AssertUnwindSafe(|| {
        let mut texts: Vec<String> = locate(source, bits.as_ref())
            .iter()
            .filter_map(|grid| decode_either_way(&grid.grid).or_else(|| refitted(ink, grid)))
            .collect();
        if texts.is_empty()
            && let Some(bits) = &bits
        {
            texts.extend(from_finders(ink, bits));
        }
        texts
    }));
    found.unwrap_or_else(|_| {
        *panics += 1;
        Vec::new()
    })
}

/// The grids rqrr locates in `source`, thresholded by rqrr itself or given as `bits`, copied
/// out of rqrr's prepared picture (a few hundred bytes each).
fn locate(source: &Gray, bits: Option<&Bits>) -> Vec<rqrr::Grid<rqrr::SimpleGrid>> {
    let (w, h) = (source.width(), source.height());
    let mut prepared = match bits {
        None => PreparedImage::prepare_from_greyscale(w, h, |x, y| source.at(x, y)),
        Some(bits) => PreparedImage::prepare_from_bitmap(w, h, |x, y| bits.dark[y * w + x]),
    };
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| rqrr::Grid {
            grid: rqrr::SimpleGrid::from_func(g.grid.size(), |x, y| g.grid.bit(y, x)),
            bounds: g.bounds,
        })
        .collect()
}

/// Sizes tried around the one rqrr measured: the same, then one and two versions off.
const REFIT_SIZE_STEPS: [isize; 5] = [0, -4, 4, -8, 8];

/// The grid read again from the grayscale picture at its measured and neighbouring sizes.
fn refitted<G: BitGrid>(ink: Ink, grid: &rqrr::Grid<G>) -> Option<String> {
    let fitted = grid.grid.size();
    let h = refit::from_bounds(&grid.bounds, fitted)?;
    REFIT_SIZE_STEPS.iter().find_map(|step| {
        let size = fitted.checked_add_signed(*step)?;
        decode_either_way(&refit::Sampled::new(ink, &h, fitted, size)?)
    })
}

/// Share of function modules that must read right before a finder triple is fitted.
const MIN_AGREEMENT: f64 = 0.7;
/// Sizes tried around the one a finder triple suggests.
const FINDER_SIZE_STEPS: [isize; 3] = [0, -4, 4];

/// Finder triples fitted and sampled per picture, the best agreeing first.
const MAX_FITS: usize = 6;

/// Codes located by their finder patterns alone (see [`finder`]).
fn from_finders(ink: Ink, bits: &Bits) -> Vec<String> {
    // Finder look-alikes (ornaments, text) make most triples: keep those whose finder and timing
    // patterns read, best first, before the costly fitting.
    let mut plausible: Vec<(f64, finder::Candidate)> = finder::candidates(&finder::find(bits))
        .into_iter()
        .filter_map(|c| {
            let agreement = refit::agreement(ink, &c.h, c.size)?;
            (agreement >= MIN_AGREEMENT).then_some((agreement, c))
        })
        .collect();
    plausible.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut texts: Vec<String> = Vec::new();
    for (_, candidate) in plausible.iter().take(MAX_FITS) {
        let text = FINDER_SIZE_STEPS.iter().find_map(|step| {
            let size = candidate.size.checked_add_signed(*step)?;
            decode_either_way(&refit::Sampled::new(ink, &candidate.h, candidate.size, size)?)
        });
        if let Some(text) = text
            && !texts.contains(&text)
        {
            texts.push(text);
        }
    }
    texts
}

/// A grid read as printed, or else transposed (a mirrored code).
fn decode_either_way<G: BitGrid>(grid: &G) -> Option<String> {
    let as_printed = rqrr::Grid::new(Borrowed(grid)).decode();
    let decoded = as_printed.or_else(|_| rqrr::Grid::new(Transposed(grid)).decode());
    decoded.ok().map(|(_, text)| text)
}

struct Borrowed<'a, G>(&'a G);

impl<G: BitGrid> BitGrid for Borrowed<'_, G> {
    fn size(&self) -> usize {
        self.0.size()
    }
    fn bit(&self, y: usize, x: usize) -> bool {
        self.0.bit(y, x)
    }
}

struct Transposed<'a, G>(&'a G);

impl<G: BitGrid> BitGrid for Transposed<'_, G> {
    fn size(&self) -> usize {
        self.0.size()
    }
    fn bit(&self, y: usize, x: usize) -> bool {
        self.0.bit(x, y)
    }
}

#[cfg(test)]
mod tests;
