//! The authority's side: its own state (one SQLite file), its keys, and the issuing rules.
//!
//! Layout of an authority directory:
//! ```text
//! DIR/authority.sqlite   certificates, annotations, revocations, cancellations, seals, catalogue
//! DIR/keys/*.pem         TUF role keys and seal keys (PKCS#8, mode 0600)
//! DIR/root.json          root metadata the appliances pin
//! DIR/repo/              the published TUF repository (default `publish` output)
//! ```
//! Every operation takes `now` explicitly, so tests and the demo world can act at any time.

use crate::calendar;
use crate::credential::{Annotation, Claims, Level, Scenario};
use crate::keys;
use crate::publish::{self, Lifetimes, RoleKeySet};
use crate::seal::SealSigner;
use crate::status::{Body, Cancellation, Catalogue, Dataset, Qualification, Revocation, RevocationReason, ScopeEntry};
use crate::trust::{KeyId, SealKey};
use jiff::Timestamp;
use jiff::civil::Date;
use rows::Row;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};

pub use catalogue::{default_catalogue, seal_scope};
pub use rows::CorruptValue;
pub use rules::{ANNOTATION_WINDOW_DAYS, MAX_ANNOTATION_DAYS, MAX_ANNOTATIONS_IN_WINDOW, OFFERED_SCENARIOS};

#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("authority state {path}: {cause}")]
    Sqlite { path: PathBuf, cause: rusqlite::Error },
    /// A value in the state cannot be read back exactly; nothing is signed or published.
    #[error("authority state {path}: {cause}")]
    Corrupt { path: PathBuf, cause: CorruptValue },
    #[error("{path} already holds an authority; refusing to overwrite it")]
    AlreadyInitialised { path: PathBuf },
    #[error("{path} is not an authority directory (run `certsync init` first)")]
    NotInitialised { path: PathBuf },
    #[error(transparent)]
    Key(#[from] keys::KeyFileError),
    #[error(transparent)]
    Publish(#[from] publish::PublishError),
    #[error("unknown qualification code {0:?}")]
    UnknownQualification(String),
    #[error("unknown certificate {0:?}")]
    UnknownCertificate(String),
    #[error("unknown annotation {0}")]
    UnknownAnnotation(u64),
    #[error("invalid {field}: {problem}")]
    Invalid { field: &'static str, problem: String },
    #[error("no seal of {body} in service is valid on {issued}")]
    NoSeal { body: String, issued: Date },
    #[error("certificate {0} is revoked and cannot be annotated")]
    Revoked(String),
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(String),
    #[error("annotation {0} is already cancelled")]
    AlreadyCancelled(u64),
    #[error("certificate {0} was issued before 2021-12-17 under an association seal and needs no annotation")]
    AnnotationNotNeeded(String),
    #[error("annotation of {days} days exceeds the maximum of {MAX_ANNOTATION_DAYS}")]
    AnnotationTooLong { days: i64 },
    #[error("annotation would start on {from}, before the day of application {today}")]
    AnnotationBackdated { from: Date, today: Date },
    #[error(
        "certificate {number} already has {count} valid annotations applied for within 90 days of {today}; at most {MAX_ANNOTATIONS_IN_WINDOW} are allowed"
    )]
    TooManyAnnotations { number: String, count: usize, today: Date },
    #[error("no appliance {0:?} is enrolled in the fleet")]
    UnknownAppliance(String),
    #[error("usage scenario {0} is not offered (today only 1, 本人调用)")]
    ScenarioNotOffered(u16),
}

type Result<T, E = AuthorityError> = std::result::Result<T, E>;

/// The `settings` key that says the lookup rows carry Argon2id holder digests (issue 17).
const LOOKUP_DIGEST: &str = "lookup_digest_argon2id";

/// A certificate to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub qualification: String,
    pub holder_name: String,
    pub masked_id: String,
    pub level: Level,
    pub specialty: Option<String>,
    pub certificate_number: Option<String>,
    pub approved_on: Date,
    pub ecert_issued_on: Date,
}

/// A sealed credential, as handed to the holder.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub claims: Claims,
    /// The `CK1:` string a QR code carries.
    pub credential: String,
}

/// What a publication wrote.
#[derive(Debug, Clone)]
pub struct Published {
    pub version: u64,
    pub as_of: Timestamp,
    pub revocations: usize,
    pub cancellations: usize,
    pub seals: usize,
    /// What the lookup index carried, if the authority publishes one.
    pub lookup: Option<LookupPublished>,
    /// The appliances it is granted to (its sealed files open with their keys only).
    pub appliances: usize,
    pub repo: PathBuf,
}

#[derive(Debug)]
pub struct Authority {
    dir: PathBuf,
    db: Connection,
}

fn date_text(d: Date) -> String {
    d.to_string()
}

/// An error of the state in `dir`; for methods that hold a transaction (a `&mut` borrow of the
/// connection) and so cannot call [`Authority::sqlite`].
fn sqlite_error(dir: &Path) -> impl Fn(rusqlite::Error) -> AuthorityError + Copy + '_ {
    move |source| AuthorityError::Sqlite {
        path: Authority::db_path(dir),
        cause: source,
    }
}

/// Creates `path` empty and private (0600), or makes an existing file private.
fn private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |cause| AuthorityError::Io {
        path: path.to_owned(),
        cause,
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)
}

impl Authority {
    fn db_path(dir: &Path) -> PathBuf {
        dir.join("authority.sqlite")
    }

    fn keys_dir(dir: &Path) -> PathBuf {
        dir.join("keys")
    }

    /// The root metadata appliances pin.
    pub fn root_json(&self) -> PathBuf {
        self.dir.join("root.json")
    }

    pub fn default_repo(&self) -> PathBuf {
        self.dir.join("repo")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn sqlite(&self) -> impl Fn(rusqlite::Error) -> AuthorityError + '_ {
        sqlite_error(&self.dir)
    }

    /// Create a new authority in `dir`: TUF role keys, a pinned root, one seal per issuing body,
    /// the built-in catalogue.
    pub async fn init(dir: &Path, now: Timestamp, lifetimes: &Lifetimes) -> Result<Authority> {
        let db_path = Authority::db_path(dir);
        if db_path.exists() {
            return Err(AuthorityError::AlreadyInitialised { path: dir.to_owned() });
        }
        let keys_dir = Authority::keys_dir(dir);
        std::fs::create_dir_all(&keys_dir).map_err(|source| AuthorityError::Io {
            path: keys_dir.clone(),
            cause: source,
        })?;
        let role_keys = RoleKeySet {
            root: keys::generate(),
            targets: keys::generate(),
            snapshot: keys::generate(),
            timestamp: keys::generate(),
        };
        for (name, key) in [
            ("root", &role_keys.root),
            ("targets", &role_keys.targets),
            ("snapshot", &role_keys.snapshot),
            ("timestamp", &role_keys.timestamp),
        ] {
            keys::write_key(&keys_dir.join(format!("{name}.pem")), key)?;
        }
        let root = publish::sign_root(&role_keys, 1, now + lifetimes.root, None).await?;
        publish::write_atomically(&dir.join("root.json"), &root)?;

        // Holders' names and masked ID numbers: the database is the authority's alone, 0600
        // from its first byte (SQLite gives its -wal and -shm files the same mode).
        private_file(&db_path)?;
        let db = Connection::open(&db_path).map_err(|source| AuthorityError::Sqlite {
            path: db_path.clone(),
            cause: source,
        })?;
        let mut authority = Authority {
            dir: dir.to_owned(),
            db,
        };
        authority
            .db
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(authority.sqlite())?;
        let catalogue = default_catalogue();
        let path = Authority::db_path(dir);
        let e = |source| AuthorityError::Sqlite {
            path: path.clone(),
            cause: source,
        };
        let tx = authority
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        tx.execute_batch(catalogue::SCHEMA).map_err(e)?;
        tx.execute_batch(lookup_index::SCHEMA).map_err(e)?;
        tx.execute_batch(fleet::SCHEMA).map_err(e)?;
        for b in &catalogue.bodies {
            tx.execute(
                "INSERT INTO bodies VALUES (?1, ?2, ?3)",
                params![b.code, b.name_zh, b.name_en],
            )
            .map_err(e)?;
            let (kind, from, until) = catalogue::first_seal(&b.code);
            let key = keys::generate();
            let id = KeyId::of(&key.verifying_key());
            let file = format!("seal-{}-{id}.pem", b.code);
            keys::write_key(&keys_dir.join(&file), &key)?;
            tx.execute(
                "INSERT INTO seal_keys (key_id, owner, kind, valid_from, valid_until, file) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id.to_string(),
                    b.code,
                    kind.as_str(),
                    date_text(from),
                    date_text(until),
                    file
                ],
            )
            .map_err(e)?;
        }
        for q in &catalogue.qualifications {
            tx.execute(
                "INSERT INTO qualifications VALUES (?1, ?2, ?3, ?4, ?5)",
                params![q.code, q.name_zh, q.name_en, q.seal_kind.as_str(), q.body],
            )
            .map_err(e)?;
        }
        for s in &catalogue.scope {
            tx.execute(
                "INSERT INTO scope VALUES (?1, ?2, ?3)",
                params![s.qualification, s.first_year, s.last_year],
            )
            .map_err(e)?;
        }
        tx.execute(
            &format!("INSERT INTO settings VALUES ('serial', 0), ('annotation_serial', 0), ('{LOOKUP_DIGEST}', 2)"),
            [],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(authority)
    }

    /// Open an existing authority directory.
    pub fn open(dir: &Path) -> Result<Authority> {
        let db_path = Authority::db_path(dir);
        if !db_path.exists() {
            return Err(AuthorityError::NotInitialised { path: dir.to_owned() });
        }
        // Authorities made before issue 16 created it 0644.
        private_file(&db_path)?;
        let db = Connection::open(&db_path).map_err(|source| AuthorityError::Sqlite {
            path: db_path,
            cause: source,
        })?;
        // Authorities made before the lookup index or the fleet gain their tables, and before
        // compromise dates, their column.
        let compromise_known: bool = db
            .query_row(
                "SELECT count(*) > 0 FROM pragma_table_info('seal_keys') WHERE name = 'compromised_from'",
                [],
                |r| r.get(0),
            )
            .and_then(|known| {
                db.execute_batch(lookup_index::SCHEMA)?;
                db.execute_batch(fleet::SCHEMA)?;
                Ok(known)
            })
            .map_err(|source| AuthorityError::Sqlite {
                path: Authority::db_path(dir),
                cause: source,
            })?;
        let sqlite = |source| AuthorityError::Sqlite {
            path: Authority::db_path(dir),
            cause: source,
        };
        if !compromise_known {
            db.execute_batch("ALTER TABLE seal_keys ADD COLUMN compromised_from INTEGER")
                .map_err(sqlite)?;
        }
        // Authorities whose lookup rows carry PBKDF2 name digests (before issue 17) drop them:
        // the next publication digests every row anew, with Argon2id over name and masked ID.
        db.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             DELETE FROM lookup_rows WHERE NOT EXISTS (SELECT 1 FROM settings WHERE key = '{LOOKUP_DIGEST}');
             DELETE FROM lookup_deleted WHERE NOT EXISTS (SELECT 1 FROM settings WHERE key = '{LOOKUP_DIGEST}');
             INSERT OR IGNORE INTO settings VALUES ('{LOOKUP_DIGEST}', 2);
             COMMIT;"
        ))
        .map_err(sqlite)?;
        Ok(Authority {
            dir: dir.to_owned(),
            db,
        })
    }

    fn next_serial(tx: &rusqlite::Transaction<'_>, key: &str) -> rusqlite::Result<i64> {
        tx.query_row(
            "UPDATE settings SET value = value + 1 WHERE key = ?1 RETURNING value",
            [key],
            |r| r.get(0),
        )
    }

    fn corrupt(&self, cause: CorruptValue) -> AuthorityError {
        AuthorityError::Corrupt {
            path: Authority::db_path(&self.dir),
            cause,
        }
    }

    /// All seal keys, as published. A row whose key file holds another key than the row
    /// names is corrupt: the seal list would publish one key and credentials carry another.
    pub fn seals(&self) -> Result<Vec<SealKey>> {
        type SealRow = (
            (String, String, String),
            (String, String),
            (Option<i64>, Option<i64>),
            String,
        );
        let rows: Vec<SealRow> = self.all(
            "SELECT key_id, owner, kind, valid_from, valid_until, retired_at, compromised_from, file
             FROM seal_keys ORDER BY key_id",
            |r| {
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?),
                    (r.get(3)?, r.get(4)?),
                    (r.get(5)?, r.get(6)?),
                    r.get(7)?,
                ))
            },
        )?;
        let qualifications = self.catalogue()?.qualifications;
        rows.into_iter()
            .map(|((key_id, owner, kind), (from, until), (retired, compromised), file)| {
                let row = Row {
                    table: "seal_keys",
                    key: &key_id,
                };
                let key = keys::read_key(&Authority::keys_dir(&self.dir).join(&file))?;
                let public_key = key.verifying_key();
                let read = || {
                    let id = KeyId::of(&public_key);
                    if id.to_string() != key_id {
                        return Err(row.corrupt("file", &file));
                    }
                    let kind = row.seal_kind("kind", &kind)?;
                    let validity = (row.date("valid_from", &from)?, row.date("valid_until", &until)?);
                    Ok(SealKey {
                        key_id: id,
                        public_key,
                        scope: seal_scope(&qualifications, &owner, kind, validity),
                        owner,
                        kind,
                        valid_from: validity.0,
                        valid_until: validity.1,
                        retired_at: retired.map(|t| row.timestamp("retired_at", t)).transpose()?,
                        compromised_from: compromised.map(|t| row.timestamp("compromised_from", t)).transpose()?,
                    })
                };
                read().map_err(|cause| self.corrupt(cause))
            })
            .collect()
    }

    /// The signer of the seal of `body` in service at `now` that is valid on the day `day`
    /// ([`Authority::in_service`]).
    fn seal_for(&self, body: &str, day: Date, now: Timestamp) -> Result<SealSigner> {
        let seal = self.in_service(body, day, now)?.ok_or_else(|| AuthorityError::NoSeal {
            body: body.to_owned(),
            issued: day,
        })?;
        Ok(SealSigner::new(keys::read_key(
            &Authority::keys_dir(&self.dir).join(seal.file),
        )?))
    }

    fn qualification(&self, code: &str) -> Result<Qualification> {
        let (name_zh, name_en, kind, body): (String, String, String, String) = self
            .db
            .query_row(
                "SELECT name_zh, name_en, seal_kind, body FROM qualifications WHERE code = ?1",
                [code],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(self.sqlite())?
            .ok_or_else(|| AuthorityError::UnknownQualification(code.to_owned()))?;
        let row = Row {
            table: "qualifications",
            key: code,
        };
        Ok(Qualification {
            code: code.to_owned(),
            name_zh,
            name_en,
            seal_kind: row.seal_kind("seal_kind", &kind).map_err(|c| self.corrupt(c))?,
            body,
        })
    }

    /// Issue a certificate: assign its management number, seal its (unannotated) credential.
    pub fn issue(&mut self, req: &IssueRequest, now: Timestamp) -> Result<Sealed> {
        rules::check_issue(req, calendar::date_in_china(now))?;
        let q = self.qualification(&req.qualification)?;
        let signer = self.seal_for(&q.body, req.ecert_issued_on, now)?;
        let path = Authority::db_path(&self.dir);
        let e = |source| AuthorityError::Sqlite {
            path: path.clone(),
            cause: source,
        };
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let serial = Authority::next_serial(&tx, "serial").map_err(e)?;
        let management_number = rules::management_number(req.approved_on, &q.code, serial);
        tx.execute(
            "INSERT INTO certificates VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                management_number,
                req.certificate_number,
                req.holder_name,
                req.masked_id,
                q.code,
                req.level.code(),
                req.specialty,
                q.body,
                date_text(req.approved_on),
                date_text(req.ecert_issued_on),
                signer.key_id.to_string(),
                now.as_second()
            ],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        let claims = Claims {
            management_number,
            certificate_number: req.certificate_number.clone(),
            holder_name: req.holder_name.clone(),
            masked_id: req.masked_id.clone(),
            qualification: q.code,
            level: req.level,
            specialty: req.specialty.clone(),
            issuing_body: q.body,
            approved_on: req.approved_on,
            ecert_issued_on: req.ecert_issued_on,
            annotation: None,
        };
        let credential = signer.seal(&claims);
        Ok(Sealed { claims, credential })
    }

    /// The certificate's claims without annotation, and its seal key id.
    fn certificate(&self, management_number: &str) -> Result<(Claims, String)> {
        type CertificateRow = (
            Option<String>,
            String,
            String,
            String,
            i64,
            Option<String>,
            String,
            String,
            String,
            String,
        );
        let (certificate_number, holder_name, masked_id, qualification, level, specialty, body, approved, ecert, key): CertificateRow = self
            .db
            .query_row(
                "SELECT certificate_number, holder_name, masked_id, qualification, level, specialty, issuing_body,
                        approved_on, ecert_issued_on, seal_key_id FROM certificates WHERE management_number = ?1",
                [management_number],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                    ))
                },
            )
            .optional()
            .map_err(self.sqlite())?
            .ok_or_else(|| AuthorityError::UnknownCertificate(management_number.to_owned()))?;
        let row = Row {
            table: "certificates",
            key: management_number,
        };
        let read = || {
            Ok(Claims {
                management_number: management_number.to_owned(),
                certificate_number,
                holder_name,
                masked_id,
                qualification,
                level: row.level("level", level)?,
                specialty,
                issuing_body: body,
                approved_on: row.date("approved_on", &approved)?,
                ecert_issued_on: row.date("ecert_issued_on", &ecert)?,
                annotation: None,
            })
        };
        let claims = read().map_err(|c| self.corrupt(c))?;
        Ok((claims, key))
    }

    /// Annotate (加注) a certificate for `scenario`, valid on the civil days
    /// `valid_from..=valid_until`, applied for at `now`.
    pub fn annotate(
        &mut self,
        management_number: &str,
        scenario: Scenario,
        valid_from: Date,
        valid_until: Date,
        now: Timestamp,
    ) -> Result<Sealed> {
        rules::check_scenario(scenario)?;
        let (mut claims, _) = self.certificate(management_number)?;
        let revoked: bool = self
            .db
            .query_row(
                "SELECT count(*) > 0 FROM revocations WHERE management_number = ?1",
                [management_number],
                |r| r.get(0),
            )
            .map_err(self.sqlite())?;
        let today = calendar::date_in_china(now);
        let valid_in_window: i64 = self
            .db
            .query_row(
                "SELECT count(*) FROM annotations a WHERE a.management_number = ?1 AND a.requested_at >= ?2
                 AND a.requested_at <= ?3 AND NOT EXISTS (SELECT 1 FROM cancellations c WHERE c.annotation_id = a.id)",
                params![
                    management_number,
                    rules::annotation_window_start(today).as_second(),
                    now.as_second()
                ],
                |r| r.get(0),
            )
            .map_err(self.sqlite())?;
        let certificate = rules::Annotatable {
            management_number,
            revoked,
            seal_kind: self.qualification(&claims.qualification)?.seal_kind,
            ecert_issued_on: claims.ecert_issued_on,
            valid_in_window: valid_in_window as usize,
        };
        rules::check_annotation(&certificate, valid_from, valid_until, today)?;
        // Sealed with the body's seal of today, whichever sealed the certificate: a verifier
        // takes an annotation's day of application as its sealing day, so a retired seal
        // never vouches for an annotation applied for after its retirement.
        let signer = self.seal_for(&claims.issuing_body, today, now)?;
        let path = Authority::db_path(&self.dir);
        let e = |source| AuthorityError::Sqlite {
            path: path.clone(),
            cause: source,
        };
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let serial = Authority::next_serial(&tx, "annotation_serial").map_err(e)?;
        let id = serial as u64;
        // Whole seconds: the credential carries the application time to the second.
        let requested_at = Timestamp::from_second(now.as_second()).unwrap_or(now);
        tx.execute(
            "INSERT INTO annotations VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id as i64,
                management_number,
                scenario.0,
                requested_at.as_second(),
                date_text(valid_from),
                date_text(valid_until)
            ],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        claims.annotation = Some(Annotation {
            id,
            scenario,
            requested_at,
            valid_from,
            valid_until,
        });
        let credential = signer.seal(&claims);
        Ok(Sealed { claims, credential })
    }

    /// Withdraw an annotation.
    pub fn cancel_annotation(&mut self, annotation_id: u64, reason: &str, now: Timestamp) -> Result<Cancellation> {
        rules::check_cancellation(reason)?;
        let exists: bool = self
            .db
            .query_row(
                "SELECT count(*) > 0 FROM annotations WHERE id = ?1",
                [annotation_id as i64],
                |r| r.get(0),
            )
            .map_err(self.sqlite())?;
        if !exists {
            return Err(AuthorityError::UnknownAnnotation(annotation_id));
        }
        let c = Cancellation {
            annotation_id,
            cancelled_at: now,
            reason: reason.to_owned(),
        };
        let inserted = self
            .db
            .execute(
                "INSERT OR IGNORE INTO cancellations VALUES (?1, ?2, ?3)",
                params![c.annotation_id as i64, now.as_second(), c.reason],
            )
            .map_err(self.sqlite())?;
        if inserted == 0 {
            return Err(AuthorityError::AlreadyCancelled(annotation_id));
        }
        Ok(c)
    }

    /// Revoke a certificate.
    pub fn revoke(
        &mut self,
        management_number: &str,
        reason: RevocationReason,
        reason_text: &str,
        revoked_by: Option<&str>,
        now: Timestamp,
    ) -> Result<Revocation> {
        let (claims, _) = self.certificate(management_number)?;
        let r = rules::revocation(
            management_number,
            &claims.issuing_body,
            reason,
            reason_text,
            revoked_by,
            now,
        );
        let inserted = self
            .db
            .execute(
                "INSERT OR IGNORE INTO revocations VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    r.management_number,
                    now.as_second(),
                    r.reason_code,
                    r.reason,
                    r.revoked_by
                ],
            )
            .map_err(self.sqlite())?;
        if inserted == 0 {
            return Err(AuthorityError::AlreadyRevoked(management_number.to_owned()));
        }
        Ok(r)
    }

    /// Every row of `sql`, mapped by `f`.
    fn all<T>(&self, sql: &str, f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>) -> Result<Vec<T>> {
        self.db
            .prepare(sql)
            .and_then(|mut st| st.query_map([], f)?.collect())
            .map_err(self.sqlite())
    }

    fn catalogue(&self) -> Result<Catalogue> {
        let bodies = self.all("SELECT code, name_zh, name_en FROM bodies ORDER BY code", |r| {
            Ok(Body {
                code: r.get(0)?,
                name_zh: r.get(1)?,
                name_en: r.get(2)?,
            })
        })?;
        let codes: Vec<String> = self.all("SELECT code FROM qualifications ORDER BY code", |r| r.get(0))?;
        let qualifications = codes
            .iter()
            .map(|c| self.qualification(c))
            .collect::<Result<Vec<_>>>()?;
        let scope = self.all(
            "SELECT qualification, first_year, last_year FROM scope ORDER BY qualification, first_year",
            |r| {
                Ok(ScopeEntry {
                    qualification: r.get(0)?,
                    first_year: r.get(1)?,
                    last_year: r.get(2)?,
                })
            },
        )?;
        Ok(Catalogue {
            qualifications,
            bodies,
            scope,
        })
    }

    /// Everything a publication at `now` would carry.
    pub fn dataset(&self, version: u64, now: Timestamp) -> Result<Dataset> {
        type RevocationRow = (String, i64, String, String, String);
        let revocations = self
            .all(
                "SELECT management_number, revoked_at, reason_code, reason, revoked_by FROM revocations
                 ORDER BY management_number",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?
            .into_iter()
            .map(|(number, at, reason_code, reason, revoked_by): RevocationRow| {
                let row = Row {
                    table: "revocations",
                    key: &number,
                };
                let revoked_at = row.timestamp("revoked_at", at).map_err(|c| self.corrupt(c))?;
                Ok(Revocation {
                    management_number: number,
                    revoked_at,
                    reason_code,
                    reason,
                    revoked_by,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let cancellations = self
            .all(
                "SELECT annotation_id, cancelled_at, reason FROM cancellations ORDER BY annotation_id",
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)),
            )?
            .into_iter()
            .map(|(id, at, reason)| {
                let key = id.to_string();
                let row = Row {
                    table: "cancellations",
                    key: &key,
                };
                let read = || {
                    Ok(Cancellation {
                        annotation_id: row.count("annotation_id", id)?,
                        cancelled_at: row.timestamp("cancelled_at", at)?,
                        reason,
                    })
                };
                read().map_err(|c| self.corrupt(c))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Dataset {
            version,
            as_of: now,
            seals: self.seals()?,
            catalogue: self.catalogue()?,
            revocations,
            cancellations,
        })
    }

    fn role_keys(&self) -> Result<RoleKeySet> {
        let k = |name: &str| keys::read_key(&Authority::keys_dir(&self.dir).join(format!("{name}.pem")));
        Ok(RoleKeySet {
            root: k("root")?,
            targets: k("targets")?,
            snapshot: k("snapshot")?,
            timestamp: k("timestamp")?,
        })
    }

    /// Replace the root key: root metadata version N+1 names a new root key and is signed by
    /// the old and the new one, so appliances pinned to any earlier root follow the chain. The
    /// new root is written to `out/metadata/` and becomes `DIR/root.json`; the old key is kept
    /// as `keys/root-vN.pem`.
    pub async fn rotate_root(&mut self, out: &Path, now: Timestamp, lifetimes: &Lifetimes) -> Result<u64> {
        let root_path = self.root_json();
        let bytes = std::fs::read(&root_path).map_err(|source| AuthorityError::Io {
            path: root_path.clone(),
            cause: source,
        })?;
        let current = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.pointer("/signed/version").and_then(serde_json::Value::as_u64))
            .ok_or_else(|| AuthorityError::Invalid {
                field: "root.json",
                problem: "has no version".into(),
            })?;
        let mut keys = self.role_keys()?;
        let old = std::mem::replace(&mut keys.root, keys::generate());
        let next = current + 1;
        let signed = publish::sign_root(&keys, next, now + lifetimes.root, Some(&old)).await?;
        let keys_dir = Authority::keys_dir(&self.dir);
        let (current_key, retired_key) = (keys_dir.join("root.pem"), keys_dir.join(format!("root-v{current}.pem")));
        // New key written first, then swapped in: a crash never leaves the authority without
        // a root key file.
        let new_key = keys_dir.join(format!("root-v{next}.pem.new"));
        keys::write_key(&new_key, &keys.root)?;
        std::fs::rename(&current_key, &retired_key).map_err(|source| AuthorityError::Io {
            path: retired_key,
            cause: source,
        })?;
        std::fs::rename(&new_key, &current_key).map_err(|source| AuthorityError::Io {
            path: current_key,
            cause: source,
        })?;
        let metadata = crate::repository::metadata_dir(out);
        std::fs::create_dir_all(&metadata).map_err(|source| AuthorityError::Io {
            path: metadata.clone(),
            cause: source,
        })?;
        publish::write_atomically(&metadata.join(format!("{next}.root.json")), &signed)?;
        publish::write_atomically(&root_path, &signed)?;
        Ok(next)
    }

    /// Publish the current status data as the next version of the repository at `out`.
    ///
    /// One transaction on the authority's state: the lookup index's rows are brought up to
    /// date and its files written, then the repository is signed; only then is the
    /// publication recorded. A failure anywhere leaves the state as it was, so the same
    /// version can be published again with a fresh salt.
    pub async fn publish(&mut self, out: &Path, now: Timestamp, lifetimes: &Lifetimes) -> Result<Published> {
        // Rolled back when dropped: on an error, and if this future is dropped half-way.
        let tx =
            rusqlite::Transaction::new_unchecked(&self.db, TransactionBehavior::Immediate).map_err(self.sqlite())?;
        let published = self.publish_in_transaction(out, now, lifetimes).await?;
        tx.commit().map_err(self.sqlite())?;
        Ok(published)
    }

    async fn publish_in_transaction(&self, out: &Path, now: Timestamp, lifetimes: &Lifetimes) -> Result<Published> {
        let last: i64 = self
            .db
            .query_row("SELECT coalesce(max(version), 0) FROM publications", [], |r| r.get(0))
            .map_err(self.sqlite())?;
        // Whole seconds: as_of is carried and compared to the second.
        let as_of = Timestamp::from_second(now.as_second()).unwrap_or(now);
        let dataset = self.dataset(last as u64 + 1, as_of)?;
        let targets = crate::repository::targets_dir(out);
        std::fs::create_dir_all(&targets).map_err(|source| AuthorityError::Io {
            path: targets.clone(),
            cause: source,
        })?;
        let fleet = self.publication_fleet(now)?;
        let lookup = self.write_lookup_files(&targets, &fleet.key, dataset.version, as_of)?;
        if lookup.is_none() {
            // A lookup file of this version left by a publish that failed would be listed.
            let stale = targets.join(crate::status::TargetKind::Lookup.file_name(dataset.version));
            if let Err(source) = std::fs::remove_file(&stale)
                && source.kind() != std::io::ErrorKind::NotFound
            {
                return Err(AuthorityError::Io {
                    path: stale,
                    cause: source,
                });
            }
        }
        let keys = self.role_keys()?;
        publish::publish(out, &self.root_json(), &keys, &dataset, Some(&fleet), as_of, lifetimes).await?;
        self.db
            .execute(
                "INSERT INTO publications VALUES (?1, ?2)",
                params![dataset.version as i64, as_of.as_second()],
            )
            .map_err(self.sqlite())?;
        Ok(Published {
            version: dataset.version,
            as_of,
            revocations: dataset.revocations.len(),
            cancellations: dataset.cancellations.len(),
            seals: dataset.seals.len(),
            lookup,
            appliances: fleet.grants.len(),
            repo: out.to_owned(),
        })
    }
}

mod catalogue;
mod fleet;
mod lookup_index;
mod rows;
pub mod rules;
mod seals;
pub use fleet::Member;
pub use lookup_index::LookupPublished;
pub use seals::Rotation;

#[cfg(test)]
mod tests;
