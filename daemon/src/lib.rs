//! certd: the appliance daemon's commands. `main.rs` parses flags and calls into here.
//!
//! * [`sync`] — fetch a repository with tough and apply it to the store (the only writer).
//! * [`service`] — `certd run`: the appliance service's loop; [`metrics`] — its optional
//!   Prometheus exposition.
//! * [`fleet_key`] — `certd fleet-key`: the key pair that opens the sealed targets.
//! * [`set_pin`] — `certd set-pin`: the kiosk's admin PIN, hashed into the configuration file.

pub mod fleet_key;
pub mod metrics;
pub mod service;
pub mod set_pin;
pub mod sync;

/// Process exit codes of the CLI contract (docs/design.md §5).
pub mod exit {
    /// Ran, whatever the verdicts.
    pub const OK: u8 = 0;
    /// An input (or a repository) could not be read.
    pub const INPUT: u8 = 1;
    /// Bad usage or configuration.
    pub const USAGE: u8 = 2;
}
