//! What crosses the trust boundary from the authority to the appliance, as bytes and types
//! (docs/formats.md). Both sides use this crate; it reads and writes nothing but the buffers
//! and streams it is given, and holds no key that can sign.
//!
//! * [`credential`] — the `CK1:` QR payload: claims, COSE_Sign1 seal, Base45/zlib envelope.
//! * [`trust`] — the seal keys (ministry and association seals) and their validity.
//! * [`status`] — status data records (revocations, annotation cancellations, catalogue),
//!   the capped codec of their target files, and the repository's file names.
//! * [`lookup`] — the lookup index for manual lookup: rows, salted name digests, deltas.
//! * [`names`] — holder names as they are compared: by code point, middle dots unified.
//! * [`repository`] — where a repository is (a directory or a mirror) and its layout.
//! * [`calendar`] — civil dates as the authority means them (Asia/Shanghai).
//! * [`escape`] — untrusted text on its way to a terminal, a log, systemd, JSON or a screen.

pub mod calendar;
pub mod credential;
pub mod escape;
pub mod lookup;
pub mod names;
pub mod repository;
pub mod status;
pub mod trust;

/// Lowercase hex of `bytes`: key ids, digests, salts and set sums as the formats, the store and
/// the audit log write them.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}
