//! `certkiosk --config FILE | --demo`: the kiosk UI (docs/design.md §5, §8).

use certkiosk::camera::Maker;
use certkiosk::camera::v4l::V4lCamera;
use certkiosk::kiosk::{Kiosk, Parts};
use certkiosk::verifier::Clock;
use certkiosk_appliance::config::Config;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "certkiosk", version, about = "The certificate verification kiosk")]
struct Args {
    /// certd's configuration file (its [kiosk] section is the kiosk's).
    #[arg(long, value_name = "FILE", required_unless_present = "demo", conflicts_with = "demo")]
    config: Option<PathBuf>,
    /// A generated demo world and a simulated camera playing its samples.
    #[arg(long)]
    demo: bool,
}

const USAGE: u8 = 2;

fn main() -> ExitCode {
    // The contained file reader is this program run again; it must answer before anything else.
    acquire::child::serve(certkiosk_appliance::check::is_credential);
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "certkiosk=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

fn run(args: Args) -> Result<(), u8> {
    // One line, whatever the cause: Slint's backend errors span many.
    let fail = |e: &dyn std::fmt::Display| {
        let text = e.to_string();
        let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        eprintln!("certkiosk: {}", lines.join("; "));
        USAGE
    };
    no_display_yet().map_err(|e| fail(&e))?;
    let reader_program = std::env::current_exe().map_err(|e| fail(&format!("cannot find itself: {e}")))?;
    // Kept until the kiosk ends: the demo world lives in it.
    let mut _demo_dir = None;
    let (config, camera, clock): (Config, Maker, Clock) = if args.demo {
        let (config, camera, clock, dir) = demo().map_err(|e| fail(&e))?;
        _demo_dir = Some(dir);
        (config, camera, clock)
    } else {
        let file = args.config.unwrap_or_default();
        let config = Config::load(&file).map_err(|e| fail(&e))?;
        let index = config.kiosk.camera;
        let camera: Maker = Box::new(move || Box::new(V4lCamera::new(index)));
        (config, camera, Clock::System)
    };
    let kiosk = Kiosk::start(Parts {
        config,
        camera,
        clock,
        reader_program,
    })
    .map_err(|e| fail(&format!("no display: {e}")))?;
    kiosk.run().map_err(|e| fail(&format!("no display: {e}")))
}

/// `certkiosk --demo`: a demo world in a temporary directory (kept while the kiosk runs) and a
/// camera that plays its samples.
#[cfg(feature = "demo")]
fn demo() -> Result<(Config, Maker, Clock, tempfile::TempDir), String> {
    let dir = tempfile::Builder::new()
        .prefix("certkiosk-demo-")
        .tempdir()
        .map_err(|e| format!("cannot make a directory for the demo world: {e}"))?;
    let world =
        certkiosk::demo::build(dir.path(), certkiosk_sync::clock::Clock::System).map_err(|e| format!("{e:#}"))?;
    let camera = world.camera().map_err(|e| e.to_string())?;
    eprintln!(
        "certkiosk: demo world in {}; the camera plays {} samples; admin PIN {}",
        dir.path().display(),
        world.samples.len(),
        certkiosk::demo::DEMO_PIN
    );
    let maker = Box::new(move || Box::new(camera) as Box<dyn certkiosk::camera::Camera>) as Maker;
    Ok((world.config, maker, world.clock, dir))
}

/// The appliance's build (the Debian package) has no demo world: no authority, no sync.
#[cfg(not(feature = "demo"))]
fn demo() -> Result<(Config, Maker, Clock, ()), String> {
    Err("this certkiosk was built without its demo world (cargo feature `demo`)".into())
}

/// Says early, before anything is built, that there is no screen to show the kiosk on.
fn no_display_yet() -> Result<(), String> {
    let x11 = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty());
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    let kms = std::path::Path::new("/dev/dri/card0").exists();
    if x11 || wayland || kms {
        Ok(())
    } else {
        Err("no display: neither DISPLAY nor WAYLAND_DISPLAY is set and there is no /dev/dri/card0".into())
    }
}
