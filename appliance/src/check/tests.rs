use super::*;
use crate::audit::{Limits, Record};
use crate::config::AuditSettings;
use certkiosk_verify::Warning;
use std::sync::atomic::{AtomicUsize, Ordering};

fn at() -> jiff::Timestamp {
    "2026-03-01T08:00:00Z".parse().expect("timestamp")
}

fn settings(dir: &Path) -> AuditSettings {
    AuditSettings {
        dir: dir.to_owned(),
        limits: Limits::default(),
    }
}

fn records(dir: &Path) -> Vec<Record> {
    std::fs::read_to_string(dir.join("00000001.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect()
}

fn quiet(_: &str) {}

#[test]
fn inputs_and_lookups_without_a_store_are_decided_stamped_and_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut audit = Audit::open(Some(&settings(dir.path())), "file", quiet);
    let policy = Policy::default();
    let now = Now::System(at());

    let unread = Request::Input(Input::NotText {
        reason: "no QR code found in the image".into(),
        source: None,
    });
    let o = check("a.png", unread, Err("no store"), now, &policy, &mut audit);
    assert_eq!(
        (o.verdict.verdict, o.source, o.verdict.checked_at),
        (VerdictCode::Unreadable, None, at())
    );
    assert_eq!(o.input, "a.png");

    let not_credential = Request::Input(Input::Text {
        text: "hello".into(),
        source: Source::Camera,
    });
    let o = check("camera", not_credential, Err("no store"), now, &policy, &mut audit);
    assert_eq!(
        (o.verdict.verdict, o.source),
        (VerdictCode::Unreadable, Some(Source::Camera))
    );

    let query = ManualQuery::new("2023030100000001", "王小明", "11010519491231002X").expect("query");
    let o = check(
        "lookup",
        Request::Lookup(query),
        Err("no store"),
        now,
        &policy,
        &mut audit,
    );
    assert_eq!(
        (o.verdict.verdict, o.source, o.verdict.reason.as_deref()),
        (VerdictCode::StatusUnavailable, Some(Source::Manual), Some("no store"))
    );
    assert_eq!(o.verdict.checked_at, at());

    let kept: Vec<_> = records(dir.path())
        .into_iter()
        .map(|r| (r.verdict, r.source, r.at))
        .collect();
    let expected = [
        ("unreadable", "file"),
        ("unreadable", "camera"),
        ("status_unavailable", "manual"),
    ];
    assert_eq!(
        kept,
        expected.map(|(v, s)| (v.to_owned(), s.to_owned(), at())),
        "an unknown source is recorded as the program says"
    );
    assert_eq!(audit.source_name(None), "file");
    assert_eq!(audit.source_name(Some(Source::PdfVector)), "pdf-vector");
}

static WARNED: AtomicUsize = AtomicUsize::new(0);

fn count(_: &str) {
    WARNED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_log_that_cannot_be_written_is_warned_of_once_and_tried_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("audit");
    let mut audit = Audit::open(Some(&settings(&log)), "none", count);
    let unread = || {
        Request::Input(Input::NotText {
            reason: "unreadable".into(),
            source: None,
        })
    };
    let policy = Policy::default();
    let verify_one = |audit: &mut Audit| check("-", unread(), Err("no store"), Now::Explicit(at()), &policy, audit);

    verify_one(&mut audit);
    std::fs::remove_dir_all(&log).expect("remove the log");
    verify_one(&mut audit);
    verify_one(&mut audit);
    assert_eq!(WARNED.load(Ordering::SeqCst), 1, "warned once");
    std::fs::create_dir(&log).expect("the log back");
    verify_one(&mut audit);
    let kept = records(&log);
    assert_eq!(kept.len(), 1, "recording resumes: {kept:?}");
    assert_eq!(kept[0].source, "none");
}

#[test]
fn valid_with_a_warning_is_never_plain_green_in_text_or_json() {
    let outcome = |warnings: Vec<Warning>| Outcome {
        input: "c.txt".into(),
        verdict: Verdict {
            verdict: VerdictCode::Valid,
            warnings,
            reason: None,
            ..certkiosk_verify::unreadable(String::new(), at())
        },
        source: Some(Source::Payload),
        read_us: 0,
        verify_us: 0,
    };
    let plain = outcome(Vec::new());
    assert_eq!(to_json(&plain, Lang::En)["colour"], "green");
    assert!(to_text(&plain, Lang::En).starts_with("c.txt: ✔ "));
    for warning in [
        Warning::StatusStale,
        Warning::ClockSuspect,
        Warning::AnnotationNotChecked,
    ] {
        let warned = outcome(vec![warning]);
        assert_eq!(to_json(&warned, Lang::En)["colour"], "amber", "{warning:?}");
        let text = to_text(&warned, Lang::Zh);
        assert!(
            text.starts_with("c.txt: ⚠ ") && !text.contains('✔'),
            "{warning:?}: {text}"
        );
    }
}

/// The stale-data warning gives the data's own age (issue 21: at 40 days it said "more than 48
/// hours", whatever `fresh_hours` was set to), in text and JSON.
#[test]
fn the_stale_data_warning_says_how_old_the_data_is() {
    let outcome = |age_hours: Option<i64>| Outcome {
        input: "c.txt".into(),
        verdict: Verdict {
            verdict: VerdictCode::Valid,
            warnings: vec![Warning::StatusStale],
            reason: None,
            status_as_of: age_hours.map(|h| at() - jiff::SignedDuration::from_hours(h)),
            checked_at: at(),
            ..certkiosk_verify::unreadable(String::new(), at())
        },
        source: Some(Source::Payload),
        read_us: 0,
        verify_us: 0,
    };
    let forty_days = outcome(Some(40 * 24 + 5));
    assert!(
        to_text(&forty_days, Lang::Zh).contains("状态数据已 40 天未更新"),
        "{}",
        to_text(&forty_days, Lang::Zh)
    );
    assert_eq!(
        to_json(&forty_days, Lang::En)["warning_texts"][0],
        "The status data is 40 days old; treat the result with care."
    );
    assert!(to_text(&outcome(Some(30)), Lang::Zh).contains("状态数据已 30 小时未更新"));
    assert!(to_text(&outcome(None), Lang::En).contains("There is no status data here"));
    // 繁體中文: the same lines in Traditional characters.
    let hant = to_text(&forty_days, Lang::ZhHant);
    assert!(
        hant.contains("有效，但請注意") && hant.contains("狀態數據已 40 天未更新"),
        "{hant}"
    );
    assert!(hant.contains("處理：核對持證人身份後即可受理。"), "{hant}");
    assert_eq!(to_json(&forty_days, Lang::ZhHant)["title"], "有效，但請注意");
}
