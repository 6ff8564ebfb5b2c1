//! Verdicts: the codes of docs/design.md §4, their warnings, and what a verdict tells the person.

use certkiosk_formats::credential::{Level, ReadError, Scenario};
use certkiosk_formats::trust::{KeyId, SealKind};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use std::fmt;

/// The verdict codes, shared by the CLI, the UI and any API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictCode {
    Valid,
    Revoked,
    AnnotationExpired,
    AnnotationNotYetValid,
    AnnotationCancelled,
    AnnotationRequired,
    NotFound,
    StatusUnavailable,
    Forged,
    Unreadable,
}

impl VerdictCode {
    pub const ALL: [VerdictCode; 10] = [
        VerdictCode::Valid,
        VerdictCode::Revoked,
        VerdictCode::AnnotationExpired,
        VerdictCode::AnnotationNotYetValid,
        VerdictCode::AnnotationCancelled,
        VerdictCode::AnnotationRequired,
        VerdictCode::NotFound,
        VerdictCode::StatusUnavailable,
        VerdictCode::Forged,
        VerdictCode::Unreadable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictCode::Valid => "valid",
            VerdictCode::Revoked => "revoked",
            VerdictCode::AnnotationExpired => "annotation_expired",
            VerdictCode::AnnotationNotYetValid => "annotation_not_yet_valid",
            VerdictCode::AnnotationCancelled => "annotation_cancelled",
            VerdictCode::AnnotationRequired => "annotation_required",
            VerdictCode::NotFound => "not_found",
            VerdictCode::StatusUnavailable => "status_unavailable",
            VerdictCode::Forged => "forged",
            VerdictCode::Unreadable => "unreadable",
        }
    }

    pub fn colour(self) -> Colour {
        match self {
            VerdictCode::Valid => Colour::Green,
            VerdictCode::AnnotationNotYetValid | VerdictCode::NotFound | VerdictCode::StatusUnavailable => {
                Colour::Amber
            }
            VerdictCode::Unreadable => Colour::Grey,
            _ => Colour::Red,
        }
    }
}

impl fmt::Display for VerdictCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Green,
    Amber,
    Red,
    Grey,
}

/// Warnings that ride along with any verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// The status data is older than the fresh window: the result is never plain green.
    StatusStale,
    /// The system clock is earlier than the newest signed time seen; that time was used as now.
    ClockSuspect,
    /// A manual lookup found the certificate, which needs an annotation to be used (issued
    /// from 2021-12-17): the lookup confirms the certificate, it cannot check an annotation.
    AnnotationNotChecked,
    /// The holder's name (or another text of the credential) holds a character that hides
    /// itself or reorders its neighbours — a bidi override, a zero-width space, a control — so
    /// it can read as another name. The authority does not issue such names; shown with the
    /// characters made visible (`⟨U+202E⟩`), never plain green.
    HiddenCharacters,
}

impl Warning {
    pub fn as_str(self) -> &'static str {
        match self {
            Warning::StatusStale => "status_stale",
            Warning::ClockSuspect => "clock_suspect",
            Warning::AnnotationNotChecked => "annotation_not_checked",
            Warning::HiddenCharacters => "hidden_characters",
        }
    }
}

/// Why a text read from a code is no credential, in words a person at the desk can act on
/// (the camera and the handheld scanner alike); `reason` keeps the operator's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCredential {
    /// The code holds no text.
    Empty,
    /// A web address: a link printed beside the certificate's own code, a poster's code.
    WebAddress,
    /// Some other text.
    OtherText,
    /// It starts as a credential does but cannot be read: cut short, damaged or altered.
    Damaged,
    /// Longer than any credential.
    TooLong,
}

impl NotCredential {
    /// What `text`, refused by [`Envelope::parse`](certkiosk_formats::credential::Envelope::parse)
    /// with `error`, is.
    pub fn of(text: &str, error: &ReadError) -> NotCredential {
        match error {
            ReadError::Empty => NotCredential::Empty,
            ReadError::TooLong { .. } => NotCredential::TooLong,
            ReadError::NoPrefix if is_web_address(text) => NotCredential::WebAddress,
            ReadError::NoPrefix => NotCredential::OtherText,
            ReadError::Base45(_)
            | ReadError::Inflate(_)
            | ReadError::Inflated { .. }
            | ReadError::Cose(_)
            | ReadError::NoPayload => NotCredential::Damaged,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NotCredential::Empty => "empty",
            NotCredential::WebAddress => "web_address",
            NotCredential::OtherText => "other_text",
            NotCredential::Damaged => "damaged",
            NotCredential::TooLong => "too_long",
        }
    }
}

/// `scheme://…` (http, https, weixin …) or `www.…`, as phones' scanners treat a link.
fn is_web_address(text: &str) -> bool {
    let t = text.trim();
    let scheme = t.split_once("://").map(|(s, _)| s);
    scheme.is_some_and(|s| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    }) || t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("www."))
}

/// How old the status data is, graded (docs/design.md §4, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Within the fresh window (default 48 h).
    Fresh,
    /// Older than the fresh window, within the maximum age (default 30 days).
    Aging,
    /// Older than the maximum age: status cannot be decided.
    Stale,
    /// No status data at all.
    Missing,
}

/// The certificate as the verdict shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateView {
    pub management_number: String,
    pub certificate_number: Option<String>,
    pub holder_name: String,
    /// None for a manual lookup: the index carries no ID number, masked or not.
    pub masked_id: Option<String>,
    pub qualification_code: String,
    pub qualification_zh: Option<String>,
    pub qualification_en: Option<String>,
    pub level: Level,
    pub level_zh: &'static str,
    pub level_en: &'static str,
    pub specialty: Option<String>,
    pub issuing_body_code: String,
    pub issuing_body_zh: Option<String>,
    pub issuing_body_en: Option<String>,
    pub approved_on: Date,
    pub ecert_issued_on: Date,
    /// The seal that signed the credential; none for a manual lookup, which checks no seal.
    pub seal_key_id: Option<KeyId>,
    pub seal_kind: Option<SealKind>,
}

/// One line of the verification scope (证书查询验证范围), shown with `not_found`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeView {
    pub qualification_code: String,
    pub qualification_zh: Option<String>,
    pub qualification_en: Option<String>,
    pub first_year: i16,
    /// 2099 and later mean "to date".
    pub last_year: i16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnotationView {
    pub id: u64,
    pub scenario: Scenario,
    pub scenario_zh: String,
    pub scenario_en: String,
    pub requested_at: Timestamp,
    pub valid_from: Date,
    pub valid_until: Date,
    /// Usable days left, today included (1 on the last day, 0 once expired or not yet valid).
    pub days_left: i64,
    pub cancelled_at: Option<Timestamp>,
    pub cancellation_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationView {
    pub revoked_at: Timestamp,
    pub reason_code: String,
    /// The reason code's name, where the code is known.
    pub reason_code_zh: Option<&'static str>,
    pub reason_code_en: Option<&'static str>,
    /// The authority's own words.
    pub reason: String,
    pub revoked_by_code: String,
    pub revoked_by_zh: Option<String>,
    pub revoked_by_en: Option<String>,
}

/// The outcome of verifying one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub verdict: VerdictCode,
    pub warnings: Vec<Warning>,
    /// A technical one-line reason (why forged, why unreadable, what scope), for operators.
    pub reason: Option<String>,
    /// With `unreadable`, when a text was read but is no credential: why, for the person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_credential: Option<NotCredential>,
    pub certificate: Option<CertificateView>,
    pub annotation: Option<AnnotationView>,
    pub revocation: Option<RevocationView>,
    /// With `not_found`: what the data covers, so the person knows what "not found" means.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<ScopeView>,
    /// `as_of` of the status data held, if any.
    pub status_as_of: Option<Timestamp>,
    /// Later of `status_as_of` and the annotation's requested-at: what freshness is graded on.
    pub status_time: Option<Timestamp>,
    pub freshness: Freshness,
    /// The "now" the decision was made at (the clock floor when the clock was suspect).
    pub checked_at: Timestamp,
}

impl Verdict {
    pub(crate) fn bare(code: VerdictCode, reason: Option<String>, checked_at: Timestamp) -> Verdict {
        Verdict {
            verdict: code,
            warnings: Vec::new(),
            reason,
            not_credential: None,
            certificate: None,
            annotation: None,
            revocation: None,
            scope: Vec::new(),
            status_as_of: None,
            status_time: None,
            freshness: Freshness::Missing,
            checked_at,
        }
    }

    /// Plain green only when valid with no warnings.
    pub fn is_plain_green(&self) -> bool {
        self.verdict == VerdictCode::Valid && self.warnings.is_empty()
    }

    /// The colour a person is shown: the code's, except that a valid verdict with a warning
    /// (stale data, a suspect clock, an annotation a lookup cannot check) is amber, never
    /// plain green — on the kiosk, in `certd verify`'s text and in its JSON alike.
    pub fn colour(&self) -> Colour {
        if self.verdict == VerdictCode::Valid && !self.is_plain_green() {
            Colour::Amber
        } else {
            self.verdict.colour()
        }
    }
}
