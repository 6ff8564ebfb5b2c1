//! The kiosk: the window, the worker threads, and the controllers between them and the `Api`
//! global, one per concern: [`scanning`], [`picker`], [`results`], [`admin`], [`language`],
//! [`lookup`].
//! Every controller runs on the UI thread; workers reach it through `upgrade_in_event_loop`,
//! so no state is shared across threads but the camera's mailbox. Navigation and the countdown
//! back to the scan screen are here.

mod admin;
mod language;
mod lookup;
mod picker;
mod results;
mod scanning;

use crate::camera::Maker;
use crate::fonts::Coverage;
use crate::generated::{AdminView, Api, App, ResultView, Screen};
use crate::lookup_form::LookupForm;
use crate::pin_guard::Guard as PinGuard;
use crate::scan::Debounce;
use crate::verifier::{self, Clock, Verifier};
use crate::wedge::Wedge;
use certkiosk_appliance::config::{Config, KioskSettings};
use certkiosk_verify::Lang;
use slint::{ComponentHandle, ModelRc};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the kiosk is made of; `main` builds it from the configuration, tests from a demo world.
pub struct Parts {
    pub config: Config,
    /// Makes the camera, on the camera thread.
    pub camera: Maker,
    pub clock: Clock,
    /// The program run as the contained file reader: this program itself.
    pub reader_program: PathBuf,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("config", &self.config.file)
            .finish_non_exhaustive()
    }
}

/// How long the same code is ignored after its last sighting.
const DEBOUNCE: Duration = Duration::from_secs(3);
/// How long the handheld scanner's same line is ignored: a trigger pulled twice.
const SCANNER_DEBOUNCE: Duration = Duration::from_millis(1500);
/// How often the scan screen re-reads the age of the status data.
const DATA_REFRESH: Duration = Duration::from_secs(30);

/// A running kiosk. Dropping it stops its threads.
pub struct Kiosk {
    app: App,
    state: Rc<State>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk").finish_non_exhaustive()
    }
}

struct State {
    app: slint::Weak<App>,
    settings: KioskSettings,
    config: Config,
    clock: Clock,
    verifier: Verifier,
    lang: Cell<Lang>,
    /// The verdict on screen, kept to re-present it when the language changes.
    shown: RefCell<Option<results::Shown>>,
    /// How many results have been shown since the kiosk started: each result's number.
    results_shown: Cell<i32>,
    /// The result on screen is within its minimum time (`results::MIN_SHOW`, or the hold of a
    /// negative one); `hold_timer` ends it.
    holding: Cell<bool>,
    hold_timer: slint::Timer,
    /// The clerk tapped the result to hold it.
    held: Cell<bool>,
    /// Verdicts that came while the result on screen could not go, in order.
    waiting: RefCell<VecDeque<results::Arrived>>,
    /// Today's counts, certificates seen today, the last outcomes.
    tally: RefCell<crate::tally::Tally>,
    sound: crate::sound::Sound,
    wedge: RefCell<Wedge>,
    debounce: RefCell<Debounce>,
    /// The handheld scanner's own: a trigger pulled twice on one code is one scan.
    scanner_debounce: RefCell<Debounce>,
    /// When the camera last saw a credential.
    last_credential: Cell<Option<std::time::Instant>>,
    /// When "Next person" last brought up a waiting result: a second tap right after (a double
    /// tap) must not dismiss it unseen.
    revealed_at: Cell<Option<std::time::Instant>>,
    /// Lets go of a result held longer than [`results::HOLD_MAX`].
    held_timer: slint::Timer,
    pdfs: RefCell<Vec<PathBuf>>,
    pin: RefCell<String>,
    /// Wrong PINs and the lockout they started, kept in the kiosk's state directory; `None`:
    /// no PIN is configured.
    pin_guard: RefCell<Option<PinGuard>>,
    /// Counts a lockout down on the PIN screen.
    lock_timer: slint::Timer,
    /// The manual lookup's form; emptied whenever its screen is left.
    lookup: RefCell<LookupForm>,
    /// Counts down on every screen but the scan screen; at zero the kiosk returns to it.
    countdown: slint::Timer,
    remaining: Cell<u64>,
    data_timer: slint::Timer,
}

impl Kiosk {
    /// Creates the window and starts the camera, decoder and verifier threads. Needs a Slint
    /// platform (a real backend, or the testing backend).
    pub fn start(parts: Parts) -> Result<Kiosk, slint::PlatformError> {
        let app = App::new()?;
        let missing = crate::fonts::install_chain();
        if !missing.is_empty() {
            tracing::error!(
                ?missing,
                "fonts of the rare-character chain are not installed: names may show boxes"
            );
        }
        // Measured on a thread of its own; the lookup screen is the first to need it.
        let coverage = Coverage::measure_chain();
        let stop = Arc::new(AtomicBool::new(false));
        let weak = app.as_weak();
        let verifier = Verifier::start(
            verifier::Settings {
                store: parts.config.store_path(),
                policy: parts.config.policy,
                clock: parts.clock.clone(),
                reader_program: parts.reader_program.clone(),
                audit_dir: parts.config.kiosk.audit_dir.clone(),
            },
            {
                let weak = weak.clone();
                move |done| {
                    let _ = weak.upgrade_in_event_loop(move |app| {
                        if let Some(state) = STATE.with(|s| s.borrow().clone()) {
                            state.show(&app, done);
                        }
                    });
                }
            },
        )
        .map_err(|e| slint::PlatformError::Other(format!("cannot start the verifier: {e}")))?;

        let pin_guard = parts
            .config
            .kiosk
            .admin_pin_hash
            .is_some()
            .then(|| PinGuard::open(&parts.config.kiosk.state_dir, parts.clock.timestamp()));
        let sound = crate::sound::Sound::start(&crate::sound::Settings {
            enabled: parts.config.kiosk.sound,
            volume: parts.config.kiosk.volume,
            device: parts.config.kiosk.sound_device.clone(),
        });
        let state = Rc::new(State {
            app: weak.clone(),
            settings: parts.config.kiosk.clone(),
            config: parts.config,
            clock: parts.clock,
            verifier,
            lang: Cell::new(Lang::Zh),
            shown: RefCell::new(None),
            results_shown: Cell::new(0),
            holding: Cell::new(false),
            hold_timer: slint::Timer::default(),
            held: Cell::new(false),
            waiting: RefCell::new(VecDeque::new()),
            tally: RefCell::default(),
            sound,
            wedge: RefCell::new(Wedge::default()),
            debounce: RefCell::new(Debounce::new(DEBOUNCE)),
            scanner_debounce: RefCell::new(Debounce::new(SCANNER_DEBOUNCE)),
            last_credential: Cell::new(None),
            revealed_at: Cell::new(None),
            held_timer: slint::Timer::default(),
            pdfs: RefCell::new(Vec::new()),
            pin: RefCell::new(String::new()),
            pin_guard: RefCell::new(pin_guard),
            lock_timer: slint::Timer::default(),
            lookup: RefCell::new(LookupForm::new(coverage)),
            countdown: slint::Timer::default(),
            remaining: Cell::new(0),
            data_timer: slint::Timer::default(),
        });
        STATE.with(|s| *s.borrow_mut() = Some(state.clone()));
        for connect in [
            scanning::connect,
            picker::connect,
            results::connect,
            admin::connect,
            language::connect,
            lookup::connect,
        ] {
            connect(&app, &state);
        }
        app.global::<Api>()
            .set_admin_enabled(state.settings.admin_pin_hash.is_some());
        app.global::<Api>().set_gate_mode(state.settings.gate);
        state.set_language(&app, state.settings.lang);
        state.refresh_data(&app);
        {
            let weak = weak.clone();
            state
                .data_timer
                .start(slint::TimerMode::Repeated, DATA_REFRESH, move || {
                    if let (Some(app), Some(state)) = (weak.upgrade(), STATE.with(|s| s.borrow().clone())) {
                        state.refresh_data(&app);
                    }
                });
        }
        scanning::start_camera(parts.camera, &weak, &stop)?;
        app.invoke_focus_scanner();
        Ok(Kiosk { app, state, stop })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// The chimes played to their end so far, in order.
    pub fn sounds_played(&self) -> Vec<crate::sound::Chime> {
        self.state.sound.played()
    }

    /// Runs the event loop until the window is closed.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.app.run()
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.state.countdown.stop();
        self.state.data_timer.stop();
        self.state.lock_timer.stop();
        self.state.hold_timer.stop();
        self.state.held_timer.stop();
        STATE.with(|s| s.borrow_mut().take());
    }
}

thread_local! {
    /// The kiosk's state, for callbacks that arrive from worker threads through the event loop.
    static STATE: RefCell<Option<Rc<State>>> = const { RefCell::new(None) };
}

impl State {
    fn go(&self, app: &App, screen: Screen) {
        let api = app.global::<Api>();
        if api.get_screen() == Screen::Lookup && screen != Screen::Lookup {
            self.forget_lookup(app);
        }
        api.set_screen(screen);
        if screen == Screen::Scan {
            self.countdown.stop();
        } else {
            self.touch(app);
        }
        app.invoke_focus_scanner();
    }

    /// Restarts the countdown back to the scan screen (none while a result is held).
    fn touch(&self, app: &App) {
        if self.held.get() {
            self.countdown.stop();
            return;
        }
        let total = self.settings.result_timeout.as_secs();
        self.remaining.set(total);
        app.global::<Api>().set_seconds_left(total as i32);
        let weak = self.app.clone();
        self.countdown
            .start(slint::TimerMode::Repeated, Duration::from_secs(1), move || {
                let (Some(app), Some(state)) = (weak.upgrade(), STATE.with(|s| s.borrow().clone())) else {
                    return;
                };
                let left = state.remaining.get().saturating_sub(1);
                state.remaining.set(left);
                app.global::<Api>().set_seconds_left(left as i32);
                if left == 0 {
                    state.clear(&app);
                }
            });
    }

    /// Back to the scan screen with nothing of the last person left on screen or in memory,
    /// in the kiosk's own language again; then the next waiting result, if one came meanwhile.
    fn clear(&self, app: &App) {
        self.shown.borrow_mut().take();
        self.release(app);
        if self.lang.get() != self.settings.lang {
            self.set_language(app, self.settings.lang);
        }
        self.pin.borrow_mut().clear();
        self.forget_lookup(app);
        let api = app.global::<Api>();
        api.set_result(ResultView::default());
        api.set_pin_length(0);
        api.set_admin(AdminView::default());
        api.set_pdf_files(ModelRc::default());
        self.go(app, Screen::Scan);
        self.show_waiting(app);
    }
}
