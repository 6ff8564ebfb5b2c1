//! What the kiosk's tests share: a demo world at a fixed time, the testing backend with a real
//! rasteriser, pumping its event loop until the screen shows something, typing like a
//! handheld scanner, and screenshots compared with the references in `tests/screenshots/`.
#![allow(dead_code, clippy::unwrap_used)]

use certkiosk::App;
use certkiosk::camera::replay::{Replay, Step};
use certkiosk::camera::{Camera, Maker};
use certkiosk::generated::{Api, Screen};
use certkiosk::kiosk::{Kiosk, Parts};
use certkiosk::verifier::Clock;
use certkiosk_appliance::config::Config;
use i_slint_backend_testing::ElementHandle;
use jiff::Timestamp;
use slint::ComponentHandle;
use slint::platform::WindowEvent;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The moment the test worlds are made and verified at: screenshots must not change by day.
pub const NOW: &str = "2026-11-25T02:00:00Z";

pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// The testing backend with the software renderer and an event loop on mock time: timers run
/// only when a test advances time, work from the kiosk's threads arrives through the loop.
pub fn init_platform() {
    slint::platform::set_platform(Box::new(i_slint_backend_testing::TestingBackend::new(
        i_slint_backend_testing::TestingBackendOptions {
            mock_time: true,
            threading: true,
            renderer_name: Some("software".into()),
        },
    )))
    .expect("platform set once per test process");
}

/// A demo world made at [`NOW`] and synced, with the kiosk's settings for tests.
pub struct World {
    pub dir: tempfile::TempDir,
    pub config: Config,
    /// The manual lookups of the world and the verdicts they get (`lookups.json`).
    pub lookups: Vec<certsync::demo::LookupExpectation>,
}

impl World {
    /// `certkiosk --demo`'s world (admin PIN 2468, PDFs from `samples/`), with `media/` as
    /// the removable media.
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let demo = certkiosk::demo::build(dir.path(), certkiosk_sync::clock::Clock::Pinned(now())).unwrap();
        let mut config = demo.config;
        config.run.media_dirs = vec![dir.path().join("media")];
        // The chimes play through ALSA into its null device: the real path, no sound card.
        config.kiosk.sound_device = "null".into();
        World {
            dir,
            config,
            lookups: demo.lookups,
        }
    }

    /// The kiosk's audit log.
    pub fn audit_dir(&self) -> PathBuf {
        self.config.kiosk.audit_dir.clone().unwrap()
    }

    pub fn sample(&self, name: &str, ext: &str) -> PathBuf {
        self.dir.path().join("samples").join(format!("{name}.{ext}"))
    }

    pub fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.sample(name, "txt"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// The kiosk on this world, verifying at [`NOW`], with `camera` as its camera.
    pub fn kiosk(&self, camera: Maker) -> Kiosk {
        self.kiosk_at(camera, now())
    }

    /// The kiosk on this world with its clock at `at`.
    pub fn kiosk_at(&self, camera: Maker, at: Timestamp) -> Kiosk {
        Kiosk::start(Parts {
            config: self.config.clone(),
            camera,
            clock: Clock::Fixed(at),
            reader_program: PathBuf::from(env!("CARGO_BIN_EXE_certkiosk")),
        })
        .unwrap()
    }
}

/// A camera that plays `steps` once, then is gone.
pub fn replay(steps: Vec<Step>) -> Maker {
    Box::new(move || Box::new(Replay::new(steps, 25, false, false)) as Box<dyn Camera>)
}

/// A camera that never appears.
pub fn no_camera() -> Maker {
    replay(Vec::new())
}

thread_local! {
    static CHECK: RefCell<Option<Box<dyn Fn() -> bool>>> = const { RefCell::new(None) };
}

/// Runs the event loop until `done` holds (checked every 5 ms) or `timeout` passes; returns
/// whether it held.
pub fn pump_until(app: &App, timeout: Duration, done: impl Fn(&App) -> bool + 'static) -> bool {
    let weak = app.as_weak();
    CHECK.with(|c| *c.borrow_mut() = Some(Box::new(move || weak.upgrade().is_some_and(|a| done(&a)))));
    let deadline = Instant::now() + timeout;
    let ticker = std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(5));
            let out_of_time = Instant::now() >= deadline;
            let (tx, rx) = std::sync::mpsc::channel();
            let posted = slint::invoke_from_event_loop(move || {
                let held = CHECK.with(|c| c.borrow().as_ref().is_some_and(|f| f()));
                if held || out_of_time {
                    let _ = slint::quit_event_loop();
                }
                let _ = tx.send(held || out_of_time);
            });
            if posted.is_err() || rx.recv().unwrap_or(true) {
                break;
            }
        }
    });
    slint::run_event_loop().unwrap();
    ticker.join().unwrap();
    CHECK.with(|c| c.borrow().as_ref().is_some_and(|f| f()))
}

pub fn screen(app: &App) -> Screen {
    app.global::<Api>().get_screen()
}

/// Types `text` and Enter as a keyboard-wedge scanner does: one key event per character,
/// all within milliseconds. Returns whether every key was taken.
pub fn scanner_types(app: &App, text: &str) -> bool {
    let mut taken = true;
    let keys = text
        .chars()
        .map(|c| c.to_string())
        .chain(std::iter::once("\n".to_owned()));
    for key in keys {
        let key: slint::SharedString = key.into();
        let result = app
            .window()
            .dispatch_event_with_result(WindowEvent::KeyPressed { text: key.clone() });
        taken &= matches!(result, Ok(slint::platform::WindowEventDispatchResult::Accepted));
        let _ = app
            .window()
            .dispatch_event_with_result(WindowEvent::KeyReleased { text: key });
    }
    taken
}

/// The element with this accessible id (`accessible-id` in the .slint files).
pub fn by_id(app: &App, id: &str) -> ElementHandle {
    let wanted = id.to_owned();
    i_slint_backend_testing::ElementQuery::from_root(app)
        .match_descendants()
        .match_predicate(move |e| e.accessible_id().as_deref() == Some(wanted.as_str()))
        .find_first()
        .unwrap_or_else(|| panic!("no element with accessible id {id}"))
}

/// Presses the key with this accessible id that reads `label` (many keys share an id: the
/// letters are `lookup.letter`, the candidates `lookup.candidate`).
pub fn press(app: &App, id: &str, label: &str) {
    let (wanted_id, wanted_label) = (id.to_owned(), label.to_owned());
    let key = i_slint_backend_testing::ElementQuery::from_root(app)
        .match_descendants()
        .match_predicate(move |e| {
            e.accessible_id().as_deref() == Some(wanted_id.as_str())
                && e.accessible_label().as_deref() == Some(wanted_label.as_str())
        })
        .find_first()
        .unwrap_or_else(|| panic!("no key {label:?} with accessible id {id}"));
    assert_ne!(
        key.accessible_enabled(),
        Some(false),
        "key {label:?} ({id}) is disabled"
    );
    key.invoke_accessible_default_action();
}

/// Types an ID number on the lookup screen's pad (its field's own tab; the last character
/// may be X).
pub fn type_id_number(app: &App, id: &str) {
    by_id(app, "lookup.id-number").invoke_accessible_default_action();
    for c in id.chars() {
        if c == 'X' {
            by_id(app, "lookup.id-x").invoke_accessible_default_action();
        } else {
            press(app, "lookup.digit", &c.to_string());
        }
    }
}

/// Every element whose accessible label is `label` (as a person reads it).
pub fn labelled(app: &App, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(app, label).collect()
}

/// Clicks the button a person would read as `label`.
pub fn click(app: &App, label: &str) {
    let buttons: Vec<_> = labelled(app, label)
        .into_iter()
        .filter(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button))
        .collect();
    assert!(!buttons.is_empty(), "no button labelled {label:?}");
    buttons[0].invoke_accessible_default_action();
}

/// Whether some text on screen reads exactly `text`.
pub fn shows(app: &App, text: &str) -> bool {
    !labelled(app, text).is_empty()
}

/// The window as pixels.
pub fn snapshot(app: &App, width: u32, height: u32) -> (u32, u32, Vec<u8>) {
    app.window().set_size(slint::PhysicalSize::new(width, height));
    let buffer = app.window().take_snapshot().unwrap();
    (buffer.width(), buffer.height(), buffer.as_bytes().to_vec())
}

pub fn write_png(path: &Path, width: u32, height: u32, rgba: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    encoder.write_header().unwrap().write_image_data(rgba).unwrap();
}

pub fn read_png(path: &Path) -> Option<(u32, u32, Vec<u8>)> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).ok()?));
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    (info.color_type == png::ColorType::Rgba).then_some((info.width, info.height, buf))
}
