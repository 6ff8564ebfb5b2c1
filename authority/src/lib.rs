//! The authority's side (`certsync`): what only the issuer holds and does. No appliance crate
//! depends on this one (checked by `tests/tests/boundaries.rs`).
//!
//! * [`authority`] — the authority's own state and the issuing rules.
//! * [`seal`] — the seal signer that turns claims into a `CK1:` credential.
//! * [`keys`] — Ed25519 key files and their use as tough signing keys.
//! * [`publish`] — the TUF repository's publisher (tough's editor) and its USB export.
//! * [`demo`] — a whole demo world relative to the current time.

pub mod authority;
pub mod demo;
pub mod keys;
pub mod publish;
pub mod seal;

pub use certkiosk_formats::{calendar, credential, lookup, names, repository, status, trust};
