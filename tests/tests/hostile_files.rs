//! Hostile and broken files given to `certd verify` and `certd decode` (docs/design.md §7): each one
//! ends as the verdict `unreadable` with a one-line reason, or a one-line error, and never as a
//! crash or a hang of certd. The files are crafted here, byte by byte.

use acquire::child::{Contained, Want, read_file};
use certkiosk_tests::{bin, ok, run, stderr, stdout, synced_demo_world};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// A PDF from numbered object bodies (object i+1 is `objects[i]`), with a correct xref table
/// and `trailer_extra` added to the trailer (which has /Root 1 0 R).
fn pdf(objects: &[Vec<u8>], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut s = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    s.extend(data);
    s.extend(b"\nendstream");
    s
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).expect("compress");
    e.finish().expect("compress")
}

/// zlib of `n` zero bytes, compressed a chunk at a time.
fn zlib_zeros(n: usize) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::fast());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..n / chunk.len() {
        e.write_all(&chunk).expect("compress");
    }
    e.finish().expect("compress")
}

/// Catalog, page tree and one page whose content is object 4 and resources `resources`.
fn one_page(content: Vec<u8>, resources: &str, more: Vec<Vec<u8>>) -> Vec<u8> {
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << {resources} >> >>")
            .into_bytes(),
        content,
    ];
    objects.extend(more);
    pdf(&objects, "")
}

fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend(kind);
    c.extend(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    c.extend(crc.sum().to_be_bytes());
    c
}

/// A ZIP archive (stored, no compression) holding `pdf` as `certificate.pdf`.
fn zip_of(member: &[u8]) -> Vec<u8> {
    let name = b"certificate.pdf";
    let mut crc = flate2::Crc::new();
    crc.update(member);
    let (crc, size) = (crc.sum(), member.len() as u32);
    let mut z = Vec::new();
    z.extend(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    z.extend(crc.to_le_bytes());
    z.extend(size.to_le_bytes());
    z.extend(size.to_le_bytes());
    z.extend((name.len() as u16).to_le_bytes());
    z.extend(0u16.to_le_bytes());
    z.extend(name);
    z.extend(member);
    let central = z.len() as u32;
    z.extend(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    z.extend(crc.to_le_bytes());
    z.extend(size.to_le_bytes());
    z.extend(size.to_le_bytes());
    z.extend((name.len() as u16).to_le_bytes());
    z.extend([0u8; 12]);
    z.extend(0u32.to_le_bytes());
    z.extend(name);
    let central_len = z.len() as u32 - central;
    z.extend(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    z.extend(central_len.to_le_bytes());
    z.extend(central.to_le_bytes());
    z.extend(0u16.to_le_bytes());
    z
}

struct World {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    config: String,
}

fn world() -> World {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let config = synced_demo_world(&dir, "world");
    World { _tmp: tmp, dir, config }
}

/// Every hostile file: (file name, bytes, words the reason must contain).
fn hostile_files(demo_pdf: &[u8], demo_png: &[u8]) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let mut files = vec![
        (
            "nested-arrays.pdf",
            one_page(
                stream("", format!("{deep} re f").as_bytes()),
                "",
                vec![deep.clone().into_bytes()],
            ),
            "",
        ),
        (
            "reference-cycle.pdf",
            pdf(
                &[
                    b"<< /Type /Catalog /Pages 2 0 R /Names 4 0 R >>".to_vec(),
                    b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 /Parent 3 0 R >>".to_vec(),
                    b"<< /Type /Page /Parent 2 0 R /Kids [2 0 R] /Contents 5 0 R >>".to_vec(),
                    b"5 0 R".to_vec(),
                    b"4 0 R".to_vec(),
                ],
                "",
            ),
            "",
        ),
        (
            "content-bomb.pdf",
            one_page(
                stream("/Filter [/FlateDecode /FlateDecode]", &zlib(&zlib_zeros(512 << 20))),
                "",
                vec![],
            ),
            "",
        ),
        (
            "image-bomb.pdf",
            one_page(
                stream("/Length 0", b"q 100 0 0 100 0 0 cm /Im1 Do Q"),
                "/XObject << /Im1 5 0 R >>",
                vec![stream(
                    "/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceGray \
                     /BitsPerComponent 8 /Filter /FlateDecode",
                    &zlib_zeros(256 << 20),
                )],
            ),
            "",
        ),
        (
            "form-recursion.pdf",
            one_page(
                stream("", b"/F1 Do /F1 Do"),
                "/XObject << /F1 5 0 R >>",
                vec![stream(
                    "/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /F1 5 0 R >> >>",
                    b"/F1 Do /F1 Do /F1 Do",
                )],
            ),
            "no QR code",
        ),
        ("zip-renamed.pdf", zip_of(demo_pdf), "nor a PNG, JPEG or PDF"),
        ("truncated.pdf", demo_pdf[..demo_pdf.len() / 3].to_vec(), ""),
        ("truncated.png", demo_png[..demo_png.len() / 2].to_vec(), "image"),
        ("garbage.pdf", b"%PDF-1.7\n\x00\xff\xfe garbage".to_vec(), "PDF"),
        (
            "no-pages.pdf",
            pdf(
                &[
                    b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
                    b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
                ],
                "",
            ),
            "no readable pages",
        ),
        (
            "bogus-encrypt.pdf",
            pdf(
                &[
                    b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
                    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
                    b"<< /Type /Page /Parent 2 0 R >>".to_vec(),
                    b"<< /Filter /Standard /V 9 /R 99 /O (x) /U (y) /P -1 >>".to_vec(),
                ],
                "/Encrypt 4 0 R /ID [(a) (b)]",
            ),
            "",
        ),
        ("empty.png", Vec::new(), ""),
    ];
    // A PNG whose header claims 100 000 × 100 000 pixels.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &zlib(&[0u8; 1024])));
    png.extend(png_chunk(b"IEND", &[]));
    files.push(("huge-header.png", png, "size limit"));
    // A JPEG whose frame header claims 65 000 × 65 000.
    let mut jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    jpeg.extend(b"\xff\xc0\x00\x0b\x08\xfd\xe8\xfd\xe8\x01\x01\x11\x00");
    jpeg.extend(b"\xff\xd9");
    files.push(("huge-header.jpg", jpeg, ""));
    files
}

#[test]
fn hostile_files_are_unreadable_with_one_line_and_certd_survives() {
    let w = world();
    let demo_pdf = std::fs::read(w.dir.join("world/samples/valid-ministry-annotated.pdf")).expect("demo pdf");
    let demo_png = std::fs::read(w.dir.join("world/samples/valid-ministry-annotated.png")).expect("demo png");
    let files = hostile_files(&demo_pdf, &demo_png);
    let hostile = w.dir.join("hostile");
    std::fs::create_dir(&hostile).expect("mkdir");
    let mut args = vec![
        "--config".to_owned(),
        w.config.clone(),
        "verify".into(),
        "--json".into(),
    ];
    for (name, bytes, _) in &files {
        std::fs::write(hostile.join(name), bytes).expect("write");
        args.push(format!("hostile/{name}"));
    }
    // A good file after the hostile ones still gets its verdict.
    args.push("world/samples/valid-ministry-annotated.pdf".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let out = ok(run("certd", &args, &w.dir));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), files.len() + 1, "{}", stderr(&out));
    for ((name, _, words), got) in files.iter().zip(&lines) {
        assert_eq!(got["verdict"], "unreadable", "{name}: {got}");
        let reason = got["reason"].as_str().unwrap_or_default();
        assert!(!reason.is_empty() && !reason.contains('\n'), "{name}: {reason:?}");
        assert!(reason.contains(words), "{name}: {reason:?} should say {words:?}");
        eprintln!("{name}: {reason}");
    }
    assert_eq!(lines[files.len()]["verdict"], "valid");
    // Each file is bounded by the child's wall-clock limit; together they take far less.
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());

    // decode: nothing found in any of them, one line each on stderr, exit 1.
    let mut args = vec!["decode".to_owned()];
    args.extend(files.iter().map(|(name, _, _)| format!("hostile/{name}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run("certd", &args, &w.dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert_eq!(stderr(&out).lines().count(), files.len(), "{}", stderr(&out));
}

#[test]
fn the_child_is_held_to_its_memory_time_and_answer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    ok(run("certsync", &["demo", "world"], dir));
    // The child reads the file it is given open, as its standard input.
    let path = dir.join("world/samples/valid-ministry-annotated.png");
    let sample = || std::fs::File::open(&path).expect("sample");
    let certd = bin("certd");

    // Found with the default limits …
    let found = read_file(&certd, sample(), Want::Credential, &Contained::default()).expect("readable");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].source, acquire::Source::QrImage);

    // … but not in 8 MiB of address space: the allocation fails, the child aborts.
    let starved = Contained {
        address_space_bytes: 8 << 20,
        ..Contained::default()
    };
    let err = read_file(&certd, sample(), Want::Credential, &starved).expect_err("no memory");
    assert!(err.0.contains("memory") || err.0.contains("crashed"), "{err}");

    // Programs standing in for a child that hangs, crashes or answers nonsense.
    let script = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        path
    };
    let quick = Contained {
        wall: Duration::from_millis(300),
        ..Contained::default()
    };
    let started = Instant::now();
    let err = read_file(&script("hang", "sleep 30"), sample(), Want::Credential, &quick).expect_err("hang");
    assert!(err.0.contains("longer than"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = read_file(&script("crash", "kill -SEGV $$"), sample(), Want::Credential, &quick).expect_err("crash");
    assert_eq!(err.0, "the file reader crashed (signal 11)");
    let err = read_file(
        &script("nonsense", "echo '{\"Found\": 3}'"),
        sample(),
        Want::Credential,
        &quick,
    )
    .expect_err("nonsense");
    assert_eq!(err.0, "the file reader gave no answer");
    let err = read_file(&script("flood", "yes"), sample(), Want::Credential, &quick).expect_err("flood");
    assert!(
        ["longer than", "no answer", "failed"].iter().any(|w| err.0.contains(w)),
        "{err}"
    );
    let err = read_file(Path::new("/nonexistent/certd"), sample(), Want::Credential, &quick).expect_err("missing");
    assert!(err.0.starts_with("cannot start the file reader"), "{err}");
}
