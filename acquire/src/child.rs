//! The child process that parses untrusted files (docs/design.md §7).
//!
//! The program that needs a file read (certd, certkiosk) runs *itself* again as
//! `PROGRAM __acquire GOAL LIMITS` ([`read_file`]) with the file, opened by the parent, as its
//! standard input; its `main` hands that to [`serve`] before anything else. The child opens
//! nothing: it reads its standard input, then lowers its own resource limits (address space,
//! CPU time, no file writes, no new files), searches, and prints one JSON line.
//! The parent enforces the wall-clock limit and the size of the answer, and turns every way
//! the child can fail — a crash, an abort on memory, a kill on time — into [`Unreadable`].

use crate::{Found, Goal, Limits, Unreadable};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

mod confine;
pub use confine::confine;

/// The first argument that makes a program the child.
pub const ARG: &str = "__acquire";

/// Resource limits of the child process itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Contained {
    pub limits: Limits,
    pub address_space_bytes: u64,
    pub cpu_seconds: u64,
    pub wall: Duration,
}

impl Default for Contained {
    fn default() -> Self {
        Contained {
            limits: Limits::default(),
            address_space_bytes: 1 << 30,
            cpu_seconds: 10,
            wall: Duration::from_secs(15),
        }
    }
}

/// Largest answer read from the child: a handful of QR texts.
const MAX_ANSWER_BYTES: u64 = 1 << 20;
const POLL: Duration = Duration::from_millis(2);

#[derive(Serialize, Deserialize)]
enum Answer {
    Found(Vec<Found>),
    Unreadable(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Want {
    Credential,
    EveryText,
}

/// Reads `file` in a contained child of `program` (normally `std::env::current_exe()`). The
/// child reads it from where it stands, as its standard input: open it with a caller's care
/// (`certkiosk_open`), and it is never opened again by name, so it cannot be swapped.
pub fn read_file(
    program: &Path,
    file: std::fs::File,
    want: Want,
    contained: &Contained,
) -> Result<Vec<Found>, Unreadable> {
    let want_arg = serde_json::to_string(&want).map_err(|e| Unreadable::new(e.to_string()))?;
    let contained_arg = serde_json::to_string(contained).map_err(|e| Unreadable::new(e.to_string()))?;
    let mut child = Command::new(program)
        .arg(ARG)
        .arg(want_arg)
        .arg(contained_arg)
        .env_clear()
        .stdin(Stdio::from(file))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Unreadable::new(format!("cannot start the file reader: {e}")))?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut answer = Vec::new();
        if let Some(out) = stdout {
            let _ = out.take(MAX_ANSWER_BYTES).read_to_end(&mut answer);
        }
        answer
    });
    let deadline = Instant::now() + contained.wall;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                // The reader thread ends when the pipe closes; it is not waited for, in case
                // something the child started still holds the pipe open.
                drop(reader);
                return Err(Unreadable::new(format!(
                    "reading the file took longer than {} s",
                    contained.wall.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => return Err(Unreadable::new(format!("lost the file reader: {e}"))),
        }
    };
    let answer = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(Unreadable::new(died(status)));
    }
    match serde_json::from_slice::<Answer>(&answer) {
        Ok(Answer::Found(found)) => Ok(found),
        Ok(Answer::Unreadable(reason)) => Err(Unreadable(reason)),
        Err(_) => Err(Unreadable::new("the file reader gave no answer")),
    }
}

fn died(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        // SIGABRT: Rust aborts when an allocation fails under the address-space limit.
        Some(6) => "the file needs more memory than allowed".into(),
        Some(9) | Some(24) => "the file needs more processing time than allowed".into(),
        Some(sig) => format!("the file reader crashed (signal {sig})"),
        None => format!("the file reader failed (exit code {})", status.code().unwrap_or(-1)),
    }
}

/// In a program's `main`, first thing: when the program was started as the child, does the
/// child's work and exits; otherwise returns. `accept` tells a credential text.
pub fn serve(accept: fn(&str) -> bool) {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).and_then(|a| a.to_str()) != Some(ARG) {
        return;
    }
    let answer = match child(&args[2..], accept) {
        Ok(found) => Answer::Found(found),
        Err(e) => Answer::Unreadable(e.0),
    };
    let line = serde_json::to_string(&answer).unwrap_or_else(|_| "null".into());
    println!("{line}");
    std::process::exit(0);
}

fn child(args: &[std::ffi::OsString], accept: fn(&str) -> bool) -> Result<Vec<Found>, Unreadable> {
    let [want, contained] = args else {
        return Err(Unreadable::new("the file reader was started with wrong arguments"));
    };
    let bad = |_| Unreadable::new("the file reader was started with wrong arguments");
    let want: Want = serde_json::from_str(want.to_str().unwrap_or_default()).map_err(bad)?;
    let contained: Contained = serde_json::from_str(contained.to_str().unwrap_or_default()).map_err(bad)?;
    let limits = &contained.limits;

    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(limits.max_file_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Unreadable::new(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(Unreadable::new(format!(
            "file is larger than {} MiB",
            limits.max_file_bytes >> 20
        )));
    }
    contain(&contained)?;
    let goal = match want {
        Want::Credential => Goal::Credential(&accept),
        Want::EveryText => Goal::EveryText,
    };
    crate::search(&bytes, limits, &goal)
}

/// Lowers this process's limits; nothing it does afterwards can raise them again.
fn contain(c: &Contained) -> Result<(), Unreadable> {
    use rlimit::Resource;
    let set = |resource: Resource, value: u64| {
        rlimit::setrlimit(resource, value, value)
            .map_err(|e| Unreadable::new(format!("cannot limit the file reader: {e}")))
    };
    set(Resource::AS, c.address_space_bytes)?;
    set(Resource::CPU, c.cpu_seconds)?;
    set(Resource::FSIZE, 0)?;
    set(Resource::CORE, 0)?;
    set(Resource::NOFILE, 8)?;
    set(Resource::NPROC, 0).or(Ok(()))?;
    confine()
}
