//! Status data: what the authority publishes about the certificates it issued (docs/design.md §3.3),
//! and the capped codec of the target files that carry it.
//!
//! One publication is a [`Dataset`] with one `version` and one `as_of`, shared by all its
//! targets, so the appliance never mixes files of two publications. Record files are gzip'd
//! JSON Lines: a header line ([`RecordHeader`]) and then one record per line, read as a stream
//! with caps on line length, total size and record count.

use crate::trust::{SealKey, SealKind};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};

/// One certificate's revocation (已撤销).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub management_number: String,
    pub revoked_at: Timestamp,
    /// A code from [`RevocationReason`].
    pub reason_code: String,
    /// The authority's own words, shown to the verifier.
    pub reason: String,
    /// Issuing body code of the revoking body.
    pub revoked_by: String,
}

/// The revocation reason codes the authority uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    /// 弄虚作假取得 — obtained by fraud.
    Fraud,
    /// 信息有误，已重新发放 — issued with wrong data and re-issued.
    Reissued,
    /// 违规被取消 — cancelled for a violation.
    Violation,
    /// 其他 — other; the reason text says more.
    Other,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 4] = [
        RevocationReason::Fraud,
        RevocationReason::Reissued,
        RevocationReason::Violation,
        RevocationReason::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RevocationReason::Fraud => "fraud",
            RevocationReason::Reissued => "reissued",
            RevocationReason::Violation => "violation",
            RevocationReason::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<RevocationReason> {
        RevocationReason::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            RevocationReason::Fraud => "弄虚作假取得",
            RevocationReason::Reissued => "信息有误，已重新发放",
            RevocationReason::Violation => "违规被取消",
            RevocationReason::Other => "其他",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            RevocationReason::Fraud => "obtained by fraud",
            RevocationReason::Reissued => "issued with wrong data and re-issued",
            RevocationReason::Violation => "cancelled for a violation",
            RevocationReason::Other => "other",
        }
    }
}

/// An annotation withdrawn by the authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    pub annotation_id: u64,
    pub cancelled_at: Timestamp,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Whose seal its e-certificates carry.
    pub seal_kind: SealKind,
    /// Issuing body code.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// 证书查询验证范围: the status data covers certificates of `qualification` approved in the
/// years `first_year..=last_year`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeEntry {
    pub qualification: String,
    pub first_year: i16,
    pub last_year: i16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub qualifications: Vec<Qualification>,
    pub bodies: Vec<Body>,
    pub scope: Vec<ScopeEntry>,
}

/// One publication of status data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub version: u64,
    pub as_of: Timestamp,
    pub seals: Vec<SealKey>,
    pub catalogue: Catalogue,
    pub revocations: Vec<Revocation>,
    pub cancellations: Vec<Cancellation>,
}

/// A record set that changes between publications, keyed for deltas.
pub trait Record: Serialize + DeserializeOwned + Clone + PartialEq {
    fn key(&self) -> String;
}

impl Record for Revocation {
    fn key(&self) -> String {
        self.management_number.clone()
    }
}

impl Record for Cancellation {
    fn key(&self) -> String {
        self.annotation_id.to_string()
    }
}

/// One line of a delta file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DeltaOp<T> {
    /// Add the record, or replace the one with its key.
    Upsert(T),
    /// Remove the record with this key (e.g. a revocation made in error and withdrawn).
    Delete { key: String },
}

/// The operations that turn `old` into `new`, in key order.
pub fn diff<T: Record>(old: &[T], new: &[T]) -> Vec<DeltaOp<T>> {
    use std::collections::BTreeMap;
    let old: BTreeMap<String, &T> = old.iter().map(|r| (r.key(), r)).collect();
    let new: BTreeMap<String, &T> = new.iter().map(|r| (r.key(), r)).collect();
    let mut ops = Vec::new();
    for (k, r) in &new {
        if old.get(k) != Some(r) {
            ops.push(DeltaOp::Upsert((*r).clone()));
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            ops.push(DeltaOp::Delete { key: k.clone() });
        }
    }
    ops
}

/// A record set as a sync delivers it: whole, or as a chain of deltas from the version held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Records<T> {
    Full(Vec<T>),
    Deltas(Vec<Delta<T>>),
}

/// One link of a delta chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta<T> {
    pub from: u64,
    pub to: u64,
    pub ops: Vec<DeltaOp<T>>,
    /// Records in the full set once applied.
    pub total: u64,
}

impl<T> Records<T> {
    pub fn len_hint(&self) -> usize {
        match self {
            Records::Full(v) => v.len(),
            Records::Deltas(d) => d.iter().map(|d| d.ops.len()).sum(),
        }
    }

    pub fn is_delta(&self) -> bool {
        matches!(self, Records::Deltas(_))
    }
}

/// A publication as a sync delivers it: small sets whole, growing sets whole or as deltas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub version: u64,
    pub as_of: Timestamp,
    pub seals: Vec<SealKey>,
    pub catalogue: Catalogue,
    pub revocations: Records<Revocation>,
    pub cancellations: Records<Cancellation>,
    /// The lookup index; `None` when the publication carries none (the store then holds none).
    pub lookup: Option<crate::lookup::LookupUpdate>,
}

impl From<Dataset> for Update {
    fn from(d: Dataset) -> Update {
        Update {
            version: d.version,
            as_of: d.as_of,
            seals: d.seals,
            catalogue: d.catalogue,
            revocations: Records::Full(d.revocations),
            cancellations: Records::Full(d.cancellations),
            lookup: None,
        }
    }
}

/// The kinds of target the repository carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Seals,
    Catalogue,
    Revocations,
    Cancellations,
    /// The lookup index ([`crate::lookup`]): optional, written by the publisher itself.
    Lookup,
    /// The content key of the publication's sealed files, wrapped to each enrolled appliance
    /// ([`crate::fleet::Grant`]); in the clear. Absent from a publisher that seals nothing.
    FleetKeys,
}

impl TargetKind {
    pub const ALL: [TargetKind; 6] = [
        TargetKind::Seals,
        TargetKind::Catalogue,
        TargetKind::Revocations,
        TargetKind::Cancellations,
        TargetKind::Lookup,
        TargetKind::FleetKeys,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Seals => "seals",
            TargetKind::Catalogue => "catalogue",
            TargetKind::Revocations => "revocations",
            TargetKind::Cancellations => "cancellations",
            TargetKind::Lookup => "lookup",
            TargetKind::FleetKeys => "fleet_keys",
        }
    }

    /// The flat target name (no `/`, docs/design.md §3.2) of this kind's full file at `version`.
    pub fn file_name(self, version: u64) -> String {
        format!("{}.v{version}.jsonl.gz", self.as_str())
    }

    /// The flat target name of the delta from `from` to `version`.
    pub fn delta_name(self, from: u64, version: u64) -> String {
        format!("{}.v{version}.from{from}.jsonl.gz", self.as_str())
    }

    /// Whether publications carry deltas of this kind (the growing record sets do; the seal
    /// list and the catalogue are small and always sent whole).
    pub fn has_deltas(self) -> bool {
        matches!(
            self,
            TargetKind::Revocations | TargetKind::Cancellations | TargetKind::Lookup
        )
    }

    /// Whether this kind's files name or point at holders, and so are sealed to the fleet
    /// ([`crate::fleet`]): the lookup index (rows of a holder's certificates), revocations and
    /// cancellations (numbers with the authority's free-text reasons). The seal list, the
    /// catalogue and the grants themselves are public.
    pub fn holder_linked(self) -> bool {
        matches!(
            self,
            TargetKind::Revocations | TargetKind::Cancellations | TargetKind::Lookup
        )
    }

    /// gzip level of this kind's files: the best for the small sets, the default for the
    /// lookup index, whose 10 M rows would take minutes at the best level for a few percent.
    pub fn compression(self) -> flate2::Compression {
        match self {
            TargetKind::Lookup => flate2::Compression::default(),
            _ => flate2::Compression::best(),
        }
    }

    /// Cap on the decompressed size of one file of this kind.
    pub fn max_inflated_bytes(self) -> u64 {
        match self {
            TargetKind::Seals | TargetKind::Catalogue | TargetKind::FleetKeys => 16 << 20,
            TargetKind::Revocations | TargetKind::Cancellations => 2 << 30,
            // 10 M rows are about 0.8 GB of JSON lines; room for 40 M.
            TargetKind::Lookup => 3 << 30,
        }
    }
}

/// The first line of every status file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordHeader {
    pub kind: TargetKind,
    pub version: u64,
    pub as_of: Timestamp,
    /// Lines after the header.
    pub count: u64,
    /// For a delta: the version it applies to (`version` is the one it produces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version: Option<u64>,
    /// For a delta: how many records the full set holds once it is applied (a check that the
    /// chain reproduced the full file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// For the lookup index: digest parameters, salts and the qualifications covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<crate::lookup::LookupParams>,
}

/// A status file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusFileError {
    #[error("{kind} file: {cause}")]
    Io { kind: &'static str, cause: std::io::Error },
    #[error("{kind} file, line {line}: {message}")]
    Json {
        kind: &'static str,
        line: u64,
        message: String,
    },
    #[error("{kind} file, line {line}: longer than {max} bytes")]
    LineTooLong { kind: &'static str, line: u64, max: usize },
    #[error("{kind} file: decompresses to more than {max} bytes")]
    TooLarge { kind: &'static str, max: u64 },
    #[error("{kind} file: header says {declared} records, file has {actual}")]
    CountMismatch {
        kind: &'static str,
        declared: u64,
        actual: u64,
    },
    #[error("{kind} file: header is for {got:?}")]
    WrongKind { kind: &'static str, got: TargetKind },
    #[error("{kind} file: empty")]
    Empty { kind: &'static str },
    #[error("{kind} file, line {line}: {message}")]
    Invalid {
        kind: &'static str,
        line: u64,
        message: String,
    },
}

/// Longest line of any status file.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Write `records` as one gzip'd JSON Lines status file.
pub fn write_records<T: Serialize>(
    out: impl Write,
    kind: TargetKind,
    version: u64,
    as_of: Timestamp,
    records: &[T],
) -> std::io::Result<()> {
    let header = RecordHeader::full(kind, version, as_of, records.len() as u64);
    write_file(out, &header, records)
}

/// Write a delta file: `ops` turn the full set of version `from` into that of `version`,
/// which then holds `total` records.
pub fn write_delta<T: Serialize>(
    out: impl Write,
    kind: TargetKind,
    (from, version): (u64, u64),
    as_of: Timestamp,
    ops: &[DeltaOp<T>],
    total: u64,
) -> std::io::Result<()> {
    let header = RecordHeader {
        from_version: Some(from),
        total: Some(total),
        ..RecordHeader::full(kind, version, as_of, ops.len() as u64)
    };
    write_file(out, &header, ops)
}

impl RecordHeader {
    /// The header of a full file of `count` records.
    pub fn full(kind: TargetKind, version: u64, as_of: Timestamp, count: u64) -> RecordHeader {
        RecordHeader {
            kind,
            version,
            as_of,
            count,
            from_version: None,
            total: None,
            lookup: None,
        }
    }
}

fn write_file<T: Serialize>(out: impl Write, header: &RecordHeader, records: &[T]) -> std::io::Result<()> {
    let mut w = RecordWriter::new(out, header)?;
    for r in records {
        w.write(r)?;
    }
    w.finish().map(drop)
}

/// A streaming writer of one status file: the header, then records one at a time, as many as
/// the header declares (checked by [`RecordWriter::finish`]).
#[derive(Debug)]
pub struct RecordWriter<W: Write> {
    gz: flate2::write::GzEncoder<std::io::BufWriter<W>>,
    declared: u64,
    written: u64,
}

impl<W: Write> RecordWriter<W> {
    pub fn new(out: W, header: &RecordHeader) -> std::io::Result<Self> {
        let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(out), header.kind.compression());
        serde_json::to_writer(&mut gz, header)?;
        gz.write_all(b"\n")?;
        Ok(RecordWriter {
            gz,
            declared: header.count,
            written: 0,
        })
    }

    pub fn write<T: Serialize>(&mut self, record: &T) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.gz, record)?;
        self.gz.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    /// Finish the gzip stream; refused when the records written are not the header's count.
    pub fn finish(self) -> std::io::Result<W> {
        if self.written != self.declared {
            return Err(std::io::Error::other(format!(
                "{} records written, the header declares {}",
                self.written, self.declared
            )));
        }
        let mut out = self.gz.finish()?;
        out.flush()?;
        out.into_inner().map_err(|e| e.into_error())
    }
}

/// A streaming reader of one status file: the header first, then records one at a time.
#[derive(Debug)]
pub struct RecordReader<R: Read> {
    kind: TargetKind,
    lines: BufReader<std::io::Take<flate2::read::GzDecoder<R>>>,
    header: RecordHeader,
    line: u64,
    read: u64,
    buf: Vec<u8>,
}

impl<R: Read> RecordReader<R> {
    pub fn open(input: R, kind: TargetKind) -> Result<Self, StatusFileError> {
        let lines = BufReader::new(flate2::read::GzDecoder::new(input).take(kind.max_inflated_bytes() + 1));
        let mut r = RecordReader {
            kind,
            lines,
            header: RecordHeader::full(kind, 0, Timestamp::UNIX_EPOCH, 0),
            line: 0,
            read: 0,
            buf: Vec::new(),
        };
        let k = kind.as_str();
        if !r.next_line()? {
            return Err(StatusFileError::Empty { kind: k });
        }
        let header: RecordHeader = serde_json::from_slice(&r.buf).map_err(|e| StatusFileError::Json {
            kind: k,
            line: 1,
            message: e.to_string(),
        })?;
        if header.kind != kind {
            return Err(StatusFileError::WrongKind {
                kind: k,
                got: header.kind,
            });
        }
        r.header = header;
        Ok(r)
    }

    pub fn header(&self) -> &RecordHeader {
        &self.header
    }

    /// The line number of the record last returned (the header is line 1).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// An error about the record last returned.
    pub fn invalid(&self, message: impl Into<String>) -> StatusFileError {
        StatusFileError::Invalid {
            kind: self.kind.as_str(),
            line: self.line,
            message: message.into(),
        }
    }

    fn next_line(&mut self) -> Result<bool, StatusFileError> {
        let k = self.kind.as_str();
        self.buf.clear();
        self.line += 1;
        let n = (&mut self.lines)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| StatusFileError::Io { kind: k, cause: source })?;
        if self.lines.get_ref().limit() == 0 {
            return Err(StatusFileError::TooLarge {
                kind: k,
                max: self.kind.max_inflated_bytes(),
            });
        }
        if n > MAX_LINE_BYTES {
            return Err(StatusFileError::LineTooLong {
                kind: k,
                line: self.line,
                max: MAX_LINE_BYTES,
            });
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        Ok(n > 0)
    }

    /// The next record, `None` at the end (after checking the header's count).
    pub fn next_record<T: DeserializeOwned>(&mut self) -> Result<Option<T>, StatusFileError> {
        let k = self.kind.as_str();
        if !self.next_line()? {
            if self.read != self.header.count {
                return Err(StatusFileError::CountMismatch {
                    kind: k,
                    declared: self.header.count,
                    actual: self.read,
                });
            }
            return Ok(None);
        }
        if self.read >= self.header.count {
            return Err(StatusFileError::CountMismatch {
                kind: k,
                declared: self.header.count,
                actual: self.read + 1,
            });
        }
        let record = serde_json::from_slice(&self.buf).map_err(|e| StatusFileError::Json {
            kind: k,
            line: self.line,
            message: e.to_string(),
        })?;
        self.read += 1;
        Ok(Some(record))
    }

    /// Every remaining record.
    pub fn collect_all<T: DeserializeOwned>(mut self) -> Result<(RecordHeader, Vec<T>), StatusFileError> {
        let mut out = Vec::new();
        while let Some(r) = self.next_record()? {
            out.push(r);
        }
        Ok((self.header, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Revocation> {
        vec![Revocation {
            management_number: "2019030100000042".into(),
            revoked_at: "2025-01-02T03:04:05Z".parse().expect("ts"),
            reason_code: "fraud".into(),
            reason: "弄虚作假".into(),
            revoked_by: "MOHRSS".into(),
        }]
    }

    fn file(records: &[Revocation], count_override: Option<u64>) -> Vec<u8> {
        let mut out = Vec::new();
        let as_of = "2025-01-03T00:00:00Z".parse().expect("ts");
        write_records(&mut out, TargetKind::Revocations, 7, as_of, records).expect("write");
        if let Some(count) = count_override {
            // Rewrite with a lying header.
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let h = RecordHeader::full(TargetKind::Revocations, 7, as_of, count);
            serde_json::to_writer(&mut gz, &h).expect("json");
            gz.write_all(b"\n").expect("write");
            for r in records {
                serde_json::to_writer(&mut gz, r).expect("json");
                gz.write_all(b"\n").expect("write");
            }
            out = gz.finish().expect("gz");
        }
        out
    }

    #[test]
    fn records_round_trip() {
        let bytes = file(&sample(), None);
        let (h, got) = RecordReader::open(bytes.as_slice(), TargetKind::Revocations)
            .expect("open")
            .collect_all::<Revocation>()
            .expect("read");
        assert_eq!(h.version, 7);
        assert_eq!(got, sample());
    }

    #[test]
    fn lying_counts_and_wrong_kinds_are_refused() {
        for count in [0, 2] {
            let bytes = file(&sample(), Some(count));
            let err = RecordReader::open(bytes.as_slice(), TargetKind::Revocations)
                .expect("open")
                .collect_all::<Revocation>()
                .expect_err("count mismatch");
            assert!(matches!(err, StatusFileError::CountMismatch { .. }), "{err}");
        }
        let bytes = file(&sample(), None);
        let err = RecordReader::open(bytes.as_slice(), TargetKind::Cancellations).expect_err("kind");
        assert!(matches!(err, StatusFileError::WrongKind { .. }));
    }

    #[test]
    fn a_diff_turns_the_old_set_into_the_new_and_round_trips_as_a_delta_file() {
        let old = sample();
        let mut changed = old[0].clone();
        changed.reason = "更正".into();
        let added = Revocation {
            management_number: "2021050100000001".into(),
            ..old[0].clone()
        };
        let ops = diff(&old, &[changed.clone(), added.clone()]);
        assert_eq!(ops, vec![DeltaOp::Upsert(changed.clone()), DeltaOp::Upsert(added)]);
        assert_eq!(
            diff(&old, &[]),
            vec![DeltaOp::Delete {
                key: old[0].management_number.clone()
            }]
        );
        assert!(diff(&old, &old).is_empty());

        let mut bytes = Vec::new();
        let as_of = "2025-01-03T00:00:00Z".parse().expect("ts");
        write_delta(&mut bytes, TargetKind::Revocations, (6, 7), as_of, &ops, 2).expect("write");
        let (h, got) = RecordReader::open(bytes.as_slice(), TargetKind::Revocations)
            .expect("open")
            .collect_all::<DeltaOp<Revocation>>()
            .expect("read");
        assert_eq!((h.from_version, h.version, h.total), (Some(6), 7, Some(2)));
        assert_eq!(got, ops);
    }

    #[test]
    fn garbage_and_endless_lines_are_refused() {
        assert!(RecordReader::open(&b"not gzip at all"[..], TargetKind::Revocations).is_err());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&vec![b'x'; MAX_LINE_BYTES * 2]).expect("write");
        let bytes = gz.finish().expect("gz");
        let err = RecordReader::open(bytes.as_slice(), TargetKind::Revocations).expect_err("long line");
        assert!(matches!(err, StatusFileError::LineTooLong { .. }), "{err}");
    }
}
