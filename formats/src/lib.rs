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
//! * `fleet` (feature `fleet`) — the envelope of holder-linked targets, sealed to the enrolled
//!   appliances.
//! * [`escape`] — untrusted text on its way to a terminal, a log, systemd, JSON or a screen.

pub mod calendar;
pub mod credential;
pub mod escape;
#[cfg(feature = "fleet")]
pub mod fleet;
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

/// The bytes of exactly `2 × N` hex digits (either case).
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}
