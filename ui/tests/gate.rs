//! The kiosk at an exam gate (issue 21, point 8): `kiosk.mode = "gate"` shows a result as its
//! colour with the name large and no details, clears it after 5 s, says when a certificate was
//! already checked today, and counts the day on the admin screen — with the last outcomes,
//! never a name. One test, because the testing backend's event loop exists once per process.

mod common;

use certkiosk::generated::{Api, Screen, Verdict};
use common::*;
use i_slint_backend_testing::mock_elapsed_time;
use slint::{ComponentHandle, Model};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn a_morning_at_the_exam_gate() {
    init_platform();
    let mut world = World::new();
    // What `mode = "gate"` sets (its parsing: the appliance's config tests).
    world.config.kiosk.gate = true;
    world.config.kiosk.result_timeout = Duration::from_secs(5);
    let kiosk = world.kiosk(no_camera());
    let app = kiosk.app();
    let api = app.global::<Api>();
    assert!(api.get_gate_mode());

    // 1. A candidate's certificate: the verdict and the name, no details.
    let valid = world.text("valid-ministry-annotated");
    assert!(scanner_types(app, &valid));
    assert!(pump_until(app, WAIT, |a| screen(a) == Screen::Result));
    assert_eq!(api.get_result().verdict, Verdict::Valid);
    assert!(shows(app, "王䶮"));
    assert!(!shows(app, "证件号码"), "no detail cards at the gate");
    assert_eq!(api.get_result().checked_before, "");

    // 2. Cleared after 5 s, not 30.
    for _ in 0..5 {
        mock_elapsed_time(Duration::from_secs(1));
    }
    assert_eq!(screen(app), Screen::Scan, "a gate's result clears after 5 s");

    // 3. The same certificate again (not a trigger pulled twice: later than 1.5 s): said, with
    //    the time it was first checked.
    pump_until(app, Duration::from_millis(1600), |_| false);
    assert!(scanner_types(app, &valid));
    assert!(pump_until(app, WAIT, |a| screen(a) == Screen::Result));
    assert!(shows(app, "⚠ 今天 10:00 已核验过"), "a certificate seen twice today");
    click(app, "下一位");

    // 4. A revoked one: refused.
    assert!(scanner_types(app, &world.text("revoked-after-annotation")));
    assert!(pump_until(app, WAIT, |a| screen(a) == Screen::Result));
    assert_eq!(api.get_result().verdict, Verdict::Revoked);
    click(app, "下一位");

    // 5. The admin screen counts the day and lists the outcomes, never a name (on a tall
    //    screen, where the list is in view).
    app.window().set_size(slint::PhysicalSize::new(1080, 1920));
    click(app, "管理");
    for digit in ["2", "4", "6", "8"] {
        click(app, digit);
    }
    by_id(app, "pin.ok").invoke_accessible_default_action();
    assert_eq!(screen(app), Screen::Admin);
    let admin = api.get_admin();
    assert_eq!((admin.checked_today, admin.valid_today, admin.refused_today), (3, 2, 1));
    let recent: Vec<_> = admin.recent.iter().map(|o| o.verdict).collect();
    assert_eq!(
        recent,
        [Verdict::Revoked, Verdict::Valid, Verdict::Valid],
        "newest first"
    );
    assert!(shows(app, "最近的核验") && shows(app, "已撤销"));
    assert!(
        !shows(app, "王䶮") && !shows(app, "陈颀"),
        "no name on the admin screen"
    );
}
