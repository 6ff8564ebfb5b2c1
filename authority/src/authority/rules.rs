//! The issuing rules, as pure functions of what the authority's state says: no SQLite, no
//! keys, no clock. [`super::Authority`] gathers the facts, asks these, then writes and seals.

use super::AuthorityError;
use crate::calendar::{self, ANNOTATION_ERA_START};
use crate::credential::{self, Scenario};
use crate::status::{Revocation, RevocationReason};
use crate::trust::SealKind;
use jiff::Timestamp;
use jiff::civil::Date;

/// Longest annotation validity, in days counted inclusively (docs/design.md §1): the rule the
/// verifier enforces too.
pub use crate::credential::MAX_ANNOTATION_DAYS;
/// The window, in days back from the day of application, in which valid annotations count.
pub const ANNOTATION_WINDOW_DAYS: i64 = 90;
/// At most this many valid annotations per certificate in the window.
pub const MAX_ANNOTATIONS_IN_WINDOW: usize = 3;
/// The scenarios the authority offers today: those the verifiers know.
pub const OFFERED_SCENARIOS: [Scenario; 1] = Scenario::KNOWN;

type Result<T = ()> = std::result::Result<T, AuthorityError>;

fn invalid(field: &'static str, problem: impl Into<String>) -> AuthorityError {
    AuthorityError::Invalid {
        field,
        problem: problem.into(),
    }
}

/// What a certificate request must satisfy on `today` (the civil day in China).
pub fn check_issue(req: &super::IssueRequest, today: Date) -> Result {
    let name_chars = req.holder_name.chars().count();
    if req.holder_name.trim().is_empty() || name_chars > credential::MAX_NAME_CHARS {
        return Err(invalid("holder name", "must have 1 to 50 characters"));
    }
    // Nothing invisible, no control, no bidi override: only what a name is written in.
    if let Some((at, c)) = certkiosk_formats::names::first_refused(&req.holder_name) {
        return Err(invalid(
            "holder name",
            format!(
                "character {} (U+{:04X}) is not allowed in a name (docs/design.md §3.1)",
                at + 1,
                u32::from(c)
            ),
        ));
    }
    let text_ok = |s: &str| {
        !s.trim().is_empty()
            && s.chars().count() <= credential::MAX_TEXT_CLAIM_CHARS
            && !s.chars().any(certkiosk_formats::escape::is_hidden)
    };
    if !crate::lookup::is_masked_id_number(&req.masked_id) {
        return Err(invalid(
            "masked ID",
            "must be an ID number masked as 3 digits, 11 '*', 3 digits and a digit or X (110***********123X)",
        ));
    }
    for (field, v) in [
        ("specialty", &req.specialty),
        ("certificate number", &req.certificate_number),
    ] {
        if v.as_deref().is_some_and(|s| !text_ok(s)) {
            return Err(invalid(field, "must have 1 to 64 visible characters"));
        }
    }
    if req.ecert_issued_on < req.approved_on {
        return Err(invalid("e-certificate issue date", "is before the approval date"));
    }
    if req.ecert_issued_on > today {
        return Err(invalid("e-certificate issue date", "is in the future"));
    }
    Ok(())
}

/// The management number of the `serial`-th certificate: approval year, qualification code,
/// serial in eight digits.
pub fn management_number(approved_on: Date, qualification: &str, serial: i64) -> String {
    format!("{}{qualification}{serial:08}", approved_on.year())
}

/// Whether the authority offers annotations for `scenario` at all.
pub fn check_scenario(scenario: Scenario) -> Result {
    if OFFERED_SCENARIOS.contains(&scenario) {
        Ok(())
    } else {
        Err(AuthorityError::ScenarioNotOffered(scenario.0))
    }
}

/// What the authority knows of a certificate when it is asked to annotate it.
#[derive(Debug, Clone, Copy)]
pub struct Annotatable<'a> {
    pub management_number: &'a str,
    pub revoked: bool,
    /// The seal kind of its qualification.
    pub seal_kind: SealKind,
    pub ecert_issued_on: Date,
    /// Annotations applied for in the window ending today and not cancelled.
    pub valid_in_window: usize,
}

/// Whether `cert` may be annotated for `valid_from..=valid_until`, applied for on `today`.
pub fn check_annotation(cert: &Annotatable<'_>, valid_from: Date, valid_until: Date, today: Date) -> Result {
    let number = || cert.management_number.to_owned();
    if cert.revoked {
        return Err(AuthorityError::Revoked(number()));
    }
    if cert.seal_kind == SealKind::Association && cert.ecert_issued_on < ANNOTATION_ERA_START {
        return Err(AuthorityError::AnnotationNotNeeded(number()));
    }
    if valid_until < valid_from {
        return Err(invalid(
            "annotation validity",
            format!("ends on {valid_until}, before it starts on {valid_from}"),
        ));
    }
    if valid_from < today {
        return Err(AuthorityError::AnnotationBackdated {
            from: valid_from,
            today,
        });
    }
    if calendar::days_between(today, valid_from) > credential::MAX_ANNOTATION_LEAD_DAYS {
        return Err(invalid(
            "annotation validity",
            format!(
                "starts on {valid_from}, more than {} days after the day of application {today}",
                credential::MAX_ANNOTATION_LEAD_DAYS
            ),
        ));
    }
    let days = calendar::days_between(valid_from, valid_until) + 1;
    if days > MAX_ANNOTATION_DAYS {
        return Err(AuthorityError::AnnotationTooLong { days });
    }
    if cert.valid_in_window >= MAX_ANNOTATIONS_IN_WINDOW {
        return Err(AuthorityError::TooManyAnnotations {
            number: number(),
            count: cert.valid_in_window,
            today,
        });
    }
    Ok(())
}

/// The first moment of the annotation window that ends on `today`: counting back 90 days
/// from the day of application, that day included.
pub fn annotation_window_start(today: Date) -> Timestamp {
    let first = calendar::from_day_number(calendar::to_day_number(today) - (ANNOTATION_WINDOW_DAYS - 1));
    calendar::start_of_day(first.unwrap_or(today))
}

/// Whether a cancellation may be recorded with `reason`.
pub fn check_cancellation(reason: &str) -> Result {
    if reason.trim().is_empty() {
        return Err(invalid("reason", "is empty"));
    }
    Ok(())
}

/// The revocation of a certificate issued by `issuing_body`: an empty reason text becomes
/// the reason's standard wording, and the issuing body revokes unless another body is named.
pub fn revocation(
    management_number: &str,
    issuing_body: &str,
    reason: RevocationReason,
    reason_text: &str,
    revoked_by: Option<&str>,
    now: Timestamp,
) -> Revocation {
    let reason_text = if reason_text.trim().is_empty() {
        reason.name_zh()
    } else {
        reason_text
    };
    Revocation {
        management_number: management_number.to_owned(),
        revoked_at: now,
        reason_code: reason.code().to_owned(),
        reason: reason_text.to_owned(),
        revoked_by: revoked_by.unwrap_or(issuing_body).to_owned(),
    }
}

#[cfg(test)]
mod tests;
