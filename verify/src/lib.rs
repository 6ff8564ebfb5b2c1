//! Verification shared by `certd` and the kiosk UI: credential text + store → [`Verdict`].
//!
//! Pure functions of (input, store snapshot, clock, policy); nothing here writes the store,
//! touches the network or panics on any input. The exception is [`audit`], the log of
//! verifications that certd and the kiosk append to.

pub mod audit;
pub mod engine;
pub mod i18n;
pub mod verdict;

pub use engine::{Now, Policy, unreadable, verify, without_store};
pub use i18n::Lang;
pub use verdict::{Freshness, Verdict, VerdictCode, Warning};
