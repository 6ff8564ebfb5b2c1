//! Seal keys: who may seal credentials, and when (docs/design.md §3.2).
//!
//! The authority publishes the list of seal keys as the signed target `seals.vN.jsonl.gz`. A
//! credential is genuine only if its key id is on the list, the signature holds, and the
//! e-certificate's issue day lies inside the key's validity.

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
    /// First e-certificate issue day the key may seal.
    pub valid_from: Date,
    /// Last e-certificate issue day the key may seal, inclusive.
    pub valid_until: Date,
    /// When the key was retired: it seals nothing issued on or after this instant's day.
    pub retired_at: Option<Timestamp>,
}

/// Why a seal key does not vouch for a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealValidityError {
    #[error("seal {key} was valid from {from}, after the certificate's issue day {issued}")]
    NotYetValid { key: KeyId, from: Date, issued: Date },
    #[error("seal {key} was valid until {until}, before the certificate's issue day {issued}")]
    Expired { key: KeyId, until: Date, issued: Date },
    #[error("seal {key} was retired on {retired}, on or before the certificate's issue day {issued}")]
    Retired { key: KeyId, retired: Date, issued: Date },
}

impl SealKey {
    /// May this key seal an e-certificate issued on `issued`?
    pub fn covers(&self, issued: Date) -> Result<(), SealValidityError> {
        if issued < self.valid_from {
            return Err(SealValidityError::NotYetValid {
                key: self.key_id,
                from: self.valid_from,
                issued,
            });
        }
        if issued > self.valid_until {
            return Err(SealValidityError::Expired {
                key: self.key_id,
                until: self.valid_until,
                issued,
            });
        }
        if let Some(retired) = self.retired_at.map(crate::calendar::date_in_china)
            && issued >= retired
        {
            return Err(SealValidityError::Retired {
                key: self.key_id,
                retired,
                issued,
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
        }
    }

    #[test]
    fn validity_is_inclusive_at_both_ends() {
        let k = key();
        assert!(k.covers(date(2021, 12, 17)).is_ok());
        assert!(k.covers(date(2031, 12, 16)).is_ok());
        assert!(matches!(
            k.covers(date(2021, 12, 16)),
            Err(SealValidityError::NotYetValid { .. })
        ));
        assert!(matches!(
            k.covers(date(2031, 12, 17)),
            Err(SealValidityError::Expired { .. })
        ));
    }

    #[test]
    fn retirement_is_decided_by_the_day_in_china() {
        let mut k = key();
        // 2025-06-30T16:00Z is 2025-07-01 00:00 in Shanghai: from 07-01 on the key seals nothing.
        k.retired_at = Some("2025-06-30T16:00:00Z".parse().expect("ts"));
        assert!(k.covers(date(2025, 6, 30)).is_ok());
        assert!(matches!(
            k.covers(date(2025, 7, 1)),
            Err(SealValidityError::Retired { .. })
        ));
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
