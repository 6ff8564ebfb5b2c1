//! Someone guessing the admin PIN at the kiosk: three wrong PINs lock the pad for 30 s, during
//! which not even the right PIN is checked — typed on the keys (they are off) or sent straight
//! to the controller — and restarting the kiosk on the same state directory does not end the
//! lockout. Once it is over, each next wrong PIN locks for twice as long; the right PIN then
//! opens the admin screen and clears the count. The kiosk's clock is fixed per start, so each
//! restart is "some seconds later". One test, because the testing backend's event loop exists
//! once per process.

mod common;

use certkiosk::generated::{Api, Screen};
use certkiosk::kiosk::Kiosk;
use common::*;
use slint::ComponentHandle;

/// The kiosk on `world`, its clock `secs` seconds after [`NOW`].
fn kiosk_at(world: &World, secs: i64) -> Kiosk {
    let at = now().checked_add(jiff::SignedDuration::from_secs(secs)).expect("time");
    world.kiosk_at(no_camera(), at)
}

/// A person typing `pin` on the pad and pressing OK.
fn type_pin(app: &certkiosk::App, pin: &str) {
    for digit in pin.chars() {
        click(app, &digit.to_string());
    }
    by_id(app, "pin.ok").invoke_accessible_default_action();
}

/// The same, past the screen: straight to the controller, as if the keys were still on.
fn send_pin(app: &certkiosk::App, pin: &str) {
    let api = app.global::<Api>();
    for digit in pin.chars() {
        api.invoke_pin_key(digit.to_string().into());
    }
    api.invoke_pin_submit();
}

fn heading(app: &certkiosk::App) -> String {
    by_id(app, "pin.heading")
        .accessible_label()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn wrong_pins_lock_the_pad_even_across_a_restart() {
    init_platform();
    let world = World::new();
    let record = world.config.kiosk.state_dir.join("pin-attempts.json");

    let kiosk = kiosk_at(&world, 0);
    let app = kiosk.app();
    click(app, "管理");
    assert_eq!(screen(app), Screen::Pin);
    for wrong in ["1111", "2222"] {
        type_pin(app, wrong);
        assert_eq!(screen(app), Screen::Pin);
        assert_eq!(heading(app), "PIN 错误，请重试");
    }
    type_pin(app, "3333");
    assert_eq!(heading(app), "PIN 错误次数过多，请 30 秒后再试");
    assert_eq!(
        by_id(app, "pin.ok").accessible_enabled(),
        Some(false),
        "the keys are off"
    );
    type_pin(app, "2468");
    send_pin(app, "2468");
    assert_eq!(screen(app), Screen::Pin, "the right PIN is not checked while locked");
    assert_eq!(app.global::<Api>().get_pin_length(), 0, "nothing was typed");
    assert!(record.exists(), "the count is kept in {}", record.display());
    drop(kiosk);

    // Restarted 10 s later on the same state directory: still locked, 20 s to go.
    let kiosk = kiosk_at(&world, 10);
    let app = kiosk.app();
    click(app, "管理");
    assert_eq!(heading(app), "PIN 错误次数过多，请 20 秒后再试");
    send_pin(app, "2468");
    assert_eq!(screen(app), Screen::Pin, "the lockout outlives the restart");
    drop(kiosk);

    // After the 30 s: the pad is open; one more wrong PIN locks it for twice as long.
    let kiosk = kiosk_at(&world, 31);
    let app = kiosk.app();
    click(app, "管理");
    assert_eq!(heading(app), "请输入管理 PIN");
    type_pin(app, "4444");
    assert_eq!(heading(app), "PIN 错误次数过多，请 60 秒后再试");
    drop(kiosk);

    // After those 60 s, another wrong PIN: two minutes.
    let kiosk = kiosk_at(&world, 92);
    let app = kiosk.app();
    click(app, "管理");
    type_pin(app, "5555");
    assert_eq!(heading(app), "PIN 错误次数过多，请 2 分钟后再试");
    drop(kiosk);

    // After those, the right PIN opens the admin screen, and the count starts again.
    let kiosk = kiosk_at(&world, 92 + 120);
    let app = kiosk.app();
    click(app, "管理");
    type_pin(app, "2468");
    assert_eq!(screen(app), Screen::Admin);
    by_id(app, "admin.back").invoke_accessible_default_action();
    click(app, "管理");
    type_pin(app, "5555");
    assert_eq!(
        heading(app),
        "PIN 错误，请重试",
        "a wrong PIN after the right one is the first again"
    );
}
