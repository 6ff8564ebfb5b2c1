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
