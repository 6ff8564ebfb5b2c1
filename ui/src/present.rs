//! A verdict as the result screen shows it: language-dependent names picked, dates and times
//! written in Asia/Shanghai, days left counted. Pure, so it is tested without a window.

use crate::generated::{
    Freshness as UiFreshness, NotCredential as UiNotCredential, ResultView, ScopeLine, Source as UiSource,
    Verdict as UiVerdict,
};
use certkiosk_appliance::check::Source;
use certkiosk_verify::i18n;
use certkiosk_verify::{Freshness, Lang, NotCredential, ScopeView, Verdict, VerdictCode, Warning};
use jiff::Timestamp;
use jiff::tz::TimeZone;

pub fn verdict_code(code: VerdictCode) -> UiVerdict {
    match code {
        VerdictCode::Valid => UiVerdict::Valid,
        VerdictCode::Revoked => UiVerdict::Revoked,
        VerdictCode::AnnotationExpired => UiVerdict::AnnotationExpired,
        VerdictCode::AnnotationNotYetValid => UiVerdict::AnnotationNotYetValid,
        VerdictCode::AnnotationCancelled => UiVerdict::AnnotationCancelled,
        VerdictCode::AnnotationRequired => UiVerdict::AnnotationRequired,
        VerdictCode::NotFound => UiVerdict::NotFound,
        VerdictCode::StatusUnavailable => UiVerdict::StatusUnavailable,
        VerdictCode::Forged => UiVerdict::Forged,
        VerdictCode::Unreadable => UiVerdict::Unreadable,
    }
}

pub fn freshness(f: Freshness) -> UiFreshness {
    match f {
        Freshness::Fresh => UiFreshness::Fresh,
        Freshness::Aging => UiFreshness::Aging,
        Freshness::Stale => UiFreshness::Stale,
        Freshness::Missing => UiFreshness::Missing,
    }
}

/// Where the result screen says the text was read from. A text given as it is (a text file
/// chosen in the picker) and a file that could not be read say nothing.
fn source(source: Option<Source>) -> UiSource {
    match source {
        None | Some(Source::Payload) => UiSource::None,
        Some(Source::Camera) => UiSource::Camera,
        Some(Source::Scanner) => UiSource::Scanner,
        Some(Source::QrImage) => UiSource::QrImage,
        Some(Source::PdfEmbedded) => UiSource::PdfEmbedded,
        Some(Source::PdfImage) => UiSource::PdfImage,
        Some(Source::PdfVector) => UiSource::PdfVector,
        Some(Source::Manual) => UiSource::Manual,
    }
}

fn not_credential(n: Option<NotCredential>) -> UiNotCredential {
    match n {
        None => UiNotCredential::None,
        Some(NotCredential::Empty) => UiNotCredential::Empty,
        Some(NotCredential::WebAddress) => UiNotCredential::WebAddress,
        Some(NotCredential::OtherText) => UiNotCredential::OtherText,
        Some(NotCredential::Damaged) => UiNotCredential::Damaged,
        Some(NotCredential::TooLong) => UiNotCredential::TooLong,
    }
}

fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC)
}

/// `t` in Beijing time, written with the strftime `format`.
fn beijing(t: Timestamp, format: &str) -> String {
    t.to_zoned(shanghai()).strftime(format).to_string()
}

/// A moment as people at the desk read it: Beijing time, to the minute.
pub fn moment(t: Timestamp) -> String {
    beijing(t, "%Y-%m-%d %H:%M")
}

/// The first name present in the wanted language, else the other, else the code.
fn pick(lang: Lang, zh: Option<&str>, en: Option<&str>, code: &str) -> String {
    let (first, second) = match lang {
        // Names are the data's (Simplified); official names are not converted.
        Lang::Zh | Lang::ZhHant => (zh, en),
        Lang::En => (en, zh),
    };
    first.or(second).unwrap_or(code).to_owned()
}

/// What a field shows when the verdict has nothing for it.
const NONE: &str = "—";

/// A last year this late means the qualification is covered to date.
const OPEN_ENDED: i16 = 2099;

fn scope_line(s: &ScopeView, lang: Lang) -> ScopeLine {
    ScopeLine {
        qualification: pick(
            lang,
            s.qualification_zh.as_deref(),
            s.qualification_en.as_deref(),
            &s.qualification_code,
        )
        .into(),
        first_year: s.first_year.into(),
        last_year: s.last_year.into(),
        to_date: s.last_year >= OPEN_ENDED,
    }
}

/// A text from the credential or the status data as the screen shows it: any character that
/// would hide itself or reorder its neighbours (a right-to-left override, a zero-width space)
/// shown by its code, `⟨U+202E⟩`, so that 王‹RLO›伟明 cannot pass for 王明伟.
pub fn shown(text: &str) -> slint::SharedString {
    let visible: &str = &certkiosk_formats::escape::visible(text);
    visible.into()
}

/// Hours and minutes, Beijing time: "already checked today at 08:14".
pub fn hours_minutes(t: Timestamp) -> String {
    beijing(t, "%H:%M")
}

/// The time of day as the result's stamp shows it: Beijing time, to the second.
pub fn time_of_day(t: Timestamp) -> String {
    beijing(t, "%H:%M:%S")
}

pub fn result_view(v: &Verdict, from: Option<Source>, lang: Lang) -> ResultView {
    let mut view = ResultView {
        verdict: verdict_code(v.verdict),
        source: source(from),
        status_stale: v.warnings.contains(&Warning::StatusStale),
        data_age_hours: i18n::data_age_hours(v).map_or(-1, |h| h.min(i64::from(i32::MAX)) as i32),
        clock_suspect: v.warnings.contains(&Warning::ClockSuspect),
        annotation_not_checked: v.warnings.contains(&Warning::AnnotationNotChecked),
        hidden_characters: v.warnings.contains(&Warning::HiddenCharacters),
        scope: slint::VecModel::from_slice(&v.scope.iter().map(|s| scope_line(s, lang)).collect::<Vec<_>>()),
        status_as_of: v.status_as_of.map(moment).unwrap_or_default().into(),
        freshness: freshness(v.freshness),
        not_credential: not_credential(v.not_credential),
        ..ResultView::default()
    };
    if let Some(c) = &v.certificate {
        view.has_certificate = true;
        view.holder = shown(&c.holder_name);
        // A manual lookup has no ID number to show, masked or not.
        view.masked_id = shown(c.masked_id.as_deref().unwrap_or(NONE));
        view.qualification = shown(&pick(
            lang,
            c.qualification_zh.as_deref(),
            c.qualification_en.as_deref(),
            &c.qualification_code,
        ));
        view.level = pick(lang, Some(&i18n::in_script(lang, c.level_zh)), Some(c.level_en), "").into();
        view.specialty = shown(c.specialty.as_deref().unwrap_or_default());
        view.management_number = shown(&c.management_number);
        view.certificate_number = shown(c.certificate_number.as_deref().unwrap_or_default());
        view.issuing_body = shown(&pick(
            lang,
            c.issuing_body_zh.as_deref(),
            c.issuing_body_en.as_deref(),
            &c.issuing_body_code,
        ));
        view.approved_on = c.approved_on.to_string().into();
        view.issued_on = c.ecert_issued_on.to_string().into();
    }
    if let Some(a) = &v.annotation {
        view.has_annotation = true;
        view.scenario = shown(&pick(
            lang,
            Some(&i18n::in_script(lang, &a.scenario_zh)),
            Some(&a.scenario_en),
            "",
        ));
        view.valid_from = a.valid_from.to_string().into();
        view.valid_until = a.valid_until.to_string().into();
        view.days_left = i32::try_from(a.days_left).unwrap_or(0);
        let today = v.checked_at.to_zoned(shanghai()).date();
        view.starts_in = today.until(a.valid_from).map_or(0, |span| span.get_days());
        view.cancelled_at = a.cancelled_at.map(moment).unwrap_or_default().into();
    }
    if let Some(r) = &v.revocation {
        view.has_revocation = true;
        view.revoked_at = moment(r.revoked_at).into();
        let code_zh = r.reason_code_zh.map(|z| i18n::in_script(lang, z));
        let code_name = pick(lang, code_zh.as_deref(), r.reason_code_en, &r.reason_code);
        view.revocation_reason = if r.reason.is_empty() {
            shown(&code_name)
        } else {
            shown(&format!("{code_name}: {}", r.reason))
        };
        view.revoked_by = pick(
            lang,
            r.revoked_by_zh.as_deref(),
            r.revoked_by_en.as_deref(),
            &r.revoked_by_code,
        )
        .into();
    }
    view
}

/// A certificate as a verdict shows it, for the crate's unit tests: 经济 intermediate, issued
/// by the ministry, with `number` and `holder`.
#[cfg(test)]
pub(crate) fn test_certificate(number: &str, holder: &str) -> certkiosk_verify::verdict::CertificateView {
    certkiosk_verify::verdict::CertificateView {
        management_number: number.into(),
        certificate_number: None,
        holder_name: holder.into(),
        masked_id: None,
        qualification_code: "0301".into(),
        qualification_zh: None,
        qualification_en: None,
        level: certkiosk_formats::credential::Level::Intermediate,
        level_zh: "中级",
        level_en: "Intermediate",
        specialty: None,
        issuing_body_code: "MOHRSS".into(),
        issuing_body_zh: None,
        issuing_body_en: None,
        approved_on: jiff::civil::date(2023, 4, 11),
        ecert_issued_on: jiff::civil::date(2023, 6, 10),
        seal_key_id: None,
        seal_kind: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_shows_as_the_screen_names_it() {
        let shown: Vec<_> = Source::ALL.into_iter().map(|s| source(Some(s))).collect();
        assert_eq!(
            shown,
            [
                UiSource::None,
                UiSource::Camera,
                UiSource::Scanner,
                UiSource::QrImage,
                UiSource::PdfEmbedded,
                UiSource::PdfImage,
                UiSource::PdfVector,
                UiSource::Manual,
            ]
        );
        assert_eq!(source(None), UiSource::None, "a file that could not be read");
    }

    #[test]
    fn hidden_characters_are_shown_by_their_code_and_the_result_is_warned() {
        let at: Timestamp = "2026-03-01T08:00:00Z".parse().expect("timestamp");
        let mut v = certkiosk_verify::unreadable(String::new(), at);
        v.verdict = VerdictCode::Valid;
        v.warnings = vec![Warning::HiddenCharacters];
        v.certificate = Some(certkiosk_verify::verdict::CertificateView {
            masked_id: Some("110***********123X".into()),
            specialty: Some("建筑\u{2066}".into()),
            ..test_certificate("2023030100000001", "王\u{202E}伟明\u{200B}")
        });
        let view = result_view(&v, Some(Source::Camera), Lang::Zh);
        assert_eq!(view.holder, "王⟨U+202E⟩伟明⟨U+200B⟩");
        assert_eq!(view.specialty, "建筑⟨U+2066⟩");
        assert!(view.hidden_characters);
    }

    #[test]
    fn moments_are_beijing_time() {
        let t: Timestamp = "2026-03-01T16:30:00Z".parse().expect("timestamp");
        assert_eq!(moment(t), "2026-03-02 00:30");
    }

    #[test]
    fn scope_lines_name_the_qualification_in_the_language_shown() {
        let scope = |last_year| ScopeView {
            qualification_code: "0301".into(),
            qualification_zh: Some("经济专业技术资格".into()),
            qualification_en: None,
            first_year: 2017,
            last_year,
        };
        let line = scope_line(&scope(2099), Lang::En);
        assert_eq!(
            line.qualification, "经济专业技术资格",
            "the other language, not the code"
        );
        assert!(line.to_date, "2099 is open-ended");
        let line = scope_line(&scope(2025), Lang::Zh);
        assert_eq!((line.first_year, line.last_year, line.to_date), (2017, 2025, false));
    }

    #[test]
    fn names_fall_back_to_the_other_language_then_the_code() {
        assert_eq!(pick(Lang::En, Some("经济"), None, "X1"), "经济");
        assert_eq!(pick(Lang::Zh, Some("经济"), Some("Economics"), "X1"), "经济");
        assert_eq!(pick(Lang::En, Some("经济"), Some("Economics"), "X1"), "Economics");
        assert_eq!(pick(Lang::En, None, None, "X1"), "X1");
    }
}
