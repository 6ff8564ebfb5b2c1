//! Sound: a distinct chime for a valid result, a result with a caution, and a negative one, so
//! that a new result is noticed without looking (issue 21). Played through ALSA (alsa-lib, the
//! `alsa` crate) on a thread of its own; the tones are made here, no sound files. A missing or
//! failing device is said once, in one line, on the admin screen and in the log, and the kiosk
//! goes on verifying in silence; the device is tried again for the next chime.

use certkiosk_verify::Verdict;
use certkiosk_verify::verdict::Colour;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// Which sound a verdict gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chime {
    /// Plain valid: two rising notes.
    Valid,
    /// Amber or grey (a caution, not found, status unavailable, not yet valid, unreadable): two
    /// equal notes.
    Caution,
    /// Red (revoked, annotation expired, cancelled or missing, forged): one long low note.
    Negative,
}

impl Chime {
    pub fn of(v: &Verdict) -> Chime {
        match v.colour() {
            Colour::Green => Chime::Valid,
            Colour::Red => Chime::Negative,
            Colour::Amber | Colour::Grey => Chime::Caution,
        }
    }

    /// The notes: (frequency in Hz, length in ms); 0 Hz is a rest.
    fn notes(self) -> &'static [(f32, u32)] {
        match self {
            Chime::Valid => &[(880.0, 90), (1320.0, 150)],
            Chime::Caution => &[(660.0, 120), (0.0, 70), (660.0, 120)],
            Chime::Negative => &[(290.0, 450)],
        }
    }
}

/// `kiosk.sound`, `kiosk.volume` and `kiosk.sound_device`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub enabled: bool,
    /// 0–100.
    pub volume: u8,
    /// An ALSA device name: `default`, `plughw:1,0`; the tests' `null` plays into nothing.
    pub device: String,
}

/// How the sound stands, for the admin screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Off,
    /// Nothing played yet, or the last chime played.
    Working,
    /// The last chime could not be played: why, in one line.
    Failed(String),
}

/// The sound thread's handle; dropping it ends the thread.
#[derive(Debug)]
pub struct Sound {
    /// Room for one chime: while one plays (or the device blocks), the next waits; any more
    /// are dropped rather than played late in a burst that no longer matches the screen.
    chimes: Option<mpsc::SyncSender<Chime>>,
    shared: Arc<Mutex<Shared>>,
}

/// How many played chimes are remembered.
const PLAYED: usize = 64;

#[derive(Debug)]
struct Shared {
    state: State,
    /// Every chime played to its end, in order (what the flow tests check).
    played: Vec<Chime>,
}

const RATE: u32 = 22_050;

impl Sound {
    pub fn start(settings: &Settings) -> Sound {
        let shared = Arc::new(Mutex::new(Shared {
            state: if settings.enabled { State::Working } else { State::Off },
            played: Vec::new(),
        }));
        if !settings.enabled {
            return Sound { chimes: None, shared };
        }
        let (tx, rx) = mpsc::sync_channel::<Chime>(1);
        let (thread_shared, device, volume) = (shared.clone(), settings.device.clone(), settings.volume);
        let spawned = std::thread::Builder::new().name("sound".into()).spawn(move || {
            for chime in rx {
                let outcome = play(&device, &samples(chime, volume));
                let mut s = thread_shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match outcome {
                    Ok(()) => {
                        s.state = State::Working;
                        if s.played.len() == PLAYED {
                            s.played.remove(0);
                        }
                        s.played.push(chime);
                    }
                    Err(e) => {
                        // Said once per failure, not once per chime.
                        if s.state != State::Failed(e.clone()) {
                            tracing::warn!(device = %certkiosk_formats::escape::line(&device), error = %e,
                                "cannot play sound: results are shown without it");
                        }
                        s.state = State::Failed(e);
                    }
                }
            }
        });
        match spawned {
            Ok(_) => Sound {
                chimes: Some(tx),
                shared,
            },
            Err(e) => {
                shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner).state =
                    State::Failed(format!("cannot start the sound thread: {e}"));
                Sound { chimes: None, shared }
            }
        }
    }

    /// Plays `chime` (never waits for it).
    pub fn play(&self, chime: Chime) {
        let Some(tx) = &self.chimes else { return };
        if let Err(mpsc::TrySendError::Full(_)) = tx.try_send(chime) {
            let mut s = self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let busy = State::Failed("the sound device is busy: chimes are dropped".into());
            if s.state != busy {
                tracing::warn!("the sound device is busy: chimes are dropped");
            }
            s.state = busy;
        }
    }

    pub fn state(&self) -> State {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .state
            .clone()
    }

    /// The chimes played to their end so far.
    pub fn played(&self) -> Vec<Chime> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .played
            .clone()
    }
}

/// The chime as 16-bit mono samples at [`RATE`]: sine notes with a third harmonic for the low
/// one (a small speaker hardly plays 290 Hz alone), each faded in and out over 5 ms so that
/// nothing clicks.
fn samples(chime: Chime, volume: u8) -> Vec<i16> {
    let peak = f32::from(volume.min(100)) / 100.0 * 0.6 * f32::from(i16::MAX);
    let mut out = Vec::new();
    for &(hz, ms) in chime.notes() {
        let n = (RATE * ms / 1000) as usize;
        let fade = (RATE as usize * 5 / 1000).max(1);
        for i in 0..n {
            if hz == 0.0 {
                out.push(0);
                continue;
            }
            let t = i as f32 / RATE as f32;
            let phase = std::f32::consts::TAU * hz * t;
            let wave = if hz < 400.0 {
                0.8 * phase.sin() + 0.2 * (3.0 * phase).sin()
            } else {
                phase.sin()
            };
            let envelope = (i.min(n - 1 - i) as f32 / fade as f32).min(1.0);
            out.push((wave * envelope * peak) as i16);
        }
    }
    out
}

/// Plays `samples` on `device` to their end; why not, in one line.
fn play(device: &str, samples: &[i16]) -> Result<(), String> {
    use alsa::pcm::{Access, Format, HwParams, PCM};
    use alsa::{Direction, ValueOr};
    // alsa-lib's own complaints go to a buffer, not to the kiosk's stderr.
    let _quiet = alsa::Output::local_error_handler();
    let name = std::ffi::CString::new(device).map_err(|_| "the device name holds a NUL".to_owned())?;
    let pcm = PCM::open(&name, Direction::Playback, false).map_err(|e| format!("cannot open {device}: {e}"))?;
    let setup = || -> alsa::Result<()> {
        let hwp = HwParams::any(&pcm)?;
        hwp.set_channels(1)?;
        hwp.set_rate_near(RATE, ValueOr::Nearest)?;
        hwp.set_format(Format::s16())?;
        hwp.set_access(Access::RWInterleaved)?;
        pcm.hw_params(&hwp)
    };
    setup().map_err(|e| format!("{device} cannot play 16-bit mono: {e}"))?;
    let io = pcm.io_i16().map_err(|e| e.to_string())?;
    let mut at = 0;
    while at < samples.len() {
        match io.writei(&samples[at..]) {
            Ok(n) => at += n,
            // An underrun or a suspend: recover once and go on.
            Err(e) => pcm.try_recover(e, true).map_err(|e| format!("{device}: {e}"))?,
        }
    }
    pcm.drain().map_err(|e| format!("{device}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_of_verdict_has_its_own_chime() {
        use certkiosk_verify::{VerdictCode, Warning};
        let at = "2026-11-25T02:00:00Z".parse().expect("time");
        let with = |code, warnings: Vec<Warning>| {
            let mut v = certkiosk_verify::unreadable(String::new(), at);
            v.verdict = code;
            v.warnings = warnings;
            Chime::of(&v)
        };
        assert_eq!(with(VerdictCode::Valid, vec![]), Chime::Valid);
        assert_eq!(with(VerdictCode::Valid, vec![Warning::StatusStale]), Chime::Caution);
        assert_eq!(with(VerdictCode::NotFound, vec![]), Chime::Caution);
        assert_eq!(with(VerdictCode::Unreadable, vec![]), Chime::Caution);
        assert_eq!(with(VerdictCode::Revoked, vec![]), Chime::Negative);
        assert_eq!(with(VerdictCode::Forged, vec![]), Chime::Negative);
        let lengths: Vec<_> = [Chime::Valid, Chime::Caution, Chime::Negative]
            .map(|c| samples(c, 60).len())
            .into();
        assert!(lengths.iter().all(|&n| n > RATE as usize / 10), "{lengths:?}");
        assert!(samples(Chime::Valid, 0).iter().all(|&s| s == 0), "volume 0 is silent");
        let loud = samples(Chime::Negative, 100).iter().map(|s| s.unsigned_abs()).max();
        assert!(loud.is_some_and(|m| m > 10_000 && m < i16::MAX as u16), "{loud:?}");
    }

    /// `chime` played on `device`, waited for (at most 10 s) until `done` holds.
    fn played_on(device: &str, chime: Chime, done: impl Fn(&Sound) -> bool) -> Sound {
        let sound = Sound::start(&Settings {
            enabled: true,
            volume: 50,
            device: device.into(),
        });
        sound.play(chime);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !done(&sound) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        sound
    }

    #[test]
    fn a_device_that_is_not_there_is_said_in_one_line() {
        let sound = played_on("hw:99,0", Chime::Valid, |s| s.state() != State::Working);
        match sound.state() {
            State::Failed(why) => assert!(why.contains("hw:99,0") && !why.contains('\n'), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(sound.played().is_empty());
    }

    #[test]
    fn the_null_device_plays_through_alsa() {
        let sound = played_on("null", Chime::Negative, |s| !s.played().is_empty());
        assert_eq!(sound.played(), [Chime::Negative], "{:?}", sound.state());
        assert_eq!(sound.state(), State::Working);
    }
}
