//! The PDF extractor: loading, embedded files, content streams, image filters, rasterising.
#![no_main]

use acquire::{Goal, Limits};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits {
        max_decompressed: 1 << 20,
        max_pixels: 1 << 20,
        budget: Duration::from_millis(50),
        ..Limits::default()
    };
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend_from_slice(bytes);
    let deadline = Instant::now() + limits.budget;
    let _ = acquire::pdf::search(&pdf, &limits, &Goal::EveryText, deadline);
});
