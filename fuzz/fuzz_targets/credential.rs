//! The credential decoder: any text a QR code or a file can carry.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(envelope) = certkiosk_formats::credential::Envelope::parse(text) {
        let _ = envelope.claims();
    }
});
