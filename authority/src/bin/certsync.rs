//! `certsync`: the authority's publisher CLI. Flags in, one library call, one-line errors out.

use anyhow::Context;
use certsync::authority::{Authority, IssueRequest};
use certsync::credential::{Level, Scenario};
use certsync::demo;
use certsync::publish::Lifetimes;
use certsync::status::RevocationReason;
use certsync::trust::KeyId;
use clap::{Parser, Subcommand};
use jiff::Timestamp;
use jiff::civil::Date;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "certsync",
    version,
    about = "certkiosk authority side: issue credentials, publish status data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a whole demo world (authority, repository, samples, expected verdicts, certd.toml).
    Demo {
        out: PathBuf,
        /// Rebuild a previous demo world in OUT.
        #[arg(long)]
        force: bool,
    },
    /// Create an authority: TUF role keys, pinned root.json, seal keys, catalogue.
    Init { dir: PathBuf },
    /// Issue a certificate and print its management number and credential.
    Issue {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        qualification: String,
        #[arg(long)]
        name: String,
        #[arg(long = "masked-id")]
        masked_id: String,
        /// unleveled, junior, intermediate, senior, principal, first_class, second_class
        #[arg(long, default_value = "unleveled", value_parser = parse_level)]
        level: Level,
        #[arg(long)]
        specialty: Option<String>,
        #[arg(long = "certificate-number")]
        certificate_number: Option<String>,
        /// Approval date (YYYY-MM-DD).
        #[arg(long)]
        approved: Date,
        /// E-certificate issue date (YYYY-MM-DD).
        #[arg(long)]
        issued: Date,
    },
    /// Annotate (加注) a certificate and print the annotated credential.
    Annotate {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long = "management-number")]
        management_number: String,
        /// Usage scenario code (1 = 本人调用, self use).
        #[arg(long, default_value_t = 1)]
        scenario: u16,
        /// First day (YYYY-MM-DD, Asia/Shanghai).
        #[arg(long)]
        from: Date,
        /// Last day, inclusive (YYYY-MM-DD); at most 90 days.
        #[arg(long)]
        until: Date,
    },
    /// Cancel an annotation.
    CancelAnnotation {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        annotation: u64,
        #[arg(long)]
        reason: String,
    },
    /// Revoke a certificate.
    Revoke {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long = "management-number")]
        management_number: String,
        /// fraud, reissued, violation, other
        #[arg(long = "reason-code", value_parser = parse_reason)]
        reason_code: RevocationReason,
        /// The reason in the authority's words (default: the code's name).
        #[arg(long, default_value = "")]
        reason: String,
        /// Revoking body code (default: the issuing body).
        #[arg(long)]
        by: Option<String>,
    },
    /// Put a qualification's certificates into the lookup index for manual lookup (from the
    /// next publication on), or take them out with --off. Without --qualification: list them.
    LookupIndex {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        qualification: Option<String>,
        #[arg(long)]
        off: bool,
    },
    /// Retire the seal of a body and put a new one in its place (from today; annotations
    /// from now on are sealed with it).
    RotateSeal {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Issuing body code (e.g. MOHRSS).
        #[arg(long)]
        body: String,
        /// First day of the new seal (YYYY-MM-DD, China; default tomorrow, never today).
        #[arg(long)]
        from: Option<Date>,
    },
    /// Publish a seal as compromised from a moment: verifiers take nothing it sealed on or
    /// after that day as genuine. A seal in service is rotated out first.
    CompromiseSeal {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The seal's key id (16 hex digits, as `certd verify` shows it).
        #[arg(long, value_parser = parse_key_id)]
        seal: KeyId,
        /// From when it may have been in other hands (RFC 3339, e.g. 2026-11-30T00:00:00+08:00).
        #[arg(long)]
        from: Timestamp,
    },
    /// Enroll an appliance in the fleet: from the next publication on it can open the sealed
    /// lookup index, revocations and cancellations. KEY is what `certd fleet-key` prints on it.
    Enroll {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// A name for it (the site, the desk): letters, digits, spaces, '-', '_', '.', '·'.
        #[arg(long)]
        name: String,
        /// Its fleet key, 64 hex digits.
        #[arg(long)]
        key: String,
    },
    /// Take an appliance out of the fleet (lost, stolen, scrapped) and make a new content key:
    /// it opens nothing published from the next publication on.
    Unenroll {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Make a new content key for the sealed files of the next publications.
    RotateFleetKey {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// List the appliances ever enrolled.
    Fleet {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Rotate the root key (root metadata N+1, signed by the old and the new root key).
    RotateRoot {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Repository directory (default DIR/repo).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Copy the repository for removable media (a USB stick), for `certd import`.
    Export {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Repository to copy (default DIR/repo).
        #[arg(long)]
        repo: Option<PathBuf>,
        /// Destination directory.
        #[arg(long)]
        to: PathBuf,
    },
    /// Publish the status data as the next version of the TUF repository.
    Publish {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Repository directory (default DIR/repo).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Days until timestamp.json expires.
        #[arg(long, default_value_t = 7)]
        timestamp_days: u32,
    },
}

fn parse_key_id(s: &str) -> Result<KeyId, String> {
    KeyId::from_hex(s).ok_or_else(|| "a seal key id is 16 hex digits".to_owned())
}

fn parse_level(s: &str) -> Result<Level, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| format!("unknown level {s:?}"))
}

fn parse_reason(s: &str) -> Result<RevocationReason, String> {
    RevocationReason::parse(s).ok_or_else(|| format!("unknown reason code {s:?} (fraud, reissued, violation, other)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("certsync: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("certsync: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    let now = Timestamp::now();
    match command {
        Command::Demo { out, force } => {
            demo::prepare_dir(&out, force)?;
            let summary = demo::build(&out, now).await?;
            println!(
                "demo world in {}: {} samples, publication {}; next: certd --config {} sync --once",
                summary.out.display(),
                summary.expectations.len(),
                summary.publication,
                summary.out.join("certd.toml").display()
            );
        }
        Command::Init { dir } => {
            Authority::init(&dir, now, &Lifetimes::default()).await?;
            println!(
                "authority created in {}; appliances pin {}",
                dir.display(),
                dir.join("root.json").display()
            );
        }
        Command::Issue {
            dir,
            qualification,
            name,
            masked_id,
            level,
            specialty,
            certificate_number,
            approved,
            issued,
        } => {
            let mut a = Authority::open(&dir)?;
            let req = IssueRequest {
                qualification,
                holder_name: name,
                masked_id,
                level,
                specialty,
                certificate_number,
                approved_on: approved,
                ecert_issued_on: issued,
            };
            let sealed = a.issue(&req, now)?;
            println!("{}\n{}", sealed.claims.management_number, sealed.credential);
        }
        Command::Annotate {
            dir,
            management_number,
            scenario,
            from,
            until,
        } => {
            let mut a = Authority::open(&dir)?;
            let sealed = a.annotate(&management_number, Scenario(scenario), from, until, now)?;
            let id = sealed.claims.annotation.as_ref().map(|x| x.id).unwrap_or_default();
            println!("{id}\n{}", sealed.credential);
        }
        Command::CancelAnnotation {
            dir,
            annotation,
            reason,
        } => {
            Authority::open(&dir)?.cancel_annotation(annotation, &reason, now)?;
            println!("annotation {annotation} cancelled; publish to tell the appliances");
        }
        Command::RotateSeal { dir, body, from } => {
            let r = Authority::open(&dir)?.rotate_seal(&body, now, from)?;
            if let Some(old) = r.retired {
                println!("seal {old} of {body} retires at the start of {} (China)", r.from);
            }
            println!(
                "seal {} of {body} in service from {}; publish before then",
                r.new, r.from
            );
        }
        Command::CompromiseSeal { dir, seal, from } => {
            let (from, r) = Authority::open(&dir)?.compromise_seal(seal, from, now)?;
            if let Some(r) = r {
                println!(
                    "seal {seal} retired now; seal {} of the same body in service from now",
                    r.new
                );
            }
            println!("seal {seal} compromised from {from}; publish now to tell the appliances");
        }
        Command::Enroll { dir, name, key } => {
            Authority::open(&dir)?.enroll(&name, &key, now)?;
            println!("appliance {name:?} enrolled; publish to grant it the fleet key");
        }
        Command::Unenroll { dir, name } => {
            let id = Authority::open(&dir)?.remove_from_fleet(&name, now)?;
            println!("appliance {name:?} removed; the next publication is sealed with the new key {id}");
        }
        Command::RotateFleetKey { dir } => {
            let id = Authority::open(&dir)?.rotate_fleet_key(now)?;
            println!("the next publication is sealed with the new key {id}");
        }
        Command::Fleet { dir } => {
            for m in Authority::open(&dir)?.fleet_members()? {
                let state = match m.removed_at {
                    Some(t) => format!("removed {t}"),
                    None => "enrolled".to_owned(),
                };
                println!("{}\t{}\tenrolled {}\t{state}", m.public_key, m.name, m.enrolled_at);
            }
        }
        Command::Revoke {
            dir,
            management_number,
            reason_code,
            reason,
            by,
        } => {
            Authority::open(&dir)?.revoke(&management_number, reason_code, &reason, by.as_deref(), now)?;
            println!("certificate {management_number} revoked; publish to tell the appliances");
        }
        Command::LookupIndex {
            dir,
            qualification,
            off,
        } => {
            let mut a = Authority::open(&dir)?;
            if let Some(q) = &qualification {
                a.set_lookup(q, !off)?;
            }
            let all = a.lookup_qualifications()?;
            println!(
                "lookup index: {}{}",
                if all.is_empty() {
                    "no qualification".to_owned()
                } else {
                    all.join(", ")
                },
                if qualification.is_some() {
                    " (from the next publication)"
                } else {
                    ""
                }
            );
        }
        Command::RotateRoot { dir, out } => {
            let mut a = Authority::open(&dir)?;
            let out = out.unwrap_or_else(|| a.default_repo());
            let v = a.rotate_root(&out, now, &Lifetimes::default()).await?;
            println!("root version {v} written to {}; publish to serve it", out.display());
        }
        Command::Export { dir, repo, to } => {
            let repo = repo.unwrap_or_else(|| dir.join("repo"));
            let n = certsync::publish::export(&repo, &to)?;
            println!("copied {n} files of {} to {}", repo.display(), to.display());
        }
        Command::Publish {
            dir,
            out,
            timestamp_days,
        } => {
            let mut a = Authority::open(&dir)?;
            let out = out.unwrap_or_else(|| a.default_repo());
            let lifetimes = Lifetimes {
                timestamp: jiff::SignedDuration::from_hours(24 * i64::from(timestamp_days.max(1))),
                ..Lifetimes::default()
            };
            let p = a.publish(&out, now, &lifetimes).await.context("publishing")?;
            let lookup = p.lookup.map_or(String::new(), |l| {
                format!(
                    ", a lookup index of {} certificates ({} new or changed, {} removed)",
                    l.rows, l.changed, l.deleted
                )
            });
            println!(
                "published version {} (as of {}) to {}: {} revocations, {} annotation cancellations, {} seals{lookup}",
                p.version,
                p.as_of,
                p.repo.display(),
                p.revocations,
                p.cancellations,
                p.seals
            );
            if p.appliances == 0 {
                eprintln!(
                    "certsync: warning: no appliance is enrolled in the fleet, so none can open this publication's \
                     sealed files (`certsync enroll`)"
                );
            }
        }
    }
    Ok(())
}
