//! A whole demo world, relative to the current time (docs/design.md §5 `certsync demo`).
//!
//! It is built through the same authority workflow a real publisher uses, with back-dated
//! operations where a case needs history (an annotation that expired, a revocation after an
//! annotation). Forged and unreadable samples are crafted here on purpose, bypassing the
//! authority's rules, because the authority refuses to make them.

use crate::authority::{Authority, AuthorityError, IssueRequest, Sealed};
use crate::calendar;
use crate::credential::Level::{FirstClass, Intermediate, Senior, Unleveled};
use crate::credential::{Claims, Level, PREFIX, Scenario};
use crate::keys;
use crate::lookup;
use crate::publish::Lifetimes;
use crate::seal::SealSigner;
use crate::status::RevocationReason;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use std::path::{Path, PathBuf};

pub mod print;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("{path} is not empty and does not hold a demo world; refusing to touch it")]
    NotADemo { path: PathBuf },
    #[error("{path} already holds a demo world (use --force to rebuild it)")]
    Exists { path: PathBuf },
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    #[error("sample {name}: {cause}")]
    Print { name: String, cause: print::PrintError },
    #[error("{path}: {cause}")]
    Json { path: PathBuf, cause: serde_json::Error },
    #[error(
        "the clock says {today}, before the demo's newest certificate ({LATEST_CERTIFICATE}): set the clock \
         (e.g. `timedatectl set-ntp true`) and try again"
    )]
    ClockTooEarly { today: Date },
}

/// The newest e-certificate date among the demo's certificates (their dates are fixed, so that
/// the same holders show the same certificates on any day; annotations and revocations are
/// relative to now).
const LATEST_CERTIFICATE: Date = jiff::civil::date(2024, 11, 5);

/// One line of `expected.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expectation {
    pub sample: String,
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// One line of `lookups.json`: a manual lookup (`certd lookup`, the kiosk's lookup screen)
/// and the verdict it gets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LookupExpectation {
    pub number: String,
    /// The name as staff would type it.
    pub name: String,
    /// The ID number as staff would type it from the holder's ID card (made up, with a valid
    /// check digit; the authority keeps only its masked form).
    pub id_number: String,
    pub verdict: String,
    /// Why this case is there.
    pub case: String,
}

/// The qualifications whose certificates the demo world puts in the lookup index: all but
/// 审计 (0901), whose data is still being loaded.
pub const LOOKUP_QUALIFICATIONS: [&str; 6] = ["0301", "0501", "0601", "0701", "1101", "1201"];

/// The ID number typed for a management number the demo never issued (GB 11643's example).
pub const UNKNOWN_ID: &str = "11010519491231002X";

/// What `build` made.
#[derive(Debug)]
pub struct DemoSummary {
    pub out: PathBuf,
    pub expectations: Vec<Expectation>,
    pub lookups: Vec<LookupExpectation>,
    pub publication: u64,
}

/// The holder names of the demo world, chosen to exercise rare characters (生僻字) from CJK
/// Ext A (䶮), B (𠇔, 𡟣), C (𫍯), E (𬱖) and G (𰻝), and a minority name with U+00B7.
pub const RARE_NAMES: [&str; 7] = ["王䶮", "李𠇔", "陈𬱖", "张𫍯", "赵𡟣", "刘𰻝𰻝", "阿依古丽·买买提"];

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_owned(),
        cause: source,
    }
}

/// Prepare `out`: create it, or with `force` clear a previous demo world there.
pub fn prepare_dir(out: &Path, force: bool) -> Result<(), DemoError> {
    let non_empty = out.read_dir().map(|mut d| d.next().is_some()).unwrap_or(false);
    if non_empty {
        if !out.join("expected.json").exists() {
            return Err(DemoError::NotADemo { path: out.to_owned() });
        }
        if !force {
            return Err(DemoError::Exists { path: out.to_owned() });
        }
        std::fs::remove_dir_all(out).map_err(io(out))?;
    }
    std::fs::create_dir_all(out).map_err(io(out))
}

struct World {
    authority: Authority,
    now: Timestamp,
    today: Date,
    samples: PathBuf,
    expectations: Vec<Expectation>,
    lookups: Vec<LookupExpectation>,
    /// The made-up ID number of each certificate issued, by management number.
    ids: std::collections::HashMap<String, String>,
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

impl World {
    fn day(&self, offset: i64) -> Date {
        self.today.checked_add(offset.days()).unwrap_or(self.today)
    }

    fn write_sample(&mut self, name: &str, text: &str, verdict: &str, at: Option<Timestamp>) -> Result<(), DemoError> {
        let path = self.samples.join(format!("{name}.txt"));
        std::fs::write(&path, format!("{text}\n")).map_err(io(&path))?;
        let printing = |cause| DemoError::Print {
            name: name.to_owned(),
            cause,
        };
        let png = print::qr_png(text).map_err(printing)?;
        let path = self.samples.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(io(&path))?;
        let pdf = print::certificate_pdf(text, name).map_err(printing)?;
        let path = self.samples.join(format!("{name}.pdf"));
        std::fs::write(&path, pdf).map_err(io(&path))?;
        self.expectations.push(Expectation {
            sample: name.to_owned(),
            verdict: verdict.to_owned(),
            at,
        });
        Ok(())
    }

    fn lookup(&mut self, number: &str, name: &str, verdict: &str, case: &str) {
        let id_number = self.ids.get(number).cloned().unwrap_or_else(|| UNKNOWN_ID.to_owned());
        self.lookup_with_id(number, name, &id_number, verdict, case);
    }

    fn lookup_with_id(&mut self, number: &str, name: &str, id_number: &str, verdict: &str, case: &str) {
        self.lookups.push(LookupExpectation {
            number: number.to_owned(),
            name: name.to_owned(),
            id_number: id_number.to_owned(),
            verdict: verdict.to_owned(),
            case: case.to_owned(),
        });
    }

    fn issue(
        &mut self,
        qualification: &str,
        name: &str,
        level: Level,
        approved: Date,
        ecert: Date,
    ) -> Result<Sealed, DemoError> {
        let n = self.expectations.len() as u32 + 11;
        // A made-up ID number: region, birthday, sequence, check character.
        let born = D(1960, 1, 1)
            .checked_add((i64::from(n) * 97 % 14_000).days())
            .unwrap_or(D(1960, 1, 1));
        let first17 = format!("{:02}0101{}{:03}", 11 + n % 50, born.strftime("%Y%m%d"), n * 7 % 1000);
        let id_number = format!("{first17}{}", lookup::id_check_char(&first17).unwrap_or('0'));
        let req = IssueRequest {
            qualification: qualification.into(),
            holder_name: name.into(),
            masked_id: lookup::mask_id_number(&id_number),
            level,
            specialty: (qualification == "0301").then(|| "工商管理".to_owned()),
            certificate_number: (qualification == "0501").then(|| format!("00{}", 3_100_000 + n)),
            approved_on: approved,
            ecert_issued_on: ecert,
        };
        // Issued 400 days ago, or on its e-certificate's day when that is later (a clock set a
        // year behind the day the dates below were chosen).
        let at = (self.now - days(400)).max(calendar::start_of_day(ecert) + SignedDuration::from_hours(12));
        let sealed = self.authority.issue(&req, at)?;
        self.ids.insert(sealed.claims.management_number.clone(), id_number);
        Ok(sealed)
    }

    /// Annotate at `applied` (days from now), valid on `from..=until` (days from today).
    fn annotate(&mut self, number: &str, applied: i64, from: i64, until: i64) -> Result<Sealed, DemoError> {
        let at = self.now + days(applied);
        let (from, until) = (self.day(from), self.day(until));
        Ok(self.authority.annotate(number, Scenario::SELF_USE, from, until, at)?)
    }
}

/// Build the demo world in `out` (which must be empty), acting at `now`: one sample or more
/// per verdict, in a fixed order (management numbers and masked IDs follow it), then one
/// publication of the repository and the files the demo's checks read.
pub async fn build(out: &Path, now: Timestamp) -> Result<DemoSummary, DemoError> {
    let today = calendar::date_in_china(now);
    if today <= LATEST_CERTIFICATE {
        return Err(DemoError::ClockTooEarly { today });
    }
    let lifetimes = Lifetimes::default();
    let mut w = World::new(out, now, &lifetimes).await?;
    let valid = w.valid()?;
    w.revoked()?;
    w.annotation_expired()?;
    w.annotation_not_yet_valid()?;
    w.annotation_cancelled()?;
    w.annotation_required()?;
    w.not_found()?;
    let annotated = w.status_unavailable()?;
    w.forged(&valid, &annotated)?;
    w.unreadable(&valid)?;
    w.publish(out, &lifetimes).await
}

const D: fn(i16, i8, i8) -> Date = jiff::civil::date;

/// The samples of each verdict.
impl World {
    async fn new(out: &Path, now: Timestamp, lifetimes: &Lifetimes) -> Result<World, DemoError> {
        let authority = Authority::init(out, now - days(2), lifetimes).await?;
        let samples = out.join("samples");
        std::fs::create_dir_all(&samples).map_err(io(&samples))?;
        let mut w = World {
            authority,
            now,
            today: calendar::date_in_china(now),
            samples,
            expectations: Vec::new(),
            lookups: Vec::new(),
            ids: std::collections::HashMap::new(),
        };
        for q in LOOKUP_QUALIFICATIONS {
            w.authority.set_lookup(q, true)?;
        }
        Ok(w)
    }

    /// Returns the annotated ministry certificate the forged samples are made from.
    fn valid(&mut self) -> Result<Sealed, DemoError> {
        let c = self.issue("0301", "王䶮", Intermediate, D(2023, 5, 20), D(2023, 6, 10))?;
        let valid = self.annotate(&c.claims.management_number, -2, -2, 60)?;
        self.write_sample("valid-ministry-annotated", &valid.credential, "valid", None)?;
        let number = &c.claims.management_number;
        self.lookup(number, "王䶮", "valid", "Ext A name, found through pinyin yan");
        self.lookup(
            number,
            "王俨",
            "not_found",
            "a look-alike name: names compare by code point",
        );
        self.lookup(number, "王", "not_found", "part of the name");
        self.lookup_with_id(
            number,
            "王䶮",
            UNKNOWN_ID,
            "not_found",
            "the right number and name with another person's ID number",
        );
        let old = self.issue("1101", "李𠇔", Unleveled, D(2015, 9, 1), D(2019, 5, 20))?;
        let number = &old.claims.management_number;
        self.lookup(
            number,
            "李𠇔",
            "valid",
            "Ext B name without a reading: radical 人 + 4 or U+201D4",
        );
        self.write_sample("valid-association-before-2021", &old.credential, "valid", None)?;
        let c = self.issue("0601", "阿依古丽·买买提", Unleveled, D(2022, 10, 8), D(2022, 12, 1))?;
        let s = self.annotate(&c.claims.management_number, 0, 0, 30)?;
        self.write_sample("valid-middle-dot-name", &s.credential, "valid", None)?;
        let number = &c.claims.management_number;
        self.lookup(
            number,
            "阿依古丽•买买提",
            "valid",
            "a minority name typed with U+2022 for the middle dot",
        );
        let c = self.issue("0501", "刘𰻝𰻝", FirstClass, D(2024, 9, 1), LATEST_CERTIFICATE)?;
        let s = self.annotate(&c.claims.management_number, 0, 0, 89)?;
        self.write_sample("valid-ninety-day-annotation", &s.credential, "valid", None)?;
        // Three days on, the data is beyond the 48 h fresh window: still valid, never plain green.
        let aging = Some(self.now + days(3));
        self.write_sample("valid-with-aging-data", &old.credential, "valid", aging)?;
        Ok(valid)
    }

    fn revoked(&mut self) -> Result<(), DemoError> {
        let now = self.now;
        let c = self.issue("0501", "陈𬱖", FirstClass, D(2022, 9, 1), D(2022, 11, 20))?;
        let s = self.annotate(&c.claims.management_number, -10, -10, 50)?;
        self.authority.revoke(
            &c.claims.management_number,
            RevocationReason::Fraud,
            "考试作弊，资格无效",
            None,
            now - days(3),
        )?;
        self.write_sample("revoked-after-annotation", &s.credential, "revoked", None)?;
        let number = &c.claims.management_number;
        self.lookup(number, "陈𬱖", "revoked", "revoked three days ago");
        let c = self.issue("0301", "孙立新", Senior, D(2022, 11, 1), D(2023, 1, 15))?;
        self.authority.revoke(
            &c.claims.management_number,
            RevocationReason::Reissued,
            "",
            None,
            now - days(20),
        )?;
        self.write_sample("revoked-reissued", &c.credential, "revoked", None)
    }

    fn annotation_expired(&mut self) -> Result<(), DemoError> {
        let c = self.issue("0701", "张𫍯", Intermediate, D(2023, 3, 1), D(2023, 4, 2))?;
        let s = self.annotate(&c.claims.management_number, -100, -100, -30)?;
        self.write_sample(
            "annotation-expired-month-ago",
            &s.credential,
            "annotation_expired",
            None,
        )?;
        let c = self.issue("0301", "周敏", Intermediate, D(2024, 1, 10), D(2024, 2, 1))?;
        let s = self.annotate(&c.claims.management_number, -40, -40, -2)?;
        self.write_sample("annotation-expired-days-ago", &s.credential, "annotation_expired", None)
    }

    fn annotation_not_yet_valid(&mut self) -> Result<(), DemoError> {
        let c = self.issue("0601", "赵𡟣", Unleveled, D(2023, 10, 1), D(2023, 12, 1))?;
        let s = self.annotate(&c.claims.management_number, 0, 3, 40)?;
        self.write_sample(
            "annotation-starts-in-3-days",
            &s.credential,
            "annotation_not_yet_valid",
            None,
        )?;
        let c = self.issue("0301", "吴晓东", Intermediate, D(2024, 4, 1), D(2024, 5, 6))?;
        let s = self.annotate(&c.claims.management_number, 0, 2, 31)?;
        self.write_sample(
            "annotation-starts-in-2-days",
            &s.credential,
            "annotation_not_yet_valid",
            None,
        )
    }

    fn annotation_cancelled(&mut self) -> Result<(), DemoError> {
        for (name, q, level, applied) in [("郑雪", "0501", FirstClass, -5), ("马俊", "0701", Intermediate, -1)] {
            let c = self.issue(q, name, level, D(2023, 9, 1), D(2023, 11, 1))?;
            let s = self.annotate(&c.claims.management_number, applied, applied, 60)?;
            let id = s.claims.annotation.as_ref().map_or(0, |a| a.id);
            let at = self.now - SignedDuration::from_hours(1);
            self.authority.cancel_annotation(id, "持证人申请撤回加注", at)?;
            self.write_sample(
                &format!("annotation-cancelled-{}", -applied),
                &s.credential,
                "annotation_cancelled",
                None,
            )?;
        }
        Ok(())
    }

    fn annotation_required(&mut self) -> Result<(), DemoError> {
        let c = self.issue("0301", "黄佳怡", Intermediate, D(2023, 12, 1), D(2024, 3, 1))?;
        self.write_sample(
            "annotation-required-ministry",
            &c.credential,
            "annotation_required",
            None,
        )?;
        let c = self.issue("1101", "林涛", Unleveled, D(2021, 9, 1), calendar::ANNOTATION_ERA_START)?;
        self.write_sample(
            "annotation-required-issued-2021-12-17",
            &c.credential,
            "annotation_required",
            None,
        )
    }

    /// Outside the verification scope, and numbers the index does not hold.
    fn not_found(&mut self) -> Result<(), DemoError> {
        let c = self.issue("0901", "何静", Intermediate, D(2023, 6, 1), D(2023, 8, 1))?;
        let s = self.annotate(&c.claims.management_number, 0, 0, 30)?;
        self.write_sample("not-found-qualification-not-loaded", &s.credential, "not_found", None)?;
        let number = &c.claims.management_number;
        self.lookup(number, "何静", "not_found", "a qualification outside the lookup index");
        let c = self.issue("0301", "高峰", Intermediate, D(2015, 6, 1), D(2022, 1, 10))?;
        let s = self.annotate(&c.claims.management_number, 0, 0, 30)?;
        self.write_sample("not-found-approved-2015", &s.credential, "not_found", None)?;
        let number = &c.claims.management_number;
        self.lookup(
            number,
            "高峰",
            "not_found",
            "approved in 2015, before the scope's first year",
        );
        self.lookup(
            "2023030199999999",
            "高峰",
            "not_found",
            "a number that was never issued",
        );
        // The ministry's own seal on a number never issued: where the lookup index holds the
        // qualification, a number it lacks is not found, however genuine the seal.
        let mut never = c.claims.clone();
        never.management_number = "2023030199999999".into();
        never.approved_on = D(2023, 2, 1);
        never.annotation = s.claims.annotation.clone();
        let ministry = seal_signer(&self.authority, "MOHRSS")?;
        self.write_sample(
            "not-found-number-never-issued",
            &ministry.seal(&never),
            "not_found",
            None,
        )?;
        Ok(())
    }

    /// Verified 40 days on, beyond the 30-day maximum age. Returns the annotated certificate's
    /// claims, which a forged sample reuses.
    fn status_unavailable(&mut self) -> Result<Claims, DemoError> {
        let later = Some(self.now + days(40));
        let c = self.issue("1201", "唐雨", Unleveled, D(2016, 10, 1), D(2020, 8, 1))?;
        self.write_sample(
            "status-unavailable-old-data",
            &c.credential,
            "status_unavailable",
            later,
        )?;
        let c = self.issue("0301", "罗斌", Intermediate, D(2023, 2, 1), D(2023, 3, 1))?;
        let s = self.annotate(&c.claims.management_number, -5, -5, 84)?;
        self.write_sample(
            "status-unavailable-annotated",
            &s.credential,
            "status_unavailable",
            later,
        )?;
        Ok(c.claims)
    }

    /// Crafted past the authority's rules: an unknown seal, an altered payload, the ministry's
    /// seal on a date before it existed, a flipped signature bit.
    fn forged(&mut self, valid: &Sealed, annotated: &Claims) -> Result<(), DemoError> {
        let mut claims = valid.claims.clone();
        claims.holder_name = "冯娟".into();
        let rogue = SealSigner::new(keys::generate());
        self.write_sample("forged-unknown-seal", &rogue.seal(&claims), "forged", None)?;
        self.write_sample(
            "forged-altered-name",
            &swap_payload(&valid.credential, &claims),
            "forged",
            None,
        )?;
        let ministry = seal_signer(&self.authority, "MOHRSS")?;
        let mut before_seal = annotated.clone();
        before_seal.ecert_issued_on = D(2020, 5, 1);
        before_seal.annotation = None;
        self.write_sample(
            "forged-seal-not-valid-at-issue",
            &ministry.seal(&before_seal),
            "forged",
            None,
        )?;
        self.write_sample(
            "forged-bad-signature",
            &flip_signature_bit(&valid.credential),
            "forged",
            None,
        )?;
        self.forged_past_the_seal_rules(annotated)
    }

    /// Made with the authority's own seal keys, past rules only the verifier can hold the
    /// seals to: a seal sealing another body's qualification, an annotation valid for ten
    /// years, and a retired seal on an annotation applied for after its retirement (the issue
    /// day backdated before it).
    fn forged_past_the_seal_rules(&mut self, annotated: &Claims) -> Result<(), DemoError> {
        let (association, ministry) = (
            seal_signer(&self.authority, "CIREA")?,
            seal_signer(&self.authority, "MOHRSS")?,
        );
        let mut constructor = annotated.clone();
        constructor.qualification = "0501".into();
        constructor.level = FirstClass;
        constructor.issuing_body = "CIREA".into();
        constructor.management_number = "2023050199999999".into();
        self.write_sample(
            "forged-association-seal-on-a-ministry-qualification",
            &association.seal(&constructor),
            "forged",
            None,
        )?;
        let mut ten_years = annotated.clone();
        ten_years.annotation = Some(self.applied_yesterday(9_000_000, 3650));
        self.write_sample(
            "forged-annotation-for-ten-years",
            &ministry.seal(&ten_years),
            "forged",
            None,
        )?;
        let planner = seal_signer(&self.authority, "CAUP")?;
        let c = self.issue("1201", "苗青", Unleveled, D(2023, 3, 1), D(2023, 4, 1))?;
        self.authority
            .rotate_seal("CAUP", self.now - days(31), Some(self.day(-30)))?;
        let mut late = c.claims;
        late.annotation = Some(self.applied_yesterday(9_000_001, 88));
        self.write_sample(
            "forged-retired-seal-annotated-after-retirement",
            &planner.seal(&late),
            "forged",
            None,
        )
    }

    /// An annotation the authority never made: applied for yesterday, valid from then to
    /// `until` days from today.
    fn applied_yesterday(&self, id: u64, until: i64) -> crate::credential::Annotation {
        crate::credential::Annotation {
            id,
            scenario: Scenario::SELF_USE,
            requested_at: self.now - days(1),
            valid_from: self.day(-1),
            valid_until: self.day(until),
        }
    }

    fn unreadable(&mut self, valid: &Sealed) -> Result<(), DemoError> {
        self.write_sample(
            "unreadable-web-address",
            "https://example.org/certificate?id=12345",
            "unreadable",
            None,
        )?;
        self.write_sample(
            "unreadable-bad-base45",
            &format!("{PREFIX}!!!NOT~BASE45"),
            "unreadable",
            None,
        )?;
        let cut = &valid.credential[..valid.credential.len() * 3 / 5];
        self.write_sample("unreadable-truncated", cut, "unreadable", None)
    }

    /// Publish the repository and write what the demo's checks read.
    async fn publish(mut self, out: &Path, lifetimes: &Lifetimes) -> Result<DemoSummary, DemoError> {
        // The demo's appliance, enrolled in the fleet: its key beside its configuration, where
        // `certd fleet-key --init` would have made it at install.
        let key = certkiosk_formats::fleet::ApplianceKey::generate();
        let key_file = out.join(FLEET_KEY_FILE);
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o640)
                .open(&key_file)
                .map_err(io(&key_file))?;
            std::io::Write::write_all(&mut f, key.to_file_text().as_bytes()).map_err(io(&key_file))?;
        }
        self.authority.enroll("demo kiosk", &key.public_hex(), self.now)?;
        let published = self
            .authority
            .publish(&self.authority.default_repo(), self.now, lifetimes)
            .await?;
        for (file, json) in [
            ("expected.json", serde_json::to_vec_pretty(&self.expectations)),
            ("lookups.json", serde_json::to_vec_pretty(&self.lookups)),
        ] {
            let path = out.join(file);
            let json = json.map_err(|cause| DemoError::Json {
                path: path.clone(),
                cause,
            })?;
            std::fs::write(&path, json).map_err(io(&path))?;
        }
        let config = out.join("certd.toml");
        std::fs::write(&config, DEMO_CONFIG).map_err(io(&config))?;
        Ok(DemoSummary {
            out: out.to_owned(),
            expectations: self.expectations,
            lookups: self.lookups,
            publication: published.version,
        })
    }
}

/// The demo appliance's fleet key, beside its configuration (the config's default).
const FLEET_KEY_FILE: &str = "fleet.key";

const DEMO_CONFIG: &str = r#"# certd configuration of the demo world; paths are relative to this file.
trusted_root = "root.json"
state_dir = "state"

[sync]
mirrors = ["repo"]

[verify]
fresh_hours = 48
max_status_age_days = 30
"#;

/// The seal key of `body` whose file is named first (its first seal; the demo rotates only
/// after taking the keys it needs).
fn seal_signer(authority: &Authority, body: &str) -> Result<SealSigner, DemoError> {
    let dir = authority.dir().join("keys");
    let entries = std::fs::read_dir(&dir).map_err(io(&dir))?;
    let prefix = format!("seal-{body}-");
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    files.sort();
    let Some(file) = files.first() else {
        return Err(DemoError::Io {
            path: dir,
            cause: std::io::Error::other(format!("no seal key of {body}")),
        });
    };
    Ok(SealSigner::new(keys::read_key(file).map_err(AuthorityError::from)?))
}

/// Re-pack a credential with other claims but the original signature (an altered payload).
fn swap_payload(credential: &str, claims: &Claims) -> String {
    repack(credential, |sign1| {
        sign1.payload = Some(crate::credential::encode_claims(claims))
    })
}

fn flip_signature_bit(credential: &str) -> String {
    repack(credential, |sign1| {
        if let Some(b) = sign1.signature.get_mut(10) {
            *b ^= 0x01;
        }
    })
}

fn repack(credential: &str, change: impl FnOnce(&mut coset::CoseSign1)) -> String {
    use coset::CborSerializable;
    use std::io::{Read, Write};
    let body = credential.strip_prefix(PREFIX).unwrap_or_default();
    let compressed = base45::decode(body).unwrap_or_default();
    let mut cose = Vec::new();
    let _ = flate2::read::ZlibDecoder::new(compressed.as_slice()).read_to_end(&mut cose);
    let Ok(mut sign1) = coset::CoseSign1::from_slice(&cose) else {
        return credential.to_owned();
    };
    change(&mut sign1);
    let cose = sign1.to_vec().unwrap_or_default();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = z.write_all(&cose);
    format!("{PREFIX}{}", base45::encode(z.finish().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock set before the demo's certificates were issued gets one clear line, and the
    /// directory is left without a half-made world.
    #[tokio::test]
    async fn a_clock_before_the_demo_certificates_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let early: Timestamp = "2024-11-04T16:00:00Z".parse().expect("ts");
        let err = build(dir.path(), early).await.expect_err("too early").to_string();
        assert!(
            err.contains("before the demo's newest certificate (2024-11-05)"),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
        let day_after: Timestamp = "2024-11-05T16:00:00Z".parse().expect("ts");
        build(dir.path(), day_after).await.expect("the day after it");
    }
}
