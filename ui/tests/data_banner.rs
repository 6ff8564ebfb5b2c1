//! Old or missing status data is seen before anything is scanned (issue 21, point 3): the scan
//! screen carries a banner with the data's own age — none while the data is fresh, amber once
//! it is older than `fresh_hours`, red once older than `max_status_age_days` or when there is
//! none. The kiosk's clock is fixed per start, so each start is "some days later". One test,
//! because the testing backend's event loop exists once per process.

mod common;

use certkiosk::generated::{Api, Freshness};
use common::*;
use slint::ComponentHandle;

#[test]
fn the_scan_screen_says_how_old_the_data_is() {
    init_platform();
    let world = World::new();
    let days = |d: i64| {
        now()
            .checked_add(jiff::SignedDuration::from_hours(24 * d))
            .expect("time")
    };
    let at = |when: jiff::Timestamp, freshness: Freshness, banner: Option<&str>| {
        let kiosk = world.kiosk_at(no_camera(), when);
        let app = kiosk.app();
        app.global::<Api>().invoke_choose_language("zh_CN".into());
        assert_eq!(app.global::<Api>().get_data_freshness(), freshness, "{when}");
        match banner {
            Some(text) => assert!(shows(app, text), "{when}: no banner {text:?}"),
            // What the banner would say at this age.
            None => assert!(
                !shows(app, "状态数据已 0 小时未更新，结果仅供参考。"),
                "{when}: a banner on fresh data"
            ),
        }
    };
    // The demo world's data is made at NOW; its config: fresh 48 h, at most 30 days.
    at(now(), Freshness::Fresh, None);
    at(days(3), Freshness::Aging, Some("状态数据已 3 天未更新，结果仅供参考。"));
    at(
        days(40),
        Freshness::Stale,
        Some("状态数据已 40 天未更新，结果仅供参考。"),
    );
    std::fs::remove_file(world.config.store_path()).expect("the store gone");
    at(now(), Freshness::Missing, Some("本机没有状态数据，结果仅供参考。"));
}
