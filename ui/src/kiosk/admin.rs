//! The admin screen behind its PIN (checked against its hash, wrong ones counted by the
//! [`crate::pin_guard`]), and what it shows: the status data, the syncs, the store,
//! the clock; also the status line of the scan screen.

use super::{STATE, State};
use crate::generated::{AdminView, Api, App, RecentOutcome, Screen, SoundState};
use crate::present;
use certkiosk_store::Store;
use certkiosk_verify::verdict::Colour;
use certkiosk_verify::{Freshness, VerdictCode};
use slint::ComponentHandle;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

pub(super) fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    let s = state.clone();
    api.on_open_admin(move || {
        let Some(app) = s.app.upgrade() else { return };
        if s.settings.admin_pin_hash.is_some() {
            s.pin.borrow_mut().clear();
            let api = app.global::<Api>();
            api.set_pin_length(0);
            api.set_pin_wrong(false);
            s.go(&app, Screen::Pin);
            s.show_lockout(&app);
        }
    });
    let s = state.clone();
    api.on_pin_key(move |digit| {
        let Some(app) = s.app.upgrade() else { return };
        // During a lockout nothing is typed: the keys are off on screen, and off here too.
        if s.show_lockout(&app) {
            return;
        }
        let mut pin = s.pin.borrow_mut();
        if pin.len() < *certkiosk_appliance::pin::DIGITS.end() {
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
        s.touch(&app);
        let Some(hash) = &s.settings.admin_pin_hash else { return };
        // During a lockout no PIN is checked, not even the right one.
        if typed.is_empty() || s.show_lockout(&app) {
            return;
        }
        let right = hash.matches(&typed);
        if let Some(guard) = s.pin_guard.borrow_mut().as_mut() {
            if right {
                guard.right();
            } else {
                guard.wrong(s.clock.timestamp());
            }
        }
        api.set_pin_wrong(!right);
        if right {
            s.refresh_admin(&app);
            s.go(&app, Screen::Admin);
        } else {
            s.show_lockout(&app);
        }
    });
    let s = state.clone();
    api.on_leave_admin(move || {
        if let Some(app) = s.app.upgrade() {
            s.pin.borrow_mut().clear();
            s.go(&app, Screen::Scan);
            // A verdict that came while staff were here.
            s.show_waiting(&app);
        }
    });
}

impl State {
    /// Shows how much of a PIN lockout is left (0: none) and counts it down while the PIN
    /// screen is shown; whether the pad is locked.
    fn show_lockout(&self, app: &App) -> bool {
        let left = self
            .pin_guard
            .borrow_mut()
            .as_mut()
            .and_then(|g| g.locked(self.clock.timestamp()));
        let seconds = left.map_or(0, |d| d.as_secs() + i64::from(d.subsec_nanos() > 0));
        app.global::<Api>()
            .set_pin_locked_seconds(i32::try_from(seconds).unwrap_or(i32::MAX));
        if seconds == 0 {
            self.lock_timer.stop();
        } else if !self.lock_timer.running() {
            let weak = self.app.clone();
            self.lock_timer
                .start(slint::TimerMode::Repeated, Duration::from_secs(1), move || {
                    let (Some(app), Some(state)) = (weak.upgrade(), STATE.with(|s| s.borrow().clone())) else {
                        return;
                    };
                    if app.global::<Api>().get_screen() == Screen::Pin {
                        state.show_lockout(&app);
                    } else {
                        state.lock_timer.stop();
                    }
                });
        }
        seconds > 0
    }

    /// The age of the status data, for the line on the scan screen.
    pub(super) fn refresh_data(&self, app: &App) {
        // A new day forgets yesterday's certificates now, not at the next scan.
        self.tally.borrow_mut().counts(self.clock.timestamp());
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
                api.set_data_age_hours((age.as_secs() / 3600).clamp(0, i64::from(i32::MAX)) as i32);
            }
            None => {
                api.set_data_freshness(present::freshness(Freshness::Missing));
                api.set_data_age_hours(-1);
            }
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
                        Some(src) => format!("{} ({})", present::moment(t), present::shown(&short_source(src))),
                        None => present::moment(t),
                    })
                    .into();
                // A stick's name or a server's words: hidden characters shown by their code.
                view.last_error = present::shown(s.sync.last_error.as_deref().unwrap_or_default());
                view.clock_suspect = s.clock_suspect;
                view.clock_floor = s.clock_floor.map(present::moment).unwrap_or_default().into();
                view.store_counts = store_counts(&s, self.lang.get()).into();
            }
            Err(e) => {
                view.freshness = present::freshness(Freshness::Missing);
                view.last_error = present::shown(&e.to_string());
                view.store_counts = "—".into();
            }
        }
        view.store_size = store_size(&self.config.store_path()).into();
        view.version = concat!("certkiosk ", env!("CARGO_PKG_VERSION")).into();
        match self.sound.state() {
            crate::sound::State::Off => view.sound = SoundState::Off,
            crate::sound::State::Working => view.sound = SoundState::Working,
            crate::sound::State::Failed(why) => {
                view.sound = SoundState::Failed;
                view.sound_error = present::shown(&why);
            }
        }
        let mut tally = self.tally.borrow_mut();
        let today = tally.counts(now);
        view.checked_today = clamp(today.checked);
        view.valid_today = clamp(today.valid);
        view.refused_today = clamp(today.refused);
        let recent: Vec<_> = tally
            .recent()
            .map(|o| RecentOutcome {
                time: present::moment(o.at).into(),
                verdict: present::verdict_code(o.verdict),
                warned: o.verdict == VerdictCode::Valid && o.colour != Colour::Green,
            })
            .collect();
        view.recent = slint::VecModel::from_slice(&recent);
        app.global::<Api>().set_admin(view);
    }
}

fn clamp(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// What the store holds, in a line: certificates in the lookup index, revocations,
/// cancelled annotations, seals ("—" without a store).
fn store_counts(s: &certkiosk_appliance::status::Status, lang: certkiosk_verify::Lang) -> String {
    let Some(c) = &s.counts else {
        return "—".to_owned();
    };
    let lookup = s.lookup.as_ref().map_or(0, |l| l.certificates);
    let w = |zh: &'static str, en: &'static str| certkiosk_verify::i18n::words(lang, zh, en);
    format!(
        "{lookup} {} · {} {} · {} {} · {} {}",
        w("张证书可查询", "certificates to look up"),
        c.revocations,
        w("条撤销", "revocations"),
        c.cancellations,
        w("条加注作废", "cancelled annotations"),
        c.seals,
        w("枚印章", "seals")
    )
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
}
