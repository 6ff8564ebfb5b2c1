//! Manual lookup → verdict (issues 8 and 17): a management number, a holder name and an ID
//! number, typed by staff from the certificate and the holder's ID card when no QR code can
//! be read, checked against the lookup index. The same verdict codes as a
//! scan, with the same precedence where they apply:
//! revoked → status_unavailable → not_found → valid.
//!
//! What a lookup cannot do, it says: it checks no seal and sees no annotation. A certificate
//! that needs an annotation to be used (issued from 2021-12-17) is `valid` with the warning
//! `annotation_not_checked`, never plain green. A number that is not in the index and a name
//! that does not match are the same `not_found`, explained by the verification scope, so the
//! screen does not confirm which numbers exist.

use crate::engine::{Now, Policy, effective_now, grade_at, revocation_view, scope_views};
use crate::verdict::{CertificateView, Freshness, Verdict, VerdictCode, Warning};
use certkiosk_formats::calendar::ANNOTATION_ERA_START;
use certkiosk_formats::credential::{Level, MAX_NAME_CHARS};
use certkiosk_formats::lookup::{LookupStatus, check_id_number, check_number, holder_digest, mask_id_number};
use certkiosk_formats::names::canonical_name;
use certkiosk_store::{Reader, StoreError};

/// What staff typed, checked: a management number, a name and an ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualQuery {
    pub management_number: String,
    /// Canonical: middle-dot variants mapped to U+00B7, nothing else changed.
    pub name: String,
    /// Masked as a credential carries it (`110***********123X`): the full number is checked
    /// and then forgotten; only the masked form enters the digest.
    pub masked_id: String,
}

/// Why what was typed cannot be looked up; said before any lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{0:?} is not a management number (1 to 64 characters)")]
    Number(String),
    #[error("a holder name has 1 to {MAX_NAME_CHARS} characters")]
    Name,
    #[error(transparent)]
    IdNumber(#[from] certkiosk_formats::lookup::IdNumberError),
}

impl ManualQuery {
    /// The query, or a one-line reason why it cannot be one. Surrounding spaces are dropped
    /// (a touch keyboard or a terminal adds them); nothing inside the name is changed. The ID
    /// number's check digit is verified here, before any lookup.
    pub fn new(number: &str, name: &str, id_number: &str) -> Result<ManualQuery, QueryError> {
        let number = number.trim();
        check_number(number).map_err(|_| QueryError::Number(number.to_owned()))?;
        let name = canonical_name(name.trim());
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(QueryError::Name);
        }
        let id = check_id_number(id_number)?;
        Ok(ManualQuery {
            management_number: number.to_owned(),
            name,
            masked_id: mask_id_number(&id),
        })
    }
}

/// The verdict on a manual lookup.
pub fn lookup(query: &ManualQuery, store: &Reader<'_>, now: Now, policy: &Policy) -> Verdict {
    let given = match now {
        Now::System(t) | Now::Explicit(t) => t,
    };
    decide(query, store, now, policy)
        .unwrap_or_else(|e| Verdict::bare(VerdictCode::StatusUnavailable, Some(format!("store error: {e}")), given))
}

fn decide(query: &ManualQuery, store: &Reader<'_>, now: Now, policy: &Policy) -> Result<Verdict, StoreError> {
    let (now, warnings) = effective_now(store, now)?;
    let mut v = Verdict::bare(VerdictCode::Valid, None, now);
    v.warnings = warnings;
    let Some(publication) = store.publication()? else {
        v.verdict = VerdictCode::StatusUnavailable;
        v.reason = Some("no status data has been synced".into());
        return Ok(v);
    };
    v.status_as_of = Some(publication.as_of);
    grade_at(&mut v, None, policy);
    let Some(meta) = store.lookup_meta()? else {
        v.verdict = VerdictCode::NotFound;
        v.reason = Some("the status data carries no lookup index".into());
        return Ok(v);
    };
    let row = store.lookup_row(&query.management_number)?;
    let matched = match row {
        Some(row) => {
            let salt = store.lookup_salt(row.salt_version)?;
            let digest = holder_digest(meta.kdf, &salt, &row.management_number, &query.name, &query.masked_id);
            (digest == row.digest).then_some(row)
        }
        None => {
            // Nearly the work of a wrong name (all but the salt's probe), so the time taken
            // hardly tells whether the number is in the index.
            std::hint::black_box(holder_digest(
                meta.kdf,
                &certkiosk_formats::lookup::Salt([0; certkiosk_formats::lookup::SALT_BYTES]),
                &query.management_number,
                &query.name,
                &query.masked_id,
            ));
            None
        }
    };
    // Precedence: revoked (known from any data) → status_unavailable → not_found → valid.
    let revocation = match &matched {
        Some(row) => store.revocation(&row.management_number)?,
        None => None,
    };
    let revoked = revocation.is_some() || matched.as_ref().is_some_and(|r| r.status == LookupStatus::Revoked);
    if v.freshness == Freshness::Stale && !revoked {
        v.verdict = VerdictCode::StatusUnavailable;
        v.reason = Some(format!(
            "status data is older than the maximum of {} days",
            policy.max_status_age.as_hours() / 24
        ));
        return Ok(v);
    }
    let Some(row) = matched else {
        v.verdict = VerdictCode::NotFound;
        v.reason = Some("no certificate in the lookup index has this management number, name and ID number".into());
        v.scope = scope_views(store, Some(&meta.qualifications))?;
        return Ok(v);
    };
    let q = store.qualification(&row.qualification)?;
    let body_code = q.as_ref().map(|q| q.body.clone()).unwrap_or_default();
    let body = store.body(&body_code)?;
    let level = Level::from_code(u64::from(row.level)).unwrap_or(Level::Unleveled);
    v.certificate = Some(CertificateView {
        management_number: row.management_number.clone(),
        certificate_number: None,
        holder_name: query.name.clone(),
        masked_id: None,
        qualification_code: row.qualification.clone(),
        qualification_zh: q.as_ref().map(|q| q.name_zh.clone()),
        qualification_en: q.map(|q| q.name_en),
        level,
        level_zh: level.name_zh(),
        level_en: level.name_en(),
        specialty: None,
        issuing_body_code: body_code,
        issuing_body_zh: body.as_ref().map(|b| b.name_zh.clone()),
        issuing_body_en: body.map(|b| b.name_en),
        approved_on: row.approved_on,
        ecert_issued_on: row.ecert_issued_on,
        seal_key_id: None,
        seal_kind: None,
    });
    // Revoked: the index says so; the revocations target says when and why.
    if revoked {
        v.verdict = VerdictCode::Revoked;
        v.revocation = revocation.map(|r| revocation_view(store, r)).transpose()?;
        return Ok(v);
    }
    if row.ecert_issued_on >= ANNOTATION_ERA_START {
        v.warnings.push(Warning::AnnotationNotChecked);
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
