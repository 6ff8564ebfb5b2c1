//! Verification off the UI thread: a worker that takes credential texts, files and manual
//! lookups and hands each verdict back. It reads a file in the contained child, then goes the
//! way certd goes (`certkiosk_appliance::check::check`): the verdict against the store (opened
//! read-only for each job, so it always sees certd's latest data) and its record in the
//! kiosk's audit log.

use certkiosk_appliance::audit::Limits;
use certkiosk_appliance::check::{Audit, Input, Outcome, Request, Source, check, read_input_with};
use certkiosk_appliance::config::AuditSettings;
use certkiosk_store::Store;
use certkiosk_verify::{ManualQuery, Now, Policy, Verdict};
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
    Text { text: String, source: Source },
    /// A PDF or picture file, read in the contained child.
    File(PathBuf),
    /// A management number and a holder name, typed on the lookup screen.
    Lookup {
        number: String,
        name: String,
        id_number: String,
    },
}

/// A verdict, where its input came from (`None`: a file that could not be read), and how long
/// it took from the job's submission.
#[derive(Debug)]
pub struct Done {
    pub verdict: Verdict,
    pub source: Option<Source>,
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
            let log = settings.audit_dir.clone().map(|dir| AuditSettings {
                dir,
                limits: Limits::default(),
            });
            // A file that could not be read is recorded as `file`.
            let mut audit = Audit::open(log.as_ref(), "file", |problem| {
                tracing::warn!(error = %problem, "verifications are not being recorded");
            });
            for (job, submitted) in queue {
                let Outcome { verdict, source, .. } = run_job(&settings, job, &mut audit);
                tracing::info!(verdict = %verdict.verdict, source = audit.source_name(source), "verified");
                done(Done {
                    verdict,
                    source,
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

/// Reads what `job` holds, then decides and records it through [`check`].
fn run_job(settings: &Settings, job: Job, audit: &mut Audit) -> Outcome {
    let request = match job {
        Job::Text { text, source } => Request::Input(Input::Text { text, source }),
        Job::File(path) => {
            let name = path.display().to_string();
            match read_input_with(&settings.reader_program, &name, acquire::child::Want::Credential) {
                Ok((input, _)) => Request::Input(input),
                // A file that cannot be opened is unreadable here (certd reports it and goes on).
                Err(e) => Request::Input(Input::NotText {
                    reason: e.to_string(),
                    source: None,
                }),
            }
        }
        // The screen sends only queries that hold all three fields; a query refused all the same
        // is `unreadable`.
        Job::Lookup {
            number,
            name,
            id_number,
        } => match ManualQuery::new(&number, &name, &id_number) {
            Ok(query) => Request::Lookup(query),
            Err(reason) => Request::Input(Input::NotText {
                reason: reason.to_string(),
                source: Some(Source::Manual),
            }),
        },
    };
    let store = Store::open(&settings.store).map_err(|e| e.to_string());
    let reader = store
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|s| s.reader().map_err(|e| e.to_string()));
    // The demo's time travel is for texts decided against the store; anything else is stamped
    // with the clock's own time.
    let now = match (&request, &reader) {
        (Request::Input(Input::Text { text, .. }), Ok(_)) => settings.clock.now_for(text),
        _ => settings.clock.now(),
    };
    // The kiosk prints no outcome: the input needs no name.
    check(
        "",
        request,
        reader.as_ref().map_err(String::as_str),
        now,
        &settings.policy,
        audit,
    )
}
