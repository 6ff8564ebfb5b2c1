//! The kiosk's budgets (docs/design.md §6), measured on the software renderer that the appliance uses,
//! through Slint's testing backend (no display needed):
//!
//! * first frame: from `main` (plus the process's own start, read from /proc) to the scan
//!   screen rendered at 800×480, with the CJK font chain installed;
//! * scan → result on screen: from the first camera frame that shows a certificate (recorded
//!   frames through the real camera thread, decoder and verifier) to the result screen rendered;
//! * camera preview while decoding: new previews rendered per second on the scan screen while
//!   the decoder works on every frame (each render is of the whole window: the appliance
//!   repaints only the preview's region, so this is the pessimistic figure);
//! * memory: the peak RSS of this process after rendering every screen at 1920×1080.
//!
//! `cargo bench -p certkiosk --bench kiosk` (scripts/bench runs it); prints a table and writes
//! JSON to target/bench/kiosk.json.

#[path = "../tests/common/mod.rs"]
mod common;

use certkiosk::camera::replay::{Replay, Step, frame_from_rgb, frame_of_picture};
use certkiosk::camera::{Camera, Maker};
use certkiosk::generated::{Api, Screen};
use common::*;
use slint::ComponentHandle;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seconds since this process started, from /proc (clock ticks of 10 ms).
fn process_age() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let start_ticks: f64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(uptime - start_ticks / 100.0)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

const SAMPLES: [&str; 8] = [
    "valid-ministry-annotated",
    "valid-ninety-day-annotation",
    "revoked-after-annotation",
    "annotation-expired-month-ago",
    "annotation-starts-in-3-days",
    "annotation-required-ministry",
    "not-found-approved-2015",
    "forged-altered-name",
];

fn main() {
    let main_started = Instant::now();
    let exec_to_main = process_age().unwrap_or(0.0);
    init_platform();
    // The store an appliance already holds (not part of the start-up).
    let world = World::new();
    let blank = frame_from_rgb(&vec![190u8; 640 * 480 * 3], 640, 480);
    let mut steps = Vec::new();
    for sample in SAMPLES {
        steps.push(Step::Show(blank.clone(), Duration::from_millis(800)));
        let frame = frame_of_picture(&world.sample(sample, "png"), 640, 480).expect("sample picture");
        steps.push(Step::Show(frame, Duration::from_millis(2500)));
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let camera: Maker = {
        let log = log.clone();
        Box::new(move || Box::new(Replay::new(steps, 25, false, false).with_step_log(log)) as Box<dyn Camera>)
    };
    let world_ready = main_started.elapsed();

    // First frame.
    let t0 = Instant::now();
    let kiosk = world.kiosk(camera);
    let app = kiosk.app();
    let _ = snapshot(app, 800, 480);
    let first_frame = t0.elapsed().as_secs_f64() + exec_to_main;

    // Scan → result on screen, and previews while decoding.
    let mut latencies = Vec::new();
    let mut preview_rates = Vec::new();
    for (k, sample) in SAMPLES.iter().enumerate() {
        let got = pump_until(app, Duration::from_secs(10), |a| screen(a) == Screen::Result);
        let _ = snapshot(app, 800, 480);
        let shown = Instant::now();
        assert!(got, "{sample}: no result");
        let step_start = log.lock().expect("log").get(2 * k + 1).copied().expect("step logged");
        latencies.push(shown.duration_since(step_start).as_secs_f64() * 1000.0);
        app.global::<Api>().invoke_next_person();
        // The code is still held up: the decoder reads every frame, the screen shows previews.
        let until = step_start + Duration::from_millis(2300);
        let mut last = app.global::<Api>().get_frame();
        let (mut rendered, t) = (0u32, Instant::now());
        while Instant::now() < until {
            pump_until(app, Duration::from_millis(100), move |a| {
                a.global::<Api>().get_frame() != last
            });
            let _ = snapshot(app, 800, 480);
            last = app.global::<Api>().get_frame();
            rendered += 1;
        }
        let secs = t.elapsed().as_secs_f64();
        if secs > 0.5 {
            preview_rates.push(f64::from(rendered) / secs);
        }
    }

    // Every screen at the largest size, in both languages, for the memory figure.
    for lang in ["en", "zh_CN"] {
        for sample in SAMPLES {
            // "Next person" returns to Chinese: choose the language for each.
            app.global::<Api>().invoke_choose_language(lang.into());
            scanner_types(app, &world.text(sample));
            pump_until(app, Duration::from_secs(5), |a| screen(a) == Screen::Result);
            let _ = snapshot(app, 1920, 1080);
            app.global::<Api>().invoke_next_person();
        }
    }
    let rss = peak_rss_mib();

    latencies.sort_by(f64::total_cmp);
    preview_rates.sort_by(f64::total_cmp);
    let median = |v: &[f64]| percentile(v, 0.5);
    println!(
        "kiosk budgets (software renderer, testing backend), {} certificates",
        SAMPLES.len()
    );
    println!(
        "  first frame after start        {:7.0} ms   budget ≤ 1000 ms",
        first_frame * 1000.0
    );
    println!(
        "  scan → result on screen        {:7.0} ms median, {:.0} ms max   budget ≤ 300 ms",
        median(&latencies),
        latencies.last().copied().unwrap_or(0.0)
    );
    println!(
        "  previews rendered while decoding {:5.1} /s median, {:.1} /s worst   budget ≥ 20 /s (camera: 25 /s)",
        median(&preview_rates),
        preview_rates.first().copied().unwrap_or(0.0)
    );
    println!("  peak RSS, fonts loaded, 1920×1080 {:5.0} MiB   budget ≤ 150 MiB", rss);
    println!(
        "  (demo world made and synced beforehand in {} ms)",
        world_ready.as_millis()
    );
    let json = format!(
        "{{\"first_frame_ms\":{:.1},\"scan_to_result_ms\":{:?},\"previews_per_s\":{:?},\"peak_rss_mib\":{:.1}}}\n",
        first_frame * 1000.0,
        latencies,
        preview_rates,
        rss
    );
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(out.join("kiosk.json"), json);
}
