//! What the authority prints: the QR code of a credential as a PNG, and a one-page certificate
//! PDF that shows the QR code and carries the credential text as an attached file.

use lopdf::{Document, Object, Stream, dictionary};
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module of the sample PNGs: a clean print-resolution picture.
pub const PNG_MODULE_PX: usize = 8;
/// Pixels per module of the QR image inside the PDFs.
const PDF_MODULE_PX: usize = 4;
const QUIET_ZONE_MODULES: usize = 4;

/// The QR code of `text` at error correction M, as 8-bit gray rows (0 black, 255 white) with a
/// quiet zone: `(side, pixels)`.
pub fn qr_pixels(text: &str, module_px: usize) -> Result<(usize, Vec<u8>), qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE_MODULES) * module_px;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (i % modules + QUIET_ZONE_MODULES, i / modules + QUIET_ZONE_MODULES);
            for y in my * module_px..(my + 1) * module_px {
                pixels[y * side + mx * module_px..y * side + (mx + 1) * module_px].fill(0);
            }
        }
    }
    Ok((side, pixels))
}

/// Why a sample could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("QR code: {0}")]
    Qr(qrcode::types::QrError),
    #[error("PNG: {0}")]
    Png(png::EncodingError),
    #[error("PDF: {0}")]
    Pdf(lopdf::Error),
    #[error("PDF: {0}")]
    Save(std::io::Error),
}

/// A PNG of the QR code of `text`.
pub fn qr_png(text: &str) -> Result<Vec<u8>, PrintError> {
    let (side, pixels) = qr_pixels(text, PNG_MODULE_PX).map_err(PrintError::Qr)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(PrintError::Png)?;
    writer.write_image_data(&pixels).map_err(PrintError::Png)?;
    writer.finish().map_err(PrintError::Png)?;
    Ok(out)
}

/// A4 in points.
const PAGE: (i64, i64) = (595, 842);
const QR_SIZE_PT: f64 = 170.0;

/// A one-page certificate: a title, the sample's name, the QR code as an image, and the
/// credential text attached as `credential.txt` (the way the authority's PDFs carry it).
pub fn certificate_pdf(text: &str, caption: &str) -> Result<Vec<u8>, PrintError> {
    let (side, pixels) = qr_pixels(text, PDF_MODULE_PX).map_err(PrintError::Qr)?;
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let mut image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image",
            "Width" => side as i64, "Height" => side as i64,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        pixels,
    );
    image.compress().map_err(PrintError::Pdf)?;
    let image_id = doc.add_object(image);
    let x = (PAGE.0 as f64 - QR_SIZE_PT) / 2.0;
    let caption: String = caption.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect();
    let content = format!(
        "BT /F1 20 Tf 72 760 Td (Professional Qualification Certificate) Tj ET\n\
         BT /F1 12 Tf 72 730 Td (certkiosk demo sample: {caption}) Tj ET\n\
         q {QR_SIZE_PT} 0 0 {QR_SIZE_PT} {x} 420 cm /Im1 Do Q\n\
         BT /F1 10 Tf 72 390 Td (Scan the QR code or open the attached credential.txt to verify.) Tj ET\n"
    );
    let mut content = Stream::new(dictionary! {}, content.into_bytes());
    content.compress().map_err(PrintError::Pdf)?;
    let content_id = doc.add_object(content);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), PAGE.0.into(), PAGE.1.into()],
        "Contents" => content_id,
        "Resources" => dictionary! {
            "Font" => dictionary! { "F1" => font_id },
            "XObject" => dictionary! { "Im1" => image_id },
        },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
    );
    let attached = doc.add_object(Stream::new(
        dictionary! { "Type" => "EmbeddedFile", "Subtype" => "text/plain" },
        text.as_bytes().to_vec(),
    ));
    let filespec = doc.add_object(dictionary! {
        "Type" => "Filespec",
        "F" => Object::string_literal("credential.txt"),
        "UF" => Object::string_literal("credential.txt"),
        "Desc" => Object::string_literal("Electronic certificate credential (CK1)"),
        "EF" => dictionary! { "F" => attached },
    });
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "Names" => dictionary! {
            "EmbeddedFiles" => dictionary! {
                "Names" => vec![Object::string_literal("credential.txt"), filespec.into()],
            },
        },
        "PageMode" => "UseAttachments",
    });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(PrintError::Save)?;
    Ok(out)
}
