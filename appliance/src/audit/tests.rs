use super::*;

fn at(i: i64) -> Timestamp {
    Timestamp::from_second(1_760_000_000 + i).expect("time")
}

fn fill(log: &AuditLog, n: u64) {
    for i in 0..n {
        let verdict = if i % 3 == 0 { "revoked" } else { "valid" };
        log.record(at(i as i64), verdict, "qr-image", Some(&format!("20230301{i:08}")))
            .expect("record");
    }
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).expect("write");
}

#[test]
fn records_hold_no_names_or_numbers_and_the_chain_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = AuditLog::open(dir.path(), Limits::default()).expect("open");
    let r = log
        .record(at(0), "valid", "pdf-embedded", Some("2023030100000001"))
        .expect("record");
    assert_eq!(r.seq, 1);
    fill(&log, 9);
    let text = fs::read_to_string(dir.path().join("00000001.jsonl")).expect("log");
    assert!(
        !text.contains("2023030100000001") && !text.contains("20230301"),
        "{text}"
    );
    assert_eq!(r.number.as_deref().map(str::len), Some(32));
    assert_eq!(
        r.number,
        Some(log.number_hash("2023030100000001")),
        "same number, same hash"
    );
    let checked = verify_log(dir.path()).expect("sound");
    assert_eq!(
        (checked.records, checked.first_seq, checked.last_seq),
        (10, Some(1), 10)
    );
    assert_eq!(count_verdicts(dir.path()).get("revoked"), Some(&3));
    // The key is private to the writer.
    let mode = fs::metadata(dir.path().join("audit.key")).expect("key").permissions();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);
    // Another log has another key: hashes cannot be matched across appliances.
    let other = tempfile::tempdir().expect("tempdir");
    let other = AuditLog::open(other.path(), Limits::default()).expect("open");
    assert_ne!(
        other.number_hash("2023030100000001"),
        log.number_hash("2023030100000001")
    );
}

#[test]
fn an_edit_a_deletion_an_insertion_or_a_cut_end_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = AuditLog::open(dir.path(), Limits::default()).expect("open");
    fill(&log, 6);
    let path = dir.path().join("00000001.jsonl");
    let original = lines(&path);

    // Record 3 was "valid"; someone makes it "revoked".
    let mut edited = original.clone();
    edited[2] = edited[2].replace("\"valid\"", "\"revoked\"");
    assert_ne!(edited[2], original[2]);
    write_lines(&path, &edited);
    let e = verify_log(dir.path()).expect_err("edit").to_string();
    assert!(e.contains("line 3") && e.contains("altered"), "{e}");

    let mut deleted = original.clone();
    deleted.remove(3);
    write_lines(&path, &deleted);
    let e = verify_log(dir.path()).expect_err("deletion").to_string();
    assert!(e.contains("line 4") && e.contains("does not follow"), "{e}");

    let mut swapped = original.clone();
    swapped.swap(1, 2);
    write_lines(&path, &swapped);
    assert!(verify_log(dir.path()).is_err(), "reordered");

    write_lines(&path, &original[..5]);
    let e = verify_log(dir.path()).expect_err("cut").to_string();
    assert!(e.contains("head.json") && e.contains("deleted at the end"), "{e}");

    write_lines(&path, &original);
    assert_eq!(verify_log(dir.path()).expect("restored").records, 6);
    // One line, always.
    assert!(!e.contains('\n'));
}

#[test]
fn rotation_bounds_the_size_and_keeps_the_chain_checkable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        max_file_bytes: 2000,
        keep_files: 3,
    };
    let log = AuditLog::open(dir.path(), limits).expect("open");
    fill(&log, 200);
    let files: Vec<PathBuf> = fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    let total: u64 = files.iter().map(|f| fs::metadata(f).expect("size").len()).sum();
    assert!(total <= 3 * (2000 + 400), "{total}");
    let checked = verify_log(dir.path()).expect("sound after rotation");
    assert_eq!(checked.last_seq, 200);
    assert!(checked.first_seq.expect("first") > 1, "old records rotated away");
    assert_eq!(checked.records, 200 - checked.first_seq.expect("first") + 1);

    // A kept file deleted by hand is not mistaken for rotation.
    let head: Head = serde_json::from_slice(&fs::read(dir.path().join("head.json")).expect("head")).expect("json");
    let middle = file_path(dir.path(), head.oldest_file + 1);
    fs::remove_file(&middle).expect("delete");
    let e = verify_log(dir.path()).expect_err("missing file").to_string();
    assert!(e.contains(&format!("{:08}.jsonl", head.oldest_file + 1)), "{e}");
}

fn small() -> Limits {
    Limits {
        max_file_bytes: 2000,
        keep_files: 3,
    }
}

fn head_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("head.json")).expect("head")).expect("json")
}

fn write_head_json(dir: &Path, head: &serde_json::Value) {
    fs::write(dir.join("head.json"), serde_json::to_vec_pretty(head).expect("json")).expect("write head");
}

fn parse(line: &str) -> Record {
    serde_json::from_str(line).expect("record")
}

/// The log files in `dir`, by number.
fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

fn err(dir: &Path, what: &str) -> String {
    let e = verify_log(dir).expect_err(what).to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

#[test]
fn records_cut_at_the_end_with_head_json_rewritten_without_the_key_are_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = AuditLog::open(dir.path(), Limits::default()).expect("open");
    fill(&log, 10);
    let path = dir.path().join("00000001.jsonl");
    let original = lines(&path);

    // The last three records deleted, and head.json made to end where the file now ends.
    write_lines(&path, &original[..7]);
    let seventh = parse(&original[6]);
    let mut head = head_json(dir.path());
    head["last_seq"] = 7.into();
    head["last_mac"] = seventh.mac.clone().into();
    write_head_json(dir.path(), &head);
    let e = err(dir.path(), "cut at the end, head rewritten");
    assert!(e.contains("head.json") && e.contains("without the key"), "{e}");

    // Its MAC taken away as well.
    head.as_object_mut().expect("object").remove("mac");
    write_head_json(dir.path(), &head);
    let e = err(dir.path(), "cut at the end, head without a MAC");
    assert!(e.contains("head.json") && e.contains("without the key"), "{e}");

    // A writer started afresh (remembering nothing) numbers its record above every one
    // written, and the log keeps saying what it found.
    let again = AuditLog::open(dir.path(), Limits::default()).expect("open again");
    let next = again.record(at(20), "valid", "camera", None).expect("record");
    assert_eq!(next.seq, 11, "records 8–10 were written once");
    let e = err(dir.path(), "tampering found by the writer");
    assert!(e.contains("record 11") && e.contains("without the key"), "{e}");
}

#[test]
fn records_cut_at_the_start_beyond_what_rotation_dropped_are_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = AuditLog::open(dir.path(), small()).expect("open");
    fill(&log, 60);
    let original_head = head_json(dir.path());
    let oldest = original_head["oldest_file"].as_u64().expect("oldest");
    let oldest_path = file_path(dir.path(), oldest);
    let name = format!("{oldest:08}.jsonl");
    let oldest_lines = lines(&oldest_path);
    let checked = verify_log(dir.path()).expect("sound");
    assert!(checked.first_seq.expect("first") > 1, "rotation dropped records");

    // Leading records of the oldest file deleted: found, named as such.
    write_lines(&oldest_path, &oldest_lines[2..]);
    let e = err(dir.path(), "leading records deleted");
    assert!(
        e.contains(&name) && e.contains("line 1") && e.contains("deleted at the start"),
        "{e}"
    );

    // ... and head.json moved to start where the file now starts, without the key.
    let second = parse(&oldest_lines[1]);
    let mut head = original_head.clone();
    head["oldest_prev"] = second.mac.into();
    head["first_seq"] = (second.seq + 1).into();
    write_head_json(dir.path(), &head);
    let e = err(dir.path(), "leading records deleted, head moved");
    assert!(e.contains("head.json") && e.contains("without the key"), "{e}");

    // The whole oldest file deleted, head.json moved past it as rotation would have.
    write_lines(&oldest_path, &oldest_lines);
    fs::remove_file(&oldest_path).expect("delete the oldest file");
    let last = parse(oldest_lines.last().expect("a record"));
    let mut head = original_head.clone();
    head["oldest_file"] = (oldest + 1).into();
    head["oldest_prev"] = last.mac.into();
    head["first_seq"] = (last.seq + 1).into();
    write_head_json(dir.path(), &head);
    let e = err(dir.path(), "oldest file deleted, head moved");
    assert!(e.contains("head.json") && e.contains("without the key"), "{e}");

    // The oldest file deleted, head.json left alone.
    write_head_json(dir.path(), &original_head);
    let e = err(dir.path(), "oldest file deleted");
    assert!(e.contains(&name) && e.contains("missing"), "{e}");

    write_lines(&oldest_path, &oldest_lines);
    assert_eq!(verify_log(dir.path()).expect("restored"), checked);
}

#[test]
fn a_lost_or_older_head_never_makes_a_sequence_number_repeat() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = AuditLog::open(dir.path(), small()).expect("open");
    fill(&log, 10);
    let older = fs::read(dir.path().join("head.json")).expect("head");
    fill(&log, 30);

    // head.json replaced by a copy from before the last 30 records (and two rotations).
    fs::write(dir.path().join("head.json"), &older).expect("older head");
    let e = err(dir.path(), "older head");
    assert!(e.contains("older copy"), "{e}");
    let fresh = AuditLog::open(dir.path(), small()).expect("open afresh");
    assert_eq!(fresh.record(at(50), "valid", "camera", None).expect("record").seq, 41);
    let e = err(dir.path(), "tampering found by the writer");
    assert!(e.contains("record 41") && e.contains("older copy"), "{e}");

    // head.json deleted.
    fs::remove_file(dir.path().join("head.json")).expect("delete the head");
    let e = err(dir.path(), "no head");
    assert!(e.contains("head.json") && e.contains("deleted"), "{e}");
    let fresh = AuditLog::open(dir.path(), small()).expect("open afresh");
    assert_eq!(fresh.record(at(51), "valid", "camera", None).expect("record").seq, 42);
    let e = err(dir.path(), "tampering found by the writer");
    assert!(e.contains("record 42") && e.contains("head.json was deleted"), "{e}");

    // Both the records and head.json put back as they were five records earlier: the key
    // file, which nobody without the key can copy, still counts what was written.
    let other = tempfile::tempdir().expect("tempdir");
    let log = AuditLog::open(other.path(), Limits::default()).expect("open");
    fill(&log, 5);
    let older = fs::read(other.path().join("head.json")).expect("head");
    let path = other.path().join("00000001.jsonl");
    let five = lines(&path);
    fill(&log, 5);
    fs::write(other.path().join("head.json"), &older).expect("older head");
    write_lines(&path, &five);
    let e = err(other.path(), "log and head put back");
    assert!(e.contains("record 10 was written"), "{e}");
    let fresh = AuditLog::open(other.path(), Limits::default()).expect("open afresh");
    assert_eq!(fresh.record(at(52), "valid", "camera", None).expect("record").seq, 11);
    // The writer that is still running remembers too.
    assert_eq!(log.record(at(53), "valid", "camera", None).expect("record").seq, 12);
}

#[test]
fn honest_rotation_and_a_crash_before_the_head_is_written_verify_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(&AuditLog::open(dir.path(), small()).expect("open"), 100);
    let checked = verify_log(dir.path()).expect("sound after rotation");
    let first = checked.first_seq.expect("first");
    assert!(first > 1 && checked.last_seq == 100 && checked.records == 101 - first);
    let head = head_json(dir.path());
    assert_eq!(
        head["first_seq"].as_u64(),
        Some(first),
        "the head says what rotation dropped"
    );
    assert!(head["mac"].is_string(), "{head}");

    // Power lost after a record reached the disk but before its head (and the key file's
    // count) did — over rotations too, when the files rotation drops are not yet deleted: the
    // log still verifies, and the next writer follows that record.
    let mut seq = 100;
    let mut across_a_rotation = false;
    for i in 0..15 {
        let key = fs::read(dir.path().join("audit.key")).expect("key");
        let head = fs::read(dir.path().join("head.json")).expect("head");
        let files: Vec<(PathBuf, Vec<u8>)> = jsonl_files(dir.path())
            .into_iter()
            .map(|p| (p.clone(), fs::read(&p).expect("file")))
            .collect();
        let log = AuditLog::open(dir.path(), small()).expect("open");
        let r = log.record(at(200 + i), "valid", "camera", None).expect("record");
        seq += 1;
        assert_eq!(r.seq, seq, "never repeated, never skipped");
        fs::write(dir.path().join("audit.key"), key).expect("key back");
        fs::write(dir.path().join("head.json"), head).expect("head back");
        for (path, bytes) in files.iter().filter(|(p, _)| !p.exists()) {
            fs::write(path, bytes).expect("file back");
            across_a_rotation = true;
        }
        let checked = verify_log(dir.path()).expect("sound after a crash");
        assert_eq!(checked.last_seq, seq);

        let log = AuditLog::open(dir.path(), small()).expect("open after the crash");
        seq += 1;
        assert_eq!(
            log.record(at(300 + i), "valid", "camera", None).expect("record").seq,
            seq
        );
        assert_eq!(verify_log(dir.path()).expect("sound").last_seq, seq);
    }
    assert!(across_a_rotation);
    assert_eq!(jsonl_files(dir.path()).len(), 3, "rotation bounds the files");
}

#[test]
fn a_log_from_before_heads_were_authenticated_is_upgraded_by_its_next_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = AuditLog::open(dir.path(), Limits::default()).expect("open");
    fill(&log, 5);
    // As the previous version left it: a key of 32 bytes, a head without a MAC.
    let key = fs::read(dir.path().join("audit.key")).expect("key");
    fs::write(dir.path().join("audit.key"), &key[..32]).expect("old key");
    let mut head = head_json(dir.path());
    let object = head.as_object_mut().expect("object");
    object.remove("mac");
    object.remove("first_seq");
    write_head_json(dir.path(), &head);
    let e = err(dir.path(), "a head without a MAC cannot be vouched for");
    assert!(
        e.contains("no MAC") && e.contains("before heads were authenticated"),
        "{e}"
    );

    let log = AuditLog::open(dir.path(), Limits::default()).expect("open");
    assert_eq!(log.record(at(9), "valid", "camera", None).expect("record").seq, 6);
    assert_eq!(verify_log(dir.path()).expect("upgraded").records, 6);
    // Taking the MAC away now is no way back.
    let mut head = head_json(dir.path());
    head.as_object_mut().expect("object").remove("mac");
    write_head_json(dir.path(), &head);
    let e = err(dir.path(), "MAC removed after the upgrade");
    assert!(e.contains("without the key"), "{e}");
}

#[test]
fn the_key_is_never_printed_nor_written_into_a_file_left_for_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let mode = |name: &str| fs::metadata(dir.path().join(name)).expect("file").permissions().mode() & 0o777;
    // Someone with write access to the directory leaves readable files where the key is
    // written before it is renamed into place.
    for name in ["audit.key.tmp", "audit.key.new"] {
        fs::write(dir.path().join(name), b"").expect("left file");
        fs::set_permissions(dir.path().join(name), fs::Permissions::from_mode(0o644)).expect("mode");
    }
    let log = AuditLog::open(dir.path(), Limits::default()).expect("open");
    assert_eq!(mode("audit.key"), 0o600);
    log.record(at(0), "valid", "camera", None).expect("record");
    assert_eq!(mode("audit.key"), 0o600);

    let key = fs::read(dir.path().join("audit.key")).expect("key");
    let printed = format!("{log:?} {log:#?}");
    assert!(
        !printed.contains(&format!("{:?}", &key[..32])) && !printed.contains(&hex(&key[..32])),
        "{printed}"
    );
}

/// `what` finishes within a few seconds (a FIFO used to block it for good).
fn within_seconds<T: Send + 'static>(what: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(what());
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("finished, not blocked")
}

#[test]
fn a_fifo_in_place_of_a_file_of_the_log_is_an_error_not_a_hang() {
    for name in ["head.json", "audit.key", "lock", "00000001.jsonl"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::open(dir.path(), Limits::default()).expect("open");
        fill(&log, 2);
        let path = dir.path().join(name);
        let _ = fs::remove_file(&path);
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let d = dir.path().to_owned();
        let checked = within_seconds(move || verify_log(&d).map(|c| c.records));
        assert!(checked.is_err() || name == "lock", "{name}: {checked:?}");
        let recorded = within_seconds(move || log.record(at(9), "valid", "camera", Some("x")).map(|r| r.seq));
        if name != "00000001.jsonl" {
            assert!(recorded.is_err(), "{name}: {recorded:?}");
        }
    }
}
