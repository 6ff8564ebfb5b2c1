//! What each verdict and warning means to a person, in 简体中文 (default) and English.

use crate::verdict::{Freshness, NotCredential, Verdict, VerdictCode, Warning};
use hant::hant;

mod hant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文.
    #[default]
    Zh,
    En,
    /// 繁體中文: the Simplified texts in Traditional characters (`hant`).
    ZhHant,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" | "zh_CN" | "zh-Hans" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            "zh-Hant" | "zh-TW" | "zh_TW" | "zh-HK" | "zh_HK" => Some(Lang::ZhHant),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
            Lang::ZhHant => "zh-Hant",
        }
    }
}

/// One of a program's own words in `lang`: `zh` for 简体, its Traditional form for 繁體 (it
/// must be in the table: `hant`), `en` for English.
pub fn words(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::ZhHant => hant(zh),
        Lang::En => en,
    }
}

/// A name the program gives (a level, a scenario, a revocation reason), in the script of
/// `lang`: for 繁體 its Traditional form where the table has one; else as it is.
pub fn in_script(lang: Lang, zh: &str) -> String {
    match lang {
        Lang::ZhHant => hant::lookup(zh).unwrap_or(zh).to_owned(),
        Lang::Zh | Lang::En => zh.to_owned(),
    }
}

/// The verdict as a headline word.
pub fn title(code: VerdictCode, lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(title(code, Lang::Zh));
    }
    use VerdictCode::*;
    match (lang, code) {
        (Lang::Zh | Lang::ZhHant, Valid) => "有效",
        (Lang::Zh | Lang::ZhHant, Revoked) => "已撤销",
        (Lang::Zh | Lang::ZhHant, AnnotationExpired) => "加注已过期",
        (Lang::Zh | Lang::ZhHant, AnnotationNotYetValid) => "加注尚未生效",
        (Lang::Zh | Lang::ZhHant, AnnotationCancelled) => "加注已作废",
        (Lang::Zh | Lang::ZhHant, AnnotationRequired) => "未加注",
        (Lang::Zh | Lang::ZhHant, NotFound) => "未查到",
        (Lang::Zh | Lang::ZhHant, StatusUnavailable) => "无法确认状态",
        (Lang::Zh | Lang::ZhHant, Forged) => "伪造",
        (Lang::Zh | Lang::ZhHant, Unreadable) => "无法识别",
        (Lang::En, Valid) => "Valid",
        (Lang::En, Revoked) => "Revoked",
        (Lang::En, AnnotationExpired) => "Annotation expired",
        (Lang::En, AnnotationNotYetValid) => "Annotation not yet valid",
        (Lang::En, AnnotationCancelled) => "Annotation cancelled",
        (Lang::En, AnnotationRequired) => "Not annotated",
        (Lang::En, NotFound) => "Not found",
        (Lang::En, StatusUnavailable) => "Status unavailable",
        (Lang::En, Forged) => "Forged",
        (Lang::En, Unreadable) => "Unreadable",
    }
}

/// The headline of `v`: the verdict's word, except that a valid verdict with a caution (stale
/// data, a suspect clock, a lookup, hidden characters) does not read as the plain word.
pub fn headline(v: &Verdict, lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(headline(v, Lang::Zh));
    }
    match (lang, v.verdict == VerdictCode::Valid && !v.is_plain_green()) {
        (Lang::Zh | Lang::ZhHant, true) => "有效，但请注意",
        (Lang::En, true) => "Valid, with a caution",
        (_, false) => title(v.verdict, lang),
    }
}

/// One line: what the verdict means.
pub fn explanation(code: VerdictCode, lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(explanation(code, Lang::Zh));
    }
    use VerdictCode::*;
    match (lang, code) {
        (Lang::Zh | Lang::ZhHant, Valid) => "电子印章真实，证书未被撤销，当前可以使用。",
        (Lang::Zh | Lang::ZhHant, Revoked) => "该证书已被发证机构撤销，不再有效。",
        (Lang::Zh | Lang::ZhHant, AnnotationExpired) => "证书真实，但加注的有效期已过，当前不能使用。",
        (Lang::Zh | Lang::ZhHant, AnnotationNotYetValid) => "证书真实，但加注的有效期尚未开始。",
        (Lang::Zh | Lang::ZhHant, AnnotationCancelled) => "证书真实，但这次加注已被作废。",
        (Lang::Zh | Lang::ZhHant, AnnotationRequired) => {
            "2021年12月17日起发放的电子证书须加注后才能使用，该证书未加注。"
        }
        (Lang::Zh | Lang::ZhHant, NotFound) => "电子印章真实，但该证书不在本机状态数据的查询验证范围内。",
        (Lang::Zh | Lang::ZhHant, StatusUnavailable) => "本机没有足够新的状态数据，无法确认证书是否被撤销。",
        (Lang::Zh | Lang::ZhHant, Forged) => "电子印章无效：签名不符、印章未知或证书内容被篡改。",
        (Lang::Zh | Lang::ZhHant, Unreadable) => "没有找到可识别的证书二维码内容。",
        (Lang::En, Valid) => "The seal is genuine, the certificate is not revoked and may be used now.",
        (Lang::En, Revoked) => "The issuing body has revoked this certificate; it is no longer valid.",
        (Lang::En, AnnotationExpired) => "The certificate is genuine, but its annotation has expired.",
        (Lang::En, AnnotationNotYetValid) => "The certificate is genuine, but its annotation is not valid yet.",
        (Lang::En, AnnotationCancelled) => "The certificate is genuine, but this annotation was cancelled.",
        (Lang::En, AnnotationRequired) => {
            "E-certificates issued from 2021-12-17 on must be annotated before use; this one is not."
        }
        (Lang::En, NotFound) => "The seal is genuine, but the certificate is outside the scope of the data held.",
        (Lang::En, StatusUnavailable) => "No recent enough status data is held to tell whether it is revoked.",
        (Lang::En, Forged) => "The seal does not hold: bad signature, unknown seal or altered content.",
        (Lang::En, Unreadable) => "No certificate credential could be read from what was presented.",
    }
}

/// One line: what the verdict of a manual lookup means, where it differs from a scan's (no
/// seal was checked; "not found" also covers a name that does not match).
pub fn explanation_manual(code: VerdictCode, lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(explanation_manual(code, Lang::Zh));
    }
    use VerdictCode::*;
    match (lang, code) {
        (Lang::Zh | Lang::ZhHant, Valid) => "查询到与该管理号、姓名和身份证号码相符的证书，证书未被撤销。",
        (Lang::Zh | Lang::ZhHant, NotFound) => {
            "没有与该管理号、姓名和身份证号码相符的证书，或该证书不在本机数据的查询验证范围内。"
        }
        (Lang::En, Valid) => "A certificate with this management number, name and ID number exists and is not revoked.",
        (Lang::En, NotFound) => {
            "No certificate has this management number, name and ID number, or it is outside the scope of the data held."
        }
        _ => explanation(code, lang),
    }
}

/// The explanation of a text read from a code that is no credential (the camera, the handheld
/// scanner, a picture): the same words whichever read it.
pub fn explanation_not_credential(lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(explanation_not_credential(Lang::Zh));
    }
    match lang {
        Lang::Zh | Lang::ZhHant => "这不是证书二维码。",
        Lang::En => "This is not a certificate code.",
    }
}

/// Why a text is no credential, in one line for the person at the desk.
pub fn not_credential(n: NotCredential, lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(not_credential(n, Lang::Zh));
    }
    use NotCredential::*;
    match (lang, n) {
        (Lang::Zh | Lang::ZhHant, Empty) => "二维码里没有任何内容。",
        (Lang::Zh | Lang::ZhHant, WebAddress) => "它是一个网址（链接），不是证书凭证。",
        (Lang::Zh | Lang::ZhHant, OtherText) => "它的内容不是证书凭证（证书凭证以 CK1: 开头）。",
        (Lang::Zh | Lang::ZhHant, Damaged) => "它像证书凭证，但内容已损坏或不完整：可能被截断或改动过。",
        (Lang::Zh | Lang::ZhHant, TooLong) => "它的内容比任何证书凭证都长。",
        (Lang::En, Empty) => "The code holds no text.",
        (Lang::En, WebAddress) => "It holds a web address (a link), not a certificate credential.",
        (Lang::En, OtherText) => "Its text is not a certificate credential (credentials start with CK1:).",
        (Lang::En, Damaged) => {
            "It looks like a credential, but its content is damaged or incomplete: cut short or altered."
        }
        (Lang::En, TooLong) => "Its text is longer than any certificate credential.",
    }
}

/// One line: what the person at the desk should do.
pub fn what_to_do(code: VerdictCode, lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(what_to_do(code, Lang::Zh));
    }
    use VerdictCode::*;
    match (lang, code) {
        (Lang::Zh | Lang::ZhHant, Valid) => "核对持证人身份后即可受理。",
        (Lang::Zh | Lang::ZhHant, Revoked) => "不予受理；如有异议，请持证人联系发证机构。",
        (Lang::Zh | Lang::ZhHant, AnnotationExpired) => "请持证人登录中国人事考试网（cpta.com.cn）重新加注后再出示。",
        (Lang::Zh | Lang::ZhHant, AnnotationNotYetValid) => "请在加注生效日之后再核验，或请持证人重新加注。",
        (Lang::Zh | Lang::ZhHant, AnnotationCancelled) => "请持证人重新加注后再出示。",
        (Lang::Zh | Lang::ZhHant, AnnotationRequired) => "请持证人登录中国人事考试网（cpta.com.cn）加注后再出示。",
        (Lang::Zh | Lang::ZhHant, NotFound) => "请通过发证机构的官方渠道人工核实，或等待本机数据更新。",
        (Lang::Zh | Lang::ZhHant, StatusUnavailable) => "请联系管理员同步状态数据后再核验。",
        (Lang::Zh | Lang::ZhHant, Forged) => "不予受理，必要时报告发证机构。",
        (Lang::Zh | Lang::ZhHant, Unreadable) => "请重新扫描二维码，或打开证书的 PDF 文件。",
        (Lang::En, Valid) => "Check the holder's identity, then accept.",
        (Lang::En, Revoked) => "Do not accept; the holder may contact the issuing body.",
        (Lang::En, AnnotationExpired) => "Ask the holder to annotate again at cpta.com.cn.",
        (Lang::En, AnnotationNotYetValid) => "Verify again once the annotation starts, or ask for a new annotation.",
        (Lang::En, AnnotationCancelled) => "Ask the holder to annotate again at cpta.com.cn.",
        (Lang::En, AnnotationRequired) => "Ask the holder to annotate the certificate at cpta.com.cn.",
        (Lang::En, NotFound) => "Check through the issuing body's official channel, or wait for a data update.",
        (Lang::En, StatusUnavailable) => "Ask the administrator to sync the status data, then verify again.",
        (Lang::En, Forged) => "Do not accept; report it to the issuing body if needed.",
        (Lang::En, Unreadable) => "Scan the QR code again, or open the certificate's PDF.",
    }
}

/// How old the status data of `v` was when it was checked, in whole hours; `None` without data.
pub fn data_age_hours(v: &Verdict) -> Option<i64> {
    v.status_as_of
        .map(|t| (v.checked_at.as_second() - t.as_second()).max(0) / 3600)
}

/// A warning of `v` in words: the age of stale data is the data's own (the fresh window is
/// configurable, so a fixed "more than 48 hours" would be wrong at 40 days).
pub fn warning_text(w: Warning, v: &Verdict, lang: Lang) -> String {
    match w {
        Warning::StatusStale => stale(data_age_hours(v), lang),
        _ => warning(w, lang).to_owned(),
    }
}

/// The stale-data warning for data `age` hours old: days from two days on, else hours.
pub fn stale(age: Option<i64>, lang: Lang) -> String {
    match (lang, age) {
        (Lang::Zh, Some(h)) if h >= 48 => format!("状态数据已 {} 天未更新，结果仅供参考。", h / 24),
        (Lang::Zh, Some(h)) => format!("状态数据已 {h} 小时未更新，结果仅供参考。"),
        (Lang::Zh, None) => "本机没有状态数据，结果仅供参考。".to_owned(),
        (Lang::ZhHant, Some(h)) if h >= 48 => format!("狀態數據已 {} 天未更新，結果僅供參考。", h / 24),
        (Lang::ZhHant, Some(h)) => format!("狀態數據已 {h} 小時未更新，結果僅供參考。"),
        (Lang::ZhHant, None) => hant("本机没有状态数据，结果仅供参考。").to_owned(),
        (Lang::En, Some(h)) if h >= 48 => {
            format!("The status data is {} days old; treat the result with care.", h / 24)
        }
        (Lang::En, Some(h)) => format!("The status data is {h} hours old; treat the result with care."),
        (Lang::En, None) => "There is no status data here; treat the result with care.".to_owned(),
    }
}

/// The fixed text of a warning ([`warning_text`] fills in the age of stale data).
pub fn warning(w: Warning, lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(warning(w, Lang::Zh));
    }
    match (lang, w) {
        (Lang::Zh | Lang::ZhHant, Warning::StatusStale) => "状态数据未及时更新，结果仅供参考。",
        (Lang::Zh | Lang::ZhHant, Warning::ClockSuspect) => "系统时钟早于已知的签名时间，已按该时间判断；请检查时钟。",
        (Lang::En, Warning::StatusStale) => "The status data is out of date; treat the result with care.",
        (Lang::En, Warning::ClockSuspect) => {
            "The system clock is earlier than a signed time already seen; that time was used. Check the clock."
        }
        (Lang::Zh | Lang::ZhHant, Warning::AnnotationNotChecked) => {
            "人工查询只核对证书本身，无法核对加注；2021年12月17日起发放的证书须有有效加注方可使用。"
        }
        (Lang::En, Warning::AnnotationNotChecked) => {
            "A manual lookup checks the certificate, not an annotation; certificates issued from 17 Dec 2021 need a valid annotation to be used."
        }
        (Lang::Zh | Lang::ZhHant, Warning::HiddenCharacters) => {
            "证书中的姓名或其他信息含有不可见或改变文字顺序的字符（以 ⟨U+…⟩ 标出），可能冒充他人姓名；请核对身份证件。"
        }
        (Lang::En, Warning::HiddenCharacters) => {
            "The name or another text in the certificate holds invisible or reordering characters (marked ⟨U+…⟩) and may pose as another name; check the holder's ID."
        }
    }
}

/// The heading of the verification scope shown with `not_found`.
pub fn scope_heading(lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(scope_heading(Lang::Zh));
    }
    match lang {
        Lang::Zh | Lang::ZhHant => "证书查询验证范围",
        Lang::En => "What the data covers",
    }
}

/// One line of the verification scope: the qualification and its years.
pub fn scope_line(s: &crate::ScopeView, lang: Lang) -> String {
    let open_ended = s.last_year >= 2099;
    match lang {
        // The qualification's name as the data has it: official names are not converted.
        Lang::Zh | Lang::ZhHant => {
            let name = s.qualification_zh.as_deref().unwrap_or(&s.qualification_code);
            if open_ended {
                format!("{name}：{}年起", s.first_year)
            } else {
                format!("{name}：{}–{}年", s.first_year, s.last_year)
            }
        }
        Lang::En => {
            let name = s.qualification_en.as_deref().unwrap_or(&s.qualification_code);
            if open_ended {
                format!("{name}: from {}", s.first_year)
            } else {
                format!("{name}: {}–{}", s.first_year, s.last_year)
            }
        }
    }
}

/// The authority's note under the scope: earlier years are still being loaded.
pub fn scope_still_loading(lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(scope_still_loading(Lang::Zh));
    }
    match lang {
        Lang::Zh | Lang::ZhHant => "更早年份的证书数据仍在陆续加载中；查询不到时，请通过发证机构的官方渠道核实。",
        Lang::En => {
            "Certificates from earlier years are still being loaded; if one is not found, check with the issuing body."
        }
    }
}

pub fn freshness(f: Freshness, lang: Lang) -> &'static str {
    if lang == Lang::ZhHant {
        return hant(freshness(f, Lang::Zh));
    }
    match (lang, f) {
        (Lang::Zh | Lang::ZhHant, Freshness::Fresh) => "最新",
        (Lang::Zh | Lang::ZhHant, Freshness::Aging) => "较旧",
        (Lang::Zh | Lang::ZhHant, Freshness::Stale) => "过旧",
        (Lang::Zh | Lang::ZhHant, Freshness::Missing) => "无数据",
        (Lang::En, Freshness::Fresh) => "fresh",
        (Lang::En, Freshness::Aging) => "aging",
        (Lang::En, Freshness::Stale) => "stale",
        (Lang::En, Freshness::Missing) => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Simplified text of the crate, for the Traditional table to cover.
    fn simplified_texts() -> Vec<&'static str> {
        let mut all = vec![
            explanation_not_credential(Lang::Zh),
            scope_heading(Lang::Zh),
            scope_still_loading(Lang::Zh),
        ];
        for code in VerdictCode::ALL {
            all.extend([
                title(code, Lang::Zh),
                explanation(code, Lang::Zh),
                explanation_manual(code, Lang::Zh),
                what_to_do(code, Lang::Zh),
            ]);
        }
        use NotCredential::*;
        all.extend([Empty, WebAddress, OtherText, Damaged, TooLong].map(|n| not_credential(n, Lang::Zh)));
        use Warning::*;
        all.extend([StatusStale, ClockSuspect, AnnotationNotChecked, HiddenCharacters].map(|w| warning(w, Lang::Zh)));
        all.extend(
            [Freshness::Fresh, Freshness::Aging, Freshness::Stale, Freshness::Missing].map(|f| freshness(f, Lang::Zh)),
        );
        let mut warned = crate::unreadable(String::new(), "2026-01-01T00:00:00Z".parse().expect("time"));
        warned.verdict = VerdictCode::Valid;
        warned.warnings = vec![StatusStale];
        all.push(headline(&warned, Lang::Zh));
        all
    }

    #[test]
    fn every_text_reads_in_traditional_characters_too() {
        // Characters whose Traditional form differs: none may be left in a 繁體 text.
        let simplified_only = "证书销过这识别数据码务验对发机构请无询时钟间态没该须网开头损坏长里规围后";
        for text in simplified_texts() {
            assert!(hant::has(text), "no Traditional form for {text:?}");
            let traditional = hant(text);
            assert!(
                !traditional.chars().any(|c| simplified_only.contains(c)),
                "{traditional:?} keeps a Simplified character"
            );
        }
        assert_eq!(title(VerdictCode::Revoked, Lang::ZhHant), "已撤銷");
        assert_eq!(
            stale(Some(24 * 40), Lang::ZhHant),
            "狀態數據已 40 天未更新，結果僅供參考。"
        );
        assert_eq!(Lang::parse("zh-TW"), Some(Lang::ZhHant));
        assert_eq!(Lang::parse(Lang::ZhHant.code()), Some(Lang::ZhHant));
        use certkiosk_formats::credential::Level;
        for level in Level::ALL {
            assert!(hant::has(level.name_zh()), "{level:?}");
        }
        for reason in certkiosk_formats::status::RevocationReason::ALL {
            assert!(hant::has(reason.name_zh()) || reason.name_zh() == "其他", "{reason:?}");
        }
        assert_eq!(
            in_script(
                Lang::ZhHant,
                &certkiosk_formats::credential::Scenario::SELF_USE.name_zh()
            ),
            "本人調用"
        );
    }

    #[test]
    fn every_code_has_distinct_texts_in_both_languages() {
        for lang in [Lang::Zh, Lang::En, Lang::ZhHant] {
            let mut seen = std::collections::HashSet::new();
            for code in VerdictCode::ALL {
                assert!(seen.insert(title(code, lang)), "{code} title repeats");
                assert!(!explanation(code, lang).is_empty() && !what_to_do(code, lang).is_empty());
                assert!(!explanation(code, lang).contains('\n'), "one line: {code}");
            }
        }
        assert!(
            explanation(VerdictCode::Valid, Lang::Zh)
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        );
    }
}
