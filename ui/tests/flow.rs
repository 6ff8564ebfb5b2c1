//! The kiosk used as a person uses it, on a demo world: certificates held up to the camera
//! (recorded frames through the camera thread, the decoder and the verifier), the camera
//! unplugged and plugged back, a handheld scanner, a PDF picked from the folder, the result
//! cleared after its timeout, the admin screen behind its PIN, and the language switch.
//! One test, because the testing backend's event loop exists once per process.

mod common;

use certkiosk::camera::replay::{Step, frame_of_picture};
use certkiosk::generated::{Api, CameraState, Screen, Source};
use common::*;
use slint::{ComponentHandle, Model};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

fn verifications(world: &World) -> u64 {
    certkiosk_appliance::audit::verify_log(&world.audit_dir()).map_or(0, |c| c.records)
}

fn holder(app: &certkiosk::App) -> String {
    app.global::<Api>().get_result().holder.to_string()
}

#[test]
fn a_day_at_the_front_desk() {
    init_platform();
    let world = World::new();
    let frame = |sample: &str| frame_of_picture(&world.sample(sample, "png"), 640, 480).expect("sample picture");
    let camera = replay(vec![
        Step::Show(frame("valid-ministry-annotated"), Duration::from_secs(5)),
        Step::Unplug(Duration::from_secs(3)),
        Step::Show(frame("revoked-after-annotation"), Duration::from_secs(3600)),
    ]);
    let kiosk = world.kiosk(camera);
    let app = kiosk.app();
    assert_eq!(screen(app), Screen::Scan);
    assert!(shows(app, "请将二维码对准此处"), "Chinese first");

    // 1. A certificate held up to the camera: the verdict, in words, with the holder.
    assert!(
        pump_until(app, WAIT, |a| screen(a) == Screen::Result),
        "no result from the camera"
    );
    assert!(shows(app, "有效"), "the verdict's word");
    assert!(shows(app, "王䶮"), "the holder's name, rare character and all");
    assert!(shows(app, "摄像头"), "read from the camera");

    // 2. Held still for seconds, it is verified once (the audit log counts verifications).
    pump_until(app, Duration::from_millis(1500), |_| false);
    assert_eq!(verifications(&world), 1, "debounced");

    // 3. The camera is unplugged: said on the scan screen; plugged back in, it reads again.
    click(app, "下一位");
    assert!(
        pump_until(app, WAIT, |a| a.global::<Api>().get_camera() == CameraState::Lost),
        "unplugging is noticed"
    );
    assert!(shows(app, "摄像头已断开，请重新插好；仍可打开 PDF 或使用扫码枪。"));
    assert!(
        pump_until(app, WAIT, |a| screen(a) == Screen::Result),
        "no result after replugging"
    );
    assert_eq!(app.global::<Api>().get_camera(), CameraState::Running);
    assert!(
        shows(app, "已撤销") && shows(app, "弄虚作假取得: 考试作弊，资格无效"),
        "revoked, and why"
    );

    // 4. Nobody touches it: after the timeout (30 s) the result is gone, from the screen and
    //    from the window's data.
    for _ in 0..29 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
    assert_eq!(screen(app), Screen::Result);
    assert!(shows(app, "1 秒后清除"));
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    assert_eq!(screen(app), Screen::Scan);
    assert_eq!(holder(app), "", "the last holder is not kept");

    // 5. A handheld scanner types the text and Enter; nothing was touched first. The next
    //    person's scan replaces a red result once it has been up for 3 s; the holder may read
    //    it in English, and the next person gets Chinese again.
    let expired = world.text("annotation-expired-days-ago");
    assert!(scanner_types(app, &expired), "the scan screen takes the scanner's keys");
    assert!(pump_until(app, WAIT, |a| screen(a) == Screen::Result));
    assert!(shows(app, "加注已过期"));
    assert_eq!(
        app.global::<Api>().get_result().source,
        Source::Scanner,
        "read by the scanner"
    );
    let required = world.text("annotation-required-ministry");
    assert!(
        scanner_types(app, &required),
        "the result screen takes the scanner's keys too"
    );
    assert!(
        pump_until(app, WAIT, |a| a.global::<Api>().get_results_waiting() == 1),
        "the next scan waits"
    );
    assert!(shows(app, "加注已过期"), "a red result is not replaced at once");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(3));
    assert!(shows(app, "未加注"), "the next scan replaces the result after 3 s");
    by_id(app, "result.language").invoke_accessible_default_action();
    assert!(
        shows(app, "Not annotated"),
        "the verdict on screen, re-presented in English"
    );
    // The same button again: 繁體中文.
    by_id(app, "result.language").invoke_accessible_default_action();
    assert!(
        shows(app, "2021年12月17日起發放的電子證書須加注後才能使用，該證書未加注。"),
        "re-presented in Traditional characters"
    );
    click(app, "下一位");
    assert!(shows(app, "请将二维码对准此处"), "back to Chinese for the next person");

    // 6. A PDF on a USB stick (listed before the certificates folder).
    let stick = world.dir.path().join("media/kiosk/STICK");
    std::fs::create_dir_all(&stick).expect("stick");
    std::fs::copy(world.sample("forged-altered-name", "pdf"), stick.join("证书.pdf")).expect("copy");
    click(app, "打开 PDF");
    assert_eq!(screen(app), Screen::Picker);
    let first = app.global::<Api>().get_pdf_files().row_data(0).expect("a PDF listed");
    assert_eq!((first.name.as_str(), first.place.as_str()), ("证书.pdf", "kiosk/STICK"));
    click(app, "证书.pdf");
    assert!(
        pump_until(app, WAIT, |a| screen(a) == Screen::Result),
        "no result from the PDF"
    );
    assert!(shows(app, "伪造"));
    click(app, "下一位");

    // 7. The admin screen, behind the PIN.
    click(app, "管理");
    for digit in ["1", "1", "1", "1"] {
        click(app, digit);
    }
    by_id(app, "pin.ok").invoke_accessible_default_action();
    assert_eq!(screen(app), Screen::Pin);
    assert!(shows(app, "PIN 错误，请重试"));
    for digit in ["2", "4", "6", "8"] {
        click(app, digit);
    }
    assert_eq!(
        by_id(app, "pin.dots").accessible_value().as_deref(),
        Some("4"),
        "dots, not digits"
    );
    by_id(app, "pin.ok").invoke_accessible_default_action();
    assert_eq!(screen(app), Screen::Admin);
    let admin = app.global::<Api>().get_admin();
    assert_eq!(admin.data_version, "1", "the publication held");
    assert_eq!(admin.version, concat!("certkiosk ", env!("CARGO_PKG_VERSION")));
    assert!(
        admin.store_counts.contains("张证书可查询") && admin.store_counts.contains("条撤销"),
        "what the store holds: {}",
        admin.store_counts
    );
    assert!(admin.last_error.is_empty(), "{}", admin.last_error);
    assert!(shows(app, "正常"), "the camera works");

    // 8. English, one touch away; the words change at once.
    click(app, "English");
    assert!(shows(app, "Administration"));
    click(app, "Back");
    assert!(shows(app, "Hold the QR code here"));
    let valid = world.text("valid-middle-dot-name");
    assert!(scanner_types(app, &valid));
    assert!(pump_until(app, WAIT, |a| screen(a) == Screen::Result));
    assert!(shows(app, "Valid") && shows(app, "Check the holder's identity, then accept."));
    assert!(
        holder(app).contains('·'),
        "a minority name with its middle dot: {}",
        holder(app)
    );

    // Every verification was recorded, and the chain holds.
    assert_eq!(verifications(&world), 6);

    // Each result had its chime, by class: valid, the four red ones, valid.
    use certkiosk::sound::Chime::{Negative, Valid};
    let deadline = std::time::Instant::now() + WAIT;
    while kiosk.sounds_played().len() < 6 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        kiosk.sounds_played(),
        [Valid, Negative, Negative, Negative, Negative, Valid]
    );
}
