//! Everything that crosses the trust boundary from the authority to the appliance.
//!
//! * [`credential`] — the `CK1:` QR payload: claims, COSE_Sign1 seal, Base45/zlib envelope.
//! * [`trust`] — the seal keys (ministry and association seals) and their validity.
//! * [`status`] — status data records (revocations, annotation cancellations, catalogue) and
//!   the capped codec of their target files.
//! * [`repo`] — the TUF repository: publishing with tough's editor, fetching with tough's client.
//! * [`transport`] — HTTP(S) mirrors for tough, bounded in time.
//! * [`store`] — the appliance's SQLite store: schema, atomic apply, read API.
//! * [`authority`] — the authority's own state and the issuing rules (`certsync`).
//! * [`demo`] — a whole demo world relative to the current time.
//! * [`keys`] — Ed25519 key files and their use as tough signing keys.
//! * [`calendar`] — civil dates as the authority means them (Asia/Shanghai).
//! * [`clock`] — the clock a sync reads: the system's, or a pinned moment for fixed worlds.
//! * [`names`] — holder names as they are compared: by code point, middle dots unified.
//! * [`lookup`] — the lookup index for manual lookup: rows, salted name digests, deltas.

pub mod authority;
pub mod calendar;
pub mod clock;
pub mod credential;
pub mod demo;
pub mod keys;
pub mod lookup;
pub mod names;
pub mod repo;
pub mod status;
pub mod store;
pub mod transport;
pub mod trust;
