//! The real camera: V4L2 through nokhwa.
//!
//! The format is chosen by our own [`choose_format`] (nokhwa's "closest" and "highest frame
//! rate" requests fail or pick tiny sizes on common UVC cameras). On loss the `Camera` is
//! dropped before anything is reopened: nokhwa caches open devices by index, and a stale entry
//! would keep the unplugged one.

use super::{Camera, CameraError, PixelFormat, RawFrame};
use nokhwa::utils::{ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};

/// The preview the software renderer paints and the decoder reads; bigger only costs time.
const WANT_WIDTH: u32 = 640;
const WANT_HEIGHT: u32 = 480;
const MIN_FPS: u32 = 20;

/// The format to stream: at least 20 fps, as close to 640×480 as offered (never smaller than
/// 320×240 when something bigger exists), YUYV before MJPEG at the same size.
pub fn choose_format(offered: &[CameraFormat]) -> Option<CameraFormat> {
    let usable =
        |f: &&CameraFormat| matches!(f.format(), FrameFormat::YUYV | FrameFormat::MJPEG) && f.frame_rate() >= MIN_FPS;
    let distance = |f: &CameraFormat| {
        let area = i64::from(f.width()) * i64::from(f.height());
        let want = i64::from(WANT_WIDTH * WANT_HEIGHT);
        let too_small = i64::from(f.width() < 320 || f.height() < 240);
        (too_small, (area - want).abs())
    };
    offered
        .iter()
        .filter(usable)
        .min_by_key(|f| {
            let (too_small, d) = distance(f);
            (
                too_small,
                d,
                i64::from(f.format() != FrameFormat::YUYV),
                -i64::from(f.frame_rate()),
            )
        })
        .copied()
}

/// A V4L2 camera: a fixed `/dev/videoN`, or the first one that delivers frames.
pub struct V4lCamera {
    index: Option<u32>,
    open: Option<(nokhwa::Camera, String)>,
}

impl std::fmt::Debug for V4lCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V4lCamera")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl V4lCamera {
    pub fn new(index: Option<u32>) -> V4lCamera {
        V4lCamera { index, open: None }
    }

    fn try_open(index: u32) -> Result<(nokhwa::Camera, String), CameraError> {
        let device = format!("/dev/video{index}");
        let err = |e: nokhwa::NokhwaError| CameraError::Device {
            device: device.clone(),
            problem: e.to_string(),
        };
        let wanted = [FrameFormat::YUYV, FrameFormat::MJPEG];
        let mut camera = nokhwa::Camera::new(
            CameraIndex::Index(index),
            RequestedFormat::with_formats(RequestedFormatType::None, &wanted),
        )
        .map_err(err)?;
        let offered = camera.compatible_camera_formats().map_err(err)?;
        let format = choose_format(&offered).ok_or_else(|| CameraError::Device {
            device: device.clone(),
            problem: "offers no YUYV or MJPEG format at 20 fps or more".into(),
        })?;
        camera
            .set_camera_requset(RequestedFormat::with_formats(
                RequestedFormatType::Exact(format),
                &wanted,
            ))
            .map_err(err)?;
        camera.open_stream().map_err(err)?;
        tracing::info!(%device, %format, "camera open");
        Ok((camera, device))
    }
}

impl Camera for V4lCamera {
    fn open(&mut self) -> Result<(), CameraError> {
        self.close();
        let candidates: Vec<u32> = match self.index {
            Some(i) => vec![i],
            None => nokhwa::query(ApiBackend::Video4Linux)
                .unwrap_or_default()
                .iter()
                .filter_map(|info| info.index().as_index().ok())
                .collect(),
        };
        let mut last = CameraError::Absent;
        for index in candidates {
            match V4lCamera::try_open(index) {
                Ok(open) => {
                    self.open = Some(open);
                    return Ok(());
                }
                // UVC cameras also list a metadata node, which has no capture formats.
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn frame(&mut self) -> Result<RawFrame, CameraError> {
        let (camera, device) = self.open.as_mut().ok_or(CameraError::Absent)?;
        let buffer = camera.frame().map_err(|e| CameraError::Device {
            device: device.clone(),
            problem: e.to_string(),
        })?;
        let format = match buffer.source_frame_format() {
            FrameFormat::YUYV => PixelFormat::Yuyv,
            FrameFormat::MJPEG => PixelFormat::Mjpeg,
            other => {
                return Err(CameraError::Device {
                    device: device.clone(),
                    problem: format!("delivered {other} frames"),
                });
            }
        };
        let resolution = buffer.resolution();
        Ok(RawFrame {
            width: resolution.width(),
            height: resolution.height(),
            format,
            bytes: buffer.buffer().to_vec(),
        })
    }

    fn close(&mut self) {
        if let Some((mut camera, _)) = self.open.take() {
            let _ = camera.stop_stream();
        }
    }
}
