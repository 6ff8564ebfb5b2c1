//! What a new authority starts with: its schema, the built-in catalogue and each issuing
//! body's first seal period.

use crate::calendar::ANNOTATION_ERA_START;
use crate::status::{Body, Catalogue, Qualification, ScopeEntry};
use crate::trust::{SealKind, SealScope, entitled};
use jiff::civil::{Date, date};

pub(super) const SCHEMA: &str = "
CREATE TABLE settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE seal_keys (
    key_id TEXT PRIMARY KEY, owner TEXT NOT NULL, kind TEXT NOT NULL,
    valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, retired_at INTEGER, file TEXT NOT NULL,
    compromised_from INTEGER
) WITHOUT ROWID;
CREATE TABLE bodies (code TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE qualifications (
    code TEXT PRIMARY KEY, name_zh TEXT NOT NULL, name_en TEXT NOT NULL, seal_kind TEXT NOT NULL, body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE scope (qualification TEXT NOT NULL, first_year INTEGER NOT NULL, last_year INTEGER NOT NULL);
CREATE TABLE certificates (
    management_number TEXT PRIMARY KEY, certificate_number TEXT, holder_name TEXT NOT NULL,
    masked_id TEXT NOT NULL, qualification TEXT NOT NULL, level INTEGER NOT NULL, specialty TEXT,
    issuing_body TEXT NOT NULL, approved_on TEXT NOT NULL, ecert_issued_on TEXT NOT NULL,
    seal_key_id TEXT NOT NULL, issued_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY, management_number TEXT NOT NULL, scenario INTEGER NOT NULL,
    requested_at INTEGER NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX annotations_by_certificate ON annotations (management_number);
CREATE TABLE revocations (
    management_number TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL, reason_code TEXT NOT NULL,
    reason TEXT NOT NULL, revoked_by TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE cancellations (
    annotation_id INTEGER PRIMARY KEY, cancelled_at INTEGER NOT NULL, reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE publications (version INTEGER PRIMARY KEY, as_of INTEGER NOT NULL);
";

/// The built-in catalogue a new authority starts with: real qualification names, demo codes.
pub fn default_catalogue() -> Catalogue {
    let body = |code: &str, zh: &str, en: &str| Body {
        code: code.into(),
        name_zh: zh.into(),
        name_en: en.into(),
    };
    let q = |code: &str, zh: &str, en: &str, kind, body: &str| Qualification {
        code: code.into(),
        name_zh: zh.into(),
        name_en: en.into(),
        seal_kind: kind,
        body: body.into(),
    };
    let s = |code: &str, first_year, last_year| ScopeEntry {
        qualification: code.into(),
        first_year,
        last_year,
    };
    use SealKind::{Association, Ministry};
    Catalogue {
        bodies: vec![
            body(
                "MOHRSS",
                "人力资源和社会保障部",
                "Ministry of Human Resources and Social Security",
            ),
            body(
                "CIREA",
                "中国房地产估价师与房地产经纪人学会",
                "China Institute of Real Estate Appraisers and Agents",
            ),
            body("CAUP", "中国城市规划协会", "China Association of City Planning"),
        ],
        qualifications: vec![
            q(
                "0301",
                "经济专业技术资格",
                "Economics Professional Qualification",
                Ministry,
                "MOHRSS",
            ),
            q("0501", "一级建造师", "First-Class Constructor", Ministry, "MOHRSS"),
            q("0601", "执业药师", "Licensed Pharmacist", Ministry, "MOHRSS"),
            q(
                "0701",
                "注册安全工程师",
                "Registered Safety Engineer",
                Ministry,
                "MOHRSS",
            ),
            q(
                "0901",
                "审计专业技术资格",
                "Audit Professional Qualification",
                Ministry,
                "MOHRSS",
            ),
            q("1101", "房地产估价师", "Real Estate Appraiser", Association, "CIREA"),
            q(
                "1201",
                "注册城乡规划师",
                "Registered Urban-Rural Planner",
                Association,
                "CAUP",
            ),
        ],
        // 审计 (0901) is not yet covered: its data is still being loaded.
        scope: vec![
            s("0301", 2017, 2099),
            s("0501", 2017, 2099),
            s("0601", 2017, 2099),
            s("0701", 2019, 2099),
            s("1101", 2005, 2099),
            s("1201", 2008, 2099),
        ],
    }
}

/// What a seal of `owner` and `kind`, valid `from..=until`, may seal: each qualification it is
/// [`entitled`] to, over the seal's validity.
pub fn seal_scope(
    qualifications: &[Qualification],
    owner: &str,
    kind: SealKind,
    (from, until): (Date, Date),
) -> Vec<SealScope> {
    qualifications
        .iter()
        .filter(|q| entitled(owner, kind, q))
        .map(|q| SealScope {
            qualification: q.code.clone(),
            from,
            until,
        })
        .collect()
}

/// The kind and validity of the first seal of the body `code`. The ministry's seal dates from
/// the start of its e-certificates; association seals also sealed older certificates.
pub(super) fn first_seal(code: &str) -> (SealKind, Date, Date) {
    if code == "MOHRSS" {
        (SealKind::Ministry, ANNOTATION_ERA_START, date(2031, 12, 16))
    } else {
        (SealKind::Association, date(2005, 1, 1), date(2031, 12, 31))
    }
}
