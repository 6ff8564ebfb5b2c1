//! `certd`: flags, tracing, validated config, then the command. Errors are one line.

use certd::exit;
use certd::{service, sync};
use certkiosk_appliance::config::Config;
use certkiosk_appliance::{check, status};
use certkiosk_formats::escape::{self, line};
use certkiosk_formats::repository::Source;
use certkiosk_store::Store;
use certkiosk_sync::clock::Clock;
use certkiosk_verify::{Lang, Now};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "certd",
    version,
    about = "certkiosk appliance daemon: sync status data, verify certificates"
)]
struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch the repository and apply new status data to the store.
    Sync {
        /// Sync once and exit.
        #[arg(long)]
        once: bool,
        /// A repository (directory or http(s) URL) to sync from instead of the configured mirrors.
        #[arg(long, value_name = "URL_OR_PATH", value_parser = certkiosk_appliance::config::parse_source)]
        from: Option<Source>,
    },
    /// Apply a repository copy from removable media, with the same checks as a sync.
    Import {
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Verify credentials: each INPUT is an image (PNG, JPEG), a PDF, a .txt file holding the
    /// QR text, or - for stdin.
    Verify {
        #[command(flatten)]
        answer: Answer,
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<String>,
    },
    /// Manual lookup in the lookup index, when no QR code can be read: the same verdicts as
    /// `verify`. Names compare by code point; only middle-dot look-alikes count as "·".
    Lookup {
        /// The certificate's management number (管理号).
        #[arg(long, value_name = "N")]
        number: String,
        /// The holder's name, exactly as on the certificate.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// The holder's 18-character ID number, from the ID card (its check digit is verified;
        /// only its masked form is compared, and nothing of it is recorded). `-` reads it from
        /// standard input, so that it stays out of the process list and the shell's history.
        #[arg(long = "id", value_name = "ID")]
        id_number: String,
        #[command(flatten)]
        answer: Answer,
    },
    /// Print every QR text found in images and PDFs, one per line (exit 1: none found).
    /// Needs no configuration.
    Decode {
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<String>,
    },
    /// Show what the store holds and how fresh it is.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Validate the configuration and exit.
    CheckConfig,
    /// Set the kiosk's admin PIN (4 to 12 digits, read from standard input; asked twice, not
    /// echoed, on a terminal): its Argon2id hash is written into the configuration file as
    /// `[kiosk] admin_pin_hash`, replacing a plain `admin_pin`. Restart certkiosk to use it.
    SetPin,
    /// Print this appliance's fleet key (its public half, which the authority enrolls so that
    /// the appliance can open the sealed lookup index, revocations and cancellations).
    FleetKey {
        /// Make the key first if there is none (an existing key is never replaced).
        #[arg(long)]
        init: bool,
    },
    /// The audit log of verifications.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run as the appliance service: scheduled syncs, removable-media imports, optional
    /// metrics; systemd readiness and watchdog; stops gracefully on SIGTERM or SIGINT.
    Run,
}

/// How `verify` and `lookup` answer.
#[derive(Debug, clap::Args)]
struct Answer {
    /// One JSON object per answer, one per line (`lookup`: source "manual").
    #[arg(long)]
    json: bool,
    /// Decide as if now were this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    at: Option<jiff::Timestamp>,
    /// Language of the explanations: zh (default), zh-Hant (繁體) or en.
    #[arg(long, value_parser = parse_lang)]
    lang: Option<Lang>,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every record and the chain: exit 0 when intact, 1 (with the first problem) if a
    /// record was edited, inserted or deleted.
    Verify,
}

/// The single-threaded tokio runtime of `sync`, `import` and `run`; says why when it cannot start.
fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| eprintln!("certd: cannot start the async runtime: {e}"))
        .ok()
}

fn run_sync(config: &Config, sources: Option<Vec<Source>>, what: &str) -> u8 {
    let Some(runtime) = runtime() else {
        return exit::INPUT;
    };
    match runtime.block_on(sync::sync_once(config, sources, Clock::System)) {
        Ok(outcome) => {
            println!("{}", line(&outcome.to_string()));
            exit::OK
        }
        Err(e) => {
            eprintln!("certd: {what} failed: {}", line(&e.to_string()));
            exit::INPUT
        }
    }
}

/// `certd run` on a tokio runtime: the real transport, clock and notifier.
fn serve(config: &Config) -> u8 {
    let Some(runtime) = runtime() else {
        return exit::INPUT;
    };
    let config = std::sync::Arc::new(config.clone());
    let code = runtime.block_on(async {
        let metrics = match config.run.metrics {
            None => None,
            Some(addr) => match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => Some(l),
                Err(e) => {
                    eprintln!(
                        "certd: config {}: run.metrics: cannot listen on {addr}: {e}",
                        config.file.display()
                    );
                    return exit::USAGE;
                }
            },
        };
        let world = service::World {
            config: std::sync::Arc::clone(&config),
            syncer: service::Mirrors(std::sync::Arc::clone(&config)),
            clock: Clock::System,
            notifier: Box::new(service::Systemd),
            metrics,
            watchdog: sd_notify::watchdog_enabled().map(|d| d / 2),
        };
        service::run(world, shutdown_signal()).await;
        exit::OK
    });
    // The service has given a job in flight its grace period; a blocking task still running
    // (a stalled read) must not keep the process alive past it: it is left, not waited for.
    runtime.shutdown_background();
    code
}

/// SIGTERM (systemd stopping the unit) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: stopping"),
                _ = int.recv() => tracing::info!("SIGINT: stopping"),
            }
        }
        _ => {
            tracing::warn!("cannot listen for signals; stopping only when killed");
            std::future::pending::<()>().await;
        }
    }
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("{s:?} is not zh, zh-Hant or en"))
}

/// A reader that stops early (`certd verify … | head`) closes the pipe: end quietly with the
/// status a shell gives a process SIGPIPE ended (128 + 13), as other command-line tools do,
/// instead of panicking in `println!`.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    // When started as the contained file reader, that is all this process does.
    acquire::child::serve(check::is_credential);
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Command::Decode { inputs } = &cli.command {
        return ExitCode::from(decode(inputs));
    }
    let Some(config_path) = cli.config.as_deref() else {
        eprintln!("certd: --config FILE is required");
        return ExitCode::from(exit::USAGE);
    };
    // Before the file is loaded: it is how a file holding a plain PIN, which does not load,
    // is put right.
    if let Command::SetPin = &cli.command {
        return ExitCode::from(set_pin(config_path));
    }
    // Also before: it runs at install, before the authority's root is in place.
    if let Command::FleetKey { init } = cli.command {
        return ExitCode::from(match Config::fleet_key_path(config_path) {
            Ok(path) => certd::fleet_key::fleet_key(&path, init),
            Err(e) => {
                eprintln!("certd: {}", line(&e.to_string()));
                exit::USAGE
            }
        });
    }
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("certd: {}", line(&e.to_string()));
            return ExitCode::from(exit::USAGE);
        }
    };
    ExitCode::from(run(cli.command, &config))
}

/// `certd set-pin`: the new PIN from standard input, its hash into the file. The PIN is never
/// printed, not even in an error.
fn set_pin(file: &std::path::Path) -> u8 {
    let pin = match read_new_pin() {
        Ok(pin) => pin,
        Err(problem) => {
            eprintln!("certd: set-pin: {problem}; nothing was changed");
            return exit::USAGE;
        }
    };
    if let Err(e) = certd::set_pin::set_pin(file, &pin) {
        eprintln!("certd: set-pin: {}; nothing was changed", line(&e.to_string()));
        return exit::USAGE;
    }
    println!(
        "admin PIN set: its hash is kiosk.admin_pin_hash in {}; restart certkiosk to use it",
        line(&file.display().to_string())
    );
    if let Err(e) = Config::load(file) {
        eprintln!("certd: warning: {}", line(&e.to_string()));
    }
    exit::OK
}

/// The new PIN: on a terminal asked twice without echo, else the first line of standard input.
fn read_new_pin() -> Result<String, String> {
    use std::io::{BufRead, IsTerminal, Read};
    if std::io::stdin().is_terminal() {
        let ask = |prompt: &str| rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the PIN: {e}"));
        let pin = ask("New admin PIN (4 to 12 digits): ")?;
        if ask("The same PIN again: ")? != pin {
            return Err("the two PINs differ".to_owned());
        }
        return Ok(pin);
    }
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .take(64)
        .read_line(&mut text)
        .map_err(|e| format!("cannot read the PIN from standard input: {e}"))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// `certd decode`: texts on stdout, one per line and nothing else, each escaped as
/// `escape::line` does (docs/design.md §5); problems on stderr.
fn decode(inputs: &[String]) -> u8 {
    let mut any = false;
    for input in inputs {
        match check::read_input(input, acquire::child::Want::EveryText) {
            Ok((check::Input::NotText { reason, .. }, _)) => {
                eprintln!("certd: decode: {}: {}", line(input), line(&reason));
            }
            Ok((check::Input::Text { source, .. }, found)) => {
                if source == check::Source::Payload {
                    eprintln!("certd: decode: {}: not an image or PDF", line(input));
                }
                for f in found {
                    any = true;
                    println!("{}", line(&f.text));
                }
            }
            Err(e) => eprintln!("certd: {}", line(&e.to_string())),
        }
    }
    if any { exit::OK } else { exit::INPUT }
}

/// The store, read-only; or, having said why on stderr, the exit code.
fn open_store(config: &Config) -> Result<Store, u8> {
    Store::open(&config.store_path()).map_err(|e| {
        eprintln!("certd: {}", line(&e.to_string()));
        exit::USAGE
    })
}

/// certd's audit log (`[audit]`): an input whose source is not known is recorded as `none`.
fn audit(config: &Config) -> check::Audit {
    check::Audit::open(config.audit.as_ref(), "none", |problem| {
        eprintln!("certd: warning: verifications are not being recorded: {problem}");
    })
}

/// `--at` as given, else the system clock (checked against the clock floor).
fn now_of(at: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Now {
    match at {
        Some(t) => Now::Explicit(t),
        None => Now::System(now),
    }
}

fn run(command: Command, config: &Config) -> u8 {
    let now = jiff::Timestamp::now();
    match command {
        Command::CheckConfig => {
            println!("config {} is valid", config.file.display());
            exit::OK
        }
        Command::SetPin => set_pin(&config.file),
        Command::FleetKey { init } => certd::fleet_key::fleet_key(&config.fleet_key, init),
        Command::Sync { once, from } => {
            if !once {
                eprintln!("certd: sync needs --once (the continuous service is `certd run`)");
                return exit::USAGE;
            }
            run_sync(config, from.map(|s| vec![s]), "sync")
        }
        Command::Import { path } => {
            if !path.is_dir() {
                eprintln!(
                    "certd: import: {} is not a directory holding a repository copy",
                    line(&path.display().to_string())
                );
                return exit::INPUT;
            }
            run_sync(config, Some(vec![Source::Dir(path)]), "import")
        }
        Command::Status { json } => match status::status(config, now) {
            Ok(mut s) => {
                s.clock_sync = Some(status::ClockSync::query());
                if json {
                    println!("{}", escape::json(&s));
                } else {
                    print!("{}", status::to_text(&s));
                }
                exit::OK
            }
            Err(e) => {
                eprintln!("certd: {}", line(&e.to_string()));
                exit::USAGE
            }
        },
        Command::Decode { inputs } => decode(&inputs),
        Command::Run => serve(config),
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let Some(audit) = &config.audit else {
                eprintln!("certd: audit: the audit log is off in {}", config.file.display());
                return exit::USAGE;
            };
            match certkiosk_appliance::audit::verify_log(&audit.dir) {
                Ok(c) if c.records == 0 => {
                    // A log deleted with its key looks the same as a new one: say so.
                    println!(
                        "audit log {}: empty, no records (a new log, or one removed with its key: \
                         the two cannot be told apart here)",
                        audit.dir.display()
                    );
                    exit::OK
                }
                Ok(c) => {
                    let range = c
                        .first_seq
                        .map_or(String::new(), |f| format!(", records {f}–{}", c.last_seq));
                    println!(
                        "audit log {}: {} records in {} files{range}; chain intact",
                        audit.dir.display(),
                        c.records,
                        c.files
                    );
                    exit::OK
                }
                Err(e) => {
                    eprintln!("certd: {}", line(&e.to_string()));
                    exit::INPUT
                }
            }
        }
        Command::Lookup {
            number,
            name,
            id_number,
            answer: Answer { json, at, lang },
        } => {
            let lang = lang.unwrap_or(config.lang);
            let id_number = if id_number == "-" {
                // One line, at most a few dozen bytes: an ID number, not a file.
                let mut line = String::new();
                let _ = std::io::Read::read_to_string(&mut std::io::Read::take(std::io::stdin(), 64), &mut line);
                line
            } else {
                id_number
            };
            let query = match certkiosk_verify::ManualQuery::new(&number, &name, &id_number) {
                Ok(q) => q,
                Err(e) => {
                    eprintln!("certd: lookup: {}", line(&e.to_string()));
                    return exit::USAGE;
                }
            };
            let store = match open_store(config) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let reader = match store.reader() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("certd: {}", line(&e.to_string()));
                    return exit::USAGE;
                }
            };
            let number = query.management_number.clone();
            let mut audit = audit(config);
            let outcome = check::check(
                &number,
                check::Request::Lookup(query),
                Ok(&reader),
                now_of(at, now),
                &config.policy,
                &mut audit,
            );
            if json {
                println!("{}", escape::json(&check::to_json(&outcome, lang)));
            } else {
                println!("{}", check::to_text(&outcome, lang));
            }
            exit::OK
        }
        Command::Verify {
            answer: Answer { json, at, lang },
            inputs,
        } => {
            let lang = lang.unwrap_or(config.lang);
            let store = match open_store(config) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let reader = match store.reader() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("certd: {}", line(&e.to_string()));
                    return exit::USAGE;
                }
            };
            let now = now_of(at, now);
            let mut code = exit::OK;
            let mut audit = audit(config);
            for input in &inputs {
                match check::verify_input(input, &reader, now, &config.policy, &mut audit) {
                    Ok(outcome) => {
                        if json {
                            println!("{}", escape::json(&check::to_json(&outcome, lang)));
                        } else {
                            println!("{}", check::to_text(&outcome, lang));
                        }
                    }
                    Err(e) => {
                        eprintln!("certd: {}", line(&e.to_string()));
                        code = exit::INPUT;
                    }
                }
            }
            code
        }
    }
}
