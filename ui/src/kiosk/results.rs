//! Results: a verdict on screen, and the way back to the scan screen for the next person.
//!
//! A result is never replaced unseen: each stays up for at least [`MIN_SHOW`], a negative one
//! (red) for `kiosk.hold_negative_secs`, and a tap holds it until tapped again. Verdicts that
//! arrive meanwhile wait, in order, and are shown when the one on screen may go; the clerk's
//! "Next person" lets the next one through at once. Each result carries a stamp (its number
//! and the time it was shown), so two valid people in a row are told apart.

use super::{STATE, State};
use crate::generated::{Api, App, ResultView, Screen};
use crate::present;
use crate::verifier::Done;
use certkiosk_verify::Lang;
use certkiosk_verify::Verdict;
use certkiosk_verify::verdict::Colour;
use jiff::Timestamp;
use slint::ComponentHandle;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Every result stays up at least this long: a PDF's `unreadable` is not replaced 4 ms later
/// by the camera's verdict.
pub const MIN_SHOW: Duration = Duration::from_secs(1);

/// More waiting results than this and the oldest waiting is dropped (each is in the audit log
/// already): a scanner typing codes while a result is held cannot grow the queue without end.
const MAX_WAITING: usize = 32;

/// A held result is let go after this: a stray tap does not keep a person's name up for good.
pub const HOLD_MAX: Duration = Duration::from_secs(300);

/// A second "Next person" this soon after the first brought up a waiting result is a double
/// tap: it does not dismiss that result unseen.
const DOUBLE_TAP: Duration = Duration::from_millis(600);

/// A verdict as it arrived, when (for its stamp, and to drop it once too old to be anyone's
/// who is still there), and when its certificate was first checked today, if it was.
#[derive(Debug)]
pub(super) struct Arrived {
    done: Done,
    at: Timestamp,
    since: Instant,
    checked_before: Option<Timestamp>,
}

impl Arrived {
    /// The same person's result again (a code read twice, a trigger pulled twice): the same
    /// verdict on the same certificate, or the same answer to the same code that is none.
    fn repeats(&self, other: &Verdict) -> bool {
        let v = &self.done.verdict;
        fn number(v: &Verdict) -> Option<&str> {
            v.certificate.as_ref().map(|c| c.management_number.as_str())
        }
        v.verdict == other.verdict
            && number(v) == number(other)
            && v.not_credential == other.not_credential
            && (v.certificate.is_some() || v.reason == other.reason)
    }
}

/// The result on screen, kept to show it again in another language.
#[derive(Debug)]
pub(super) struct Shown {
    arrived: Arrived,
    number: i32,
    at: String,
    gate: bool,
}

impl Shown {
    pub(super) fn view(&self, lang: Lang) -> ResultView {
        let done = &self.arrived.done;
        ResultView {
            number: self.number,
            shown_at: self.at.clone().into(),
            // Said at an exam gate, where a certificate seen twice in a day is worth a look.
            checked_before: match self.arrived.checked_before {
                Some(t) if self.gate => present::hours_minutes(t).into(),
                _ => Default::default(),
            },
            ..present::result_view(&done.verdict, done.source, lang)
        }
    }
}

pub(super) fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    let s = state.clone();
    api.on_next_person(move || {
        let Some(app) = s.app.upgrade() else { return };
        if s.double_tap() {
            return;
        }
        let waiting = !s.waiting.borrow().is_empty();
        s.clear(&app);
        if waiting && app.global::<Api>().get_screen() == Screen::Result {
            s.revealed_at.set(Some(Instant::now()));
        }
    });
    let s = state.clone();
    api.on_hold_result(move || {
        let Some(app) = s.app.upgrade() else { return };
        if s.double_tap() {
            return;
        }
        let held = !s.held.get();
        if held {
            s.hold(&app);
        } else {
            s.let_go(&app);
        }
    });
}

impl State {
    /// A touch this soon after "Next person" brought up a waiting result is the second half of
    /// a double tap, not meant for that result.
    fn double_tap(&self) -> bool {
        self.revealed_at.get().is_some_and(|t| t.elapsed() < DOUBLE_TAP)
    }

    /// A verdict from the verifier: on screen now, or after the result that may not go yet.
    pub(super) fn show(&self, app: &App, done: Done) {
        let api = app.global::<Api>();
        api.set_busy(false);
        tracing::debug!(took_ms = done.took.as_millis() as u64, "verdict ready");
        let at = self.clock.timestamp();
        let checked_before = self.tally.borrow_mut().record(&done.verdict, at);
        let screen = api.get_screen();
        // The same person's result again: already on screen, or already waiting.
        let on_screen = screen == Screen::Result
            && self
                .shown
                .borrow()
                .as_ref()
                .is_some_and(|s| s.arrived.repeats(&done.verdict));
        if on_screen || self.waiting.borrow().iter().any(|w| w.repeats(&done.verdict)) {
            return;
        }
        let done = Arrived {
            done,
            at,
            since: Instant::now(),
            checked_before,
        };
        // Waits while the result on screen may not go, and while staff are on the PIN or admin
        // screens (shown when they leave).
        let must_wait = (screen == Screen::Result && (self.holding.get() || self.held.get()))
            || matches!(screen, Screen::Pin | Screen::Admin);
        if must_wait {
            let mut waiting = self.waiting.borrow_mut();
            if waiting.len() == MAX_WAITING {
                waiting.pop_front();
                tracing::warn!("too many results waiting: the oldest waiting one is not shown");
            }
            waiting.push_back(done);
            api.set_results_waiting(waiting.len() as i32);
            return;
        }
        self.display(app, done);
    }

    fn display(&self, app: &App, arrived: Arrived) {
        let number = self.results_shown.get().wrapping_add(1);
        self.results_shown.set(number);
        let hold = if arrived.done.verdict.colour() == Colour::Red {
            self.settings.hold_negative.max(MIN_SHOW)
        } else {
            MIN_SHOW
        };
        let shown = Shown {
            number,
            at: present::time_of_day(arrived.at),
            arrived,
            gate: self.settings.gate,
        };
        self.sound.play(crate::sound::Chime::of(&shown.arrived.done.verdict));
        let api = app.global::<Api>();
        api.set_result(shown.view(self.lang.get()));
        api.set_result_scroll(0.0);
        *self.shown.borrow_mut() = Some(shown);
        self.holding.set(true);
        let weak = self.app.clone();
        self.hold_timer.start(slint::TimerMode::SingleShot, hold, move || {
            if let (Some(app), Some(state)) = (weak.upgrade(), STATE.with(|s| s.borrow().clone())) {
                state.holding.set(false);
                state.show_waiting(&app);
            }
        });
        self.go(app, Screen::Result);
    }

    /// The next waiting result, if the one on screen may go. One that waited longer than a
    /// result stays up is dropped: whoever it was for has likely gone (it is in the audit log).
    pub(super) fn show_waiting(&self, app: &App) {
        if self.holding.get() || self.held.get() {
            return;
        }
        let next = {
            let mut waiting = self.waiting.borrow_mut();
            waiting.retain(|w| w.since.elapsed() <= self.settings.result_timeout);
            waiting.pop_front()
        };
        app.global::<Api>()
            .set_results_waiting(self.waiting.borrow().len() as i32);
        if let Some(done) = next {
            self.display(app, done);
        }
    }

    /// Nothing held, nothing under its minimum time: the next result, whenever it comes, is
    /// shown at once (waiting ones are kept).
    pub(super) fn release(&self, app: &App) {
        self.hold_timer.stop();
        self.held_timer.stop();
        self.holding.set(false);
        self.held.set(false);
        app.global::<Api>().set_result_held(false);
    }

    /// Holds the result on screen: no countdown, nothing replaces it, for at most [`HOLD_MAX`].
    fn hold(&self, app: &App) {
        self.held.set(true);
        app.global::<Api>().set_result_held(true);
        self.countdown.stop();
        let weak = self.app.clone();
        self.held_timer.start(slint::TimerMode::SingleShot, HOLD_MAX, move || {
            if let (Some(app), Some(state)) = (weak.upgrade(), STATE.with(|s| s.borrow().clone())) {
                state.let_go(&app);
            }
        });
    }

    fn let_go(&self, app: &App) {
        self.held_timer.stop();
        self.held.set(false);
        app.global::<Api>().set_result_held(false);
        self.touch(app);
        self.show_waiting(app);
    }
}
