//! The admin screen behind its PIN, and what it shows: the status data, the syncs, the store,
//! the clock; also the status line of the scan screen.

use super::State;
use crate::generated::{AdminView, Api, App, Screen};
use crate::present;
use certkiosk_store::Store;
use certkiosk_verify::Freshness;
use slint::ComponentHandle;
use std::path::Path;
use std::rc::Rc;

pub(super) fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    let s = state.clone();
    api.on_open_admin(move || {
        let Some(app) = s.app.upgrade() else { return };
        if s.settings.admin_pin.is_some() {
            s.pin.borrow_mut().clear();
            let api = app.global::<Api>();
            api.set_pin_length(0);
            api.set_pin_wrong(false);
            s.go(&app, Screen::Pin);
        }
    });
    let s = state.clone();
    api.on_pin_key(move |digit| {
        let Some(app) = s.app.upgrade() else { return };
        let mut pin = s.pin.borrow_mut();
        if pin.len() < 12 {
            pin.push_str(&digit);
        }
        app.global::<Api>().set_pin_length(pin.len() as i32);
        s.touch(&app);
    });
    let s = state.clone();
    api.on_pin_erase(move || {
        let Some(app) = s.app.upgrade() else { return };
        let mut pin = s.pin.borrow_mut();
        pin.pop();
        app.global::<Api>().set_pin_length(pin.len() as i32);
        s.touch(&app);
    });
    let s = state.clone();
    api.on_pin_submit(move || {
        let Some(app) = s.app.upgrade() else { return };
        let typed = std::mem::take(&mut *s.pin.borrow_mut());
        let api = app.global::<Api>();
        api.set_pin_length(0);
        let right = s
            .settings
            .admin_pin
            .as_deref()
            .is_some_and(|pin| same_secret(pin, &typed));
        api.set_pin_wrong(!right);
        if right {
            s.refresh_admin(&app);
            s.go(&app, Screen::Admin);
        } else {
            s.touch(&app);
        }
    });
    let s = state.clone();
    api.on_leave_admin(move || {
        if let Some(app) = s.app.upgrade() {
            s.pin.borrow_mut().clear();
            s.go(&app, Screen::Scan);
        }
    });
}

impl State {
    /// The age of the status data, for the line on the scan screen.
    pub(super) fn refresh_data(&self, app: &App) {
        let api = app.global::<Api>();
        let publication = Store::open(&self.config.store_path())
            .and_then(|store| store.reader()?.publication())
            .ok()
            .flatten();
        match publication {
            Some(p) => {
                let age = self.clock.timestamp().duration_since(p.as_of);
                api.set_data_freshness(present::freshness(self.config.policy.grade(age)));
                api.set_data_as_of(present::moment(p.as_of).into());
            }
            None => api.set_data_freshness(present::freshness(Freshness::Missing)),
        }
    }

    pub(super) fn refresh_admin(&self, app: &App) {
        let now = self.clock.timestamp();
        let mut view = AdminView {
            system_time: present::moment(now).into(),
            ..AdminView::default()
        };
        match certkiosk_appliance::status::status(&self.config, now) {
            Ok(s) => {
                if let Some(p) = &s.publication {
                    view.data_version = p.version.to_string().into();
                    view.as_of = present::moment(p.as_of).into();
                }
                view.freshness = present::freshness(s.freshness);
                let never = || "—".to_owned();
                view.last_sync = s.sync.last_attempt.map_or_else(never, present::moment).into();
                view.last_success = s
                    .sync
                    .last_success
                    .map_or_else(never, |t| match &s.sync.last_source {
                        Some(src) => format!("{} ({})", present::moment(t), short_source(src)),
                        None => present::moment(t),
                    })
                    .into();
                view.last_error = s.sync.last_error.clone().unwrap_or_default().into();
                view.clock_suspect = s.clock_suspect;
                view.clock_floor = s.clock_floor.map(present::moment).unwrap_or_default().into();
            }
            Err(e) => {
                view.freshness = present::freshness(Freshness::Missing);
                view.last_error = e.to_string().into();
            }
        }
        view.store_size = store_size(&self.config.store_path()).into();
        app.global::<Api>().set_admin(view);
    }
}

/// The store's size on disk, its write-ahead log included.
fn store_size(store: &Path) -> String {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = store.as_os_str().to_owned();
    wal.push("-wal");
    let bytes = size(store) + size(Path::new(&wal));
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// A mirror as the admin screen names it: a URL's host, a directory's last component.
fn short_source(source: &str) -> String {
    match url::Url::parse(source) {
        Ok(u) if u.host_str().is_some() => u.host_str().unwrap_or_default().to_owned(),
        _ => Path::new(source)
            .file_name()
            .map_or_else(|| source.to_owned(), |n| n.to_string_lossy().into_owned()),
    }
}

/// Compares a typed PIN with the configured one in time independent of where they differ.
fn same_secret(expected: &str, typed: &str) -> bool {
    let (a, b) = (expected.as_bytes(), typed.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_named_short() {
        assert_eq!(
            short_source("https://mirror.example.cn/certkiosk/"),
            "mirror.example.cn"
        );
        assert_eq!(short_source("/media/usb0/certkiosk-repo"), "certkiosk-repo");
    }

    #[test]
    fn the_pin_comparison_needs_every_digit() {
        assert!(same_secret("246810", "246810"));
        assert!(!same_secret("246810", "24681"));
        assert!(!same_secret("246810", "2468100"));
        assert!(!same_secret("246810", "246811"));
        assert!(!same_secret("246810", ""));
    }
}
