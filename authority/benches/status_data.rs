//! Status data at national scale (docs/design.md §6): 10 M certificates, 200 k of them revoked.
//! Full revocation file size, a day's delta (1 000 new revocations) and its apply time on the
//! 200 k store — each beside an anchor from the same run: the same rows as gzip'd CSV, and the
//! `sqlite3` shell's `.import` of the same 1 000 rows into a copy of the same store.
//! Run with `scripts/bench` (release profile).

use certkiosk_sync::writer::{MetadataVersions, Writer};
use certsync::authority::default_catalogue;
use certsync::status::{Dataset, Delta, Records, Revocation, TargetKind, Update, diff, write_delta, write_records};
use jiff::Timestamp;
use std::io::Write;
use std::time::Instant;

const REVOKED: usize = 200_000;
const DAY: usize = 1_000;

/// A revoked certificate drawn from 10 M: management numbers are year + qualification + serial.
fn revocation(rng: &mut fastrand::Rng) -> Revocation {
    const QUALIFICATIONS: [&str; 8] = ["0301", "0501", "0601", "0701", "0801", "0901", "1101", "1201"];
    const REASONS: [(&str, &str); 4] = [
        ("fraud", "弄虚作假取得"),
        ("reissued", "信息有误，已重新发放"),
        ("violation", "违规被取消"),
        ("other", "其他"),
    ];
    const DETAILS: [&str; 4] = ["考试作弊", "材料造假", "重复发证", "司法判决"];
    const BODIES: [&str; 3] = ["MOHRSS", "CIREA", "CAUP"];
    let year = 2017 + rng.u64(..10);
    let qualification = QUALIFICATIONS[rng.usize(..8)];
    let serial = rng.u64(..1_250_000);
    let (code, text) = REASONS[rng.usize(..4)];
    let reason = if rng.u64(..10) == 0 {
        format!("{text}（{}）", DETAILS[rng.usize(..4)])
    } else {
        text.to_owned()
    };
    Revocation {
        management_number: format!("{year}{qualification}{serial:08}"),
        revoked_at: Timestamp::from_second(1_500_000_000 + rng.u64(..290_000_000) as i64).expect("ts"),
        reason_code: code.to_owned(),
        reason,
        revoked_by: BODIES[rng.usize(..3)].to_owned(),
    }
}

fn unique(rng: &mut fastrand::Rng, n: usize, seen: &mut std::collections::HashSet<String>) -> Vec<Revocation> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let r = revocation(rng);
        if seen.insert(r.management_number.clone()) {
            out.push(r);
        }
    }
    out
}

fn csv(rows: &[Revocation]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            r.management_number,
            r.revoked_at.as_second(),
            r.reason_code,
            r.reason,
            r.revoked_by
        );
    }
    out
}

fn gzip(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip").len()
}

fn main() {
    // Seeded, so every run measures the same data.
    let mut rng = fastrand::Rng::with_seed(0x5eed_cafe_f00d_0001);
    let mut seen = std::collections::HashSet::new();
    let mut all = unique(&mut rng, REVOKED, &mut seen);
    all.sort_by(|a, b| a.management_number.cmp(&b.management_number));
    let day = unique(&mut rng, DAY, &mut seen);
    let now = Timestamp::now();

    let mut full = Vec::new();
    write_records(&mut full, TargetKind::Revocations, 1, now, &all).expect("full file");
    let mut next = all.clone();
    next.extend(day.iter().cloned());
    next.sort_by(|a, b| a.management_number.cmp(&b.management_number));
    let ops = diff(&all, &next);
    let mut delta = Vec::new();
    write_delta(
        &mut delta,
        TargetKind::Revocations,
        (1, 2),
        now,
        &ops,
        next.len() as u64,
    )
    .expect("delta file");

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite");
    let mut store = Writer::open(&path).expect("store");
    let dataset = Dataset {
        version: 1,
        as_of: now,
        seals: Vec::new(),
        catalogue: default_catalogue(),
        revocations: all.clone(),
        cancellations: Vec::new(),
    };
    let versions = MetadataVersions {
        root: 1,
        targets: 1,
        snapshot: 1,
    };
    let t = Instant::now();
    store.apply(&dataset, versions, now).expect("full apply");
    let full_apply = t.elapsed();
    drop(store);
    let anchor_db = dir.path().join("anchor.sqlite");
    std::fs::copy(&path, &anchor_db).expect("copy store");

    let mut store = Writer::open(&path).expect("store");
    let update = Update {
        version: 2,
        as_of: now,
        seals: Vec::new(),
        catalogue: default_catalogue(),
        revocations: Records::Deltas(vec![Delta {
            from: 1,
            to: 2,
            ops,
            total: next.len() as u64,
        }]),
        cancellations: Records::Deltas(vec![Delta {
            from: 1,
            to: 2,
            ops: Vec::new(),
            total: 0,
        }]),
        lookup: None,
    };
    let t = Instant::now();
    store
        .apply_update(
            &update,
            MetadataVersions {
                root: 1,
                targets: 2,
                snapshot: 2,
            },
            now,
        )
        .expect("delta apply");
    let delta_apply = t.elapsed();

    // Anchor: the sqlite3 shell importing the same 1 000 rows into a copy of the same store.
    let day_csv = dir.path().join("day.csv");
    std::fs::write(&day_csv, csv(&day)).expect("csv");
    let t = Instant::now();
    let status = std::process::Command::new("sqlite3")
        .arg(&anchor_db)
        .arg(format!(".import --csv {} revocations", day_csv.display()))
        .status();
    let anchor_apply = t.elapsed();
    let anchor = match status {
        Ok(s) if s.success() => format!("{:.1} ms", anchor_apply.as_secs_f64() * 1e3),
        _ => "sqlite3 not installed".to_owned(),
    };

    println!(
        "| measure (10 M certificates, {REVOKED} revoked; a day = {DAY} new) | certkiosk | anchor, same run | budget |"
    );
    println!("|---|---|---|---|");
    println!(
        "| full revocation file | {:.2} MB | {:.2} MB (same rows as gzip -9 CSV) | ≤ 5 MB |",
        full.len() as f64 / 1e6,
        gzip(&csv(&all)) as f64 / 1e6
    );
    println!(
        "| a day's delta | {:.1} kB | {:.1} kB (the day's rows as gzip -9 CSV); CRLite ≈ 27 kB per 6 h (published) | ≤ 50 kB |",
        delta.len() as f64 / 1e3,
        gzip(&csv(&day)) as f64 / 1e3
    );
    println!(
        "| apply the day's delta to the 200 k store (one transaction, fsync) | {:.1} ms | {anchor} (`sqlite3 .import` of the same rows) | ≤ 1 s |",
        delta_apply.as_secs_f64() * 1e3
    );
    println!(
        "| apply the full file to an empty store | {:.0} ms | — | — |",
        full_apply.as_secs_f64() * 1e3
    );
    fleet_envelope(&full, &delta);
}

/// The fleet envelope (issue 17): what sealing adds to the files and what opening costs an
/// appliance, beside the SHA-256 that TUF already computes over every target it downloads.
fn fleet_envelope(full: &[u8], delta: &[u8]) {
    use certkiosk_formats::fleet::{self, ContentKey};
    use sha2::Digest;
    let key = ContentKey::generate();
    let seal = |b: &[u8]| {
        let mut out = Vec::with_capacity(b.len() + b.len() / 1000 + 4200);
        fleet::seal(&key, b, &mut out).expect("seal");
        out
    };
    println!(
        "| the full revocation file sealed to the fleet | {:.2} MB (+{} bytes) | — | — |",
        seal(full).len() as f64 / 1e6,
        seal(full).len() - full.len()
    );
    println!(
        "| the day's delta sealed | {:.1} kB (padded to 4 KiB) | — | ≤ 50 kB |",
        seal(delta).len() as f64 / 1e3
    );
    // A file of the lookup index's size (10 M rows gzip'd are about 250 MB).
    let mut big = vec![0u8; 256 << 20];
    fastrand::Rng::with_seed(7).fill(&mut big);
    let t = Instant::now();
    let sealed = seal(&big);
    let sealing = t.elapsed();
    let t = Instant::now();
    fleet::open(std::slice::from_ref(&key), sealed.as_slice(), std::io::sink()).expect("open");
    let opening = t.elapsed();
    let t = Instant::now();
    std::hint::black_box(sha2::Sha256::digest(&big));
    let hashing = t.elapsed();
    let rate = |d: std::time::Duration| (256 << 20) as f64 / 1e6 / d.as_secs_f64();
    println!(
        "| open a sealed 256 MiB file (appliance) | {:.2} s ({:.0} MB/s) | {:.2} s ({:.0} MB/s) — SHA-256 of the same bytes | — |",
        opening.as_secs_f64(),
        rate(opening),
        hashing.as_secs_f64(),
        rate(hashing)
    );
    println!(
        "| seal it (publisher) | {:.2} s ({:.0} MB/s) | — | — |",
        sealing.as_secs_f64(),
        rate(sealing)
    );
}
