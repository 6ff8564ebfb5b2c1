//! Seal keys: who may seal credentials, and when (docs/design.md §3.2).
//!
//! The authority publishes the list of seal keys as the signed target `seals.vN.jsonl.gz`. A
//! credential is genuine only if its key id is on the list, the signature holds, and on the
//! credential's sealing day (its annotation's day of application, else its e-certificate's
//! issue day) the key was valid, not retired, not compromised, and entitled by its scope to
//! the credential's qualification (docs/formats.md §3.1).

use ed25519_dalek::VerifyingKey;
use jiff::Timestamp;
use jiff::civil::Date;
use sha2::{Digest, Sha256};
use std::fmt;

/// A seal key id: the first 8 bytes of SHA-256 over the raw 32-byte Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    pub fn of(key: &VerifyingKey) -> KeyId {
        let digest = Sha256::digest(key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<KeyId> {
        <[u8; 8]>::try_from(bytes).ok().map(KeyId)
    }

    pub fn from_hex(s: &str) -> Option<KeyId> {
        if s.len() != 16 || !s.is_ascii() {
            return None;
        }
        let mut id = [0u8; 8];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(KeyId(id))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KeyId::from_hex(&s).ok_or_else(|| serde::de::Error::custom(format!("bad key id {s:?}")))
    }
}

/// Whose seal a key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealKind {
    /// 人社部专业技术人员职业资格证书专用章.
    Ministry,
    /// The seal of an issuing association.
    Association,
}

impl SealKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SealKind::Ministry => "ministry",
            SealKind::Association => "association",
        }
    }

    pub fn parse(s: &str) -> Option<SealKind> {
        match s {
            "ministry" => Some(SealKind::Ministry),
            "association" => Some(SealKind::Association),
            _ => None,
        }
    }
}

/// One qualification a seal may seal, and the days on which it may (a seal that took over a
/// qualification on a date, as the ministry's seal did on 2021-12-17, starts there).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealScope {
    /// Qualification code (see the catalogue).
    pub qualification: String,
    /// First sealing day, inclusive.
    pub from: Date,
    /// Last sealing day, inclusive.
    pub until: Date,
}

/// One entry of the published seal list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealKey {
    pub key_id: KeyId,
    /// Raw Ed25519 public key, hex.
    #[serde(with = "hex_key")]
    pub public_key: VerifyingKey,
    /// Issuing body code of the seal's owner (see the catalogue).
    pub owner: String,
    pub kind: SealKind,
    /// First day the key may seal.
    pub valid_from: Date,
    /// Last day the key may seal, inclusive.
    pub valid_until: Date,
    /// When the key was retired: it seals nothing on or after this instant's day.
    pub retired_at: Option<Timestamp>,
    /// The qualifications it may seal, and when: nothing else.
    pub scope: Vec<SealScope>,
    /// From when the key is known or feared to be in other hands: nothing it sealed on or
    /// after this instant's day is genuine.
    pub compromised_from: Option<Timestamp>,
}

/// Why a seal key does not vouch for a credential. The sealing day is the day the seal was
/// put on the credential: the annotation's day of application when it carries one (the
/// authority seals each annotation with the seal current that day), else the e-certificate's
/// issue day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealValidityError {
    #[error("seal {key} was valid from {from}, after the day it sealed this credential ({sealed})")]
    NotYetValid { key: KeyId, from: Date, sealed: Date },
    #[error("seal {key} was valid until {until}, before the day it sealed this credential ({sealed})")]
    Expired { key: KeyId, until: Date, sealed: Date },
    #[error("seal {key} was retired on {retired}, on or before the day it sealed this credential ({sealed})")]
    Retired { key: KeyId, retired: Date, sealed: Date },
    #[error(
        "seal {key} is published as compromised from {from}: it vouches for nothing sealed since \
         (this credential: {sealed})"
    )]
    Compromised { key: KeyId, from: Date, sealed: Date },
    #[error("seal {key} may not seal qualification {qualification} on {sealed} (rule: the seal list's scope)")]
    OutOfScope {
        key: KeyId,
        qualification: String,
        sealed: Date,
    },
}

/// Whether a seal of `owner` and `kind` may ever be given `q` in its scope: a ministry seal
/// any qualification the catalogue gives the ministry's seal, an association's seal only its
/// own body's qualifications that carry an association seal. The authority derives scopes by
/// this rule and certd refuses a seal list that breaks it.
pub fn entitled(owner: &str, kind: SealKind, q: &crate::status::Qualification) -> bool {
    q.seal_kind == kind && (kind == SealKind::Ministry || q.body == owner)
}

/// When a seal was put on a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealing {
    /// An annotation applied for at this instant (the seal in service then sealed it).
    Annotation(Timestamp),
    /// An e-certificate issued on this day, without annotation.
    Issue(Date),
}

impl Sealing {
    /// The sealing day: China civil day.
    pub fn day(self) -> Date {
        match self {
            Sealing::Annotation(at) => crate::calendar::date_in_china(at),
            Sealing::Issue(day) => day,
        }
    }
}

impl SealKey {
    /// May this key seal a credential of `qualification` when `sealing` says it was sealed?
    /// Validity, scope and compromise are decided by the sealing day; retirement by the instant
    /// of an annotation (a seal retired at noon sealed the morning's annotations), and for an
    /// issue day, by the day.
    pub fn may_seal(&self, qualification: &str, sealing: Sealing) -> Result<(), SealValidityError> {
        let sealed = sealing.day();
        let key = self.key_id;
        if let Some(from) = self.compromised_from.map(crate::calendar::date_in_china)
            && sealed >= from
        {
            return Err(SealValidityError::Compromised { key, from, sealed });
        }
        if sealed < self.valid_from {
            return Err(SealValidityError::NotYetValid {
                key,
                from: self.valid_from,
                sealed,
            });
        }
        if sealed > self.valid_until {
            return Err(SealValidityError::Expired {
                key,
                until: self.valid_until,
                sealed,
            });
        }
        if let Some(retired_at) = self.retired_at {
            let after = match sealing {
                Sealing::Annotation(at) => at >= retired_at,
                Sealing::Issue(day) => day >= crate::calendar::date_in_china(retired_at),
            };
            if after {
                let retired = crate::calendar::date_in_china(retired_at);
                return Err(SealValidityError::Retired { key, retired, sealed });
            }
        }
        let in_scope = self
            .scope
            .iter()
            .any(|s| s.qualification == qualification && (s.from..=s.until).contains(&sealed));
        if !in_scope {
            return Err(SealValidityError::OutOfScope {
                key,
                qualification: qualification.to_owned(),
                sealed,
            });
        }
        Ok(())
    }
}

mod hex_key {
    use ed25519_dalek::VerifyingKey;

    pub fn serialize<S: serde::Serializer>(k: &VerifyingKey, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&crate::hex(k.as_bytes()))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<VerifyingKey, D::Error> {
        use serde::Deserialize;
        let s = String::deserialize(d)?;
        let bad = || serde::de::Error::custom("public_key must be 64 hex digits of an Ed25519 key");
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad());
        }
        let mut raw = [0u8; 32];
        for (i, byte) in raw.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        VerifyingKey::from_bytes(&raw).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use jiff::civil::date;

    fn key() -> SealKey {
        let vk = SigningKey::from_bytes(&[7; 32]).verifying_key();
        SealKey {
            key_id: KeyId::of(&vk),
            public_key: vk,
            owner: "MOHRSS".into(),
            kind: SealKind::Ministry,
            valid_from: date(2021, 12, 17),
            valid_until: date(2031, 12, 16),
            retired_at: None,
            scope: vec![SealScope {
                qualification: "0501".into(),
                from: date(2021, 12, 17),
                until: date(2031, 12, 16),
            }],
            compromised_from: None,
        }
    }

    #[test]
    fn validity_is_inclusive_at_both_ends() {
        let k = key();
        assert!(k.may_seal("0501", Sealing::Issue(date(2021, 12, 17))).is_ok());
        assert!(k.may_seal("0501", Sealing::Issue(date(2031, 12, 16))).is_ok());
        assert!(matches!(
            k.may_seal("0501", Sealing::Issue(date(2021, 12, 16))),
            Err(SealValidityError::NotYetValid { .. })
        ));
        assert!(matches!(
            k.may_seal("0501", Sealing::Issue(date(2031, 12, 17))),
            Err(SealValidityError::Expired { .. })
        ));
    }

    #[test]
    fn retirement_is_decided_by_the_day_in_china() {
        let mut k = key();
        // 2025-06-30T16:00Z is 2025-07-01 00:00 in Shanghai: from 07-01 on the key seals nothing.
        k.retired_at = Some("2025-06-30T16:00:00Z".parse().expect("ts"));
        assert!(k.may_seal("0501", Sealing::Issue(date(2025, 6, 30))).is_ok());
        assert!(matches!(
            k.may_seal("0501", Sealing::Issue(date(2025, 7, 1))),
            Err(SealValidityError::Retired { .. })
        ));
    }

    #[test]
    fn an_annotation_is_judged_by_the_instant_of_a_retirement_an_issue_day_by_its_day() {
        let mut k = key();
        // Retired at 2025-07-01 12:00 in Shanghai.
        k.retired_at = Some("2025-07-01T04:00:00Z".parse().expect("ts"));
        let at = |s: &str| Sealing::Annotation(s.parse().expect("ts"));
        assert!(
            k.may_seal("0501", at("2025-07-01T03:59:59Z")).is_ok(),
            "the morning of that day"
        );
        assert!(matches!(
            k.may_seal("0501", at("2025-07-01T04:00:00Z")),
            Err(SealValidityError::Retired { .. })
        ));
        assert!(k.may_seal("0501", Sealing::Issue(date(2025, 6, 30))).is_ok());
        assert!(matches!(
            k.may_seal("0501", Sealing::Issue(date(2025, 7, 1))),
            Err(SealValidityError::Retired { .. })
        ));
    }

    #[test]
    fn a_seal_seals_only_the_qualifications_of_its_scope_in_their_period() {
        let mut k = key();
        k.scope.push(SealScope {
            qualification: "1101".into(),
            from: date(2024, 1, 1),
            until: date(2024, 12, 31),
        });
        let out = |q: &str, d| {
            matches!(
                k.may_seal(q, Sealing::Issue(d)),
                Err(SealValidityError::OutOfScope { .. })
            )
        };
        assert!(out("0601", date(2023, 1, 1)), "not in the scope at all");
        assert!(
            out("1101", date(2023, 12, 31)) && out("1101", date(2025, 1, 1)),
            "outside its period"
        );
        assert!(
            k.may_seal("1101", Sealing::Issue(date(2024, 1, 1))).is_ok()
                && k.may_seal("1101", Sealing::Issue(date(2024, 12, 31))).is_ok()
        );
        let e = k.may_seal("0601", Sealing::Issue(date(2023, 1, 1))).expect_err("out");
        assert!(e.to_string().contains("0601") && e.to_string().contains("scope"), "{e}");
    }

    #[test]
    fn a_compromised_seal_vouches_for_nothing_from_that_day_in_china() {
        let mut k = key();
        // 2025-03-09T16:30Z is 2025-03-10 00:30 in Shanghai.
        k.compromised_from = Some("2025-03-09T16:30:00Z".parse().expect("ts"));
        assert!(k.may_seal("0501", Sealing::Issue(date(2025, 3, 9))).is_ok());
        for d in [date(2025, 3, 10), date(2026, 1, 1)] {
            assert!(matches!(
                k.may_seal("0501", Sealing::Issue(d)),
                Err(SealValidityError::Compromised { .. })
            ));
        }
    }

    #[test]
    fn seal_list_json_round_trips_and_refuses_bad_keys() {
        let k = key();
        let json = serde_json::to_string(&k).expect("json");
        assert_eq!(serde_json::from_str::<SealKey>(&json).expect("parse"), k);
        let bad = json.replace(&k.key_id.to_string(), "zz");
        assert!(serde_json::from_str::<SealKey>(&bad).is_err());
    }
}
