//! Every word on the screens is translated through Slint's bundled translations: each `@tr`
//! message of `ui/*.slint` has its 简体中文 in `lang/zh_CN/LC_MESSAGES/certkiosk.po` (and the
//! catalogue holds nothing stale), no text is shown untranslated, and the verdicts read
//! exactly as `certd verify` prints them (`certkiosk_verify::i18n`).

use certkiosk_verify::VerdictCode;
use certkiosk_verify::i18n::{self, Lang};
use std::collections::BTreeMap;
use std::path::Path;

/// (context, message, plural) of one translatable string.
type Key = (Option<String>, String, Option<String>);

fn slint_sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("ui/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "slint"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("read .slint"),
            )
        })
        .collect()
}

/// A string literal at the start of `s` (after blanks): its text and the rest.
fn literal(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &s[i + 2..])),
            c => out.push(c),
        }
    }
    None
}

/// Every `@tr(...)` message in the .slint files.
fn messages() -> Vec<Key> {
    let mut keys = Vec::new();
    for (file, text) in slint_sources() {
        for (at, _) in text.match_indices("@tr(") {
            let (first, rest) = literal(&text[at + 4..]).unwrap_or_else(|| panic!("{file}: @tr without a literal"));
            let rest = rest.trim_start();
            if let Some(rest) = rest.strip_prefix("=>") {
                let (msg, _) = literal(rest).expect("message after context");
                keys.push((Some(first), msg, None));
            } else if let Some(rest) = rest.strip_prefix('|') {
                let (plural, _) = literal(rest).expect("plural form");
                keys.push((None, first, Some(plural)));
            } else {
                keys.push((None, first, None));
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The 简体中文 catalogue: key → translation (the first plural form for plurals).
fn catalogue() -> BTreeMap<Key, String> {
    catalogue_of("zh_CN")
}

/// The catalogue of `locale` (`zh_CN`, `zh_TW`).
fn catalogue_of(locale: &str) -> BTreeMap<Key, String> {
    let po = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("lang/{locale}/LC_MESSAGES/certkiosk.po"));
    let text = std::fs::read_to_string(po).expect("po");
    let mut out = BTreeMap::new();
    let (mut ctx, mut id, mut plural) = (None, None, None);
    for line in text.lines() {
        let value = |prefix: &str| line.strip_prefix(prefix).and_then(literal).map(|(s, _)| s);
        if let Some(c) = value("msgctxt ") {
            ctx = Some(c);
        } else if let Some(m) = value("msgid_plural ") {
            plural = Some(m);
        } else if let Some(m) = value("msgid ") {
            id = Some(m);
        } else if let Some(s) = value("msgstr ").or_else(|| value("msgstr[0] ")) {
            if let Some(id) = id.take().filter(|i| !i.is_empty()) {
                out.insert((ctx.take(), id, plural.take()), s);
            }
            ctx = None;
            plural = None;
        }
    }
    out
}

#[test]
fn every_message_has_its_chinese_and_none_is_stale() {
    let messages = messages();
    let catalogue = catalogue();
    assert!(messages.len() > 50, "found {} messages", messages.len());
    let untranslated: Vec<_> = messages
        .iter()
        .filter(|k| catalogue.get(*k).is_none_or(|s| s.trim().is_empty()))
        .collect();
    assert!(untranslated.is_empty(), "not translated: {untranslated:#?}");
    let stale: Vec<_> = catalogue.keys().filter(|k| !messages.contains(k)).collect();
    assert!(
        stale.is_empty(),
        "in the catalogue but no longer on any screen: {stale:#?}"
    );
}

#[test]
fn the_traditional_catalogue_is_complete_and_reads_as_certd_prints_it() {
    let messages = messages();
    let hant = catalogue_of("zh_TW");
    let missing: Vec<_> = messages
        .iter()
        .filter(|k| hant.get(*k).is_none_or(|s| s.trim().is_empty()))
        .collect();
    assert!(missing.is_empty(), "not in 繁體中文: {missing:#?}");
    let stale: Vec<_> = hant.keys().filter(|k| !messages.contains(k)).collect();
    assert!(
        stale.is_empty(),
        "in the 繁體中文 catalogue but on no screen: {stale:#?}"
    );
    // No Simplified-only character is left (their Traditional forms differ; 后 is 後 in every
    // text here).
    let simplified_only = "证书销过这识别数据码务验对发机构请无询时钟间态没该须网开头损坏长里规围后";
    for (key, text) in &hant {
        assert!(
            !text.chars().any(|c| simplified_only.contains(c)),
            "{key:?}: {text:?} keeps a Simplified character"
        );
    }
    verdicts_read_as_in(&hant, Lang::ZhHant);
}

/// Each verdict's title, explanation and what to do in `catalogue` read as certd prints them
/// in `lang`.
fn verdicts_read_as_in(catalogue: &BTreeMap<Key, String>, lang: Lang) {
    let zh = |ctx: Option<&str>, en: &str| catalogue.get(&(ctx.map(str::to_owned), en.to_owned(), None)).cloned();
    for code in VerdictCode::ALL {
        for text in [i18n::title, i18n::explanation] {
            assert_eq!(
                zh(None, text(code, Lang::En)).as_deref(),
                Some(text(code, lang)),
                "{code}"
            );
        }
        let what = i18n::what_to_do;
        assert_eq!(
            zh(Some(code.as_str()), what(code, Lang::En)).as_deref(),
            Some(what(code, lang)),
            "what to do: {code}"
        );
    }
}

#[test]
fn verdicts_read_as_certd_prints_them() {
    let catalogue = catalogue();
    verdicts_read_as_in(&catalogue, Lang::Zh);
    let zh = |ctx: Option<&str>, en: &str| catalogue.get(&(ctx.map(str::to_owned), en.to_owned(), None)).cloned();
    // The stale-data warning says the data's age, as words.slint `stale-warning` does.
    for (hours, template, n) in [
        (
            Some(5),
            "The status data is {} hours old; treat the result with care.",
            "5",
        ),
        (
            Some(40 * 24 + 3),
            "The status data is {} days old; treat the result with care.",
            "40",
        ),
        (None, "There is no status data here; treat the result with care.", ""),
    ] {
        assert_eq!(fill(template, &[n]), i18n::stale(hours, Lang::En));
        let chinese = zh(None, template).unwrap_or_else(|| panic!("{template} not translated"));
        assert_eq!(fill(&chinese, &[n]), i18n::stale(hours, Lang::Zh));
    }
    // A valid verdict with a caution: the headline certd prints (words.slint `headline`).
    let mut warned = certkiosk_verify::unreadable(String::new(), "2026-01-01T00:00:00Z".parse().expect("time"));
    warned.verdict = VerdictCode::Valid;
    warned.warnings = vec![certkiosk_verify::Warning::StatusStale];
    assert_eq!(
        zh(None, i18n::headline(&warned, Lang::En)).as_deref(),
        Some(i18n::headline(&warned, Lang::Zh))
    );
    // A text that is no credential: the same words as certd's (words.slint `not-credential`).
    use certkiosk_verify::NotCredential::*;
    for n in [Empty, WebAddress, OtherText, Damaged, TooLong] {
        assert_eq!(
            zh(None, i18n::not_credential(n, Lang::En)).as_deref(),
            Some(i18n::not_credential(n, Lang::Zh)),
            "{n:?}"
        );
    }
    assert_eq!(
        zh(None, i18n::explanation_not_credential(Lang::En)).as_deref(),
        Some(i18n::explanation_not_credential(Lang::Zh))
    );
    for w in [
        certkiosk_verify::Warning::ClockSuspect,
        certkiosk_verify::Warning::AnnotationNotChecked,
        certkiosk_verify::Warning::HiddenCharacters,
    ] {
        assert_eq!(
            zh(None, i18n::warning(w, Lang::En)).as_deref(),
            Some(i18n::warning(w, Lang::Zh))
        );
    }
}

/// `template` with its `{}` replaced by `args` in turn, as Slint's @tr fills it.
fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::new();
    let mut parts = template.split("{}");
    out.push_str(parts.next().unwrap_or_default());
    for (part, arg) in parts.zip(args.iter().chain(std::iter::repeat(&"{}"))) {
        out.push_str(arg);
        out.push_str(part);
    }
    out
}

#[test]
fn manual_lookups_read_as_certd_lookup_prints_them() {
    let catalogue = catalogue();
    let zh = |en: &str| catalogue.get(&(None, en.to_owned(), None)).cloned();
    for code in [VerdictCode::Valid, VerdictCode::NotFound] {
        let manual = i18n::explanation_manual;
        assert_ne!(manual(code, Lang::En), i18n::explanation(code, Lang::En));
        assert_eq!(
            zh(manual(code, Lang::En)).as_deref(),
            Some(manual(code, Lang::Zh)),
            "{code}"
        );
    }
    for text in [i18n::scope_heading, i18n::scope_still_loading] {
        assert_eq!(zh(text(Lang::En)).as_deref(), Some(text(Lang::Zh)));
    }
    // A scope line, closed and open-ended: the screen fills the templates with the
    // qualification's name in the language shown and the years (words.slint `scope-line`).
    let (name_zh, name_en) = ("经济专业技术资格", "Economics");
    for (last, template) in [(2025, "{}: {}–{}"), (2099, "{}: from {}")] {
        let scope = certkiosk_verify::ScopeView {
            qualification_code: "0301".into(),
            qualification_zh: Some(name_zh.into()),
            qualification_en: Some(name_en.into()),
            first_year: 2017,
            last_year: last,
        };
        let last = last.to_string();
        assert_eq!(
            fill(template, &[name_en, "2017", &last]),
            i18n::scope_line(&scope, Lang::En)
        );
        let chinese = zh(template).unwrap_or_else(|| panic!("{template} not translated"));
        assert_eq!(
            fill(&chinese, &[name_zh, "2017", &last]),
            i18n::scope_line(&scope, Lang::Zh)
        );
    }
}

#[test]
fn code_point_problems_read_as_the_index_words_them() {
    let messages = messages();
    // What the lookup screen passes for each (src/kiosk/lookup.rs `code_view`).
    for (typed, args) in [
        ("G", vec![]),
        ("110000", vec![]),
        ("D800", vec!["U+D800"]),
        ("41", vec!["U+0041", hanzi::UNICODE_VERSION]),
        ("F900", vec!["U+F900", "U+8C48 豈"]),
    ] {
        let problem = hanzi::parse_code_point(typed).expect_err(typed).to_string();
        assert!(
            messages.iter().any(|(_, msg, _)| fill(msg, &args) == problem),
            "no message on screen reads {problem:?}"
        );
    }
}

/// Words shown as they are: the program's name, the other language's own name, PIN digits, the
/// warning sign.
const UNTRANSLATED: [&str; 16] = [
    "⚠",
    "certkiosk",
    "简体中文",
    "繁體中文",
    "English",
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "",
];

#[test]
fn no_text_is_shown_untranslated() {
    let mut bare = Vec::new();
    for (file, text) in slint_sources() {
        for (n, line) in text.lines().enumerate() {
            for key in ["text:", "label:", "title:"] {
                let Some(at) = line.find(key) else { continue };
                let rest = line[at + key.len()..].trim_start();
                if let Some((s, _)) = literal(rest)
                    && !UNTRANSLATED.contains(&s.as_str())
                {
                    bare.push(format!("{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(bare.is_empty(), "shown without @tr:\n{}", bare.join("\n"));
}
