//! From camera pictures to credential texts: the decoder thread, and the debounce that keeps
//! one code held in front of the camera from being verified over and over.

use crate::camera::Mailbox;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Time for one frame's QR search: the preview runs at its own pace, but a verdict must be on
/// screen within 300 ms of the code being held up (docs/design.md §6).
pub const FRAME_BUDGET: Duration = Duration::from_millis(120);

/// The decoder thread's loop: take the newest picture, search it for a credential, report it.
pub fn run_decoder(mailbox: &Mailbox, stop: &AtomicBool, found: &dyn Fn(String)) {
    let accept = |text: &str| certkiosk_appliance::check::is_credential(text);
    while !stop.load(Ordering::Relaxed) {
        let Some(gray) = mailbox.take(Duration::from_millis(200)) else {
            continue;
        };
        let scan = acquire::qr::scan(&gray, FRAME_BUDGET, &accept);
        if scan.panics > 0 {
            tracing::warn!(panics = scan.panics, "QR decoder panicked on a frame (contained)");
        }
        if scan.accepted
            && let Some(text) = scan.texts.into_iter().find(|t| accept(t))
        {
            found(text);
        }
    }
}

/// The same code seen again within `window` of its last sighting is not a new scan. Every
/// sighting renews the window, so a code held still is verified once; it counts again after it
/// has been out of sight for the window.
#[derive(Debug)]
pub struct Debounce {
    last: Option<(String, Instant)>,
    window: Duration,
}

impl Debounce {
    pub fn new(window: Duration) -> Debounce {
        Debounce { last: None, window }
    }

    pub fn admit(&mut self, text: &str, now: Instant) -> bool {
        let repeat =
            matches!(&self.last, Some((t, at)) if t == text && now.saturating_duration_since(*at) < self.window);
        self.last = Some((text.to_owned(), now));
        !repeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_held_still_counts_once_and_again_after_it_left() {
        let mut d = Debounce::new(Duration::from_secs(3));
        let t = Instant::now();
        assert!(d.admit("A", t));
        for i in 1..20 {
            assert!(!d.admit("A", t + Duration::from_millis(200 * i)), "frame {i}");
        }
        assert!(d.admit("B", t + Duration::from_secs(4)), "another code at once");
        assert!(d.admit("A", t + Duration::from_secs(5)), "A came back");
        assert!(d.admit("A", t + Duration::from_secs(9)), "A after 4 s out of sight");
    }
}
