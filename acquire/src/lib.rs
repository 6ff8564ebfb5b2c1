//! Credential texts out of untrusted pictures and documents: the QR pipeline for camera frames
//! and photos, PNG/JPEG decoding, PDF extraction, and the child process that contains them.
//!
//! The same [`qr::scan`] serves a camera frame (in process, with a short budget) and an image
//! file (in the child, with a longer one). Files from outside — photos, PDFs — are only ever
//! parsed in the child ([`child`]), under resource limits, so a hostile file costs one child
//! process and yields `unreadable` with a one-line reason.

pub mod child;
pub mod gray;
pub mod pdf;
pub mod picture;
pub mod qr;

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

pub use gray::Gray;

/// Where a credential text came from, from its reading to the screen and the audit log
/// (docs/design.md §5 `source`): the one representation of it, for certd and the kiosk alike.
/// This crate finds texts in pictures and documents (`QrImage`, `Pdf*`); the others name the
/// ways a text reaches a program without it. The serde name is [`Source::as_str`] (the
/// sandboxed child's answers carry it over its pipe).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A text given as it is: a `.txt` file or standard input.
    Payload,
    /// The kiosk's camera.
    Camera,
    /// The handheld scanner that types (the kiosk).
    Scanner,
    /// A QR code in a picture file.
    QrImage,
    /// A credential attached to a PDF.
    PdfEmbedded,
    /// A QR code in an image of a PDF.
    PdfImage,
    /// A QR code drawn with a PDF's vector operators.
    PdfVector,
    /// Not a text: a management number and a holder name, typed (`certd lookup`, the kiosk's
    /// lookup screen).
    Manual,
}

impl Source {
    /// Every source, in declaration order.
    pub const ALL: [Source; 8] = [
        Source::Payload,
        Source::Camera,
        Source::Scanner,
        Source::QrImage,
        Source::PdfEmbedded,
        Source::PdfImage,
        Source::PdfVector,
        Source::Manual,
    ];

    /// The name printed by `certd verify --json` and kept in the audit logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Payload => "payload",
            Source::Camera => "camera",
            Source::Scanner => "scanner",
            Source::QrImage => "qr-image",
            Source::PdfEmbedded => "pdf-embedded",
            Source::PdfImage => "pdf-image",
            Source::PdfVector => "pdf-vector",
            Source::Manual => "manual",
        }
    }
}

/// One text found, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub text: String,
    pub source: Source,
}

/// What a search is for.
#[derive(Clone, Copy)]
pub enum Goal<'a> {
    /// Stop at the first text this accepts (a text that parses as a credential).
    Credential(&'a dyn Fn(&str) -> bool),
    /// Every text: every try of the pipeline on every picture, and every picture and source of
    /// a document (a page may carry several codes, which different tries find).
    EveryText,
}

impl std::fmt::Debug for Goal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Goal::Credential(_) => "Credential",
            Goal::EveryText => "EveryText",
        })
    }
}

impl Goal<'_> {
    /// Whether a picture's search may stop at `text`.
    pub fn accepts(&self, text: &str) -> bool {
        match self {
            Goal::Credential(accept) => accept(text),
            Goal::EveryText => false,
        }
    }
}

/// Why nothing could be read from an input: one line for the operator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{0}")]
pub struct Unreadable(pub String);

impl Unreadable {
    pub fn new(reason: impl Into<String>) -> Unreadable {
        Unreadable(reason.into())
    }
}

/// Bounds on the work one input may cause, inside the child process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_pixels: u64,
    pub max_side: u32,
    /// Per stream (PDF) or per decoded image buffer.
    pub max_decompressed: usize,
    pub max_pages: usize,
    /// Pictures searched per document.
    pub max_pictures: usize,
    /// Nesting of name trees and form XObjects.
    pub max_depth: usize,
    /// Content stream operators per page.
    pub max_operations: usize,
    /// Time for the whole search of one input.
    pub budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 32 << 20,
            max_pixels: 50_000_000,
            max_side: 20_000,
            max_decompressed: 64 << 20,
            max_pages: 32,
            max_pictures: 64,
            max_depth: 16,
            max_operations: 2_000_000,
            budget: Duration::from_secs(5),
        }
    }
}

/// What kind of file `bytes` is, by content (never by name: a ZIP renamed `.pdf` is a ZIP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Image,
    Pdf,
}

/// A PDF must start with its header. ISO 32000 tolerates junk in front of it, but so does a ZIP
/// or a mail that merely contains a PDF, and lopdf would load those (docs/design.md §7).
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if picture::format(bytes).is_some() {
        Some(Kind::Image)
    } else if bytes.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else {
        None
    }
}

/// Searches one image or PDF, in this process. Untrusted files go through [`child`] instead.
pub fn search(bytes: &[u8], limits: &Limits, goal: &Goal<'_>) -> Result<Vec<Found>, Unreadable> {
    let deadline = Instant::now() + limits.budget;
    match sniff(bytes) {
        Some(Kind::Image) => {
            let picture = picture::fit(picture::decode(bytes, limits)?);
            let scan = qr::scan(&picture, limits.budget, &|t| goal.accepts(t));
            Ok(scan
                .texts
                .into_iter()
                .map(|text| Found {
                    text,
                    source: Source::QrImage,
                })
                .collect())
        }
        Some(Kind::Pdf) => pdf::search(bytes, limits, goal, deadline),
        None => Err(Unreadable::new("not a PNG, JPEG or PDF file")),
    }
}

#[cfg(test)]
mod source_tests {
    use super::Source;

    /// `certd verify --json` prints a source through serde, the audit logs keep `as_str`, and
    /// the child's answers carry serde's name: all three must be the same word.
    #[test]
    fn every_source_has_one_name() {
        // A new source fails to compile here: give it its place in `ALL` too.
        let position = |source| match source {
            Source::Payload => 0,
            Source::Camera => 1,
            Source::Scanner => 2,
            Source::QrImage => 3,
            Source::PdfEmbedded => 4,
            Source::PdfImage => 5,
            Source::PdfVector => 6,
            Source::Manual => 7,
        };
        for (i, source) in Source::ALL.into_iter().enumerate() {
            assert_eq!(position(source), i, "{source:?}");
            let json = serde_json::to_value(source).expect("serialises");
            assert_eq!(json, serde_json::Value::from(source.as_str()), "{source:?}");
            let back: Source = serde_json::from_value(json).expect("deserialises");
            assert_eq!(back, source);
        }
    }
}
