//! The clock a sync reads: for TUF's expiry checks and for the records it keeps.
//!
//! The product always runs on [`Clock::System`], where tough reads the system clock itself at
//! every step of a fetch, exactly as strict as tough's `ExpirationEnforcement::Safe`. A world
//! built at a fixed moment (the kiosk's screenshot tests, which must not change by day) runs on
//! [`Clock::Pinned`]: there every clock the fetch reads is that moment, so the test passes on
//! any date and expiry is still enforced (docs/decisions/0001-pinned-clocks.md).

use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock: the product.
    System,
    /// A fixed moment: a world made and synced at that time, whatever the date today.
    Pinned(Timestamp),
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Pinned(t) => *t,
        }
    }
}
