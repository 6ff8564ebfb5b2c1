//! Conventions of the source that no compiler checks (docs/decisions/0018-errors.md): an error
//! whose message prints its cause does not also return it from `source()`, so a report that
//! walks the chain (certsync's `{:#}`) prints each cause once. thiserror makes a field named
//! `source` the source, so a message naming `{source}` prints it twice.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_error_message_prints_a_cause_its_source_repeats() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let mut files = Vec::new();
    rust_files(root, &mut files);
    assert!(files.len() > 50, "the walk found the workspace ({} files)", files.len());
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (i, line) in text.lines().enumerate() {
            // `#[error(...)]` attributes of thiserror, the only place the pattern matters.
            if line.trim_start().starts_with("#[error(") && line.contains("{source}") {
                offenders.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "messages that print their source, which source() repeats — name the field `cause`:\n{}",
        offenders.join("\n")
    );
}
