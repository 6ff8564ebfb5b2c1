//! PNG and JPEG files to grayscale pictures, with the `image` crate's limits always on: a
//! 100 000 × 100 000 header is refused before anything is allocated (docs/design.md §7).

use crate::gray::Gray;
use crate::{Limits, Unreadable};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

/// Pictures are halved until they have at most this many pixels before the QR search: a phone
/// photo of a certificate has far more pixels per module than the search needs.
pub const SEARCH_PIXELS: usize = 3_200_000;

pub fn format(bytes: &[u8]) -> Option<ImageFormat> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some(ImageFormat::Png),
        [0xff, 0xd8, 0xff, ..] => Some(ImageFormat::Jpeg),
        _ => None,
    }
}

/// Decodes a PNG or JPEG to 8-bit gray.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Gray, Unreadable> {
    let format = format(bytes).ok_or_else(|| Unreadable::new("not a PNG or JPEG image"))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_decompressed as u64 * 4);
    image_limits.max_image_width = Some(limits.max_side);
    image_limits.max_image_height = Some(limits.max_side);
    reader.limits(image_limits);
    let bad = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => Unreadable::new("image is beyond the size limit"),
        e => Unreadable::new(format!("image cannot be read: {}", e.to_string().trim())),
    };
    let decoder = reader.into_decoder().map_err(bad)?;
    let (w, h) = decoder.dimensions();
    if w as u64 * h as u64 > limits.max_pixels {
        return Err(Unreadable::new(format!("image of {w}×{h} pixels is beyond the limit")));
    }
    let gray = DynamicImage::from_decoder(decoder).map_err(bad)?.into_luma8();
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    Gray::new(w, h, gray.into_raw()).ok_or_else(|| Unreadable::new("image has no pixels"))
}

/// The picture halved until it is small enough to search quickly.
pub fn fit(mut picture: Gray) -> Gray {
    while picture.pixels().len() > SEARCH_PIXELS {
        picture = picture.half();
    }
    picture
}
