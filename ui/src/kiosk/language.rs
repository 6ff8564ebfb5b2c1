//! The language: 简体中文 by default, English and 繁體中文 a touch away, switched live.

use super::State;
use crate::generated::{Api, App};
use certkiosk_verify::Lang;
use slint::ComponentHandle;
use std::rc::Rc;

pub(super) fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    let s = state.clone();
    api.on_choose_language(move |language| {
        let Some(app) = s.app.upgrade() else { return };
        let lang = match language.as_str() {
            "en" => Lang::En,
            "zh_TW" => Lang::ZhHant,
            _ => Lang::Zh,
        };
        s.set_language(&app, lang);
        s.touch(&app);
    });
}

impl State {
    pub(super) fn set_language(&self, app: &App, lang: Lang) {
        let code = match lang {
            Lang::Zh => "zh_CN",
            Lang::En => "en",
            Lang::ZhHant => "zh_TW",
        };
        if let Err(e) = slint::select_bundled_translation(code) {
            tracing::warn!(error = %e, code, "cannot switch language");
        }
        self.lang.set(lang);
        let api = app.global::<Api>();
        api.set_language(code.into());
        if let Some(shown) = &*self.shown.borrow() {
            api.set_result(shown.view(lang));
        }
    }
}
