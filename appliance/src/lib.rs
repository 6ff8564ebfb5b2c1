//! What the appliance's two programs share: certd (the service and its commands) and the
//! kiosk. Nothing here fetches, writes the store or signs: those are certd's alone
//! (`certkiosk-sync`) or the authority's (`certsync`).
//!
//! * [`config`] — the configuration file, in two stages: raw TOML, then a validated [`config::Config`].
//! * [`check`] — an input (text, picture, PDF, standard input) → credential text → verdict,
//!   printed for people or as JSON lines; the audit record of each. [`check::check`] is the one
//!   way from what was read (or a manual lookup) to a verdict and its record, for both programs.
//! * [`status`] — what the store holds, how fresh it is, and what certd recorded of its syncs.
//! * [`audit`] — the hash-chained log of verifications.
//! * [`pin`] — the kiosk's admin PIN, kept as an Argon2id hash.

pub mod audit;
pub mod check;
pub mod config;
pub mod pin;
pub mod status;
