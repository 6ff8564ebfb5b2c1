//! Verification shared by `certd` and the kiosk UI: credential text + store → [`Verdict`], and
//! a manual lookup (management number + holder name) → the same verdicts ([`lookup`]).
//!
//! Pure functions of (input, store snapshot, clock, policy); nothing here writes the store,
//! touches the network or panics on any input. The exception is [`audit`], the log of
//! verifications that certd and the kiosk append to.

pub mod audit;
pub mod engine;
pub mod i18n;
pub mod lookup;
pub mod verdict;

pub use engine::{Now, Policy, unreadable, verify, without_store};
pub use i18n::Lang;
pub use lookup::{ManualQuery, lookup};
pub use verdict::{Freshness, ScopeView, Verdict, VerdictCode, Warning};
