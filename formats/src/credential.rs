//! The credential a certificate's QR code carries (docs/design.md §3.1, docs/formats.md).
//!
//! String form: `CK1:` + Base45 (RFC 9285) of zlib-compressed, untagged COSE_Sign1 (RFC 9052)
//! with algorithm EdDSA (Ed25519) and the seal's key id in the protected header. The payload is
//! a CBOR map with small integer keys ([`key`]).
//!
//! Reading is split in three steps so that each failure maps to one verdict:
//! [`Envelope::parse`] (bytes → COSE structure; failure: *unreadable*),
//! [`Envelope::verify`] (signature; failure: *forged*), [`Envelope::claims`]
//! (CBOR claims of a genuine seal; failure: *unreadable*).

use crate::calendar;
use crate::hex;
use crate::trust::KeyId;
use ciborium::Value;
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, iana};
use ed25519_dalek::{Signature, VerifyingKey};
use jiff::Timestamp;
use jiff::civil::Date;
use std::io::{Read, Write};

/// The string prefix of format version 1.
pub const PREFIX: &str = "CK1:";
/// The longest text a QR code can hold in alphanumeric mode (version 40-L), plus the prefix.
pub const MAX_TEXT_LEN: usize = 4296 + PREFIX.len();
/// Decompression cap: a genuine credential is a few hundred bytes.
pub const MAX_INFLATED_LEN: usize = 4096;
/// Longest holder name, in Unicode scalar values (docs/design.md §3.1).
pub const MAX_NAME_CHARS: usize = 50;
/// Longest management number, in characters.
pub const MAX_MANAGEMENT_NUMBER_CHARS: usize = 32;
/// Longest of any other text claim, in characters.
pub const MAX_TEXT_CLAIM_CHARS: usize = 64;

/// CBOR map keys of the claims. Documented with a test vector in docs/formats.md.
pub mod key {
    pub const MANAGEMENT_NUMBER: i64 = 1;
    pub const CERTIFICATE_NUMBER: i64 = 2;
    pub const HOLDER_NAME: i64 = 3;
    pub const MASKED_ID: i64 = 4;
    pub const QUALIFICATION: i64 = 5;
    pub const LEVEL: i64 = 6;
    pub const SPECIALTY: i64 = 7;
    pub const ISSUING_BODY: i64 = 8;
    pub const APPROVED_ON: i64 = 9;
    pub const ECERT_ISSUED_ON: i64 = 10;
    pub const ANNOTATION_ID: i64 = 20;
    pub const ANNOTATION_SCENARIO: i64 = 21;
    pub const ANNOTATION_REQUESTED_AT: i64 = 22;
    pub const ANNOTATION_VALID_FROM: i64 = 23;
    pub const ANNOTATION_VALID_UNTIL: i64 = 24;
}

/// Qualification level (资格级别), carried as a small code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 不分级 — the qualification has no levels.
    Unleveled,
    /// 初级
    Junior,
    /// 中级
    Intermediate,
    /// 高级
    Senior,
    /// 正高级
    Principal,
    /// 一级
    FirstClass,
    /// 二级
    SecondClass,
}

impl Level {
    pub const ALL: [Level; 7] = [
        Level::Unleveled,
        Level::Junior,
        Level::Intermediate,
        Level::Senior,
        Level::Principal,
        Level::FirstClass,
        Level::SecondClass,
    ];

    pub fn code(self) -> u8 {
        match self {
            Level::Unleveled => 0,
            Level::Junior => 1,
            Level::Intermediate => 2,
            Level::Senior => 3,
            Level::Principal => 4,
            Level::FirstClass => 11,
            Level::SecondClass => 12,
        }
    }

    pub fn from_code(code: u64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| u64::from(l.code()) == code)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Level::Unleveled => "不分级",
            Level::Junior => "初级",
            Level::Intermediate => "中级",
            Level::Senior => "高级",
            Level::Principal => "正高级",
            Level::FirstClass => "一级",
            Level::SecondClass => "二级",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Level::Unleveled => "no level",
            Level::Junior => "junior",
            Level::Intermediate => "intermediate",
            Level::Senior => "senior",
            Level::Principal => "principal",
            Level::FirstClass => "first class",
            Level::SecondClass => "second class",
        }
    }
}

/// Annotation usage scenario (使用场景), kept as a code so that new scenarios can be added
/// without a format change. Today the authority offers only [`Scenario::SELF_USE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Scenario(pub u16);

impl Scenario {
    /// 本人调用 — the holder presents the certificate themselves.
    pub const SELF_USE: Scenario = Scenario(1);
    /// The scenarios this version knows: an annotation for any other is refused by the
    /// authority and `forged` at the verifier (a new scenario comes with a new release).
    pub const KNOWN: [Scenario; 1] = [Scenario::SELF_USE];

    pub fn name_zh(self) -> String {
        match self {
            Scenario::SELF_USE => "本人调用".to_owned(),
            Scenario(n) => format!("场景 {n}"),
        }
    }

    pub fn name_en(self) -> String {
        match self {
            Scenario::SELF_USE => "self use".to_owned(),
            Scenario(n) => format!("scenario {n}"),
        }
    }
}

/// An annotation (加注) as signed into a credential.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Annotation {
    /// The authority's serial number of the annotation.
    pub id: u64,
    pub scenario: Scenario,
    /// When the holder applied; a signed annotation proves "not revoked at this instant".
    pub requested_at: Timestamp,
    /// First civil day (Asia/Shanghai) on which the annotation may be used.
    pub valid_from: Date,
    /// Last civil day (Asia/Shanghai) on which the annotation may be used, inclusive.
    pub valid_until: Date,
}

/// The longest an annotation may be valid, in civil days counted inclusively.
pub const MAX_ANNOTATION_DAYS: i64 = 90;
/// The latest an annotation may start, in days after its day of application: with the 90 days
/// it may last, no annotation is usable more than 119 days after it was applied for, so a
/// seal's signature stops granting anything that long after the seal's retirement.
pub const MAX_ANNOTATION_LEAD_DAYS: i64 = 30;

/// A rule of annotations that a signed annotation breaks (verdict `forged`, whatever sealed
/// it: the authority never signs one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationRuleError {
    #[error("annotation {id} is for scenario {scenario}, which is not a known scenario")]
    UnknownScenario { id: u64, scenario: u16 },
    #[error("annotation {id} ends on {until}, before it starts on {from}")]
    EndsBeforeStart { id: u64, from: Date, until: Date },
    #[error("annotation {id} is valid for {days} days, more than the {MAX_ANNOTATION_DAYS} an annotation may be")]
    TooLong { id: u64, days: i64 },
    #[error("annotation {id} starts on {from}, before the day it was applied for ({applied})")]
    StartsBeforeApplication { id: u64, from: Date, applied: Date },
    #[error(
        "annotation {id} starts on {from}, more than {MAX_ANNOTATION_LEAD_DAYS} days after the day it was applied for ({applied})"
    )]
    StartsTooLate { id: u64, from: Date, applied: Date },
    #[error("annotation {id} was applied for on {applied}, before the e-certificate was issued on {issued}")]
    AppliedBeforeIssue { id: u64, applied: Date, issued: Date },
}

impl Annotation {
    /// The civil day (Asia/Shanghai) the holder applied on: the day the annotation was sealed.
    pub fn applied_on(&self) -> Date {
        calendar::date_in_china(self.requested_at)
    }

    /// Checks the rules every annotation keeps (docs/formats.md): a known scenario; valid at
    /// most [`MAX_ANNOTATION_DAYS`] days, counted inclusively, starting from the day of
    /// application to [`MAX_ANNOTATION_LEAD_DAYS`] after it; applied for no earlier than the
    /// e-certificate's issue day.
    pub fn check_rules(&self, ecert_issued_on: Date) -> Result<(), AnnotationRuleError> {
        let id = self.id;
        if !Scenario::KNOWN.contains(&self.scenario) {
            return Err(AnnotationRuleError::UnknownScenario {
                id,
                scenario: self.scenario.0,
            });
        }
        let (from, until, applied) = (self.valid_from, self.valid_until, self.applied_on());
        if until < from {
            return Err(AnnotationRuleError::EndsBeforeStart { id, from, until });
        }
        let days = calendar::days_between(from, until) + 1;
        if days > MAX_ANNOTATION_DAYS {
            return Err(AnnotationRuleError::TooLong { id, days });
        }
        if from < applied {
            return Err(AnnotationRuleError::StartsBeforeApplication { id, from, applied });
        }
        if calendar::days_between(applied, from) > MAX_ANNOTATION_LEAD_DAYS {
            return Err(AnnotationRuleError::StartsTooLate { id, from, applied });
        }
        if applied < ecert_issued_on {
            return Err(AnnotationRuleError::AppliedBeforeIssue {
                id,
                applied,
                issued: ecert_issued_on,
            });
        }
        Ok(())
    }
}

/// The claims of one credential.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claims {
    /// 管理号: opaque, unique per certificate; the key of every status lookup.
    pub management_number: String,
    /// 证书编号, where the qualification has one.
    pub certificate_number: Option<String>,
    /// Exact Unicode code points; never normalised.
    pub holder_name: String,
    /// The ID number with the middle digits masked, e.g. `110***********123X`.
    pub masked_id: String,
    pub qualification: String,
    pub level: Level,
    pub specialty: Option<String>,
    pub issuing_body: String,
    /// 资格批准日期.
    pub approved_on: Date,
    /// Day the electronic certificate was issued; decides the seal's validity and whether an
    /// annotation is required.
    pub ecert_issued_on: Date,
    pub annotation: Option<Annotation>,
}

impl Claims {
    /// The claims of the test vector in docs/formats.md: a typical annotated ministry
    /// certificate. Tests, benchmarks and docs start from it and change what they need.
    pub fn example() -> Claims {
        let date = jiff::civil::date;
        Claims {
            management_number: "2023030100000001".into(),
            certificate_number: None,
            holder_name: "王䶮".into(),
            masked_id: "110***********123X".into(),
            qualification: "0301".into(),
            level: Level::Intermediate,
            specialty: Some("工商管理".into()),
            issuing_body: "MOHRSS".into(),
            approved_on: date(2023, 5, 20),
            ecert_issued_on: date(2023, 6, 10),
            annotation: Some(Annotation {
                id: 123_456_789,
                scenario: Scenario::SELF_USE,
                requested_at: Timestamp::from_second(1_795_572_000).unwrap_or(Timestamp::UNIX_EPOCH),
                valid_from: date(2026, 11, 25),
                valid_until: date(2027, 2, 22),
            }),
        }
    }
}

/// The credential text is not a readable credential (verdict `unreadable`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("empty input")]
    Empty,
    #[error("text of {len} bytes is longer than any QR code can hold ({max})")]
    TooLong { len: usize, max: usize },
    #[error("not a certificate credential: text does not start with {PREFIX}")]
    NoPrefix,
    #[error("bad Base45 after {PREFIX}: {0}")]
    Base45(String),
    #[error("bad zlib data: {0}")]
    Inflate(String),
    #[error("decompressed data exceeds {max} bytes")]
    Inflated { max: usize },
    #[error("not a COSE_Sign1 structure: {0}")]
    Cose(String),
    #[error("COSE_Sign1 carries no payload")]
    NoPayload,
}

/// The seal does not hold (verdict `forged`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("not sealed with EdDSA (Ed25519)")]
    WrongAlgorithm,
    #[error("no seal key id in the protected header")]
    NoKeyId,
    #[error("seal key id {0} is not 8 bytes")]
    BadKeyId(String),
    #[error("signature does not match seal {0}")]
    BadSignature(KeyId),
}

/// The claims of a genuine seal cannot be read (verdict `unreadable`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimsError {
    #[error("claims are not CBOR: {0}")]
    Cbor(String),
    #[error("trailing bytes after the claims")]
    Trailing,
    #[error("claims are not a map with integer keys")]
    NotAMap,
    #[error("unknown claim key {0}")]
    UnknownKey(i128),
    #[error("claim key {0} appears twice")]
    Duplicate(i64),
    #[error("claim {0} is missing")]
    Missing(&'static str),
    #[error("claim {0} has the wrong type")]
    WrongType(&'static str),
    #[error("claim {field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("claim {0} is empty")]
    EmptyText(&'static str),
    #[error("claim {0} is out of range")]
    OutOfRange(&'static str),
    #[error("annotation claims are incomplete")]
    PartialAnnotation,
    #[error("annotation ends before it starts")]
    AnnotationReversed,
}

/// The `CK1:` string of `payload` sealed under the seal key `key_id`. `sign` receives the
/// COSE to-be-signed bytes and returns their Ed25519 signature: the key stays with the caller
/// (the authority's seal signer), so nothing in this crate can seal.
pub fn seal_with(key_id: KeyId, payload: Vec<u8>, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key_id.0.to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", sign)
        .build();
    // Serialising a COSE_Sign1 built from valid parts cannot fail.
    let cose = sign1.to_vec().unwrap_or_default();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let compressed = z.write_all(&cose).and_then(|()| z.finish()).unwrap_or_default();
    format!("{PREFIX}{}", base45::encode(compressed))
}

/// A parsed but not yet verified credential.
#[derive(Debug, Clone)]
pub struct Envelope {
    sign1: CoseSign1,
    /// Size of the compressed COSE bytes (what docs/design.md §3.1's 220-byte budget measures).
    pub compressed_len: usize,
}

impl Envelope {
    /// Text → COSE_Sign1, with every size capped. Surrounding ASCII white space (a trailing
    /// newline from a file or a scanner) is ignored.
    pub fn parse(text: &str) -> Result<Envelope, ReadError> {
        if text.len() > MAX_TEXT_LEN + 64 {
            return Err(ReadError::TooLong {
                len: text.len(),
                max: MAX_TEXT_LEN,
            });
        }
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if text.is_empty() {
            return Err(ReadError::Empty);
        }
        if text.len() > MAX_TEXT_LEN {
            return Err(ReadError::TooLong {
                len: text.len(),
                max: MAX_TEXT_LEN,
            });
        }
        let body = text.strip_prefix(PREFIX).ok_or(ReadError::NoPrefix)?;
        let compressed = base45::decode(body).map_err(|e| ReadError::Base45(e.to_string()))?;
        let mut inflated = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .take(MAX_INFLATED_LEN as u64 + 1)
            .read_to_end(&mut inflated)
            .map_err(|e| ReadError::Inflate(e.to_string()))?;
        if inflated.len() > MAX_INFLATED_LEN {
            return Err(ReadError::Inflated { max: MAX_INFLATED_LEN });
        }
        let sign1 = CoseSign1::from_slice(&inflated).map_err(|e| ReadError::Cose(e.to_string()))?;
        if sign1.payload.is_none() {
            return Err(ReadError::NoPayload);
        }
        Ok(Envelope {
            sign1,
            compressed_len: compressed.len(),
        })
    }

    /// The seal key id named by the protected header.
    pub fn key_id(&self) -> Result<KeyId, SealError> {
        let kid = &self.sign1.protected.header.key_id;
        if kid.is_empty() {
            return Err(SealError::NoKeyId);
        }
        KeyId::from_slice(kid).ok_or_else(|| SealError::BadKeyId(hex(kid)))
    }

    /// Check algorithm and signature against `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), SealError> {
        let alg_ok = matches!(
            self.sign1.protected.header.alg,
            Some(coset::RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA))
        );
        if !alg_ok {
            return Err(SealError::WrongAlgorithm);
        }
        let kid = self.key_id()?;
        self.sign1.verify_signature(b"", |sig, tbs| {
            let sig = Signature::from_slice(sig).map_err(|_| SealError::BadSignature(kid))?;
            key.verify_strict(tbs, &sig).map_err(|_| SealError::BadSignature(kid))
        })
    }

    /// The claims. Call only after [`Envelope::verify`] succeeded.
    pub fn claims(&self) -> Result<Claims, ClaimsError> {
        decode_claims(self.sign1.payload.as_deref().unwrap_or_default())
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

/// Claims → canonical CBOR (keys ascending, shortest integer forms: ciborium's default).
pub fn encode_claims(c: &Claims) -> Vec<u8> {
    let mut m: Vec<(Value, Value)> = vec![(int(key::MANAGEMENT_NUMBER), text(&c.management_number))];
    if let Some(n) = &c.certificate_number {
        m.push((int(key::CERTIFICATE_NUMBER), text(n)));
    }
    m.push((int(key::HOLDER_NAME), text(&c.holder_name)));
    m.push((int(key::MASKED_ID), text(&c.masked_id)));
    m.push((int(key::QUALIFICATION), text(&c.qualification)));
    m.push((int(key::LEVEL), int(i64::from(c.level.code()))));
    if let Some(s) = &c.specialty {
        m.push((int(key::SPECIALTY), text(s)));
    }
    m.push((int(key::ISSUING_BODY), text(&c.issuing_body)));
    m.push((int(key::APPROVED_ON), int(calendar::to_day_number(c.approved_on))));
    m.push((
        int(key::ECERT_ISSUED_ON),
        int(calendar::to_day_number(c.ecert_issued_on)),
    ));
    if let Some(a) = &c.annotation {
        m.push((int(key::ANNOTATION_ID), Value::Integer(a.id.into())));
        m.push((int(key::ANNOTATION_SCENARIO), int(i64::from(a.scenario.0))));
        m.push((int(key::ANNOTATION_REQUESTED_AT), int(a.requested_at.as_second())));
        m.push((
            int(key::ANNOTATION_VALID_FROM),
            int(calendar::to_day_number(a.valid_from)),
        ));
        m.push((
            int(key::ANNOTATION_VALID_UNTIL),
            int(calendar::to_day_number(a.valid_until)),
        ));
    }
    let mut out = Vec::new();
    // Writing a map of integers and text into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(&Value::Map(m), &mut out);
    out
}

/// The claims map being read: each key taken at most once.
struct ClaimMap(Vec<(i64, Value)>);

impl ClaimMap {
    fn take(&mut self, k: i64) -> Option<Value> {
        let i = self.0.iter().position(|(key, _)| *key == k)?;
        Some(self.0.swap_remove(i).1)
    }

    fn text(&mut self, k: i64, field: &'static str, max: usize) -> Result<Option<String>, ClaimsError> {
        match self.take(k) {
            None => Ok(None),
            Some(Value::Text(s)) => {
                if s.chars().count() > max {
                    Err(ClaimsError::TooLong { field, max })
                } else if s.trim().is_empty() {
                    Err(ClaimsError::EmptyText(field))
                } else {
                    Ok(Some(s))
                }
            }
            Some(_) => Err(ClaimsError::WrongType(field)),
        }
    }

    fn required_text(&mut self, k: i64, field: &'static str, max: usize) -> Result<String, ClaimsError> {
        self.text(k, field, max)?.ok_or(ClaimsError::Missing(field))
    }

    fn integer(&mut self, k: i64, field: &'static str) -> Result<Option<i64>, ClaimsError> {
        match self.take(k) {
            None => Ok(None),
            Some(Value::Integer(i)) => i64::try_from(i).map(Some).map_err(|_| ClaimsError::OutOfRange(field)),
            Some(_) => Err(ClaimsError::WrongType(field)),
        }
    }

    fn date(&mut self, k: i64, field: &'static str) -> Result<Option<Date>, ClaimsError> {
        match self.integer(k, field)? {
            None => Ok(None),
            Some(n) => calendar::from_day_number(n)
                .map(Some)
                .ok_or(ClaimsError::OutOfRange(field)),
        }
    }
}

/// CBOR → claims, strictly: unknown keys, duplicates, wrong types, oversize text and trailing
/// bytes are all refused.
pub fn decode_claims(bytes: &[u8]) -> Result<Claims, ClaimsError> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader(&mut rest).map_err(|e| ClaimsError::Cbor(e.to_string()))?;
    if !rest.is_empty() {
        return Err(ClaimsError::Trailing);
    }
    let Value::Map(entries) = value else {
        return Err(ClaimsError::NotAMap);
    };
    let mut map = ClaimMap(Vec::with_capacity(entries.len()));
    for (k, v) in entries {
        let Value::Integer(k) = k else {
            return Err(ClaimsError::NotAMap);
        };
        let k = i128::from(k);
        let known = (1..=10).contains(&k) || (20..=24).contains(&k);
        if !known {
            return Err(ClaimsError::UnknownKey(k));
        }
        let k = k as i64;
        if map.0.iter().any(|(seen, _)| *seen == k) {
            return Err(ClaimsError::Duplicate(k));
        }
        map.0.push((k, v));
    }
    let t = MAX_TEXT_CLAIM_CHARS;
    let management_number =
        map.required_text(key::MANAGEMENT_NUMBER, "management_number", MAX_MANAGEMENT_NUMBER_CHARS)?;
    let certificate_number = map.text(key::CERTIFICATE_NUMBER, "certificate_number", t)?;
    let holder_name = map.required_text(key::HOLDER_NAME, "holder_name", MAX_NAME_CHARS)?;
    let masked_id = map.required_text(key::MASKED_ID, "masked_id", t)?;
    let qualification = map.required_text(key::QUALIFICATION, "qualification", t)?;
    let level_code = map.integer(key::LEVEL, "level")?.ok_or(ClaimsError::Missing("level"))?;
    let level = u64::try_from(level_code)
        .ok()
        .and_then(Level::from_code)
        .ok_or(ClaimsError::OutOfRange("level"))?;
    let specialty = map.text(key::SPECIALTY, "specialty", t)?;
    let issuing_body = map.required_text(key::ISSUING_BODY, "issuing_body", t)?;
    let approved_on = map
        .date(key::APPROVED_ON, "approved_on")?
        .ok_or(ClaimsError::Missing("approved_on"))?;
    let ecert_issued_on = map
        .date(key::ECERT_ISSUED_ON, "ecert_issued_on")?
        .ok_or(ClaimsError::Missing("ecert_issued_on"))?;

    let id = map
        .integer(key::ANNOTATION_ID, "annotation_id")?
        .map(|n| u64::try_from(n).map_err(|_| ClaimsError::OutOfRange("annotation_id")))
        .transpose()?;
    let scenario = map.integer(key::ANNOTATION_SCENARIO, "annotation_scenario")?;
    let requested_at = map.integer(key::ANNOTATION_REQUESTED_AT, "annotation_requested_at")?;
    let valid_from = map.date(key::ANNOTATION_VALID_FROM, "annotation_valid_from")?;
    let valid_until = map.date(key::ANNOTATION_VALID_UNTIL, "annotation_valid_until")?;
    let annotation = match (id, scenario, requested_at, valid_from, valid_until) {
        (None, None, None, None, None) => None,
        (Some(id), Some(scenario), Some(requested_at), Some(valid_from), Some(valid_until)) => {
            let scenario = u16::try_from(scenario).map_err(|_| ClaimsError::OutOfRange("annotation_scenario"))?;
            let requested_at =
                Timestamp::from_second(requested_at).map_err(|_| ClaimsError::OutOfRange("annotation_requested_at"))?;
            if valid_until < valid_from {
                return Err(ClaimsError::AnnotationReversed);
            }
            Some(Annotation {
                id,
                scenario: Scenario(scenario),
                requested_at,
                valid_from,
                valid_until,
            })
        }
        _ => return Err(ClaimsError::PartialAnnotation),
    };
    Ok(Claims {
        management_number,
        certificate_number,
        holder_name,
        masked_id,
        qualification,
        level,
        specialty,
        issuing_body,
        approved_on,
        ecert_issued_on,
        annotation,
    })
}

#[cfg(test)]
mod tests;
