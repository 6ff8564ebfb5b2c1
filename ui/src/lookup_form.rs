//! The manual-lookup form (issues 8 and 17): what staff have typed — a management number, a
//! holder name and the holder's ID number — and the state of the on-screen keyboard that types it: pinyin letters and their
//! filters, the radical being browsed, a code point being keyed in, the page of candidates.
//!
//! Pure and on the UI thread: the controller (`kiosk/lookup.rs`) turns each key into one call
//! here and shows the form again. Nothing here is a text a person reads but the characters and
//! syllables themselves; the words are in `ui/lookup.slint`. The name is kept as characters,
//! exactly as picked (never normalised): names compare by code point (`certkiosk_formats::names`).

use crate::fonts::Coverage;
use hanzi::{CodeError, PinyinQuery, Radical};

/// As many digits as a management number can have (`MAX_MANAGEMENT_NUMBER_CHARS`).
pub const MAX_NUMBER_DIGITS: usize = certkiosk_formats::credential::MAX_MANAGEMENT_NUMBER_CHARS;
/// An ID number's characters.
pub const ID_NUMBER_CHARS: usize = 18;
/// As many characters as a holder name can have.
pub const MAX_NAME_CHARS: usize = certkiosk_formats::credential::MAX_NAME_CHARS;
/// Candidates per page on the pinyin tab (12 × 2 keys in landscape, 6 × 4 in portrait).
pub const PINYIN_PAGE: usize = 24;
/// Candidates per page on the radical tab (12 × 3, or 6 × 6).
pub const RADICAL_PAGE: usize = 36;
/// The longest syllable has six letters (zhuang).
const MAX_LETTERS: usize = 6;
/// U+10FFFF has six hex digits.
const MAX_CODE_DIGITS: usize = 6;
/// The middle dot of minority names (阿依古丽·买买提); the variants typed elsewhere (•, ・, ．)
/// are the same to the lookup (`certkiosk_formats::names::canonical_name`).
pub const MIDDLE_DOT: char = '\u{B7}';
/// Radicals of this many strokes and more are one group: few radicals have them.
pub const LAST_GROUP: u8 = 12;

/// Which key set is showing, and so which field the keys edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// The digit pad, for the management number.
    #[default]
    Number,
    /// The digit pad and X, for the ID number.
    IdNumber,
    Pinyin,
    Radical,
    /// A code point in hexadecimal.
    Code,
}

/// The on-screen keyboard's state and what it has typed.
#[derive(Debug)]
pub struct LookupForm {
    coverage: Coverage,
    tab: Tab,
    number: String,
    id_number: String,
    name: Vec<char>,
    /// Pinyin letters typed so far, toneless, `v` for ü.
    letters: String,
    tone: Option<u8>,
    rare_only: bool,
    /// The radicals' stroke group being shown (1..=[`LAST_GROUP`]).
    group: u8,
    radical: Option<Radical>,
    residual: Option<i8>,
    /// Hex digits of a code point.
    code: String,
    /// The candidates of the pinyin or radical query, drawable ones only.
    candidates: Vec<char>,
    page: usize,
}

impl LookupForm {
    pub fn new(coverage: Coverage) -> LookupForm {
        LookupForm {
            coverage,
            tab: Tab::Number,
            number: String::new(),
            id_number: String::new(),
            name: Vec::new(),
            letters: String::new(),
            tone: None,
            rare_only: false,
            group: 1,
            radical: None,
            residual: None,
            code: String::new(),
            candidates: Vec::new(),
            page: 0,
        }
    }

    /// Empties everything, the keyboard's state included: the next person sees a blank form.
    /// What was typed is overwritten before it is let go of (best effort: copies handed to
    /// the screen and the verifier are not reached from here).
    pub fn reset(&mut self) {
        let mut typed = [
            std::mem::take(&mut self.number),
            std::mem::take(&mut self.id_number),
            std::mem::take(&mut self.letters),
            std::mem::take(&mut self.code),
        ]
        .map(String::into_bytes);
        for bytes in &mut typed {
            bytes.fill(0);
        }
        self.name.fill('\0');
        std::hint::black_box((&typed, &self.name));
        *self = LookupForm::new(self.coverage.clone());
    }

    pub fn tab(&self) -> Tab {
        self.tab
    }

    pub fn number(&self) -> &str {
        &self.number
    }

    pub fn id_number(&self) -> &str {
        &self.id_number
    }

    pub fn name(&self) -> String {
        self.name.iter().collect()
    }

    /// What is wrong with the ID number typed, once it is whole: a wrong check digit is said
    /// before any lookup.
    pub fn id_problem(&self) -> Option<certkiosk_formats::lookup::IdNumberError> {
        (self.id_number.len() == ID_NUMBER_CHARS)
            .then(|| certkiosk_formats::lookup::check_id_number(&self.id_number).err())
            .flatten()
    }

    /// The query to look up (number, name, ID number), once all three fields are filled and
    /// the ID number's check digit holds.
    pub fn query(&self) -> Option<(String, String, String)> {
        let whole = !self.number.is_empty() && !self.name.is_empty() && self.id_number.len() == ID_NUMBER_CHARS;
        (whole && self.id_problem().is_none()).then(|| (self.number.clone(), self.name(), self.id_number.clone()))
    }

    /// The query, leaving the form empty.
    pub fn take_query(&mut self) -> Option<(String, String, String)> {
        let query = self.query()?;
        self.reset();
        Some(query)
    }

    pub fn choose_tab(&mut self, tab: Tab) {
        if tab != self.tab {
            self.tab = tab;
            self.page = 0;
            self.refresh();
        }
    }

    /// A digit key: into the management number, or on the ID tab into the ID number (whose
    /// last character may also be X).
    pub fn digit(&mut self, digit: char) {
        if self.tab == Tab::IdNumber {
            let last = self.id_number.len() == ID_NUMBER_CHARS - 1;
            if self.id_number.len() < ID_NUMBER_CHARS && (digit.is_ascii_digit() || (last && digit == 'X')) {
                self.id_number.push(digit);
            }
        } else if digit.is_ascii_digit() && self.number.len() < MAX_NUMBER_DIGITS {
            self.number.push(digit);
        }
    }

    /// The erase key: a letter or hex digit being typed first, else the last character of the
    /// field the tab edits.
    pub fn erase(&mut self) {
        match self.tab {
            Tab::Number => {
                self.number.pop();
            }
            Tab::IdNumber => {
                self.id_number.pop();
            }
            Tab::Pinyin if !self.letters.is_empty() => {
                self.letters.pop();
                self.requery();
            }
            Tab::Code if !self.code.is_empty() => {
                self.code.pop();
            }
            Tab::Pinyin | Tab::Radical | Tab::Code => {
                self.name.pop();
            }
        }
    }

    /// The clear key: empties the field the tab edits, and what is being typed into it.
    pub fn clear(&mut self) {
        if self.tab == Tab::Number {
            self.number.clear();
        } else if self.tab == Tab::IdNumber {
            self.id_number.clear();
        } else {
            self.name.clear();
            self.letters.clear();
            self.code.clear();
            self.requery();
        }
    }

    pub fn middle_dot(&mut self) {
        self.add(MIDDLE_DOT);
    }

    fn add(&mut self, c: char) {
        if self.name.len() < MAX_NAME_CHARS {
            self.name.push(c);
        }
    }

    // Pinyin.

    pub fn letters(&self) -> &str {
        &self.letters
    }

    /// Whether typing `letter` next still leads to a syllable.
    pub fn letter_continues(&self, letter: char) -> bool {
        let mut prefix = self.letters.clone();
        prefix.push(letter);
        !hanzi::syllables_with_prefix(&prefix).is_empty()
    }

    pub fn letter(&mut self, letter: char) {
        if letter.is_ascii_lowercase() && self.letters.len() < MAX_LETTERS && self.letter_continues(letter) {
            self.letters.push(letter);
            self.requery();
        }
    }

    /// The syllables the letters typed so far begin (none before the first letter).
    pub fn syllables(&self) -> Vec<&'static str> {
        if self.letters.is_empty() {
            Vec::new()
        } else {
            hanzi::syllables_with_prefix(&self.letters)
        }
    }

    /// Completes the letters to one of [`LookupForm::syllables`].
    pub fn choose_syllable(&mut self, index: usize) {
        if let Some(syllable) = self.syllables().get(index) {
            self.letters = (*syllable).to_owned();
            self.requery();
        }
    }

    /// The syllable whose characters are offered: the letters, when they spell one.
    pub fn syllable(&self) -> Option<&'static str> {
        self.syllables().into_iter().find(|s| *s == self.letters)
    }

    pub fn tone(&self) -> Option<u8> {
        self.tone
    }

    /// A tone 1..=4, or any (0).
    pub fn choose_tone(&mut self, tone: u8) {
        self.tone = (1..=4).contains(&tone).then_some(tone);
        self.requery();
    }

    pub fn rare_only(&self) -> bool {
        self.rare_only
    }

    pub fn toggle_rare_only(&mut self) {
        self.rare_only = !self.rare_only;
        self.requery();
    }

    // Radicals.

    pub fn group(&self) -> u8 {
        self.group
    }

    pub fn choose_group(&mut self, group: u8) {
        if (1..=LAST_GROUP).contains(&group) {
            self.group = group;
            self.radical = None;
            self.residual = None;
            self.requery();
        }
    }

    /// The radicals of the group shown, in [`hanzi::radicals`] order.
    pub fn group_radicals(&self) -> Vec<Radical> {
        hanzi::radicals()
            .iter()
            .copied()
            .filter(|r| r.strokes.min(LAST_GROUP) == self.group && self.coverage.draws(r.glyph))
            .collect()
    }

    pub fn radical(&self) -> Option<Radical> {
        self.radical
    }

    pub fn choose_radical(&mut self, index: usize) {
        if let Some(radical) = self.group_radicals().get(index) {
            self.radical = Some(*radical);
            self.residual = None;
            self.requery();
        }
    }

    /// Back from a radical's characters to the group's radicals.
    pub fn leave_radical(&mut self) {
        self.radical = None;
        self.residual = None;
        self.requery();
    }

    /// The residual stroke counts of the chosen radical.
    pub fn residuals(&self) -> Vec<i8> {
        self.radical.map(hanzi::residuals).unwrap_or_default()
    }

    pub fn residual(&self) -> Option<i8> {
        self.residual
    }

    pub fn choose_residual(&mut self, index: usize) {
        if let Some(residual) = self.residuals().get(index) {
            self.residual = Some(*residual);
            self.requery();
        }
    }

    // Candidates, for pinyin and radicals.

    fn page_size(&self) -> usize {
        match self.tab {
            Tab::Radical => RADICAL_PAGE,
            _ => PINYIN_PAGE,
        }
    }

    /// Recomputes the candidates of the tab's query, from the first page.
    fn requery(&mut self) {
        self.page = 0;
        self.refresh();
    }

    fn refresh(&mut self) {
        let all = match self.tab {
            Tab::Pinyin => match self.syllable() {
                Some(syllable) => hanzi::by_pinyin(&PinyinQuery {
                    syllable,
                    tone: self.tone,
                    rare_only: self.rare_only,
                    strokes: None,
                }),
                None => Vec::new(),
            },
            Tab::Radical => match (self.radical, self.residual) {
                (Some(radical), Some(residual)) => hanzi::by_radical(radical, residual),
                _ => Vec::new(),
            },
            Tab::Number | Tab::IdNumber | Tab::Code => Vec::new(),
        };
        self.candidates = all.into_iter().filter(|&c| self.coverage.draws(c)).collect();
        self.page = self.page.min(self.pages().saturating_sub(1));
    }

    /// The candidates of the page shown.
    pub fn candidates(&self) -> &[char] {
        let size = self.page_size();
        let start = (self.page * size).min(self.candidates.len());
        &self.candidates[start..(start + size).min(self.candidates.len())]
    }

    pub fn page(&self) -> usize {
        self.page
    }

    pub fn pages(&self) -> usize {
        self.candidates.len().div_ceil(self.page_size())
    }

    pub fn turn_page(&mut self, forward: bool) {
        if forward {
            if self.page + 1 < self.pages() {
                self.page += 1;
            }
        } else {
            self.page = self.page.saturating_sub(1);
        }
    }

    /// Adds the candidate at `index` of the page shown. Pinyin starts over for the next
    /// character (letters and filters); the radical tab goes back to the group's radicals.
    pub fn pick(&mut self, index: usize) {
        let Some(&c) = self.candidates().get(index) else { return };
        self.add(c);
        match self.tab {
            Tab::Pinyin => {
                self.letters.clear();
                self.tone = None;
                self.rare_only = false;
            }
            _ => {
                self.radical = None;
                self.residual = None;
            }
        }
        self.requery();
    }

    // Code points.

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn code_key(&mut self, digit: char) {
        if digit.is_ascii_hexdigit() && self.code.len() < MAX_CODE_DIGITS {
            self.code.push(digit.to_ascii_uppercase());
        }
    }

    /// The character the hex digits typed name, or why they name none.
    pub fn code_char(&self) -> Result<char, CodeError> {
        hanzi::parse_code_point(&self.code)
    }

    /// Whether a face of the chain draws `c` (a code point may name one that none draws).
    pub fn drawable(&self, c: char) -> bool {
        self.coverage.draws(c)
    }

    /// Adds the character the code names, if it names one.
    pub fn add_code(&mut self) {
        if let Ok(c) = self.code_char() {
            self.add(c);
            self.code.clear();
        }
    }
}

/// A toneless syllable as people read it, with its tone mark: ("yan", 3) → "yǎn", ("lv", 4)
/// → "lǜ". The mark goes on a or e, on the o of ou, else on the last vowel. Syllables without
/// a vowel (m, n, ng) get the tone's number.
pub fn with_tone(syllable: &str, tone: u8) -> String {
    use hanzi::tones::MARKED_VOWELS as MARKED;
    let shown = |c: char| if c == 'v' { 'ü' } else { c };
    let Some(mark) = usize::from(tone).checked_sub(1).filter(|&t| t < 4) else {
        return syllable.chars().map(shown).collect();
    };
    let vowel = |c: char| MARKED.iter().any(|&(v, _)| v == c);
    let at = syllable
        .find('a')
        .or_else(|| syllable.find('e'))
        .or_else(|| syllable.find("ou"))
        .or_else(|| syllable.rfind(vowel));
    let Some(at) = at else {
        return format!("{syllable}{tone}");
    };
    syllable
        .char_indices()
        .map(|(i, c)| match MARKED.iter().find(|&&(v, _)| v == c) {
            Some((_, marks)) if i == at => marks[mark],
            _ => shown(c),
        })
        .collect()
}

/// A syllable as shown on its key: ü for v.
pub fn shown_syllable(syllable: &str) -> String {
    syllable.replace('v', "ü")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> LookupForm {
        LookupForm::new(Coverage::everything())
    }

    fn type_letters(f: &mut LookupForm, letters: &str) {
        for c in letters.chars() {
            f.letter(c);
        }
    }

    fn page_with(f: &mut LookupForm, c: char) -> usize {
        while !f.candidates().contains(&c) {
            let before = f.page();
            f.turn_page(true);
            assert_ne!(f.page(), before, "{c} is on no page");
        }
        f.candidates().iter().position(|&x| x == c).expect("on this page")
    }

    #[test]
    fn tone_marks_go_where_pinyin_puts_them() {
        assert_eq!(with_tone("yan", 3), "yǎn");
        assert_eq!(with_tone("wang", 2), "wáng");
        assert_eq!(with_tone("lv", 4), "lǜ");
        assert_eq!(with_tone("nve", 4), "nüè");
        assert_eq!(with_tone("gui", 4), "guì");
        assert_eq!(with_tone("liu", 2), "liú");
        assert_eq!(with_tone("zhou", 1), "zhōu");
        assert_eq!(with_tone("xiong", 2), "xióng");
        assert_eq!(with_tone("ng", 2), "ng2");
        assert_eq!(with_tone("lv", 0), "lü");
    }

    #[test]
    fn yan_in_the_third_tone_offers_the_rare_yan_on_its_first_page() {
        let mut f = form();
        f.choose_tab(Tab::Pinyin);
        type_letters(&mut f, "ya");
        assert_eq!(f.syllable(), Some("ya"));
        f.letter('n');
        assert_eq!(f.syllable(), Some("yan"));
        assert!(f.syllables().contains(&"yang"));
        f.choose_tone(3);
        let at = f
            .candidates()
            .iter()
            .position(|&c| c == '䶮')
            .expect("on the first page");
        f.pick(at);
        assert_eq!(f.name(), "䶮");
        assert_eq!(
            (f.letters(), f.tone(), f.rare_only()),
            ("", None, false),
            "pinyin starts over"
        );
        assert!(f.candidates().is_empty());
    }

    #[test]
    fn rare_only_leaves_out_the_common_characters() {
        let mut f = form();
        f.choose_tab(Tab::Pinyin);
        type_letters(&mut f, "yan");
        f.toggle_rare_only();
        assert!(f.candidates().contains(&'䶮'));
        assert!(!f.candidates().contains(&'严'));
    }

    #[test]
    fn letters_that_lead_nowhere_are_not_taken() {
        let mut f = form();
        f.choose_tab(Tab::Pinyin);
        assert!(!f.letter_continues('i') && !f.letter_continues('v'));
        type_letters(&mut f, "yx");
        assert_eq!(f.letters(), "y");
        f.erase();
        type_letters(&mut f, "zhuang");
        assert_eq!(f.letters(), "zhuang");
        f.letter('g');
        assert_eq!(f.letters(), "zhuang");
    }

    #[test]
    fn a_completion_replaces_the_letters() {
        let mut f = form();
        f.choose_tab(Tab::Pinyin);
        type_letters(&mut f, "zh");
        assert_eq!(f.syllable(), None, "zh is no syllable");
        assert!(f.candidates().is_empty());
        let i = f.syllables().iter().position(|s| *s == "zhang").expect("zhang");
        f.choose_syllable(i);
        assert_eq!(f.letters(), "zhang");
        assert!(f.candidates().contains(&'张'));
    }

    #[test]
    fn the_person_radical_with_four_strokes_holds_the_reading_less_character() {
        let mut f = form();
        f.choose_tab(Tab::Radical);
        f.choose_group(2);
        let person = f.group_radicals().iter().position(|r| r.glyph == '人').expect("人");
        f.choose_radical(person);
        let four = f.residuals().iter().position(|&r| r == 4).expect("4");
        f.choose_residual(four);
        assert!(f.pages() > 1, "人 + 4 fills more than a page");
        let at = page_with(&mut f, '\u{201D4}');
        f.pick(at);
        assert_eq!(f.name(), "𠇔");
        assert_eq!((f.radical(), f.residual(), f.group()), (None, None, 2));
    }

    #[test]
    fn pages_stay_in_range() {
        let mut f = form();
        f.choose_tab(Tab::Pinyin);
        type_letters(&mut f, "yi");
        let pages = f.pages();
        assert!(pages > 10);
        for _ in 0..pages + 3 {
            f.turn_page(true);
        }
        assert_eq!(f.page(), pages - 1);
        assert!(!f.candidates().is_empty() && f.candidates().len() <= PINYIN_PAGE);
        f.choose_tone(4);
        assert_eq!(f.page(), 0, "a new query starts on its first page");
        f.turn_page(false);
        assert_eq!(f.page(), 0);
    }

    #[test]
    fn code_points_are_typed_checked_and_added() {
        let mut f = form();
        f.choose_tab(Tab::Code);
        for c in "201d4".chars() {
            f.code_key(c);
        }
        assert_eq!(f.code(), "201D4");
        assert_eq!(f.code_char(), Ok('\u{201D4}'));
        f.add_code();
        assert_eq!((f.name().as_str(), f.code()), ("𠇔", ""));
        for c in "F900".chars() {
            f.code_key(c);
        }
        assert!(matches!(f.code_char(), Err(CodeError::Compatibility { .. })));
        f.add_code();
        assert_eq!(f.name(), "𠇔", "refused codes add nothing");
        f.erase();
        assert_eq!(f.code(), "F90", "the erase key takes a hex digit first");
        for c in "1234567".chars() {
            f.code_key(c);
        }
        assert_eq!(f.code(), "F90123", "six digits at most");
    }

    #[test]
    fn erase_and_clear_act_on_the_field_of_the_tab() {
        let mut f = form();
        for d in "2023".chars() {
            f.digit(d);
        }
        f.digit('x');
        f.choose_tab(Tab::Pinyin);
        f.middle_dot();
        type_letters(&mut f, "wa");
        f.erase();
        assert_eq!((f.letters(), f.name().as_str()), ("w", "·"));
        f.erase();
        f.erase();
        assert_eq!((f.letters(), f.name().as_str()), ("", ""));
        f.middle_dot();
        f.clear();
        assert_eq!((f.number(), f.name().as_str()), ("2023", ""));
        f.choose_tab(Tab::Number);
        f.erase();
        assert_eq!(f.number(), "202");
        f.clear();
        assert_eq!(f.number(), "");
    }

    #[test]
    fn fields_are_capped() {
        let mut f = form();
        for _ in 0..100 {
            f.digit('1');
            f.middle_dot();
        }
        assert_eq!(
            (f.number().len(), f.name().chars().count()),
            (MAX_NUMBER_DIGITS, MAX_NAME_CHARS)
        );
    }

    #[test]
    fn a_query_needs_both_fields_and_taking_it_empties_the_form() {
        let mut f = form();
        f.digit('7');
        assert_eq!(f.take_query(), None);
        f.choose_tab(Tab::Code);
        for c in "738B".chars() {
            f.code_key(c);
        }
        f.add_code();
        f.code_key('4');
        assert_eq!(f.take_query(), None, "no ID number yet");
        f.choose_tab(Tab::IdNumber);
        // The last digit mistyped: said at once, and nothing is looked up.
        "110105194912310021".chars().for_each(|d| f.digit(d));
        assert_eq!(
            f.id_problem(),
            Some(certkiosk_formats::lookup::IdNumberError::CheckDigit { expected: 'X' })
        );
        assert_eq!(f.take_query(), None);
        f.erase();
        f.digit('X');
        assert_eq!(f.id_problem(), None);
        assert_eq!(
            f.take_query(),
            Some(("7".to_owned(), "王".to_owned(), "11010519491231002X".to_owned()))
        );
        assert_eq!(
            (f.number(), f.name().as_str(), f.id_number(), f.code(), f.tab()),
            ("", "", "", "", Tab::Number)
        );
    }

    #[test]
    fn the_id_number_takes_17_digits_and_a_digit_or_x_and_its_own_erase_and_clear() {
        let mut f = form();
        f.digit('5');
        f.choose_tab(Tab::IdNumber);
        f.digit('X');
        assert_eq!(f.id_number(), "", "X only as the last character");
        "1101051949123100".chars().for_each(|d| f.digit(d));
        f.digit('a');
        f.digit('2');
        f.digit('X');
        f.digit('9');
        assert_eq!(f.id_number(), "11010519491231002X", "18 at most");
        f.erase();
        assert_eq!(f.id_number(), "11010519491231002");
        f.clear();
        assert_eq!(
            (f.id_number(), f.number()),
            ("", "5"),
            "the clear key empties its own field"
        );
    }

    #[test]
    fn radical_groups_cover_every_radical_once() {
        let mut f = form();
        assert_eq!(f.group(), 1);
        let mut count = 0;
        for group in 1..=LAST_GROUP {
            f.choose_group(group);
            let n = f.group_radicals().len();
            assert!(
                n > 0 && n <= 48,
                "group {group}: {n} radicals, more than the grid holds"
            );
            count += n;
        }
        assert_eq!(count, hanzi::radicals().len());
    }
}
