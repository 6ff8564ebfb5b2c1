//! The lookup index (docs/design.md §3.3, issues 8 and 17): every certificate of the
//! qualifications the authority opted in, for a manual lookup by management number, holder
//! name and ID number when no QR code can be read.
//!
//! A row carries the management number, qualification, level, status and dates, and a
//! memory-hard digest binding the holder's name and masked ID number to the management number
//! ([`holder_digest`]) — never the name or the ID number. The digest's salt is the
//! publication's random salt **and the management number**, so every guess is for one row
//! only; Argon2id at [`Kdf::DEFAULT`] (about 25 ms and 19 MiB a guess here) and the masked ID
//! (about 10⁶ forms for a known name) put labelling even one row with a name dictionary out of
//! reach (docs/decisions/0020-lookup-binding.md has the costs). Rows keep the salt version of
//! the publication that wrote them, so every publication brings a fresh salt while a delta
//! still carries only the rows that changed.
//!
//! File format (a status file, [`crate::status`]): the header line carries [`LookupParams`];
//! a full file's lines are rows as JSON arrays, strictly increasing by management number
//! (bytewise, SQLite's BINARY order), a delta's lines are [`LookupOp`]s.

use crate::calendar;
use crate::names::canonical_name;
use crate::status::{RecordHeader, RecordReader, StatusFileError, TargetKind};
use crate::{hex, unhex};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Bytes of a holder digest: a wrong guess matches with probability 2⁻⁶⁴.
pub const DIGEST_BYTES: usize = 8;
/// Bytes of a publication's salt.
pub const SALT_BYTES: usize = 16;
/// The one key-derivation function of the index.
pub const KDF: &str = "argon2id";
/// Longest management number accepted in a row.
pub const MAX_NUMBER_CHARS: usize = 64;

const SALT_DOMAIN: &[u8] = b"certkiosk/lookup/v2\0";

/// The cost of one digest: Argon2id's memory (KiB) and passes, one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    pub memory_kib: u32,
    pub passes: u32,
}

impl Kdf {
    /// What a new index is published with: OWASP's Argon2id minimum (19 MiB, 2 passes), about
    /// 25 ms a digest on the development machine (BENCHMARKS.md), so a manual lookup stays
    /// well inside its 200 ms and a scan pays one digest.
    pub const DEFAULT: Kdf = Kdf {
        memory_kib: 19 * 1024,
        passes: 2,
    };
    /// The most an appliance accepts from a header: 64 MiB keeps the kiosk within its memory
    /// budget, and 4 passes over it is about 6 × the default's time (a second or more a
    /// digest on a Raspberry Pi 4 core).
    pub const MAX: Kdf = Kdf {
        memory_kib: 64 * 1024,
        passes: 4,
    };

    /// Within the bounds an appliance accepts.
    pub fn check(self) -> Result<Kdf, String> {
        if !(8..=Kdf::MAX.memory_kib).contains(&self.memory_kib) || !(1..=Kdf::MAX.passes).contains(&self.passes) {
            return Err(format!(
                "Argon2id with {} KiB and {} passes, outside 8..={} KiB and 1..={} passes",
                self.memory_kib,
                self.passes,
                Kdf::MAX.memory_kib,
                Kdf::MAX.passes
            ));
        }
        Ok(self)
    }
}

/// A publication's salt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Salt(pub [u8; SALT_BYTES]);

impl Salt {
    pub fn random() -> Salt {
        Salt(rand::random())
    }
}

/// The digest of one holder (name and masked ID number) for one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HolderDigest(pub [u8; DIGEST_BYTES]);

/// Argon2id over the canonical name (middle dots unified, nothing normalised) and the masked
/// ID number as a credential carries it (`110***********123X`), salted with the publication's
/// salt and the management number, truncated to 8 bytes. A credential's claims and a typed
/// ID number ([`mask_id_number`]) give the same digest.
pub fn holder_digest(kdf: Kdf, salt: &Salt, management_number: &str, name: &str, masked_id: &str) -> HolderDigest {
    let number = management_number.as_bytes();
    let mut s = Vec::with_capacity(SALT_DOMAIN.len() + SALT_BYTES + 1 + number.len());
    s.extend_from_slice(SALT_DOMAIN);
    s.extend_from_slice(&salt.0);
    s.push(number.len().min(255) as u8);
    s.extend_from_slice(number);
    let mut password = canonical_name(name).into_bytes();
    password.push(0);
    password.extend_from_slice(masked_id.trim().to_ascii_uppercase().as_bytes());
    let mut out = [0u8; DIGEST_BYTES];
    let kdf = kdf.check().unwrap_or(Kdf::DEFAULT);
    let digest = argon2::Params::new(kdf.memory_kib, kdf.passes, 1, Some(DIGEST_BYTES))
        .map(|p| argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p))
        .and_then(|a| a.hash_password_into(&password, &s, &mut out));
    // Parameters within Kdf::check and a salt of 20+ bytes cannot fail; a failure would be a
    // digest of zeros that matches nothing genuine.
    debug_assert!(digest.is_ok(), "{digest:?}");
    HolderDigest(out)
}

/// Why a typed ID number is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters, not {0}")]
    Length(usize),
    #[error("an ID number is 17 digits and a last digit or X")]
    Characters,
    #[error("the last character of this ID number should be {expected}: a digit was mistyped")]
    CheckDigit { expected: char },
}

/// The 18-character resident ID number (GB 11643-1999) as typed: spaces dropped, a lowercase
/// `x` taken as `X`, the check digit verified. Returns it canonical.
pub fn check_id_number(typed: &str) -> Result<String, IdNumberError> {
    let id: String = typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let n = id.chars().count();
    if n != 18 {
        return Err(IdNumberError::Length(n));
    }
    let bytes = id.as_bytes();
    if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
        return Err(IdNumberError::Characters);
    }
    let expected = id_check_char(&id[..17]).ok_or(IdNumberError::Characters)?;
    if bytes[17] != expected as u8 {
        return Err(IdNumberError::CheckDigit { expected });
    }
    Ok(id)
}

/// The check character (GB 11643-1999, ISO 7064 MOD 11-2) of an ID number's first 17 digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let digits = first17.as_bytes();
    if digits.len() != 17 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

/// The masked form a credential carries: the first 3 and the last 4 characters, 11 `*` between.
/// Anything but 18 characters has no masked form: it is all stars, and matches nothing.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return "*".repeat(18);
    }
    let mut out: String = chars[..3].iter().collect();
    out.push_str(&"*".repeat(11));
    out.extend(&chars[14..]);
    out
}

/// Whether `masked` is an ID number masked as the authority masks it: 3 digits, 11 `*`, 3
/// digits and a digit or `X`.
pub fn is_masked_id_number(masked: &str) -> bool {
    let b = masked.as_bytes();
    b.len() == 18
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[3..14].iter().all(|&c| c == b'*')
        && b[14..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X')
}

/// A certificate's status as the index records it (details of a revocation are in the
/// revocations target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupStatus {
    Issued,
    Revoked,
}

impl LookupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LookupStatus::Issued => "issued",
            LookupStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<LookupStatus> {
        [LookupStatus::Issued, LookupStatus::Revoked]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One certificate in the lookup index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Line", try_from = "Line")]
pub struct LookupEntry {
    pub management_number: String,
    pub qualification: String,
    /// A [`crate::credential::Level`] code.
    pub level: u8,
    pub status: LookupStatus,
    pub approved_on: Date,
    pub ecert_issued_on: Date,
    /// The publication whose salt the digest was made with.
    pub salt_version: u64,
    pub digest: HolderDigest,
}

/// A row as a JSON array: `["2019030100000042","0301",3,"issued",17956,17987,7,"9f…"]`
/// (dates as days since 1970-01-01, the digest as 16 hex digits).
type Line = (String, String, u8, LookupStatus, i64, i64, u64, String);

impl From<LookupEntry> for Line {
    fn from(e: LookupEntry) -> Line {
        (
            e.management_number,
            e.qualification,
            e.level,
            e.status,
            calendar::to_day_number(e.approved_on),
            calendar::to_day_number(e.ecert_issued_on),
            e.salt_version,
            hex(&e.digest.0),
        )
    }
}

impl TryFrom<Line> for LookupEntry {
    type Error = String;

    fn try_from(
        (number, qualification, level, status, approved, ecert, salt_version, digest): Line,
    ) -> Result<Self, String> {
        check_number(&number)?;
        if qualification.is_empty() || qualification.len() > 16 {
            return Err(format!("qualification code {qualification:?}"));
        }
        let day = |n: i64| calendar::from_day_number(n).ok_or_else(|| format!("day number {n}"));
        Ok(LookupEntry {
            management_number: number,
            qualification,
            level,
            status,
            approved_on: day(approved)?,
            ecert_issued_on: day(ecert)?,
            salt_version,
            digest: HolderDigest(unhex(&digest).ok_or_else(|| format!("digest {digest:?} is not 16 hex digits"))?),
        })
    }
}

/// One line of a lookup delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum LookupOp {
    /// Add the row, or replace the one with its management number.
    Upsert { row: LookupEntry },
    /// Remove the row (its qualification left the index, or its certificate was withdrawn).
    Delete { key: String },
}

impl LookupOp {
    pub fn key(&self) -> &str {
        match self {
            LookupOp::Upsert { row } => &row.management_number,
            LookupOp::Delete { key } => key,
        }
    }
}

/// The salts a file's header lists, by publication version.
pub type Salts = Vec<(u64, Salt)>;

/// A salt still referenced by rows of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaltEntry {
    pub version: u64,
    /// 32 hex digits.
    pub salt: String,
}

/// What the header of a lookup file adds to a status file's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupParams {
    /// [`KDF`].
    pub kdf: String,
    /// Its cost.
    pub memory_kib: u32,
    pub passes: u32,
    /// A full file: every salt its rows use. A delta: the salts its upserts use.
    pub salts: Vec<SaltEntry>,
    /// The qualifications whose certificates are in the index (after this file is applied).
    pub qualifications: Vec<String>,
}

impl LookupParams {
    /// The parameters checked: the one KDF, its cost within bounds, well-formed salts.
    pub fn check(&self) -> Result<Salts, String> {
        if self.kdf != KDF {
            return Err(format!("unknown holder digest {:?}", self.kdf));
        }
        self.cost().check()?;
        self.salts
            .iter()
            .map(|s| {
                unhex(&s.salt)
                    .map(|b| (s.version, Salt(b)))
                    .ok_or_else(|| format!("salt of version {} is not 32 hex digits", s.version))
            })
            .collect()
    }

    /// The digest's cost.
    pub fn cost(&self) -> Kdf {
        Kdf {
            memory_kib: self.memory_kib,
            passes: self.passes,
        }
    }

    pub fn salt_entry(version: u64, salt: &Salt) -> SaltEntry {
        SaltEntry {
            version,
            salt: hex(&salt.0),
        }
    }

    /// The salts as a header lists them.
    pub fn with_salts(kdf: Kdf, salts: &[(u64, Salt)], qualifications: Vec<String>) -> LookupParams {
        LookupParams {
            kdf: KDF.to_owned(),
            memory_kib: kdf.memory_kib,
            passes: kdf.passes,
            salts: salts.iter().map(|(v, s)| LookupParams::salt_entry(*v, s)).collect(),
            qualifications,
        }
    }
}

/// A management number as a row may carry it: 1 to 64 printable characters.
pub fn check_number(number: &str) -> Result<(), String> {
    if number.is_empty() || number.chars().count() > MAX_NUMBER_CHARS || number.chars().any(char::is_control) {
        return Err(format!("management number {number:?}"));
    }
    Ok(())
}

/// An order-independent digest of a set of rows (a sum of per-row hashes modulo 2¹²⁸), kept up
/// to date row by row as a full file or a delta is applied: equal sets give equal sums however
/// they were reached, and no one has to read 10 M rows to compare two stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetSum(pub u128);

impl SetSum {
    pub fn row_hash(e: &LookupEntry) -> u128 {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            e.management_number.as_bytes(),
            b"\x1f",
            e.qualification.as_bytes(),
            b"\x1f",
        ] {
            h.update(part);
        }
        h.update([e.level, e.status as u8]);
        h.update(calendar::to_day_number(e.approved_on).to_le_bytes());
        h.update(calendar::to_day_number(e.ecert_issued_on).to_le_bytes());
        h.update(e.salt_version.to_le_bytes());
        h.update(e.digest.0);
        let d = h.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&d[..16]);
        u128::from_le_bytes(first)
    }

    pub fn add(&mut self, e: &LookupEntry) {
        self.0 = self.0.wrapping_add(SetSum::row_hash(e));
    }

    pub fn remove(&mut self, e: &LookupEntry) {
        self.0 = self.0.wrapping_sub(SetSum::row_hash(e));
    }

    /// As stored: 32 hex digits.
    pub fn to_hex(self) -> String {
        hex(&self.0.to_le_bytes())
    }

    pub fn from_hex(s: &str) -> Option<SetSum> {
        unhex::<16>(s).map(|b| SetSum(u128::from_le_bytes(b)))
    }
}

/// A verified lookup file as a fetch spooled it to disk (its hash checked by tough, its header
/// by the fetch), read row by row when the store applies it.
#[derive(Debug, Clone)]
pub struct LookupFile {
    pub header: RecordHeader,
    file: Arc<std::fs::File>,
}

impl PartialEq for LookupFile {
    fn eq(&self, other: &LookupFile) -> bool {
        self.header == other.header
    }
}

impl Eq for LookupFile {}

impl LookupFile {
    /// A spooled file whose header has been read and checked.
    pub fn new(header: RecordHeader, file: std::fs::File) -> LookupFile {
        LookupFile {
            header,
            file: Arc::new(file),
        }
    }

    /// Open a lookup file on disk (the benchmark, tests, a publisher checking its output).
    pub fn open(path: &std::path::Path) -> Result<LookupFile, StatusFileError> {
        let io = |source| StatusFileError::Io {
            kind: "lookup",
            cause: source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let header = RecordReader::open(
            std::io::BufReader::new(file.try_clone().map_err(io)?),
            TargetKind::Lookup,
        )?
        .header()
        .clone();
        Ok(LookupFile::new(header, file))
    }

    /// The parameters of its header, checked.
    pub fn params(&self) -> Result<(&LookupParams, Salts), StatusFileError> {
        let invalid = |message: String| StatusFileError::Invalid {
            kind: "lookup",
            line: 1,
            message,
        };
        let params = self
            .header
            .lookup
            .as_ref()
            .ok_or_else(|| invalid("the header has no lookup parameters".into()))?;
        Ok((params, params.check().map_err(invalid)?))
    }

    /// A reader from the first line.
    pub fn reader(&self) -> Result<RecordReader<std::io::BufReader<std::fs::File>>, StatusFileError> {
        use std::io::Seek;
        let io = |source| StatusFileError::Io {
            kind: "lookup",
            cause: source,
        };
        let mut file = self.file.try_clone().map_err(io)?;
        file.rewind().map_err(io)?;
        RecordReader::open(std::io::BufReader::with_capacity(1 << 18, file), TargetKind::Lookup)
    }
}

/// The lookup index as a sync delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupUpdate {
    /// The whole index.
    Full(LookupFile),
    /// Deltas from the version held, in order.
    Deltas(Vec<LookupFile>),
}

impl LookupUpdate {
    /// Rows or operations it carries.
    pub fn len_hint(&self) -> u64 {
        match self {
            LookupUpdate::Full(f) => f.header.count,
            LookupUpdate::Deltas(d) => d.iter().map(|f| f.header.count).sum(),
        }
    }

    pub fn is_delta(&self) -> bool {
        matches!(self, LookupUpdate::Deltas(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(number: &str) -> LookupEntry {
        LookupEntry {
            management_number: number.into(),
            qualification: "0301".into(),
            level: 3,
            status: LookupStatus::Issued,
            approved_on: jiff::civil::date(2019, 3, 1),
            ecert_issued_on: jiff::civil::date(2022, 5, 6),
            salt_version: 7,
            digest: HolderDigest([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]),
        }
    }

    #[test]
    fn a_row_is_a_compact_json_array_and_round_trips() {
        let e = entry("2019030100000042");
        let line = serde_json::to_string(&e).expect("json");
        assert_eq!(
            line,
            r#"["2019030100000042","0301",3,"issued",17956,19118,7,"deadbeef00010203"]"#
        );
        assert_eq!(serde_json::from_str::<LookupEntry>(&line).expect("parse"), e);
        let op = LookupOp::Upsert { row: e.clone() };
        let text = serde_json::to_string(&op).expect("json");
        assert_eq!(serde_json::from_str::<LookupOp>(&text).expect("parse"), op);
    }

    #[test]
    fn malformed_rows_are_refused_with_the_reason() {
        for (bad, why) in [
            (
                r#"["","0301",3,"issued",17956,19118,7,"deadbeef00010203"]"#,
                "management number",
            ),
            (r#"["1","0301",3,"issued",17956,19118,7,"deadbeef"]"#, "digest"),
            (r#"["1","0301",3,"issued",17956,19118,7,"zzadbeef00010203"]"#, "digest"),
            (r#"["1","0301",3,"lost",17956,19118,7,"deadbeef00010203"]"#, "variant"),
            (
                r#"["1","",3,"issued",17956,19118,7,"deadbeef00010203"]"#,
                "qualification",
            ),
            (
                r#"["1","0301",3,"issued",99999999999,19118,7,"deadbeef00010203"]"#,
                "day number",
            ),
        ] {
            let err = serde_json::from_str::<LookupEntry>(bad).expect_err(bad);
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
    }

    const CHEAP: Kdf = Kdf {
        memory_kib: 64,
        passes: 1,
    };
    const MASKED: &str = "110***********123X";

    #[test]
    fn the_digest_depends_on_salt_number_exact_name_and_masked_id_but_not_on_the_middle_dot_typed() {
        let salt = Salt([7; SALT_BYTES]);
        let d = |number: &str, name: &str| holder_digest(CHEAP, &salt, number, name, MASKED);
        assert_eq!(d("1", "王䶮"), d("1", "王䶮"));
        assert_ne!(d("1", "王䶮"), d("2", "王䶮"), "the number is in the salt");
        assert_ne!(d("1", "王䶮"), d("1", "王俨"));
        assert_ne!(
            holder_digest(CHEAP, &salt, "1", "王䶮", "110***********124X"),
            d("1", "王䶮"),
            "the masked ID number is bound"
        );
        assert_eq!(
            holder_digest(CHEAP, &salt, "1", "王䶮", " 110***********123x "),
            d("1", "王䶮"),
            "a lowercase x and spaces as typed"
        );
        assert_ne!(
            holder_digest(CHEAP, &Salt([8; SALT_BYTES]), "1", "王䶮", MASKED),
            d("1", "王䶮"),
            "the publication's salt matters"
        );
        assert_eq!(d("1", "阿依古丽·买买提"), d("1", "阿依古丽•买买提"));
        assert_eq!(d("1", "阿依古丽·买买提"), d("1", "阿依古丽・买买提"));
        // No normalisation: a compatibility ideograph is not its unified twin.
        assert_ne!(d("1", "\u{FA10}"), d("1", "\u{585A}"));
        // The cost is part of the digest.
        let dearer = Kdf { passes: 2, ..CHEAP };
        assert_ne!(holder_digest(dearer, &salt, "1", "王䶮", MASKED), d("1", "王䶮"));
    }

    #[test]
    fn a_known_vector_pins_the_construction() {
        // Argon2id v19 (password = "王䶮" ‖ 0x00 ‖ "110***********123X", salt =
        // "certkiosk/lookup/v2\0" ‖ 16 × 0x01 ‖ 0x02 ‖ "42", 64 KiB, 1 pass, 1 lane), 8 bytes;
        // computed independently with Python's argon2-cffi (hash_secret_raw).
        let d = holder_digest(CHEAP, &Salt([1; SALT_BYTES]), "42", "王䶮", MASKED);
        assert_eq!(hex(&d.0), PINNED_VECTOR);
    }

    const PINNED_VECTOR: &str = "2837f1a494a9ddd8";

    #[test]
    fn id_numbers_are_checked_by_their_check_digit_and_masked_as_credentials_carry_them() {
        // GB 11643's example.
        assert_eq!(
            check_id_number("11010519491231002X").as_deref(),
            Ok("11010519491231002X")
        );
        assert_eq!(
            check_id_number(" 110105 19491231 002x ").as_deref(),
            Ok("11010519491231002X")
        );
        assert_eq!(
            check_id_number("110105194912310021"),
            Err(IdNumberError::CheckDigit { expected: 'X' })
        );
        assert_eq!(check_id_number("11010519491231002"), Err(IdNumberError::Length(17)));
        assert_eq!(check_id_number("1101051949123100２X"), Err(IdNumberError::Characters));
        assert_eq!(check_id_number("11010519491231X02X"), Err(IdNumberError::Characters));
        let masked = mask_id_number("11010519491231002X");
        assert_eq!(masked, "110***********002X");
        assert!(is_masked_id_number(&masked));
        for bad in [
            "110**********002X",
            "110***********002Y",
            "11a***********002X",
            "110***********002X ",
        ] {
            assert!(!is_masked_id_number(bad), "{bad}");
        }
    }

    #[test]
    fn header_parameters_are_checked() {
        let good = LookupParams::with_salts(Kdf::DEFAULT, &[(3, Salt([9; SALT_BYTES]))], vec!["0301".into()]);
        assert_eq!(good.check().expect("good"), vec![(3, Salt([9; SALT_BYTES]))]);
        for (bad, why) in [
            (
                LookupParams {
                    kdf: "pbkdf2-hmac-sha256".into(),
                    ..good.clone()
                },
                "unknown",
            ),
            (
                LookupParams {
                    passes: 0,
                    ..good.clone()
                },
                "passes",
            ),
            (
                LookupParams {
                    memory_kib: Kdf::MAX.memory_kib + 1,
                    ..good.clone()
                },
                "KiB",
            ),
            (
                LookupParams {
                    salts: vec![SaltEntry {
                        version: 1,
                        salt: "00".into(),
                    }],
                    ..good.clone()
                },
                "salt",
            ),
        ] {
            assert!(bad.check().expect_err("bad").contains(why));
        }
    }

    #[test]
    fn the_set_sum_is_order_independent_and_undoes_removals() {
        let (a, b, c) = (entry("1"), entry("2"), entry("3"));
        let mut x = SetSum::default();
        for e in [&a, &b, &c] {
            x.add(e);
        }
        let mut y = SetSum::default();
        for e in [&c, &a, &b] {
            y.add(e);
        }
        assert_eq!(x, y);
        y.remove(&b);
        assert_ne!(x, y);
        let mut changed = b.clone();
        changed.status = LookupStatus::Revoked;
        y.add(&changed);
        assert_ne!(x, y, "a changed row changes the sum");
        assert_eq!(SetSum::from_hex(&x.to_hex()), Some(x));
    }
}
