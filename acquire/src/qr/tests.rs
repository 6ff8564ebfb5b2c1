use super::*;
use qrcode::{Color, EcLevel, QrCode};

/// A credential-sized text (QR version 12 at ECC M, like the demo's annotated credentials).
const TEXT: &str = "CK1:NCF*90M10RDWT 9P60GO0JZ6:BWG 7-5E8CKNAD880NF6QF6946746646646646746FJ0DCT$UHB4NDP0PF6046*E5*E5*E5*E5*E5D46%:6UU09467468Y0A.0$1TY/KS+I0DT2LK8CIZ21 Y9J691OAY61CS9KC1XS9 N2MT2XZ2ZND5ISI-2ZBA323193:JDD58TTKLJHQJRSIH4/JP3I-9TC*ONVC$WOXI71PQ +CKKJH$5SGR";

/// `text` as a QR code of `px` pixels per module (fractional allowed), on a `w`×`h` page at
/// (`x`, `y`), light background `paper`, dark `ink`.
fn render(text: &str, px: f64, w: usize, h: usize, (x, y): (usize, usize), paper: u8, ink: u8) -> Gray {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).expect("fits");
    let n = code.width();
    let colors = code.to_colors();
    let mut pixels = vec![paper; w * h];
    let side = (n as f64 * px).ceil() as usize;
    for py in 0..side.min(h - y) {
        for qx in 0..side.min(w - x) {
            let (mx, my) = ((qx as f64 / px) as usize, (py as f64 / px) as usize);
            if mx < n && my < n && colors[my * n + mx] == Color::Dark {
                pixels[(y + py) * w + x + qx] = ink;
            }
        }
    }
    Gray::new(w, h, pixels).expect("size")
}

fn box_blur(g: &Gray, r: usize) -> Gray {
    let (w, h) = (g.width(), g.height());
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let (mut sum, mut n) = (0u32, 0u32);
            for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                    sum += g.at(xx, yy) as u32;
                    n += 1;
                }
            }
            out[y * w + x] = (sum / n) as u8;
        }
    }
    Gray::new(w, h, out).expect("size")
}

fn found(g: &Gray) -> Scan {
    scan(g, Duration::from_secs(30), &|t| t == TEXT)
}

#[test]
fn a_clean_code_is_read_on_the_first_try() {
    let g = render(TEXT, 4.0, 640, 480, (100, 80), 255, 0);
    let s = found(&g);
    assert!(s.accepted, "{s:?}");
    assert_eq!(s.texts, [TEXT]);
    assert_eq!(s.tries, 1);
}

#[test]
fn inverted_mirrored_and_rotated_codes_are_read() {
    let plain = render(TEXT, 4.0, 520, 400, (60, 40), 255, 0);
    let inverted = Gray::new(520, 400, plain.pixels().iter().map(|p| 255 - p).collect()).expect("size");
    for (what, g) in [
        ("inverted", inverted),
        ("mirrored", plain.mirrored()),
        ("rotated", plain.rotated_cw()),
    ] {
        let s = found(&g);
        assert!(s.accepted, "{what}: {s:?}");
    }
}

#[test]
fn small_blurred_low_contrast_codes_under_a_shadow_are_read() {
    // 3 px per module, blurred, ink at 40 % contrast, and a shadow darkening the left half.
    let g = render(TEXT, 3.0, 400, 300, (40, 40), 200, 120);
    let mut g = box_blur(&g, 1);
    let w = g.width();
    for (i, p) in g.pixels_mut().iter_mut().enumerate() {
        let x = i % w;
        let shade = 0.45 + 0.55 * (x as f64 / w as f64);
        *p = (*p as f64 * shade) as u8;
    }
    let s = found(&g);
    assert!(s.accepted, "{s:?}");
    assert!(s.tries > 1, "needed the pipeline, not rqrr alone: {s:?}");
}

#[test]
fn the_search_goes_on_past_texts_that_are_not_credentials() {
    let mut g = render("https://example.cn/verify", 5.0, 900, 400, (20, 40), 255, 0);
    let credential = render(TEXT, 4.0, 900, 400, (480, 40), 255, 0);
    for (p, c) in g.pixels_mut().iter_mut().zip(credential.pixels()) {
        *p = (*p).min(*c);
    }
    let s = found(&g);
    assert!(s.accepted);
    assert!(s.texts.iter().any(|t| t == TEXT), "{s:?}");
    // Every text wanted: the pipeline runs to the end and finds both.
    let every = scan(&g, Duration::from_secs(30), &|_| false);
    assert_eq!(every.texts.len(), 2, "{every:?}");
    assert!(!every.accepted && every.tries > 1, "{every:?}");
}

#[test]
fn nothing_is_found_in_noise_and_the_budget_holds() {
    let mut noise = vec![0u8; 640 * 480];
    fastrand::Rng::with_seed(0x2545_f491).fill(&mut noise);
    let g = Gray::new(640, 480, noise).expect("size");
    let s = found(&g);
    assert!(!s.accepted && s.texts.is_empty());
    let s = scan(&g, Duration::ZERO, &|_| true);
    assert_eq!(s.tries, 0);
    assert!(s.out_of_time);
    let tiny = Gray::white(10, 10);
    assert_eq!(scan(&tiny, Duration::from_secs(1), &|_| true).tries, 0);
}
