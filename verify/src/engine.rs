//! Payload → verdict: a pure function of (credential text, store snapshot, time, policy).
//!
//! Precedence (docs/design.md §4): unreadable → forged → revoked → annotation problems →
//! status_unavailable → not_found → valid. Among annotation problems: required → cancelled →
//! expired → not yet valid. Every decision about days is made on civil dates in Asia/Shanghai.

use crate::verdict::{
    AnnotationView, CertificateView, Freshness, NotCredential, RevocationView, ScopeView, Verdict, VerdictCode, Warning,
};
use certkiosk_formats::calendar::{self, ANNOTATION_ERA_START};
use certkiosk_formats::credential::{Claims, Envelope};
use certkiosk_formats::escape;
use certkiosk_formats::lookup::{LookupEntry, holder_digest};
use certkiosk_formats::status::{Qualification, Revocation, RevocationReason};
use certkiosk_formats::trust::{SealKey, Sealing};
use certkiosk_store::{Reader, Scope, StoreError};
use jiff::{SignedDuration, Timestamp};

/// Freshness policy (configurable in certd.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Data younger than this is fresh (default 48 h).
    pub fresh_window: SignedDuration,
    /// Data older than this cannot decide status (default 30 days).
    pub max_status_age: SignedDuration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fresh_window: SignedDuration::from_hours(48),
            max_status_age: SignedDuration::from_hours(24 * 30),
        }
    }
}

impl Policy {
    /// Grade status data that is `age` old (docs/design.md §4): the one place the thresholds apply,
    /// for verdicts and for `certd status` alike.
    pub fn grade(&self, age: SignedDuration) -> Freshness {
        if age <= self.fresh_window {
            Freshness::Fresh
        } else if age <= self.max_status_age {
            Freshness::Aging
        } else {
            Freshness::Stale
        }
    }
}

/// How far a genuine annotation's application time may raise "now" past the clock and its
/// floor (docs/design.md §4): the authority's and the appliance's clocks may differ by this
/// much; an annotation dated later than that is checked at this time, not at its own.
pub const ANNOTATION_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(10);

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    /// The system clock: checked against the clock floor (the newest signed time seen); when
    /// earlier, the floor is used and `clock_suspect` is warned.
    System(Timestamp),
    /// An explicit time (`--at`): taken as it is.
    Explicit(Timestamp),
}

/// Verify one credential text against the store.
pub fn verify(text: &str, store: &Reader<'_>, now: Now, policy: &Policy) -> Verdict {
    let given = match now {
        Now::System(t) | Now::Explicit(t) => t,
    };
    let envelope = match Envelope::parse(text) {
        Ok(e) => e,
        Err(e) => {
            return Verdict {
                not_credential: Some(NotCredential::of(text, &e)),
                ..unreadable_with_data(e.to_string(), store, given, policy)
            };
        }
    };
    match decide(&envelope, store, now, policy) {
        Ok(v) => v,
        Err(e) => Verdict::bare(VerdictCode::StatusUnavailable, Some(format!("store error: {e}")), given),
    }
}

/// The verdict on an input that held no credential text (a picture without a code, a file
/// that could not be read): `unreadable`, with `reason` for the operator.
pub fn unreadable(reason: String, at: Timestamp) -> Verdict {
    Verdict::bare(VerdictCode::Unreadable, Some(reason), at)
}

/// [`unreadable`], showing the age of the data it would have been checked against (a
/// screen that says "no data" beside an unreadable code misleads).
pub fn unreadable_with_data(reason: String, store: &Reader<'_>, at: Timestamp, policy: &Policy) -> Verdict {
    let mut v = unreadable(reason, at);
    if let Ok(Some(p)) = store.publication() {
        v.status_as_of = Some(p.as_of);
        grade_at(&mut v, None, policy);
    }
    v
}

/// Verify one credential text when there is no store to verify against (an appliance before
/// its first sync, a store that cannot be opened): a text that is no credential is
/// `unreadable`; any other cannot be decided, `status_unavailable`, with `reason`.
pub fn without_store(text: &str, reason: &str, at: Timestamp) -> Verdict {
    match Envelope::parse(text) {
        Err(e) => Verdict {
            not_credential: Some(NotCredential::of(text, &e)),
            ..Verdict::bare(VerdictCode::Unreadable, Some(e.to_string()), at)
        },
        Ok(_) => Verdict::bare(VerdictCode::StatusUnavailable, Some(reason.to_owned()), at),
    }
}

/// The time decisions are made at: an explicit time as it is; the system clock, unless it is
/// earlier than the newest signed time seen (then that, with `clock_suspect`).
pub(crate) fn effective_now(store: &Reader<'_>, now: Now) -> Result<(Timestamp, Vec<Warning>), StoreError> {
    Ok(match now {
        Now::Explicit(t) => (t, Vec::new()),
        Now::System(t) => match store.clock_floor()? {
            Some(floor) if floor > t => (floor, vec![Warning::ClockSuspect]),
            _ => (t, Vec::new()),
        },
    })
}

fn decide(envelope: &Envelope, store: &Reader<'_>, now: Now, policy: &Policy) -> Result<Verdict, StoreError> {
    let system_clock = matches!(now, Now::System(_));
    let (mut now, warnings) = effective_now(store, now)?;
    let Some(publication) = store.publication()? else {
        let mut v = Verdict::bare(
            VerdictCode::StatusUnavailable,
            Some("no status data has been synced".into()),
            now,
        );
        v.warnings = warnings;
        return Ok(v);
    };
    let mut v = Verdict::bare(VerdictCode::Valid, None, now);
    v.warnings = warnings;
    v.status_as_of = Some(publication.as_of);

    // Seal. A forgery still shows how old the data it was judged on is.
    let forged = |mut v: Verdict, reason: String| {
        v.verdict = VerdictCode::Forged;
        v.reason = Some(reason);
        grade_at(&mut v, None, policy);
        Ok(v)
    };
    let key_id = match envelope.key_id() {
        Ok(k) => k,
        Err(e) => return forged(v, e.to_string()),
    };
    let Some(seal) = store.seal(key_id)? else {
        // A seal put in service after the data was published is unknown too: only fresh data
        // can tell a forgery from a seal it has not heard of yet.
        let mut v = forged(v, format!("seal {key_id} is not a known seal"))?;
        if v.freshness != Freshness::Fresh {
            v.verdict = VerdictCode::StatusUnavailable;
            v.reason = Some(format!(
                "seal {key_id} is not in the seal list of {}, which is not fresh: sync the status data, then verify again",
                calendar::date_in_china(publication.as_of)
            ));
        }
        return Ok(v);
    };
    if let Err(e) = envelope.verify(&seal.public_key) {
        return forged(v, e.to_string());
    }
    let claims = match envelope.claims() {
        Ok(c) => c,
        Err(e) => {
            v.verdict = VerdictCode::Unreadable;
            v.reason = Some(format!("sealed claims cannot be read: {e}"));
            return Ok(v);
        }
    };
    // A management number is letters, digits and hyphens: anything else could pose as a
    // number on the revocation list without being it.
    if !claims
        .management_number
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        let reason = format!(
            "management number {} holds characters no management number has",
            escape::line(&claims.management_number)
        );
        return forged(v, reason);
    }
    // Rules no annotation the authority signs breaks: whatever sealed it, one that does is
    // not genuine.
    if let Some(a) = &claims.annotation
        && let Err(e) = a.check_rules(claims.ecert_issued_on)
    {
        return forged(v, e.to_string());
    }
    // The seal, on the day it sealed this credential, for this qualification: the seal list
    // says which seal may seal what, when, and from when a seal is compromised.
    let sealing = claims
        .annotation
        .as_ref()
        .map_or(Sealing::Issue(claims.ecert_issued_on), |a| {
            Sealing::Annotation(a.requested_at)
        });
    if let Err(e) = seal.may_seal(&claims.qualification, sealing) {
        return forged(v, e.to_string());
    }
    let qualification = match store.qualification(&claims.qualification)? {
        Some(q) if q.body == claims.issuing_body => q,
        Some(q) => {
            let reason = format!(
                "qualification {} is issued by {}, not by {} (rule: the catalogue's issuing body)",
                claims.qualification, q.body, claims.issuing_body
            );
            return forged(v, reason);
        }
        None => {
            let reason = format!("qualification {} is not in the catalogue", claims.qualification);
            return forged(v, reason);
        }
    };
    // Where the lookup index holds a qualification's certificates, it holds this one, as
    // sealed: a number it lacks was never issued (or only since the data was published).
    let listed = match store.lookup_meta()? {
        Some(meta) if meta.qualifications.contains(&claims.qualification) => {
            match store.lookup_row(&claims.management_number)? {
                Some(row) => {
                    let salt = store.lookup_salt(row.salt_version)?;
                    let holder = holder_digest(
                        meta.kdf,
                        &salt,
                        &claims.management_number,
                        &claims.holder_name,
                        &claims.masked_id,
                    );
                    let field = index_mismatch(&row, &claims).or((holder != row.digest).then_some("holder"));
                    if let Some(field) = field {
                        let reason = format!(
                            "the status data lists management number {} with another {field} (rule: the lookup index)",
                            escape::line(&claims.management_number)
                        );
                        return forged(v, reason);
                    }
                    true
                }
                None => false,
            }
        }
        _ => true,
    };
    v.certificate = Some(certificate_view(&claims, &seal, qualification, store)?);
    let texts = [
        Some(&claims.management_number),
        Some(&claims.holder_name),
        Some(&claims.masked_id),
        claims.specialty.as_ref(),
        claims.certificate_number.as_ref(),
    ];
    if texts.into_iter().flatten().any(|t| t.chars().any(escape::is_hidden)) {
        v.warnings.push(Warning::HiddenCharacters);
    }
    // A genuine annotation proves that its application time has passed: a system clock
    // earlier than that is wrong too. But only by a little: the time is raised at most
    // ANNOTATION_CLOCK_SKEW past the clock (or its floor), so an annotation dated in the
    // future cannot carry "now" forward to its own validity.
    if let Some(a) = &claims.annotation
        && system_clock
        && a.requested_at > now
    {
        now = a
            .requested_at
            .min(now.saturating_add(ANNOTATION_CLOCK_SKEW).unwrap_or(now));
        v.checked_at = now;
        if !v.warnings.contains(&Warning::ClockSuspect) {
            v.warnings.push(Warning::ClockSuspect);
        }
    }
    let today = calendar::date_in_china(now);
    if let Some(a) = &claims.annotation {
        let cancellation = store.cancellation(a.id)?;
        let days_left = if today < a.valid_from || today > a.valid_until {
            0
        } else {
            calendar::days_between(today, a.valid_until) + 1
        };
        v.annotation = Some(AnnotationView {
            id: a.id,
            scenario: a.scenario,
            scenario_zh: a.scenario.name_zh(),
            scenario_en: a.scenario.name_en(),
            requested_at: a.requested_at,
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            days_left,
            cancelled_at: cancellation.as_ref().map(|c| c.cancelled_at),
            cancellation_reason: cancellation.map(|c| c.reason),
        });
    }

    // Revoked: known from any data held, however old.
    if let Some(r) = store.revocation(&claims.management_number)? {
        v.revocation = Some(revocation_view(store, r)?);
        v.verdict = VerdictCode::Revoked;
        grade(&mut v, &claims, policy);
        return Ok(v);
    }

    // Annotation problems: decidable from the signed claims and the clock (and cancellations
    // held). An annotation present on a credential is always checked, even where the
    // certificate would need none: it is a signed statement of when it may be used.
    let needs_annotation = claims.ecert_issued_on >= ANNOTATION_ERA_START;
    let annotation_problem = match (&claims.annotation, &v.annotation) {
        (None, _) if needs_annotation => Some(VerdictCode::AnnotationRequired),
        (Some(_), Some(view)) if view.cancelled_at.is_some() => Some(VerdictCode::AnnotationCancelled),
        (Some(a), _) if today > a.valid_until => Some(VerdictCode::AnnotationExpired),
        (Some(a), _) if today < a.valid_from => Some(VerdictCode::AnnotationNotYetValid),
        _ => None,
    };
    grade(&mut v, &claims, policy);
    if let Some(code) = annotation_problem {
        v.verdict = code;
        return Ok(v);
    }
    if v.freshness == Freshness::Stale {
        v.verdict = VerdictCode::StatusUnavailable;
        let age = v
            .status_time
            .map(|t| now.duration_since(t).as_hours() / 24)
            .unwrap_or_default();
        v.reason = Some(format!(
            "status data is {age} days old, beyond the maximum of {} days",
            policy.max_status_age.as_hours() / 24
        ));
        return Ok(v);
    }
    match store.scope(&claims.qualification, claims.approved_on.year())? {
        Scope::Covered if !listed => {
            v.verdict = VerdictCode::NotFound;
            v.reason = Some(format!(
                "management number {} is not in the status data of {} for qualification {}; a \
                 certificate issued since is found after the next update",
                escape::line(&claims.management_number),
                calendar::date_in_china(publication.as_of),
                claims.qualification
            ));
            return Ok(v);
        }
        Scope::Covered => {}
        Scope::OtherYears { first_year, last_year } => {
            v.verdict = VerdictCode::NotFound;
            v.scope = scope_views(store, None)?;
            v.reason = Some(format!(
                "status data covers qualification {} approved {first_year}–{last_year}, not {}",
                claims.qualification,
                claims.approved_on.year()
            ));
            return Ok(v);
        }
        Scope::NotCovered => {
            v.verdict = VerdictCode::NotFound;
            v.scope = scope_views(store, None)?;
            v.reason = Some(format!(
                "status data does not cover qualification {} yet",
                claims.qualification
            ));
            return Ok(v);
        }
    }
    Ok(v)
}

/// The first field in which the lookup index's row disagrees with the sealed claims.
fn index_mismatch(row: &LookupEntry, claims: &Claims) -> Option<&'static str> {
    if row.qualification != claims.qualification {
        Some("qualification")
    } else if row.level != claims.level.code() {
        Some("level")
    } else if row.approved_on != claims.approved_on {
        Some("approval date")
    } else if row.ecert_issued_on != claims.ecert_issued_on {
        Some("e-certificate issue day")
    } else {
        None
    }
}

/// A revocation as a verdict shows it: the reason code's and the revoking body's names.
pub(crate) fn revocation_view(store: &Reader<'_>, r: Revocation) -> Result<RevocationView, StoreError> {
    let body = store.body(&r.revoked_by)?;
    let known = RevocationReason::parse(&r.reason_code);
    Ok(RevocationView {
        revoked_at: r.revoked_at,
        reason_code_zh: known.map(RevocationReason::name_zh),
        reason_code_en: known.map(RevocationReason::name_en),
        reason_code: r.reason_code,
        reason: r.reason,
        revoked_by_code: r.revoked_by,
        revoked_by_zh: body.as_ref().map(|b| b.name_zh.clone()),
        revoked_by_en: body.map(|b| b.name_en),
    })
}

/// The verification scope, for the qualifications in `only` (all when `None`).
pub(crate) fn scope_views(store: &Reader<'_>, only: Option<&[String]>) -> Result<Vec<ScopeView>, StoreError> {
    let mut out = Vec::new();
    for s in store.scope_entries()? {
        if only.is_some_and(|q| !q.contains(&s.qualification)) {
            continue;
        }
        let q = store.qualification(&s.qualification)?;
        out.push(ScopeView {
            qualification_zh: q.as_ref().map(|q| q.name_zh.clone()),
            qualification_en: q.map(|q| q.name_en),
            qualification_code: s.qualification,
            first_year: s.first_year,
            last_year: s.last_year,
        });
    }
    Ok(out)
}

/// Set `status_time`, `freshness` and the `status_stale` warning.
fn grade(v: &mut Verdict, claims: &Claims, policy: &Policy) {
    grade_at(v, claims.annotation.as_ref().map(|a| a.requested_at), policy);
}

/// [`grade`] with the annotation's requested-at time, if any.
pub(crate) fn grade_at(v: &mut Verdict, requested: Option<Timestamp>, policy: &Policy) {
    let status_time = match (v.status_as_of, requested) {
        (Some(a), Some(r)) => Some(a.max(r)),
        (a, r) => a.or(r),
    };
    v.status_time = status_time;
    let Some(t) = status_time else {
        v.freshness = Freshness::Missing;
        return;
    };
    v.freshness = policy.grade(v.checked_at.duration_since(t));
    // A later annotation vouches for the certificate's status (the authority annotates no
    // revoked certificate), not for the seal list: a compromise published since would not be
    // known. Data that is not fresh is warned of even then, so such a result is never plain
    // green.
    let data_fresh = v
        .status_as_of
        .is_some_and(|a| policy.grade(v.checked_at.duration_since(a)) == Freshness::Fresh);
    if (v.freshness != Freshness::Fresh || !data_fresh) && !v.warnings.contains(&Warning::StatusStale) {
        v.warnings.push(Warning::StatusStale);
    }
}

/// The certificate as a verdict shows it, with its qualification as the catalogue names it
/// (read once, for the issuing-body rule).
fn certificate_view(
    claims: &Claims,
    seal: &SealKey,
    q: Qualification,
    store: &Reader<'_>,
) -> Result<CertificateView, StoreError> {
    let b = store.body(&claims.issuing_body)?;
    Ok(CertificateView {
        management_number: claims.management_number.clone(),
        certificate_number: claims.certificate_number.clone(),
        holder_name: claims.holder_name.clone(),
        masked_id: Some(claims.masked_id.clone()),
        qualification_code: claims.qualification.clone(),
        qualification_zh: Some(q.name_zh),
        qualification_en: Some(q.name_en),
        level: claims.level,
        level_zh: claims.level.name_zh(),
        level_en: claims.level.name_en(),
        specialty: claims.specialty.clone(),
        issuing_body_code: claims.issuing_body.clone(),
        issuing_body_zh: b.as_ref().map(|b| b.name_zh.clone()),
        issuing_body_en: b.map(|b| b.name_en),
        approved_on: claims.approved_on,
        ecert_issued_on: claims.ecert_issued_on,
        seal_key_id: Some(seal.key_id),
        seal_kind: Some(seal.kind),
    })
}

#[cfg(test)]
mod tests;
