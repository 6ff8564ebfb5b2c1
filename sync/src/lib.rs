//! The authority's side and the appliance's sync (being split into crates of one job each,
//! issue 15; the shared formats are `certkiosk-formats`, re-exported here meanwhile).
//!
//! * [`seal`] — the authority's seal signer.
//! * [`repo`] — the TUF repository: publishing with tough's editor, fetching with tough's client.
//! * [`transport`] — HTTP(S) mirrors for tough, bounded in time.
//! * [`writer`] — the store's writer: schema, migrations, repair, atomic apply (certd only).
//! * [`authority`] — the authority's own state and the issuing rules (`certsync`).
//! * [`demo`] — a whole demo world relative to the current time.
//! * [`keys`] — Ed25519 key files and their use as tough signing keys.
//! * [`clock`] — the clock a sync reads: the system's, or a pinned moment for fixed worlds.

pub mod authority;
pub mod clock;
pub mod demo;
pub mod keys;
pub mod repo;
pub mod seal;
pub mod transport;
pub mod writer;

pub use certkiosk_formats::{calendar, credential, lookup, names, status, trust};
