//! What a verified repository lists: one full file per kind of the same publication, and the
//! deltas beside them. Anything else a certkiosk publisher would not write is refused.

use super::RepoError;
use certkiosk_formats::status::TargetKind;
use std::collections::HashMap;
use tough::TargetName;

/// The deltas listed, by (kind, from): the file and the version it leads to.
pub(super) type Deltas = HashMap<(&'static str, u64), (TargetName, u64)>;

/// The targets of one publication.
pub(super) struct Listing {
    /// The full file of each kind listed, by kind name.
    pub full: HashMap<&'static str, TargetName>,
    pub deltas: Deltas,
    /// The publication every full file belongs to.
    pub version: u64,
}

/// Classify the targets of `repository` (verified by tough) at `location`.
pub(super) fn list(repository: &tough::Repository, location: &str) -> Result<Listing, RepoError> {
    let location = location.to_owned();
    let mut full: HashMap<&'static str, TargetName> = HashMap::new();
    let mut deltas: HashMap<(&'static str, u64), (TargetName, u64)> = HashMap::new();
    let mut version: Option<u64> = None;
    for (name, target) in repository.all_targets() {
        let unexpected = || RepoError::UnexpectedTarget {
            location: location.clone(),
            name: name.raw().to_owned(),
        };
        if name.raw().contains('/') {
            return Err(unexpected());
        }
        // Kinds this build does not know (added by a newer publisher) are left alone, so that a
        // new kind of target never breaks appliances already in the field.
        let Some(kind_name) = target.custom.get("kind").and_then(|v| v.as_str()) else {
            return Err(unexpected());
        };
        let Some(kind) = TargetKind::ALL.into_iter().find(|t| t.as_str() == kind_name) else {
            continue;
        };
        let v = target
            .custom
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(unexpected)?;
        if let Some(from) = target.custom.get("from") {
            let from = from
                .as_u64()
                .filter(|f| *f < v && kind.has_deltas())
                .ok_or_else(unexpected)?;
            if name.raw() != kind.delta_name(from, v)
                || deltas.insert((kind.as_str(), from), (name.clone(), v)).is_some()
            {
                return Err(unexpected());
            }
            continue;
        }
        if name.raw() != kind.file_name(v) {
            return Err(unexpected());
        }
        match version {
            Some(seen) if seen != v => {
                return Err(RepoError::MixedVersions {
                    location,
                    a: seen.min(v),
                    b: seen.max(v),
                });
            }
            _ => version = Some(v),
        }
        if full.insert(kind.as_str(), name.clone()).is_some() {
            return Err(unexpected());
        }
    }
    let version = version.ok_or(RepoError::MissingTarget {
        location: location.clone(),
        kind: "any",
    })?;
    Ok(Listing { full, deltas, version })
}
