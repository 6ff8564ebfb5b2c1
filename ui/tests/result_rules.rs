//! What a result on screen may and may not be (issue 21, points 2 and 4): a code that is no
//! certificate's is answered, by the camera as by the handheld scanner, and not answered again
//! while it stays in view; a red result holds for `hold_negative_secs` (mock time) while the
//! next person's waits; a tap holds any result; "Next person" lets the next one through; each
//! result has its own stamp and starts at the top. One test, because the testing backend's
//! event loop exists once per process.

mod common;

use certkiosk::camera::replay::{Step, frame_of_picture};
use certkiosk::generated::{Api, NotCredential, Screen, Source, Verdict};
use common::*;
use i_slint_backend_testing::mock_elapsed_time;
use slint::ComponentHandle;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);
const LINK: &str = "https://www.cpta.com.cn/zscx/";

fn verifications(world: &World) -> u64 {
    certkiosk_appliance::audit::verify_log(&world.audit_dir()).map_or(0, |c| c.records)
}

fn verdict(app: &certkiosk::App) -> Verdict {
    app.global::<Api>().get_result().verdict
}

fn number(app: &certkiosk::App) -> i32 {
    app.global::<Api>().get_result().number
}

fn waiting(app: &certkiosk::App) -> i32 {
    app.global::<Api>().get_results_waiting()
}

#[test]
fn a_result_is_never_replaced_unseen() {
    init_platform();
    let world = World::new();
    // A certificate page whose own code sits beside a link's code, for 2 s; then the link
    // (a poster's code, a sticker on the desk) stays in view for the rest of the test.
    let link_png = world.dir.path().join("link.png");
    std::fs::write(&link_png, certsync::demo::print::qr_png(LINK).expect("QR")).expect("write");
    let link = image::open(&link_png).expect("link").to_rgb8();
    let own = image::open(world.sample("valid-ministry-annotated", "png"))
        .expect("sample")
        .to_rgb8();
    let side = own.height().max(link.height());
    let mut page = image::RgbImage::from_pixel(own.width() + link.width() + 40, side + 40, image::Rgb([255, 255, 255]));
    image::imageops::overlay(&mut page, &own, 20, 20);
    image::imageops::overlay(&mut page, &link, i64::from(own.width()) + 20, 20);
    let page_png = world.dir.path().join("page.png");
    page.save(&page_png).expect("page");
    let camera = replay(vec![
        Step::Show(
            frame_of_picture(&page_png, 1280, 720).expect("frame"),
            Duration::from_secs(2),
        ),
        Step::Show(
            frame_of_picture(&link_png, 640, 480).expect("frame"),
            Duration::from_secs(3600),
        ),
    ]);
    let kiosk = world.kiosk(camera);
    let app = kiosk.app();
    let api = app.global::<Api>();

    // 1. The certificate is read by its own code; the link beside it, and left in view after
    //    it, does not replace the person's result.
    assert!(
        pump_until(app, WAIT, |a| screen(a) == Screen::Result),
        "no result from the certificate page"
    );
    assert_eq!((api.get_result().verdict, api.get_result().number), (Verdict::Valid, 1));
    // The link alone stays in view for seconds more (the camera thread runs in real time).
    pump_until(app, Duration::from_millis(6000), |a| {
        a.global::<Api>().get_results_waiting() > 0
    });
    assert_eq!(
        (number(app), waiting(app)),
        (1, 0),
        "the link replaced or queued behind the result"
    );

    // 2. On the scan screen, once no credential has been in view for a while, the camera
    //    answers the link: no certificate's code, and why.
    click(app, "下一位");
    assert!(
        pump_until(app, WAIT, |a| screen(a) == Screen::Result),
        "no answer to a link held up to the camera"
    );
    let shown = api.get_result();
    assert_eq!(shown.verdict, Verdict::Unreadable);
    assert_eq!(shown.not_credential, NotCredential::WebAddress);
    assert_eq!(shown.source, Source::Camera);
    assert!(shows(app, "这不是证书二维码。"));
    assert!(shows(app, "它是一个网址（链接），不是证书凭证。"));
    assert_eq!(shown.number, 2);
    assert_eq!(
        by_id(app, "result.stamp").accessible_label().as_deref(),
        Some("第 2 次 · 10:00:00")
    );

    // 3. Still in view after "Next person": not read again. The handheld scanner says the
    //    same of the same text.
    click(app, "下一位");
    pump_until(app, Duration::from_millis(1500), |_| false);
    assert_eq!(screen(app), Screen::Scan, "the link in view answered again");
    assert_eq!(verifications(&world), 2);
    assert!(scanner_types(app, LINK));
    assert!(pump_until(app, WAIT, |a| number(a) == 3));
    let shown = api.get_result();
    assert_eq!(
        (shown.verdict, shown.not_credential, shown.source),
        (Verdict::Unreadable, NotCredential::WebAddress, Source::Scanner)
    );
    assert!(shows(app, "这不是证书二维码。"));
    // Under its minimum second: the next one waits; after it, it shows.
    assert!(scanner_types(app, "CK1:TRUNCATED"));
    assert!(pump_until(app, WAIT, |a| waiting(a) == 1));
    assert_eq!(number(app), 3);
    mock_elapsed_time(Duration::from_millis(1000));
    assert_eq!(number(app), 4);
    assert_eq!(api.get_result().not_credential, NotCredential::Damaged);
    assert!(shows(app, "它像证书凭证，但内容已损坏或不完整：可能被截断或改动过。"));
    mock_elapsed_time(Duration::from_millis(1000));

    // 4. A red result holds for 3 s (hold_negative_secs by default) while the next waits;
    //    the clerk scrolled it, and the next starts at the top again.
    assert!(scanner_types(app, &world.text("revoked-after-annotation")));
    assert!(pump_until(app, WAIT, |a| verdict(a) == Verdict::Revoked));
    // The same certificate scanned again while its result is up: recorded, not queued.
    pump_until(app, Duration::from_millis(1600), |_| false);
    let (audit, before) = (world.audit_dir(), verifications(&world));
    assert!(scanner_types(app, &world.text("revoked-after-annotation")));
    assert!(
        pump_until(app, WAIT, move |_| {
            certkiosk_appliance::audit::verify_log(&audit).map_or(0, |c| c.records) > before
        }),
        "the second scan was not verified"
    );
    pump_until(app, Duration::from_millis(300), |_| false);
    assert_eq!(waiting(app), 0, "the same person's result queued behind itself");
    api.set_result_scroll(-300.0);
    assert!(scanner_types(app, &world.text("valid-ministry-annotated")));
    assert!(pump_until(app, WAIT, |a| waiting(a) == 1));
    assert!(shows(app, "还有 1 个结果等待显示"));
    mock_elapsed_time(Duration::from_millis(2900));
    assert_eq!(verdict(app), Verdict::Revoked, "replaced before its 3 s");
    mock_elapsed_time(Duration::from_millis(200));
    assert_eq!(verdict(app), Verdict::Valid);
    assert_eq!((number(app), waiting(app)), (6, 0));
    assert_eq!(api.get_result_scroll(), 0.0, "the new result starts at the top");

    // 5. A tap holds it: no countdown, the next waits however long; let go, the next shows.
    by_id(app, "result.hold").invoke_accessible_default_action();
    assert!(api.get_result_held());
    assert!(shows(app, "已保持：松开之前，新结果不会替换它。"));
    assert!(scanner_types(app, &world.text("annotation-expired-days-ago")));
    assert!(pump_until(app, WAIT, |a| waiting(a) == 1));
    for _ in 0..120 {
        mock_elapsed_time(Duration::from_secs(1));
    }
    assert_eq!((screen(app), verdict(app)), (Screen::Result, Verdict::Valid), "held");
    click(app, "松开");
    assert!(!api.get_result_held());
    assert_eq!(verdict(app), Verdict::AnnotationExpired);

    // 6. "Next person" dismisses a red result at once, and the waiting one shows.
    assert!(scanner_types(app, &world.text("valid-middle-dot-name")));
    assert!(pump_until(app, WAIT, |a| waiting(a) == 1));
    assert_eq!(verdict(app), Verdict::AnnotationExpired);
    click(app, "下一位");
    assert_eq!((screen(app), verdict(app)), (Screen::Result, Verdict::Valid));
    assert_eq!(number(app), 8);
    // A double tap: the second "Next person" does not dismiss the result it brought up.
    click(app, "下一位");
    assert_eq!((screen(app), number(app)), (Screen::Result, 8), "dismissed unseen");

    // Every verification was recorded, whether shown at once, after waiting, or not at all
    // (the repeat).
    assert_eq!(verifications(&world), 9);
}
