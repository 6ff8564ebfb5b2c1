//! The image path: PNG/JPEG decoding under limits, then the QR pipeline on the pixels.
#![no_main]

use acquire::{Goal, Limits};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits {
        max_pixels: 1 << 20,
        budget: Duration::from_millis(50),
        ..Limits::default()
    };
    let _ = acquire::search(bytes, &limits, &Goal::EveryText);
});
