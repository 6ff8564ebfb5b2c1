//! Scanning: the camera and decoder threads and their way to the screen, the handheld
//! scanner's keys, the debounce, and handing texts to the verifier.

use super::{STATE, State};
use crate::camera::{self, CameraEvent, Mailbox, Maker};
use crate::generated::{Api, App, CameraState, Screen};
use crate::scan;
use crate::verifier::Job;
use certkiosk_appliance::check::Source;
use slint::ComponentHandle;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// After a credential was in view, codes that are none are not answered for this long.
const NOT_CREDENTIAL_QUIET: Duration = Duration::from_secs(5);

/// The handheld scanner: every key of the scan and result screens goes to the wedge.
pub(super) fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    let s = state.clone();
    api.on_key_typed(move |text| {
        let now = Instant::now();
        let line = s.wedge.borrow_mut().key(&text, now);
        // The same code scanned twice in a row (a trigger pulled twice) is one scan.
        let line = line.filter(|l| s.scanner_debounce.borrow_mut().admit(l, now));
        if let (Some(line), Some(app)) = (line, s.app.upgrade()) {
            s.submit(
                &app,
                Job::Text {
                    text: line,
                    source: Source::Scanner,
                },
            );
        }
        true
    });
}

/// Starts the camera and decoder threads; they end when `stop` is set.
pub(super) fn start_camera(
    camera: Maker,
    weak: &slint::Weak<App>,
    stop: &Arc<AtomicBool>,
) -> Result<(), slint::PlatformError> {
    let mailbox = Arc::new(Mailbox::default());
    let spawn_error = |e: std::io::Error| slint::PlatformError::Other(format!("cannot start a thread: {e}"));
    {
        let (mailbox, stop) = (mailbox.clone(), stop.clone());
        let sink = Sink { app: weak.clone() };
        std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || camera::run(camera, &sink, &mailbox, &stop))
            .map_err(spawn_error)?;
    }
    {
        let (weak, stop) = (weak.clone(), stop.clone());
        std::thread::Builder::new()
            .name("decoder".into())
            .spawn(move || {
                scan::run_decoder(&mailbox, &stop, &|text, credential| {
                    let _ = weak.upgrade_in_event_loop(move |app| {
                        if let Some(state) = STATE.with(|s| s.borrow().clone()) {
                            state.camera_text(&app, text, credential);
                        }
                    });
                });
            })
            .map_err(spawn_error)?;
    }
    Ok(())
}

/// The camera thread's way to the screen.
struct Sink {
    app: slint::Weak<App>,
}

impl camera::FrameSink for Sink {
    fn preview(&self, frame: slint::SharedPixelBuffer<slint::Rgb8Pixel>, shown: Arc<AtomicBool>) {
        let painted = shown.clone();
        let posted = self.app.upgrade_in_event_loop(move |app| {
            app.global::<Api>().set_frame(slint::Image::from_rgb8(frame));
            painted.store(true, Ordering::Release);
        });
        if posted.is_err() {
            // No event loop (any more): nothing will show this one, so the next frame may try.
            shown.store(true, Ordering::Release);
        }
    }

    fn event(&self, event: CameraEvent) {
        let _ = self.app.upgrade_in_event_loop(move |app| {
            app.global::<Api>().set_camera(match event {
                CameraEvent::Running { simulated: true } => CameraState::Simulated,
                CameraEvent::Running { simulated: false } => CameraState::Running,
                CameraEvent::Lost => CameraState::Lost,
                CameraEvent::Absent => CameraState::Absent,
            });
        });
    }
}

impl State {
    pub(super) fn submit(&self, app: &App, job: Job) {
        app.global::<Api>().set_busy(true);
        self.verifier.submit(job);
    }

    fn camera_text(&self, app: &App, text: String, credential: bool) {
        let screen = app.global::<Api>().get_screen();
        let now = Instant::now();
        // The camera counts on the scan screen and over a result (the next person may already
        // hold up their code), not while staff use the picker or the admin screens. The
        // handheld scanner's keys reach the wedge on the same two screens (app.slint).
        if !matches!(screen, Screen::Scan | Screen::Result) {
            return;
        }
        if credential {
            self.last_credential.set(Some(now));
        } else if screen != Screen::Scan
            || self
                .last_credential
                .get()
                .is_some_and(|t| now.saturating_duration_since(t) < NOT_CREDENTIAL_QUIET)
        {
            // A code that is no credential is answered on the scan screen only, and not soon
            // after a credential was in view: a link printed beside the certificate's own code,
            // a sticker on the desk, never replaces a person's result.
            return;
        }
        if self.debounce.borrow_mut().admit(&text, now) {
            self.submit(
                app,
                Job::Text {
                    text,
                    source: Source::Camera,
                },
            );
        }
    }
}
