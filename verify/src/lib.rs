//! Verification shared by `certd` and the kiosk UI: credential text + store → [`Verdict`], and
//! a manual lookup (management number + holder name) → the same verdicts ([`lookup`]).
//!
//! Pure functions of (input, store snapshot, clock, policy); nothing here writes anything,
//! touches the network or panics on any input.

pub mod engine;
pub mod i18n;
pub mod lookup;
pub mod verdict;

pub use engine::{Now, Policy, unreadable, unreadable_with_data, verify, without_store};
pub use i18n::Lang;
pub use lookup::{ManualQuery, QueryError, lookup};
pub use verdict::{Freshness, NotCredential, ScopeView, Verdict, VerdictCode, Warning};
