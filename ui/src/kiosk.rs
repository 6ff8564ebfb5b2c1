//! The kiosk: the window, the worker threads, and the controllers between them and the `Api`
//! global. Every controller runs on the UI thread; workers reach it through
//! `upgrade_in_event_loop`, so no state is shared across threads but the camera's mailbox.

use crate::camera::{self, CameraEvent, Mailbox, Maker};
use crate::generated::{AdminView, Api, App, CameraState, PdfFile, ResultView, Screen};
use crate::present::{self, Channel};
use crate::scan::{self, Debounce};
use crate::verifier::{self, Clock, Done, Job, Verifier};
use crate::wedge::Wedge;
use certd::config::{Config, KioskSettings};
use certkiosk_verify::{Freshness, Lang};
use certsync::store::{Mode, Store};
use slint::{ComponentHandle, ModelRc, VecModel};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
/// How often the scan screen re-reads the age of the status data.
const DATA_REFRESH: Duration = Duration::from_secs(30);
/// Most PDFs listed on the picker.
const MAX_PDFS: usize = 200;

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
    shown: RefCell<Option<Done>>,
    wedge: RefCell<Wedge>,
    debounce: RefCell<Debounce>,
    pdfs: RefCell<Vec<PathBuf>>,
    pin: RefCell<String>,
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

        let state = Rc::new(State {
            app: weak.clone(),
            settings: parts.config.kiosk.clone(),
            config: parts.config,
            clock: parts.clock,
            verifier,
            lang: Cell::new(Lang::Zh),
            shown: RefCell::new(None),
            wedge: RefCell::new(Wedge::default()),
            debounce: RefCell::new(Debounce::new(DEBOUNCE)),
            pdfs: RefCell::new(Vec::new()),
            pin: RefCell::new(String::new()),
            countdown: slint::Timer::default(),
            remaining: Cell::new(0),
            data_timer: slint::Timer::default(),
        });
        STATE.with(|s| *s.borrow_mut() = Some(state.clone()));
        connect(&app, &state);
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
        start_camera(parts.camera, &weak, &stop)?;
        app.invoke_focus_scanner();
        Ok(Kiosk { app, state, stop })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Runs the event loop until the window is closed.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.app.run()
    }

    /// Verifies a file as if it had been picked on the PDF picker.
    pub fn open_file(&self, path: &Path) {
        self.state.submit(&self.app, Job::File(path.to_owned()));
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.state.countdown.stop();
        self.state.data_timer.stop();
        STATE.with(|s| s.borrow_mut().take());
    }
}

thread_local! {
    /// The kiosk's state, for callbacks that arrive from worker threads through the event loop.
    static STATE: RefCell<Option<Rc<State>>> = const { RefCell::new(None) };
}

fn start_camera(camera: Maker, weak: &slint::Weak<App>, stop: &Arc<AtomicBool>) -> Result<(), slint::PlatformError> {
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
                scan::run_decoder(&mailbox, &stop, &|text| {
                    let _ = weak.upgrade_in_event_loop(move |app| {
                        if let Some(state) = STATE.with(|s| s.borrow().clone()) {
                            state.camera_text(&app, text);
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
        let posted = self.app.upgrade_in_event_loop(move |app| {
            app.global::<Api>().set_frame(slint::Image::from_rgb8(frame));
            shown.store(true, Ordering::Release);
        });
        if posted.is_err() {
            // No event loop (yet): let the next frame try again.
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

/// Wires the `Api` callbacks, one concern at a time.
fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    api.set_admin_enabled(state.settings.admin_pin.is_some());

    // Scanning: the handheld scanner's keys.
    let s = state.clone();
    api.on_key_typed(move |text| {
        let line = s.wedge.borrow_mut().key(&text, Instant::now());
        if let (Some(line), Some(app)) = (line, s.app.upgrade()) {
            s.submit(
                &app,
                Job::Text {
                    text: line,
                    channel: Channel::Scanner,
                },
            );
        }
        true
    });

    // The PDF picker.
    let s = state.clone();
    api.on_open_picker(move || {
        let Some(app) = s.app.upgrade() else { return };
        let places = pdf_places(&s.config);
        let files = list_pdfs(&places, MAX_PDFS);
        let model: Vec<PdfFile> = files
            .iter()
            .map(|(path, place)| PdfFile {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
                    .into(),
                place: where_in(path, place).into(),
            })
            .collect();
        *s.pdfs.borrow_mut() = files.into_iter().map(|(p, _)| p).collect();
        let api = app.global::<Api>();
        api.set_pdf_files(ModelRc::new(VecModel::from(model)));
        s.go(&app, Screen::Picker);
    });
    let s = state.clone();
    api.on_pick_pdf(move |index| {
        let Some(app) = s.app.upgrade() else { return };
        let path = usize::try_from(index)
            .ok()
            .and_then(|i| s.pdfs.borrow().get(i).cloned());
        s.go(&app, Screen::Scan);
        if let Some(path) = path {
            s.submit(&app, Job::File(path));
        }
    });
    let s = state.clone();
    api.on_close_picker(move || {
        if let Some(app) = s.app.upgrade() {
            s.go(&app, Screen::Scan);
        }
    });

    // Results.
    let s = state.clone();
    api.on_next_person(move || {
        if let Some(app) = s.app.upgrade() {
            s.clear(&app);
        }
    });

    // Admin behind the PIN.
    let s = state.clone();
    api.on_open_admin(move || {
        let Some(app) = s.app.upgrade() else { return };
        if s.settings.admin_pin.is_some() {
            s.pin.borrow_mut().clear();
            let api = app.global::<Api>();
            api.set_pin_length(0);
            api.set_pin_wrong(false);
            s.go(&app, Screen::Pin);
        }
    });
    let s = state.clone();
    api.on_pin_key(move |digit| {
        let Some(app) = s.app.upgrade() else { return };
        let mut pin = s.pin.borrow_mut();
        if pin.len() < 12 {
            pin.push_str(&digit);
        }
        app.global::<Api>().set_pin_length(pin.len() as i32);
        s.touch(&app);
    });
    let s = state.clone();
    api.on_pin_erase(move || {
        let Some(app) = s.app.upgrade() else { return };
        let mut pin = s.pin.borrow_mut();
        pin.pop();
        app.global::<Api>().set_pin_length(pin.len() as i32);
        s.touch(&app);
    });
    let s = state.clone();
    api.on_pin_submit(move || {
        let Some(app) = s.app.upgrade() else { return };
        let typed = std::mem::take(&mut *s.pin.borrow_mut());
        let api = app.global::<Api>();
        api.set_pin_length(0);
        let right = s
            .settings
            .admin_pin
            .as_deref()
            .is_some_and(|pin| same_secret(pin, &typed));
        api.set_pin_wrong(!right);
        if right {
            s.refresh_admin(&app);
            s.go(&app, Screen::Admin);
        } else {
            s.touch(&app);
        }
    });
    let s = state.clone();
    api.on_leave_admin(move || {
        if let Some(app) = s.app.upgrade() {
            s.pin.borrow_mut().clear();
            s.go(&app, Screen::Scan);
        }
    });

    // Language.
    let s = state.clone();
    api.on_choose_language(move |language| {
        let Some(app) = s.app.upgrade() else { return };
        let lang = if language == "en" { Lang::En } else { Lang::Zh };
        s.set_language(&app, lang);
        s.touch(&app);
    });
}

impl State {
    fn go(&self, app: &App, screen: Screen) {
        app.global::<Api>().set_screen(screen);
        if screen == Screen::Scan {
            self.countdown.stop();
        } else {
            self.touch(app);
        }
        app.invoke_focus_scanner();
    }

    /// Restarts the countdown back to the scan screen.
    fn touch(&self, app: &App) {
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
    /// in the kiosk's own language again.
    fn clear(&self, app: &App) {
        self.shown.borrow_mut().take();
        if self.lang.get() != self.settings.lang {
            self.set_language(app, self.settings.lang);
        }
        self.pin.borrow_mut().clear();
        let api = app.global::<Api>();
        api.set_result(ResultView::default());
        api.set_pin_length(0);
        api.set_admin(AdminView::default());
        api.set_pdf_files(ModelRc::default());
        self.go(app, Screen::Scan);
    }

    fn submit(&self, app: &App, job: Job) {
        app.global::<Api>().set_busy(true);
        self.verifier.submit(job);
    }

    fn camera_text(&self, app: &App, text: String) {
        let screen = app.global::<Api>().get_screen();
        // The camera counts on the scan screen and over a result (the next person may already
        // hold up their code), not while staff use the picker or the admin screens. The
        // handheld scanner's keys reach the wedge on the same two screens (app.slint).
        if !matches!(screen, Screen::Scan | Screen::Result) {
            return;
        }
        if self.debounce.borrow_mut().admit(&text, Instant::now()) {
            self.submit(
                app,
                Job::Text {
                    text,
                    channel: Channel::Camera,
                },
            );
        }
    }

    fn show(&self, app: &App, done: Done) {
        let api = app.global::<Api>();
        api.set_busy(false);
        api.set_result(present::result_view(&done.verdict, done.channel, self.lang.get()));
        tracing::debug!(took_ms = done.took.as_millis() as u64, "result on screen");
        *self.shown.borrow_mut() = Some(done);
        self.go(app, Screen::Result);
    }

    fn set_language(&self, app: &App, lang: Lang) {
        let code = match lang {
            Lang::Zh => "zh_CN",
            Lang::En => "en",
        };
        if let Err(e) = slint::select_bundled_translation(code) {
            tracing::warn!(error = %e, code, "cannot switch language");
        }
        self.lang.set(lang);
        let api = app.global::<Api>();
        api.set_language(code.into());
        if let Some(done) = &*self.shown.borrow() {
            api.set_result(present::result_view(&done.verdict, done.channel, lang));
        }
    }

    /// The age of the status data, for the line on the scan screen.
    fn refresh_data(&self, app: &App) {
        let api = app.global::<Api>();
        let publication = Store::open(&self.config.store_path(), Mode::ReadOnly)
            .and_then(|store| store.reader()?.publication())
            .ok()
            .flatten();
        match publication {
            Some(p) => {
                let age = self.clock.timestamp().duration_since(p.as_of);
                api.set_data_freshness(present::freshness(self.config.policy.grade(age)));
                api.set_data_as_of(present::moment(p.as_of).into());
            }
            None => api.set_data_freshness(present::freshness(Freshness::Missing)),
        }
    }

    fn refresh_admin(&self, app: &App) {
        let now = self.clock.timestamp();
        let mut view = AdminView {
            system_time: present::moment(now).into(),
            ..AdminView::default()
        };
        match certd::status::status(&self.config, now) {
            Ok(s) => {
                if let Some(p) = &s.publication {
                    view.data_version = p.version.to_string().into();
                    view.as_of = present::moment(p.as_of).into();
                }
                view.freshness = present::freshness(s.freshness);
                let never = || "—".to_owned();
                view.last_sync = s.sync.last_attempt.map_or_else(never, present::moment).into();
                view.last_success = s
                    .sync
                    .last_success
                    .map_or_else(never, |t| match &s.sync.last_source {
                        Some(src) => format!("{} ({})", present::moment(t), short_source(src)),
                        None => present::moment(t),
                    })
                    .into();
                view.last_error = s.sync.last_error.clone().unwrap_or_default().into();
                view.clock_suspect = s.clock_suspect;
                view.clock_floor = s.clock_floor.map(present::moment).unwrap_or_default().into();
            }
            Err(e) => {
                view.freshness = present::freshness(Freshness::Missing);
                view.last_error = e.to_string().into();
            }
        }
        view.store_size = store_size(&self.config.store_path()).into();
        app.global::<Api>().set_admin(view);
    }
}

/// The store's size on disk, its write-ahead log included.
fn store_size(store: &Path) -> String {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = store.as_os_str().to_owned();
    wal.push("-wal");
    let bytes = size(store) + size(Path::new(&wal));
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// Where a listed file is, as a person recognises it: its folder below the place (a stick's
/// mount point shows as its name), or the place's own name for a file right in it.
fn where_in(file: &Path, place: &Path) -> String {
    let dir = file.parent().unwrap_or(place);
    match dir.strip_prefix(place) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => place
            .file_name()
            .map_or_else(|| place.display().to_string(), |n| n.to_string_lossy().into_owned()),
    }
}

/// A mirror as the admin screen names it: a URL's host, a directory's last component.
fn short_source(source: &str) -> String {
    match url::Url::parse(source) {
        Ok(u) if u.host_str().is_some() => u.host_str().unwrap_or_default().to_owned(),
        _ => Path::new(source)
            .file_name()
            .map_or_else(|| source.to_owned(), |n| n.to_string_lossy().into_owned()),
    }
}

/// Compares a typed PIN with the configured one in time independent of where they differ.
fn same_secret(expected: &str, typed: &str) -> bool {
    let (a, b) = (expected.as_bytes(), typed.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// Where PDFs may be opened from: removable media (`run.media_dirs`) and `kiosk.pdf_dir`.
fn pdf_places(config: &Config) -> Vec<PathBuf> {
    let mut places = config.run.media_dirs.clone();
    places.extend(config.kiosk.pdf_dir.clone());
    places
}

/// PDFs under `places` (three levels deep, as a stick's mount point sits under /media/USER),
/// place by place in the order given (removable media before the configured folder: a stick
/// just plugged in is what staff look for), by name within a place as a person reads a list
/// (case aside), each with the place it was found under.
pub fn list_pdfs(places: &[PathBuf], max: usize) -> Vec<(PathBuf, PathBuf)> {
    fn walk(dir: &Path, place: &Path, depth: u32, out: &mut Vec<(String, PathBuf, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten().take(10_000) {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() && depth > 0 {
                walk(&path, place, depth - 1, out);
            } else if kind.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
                let name = entry.file_name().to_string_lossy().to_lowercase();
                out.push((name, path, place.to_owned()));
            }
        }
    }
    let mut listed = Vec::new();
    for place in places {
        let mut found = Vec::new();
        walk(place, place, 3, &mut found);
        found.sort();
        listed.extend(found.into_iter().map(|(_, p, place)| (p, place)));
    }
    listed.truncate(max);
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_named_as_people_know_them() {
        let media = Path::new("/media");
        assert_eq!(
            where_in(Path::new("/media/kiosk/STICK/certs/a.pdf"), media),
            "kiosk/STICK/certs"
        );
        assert_eq!(
            where_in(Path::new("/srv/certificates/a.pdf"), Path::new("/srv/certificates")),
            "certificates"
        );
    }

    #[test]
    fn sources_are_named_short() {
        assert_eq!(
            short_source("https://mirror.example.cn/certkiosk/"),
            "mirror.example.cn"
        );
        assert_eq!(short_source("/media/usb0/certkiosk-repo"), "certkiosk-repo");
    }

    #[test]
    fn the_pin_comparison_needs_every_digit() {
        assert!(same_secret("246810", "246810"));
        assert!(!same_secret("246810", "24681"));
        assert!(!same_secret("246810", "2468100"));
        assert!(!same_secret("246810", "246811"));
        assert!(!same_secret("246810", ""));
    }

    #[test]
    fn pdfs_are_listed_from_the_places_only_by_name() {
        let d = tempfile::tempdir().expect("tempdir");
        let stick = d.path().join("media/user/STICK");
        std::fs::create_dir_all(stick.join("certs")).expect("mkdir");
        std::fs::write(stick.join("certs/a.pdf"), b"%PDF-").expect("write");
        std::fs::write(stick.join("notes.txt"), b"x").expect("write");
        std::fs::write(d.path().join("elsewhere.pdf"), b"%PDF-").expect("write");
        std::fs::write(stick.join("B.PDF"), b"%PDF-").expect("write");
        std::fs::create_dir_all(d.path().join("folder")).expect("mkdir");
        std::fs::write(d.path().join("folder/0.pdf"), b"%PDF-").expect("write");
        let listed = list_pdfs(&[d.path().join("media"), d.path().join("folder")], 10);
        let names: Vec<_> = listed
            .iter()
            .map(|(p, _)| p.file_name().map(|n| n.to_owned()))
            .collect();
        assert_eq!(
            names,
            [Some("a.pdf".into()), Some("B.PDF".into()), Some("0.pdf".into())]
        );
    }
}
