//! Frames that do not come from a device: the demo's camera, which plays the demo world's
//! sample pictures, and the tests' recorded frames. They are YUYV like a webcam's, and go
//! through the same conversion, thread and mailbox as the real camera's.

use super::{Camera, CameraError, PixelFormat, RawFrame, rgb_to_yuyv};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a replay does at one step of its script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Show this frame for this long (at the replay's frame rate).
    Show(RawFrame, Duration),
    /// The device disappears for this long: `frame` fails, then `open` fails until it is back.
    Unplug(Duration),
}

/// A scripted camera, looping over its steps.
#[derive(Debug)]
pub struct Replay {
    steps: Vec<Step>,
    at: usize,
    step_started: Option<Instant>,
    frame_interval: Duration,
    last_frame: Option<Instant>,
    unplugged_until: Option<Instant>,
    simulated: bool,
    looping: bool,
    /// When each step began showing (its first frame), for the benchmark.
    step_log: Option<Arc<Mutex<Vec<Instant>>>>,
}

impl Replay {
    /// `fps` paces the frames as a camera would.
    pub fn new(steps: Vec<Step>, fps: u32, simulated: bool, looping: bool) -> Replay {
        Replay {
            steps,
            at: 0,
            step_started: None,
            frame_interval: Duration::from_secs(1) / fps.max(1),
            last_frame: None,
            unplugged_until: None,
            simulated,
            looping,
            step_log: None,
        }
    }

    /// Records when each step begins into `log`.
    pub fn with_step_log(mut self, log: Arc<Mutex<Vec<Instant>>>) -> Replay {
        self.step_log = Some(log);
        self
    }

    fn log_step(&self, at: Instant) {
        if let Some(log) = &self.step_log
            && let Ok(mut log) = log.lock()
        {
            log.push(at);
        }
    }

    /// The demo's camera: each picture centred on a 640×480 frame for `hold`, with an empty
    /// frame between them, so each is scanned afresh.
    pub fn demo(pictures: &[std::path::PathBuf], hold: Duration) -> Result<Replay, CameraError> {
        let blank = frame_from_rgb(&vec![200u8; 640 * 480 * 3], 640, 480);
        let mut steps = Vec::new();
        for p in pictures {
            steps.push(Step::Show(frame_of_picture(p, 640, 480)?, hold));
            steps.push(Step::Show(blank.clone(), Duration::from_secs(2)));
        }
        Ok(Replay::new(steps, 25, true, true))
    }

    fn advance(&mut self, now: Instant) {
        self.at += 1;
        self.step_started = Some(now);
        self.log_step(now);
        if self.at >= self.steps.len() && self.looping {
            self.at = 0;
        }
    }
}

/// A picture file placed in the middle of a `width`×`height` light-grey frame (scaled down to
/// fit, never up), as a camera would see a printout.
pub fn frame_of_picture(path: &Path, width: u32, height: u32) -> Result<RawFrame, CameraError> {
    let bad = |problem: String| CameraError::Device {
        device: path.display().to_string(),
        problem,
    };
    let picture = image::open(path).map_err(|e| bad(e.to_string()))?.to_rgb8();
    let picture = if picture.width() > width * 9 / 10 || picture.height() > height * 9 / 10 {
        // Scaled to fit 90 % of the frame, its proportions kept.
        let scale = f64::min(
            f64::from(width * 9 / 10) / f64::from(picture.width()),
            f64::from(height * 9 / 10) / f64::from(picture.height()),
        );
        let (w, h) = (
            ((f64::from(picture.width()) * scale) as u32).max(1),
            ((f64::from(picture.height()) * scale) as u32).max(1),
        );
        image::imageops::resize(&picture, w, h, image::imageops::FilterType::Triangle)
    } else {
        picture
    };
    let mut canvas = image::RgbImage::from_pixel(width, height, image::Rgb([200, 200, 200]));
    let x = i64::from((width - picture.width().min(width)) / 2);
    let y = i64::from((height - picture.height().min(height)) / 2);
    image::imageops::overlay(&mut canvas, &picture, x, y);
    Ok(frame_from_rgb(canvas.as_raw(), width, height))
}

pub fn frame_from_rgb(rgb: &[u8], width: u32, height: u32) -> RawFrame {
    RawFrame {
        width,
        height,
        format: PixelFormat::Yuyv,
        bytes: rgb_to_yuyv(rgb, width as usize, height as usize),
    }
}

impl Camera for Replay {
    fn open(&mut self) -> Result<(), CameraError> {
        match self.unplugged_until {
            Some(until) if Instant::now() < until => Err(CameraError::Absent),
            _ => {
                self.unplugged_until = None;
                Ok(())
            }
        }
    }

    fn frame(&mut self) -> Result<RawFrame, CameraError> {
        if self.unplugged_until.is_some() {
            return Err(CameraError::Absent);
        }
        // Pace like a camera: one frame per interval.
        if let Some(last) = self.last_frame {
            let next = last + self.frame_interval;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
        let now = Instant::now();
        self.last_frame = Some(now);
        loop {
            let started = match self.step_started {
                Some(t) => t,
                None => {
                    self.log_step(now);
                    *self.step_started.insert(now)
                }
            };
            let Some(step) = self.steps.get(self.at) else {
                // A script that has run out is a camera that stopped.
                return Err(CameraError::Absent);
            };
            match step {
                Step::Show(frame, hold) => {
                    if now.duration_since(started) < *hold {
                        return Ok(frame.clone());
                    }
                    self.advance(now);
                }
                Step::Unplug(gone) => {
                    let gone = *gone;
                    self.advance(now);
                    self.unplugged_until = Some(now + gone);
                    return Err(CameraError::Absent);
                }
            }
        }
    }

    fn close(&mut self) {
        self.last_frame = None;
    }

    fn simulated(&self) -> bool {
        self.simulated
    }
}
