//! Every screen, at the smallest and the largest kiosk screen, in Chinese and English, drawn by
//! the software renderer and compared with the reference pictures in `tests/screenshots/`.
//!
//! The screens are reached the way a person reaches them: the handheld scanner types a demo
//! sample's text, buttons are pressed by their labels. After a deliberate change of the look,
//! refresh the references with
//! `CERTKIOSK_UPDATE_SCREENSHOTS=1 cargo test -p certkiosk --test screens` and look at them.

mod common;

use certkiosk::camera::replay::{Step, frame_from_rgb};
use certkiosk::generated::{Api, CameraState, Screen};
use certkiosk::kiosk::{Kiosk, Parts};
use certkiosk::verifier::Clock;
use common::*;
use slint::ComponentHandle;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SIZES: &[(u32, u32)] = &[(800, 480), (1920, 1080)];
/// The results, read at a desk, also on a portrait screen.
const RESULT_SIZES: &[(u32, u32)] = &[(800, 480), (480, 800), (1920, 1080)];
/// A channel may differ this much (anti-aliasing, rounding) …
const CHANNEL_TOLERANCE: u8 = 40;
/// … and this share of the pixels may differ more before a screen counts as changed.
const PIXEL_TOLERANCE: f64 = 0.002;

/// A camera picture that is the same on every run: a sheet of paper on a desk.
fn desk_frame() -> certkiosk::camera::RawFrame {
    let (w, h) = (640usize, 480usize);
    let mut rgb = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let paper = (160..480).contains(&x) && (80..420).contains(&y);
            let v = if paper { 235 } else { 90 + (x * 40 / w) as u8 };
            rgb[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&[v, v, v.saturating_sub(10)]);
        }
    }
    frame_from_rgb(&rgb, w as u32, h as u32)
}

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/screenshots")
}

/// Compares the window with its reference at each of [`SIZES`]; returns the problems.
fn check(app: &certkiosk::App, name: &str) -> Vec<String> {
    check_at(app, name, SIZES)
}

fn check_at(app: &certkiosk::App, name: &str, sizes: &[(u32, u32)]) -> Vec<String> {
    let update = std::env::var_os("CERTKIOSK_UPDATE_SCREENSHOTS").is_some();
    let mut problems = Vec::new();
    for &(w, h) in sizes {
        let (width, height, pixels) = snapshot(app, w, h);
        let file = format!("{name}-{w}x{h}.png");
        let reference = reference_dir().join(&file);
        if update {
            write_png(&reference, width, height, &pixels);
            continue;
        }
        let differs = match read_png(&reference) {
            None => Some("no reference picture".to_owned()),
            Some((rw, rh, _)) if (rw, rh) != (width, height) => Some(format!("reference is {rw}×{rh}")),
            Some((_, _, want)) => {
                let changed = pixels
                    .chunks_exact(4)
                    .zip(want.chunks_exact(4))
                    .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > CHANNEL_TOLERANCE))
                    .count();
                let share = changed as f64 / f64::from(width * height);
                (share > PIXEL_TOLERANCE).then(|| format!("{:.2} % of the pixels differ", share * 100.0))
            }
        };
        if let Some(why) = differs {
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(&file);
            write_png(&out, width, height, &pixels);
            problems.push(format!("{file}: {why}; this run's picture: {}", out.display()));
        }
    }
    // Back to the size the layout was first made at, for the next steps of the test.
    app.window().set_size(slint::PhysicalSize::new(800, 480));
    problems
}

fn show_result(app: &certkiosk::App, world: &World, sample: &str, lang: &str) {
    if screen(app) != Screen::Scan {
        click(app, next_person(app));
    }
    // "Next person" returns to the kiosk's language (Chinese): choose again.
    app.global::<Api>().invoke_choose_language(lang.into());
    assert!(
        scanner_types(app, &world.text(sample)),
        "the scan screen takes the scanner's keys"
    );
    assert!(
        pump_until(app, Duration::from_secs(10), |a| screen(a) == Screen::Result),
        "{sample}: no result"
    );
}

fn next_person(app: &certkiosk::App) -> &'static str {
    // 简体 and 繁體 say it alike.
    if app.global::<Api>().get_language() == "en" {
        "Next person"
    } else {
        "下一位"
    }
}

/// The manual lookup: 王䶮's number with 王 typed and "yan" showing its candidates; the
/// radicals of four strokes; 人 with four strokes more; the U+ pad showing 𠇔. Then the
/// results of two lookups: 王䶮 (valid, the annotation not checked) and 王严 (not found,
/// with what the data covers).
fn lookup_screens(app: &certkiosk::App, world: &World, code: &str, lang: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let holder = world.lookups.iter().find(|l| l.name == "王䶮").expect("王䶮");
    let number = &holder.number;
    let start = |name: &[char]| {
        app.global::<Api>().invoke_choose_language(code.into());
        by_id(app, "scan.lookup").invoke_accessible_default_action();
        assert_eq!(screen(app), Screen::Lookup);
        for digit in number.chars() {
            press(app, "lookup.digit", &digit.to_string());
        }
        by_id(app, "lookup.tab-code").invoke_accessible_default_action();
        for c in name {
            for digit in format!("{:X}", u32::from(*c)).chars() {
                press(app, "lookup.hex", &digit.to_string());
            }
            by_id(app, "lookup.code-add").invoke_accessible_default_action();
        }
    };
    start(&['王']);
    by_id(app, "lookup.tab-pinyin").invoke_accessible_default_action();
    for letter in ["y", "a", "n"] {
        press(app, "lookup.letter", letter);
    }
    problems.extend(check(app, &format!("lookup-pinyin-{lang}")));
    by_id(app, "lookup.tab-radical").invoke_accessible_default_action();
    press(app, "lookup.group", "4");
    problems.extend(check(app, &format!("lookup-radicals-{lang}")));
    press(app, "lookup.group", "2");
    press(app, "lookup.radical", "人");
    press(app, "lookup.residual", "4");
    problems.extend(check(app, &format!("lookup-radical-{lang}")));
    by_id(app, "lookup.tab-code").invoke_accessible_default_action();
    for digit in ["2", "0", "1", "D", "4"] {
        press(app, "lookup.hex", digit);
    }
    problems.extend(check(app, &format!("lookup-code-{lang}")));
    // The ID number's pad, its last character mistyped.
    let id = &holder.id_number;
    type_id_number(
        app,
        &format!("{}{}", &id[..17], if id.ends_with('0') { '1' } else { '0' }),
    );
    problems.extend(check(app, &format!("lookup-id-mistyped-{lang}")));
    by_id(app, "lookup.back").invoke_accessible_default_action();

    for (name, shot) in [
        (['王', '䶮'], "result-manual-valid"),
        (['王', '严'], "result-manual-not-found"),
    ] {
        start(&name);
        type_id_number(app, &holder.id_number);
        by_id(app, "lookup.submit").invoke_accessible_default_action();
        assert!(
            pump_until(app, Duration::from_secs(10), |a| screen(a) == Screen::Result),
            "{shot}: no result"
        );
        problems.extend(check(app, &format!("{shot}-{lang}")));
        click(app, next_person(app));
    }
    problems
}

#[test]
fn every_screen_at_both_sizes_in_both_languages_matches_its_reference() {
    init_platform();
    let world = World::new();
    let kiosk = world.kiosk(replay(vec![Step::Show(desk_frame(), Duration::from_secs(3600))]));
    let app = kiosk.app();
    app.window().set_size(slint::PhysicalSize::new(800, 480));
    assert!(
        pump_until(app, Duration::from_secs(10), |a| a.global::<Api>().get_camera()
            == CameraState::Running),
        "the camera never ran"
    );
    assert!(
        pump_until(app, Duration::from_secs(10), |a| a
            .global::<Api>()
            .get_frame()
            .size()
            .width
            > 0),
        "no camera picture on screen"
    );

    std::fs::write(
        world.sample("not-a-certificate-link", "txt"),
        "https://www.cpta.com.cn/zscx/\n",
    )
    .expect("write");
    let mut problems = Vec::new();
    for lang in ["zh", "en"] {
        let code = if lang == "en" { "en" } else { "zh_CN" };
        app.global::<Api>().invoke_choose_language(code.into());
        problems.extend(check(app, &format!("scan-{lang}")));

        by_id(app, "scan.open-pdf").invoke_accessible_default_action();
        assert_eq!(screen(app), Screen::Picker);
        problems.extend(check(app, &format!("picker-{lang}")));
        by_id(app, "picker.back").invoke_accessible_default_action();

        for (sample, shot) in [
            // Holders whose names need the whole font chain: 䶮 (Ext A), 𰻝 (Ext G), 𬱖 (Ext E),
            // 𫍯 (Ext C), 𡟣 (Ext B, which Noto Sans CJK lacks).
            ("valid-ministry-annotated", "result-valid"),
            ("valid-ninety-day-annotation", "result-valid-ext-g"),
            ("revoked-after-annotation", "result-revoked"),
            ("annotation-expired-month-ago", "result-annotation-expired"),
            ("annotation-starts-in-3-days", "result-not-yet-valid"),
            ("forged-altered-name", "result-forged"),
            // A link is no certificate's code: said, and why.
            ("not-a-certificate-link", "result-not-a-code"),
        ] {
            show_result(app, &world, sample, code);
            problems.extend(check_at(app, &format!("{shot}-{lang}"), RESULT_SIZES));
        }
        click(app, next_person(app));
        app.global::<Api>().invoke_choose_language(code.into());

        by_id(app, "scan.admin").invoke_accessible_default_action();
        assert_eq!(screen(app), Screen::Pin);
        click(app, "2");
        click(app, "4");
        problems.extend(check(app, &format!("pin-{lang}")));
        click(app, "6");
        click(app, "8");
        by_id(app, "pin.ok").invoke_accessible_default_action();
        assert_eq!(screen(app), Screen::Admin);
        problems.extend(check(app, &format!("admin-{lang}")));
        by_id(app, "admin.back").invoke_accessible_default_action();

        problems.extend(lookup_screens(app, &world, code, lang));
    }
    // 繁體中文: the scan screen, two results and the admin screen.
    if screen(app) == Screen::Result {
        click(app, next_person(app));
    }
    app.global::<Api>().invoke_choose_language("zh_TW".into());
    problems.extend(check(app, "scan-zh-hant"));
    for (sample, shot) in [
        ("revoked-after-annotation", "result-revoked-zh-hant"),
        ("annotation-starts-in-3-days", "result-not-yet-valid-zh-hant"),
    ] {
        show_result(app, &world, sample, "zh_TW");
        problems.extend(check(app, shot));
    }
    drop(kiosk);
    // The scan screen with data 3 and 40 days old: the banner, amber then red; and a valid
    // certificate's result on them: valid with a caution, then status that cannot be told,
    // each amber with its own icon (issue 21).
    for (days, shot) in [(3, "aging-zh"), (40, "stale-zh")] {
        let at = now()
            .checked_add(jiff::SignedDuration::from_hours(24 * days))
            .expect("time");
        let kiosk = world.kiosk_at(no_camera(), at);
        let app = kiosk.app();
        app.global::<Api>().invoke_choose_language("zh_CN".into());
        problems.extend(check(app, &format!("scan-{shot}")));
        show_result(app, &world, "valid-ministry-annotated", "zh_CN");
        problems.extend(check(app, &format!("result-{shot}")));
    }
    // An exam gate (kiosk.mode = "gate"): the colour full-screen with the name, and the same
    // certificate a second time that day.
    let mut gate = world.config.clone();
    gate.kiosk.gate = true;
    let kiosk = Kiosk::start(Parts {
        config: gate,
        camera: no_camera(),
        clock: Clock::Fixed(now()),
        reader_program: PathBuf::from(env!("CARGO_BIN_EXE_certkiosk")),
    })
    .expect("kiosk");
    let app = kiosk.app();
    show_result(app, &world, "valid-ministry-annotated", "zh_CN");
    problems.extend(check_at(app, "result-gate-valid-zh", RESULT_SIZES));
    // Later than a trigger pulled twice (1.5 s), the same certificate again.
    pump_until(app, Duration::from_millis(1600), |_| false);
    show_result(app, &world, "valid-ministry-annotated", "zh_CN");
    problems.extend(check_at(app, "result-gate-again-zh", RESULT_SIZES));
    show_result(app, &world, "revoked-after-annotation", "zh_CN");
    problems.extend(check_at(app, "result-gate-revoked-zh", RESULT_SIZES));
    drop(kiosk);
    assert!(problems.is_empty(), "screens changed:\n{}", problems.join("\n"));
}
