use super::replay::{Replay, Step, frame_from_rgb};
use super::v4l::choose_format;
use super::*;
use nokhwa::utils::{CameraFormat, FrameFormat};
use std::sync::Mutex;

#[test]
fn yuyv_frames_give_their_luma_unchanged_and_a_close_picture() {
    let (w, h) = (64usize, 48usize);
    // Pairs of pixels share their colour in 4:2:2; a picture whose pairs agree survives whole.
    let rgb: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = ((i % w) / 2, i / w);
            [(x * 8) as u8, (y * 5) as u8, 255 - (x * 3) as u8]
        })
        .collect();
    let raw = frame_from_rgb(&rgb, w as u32, h as u32);
    let frame = raw.convert().expect("converts");
    assert_eq!((frame.gray.width(), frame.gray.height()), (w, h));
    // Luma straight from the Y bytes.
    assert_eq!(frame.gray.pixels()[1], raw.bytes[2]);
    let back = frame.preview.as_bytes();
    let worst = back.iter().zip(&rgb).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
    assert!(worst <= 6, "worst channel error {worst}");
}

#[test]
fn mjpeg_frames_decode_and_bad_frames_are_errors() {
    let picture = image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([(x * 8) as u8, (y * 10) as u8, 99]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
        .encode_image(&picture)
        .expect("encode");
    let raw = RawFrame {
        width: 32,
        height: 24,
        format: PixelFormat::Mjpeg,
        bytes: jpeg,
    };
    let frame = raw.convert().expect("decodes");
    assert_eq!((frame.gray.width(), frame.gray.height()), (32, 24));
    for bad in [
        RawFrame {
            width: 32,
            height: 24,
            format: PixelFormat::Mjpeg,
            bytes: b"\xff\xd8 not a jpeg".to_vec(),
        },
        RawFrame {
            width: 32,
            height: 24,
            format: PixelFormat::Yuyv,
            bytes: vec![0; 10],
        },
        RawFrame {
            width: 0,
            height: 24,
            format: PixelFormat::Yuyv,
            bytes: Vec::new(),
        },
    ] {
        assert!(bad.convert().is_err(), "{:?}", bad.format);
    }
}

#[test]
fn the_format_is_near_640x480_at_20_fps_yuyv_first() {
    let f = |w, h, format, fps| CameraFormat::new_from(w, h, format, fps);
    let offered = [
        f(1920, 1080, FrameFormat::MJPEG, 30),
        f(640, 480, FrameFormat::MJPEG, 30),
        f(640, 480, FrameFormat::YUYV, 30),
        f(1280, 720, FrameFormat::YUYV, 10),
        f(160, 120, FrameFormat::YUYV, 30),
    ];
    assert_eq!(choose_format(&offered), Some(f(640, 480, FrameFormat::YUYV, 30)));
    // Nothing fast enough in YUYV at that size: MJPEG is.
    assert_eq!(choose_format(&offered[..2]), Some(f(640, 480, FrameFormat::MJPEG, 30)));
    // Tiny only if nothing else.
    assert_eq!(choose_format(&[offered[0], offered[4]]), Some(offered[0]));
    assert_eq!(choose_format(&[offered[3]]), None, "10 fps is too slow");
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<CameraEvent>>,
    previews: AtomicU32,
}

use std::sync::atomic::AtomicU32;

impl FrameSink for Arc<Recorder> {
    fn preview(&self, _frame: SharedPixelBuffer<Rgb8Pixel>, shown: Arc<AtomicBool>) {
        self.previews.fetch_add(1, Ordering::Relaxed);
        shown.store(true, Ordering::Release);
    }

    fn event(&self, event: CameraEvent) {
        self.events.lock().expect("lock").push(event);
    }
}

#[test]
fn an_unplugged_camera_is_reported_and_reopened() {
    let frame = frame_from_rgb(&vec![128; 64 * 48 * 3], 64, 48);
    let steps = vec![
        Step::Show(frame.clone(), Duration::from_millis(500)),
        Step::Unplug(REOPEN_EVERY + Duration::from_millis(200)),
        Step::Show(frame, Duration::from_secs(3)),
    ];
    let recorder = Arc::new(Recorder::default());
    let mailbox = Arc::new(Mailbox::default());
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (recorder, mailbox, stop) = (recorder.clone(), mailbox.clone(), stop.clone());
        std::thread::spawn(move || {
            let make: Maker = Box::new(move || Box::new(Replay::new(steps, 50, false, false)) as Box<dyn Camera>);
            run(make, &recorder, &mailbox, &stop);
        })
    };
    std::thread::sleep(REOPEN_EVERY * 3 + Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    thread.join().expect("camera thread");
    let events = recorder.events.lock().expect("lock").clone();
    let running = CameraEvent::Running { simulated: false };
    assert_eq!(&events[..3], &[running, CameraEvent::Lost, running], "{events:?}");
    assert!(
        recorder.previews.load(Ordering::Relaxed) >= 10,
        "frames reach the screen"
    );
    assert!(mailbox.take(Duration::ZERO).is_some(), "and the decoder");
}

#[test]
fn a_camera_that_opens_but_gives_no_frame_is_tried_again_once_a_second() {
    let recorder = Arc::new(Recorder::default());
    let mailbox = Arc::new(Mailbox::default());
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (recorder, mailbox, stop) = (recorder.clone(), mailbox.clone(), stop.clone());
        std::thread::spawn(move || {
            let make: Maker = Box::new(move || Box::new(Replay::new(Vec::new(), 50, false, false)) as Box<dyn Camera>);
            run(make, &recorder, &mailbox, &stop);
        })
    };
    std::thread::sleep(REOPEN_EVERY + REOPEN_EVERY / 2);
    stop.store(true, Ordering::Relaxed);
    thread.join().expect("camera thread");
    let events = recorder.events.lock().expect("lock").clone();
    assert!(events.len() <= 4, "{} reports in 1.5 s", events.len());
}
