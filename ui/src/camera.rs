//! The camera: a worker thread that owns the device, turns each frame into a preview for the
//! screen and a grayscale picture for the QR decoder, and reopens the device when it goes.
//!
//! Every source — the V4L2 camera through nokhwa ([`v4l`]), the demo's player of sample
//! pictures and the tests' recorded frames ([`replay`]) — delivers [`RawFrame`]s in a camera's
//! own pixel formats, and they all take the same path from there: [`RawFrame::convert`], the
//! preview hand-off and the decoder's mailbox.

pub mod replay;
pub mod v4l;

use acquire::Gray;
use slint::{Rgb8Pixel, SharedPixelBuffer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Pixel formats a UVC camera delivers (the ones we ask for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// YUV 4:2:2, Y0 U Y1 V: luma is every even byte.
    Yuyv,
    /// A JPEG per frame.
    Mjpeg,
}

/// One frame as the device gave it.
#[derive(Debug, Clone)]
pub struct RawFrame {
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
    pub bytes: Vec<u8>,
}

/// A frame ready for its two uses.
#[derive(Debug)]
pub struct Frame {
    pub preview: SharedPixelBuffer<Rgb8Pixel>,
    pub gray: Gray,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    #[error("no camera found")]
    Absent,
    #[error("camera {device}: {problem}")]
    Device { device: String, problem: String },
    #[error("frame {width}×{height} {format:?}: {problem}")]
    BadFrame {
        width: u32,
        height: u32,
        format: PixelFormat,
        problem: String,
    },
}

impl RawFrame {
    /// The preview (RGB) and the decoder's picture (luma). For YUYV the luma is taken as it is,
    /// not recomputed from RGB.
    pub fn convert(&self) -> Result<Frame, CameraError> {
        let bad = |problem: &str| CameraError::BadFrame {
            width: self.width,
            height: self.height,
            format: self.format,
            problem: problem.to_owned(),
        };
        let (w, h) = (self.width as usize, self.height as usize);
        if w == 0 || h == 0 || w > 8192 || h > 8192 {
            return Err(bad("implausible size"));
        }
        match self.format {
            PixelFormat::Yuyv => {
                if w % 2 != 0 || self.bytes.len() < w * h * 2 {
                    return Err(bad("short YUYV buffer"));
                }
                let mut rgb = vec![0u8; w * h * 3];
                let mut luma = vec![0u8; w * h];
                for (i, quad) in self.bytes[..w * h * 2].chunks_exact(4).enumerate() {
                    let [y0, u, y1, v] = [quad[0], quad[1], quad[2], quad[3]];
                    luma[2 * i] = y0;
                    luma[2 * i + 1] = y1;
                    rgb[6 * i..6 * i + 3].copy_from_slice(&yuv_to_rgb(y0, u, v));
                    rgb[6 * i + 3..6 * i + 6].copy_from_slice(&yuv_to_rgb(y1, u, v));
                }
                let gray = Gray::new(w, h, luma).ok_or_else(|| bad("size"))?;
                Ok(Frame {
                    preview: SharedPixelBuffer::clone_from_slice(&rgb, self.width, self.height),
                    gray,
                })
            }
            PixelFormat::Mjpeg => {
                let mut reader =
                    image::ImageReader::with_format(std::io::Cursor::new(&self.bytes), image::ImageFormat::Jpeg);
                // A camera frame is small; a lying JPEG header must not allocate more.
                let mut limits = image::Limits::default();
                limits.max_image_width = Some(8192);
                limits.max_image_height = Some(8192);
                limits.max_alloc = Some(256 << 20);
                reader.limits(limits);
                let picture = reader.decode().map_err(|e| bad(&e.to_string()))?;
                let rgb = picture.to_rgb8();
                let gray = picture.to_luma8();
                let (pw, ph) = rgb.dimensions();
                let gray = Gray::new(pw as usize, ph as usize, gray.into_raw()).ok_or_else(|| bad("size"))?;
                Ok(Frame {
                    preview: SharedPixelBuffer::clone_from_slice(rgb.as_raw(), pw, ph),
                    gray,
                })
            }
        }
    }
}

/// BT.601 limited range, integer arithmetic.
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = i32::from(y) - 16;
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    [
        clamp(298 * c + 409 * e),
        clamp(298 * c - 100 * d - 208 * e),
        clamp(298 * c + 516 * d),
    ]
}

/// The reverse, for sources that start from pictures (the demo, recorded test frames).
pub fn rgb_to_yuyv(rgb: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width * height * 2);
    for px in rgb.chunks_exact(6).take(width * height / 2) {
        let y = |r: u8, g: u8, b: u8| {
            (((66 * i32::from(r) + 129 * i32::from(g) + 25 * i32::from(b) + 128) >> 8) + 16).clamp(0, 255) as u8
        };
        let (r, g, b) = (px[0], px[1], px[2]);
        let u = (((-38 * i32::from(r) - 74 * i32::from(g) + 112 * i32::from(b) + 128) >> 8) + 128).clamp(0, 255) as u8;
        let v = (((112 * i32::from(r) - 94 * i32::from(g) - 18 * i32::from(b) + 128) >> 8) + 128).clamp(0, 255) as u8;
        out.extend_from_slice(&[y(r, g, b), u, y(px[3], px[4], px[5]), v]);
    }
    out
}

/// A source of frames the camera thread can open, read and close again. It lives on the camera
/// thread (nokhwa's devices cannot move between threads), which makes it from a [`Maker`].
pub trait Camera {
    /// Open the device (or the next one that appears).
    fn open(&mut self) -> Result<(), CameraError>;
    /// The next frame; blocks until it comes. An error means the device is gone.
    fn frame(&mut self) -> Result<RawFrame, CameraError>;
    /// Let go of the device, so that a replugged one can be opened afresh.
    fn close(&mut self);
    /// Whether the frames are simulated (the demo), which the screen says.
    fn simulated(&self) -> bool {
        false
    }
}

/// Makes the camera on the camera thread.
pub type Maker = Box<dyn FnOnce() -> Box<dyn Camera> + Send>;

/// What the camera thread reports to the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraEvent {
    Running {
        simulated: bool,
    },
    /// It was running and stopped delivering frames (unplugged).
    Lost,
    /// No device could be opened.
    Absent,
}

/// The latest frame's picture for the decoder: a one-slot mailbox, so the decoder always takes
/// the newest frame and never works through a backlog.
#[derive(Debug, Default)]
pub struct Mailbox {
    slot: Mutex<Option<Gray>>,
    ready: Condvar,
}

impl Mailbox {
    pub fn put(&self, gray: Gray) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(gray);
            self.ready.notify_one();
        }
    }

    /// The newest picture, waiting up to `wait` for one.
    pub fn take(&self, wait: Duration) -> Option<Gray> {
        let slot = self.slot.lock().ok()?;
        let (mut slot, _) = self.ready.wait_timeout_while(slot, wait, |s| s.is_none()).ok()?;
        slot.take()
    }
}

/// Where the camera thread sends things: the screen (preview, state) and the decoder.
pub trait FrameSink: Send + 'static {
    /// A preview for the screen. Called only when the screen has taken the previous one.
    fn preview(&self, frame: SharedPixelBuffer<Rgb8Pixel>, shown: Arc<AtomicBool>);
    fn event(&self, event: CameraEvent);
}

/// How often a missing camera is looked for again.
pub const REOPEN_EVERY: Duration = Duration::from_secs(1);

/// The camera thread's loop: open, read, hand over, and on loss close and try again, until
/// `stop` is set.
pub fn run(make: Maker, sink: &dyn FrameSink, mailbox: &Mailbox, stop: &AtomicBool) {
    let mut camera = make();
    let mut was_running = false;
    let mut reported: Option<CameraEvent> = None;
    let mut report = |event: CameraEvent| {
        if reported != Some(event) {
            reported = Some(event);
            sink.event(event);
        }
    };
    // True while the screen holds a preview it has not painted yet: frames are dropped
    // rather than queued behind it.
    let shown = Arc::new(AtomicBool::new(true));
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = camera.open() {
            tracing::debug!(error = %e, "camera not available");
            report(if was_running {
                CameraEvent::Lost
            } else {
                CameraEvent::Absent
            });
            std::thread::sleep(REOPEN_EVERY);
            continue;
        }
        report(CameraEvent::Running {
            simulated: camera.simulated(),
        });
        was_running = true;
        while !stop.load(Ordering::Relaxed) {
            let raw = match camera.frame() {
                Ok(raw) => raw,
                Err(e) => {
                    tracing::warn!(error = %e, "camera lost");
                    report(CameraEvent::Lost);
                    break;
                }
            };
            match raw.convert() {
                Ok(frame) => {
                    if shown.swap(false, Ordering::AcqRel) {
                        sink.preview(frame.preview, shown.clone());
                    }
                    mailbox.put(frame.gray);
                }
                Err(e) => tracing::debug!(error = %e, "frame dropped"),
            }
        }
        camera.close();
        // A camera that opens but gives no frame would otherwise be reopened at once, again
        // and again, flooding the screen with reports.
        if !stop.load(Ordering::Relaxed) {
            std::thread::sleep(REOPEN_EVERY);
        }
    }
}

#[cfg(test)]
mod tests;
