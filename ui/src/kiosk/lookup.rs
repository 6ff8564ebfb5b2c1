//! The manual lookup: the on-screen keyboard's keys, and the query to the verifier.
//!
//! The form is Rust's ([`LookupForm`] in `State::lookup`); each key changes it and the whole
//! form is shown again (`Api.lookup`), so the screen never holds what Rust does not. Leaving
//! the screen, by any way, empties both (`State::forget_lookup`, called from `State::go`).

use super::State;
use crate::generated::{Api, App, CodeProblem, KeyView, LookupTab, LookupView, Screen};
use crate::lookup_form::{LAST_GROUP, LookupForm, Tab, shown_syllable, with_tone};
use crate::verifier::Job;
use hanzi::CodeError;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use std::rc::Rc;

/// The letter keys, as pinyin is typed everywhere in China.
const QWERTY: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];

pub(super) fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    let s = state.clone();
    api.on_open_lookup(move || {
        let Some(app) = s.app.upgrade() else { return };
        // Empty already: the form is emptied whenever its screen is left.
        s.show_lookup(&app);
        s.go(&app, Screen::Lookup);
    });
    let s = state.clone();
    api.on_close_lookup(move || {
        if let Some(app) = s.app.upgrade() {
            s.go(&app, Screen::Scan);
        }
    });
    api.on_lookup_tab({
        let s = state.clone();
        move |tab| {
            s.edit_lookup(|form| {
                form.choose_tab(match tab {
                    LookupTab::Number => Tab::Number,
                    LookupTab::IdNumber => Tab::IdNumber,
                    LookupTab::Pinyin => Tab::Pinyin,
                    LookupTab::Radical => Tab::Radical,
                    LookupTab::Code => Tab::Code,
                });
            })
        }
    });
    api.on_lookup_digit({
        let s = state.clone();
        move |digit| {
            s.edit_lookup(|form| {
                digit.chars().for_each(|d| form.digit(d));
            })
        }
    });
    api.on_lookup_erase({
        let s = state.clone();
        move || s.edit_lookup(|form| form.erase())
    });
    api.on_lookup_clear({
        let s = state.clone();
        move || s.edit_lookup(|form| form.clear())
    });
    api.on_lookup_middle_dot({
        let s = state.clone();
        move || s.edit_lookup(|form| form.middle_dot())
    });
    api.on_lookup_letter({
        let s = state.clone();
        move |row, index| {
            s.edit_lookup(|form| {
                let letter = index_of(row)
                    .and_then(|row| QWERTY.get(row))
                    .zip(index_of(index))
                    .and_then(|(row, index)| row.chars().nth(index));
                if let Some(letter) = letter {
                    form.letter(letter);
                }
            })
        }
    });
    api.on_lookup_syllable({
        let s = state.clone();
        move |index| {
            s.edit_lookup(|form| {
                if let Some(i) = index_of(index) {
                    form.choose_syllable(i);
                }
            })
        }
    });
    api.on_lookup_tone({
        let s = state.clone();
        move |tone| {
            s.edit_lookup(|form| {
                form.choose_tone(u8::try_from(tone).unwrap_or(0));
            })
        }
    });
    api.on_lookup_rare_only({
        let s = state.clone();
        move || s.edit_lookup(|form| form.toggle_rare_only())
    });
    api.on_lookup_group({
        let s = state.clone();
        move |index| {
            s.edit_lookup(|form| {
                if let Some(group) = index_of(index).and_then(|i| u8::try_from(i + 1).ok()) {
                    form.choose_group(group);
                }
            })
        }
    });
    api.on_lookup_radical({
        let s = state.clone();
        move |index| {
            s.edit_lookup(|form| {
                if let Some(i) = index_of(index) {
                    form.choose_radical(i);
                }
            })
        }
    });
    api.on_lookup_leave_radical({
        let s = state.clone();
        move || s.edit_lookup(|form| form.leave_radical())
    });
    api.on_lookup_residual({
        let s = state.clone();
        move |index| {
            s.edit_lookup(|form| {
                if let Some(i) = index_of(index) {
                    form.choose_residual(i);
                }
            })
        }
    });
    api.on_lookup_page({
        let s = state.clone();
        move |forward| s.edit_lookup(|form| form.turn_page(forward))
    });
    api.on_lookup_pick({
        let s = state.clone();
        move |index| {
            s.edit_lookup(|form| {
                if let Some(i) = index_of(index) {
                    form.pick(i);
                }
            })
        }
    });
    api.on_lookup_code_key({
        let s = state.clone();
        move |digit| {
            s.edit_lookup(|form| {
                digit.chars().for_each(|d| form.code_key(d));
            })
        }
    });
    api.on_lookup_code_add({
        let s = state.clone();
        move || s.edit_lookup(|form| form.add_code())
    });
    let s = state.clone();
    api.on_lookup_submit(move || {
        let Some(app) = s.app.upgrade() else { return };
        // The query leaves the form with the job: nothing of it stays on screen.
        let query = s.lookup.borrow_mut().take_query();
        s.show_lookup(&app);
        s.touch(&app);
        if let Some((number, name, id_number)) = query {
            s.submit(
                &app,
                Job::Lookup {
                    number,
                    name,
                    id_number,
                },
            );
        }
    });
}

fn index_of(i: i32) -> Option<usize> {
    usize::try_from(i).ok()
}

impl State {
    /// A key: changes the form, shows it again and restarts the idle countdown.
    fn edit_lookup(&self, change: impl FnOnce(&mut LookupForm)) {
        let Some(app) = self.app.upgrade() else { return };
        change(&mut self.lookup.borrow_mut());
        self.show_lookup(&app);
        self.touch(&app);
    }

    /// Shows the form as it is now.
    pub(super) fn show_lookup(&self, app: &App) {
        app.global::<Api>().set_lookup(view(&self.lookup.borrow()));
    }

    /// Empties the form, in Rust and on screen: the next person sees nothing of this query.
    pub(super) fn forget_lookup(&self, app: &App) {
        self.lookup.borrow_mut().reset();
        app.global::<Api>().set_lookup(LookupView::default());
    }
}

fn keys(keys: impl IntoIterator<Item = KeyView>) -> ModelRc<KeyView> {
    ModelRc::new(VecModel::from(keys.into_iter().collect::<Vec<_>>()))
}

fn key_view(label: impl Into<SharedString>, enabled: bool, selected: bool) -> KeyView {
    KeyView {
        label: label.into(),
        enabled,
        selected,
    }
}

/// The form as the screen shows it. Only the tab showing is filled in: the others' keys
/// are not drawn, and the radical tab would wait for the font coverage.
fn view(form: &LookupForm) -> LookupView {
    let mut view = LookupView {
        tab: match form.tab() {
            Tab::Number => LookupTab::Number,
            Tab::IdNumber => LookupTab::IdNumber,
            Tab::Pinyin => LookupTab::Pinyin,
            Tab::Radical => LookupTab::Radical,
            Tab::Code => LookupTab::Code,
        },
        number: form.number().into(),
        name: form.name().into(),
        id_number: form.id_number().into(),
        id_check_digit: match form.id_problem() {
            Some(certkiosk_formats::lookup::IdNumberError::CheckDigit { expected }) => expected.to_string().into(),
            _ => SharedString::default(),
        },
        ready: form.query().is_some(),
        page: if form.pages() == 0 { 0 } else { form.page() as i32 + 1 },
        pages: form.pages() as i32,
        candidates: keys(form.candidates().iter().map(|c| key_view(c.to_string(), true, false))),
        ..LookupView::default()
    };
    match form.tab() {
        Tab::Number | Tab::IdNumber => {}
        Tab::Pinyin => pinyin_view(form, &mut view),
        Tab::Radical => radical_view(form, &mut view),
        Tab::Code => code_view(form, &mut view),
    }
    view
}

fn pinyin_view(form: &LookupForm, view: &mut LookupView) {
    view.letters = shown_syllable(form.letters()).into();
    view.letter_rows = ModelRc::new(VecModel::from(
        QWERTY
            .iter()
            .map(|row| {
                keys(row.chars().map(|c| {
                    let label = if c == 'v' { "ü/v".to_owned() } else { c.to_string() };
                    key_view(label, form.letter_continues(c), false)
                }))
            })
            .collect::<Vec<_>>(),
    ));
    view.syllables = keys(
        form.syllables()
            .into_iter()
            .map(|s| key_view(shown_syllable(s), true, s == form.letters())),
    );
    let syllable = form.syllable();
    view.has_syllable = syllable.is_some();
    view.tones = keys((1..=4).map(|tone| match syllable {
        Some(s) => key_view(with_tone(s, tone), true, form.tone() == Some(tone)),
        None => key_view(tone.to_string(), false, false),
    }));
    view.any_tone = form.tone().is_none();
    view.rare_only = form.rare_only();
}

fn radical_view(form: &LookupForm, view: &mut LookupView) {
    view.groups = keys((1..=LAST_GROUP).map(|group| {
        let label = if group == LAST_GROUP {
            format!("{group}+")
        } else {
            group.to_string()
        };
        key_view(label, true, group == form.group())
    }));
    view.radicals = keys(
        form.group_radicals()
            .iter()
            .map(|r| key_view(r.glyph.to_string(), true, false)),
    );
    view.radical = form.radical().map(|r| r.glyph.to_string()).unwrap_or_default().into();
    view.residuals = keys(
        form.residuals()
            .into_iter()
            .map(|r| key_view(r.to_string(), true, form.residual() == Some(r))),
    );
    view.has_residual = form.residual().is_some();
}

fn code_view(form: &LookupForm, view: &mut LookupView) {
    let code_point = |c: u32| SharedString::from(format!("U+{c:04X}"));
    view.code = format!("U+{}", form.code()).into();
    view.unicode_version = hanzi::UNICODE_VERSION.into();
    match form.code_char() {
        Ok(c) => {
            view.code_char = c.to_string().into();
            view.code_drawable = form.drawable(c);
            view.code_problem = CodeProblem::None;
        }
        Err(CodeError::Empty) => view.code_problem = CodeProblem::Empty,
        Err(CodeError::NotHexadecimal) => view.code_problem = CodeProblem::NotHexadecimal,
        Err(CodeError::OutOfRange) => view.code_problem = CodeProblem::OutOfRange,
        Err(CodeError::Surrogate { code_point: c }) => {
            view.code_problem = CodeProblem::Surrogate;
            view.code_point = code_point(c);
        }
        Err(CodeError::NotIdeograph { code_point: c }) => {
            view.code_problem = CodeProblem::NotIdeograph;
            view.code_point = code_point(c);
        }
        Err(CodeError::Compatibility { code_point: c, unified }) => {
            view.code_problem = CodeProblem::Compatibility;
            view.code_point = code_point(c);
            view.code_unified = format!("{} {unified}", code_point(u32::from(unified))).into();
        }
    }
}
