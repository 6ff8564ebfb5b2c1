//! Verification off the UI thread: a worker that takes credential texts, files and manual
//! lookups, decides them against the store (opened read-only for each job, so it always sees
//! certd's latest data), records them in the kiosk's audit log, and hands each verdict back.

use crate::present::Channel;
use certkiosk_appliance::audit::{AuditLog, Limits};
use certkiosk_appliance::check::{Input, read_input_with};
use certkiosk_store::Store;
use certkiosk_verify::{ManualQuery, Now, Policy, Verdict, VerdictCode, lookup, unreadable, verify, without_store};
use jiff::Timestamp;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Work for the verifier.
#[derive(Debug)]
pub enum Job {
    /// A credential text from the camera or the handheld scanner.
    Text { text: String, channel: Channel },
    /// A PDF or picture file, read in the contained child.
    File(PathBuf),
    /// A management number and a holder name, typed on the lookup screen.
    Lookup { number: String, name: String },
}

/// A verdict, how it was reached, and how long it took from the job's submission.
#[derive(Debug)]
pub struct Done {
    pub verdict: Verdict,
    pub channel: Channel,
    pub took: Duration,
}

/// Where "now" comes from.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// A fixed time: screenshots and tests that must not depend on the day they run.
    Fixed(Timestamp),
    /// The demo's time travel: the system clock, except for the demo samples whose verdict
    /// shows only at another time (data too old to decide: `expected.json`'s `at`).
    Demo(Arc<HashMap<String, Timestamp>>),
}

impl Clock {
    /// "Now" for verifying `text`.
    pub fn now_for(&self, text: &str) -> Now {
        match self {
            Clock::System => Now::System(Timestamp::now()),
            Clock::Fixed(t) => Now::Explicit(*t),
            Clock::Demo(at) => at
                .get(text)
                .map_or_else(|| Now::System(Timestamp::now()), |t| Now::Explicit(*t)),
        }
    }

    /// "Now" for a manual lookup: there is no sample text to travel in time for.
    pub fn now(&self) -> Now {
        match self {
            Clock::Fixed(t) => Now::Explicit(*t),
            Clock::System | Clock::Demo(_) => Now::System(Timestamp::now()),
        }
    }

    pub fn timestamp(&self) -> Timestamp {
        match self {
            Clock::Fixed(t) => *t,
            Clock::System | Clock::Demo(_) => Timestamp::now(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub store: PathBuf,
    pub policy: Policy,
    pub clock: Clock,
    /// The program run as the contained file reader (this program itself; it serves
    /// `acquire::child::ARG` first thing in `main`).
    pub reader_program: PathBuf,
    pub audit_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Verifier {
    jobs: mpsc::Sender<(Job, Instant)>,
}

impl Verifier {
    /// Starts the worker thread; `done` is called on it for each verdict.
    pub fn start(settings: Settings, done: impl Fn(Done) + Send + 'static) -> std::io::Result<Verifier> {
        let (jobs, queue) = mpsc::channel::<(Job, Instant)>();
        std::thread::Builder::new().name("verifier".into()).spawn(move || {
            let mut audit = settings
                .audit_dir
                .as_ref()
                .and_then(|dir| match AuditLog::open(dir, Limits::default()) {
                    Ok(log) => Some(log),
                    Err(e) => {
                        tracing::warn!(error = %e, "verifications are not being recorded");
                        None
                    }
                });
            for (job, submitted) in queue {
                let (verdict, channel) = run_job(&settings, job);
                if let Some(log) = &audit {
                    let number = verdict.certificate.as_ref().map(|c| c.management_number.as_str());
                    if let Err(e) = log.record(
                        verdict.checked_at,
                        verdict.verdict.as_str(),
                        channel_name(channel),
                        number,
                    ) {
                        tracing::warn!(error = %e, "verifications are not being recorded");
                        audit = None;
                    }
                }
                tracing::info!(verdict = %verdict.verdict, source = channel_name(channel), "verified");
                done(Done {
                    verdict,
                    channel,
                    took: submitted.elapsed(),
                });
            }
        })?;
        Ok(Verifier { jobs })
    }

    pub fn submit(&self, job: Job) {
        // The worker only ends with the process.
        let _ = self.jobs.send((job, Instant::now()));
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Camera => "camera",
        Channel::Scanner => "scanner",
        Channel::File(Some(source)) => source,
        Channel::File(None) => "file",
        Channel::Manual => certkiosk_appliance::check::SOURCE_MANUAL,
    }
}

fn run_job(settings: &Settings, job: Job) -> (Verdict, Channel) {
    let (text, channel) = match job {
        Job::Text { text, channel } => (text, channel),
        Job::Lookup { number, name } => return (run_lookup(settings, &number, &name), Channel::Manual),
        Job::File(path) => {
            let name = path.display().to_string();
            match read_input_with(&settings.reader_program, &name, acquire::child::Want::Credential) {
                Ok((Input::Text { text, source }, _)) => (text, Channel::File(Some(source))),
                Ok((Input::NotText { reason, source }, _)) => {
                    return (unreadable(reason, settings.clock.timestamp()), Channel::File(source));
                }
                Err(e) => {
                    return (
                        unreadable(e.to_string(), settings.clock.timestamp()),
                        Channel::File(None),
                    );
                }
            }
        }
    };
    let now = settings.clock.now_for(&text);
    let verdict = match Store::open(&settings.store) {
        Ok(store) => match store.reader() {
            Ok(reader) => verify(&text, &reader, now, &settings.policy),
            Err(e) => without_store(&text, &e.to_string(), settings.clock.timestamp()),
        },
        Err(e) => without_store(&text, &e.to_string(), settings.clock.timestamp()),
    };
    (verdict, channel)
}

/// The same store, clock and policy as a scan, through `certkiosk_verify::lookup`. The screen
/// sends only queries that hold both fields; a query refused all the same is `unreadable`.
fn run_lookup(settings: &Settings, number: &str, name: &str) -> Verdict {
    let query = match ManualQuery::new(number, name) {
        Ok(query) => query,
        Err(reason) => return unreadable(reason, settings.clock.timestamp()),
    };
    // No store to look in: the status cannot be decided, as for a scan (`without_store`).
    let failed = |e: &dyn std::fmt::Display| Verdict {
        verdict: VerdictCode::StatusUnavailable,
        ..unreadable(e.to_string(), settings.clock.timestamp())
    };
    match Store::open(&settings.store) {
        Ok(store) => match store.reader() {
            Ok(reader) => lookup(&query, &reader, settings.clock.now(), &settings.policy),
            Err(e) => failed(&e),
        },
        Err(e) => failed(&e),
    }
}
