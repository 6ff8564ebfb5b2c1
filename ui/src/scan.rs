//! From camera pictures to credential texts: the decoder thread, the debounce that keeps one
//! code held in front of the camera from being verified over and over, and the patience that
//! answers a code which is no credential (a link, a damaged code) only once it is plainly the
//! one held up.

use crate::camera::Mailbox;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Time for one frame's QR search: the preview runs at its own pace, but a verdict must be on
/// screen within 300 ms of the code being held up (docs/design.md §6).
pub const FRAME_BUDGET: Duration = Duration::from_millis(120);

/// How long a code that is no credential must be in view, with no credential beside it,
/// before the kiosk says so (within a second of it being held up).
pub const NOT_CREDENTIAL_SETTLE: Duration = Duration::from_millis(500);

/// The decoder thread's loop: take the newest picture, search it for a credential, report it;
/// report a code that is no credential once [`Steady`] says it is the one held up.
pub fn run_decoder(mailbox: &Mailbox, stop: &AtomicBool, found: &dyn Fn(String, bool)) {
    let accept = |text: &str| certkiosk_appliance::check::is_credential(text);
    let mut steady = Steady::new(NOT_CREDENTIAL_SETTLE);
    while !stop.load(Ordering::Relaxed) {
        let Some(gray) = mailbox.take(Duration::from_millis(200)) else {
            continue;
        };
        let scan = acquire::qr::scan(&gray, FRAME_BUDGET, &accept);
        if scan.panics > 0 {
            tracing::warn!(panics = scan.panics, "QR decoder panicked on a frame (contained)");
        }
        let credential = scan.texts.iter().find(|t| accept(t)).cloned();
        let other = scan.texts.into_iter().find(|t| !accept(t));
        if let Some(text) = steady.frame(credential.is_some(), other, Instant::now()) {
            found(text, false);
        }
        if let Some(text) = credential {
            found(text, true);
        }
    }
}

/// A code that is no credential, answered only when it is plainly what is held up: seen in
/// three frames over at least the settle time, with no credential in any frame since. A
/// certificate that carries a link's code beside its own is read by its own code, never
/// answered "not a certificate code" in between; a code shown once in passing is not answered.
#[derive(Debug)]
pub struct Steady {
    /// The text, when it was first and last seen, and in how many frames.
    pending: Option<Pending>,
    settle: Duration,
}

#[derive(Debug)]
struct Pending {
    text: String,
    first: Instant,
    last: Instant,
    frames: u32,
}

impl Steady {
    pub fn new(settle: Duration) -> Steady {
        Steady { pending: None, settle }
    }

    /// One frame: whether it held a credential, and a text that is none. Returns the text to
    /// answer, every frame from when it has settled (the debounce keeps it to one answer).
    pub fn frame(&mut self, credential: bool, other: Option<String>, now: Instant) -> Option<String> {
        if credential {
            self.pending = None;
            return None;
        }
        let text = other?;
        match &mut self.pending {
            // Seen again while still in view (out of sight for twice the settle time, it starts
            // over: a code glimpsed once is not answered when it passes by again later).
            Some(p) if p.text == text && now.saturating_duration_since(p.last) <= 2 * self.settle => {
                p.frames += 1;
                p.last = now;
                (p.frames >= 3 && now.saturating_duration_since(p.first) >= self.settle).then_some(text)
            }
            _ => {
                self.pending = Some(Pending {
                    text,
                    first: now,
                    last: now,
                    frames: 1,
                });
                None
            }
        }
    }
}

/// A code seen again within `window` of its last sighting is not a new scan. Every sighting
/// renews the window, so a code held still is verified once; it counts again after it has
/// been out of sight for the window. The last few codes are remembered, so two codes in view
/// at once (two certificates on a page, a link beside a credential) are each verified once.
#[derive(Debug)]
pub struct Debounce {
    recent: Vec<(String, Instant)>,
    window: Duration,
}

/// How many codes [`Debounce`] remembers.
const REMEMBERED: usize = 8;

impl Debounce {
    pub fn new(window: Duration) -> Debounce {
        Debounce {
            recent: Vec::new(),
            window,
        }
    }

    pub fn admit(&mut self, text: &str, now: Instant) -> bool {
        self.recent
            .retain(|(_, at)| now.saturating_duration_since(*at) < self.window);
        if let Some(seen) = self.recent.iter_mut().find(|(t, _)| t == text) {
            seen.1 = now;
            return false;
        }
        if self.recent.len() == REMEMBERED {
            self.recent.remove(0);
        }
        self.recent.push((text.to_owned(), now));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_that_is_no_credential_is_answered_once_it_is_plainly_the_one_held_up() {
        let mut s = Steady::new(Duration::from_millis(500));
        let t = Instant::now();
        let at = |ms| t + Duration::from_millis(ms);
        let link = || Some("https://cpta.com.cn".to_owned());
        assert_eq!(s.frame(false, link(), at(0)), None);
        assert_eq!(
            s.frame(false, None, at(100)),
            None,
            "a frame without a code changes nothing"
        );
        assert_eq!(s.frame(false, link(), at(200)), None);
        assert_eq!(
            s.frame(false, link(), at(400)),
            None,
            "three frames, but not yet 500 ms"
        );
        assert_eq!(s.frame(false, link(), at(600)).as_deref(), Some("https://cpta.com.cn"));
        assert_eq!(s.frame(false, link(), at(700)).as_deref(), Some("https://cpta.com.cn"));

        // A certificate with a link's code beside its own: the credential resets the wait.
        let mut s = Steady::new(Duration::from_millis(500));
        for (ms, credential) in [(0, false), (200, false), (400, true), (600, false), (800, false)] {
            assert_eq!(s.frame(credential, link(), at(ms)), None, "{ms} ms");
        }
        assert_eq!(s.frame(false, link(), at(1200)).as_deref(), Some("https://cpta.com.cn"));

        // A code glimpsed once, then again much later, is not answered at once.
        let mut s = Steady::new(Duration::from_millis(500));
        s.frame(false, link(), at(0));
        s.frame(false, link(), at(100));
        assert_eq!(s.frame(false, link(), at(60_000)), None, "a minute later");
        assert_eq!(s.frame(false, link(), at(60_100)), None);

        // Another text starts the wait again.
        let mut s = Steady::new(Duration::from_millis(500));
        s.frame(false, link(), at(0));
        s.frame(false, link(), at(300));
        assert_eq!(s.frame(false, Some("hello".into()), at(600)), None);
        assert_eq!(s.frame(false, Some("hello".into()), at(700)), None);
        assert_eq!(s.frame(false, Some("hello".into()), at(1100)).as_deref(), Some("hello"));
    }

    #[test]
    fn a_code_held_still_counts_once_and_again_after_it_left() {
        let mut d = Debounce::new(Duration::from_secs(3));
        let t = Instant::now();
        assert!(d.admit("A", t));
        for i in 1..20 {
            assert!(!d.admit("A", t + Duration::from_millis(200 * i)), "frame {i}");
        }
        assert!(d.admit("B", t + Duration::from_secs(4)), "another code at once");
        assert!(
            !d.admit("A", t + Duration::from_millis(4100)),
            "A still in view beside B"
        );
        assert!(
            !d.admit("B", t + Duration::from_millis(4200)),
            "B still in view beside A"
        );
        assert!(
            d.admit("A", t + Duration::from_millis(7200)),
            "A after 3 s out of sight"
        );
    }
}
