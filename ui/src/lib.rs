//! certkiosk: the kiosk UI. `main.rs` parses flags and calls [`kiosk::Kiosk::start`].
//!
//! * [`kiosk`] — builds the window and wires one controller per concern to the Slint globals
//!   (`ui/api.slint` is the contract): scanning, results, the PDF picker, admin, language,
//!   the manual lookup; [`lookup_form`] — the lookup's form and on-screen keyboard, pure;
//!   [`pin_guard`] — wrong admin PINs and the lockouts they start, kept across restarts.
//! * [`camera`] — the camera thread (V4L2 through nokhwa, or replayed frames) → previews and
//!   the decoder's mailbox; [`scan`] — the decoder thread and the debounce; [`wedge`] — the
//!   handheld scanner that types.
//! * [`verifier`] — verification off the UI thread, against the store opened read-only, through
//!   the appliance's `check` (certd's way).
//! * [`sound`] — a chime per result class, through ALSA on a thread of its own.
//! * [`tally`] — the day's counts, certificates seen today (keyed hashes) and the last
//!   outcomes, in memory only.
//! * [`present`] — a verdict as the result screen shows it, its `Source` among it; [`fonts`] — the rare-character
//!   font chain and what it covers; [`demo`] — `certkiosk --demo`'s world.

pub mod camera;
#[cfg(feature = "demo")]
pub mod demo;
pub mod fonts;
pub mod kiosk;
pub mod lookup_form;
pub mod pin_guard;
pub mod present;
pub mod scan;
pub mod sound;
pub mod tally;
pub mod verifier;
pub mod wedge;

/// The Rust side of the .slint files (`App`, the `Api` global, its structs and enums).
#[allow(
    unsafe_code,
    unused_qualifications,
    missing_debug_implementations,
    clippy::all,
    clippy::todo,
    clippy::unimplemented,
    clippy::unwrap_used
)]
pub mod generated {
    slint::include_modules!();
}

pub use generated::App;
