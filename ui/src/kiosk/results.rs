//! Results: a verdict on screen, and the way back to the scan screen for the next person.

use super::State;
use crate::generated::{Api, App, Screen};
use crate::present;
use crate::verifier::Done;
use slint::ComponentHandle;
use std::rc::Rc;

pub(super) fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    let s = state.clone();
    api.on_next_person(move || {
        if let Some(app) = s.app.upgrade() {
            s.clear(&app);
        }
    });
}

impl State {
    pub(super) fn show(&self, app: &App, done: Done) {
        let api = app.global::<Api>();
        api.set_busy(false);
        api.set_result(present::result_view(&done.verdict, done.source, self.lang.get()));
        tracing::debug!(took_ms = done.took.as_millis() as u64, "result on screen");
        *self.shown.borrow_mut() = Some(done);
        self.go(app, Screen::Result);
    }
}
