//! Image XObjects to grayscale pictures: the filters met in certificate PDFs (Flate and LZW with
//! predictors, DCT, CCITT G3/G4, JBIG2, the ASCII and run-length filters), the colour spaces
//! (gray, RGB, CMYK, ICC-based, indexed, separation) and 1-bit stencil masks with either
//! polarity. Every size is checked against the limits before anything is allocated.

use super::Pdf;
use crate::Limits;
use crate::gray::Gray;
use lopdf::{Dictionary, Object, Stream};

/// Why one image was skipped (the rest of the document is still searched).
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("image of {0}×{1} pixels is beyond the limit")]
    TooLarge(u64, u64),
    #[error("image has no usable size")]
    NoSize,
    #[error("image filter {0} is not supported")]
    Filter(String),
    #[error("image data: {0}")]
    Data(String),
    #[error("image data: {0}")]
    Stream(lopdf::Error),
}

/// How the samples are coloured.
#[derive(Debug, Clone)]
enum Colours {
    /// `n` components per sample, mapped to luminance as gray, RGB or CMYK.
    Device(usize),
    /// One ink: 0 is no ink (white), 1 full ink.
    Separation,
    /// Indexed into a palette of base colours (`n` components each).
    Indexed { base: usize, palette: Vec<u8> },
    /// 1-bit stencil: the samples that paint are dark.
    Stencil,
}

impl Colours {
    fn components(&self) -> usize {
        match self {
            Colours::Device(n) => *n,
            _ => 1,
        }
    }
}

pub fn to_gray(pdf: &Pdf<'_>, stream: &Stream, limits: &Limits) -> Result<Gray, ImageError> {
    let dict = &stream.dict;
    let int = |key: &[u8]| pdf.resolve(dict.get(key).ok()?).and_then(|o| o.as_i64().ok());
    let (w, h) = match (int(b"Width"), int(b"Height")) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w as u64, h as u64),
        _ => return Err(ImageError::NoSize),
    };
    if w * h > limits.max_pixels || w > u32::MAX as u64 || h > u32::MAX as u64 {
        return Err(ImageError::TooLarge(w, h));
    }
    let (w, h) = (w as usize, h as usize);
    let stencil = dict
        .get(b"ImageMask")
        .ok()
        .and_then(|o| pdf.resolve(o))
        .and_then(|o| o.as_bool().ok())
        .unwrap_or(false);
    let colours = if stencil {
        Colours::Stencil
    } else {
        colour_space(pdf, dict.get(b"ColorSpace").ok())
    };
    let bits = if stencil {
        1
    } else {
        int(b"BitsPerComponent").unwrap_or(8) as usize
    };
    if !matches!(bits, 1 | 2 | 4 | 8 | 16) {
        return Err(ImageError::Data(format!("{bits} bits per component")));
    }
    let decode_inverted = decode_is_inverted(pdf, dict);

    let filters = filter_names(pdf, dict);
    let (codec, generic) = match filters.split_last() {
        Some((last, rest)) if is_image_codec(last) => (Some(last.clone()), rest.to_vec()),
        _ => (None, filters.clone()),
    };
    let data = generic_decode(stream, &generic, limits)?;
    match codec.as_deref() {
        None => {
            let n = colours.components();
            let row_bytes = (w * n * bits).div_ceil(8);
            if data.len() < row_bytes * h {
                return Err(ImageError::Data(format!("{} bytes for {w}×{h}", data.len())));
            }
            Ok(samples_to_gray(&data, w, h, bits, &colours, decode_inverted))
        }
        Some(b"DCTDecode") => jpeg(&data, limits, decode_inverted),
        Some(b"CCITTFaxDecode") => {
            let params = decode_parms(pdf, dict, filters.len() - 1);
            ccitt(&data, w, h, params, decode_inverted)
        }
        Some(b"JBIG2Decode") => {
            let params = decode_parms(pdf, dict, filters.len() - 1);
            jbig2(pdf, &data, params, limits, decode_inverted)
        }
        Some(other) => Err(ImageError::Filter(String::from_utf8_lossy(other).into_owned())),
    }
}

fn is_image_codec(name: &[u8]) -> bool {
    matches!(name, b"DCTDecode" | b"CCITTFaxDecode" | b"JBIG2Decode" | b"JPXDecode")
}

fn filter_names(pdf: &Pdf<'_>, dict: &Dictionary) -> Vec<Vec<u8>> {
    match dict.get(b"Filter").ok().and_then(|o| pdf.resolve(o)) {
        Some(Object::Name(n)) => vec![n.clone()],
        Some(Object::Array(a)) => a
            .iter()
            .filter_map(|o| pdf.resolve(o)?.as_name().ok().map(<[u8]>::to_vec))
            .collect(),
        _ => Vec::new(),
    }
}

fn decode_parms<'a>(pdf: &'a Pdf<'_>, dict: &'a Dictionary, index: usize) -> Option<&'a Dictionary> {
    match dict.get(b"DecodeParms").ok().and_then(|o| pdf.resolve(o))? {
        Object::Dictionary(d) => Some(d),
        Object::Array(a) => pdf.resolve(a.get(index)?)?.as_dict().ok(),
        _ => None,
    }
}

/// The filters before an image codec (or all of them), through lopdf's bounded decoders.
fn generic_decode(stream: &Stream, filters: &[Vec<u8>], limits: &Limits) -> Result<Vec<u8>, ImageError> {
    if filters.is_empty() {
        if stream.content.len() > limits.max_decompressed {
            return Err(ImageError::Data("stream larger than the limit".into()));
        }
        return Ok(stream.content.clone());
    }
    let mut only_generic = stream.clone();
    only_generic.dict.set(
        "Filter",
        Object::Array(filters.iter().map(|f| Object::Name(f.clone())).collect()),
    );
    only_generic
        .decompressed_content_with_limit(limits.max_decompressed)
        .map_err(ImageError::Stream)
}

/// `/Decode [1 0]` (or [1 0 …]) flips the samples.
fn decode_is_inverted(pdf: &Pdf<'_>, dict: &Dictionary) -> bool {
    let Some(Object::Array(a)) = dict.get(b"Decode").ok().and_then(|o| pdf.resolve(o)) else {
        return false;
    };
    let v: Vec<f32> = a.iter().filter_map(|o| o.as_float().ok()).collect();
    v.len() >= 2 && v[0] > v[1]
}

fn colour_space(pdf: &Pdf<'_>, space: Option<&Object>) -> Colours {
    let Some(space) = space.and_then(|o| pdf.resolve(o)) else {
        return Colours::Device(1);
    };
    match space {
        Object::Name(n) => device(n),
        Object::Array(a) => {
            let family = a.first().and_then(|o| pdf.resolve(o)).and_then(|o| o.as_name().ok());
            match family {
                Some(b"ICCBased") => {
                    let n = a
                        .get(1)
                        .and_then(|o| pdf.resolve(o))
                        .and_then(|o| o.as_stream().ok())
                        .and_then(|s| s.dict.get(b"N").ok()?.as_i64().ok())
                        .unwrap_or(3);
                    Colours::Device(n.clamp(1, 4) as usize)
                }
                Some(b"Indexed") | Some(b"I") => {
                    let base = match colour_space(pdf, a.get(1)) {
                        Colours::Device(n) => n,
                        _ => 3,
                    };
                    let palette = match a.get(3).and_then(|o| pdf.resolve(o)) {
                        Some(Object::String(s, _)) => s.clone(),
                        Some(Object::Stream(s)) => s.decompressed_content_with_limit(4096).unwrap_or_default(),
                        _ => Vec::new(),
                    };
                    Colours::Indexed { base, palette }
                }
                Some(b"Separation") => Colours::Separation,
                Some(b"DeviceN") => Colours::Device(
                    a.get(1)
                        .and_then(|o| pdf.resolve(o))
                        .and_then(|o| o.as_array().ok())
                        .map_or(1, Vec::len)
                        .clamp(1, 4),
                ),
                Some(b"CalRGB") | Some(b"Lab") => Colours::Device(3),
                Some(n) => device(n),
                None => Colours::Device(1),
            }
        }
        _ => Colours::Device(1),
    }
}

fn device(name: &[u8]) -> Colours {
    match name {
        b"DeviceRGB" | b"RGB" | b"CalRGB" => Colours::Device(3),
        b"DeviceCMYK" | b"CMYK" => Colours::Device(4),
        _ => Colours::Device(1),
    }
}

fn luma(c: &[f32]) -> f32 {
    match c.len() {
        3 => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2],
        4 => {
            let k = 1.0 - c[3];
            0.299 * (1.0 - c[0]) * k + 0.587 * (1.0 - c[1]) * k + 0.114 * (1.0 - c[2]) * k
        }
        _ => c.first().copied().unwrap_or(1.0),
    }
}

/// Unpacks `bits`-deep samples (rows padded to a byte) and maps them to luminance.
fn samples_to_gray(data: &[u8], w: usize, h: usize, bits: usize, colours: &Colours, inverted: bool) -> Gray {
    let n = colours.components();
    let row_bytes = (w * n * bits).div_ceil(8);
    let max = ((1u32 << bits.min(16)) - 1) as f32;
    let mut pixels = Vec::with_capacity(w * h);
    let mut comps = [0f32; 4];
    for row in data.chunks_exact(row_bytes).take(h) {
        for x in 0..w {
            for (c, comp) in comps.iter_mut().enumerate().take(n) {
                let raw = sample(row, (x * n + c) * bits, bits) as f32;
                let v = raw / max;
                *comp = if inverted { 1.0 - v } else { v };
            }
            let value = match colours {
                Colours::Device(_) => luma(&comps[..n]),
                Colours::Separation => 1.0 - comps[0],
                // A stencil paints where the (decoded) sample is 0.
                Colours::Stencil => comps[0],
                Colours::Indexed { base, palette } => {
                    let index = sample(row, x * bits, bits) as usize;
                    let entry = palette.get(index * base..(index + 1) * base);
                    entry.map_or(1.0, |e| luma(&e.iter().map(|b| *b as f32 / 255.0).collect::<Vec<_>>()))
                }
            };
            pixels.push((value.clamp(0.0, 1.0) * 255.0).round() as u8);
        }
    }
    Gray::new(w, h, pixels).unwrap_or_else(|| Gray::white(w, h))
}

fn sample(row: &[u8], bit: usize, bits: usize) -> u32 {
    match bits {
        8 => row[bit / 8] as u32,
        16 => ((row[bit / 8] as u32) << 8) | row[bit / 8 + 1] as u32,
        _ => {
            let byte = row[bit / 8] as u32;
            let shift = 8 - bits - (bit % 8);
            (byte >> shift) & ((1 << bits) - 1)
        }
    }
}

fn jpeg(data: &[u8], limits: &Limits, inverted: bool) -> Result<Gray, ImageError> {
    let mut gray = crate::picture::decode(data, limits).map_err(|e| ImageError::Data(e.to_string()))?;
    if inverted {
        gray.pixels_mut().iter_mut().for_each(|p| *p = 255 - *p);
    }
    Ok(gray)
}

/// A 1-bit sample (after the filter) to luminance. PDF's convention for 1-bit gray and for
/// stencils alike: a sample of 0 — after `/Decode` — is dark.
fn bilevel_pixel(sample_one: bool, inverted: bool) -> u8 {
    if sample_one != inverted { 255 } else { 0 }
}

struct Rows {
    width: usize,
    pixels: Vec<u8>,
    max_rows: usize,
    inverted: bool,
    /// `/BlackIs1`: the filter gives 1 for black (by default it gives 0).
    black_is_1: bool,
}

impl hayro_ccitt::Decoder for Rows {
    fn push_row(&mut self, changes: &[u32]) {
        if self.pixels.len() / self.width.max(1) >= self.max_rows {
            return;
        }
        let mut black = vec![false; self.width];
        for pair in changes.chunks(2) {
            let from = (pair[0] as usize).min(self.width);
            let to = pair.get(1).map_or(self.width, |t| (*t as usize).min(self.width));
            black[from.min(to)..to].iter_mut().for_each(|b| *b = true);
        }
        for b in black {
            self.pixels.push(bilevel_pixel(b == self.black_is_1, self.inverted));
        }
    }
}

fn ccitt(data: &[u8], w: usize, h: usize, params: Option<&Dictionary>, inverted: bool) -> Result<Gray, ImageError> {
    let get = |key: &[u8]| params.and_then(|p| p.get(key).ok());
    let int = |key: &[u8], default: i64| get(key).and_then(|o| o.as_i64().ok()).unwrap_or(default);
    let flag = |key: &[u8], default: bool| get(key).and_then(|o| o.as_bool().ok()).unwrap_or(default);
    let k = int(b"K", 0);
    let columns = int(b"Columns", 1728).clamp(1, w.max(1) as i64 * 4) as u32;
    let settings = hayro_ccitt::DecodeSettings {
        columns,
        rows: int(b"Rows", h as i64).max(0) as u32,
        end_of_block: flag(b"EndOfBlock", true),
        end_of_line: flag(b"EndOfLine", false),
        rows_are_byte_aligned: flag(b"EncodedByteAlign", false),
        encoding: match k {
            k if k < 0 => hayro_ccitt::EncodingMode::Group4,
            0 => hayro_ccitt::EncodingMode::Group3_1D,
            _ => hayro_ccitt::EncodingMode::Group3_2D,
        },
        strict: false,
    };
    let mut rows = Rows {
        width: columns as usize,
        pixels: Vec::new(),
        max_rows: h,
        inverted,
        black_is_1: flag(b"BlackIs1", false),
    };
    let mut ctx = hayro_ccitt::DecoderContext::new(settings);
    // A damaged stream still yields the rows decoded before the damage.
    let _ = hayro_ccitt::decode(data, &mut rows, &mut ctx);
    let height = rows.pixels.len() / rows.width;
    if height == 0 {
        return Err(ImageError::Data("CCITT stream decoded to no rows".into()));
    }
    rows.pixels.truncate(height * rows.width);
    Gray::new(rows.width, height, rows.pixels).ok_or(ImageError::NoSize)
}

struct Bilevel {
    pixels: Vec<u8>,
    cap: usize,
    inverted: bool,
}

impl Bilevel {
    fn push(&mut self, black: bool, count: usize) {
        let room = self.cap.saturating_sub(self.pixels.len());
        // JBIG2Decode gives 0 for black, as DeviceGray expects.
        let v = bilevel_pixel(!black, self.inverted);
        self.pixels.extend(std::iter::repeat_n(v, count.min(room)));
    }
}

impl hayro_jbig2::Decoder for Bilevel {
    fn push_pixel(&mut self, black: bool) {
        self.push(black, 1);
    }
    fn push_pixel_chunk(&mut self, black: bool, chunk_count: u32) {
        self.push(black, chunk_count as usize * 8);
    }
    fn next_line(&mut self) {}
}

fn jbig2(
    pdf: &Pdf<'_>,
    data: &[u8],
    params: Option<&Dictionary>,
    limits: &Limits,
    inverted: bool,
) -> Result<Gray, ImageError> {
    let settings = hayro_jbig2::DecodeSettings::default();
    let globals_data = params
        .and_then(|p| p.get(b"JBIG2Globals").ok())
        .and_then(|o| pdf.resolve(o))
        .and_then(|o| o.as_stream().ok())
        .map(|s| {
            s.decompressed_content_with_limit(limits.max_decompressed)
                .unwrap_or_else(|_| s.content.clone())
        });
    let globals = match &globals_data {
        Some(g) => Some(hayro_jbig2::Globals::new(g, &settings).map_err(|e| ImageError::Data(format!("{e:?}")))?),
        None => None,
    };
    let page = hayro_jbig2::Page::new_embedded(data, globals.as_ref(), &settings)
        .map_err(|e| ImageError::Data(format!("{e:?}")))?;
    let (w, h) = (page.width() as u64, page.height() as u64);
    if w == 0 || h == 0 || w * h > limits.max_pixels {
        return Err(ImageError::TooLarge(w, h));
    }
    let mut out = Bilevel {
        pixels: Vec::with_capacity((w * h) as usize),
        cap: (w * h) as usize,
        inverted,
    };
    page.decode(&mut out).map_err(|e| ImageError::Data(format!("{e:?}")))?;
    out.pixels.resize((w * h) as usize, 255);
    Gray::new(w as usize, h as usize, out.pixels).ok_or(ImageError::NoSize)
}
