//! Tampering with a published repository's files, and putting them back.

use std::path::{Path, PathBuf};

/// A repository file and its bytes as published.
#[derive(Debug)]
pub struct RepoFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl RepoFile {
    pub fn read(path: PathBuf) -> RepoFile {
        let bytes = std::fs::read(&path).expect("repository file");
        RepoFile { path, bytes }
    }

    /// Replace the file with its published bytes changed by `change`.
    pub fn tamper(&self, change: impl FnOnce(&mut Vec<u8>)) {
        let mut bytes = self.bytes.clone();
        change(&mut bytes);
        std::fs::write(&self.path, bytes).expect("tamper");
    }

    /// Put the published bytes back.
    pub fn restore(&self) {
        std::fs::write(&self.path, &self.bytes).expect("restore");
    }
}

/// Publication 2's revocation files in `repo`: the delta from publication 1 (which an
/// appliance one version behind reads first) and the full file (its fallback).
pub fn revocations_v2(repo: &Path) -> [RepoFile; 2] {
    let targets = certkiosk_formats::repository::targets_dir(repo);
    [
        RepoFile::read(targets.join("revocations.v2.from1.jsonl.gz")),
        RepoFile::read(targets.join("revocations.v2.jsonl.gz")),
    ]
}
