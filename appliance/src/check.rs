//! One input → verdict → audit path, for `certd verify`, `certd lookup` and the kiosk alike.
//!
//! An input is a text file holding the credential (`.txt`), `-` for standard input, or an image
//! (PNG, JPEG) or PDF — told apart by content, not name. Images and PDFs are only ever parsed in
//! a contained child process (`acquire::child`). A file that cannot be opened is reported on one
//! line and the others still run (exit code 1 at the end); a file that opens but holds no
//! credential, or is hostile, gets the verdict `unreadable` with the reason.
//!
//! Whatever was read — a text and its [`Source`], or why there is none — and a manual lookup
//! are a [`Request`]; [`check`] decides it against the store, times it and records it in the
//! [`Audit`] log. Where a credential came from is [`Source`] (`acquire::Source`) from its reading
//! to the screen; it becomes a string only in the audit log and the JSON line.

use acquire::child::{Contained, Want};
use acquire::{Found, Kind};
use certkiosk_formats::escape::line;
use certkiosk_store::Reader;
use certkiosk_verify::i18n;
use certkiosk_verify::{Freshness, Lang, ManualQuery, Now, Policy, Verdict, VerdictCode, verify};
use serde_json::json;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// Read at most this much of a text input: far beyond any QR code's text, small enough to be safe.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;

pub use acquire::Source;

/// The child's test for "this is the credential": it parses as one (signature not yet checked).
pub fn is_credential(text: &str) -> bool {
    certkiosk_formats::credential::Envelope::parse(text).is_ok()
}

/// The text of one input, or why none could be had from it.
#[derive(Debug)]
pub enum Input {
    Text {
        text: String,
        source: Source,
    },
    /// Read, but no credential text in it (or too large, or hostile): verified as unreadable.
    /// `source`: where the text would have been, when that is known.
    NotText {
        reason: String,
        source: Option<Source>,
    },
}

/// Why an input could not be read at all (as opposed to read and found to hold no credential).
/// Names print quoted, their control characters escaped: they are whatever a person typed.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not opened: missing, not allowed, or not a regular file (a FIFO, a device, a directory).
    #[error("cannot read input {cause}")]
    Open { cause: certkiosk_open::OpenError },
    #[error("cannot read input {name:?}: {cause}")]
    Read { name: String, cause: std::io::Error },
    /// The program that reads images and PDFs (this one, run again) cannot be found.
    #[error("cannot read input {name:?}: cannot find the program to read it with: {cause}")]
    Program { name: String, cause: std::io::Error },
}

fn read_error(name: &str) -> impl FnOnce(std::io::Error) -> InputError {
    let name = name.to_owned();
    move |cause| InputError::Read { name, cause }
}

/// Bytes enough to tell an image or a PDF by its signature.
const SIGNATURE_BYTES: u64 = 8;

/// What an input turned out to be when opened.
enum Opened {
    /// Text (or not an image or PDF): read whole, up to one byte past the cap.
    Text(Vec<u8>),
    /// An image or a PDF, by its signature: the open file, at its start, for the child.
    Document(Kind, std::fs::File),
}

/// Opens `name` (or standard input) and tells what it holds.
fn open(name: &str) -> Result<Opened, InputError> {
    use std::io::{Seek, SeekFrom};
    let mut bytes = Vec::new();
    if name == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error(name))?;
        return Ok(Opened::Text(bytes));
    }
    // Never blocks (a FIFO or device is refused at once); the size is left to the reader of
    // each kind: a text is capped below, an image or PDF by the child.
    let mut file = certkiosk_open::open(Path::new(name), u64::MAX)
        .map_err(|cause| InputError::Open { cause })?
        .file;
    (&mut file)
        .take(SIGNATURE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(read_error(name))?;
    if let Some(kind) = acquire::sniff(&bytes) {
        file.seek(SeekFrom::Start(0)).map_err(read_error(name))?;
        return Ok(Opened::Document(kind, file));
    }
    file.take(MAX_INPUT_BYTES + 1 - bytes.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(read_error(name))?;
    Ok(Opened::Text(bytes))
}

/// The credential text of one input, searching images and PDFs in the child with `want`. The
/// child is this program itself, run again (its `main` serves [`acquire::child::ARG`]).
pub fn read_input(name: &str, want: Want) -> Result<(Input, Vec<Found>), InputError> {
    let program = std::env::current_exe().map_err(|cause| InputError::Program {
        name: name.to_owned(),
        cause,
    })?;
    read_input_with(&program, name, want)
}

/// [`read_input`] with the child run as `program`.
pub fn read_input_with(program: &Path, name: &str, want: Want) -> Result<(Input, Vec<Found>), InputError> {
    let (kind, file) = match open(name)? {
        Opened::Text(bytes) => return Ok((text_input(bytes), Vec::new())),
        Opened::Document(kind, file) => (kind, file),
    };
    let fallback = match kind {
        Kind::Image => Source::QrImage,
        Kind::Pdf => Source::PdfImage,
    };
    match acquire::child::read_file(program, file, want, &Contained::default()) {
        Ok(found) => {
            // The credential if there is one, else the first text (verified as unreadable).
            let chosen = found.iter().find(|f| is_credential(&f.text)).or(found.first());
            let input = match chosen {
                Some(f) => Input::Text {
                    text: f.text.clone(),
                    source: f.source,
                },
                None => Input::NotText {
                    reason: match kind {
                        Kind::Image => "no QR code found in the image".into(),
                        Kind::Pdf => "no QR code or attached credential found in the PDF".into(),
                    },
                    source: Some(fallback),
                },
            };
            Ok((input, found))
        }
        Err(unreadable) => Ok((
            Input::NotText {
                reason: unreadable.0,
                source: None,
            },
            Vec::new(),
        )),
    }
}

fn text_input(bytes: Vec<u8>) -> Input {
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Input::NotText {
            reason: format!("input is larger than {MAX_INPUT_BYTES} bytes"),
            source: None,
        };
    }
    match String::from_utf8(bytes) {
        Ok(text) => Input::Text {
            text,
            source: Source::Payload,
        },
        Err(_) => Input::NotText {
            reason: "input is not UTF-8 text, nor a PNG, JPEG or PDF file".into(),
            source: None,
        },
    }
}

/// What [`check`] decides: what was read of an input, or a manual lookup.
#[derive(Debug)]
pub enum Request {
    Input(Input),
    /// A management number and a holder name, typed: its source is [`Source::Manual`].
    Lookup(ManualQuery),
}

/// One verified input.
#[derive(Debug)]
pub struct Outcome {
    pub input: String,
    pub verdict: Verdict,
    pub source: Option<Source>,
    pub read_us: u64,
    pub verify_us: u64,
}

/// Decides `request` against `store` at `now`, records the verdict in `audit`, and returns it
/// as the outcome of the input `name` (`read_us` 0: reading is the caller's). `store` is the
/// reason there is none when it could not be opened: a credential text is then
/// `status_unavailable` (`without_store`), and so is a lookup. An input without text is
/// `unreadable`; it, and a verdict reached without a store, is stamped with `now` as given.
pub fn check(
    name: &str,
    request: Request,
    store: Result<&Reader<'_>, &str>,
    now: Now,
    policy: &Policy,
    audit: &mut Audit,
) -> Outcome {
    let at = match now {
        Now::System(t) | Now::Explicit(t) => t,
    };
    let t0 = Instant::now();
    let (verdict, source) = match request {
        Request::Input(Input::Text { text, source }) => {
            let verdict = match store {
                Ok(store) => verify(&text, store, now, policy),
                Err(reason) => certkiosk_verify::without_store(&text, reason, at),
            };
            (verdict, Some(source))
        }
        Request::Input(Input::NotText { reason, source }) => {
            let verdict = match store {
                Ok(store) => certkiosk_verify::unreadable_with_data(reason, store, at, policy),
                Err(_) => certkiosk_verify::unreadable(reason, at),
            };
            (verdict, source)
        }
        Request::Lookup(query) => {
            let verdict = match store {
                Ok(store) => certkiosk_verify::lookup(&query, store, now, policy),
                // No store to look in: the status cannot be decided, as for a scan.
                Err(reason) => Verdict {
                    verdict: VerdictCode::StatusUnavailable,
                    ..certkiosk_verify::unreadable(reason.to_owned(), at)
                },
            };
            (verdict, Some(Source::Manual))
        }
    };
    let outcome = Outcome {
        input: name.to_owned(),
        verdict,
        source,
        read_us: 0,
        verify_us: t0.elapsed().as_micros() as u64,
    };
    audit.record(&outcome);
    outcome
}

/// Records each verification in an audit log; when the log cannot be opened or written
/// (another user's state directory, a full disk) says so once, through the program's `warn`,
/// and goes on verifying — and trying to record.
pub struct Audit {
    log: Option<crate::audit::AuditLog>,
    /// What is recorded as the source of an input whose source is not known.
    unknown: &'static str,
    warn: fn(&str),
    warned: bool,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("log", &self.log)
            .field("unknown", &self.unknown)
            .field("warned", &self.warned)
            .finish_non_exhaustive()
    }
}

impl Audit {
    /// The log `settings` name (none: nothing is recorded). `unknown` is recorded as the source
    /// of an input whose source is not known (certd: `none`; the kiosk: `file`); `warn` is
    /// called once, with the problem, if verifications cannot be recorded.
    pub fn open(settings: Option<&crate::config::AuditSettings>, unknown: &'static str, warn: fn(&str)) -> Audit {
        let mut audit = Audit {
            log: None,
            unknown,
            warn,
            warned: false,
        };
        if let Some(s) = settings {
            match crate::audit::AuditLog::open(&s.dir, s.limits) {
                Ok(log) => audit.log = Some(log),
                Err(e) => audit.warn_once(&e.to_string()),
            }
        }
        audit
    }

    /// The source as recorded.
    pub fn source_name(&self, source: Option<Source>) -> &'static str {
        source.map_or(self.unknown, Source::as_str)
    }

    pub fn record(&mut self, outcome: &Outcome) {
        let Some(log) = &self.log else { return };
        let v = &outcome.verdict;
        let number = v.certificate.as_ref().map(|c| c.management_number.as_str());
        let source = self.source_name(outcome.source);
        if let Err(e) = log.record(v.checked_at, v.verdict.as_str(), source, number) {
            self.warn_once(&e.to_string());
        }
    }

    fn warn_once(&mut self, problem: &str) {
        if !self.warned {
            (self.warn)(problem);
            self.warned = true;
        }
    }
}

/// `certd verify`'s way for one input: read it ([`read_input`]), then [`check`] it.
pub fn verify_input(
    name: &str,
    store: &Reader<'_>,
    now: Now,
    policy: &Policy,
    audit: &mut Audit,
) -> Result<Outcome, InputError> {
    let t0 = Instant::now();
    let (input, _) = read_input(name, Want::Credential)?;
    let read_us = t0.elapsed().as_micros() as u64;
    let outcome = check(name, Request::Input(input), Ok(store), now, policy, audit);
    Ok(Outcome { read_us, ..outcome })
}

/// The JSON line of docs/design.md §5.
pub fn to_json(o: &Outcome, lang: Lang) -> serde_json::Value {
    let v = &o.verdict;
    json!({
        "input": o.input,
        "verdict": v.verdict,
        "title": i18n::headline(v, lang),
        "colour": v.colour(),
        "warnings": v.warnings,
        "explanation": explanation(o, lang),
        "what_to_do": i18n::what_to_do(v.verdict, lang),
        "warning_texts": v.warnings.iter().map(|w| i18n::warning_text(*w, v, lang)).collect::<Vec<_>>(),
        "reason": v.reason,
        "not_credential": v.not_credential,
        "not_credential_text": v.not_credential.map(|n| i18n::not_credential(n, lang)),
        "certificate": v.certificate,
        "annotation": v.annotation,
        "revocation": v.revocation,
        "scope": v.scope,
        "scope_texts": v.scope.iter().map(|s| i18n::scope_line(s, lang)).collect::<Vec<_>>(),
        "status_as_of": v.status_as_of,
        "status_time": v.status_time,
        "freshness": v.freshness,
        "checked_at": v.checked_at,
        "source": o.source,
        "timings_us": { "read": o.read_us, "verify": o.verify_us, "total": o.read_us + o.verify_us },
    })
}

fn explanation(o: &Outcome, lang: Lang) -> &'static str {
    if o.verdict.not_credential.is_some() {
        i18n::explanation_not_credential(lang)
    } else if o.source == Some(Source::Manual) {
        i18n::explanation_manual(o.verdict.verdict, lang)
    } else {
        i18n::explanation(o.verdict.verdict, lang)
    }
}

fn icon(v: &Verdict) -> &'static str {
    use certkiosk_verify::verdict::Colour;
    match v.colour() {
        Colour::Green => "✔",
        Colour::Amber => "⚠",
        Colour::Red => "✖",
        Colour::Grey => "?",
    }
}

/// A few lines for a person at a terminal. Every text from outside (the input's name, the
/// credential's and the status data's words, a reason) is escaped to stay on its line and show
/// any hidden character (`escape::line`).
pub fn to_text(o: &Outcome, lang: Lang) -> String {
    let v = &o.verdict;
    // The data's own words (names, scenarios, bodies) are in Simplified Chinese for both
    // Chinese scripts; the lines' own words follow the language (`i18n::words`).
    let zh = lang != Lang::En;
    let w = |zh: &'static str, en: &'static str| i18n::words(lang, zh, en);
    let mut out = format!(
        "{}: {} {} ({})\n",
        line(&o.input),
        icon(v),
        i18n::headline(v, lang),
        v.verdict
    );
    out += &format!("  {}\n", explanation(o, lang));
    if let Some(n) = v.not_credential {
        out += &format!("  {}{}\n", w("原因：", "Why: "), i18n::not_credential(n, lang));
    }
    out += &format!("  {}{}\n", w("处理：", "Do: "), i18n::what_to_do(v.verdict, lang));
    for w in &v.warnings {
        out += &format!("  ⚠ {}\n", i18n::warning_text(*w, v, lang));
    }
    if let Some(c) = &v.certificate {
        let qualification = if zh {
            c.qualification_zh.as_deref()
        } else {
            c.qualification_en.as_deref()
        };
        let level = if zh {
            i18n::in_script(lang, c.level_zh)
        } else {
            c.level_en.to_owned()
        };
        out += &format!(
            "  {} {}{} · {} {}{}\n",
            w("持证人", "Holder"),
            line(&c.holder_name),
            c.masked_id
                .as_deref()
                .map(|m| format!(" · {}", line(m)))
                .unwrap_or_default(),
            line(qualification.unwrap_or(&c.qualification_code)),
            level,
            c.specialty
                .as_deref()
                .map(|s| format!(" · {}", line(s)))
                .unwrap_or_default()
        );
        let body = if zh {
            c.issuing_body_zh.as_deref()
        } else {
            c.issuing_body_en.as_deref()
        };
        out += &format!(
            "  {} {} · {} · {} {}\n",
            w("管理号", "Management no."),
            line(&c.management_number),
            line(body.unwrap_or(&c.issuing_body_code)),
            w("发证日期", "issued"),
            c.ecert_issued_on
        );
    }
    if let Some(a) = &v.annotation {
        let scenario = if zh {
            i18n::in_script(lang, &a.scenario_zh)
        } else {
            a.scenario_en.clone()
        };
        let scenario = line(&scenario);
        out += &if zh {
            format!(
                "  {} {scenario}：{} {} {}（{} {} {}）\n",
                w("加注", "Annotation"),
                a.valid_from,
                w("至", "to"),
                a.valid_until,
                w("剩余", "left"),
                a.days_left,
                w("天", "days")
            )
        } else {
            format!(
                "  Annotation {scenario}: {} to {} ({} days left)\n",
                a.valid_from, a.valid_until, a.days_left
            )
        };
    }
    if let Some(r) = &v.revocation {
        let by = if zh {
            r.revoked_by_zh.as_deref()
        } else {
            r.revoked_by_en.as_deref()
        };
        let code_name = if zh {
            r.reason_code_zh.map(|z| i18n::in_script(lang, z))
        } else {
            r.reason_code_en.map(str::to_owned)
        };
        // The authority's own words, with the reason code's name where it adds something.
        let reason = match code_name {
            Some(name) if name != r.reason => format!("{name}（{}）", r.reason),
            _ => r.reason.clone(),
        };
        let when = r
            .revoked_at
            .to_zoned(certkiosk_formats::calendar::china().clone())
            .strftime("%Y-%m-%d %H:%M");
        let label = w("撤销于", "Revoked");
        out += &format!(
            "  {label} {when} · {} · {}\n",
            line(&reason),
            line(by.unwrap_or(&r.revoked_by_code))
        );
    }
    if !v.scope.is_empty() {
        let colon = w("：", ":");
        out += &format!("  {}{colon}\n", i18n::scope_heading(lang));
        for s in &v.scope {
            out += &format!("    {}\n", line(&i18n::scope_line(s, lang)));
        }
        out += &format!("  {}\n", i18n::scope_still_loading(lang));
    }
    if let Some(reason) = &v.reason {
        out += &format!("  {}{}\n", w("原因：", "Reason: "), line(reason));
    }
    if let Some(t) = v.status_as_of {
        let when = t
            .to_zoned(certkiosk_formats::calendar::china().clone())
            .strftime("%Y-%m-%d %H:%M");
        let label = w("状态数据截至", "Status data as of");
        out += &match v.freshness {
            Freshness::Missing => format!("  {label} {when}\n"),
            f => format!("  {label} {when} ({})\n", i18n::freshness(f, lang)),
        };
    }
    out
}

#[cfg(test)]
mod tests;
