//! Status files from a repository (docs/design.md §7: hostile repository files): the first byte picks
//! the kind, the rest is the file's plain JSON Lines, gzip'd here so the fuzzer works on the
//! text the reader parses. Every record of the kind is read, as the store would read it; the
//! lookup index's header parameters are checked as the store checks them.
#![no_main]

use certkiosk_formats::lookup::{LookupEntry, LookupOp};
use certkiosk_formats::status::{Cancellation, Catalogue, DeltaOp, RecordReader, Revocation, TargetKind};
use certkiosk_formats::trust::SealKey;
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fn read_all<T: serde::de::DeserializeOwned>(bytes: &[u8], kind: TargetKind) {
    let Ok(mut reader) = RecordReader::open(bytes, kind) else { return };
    if let Some(params) = &reader.header().lookup {
        let _ = params.check();
    }
    while let Ok(Some(_)) = reader.next_record::<T>() {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else { return };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gz.write_all(text).is_err() {
        return;
    }
    let Ok(bytes) = gz.finish() else { return };
    match pick % 8 {
        0 => read_all::<SealKey>(&bytes, TargetKind::Seals),
        1 => read_all::<Catalogue>(&bytes, TargetKind::Catalogue),
        2 => read_all::<Revocation>(&bytes, TargetKind::Revocations),
        3 => read_all::<DeltaOp<Revocation>>(&bytes, TargetKind::Revocations),
        4 => read_all::<Cancellation>(&bytes, TargetKind::Cancellations),
        5 => read_all::<DeltaOp<Cancellation>>(&bytes, TargetKind::Cancellations),
        6 => read_all::<LookupEntry>(&bytes, TargetKind::Lookup),
        _ => read_all::<LookupOp>(&bytes, TargetKind::Lookup),
    }
});
