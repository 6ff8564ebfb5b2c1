//! Reading the targets of one verified publication: each file's header checked against the
//! metadata, the growing record sets as delta chains from the version held where the
//! repository lists them all the way, else whole.

use super::listing::Deltas;
use super::{RepoError, TargetRejection, io};
use certkiosk_formats::fleet::{self, ContentKey, FleetError, Grant};
use certkiosk_formats::lookup::{LookupFile, LookupUpdate};
use certkiosk_formats::status::{
    Catalogue, Delta, DeltaOp, Record, RecordHeader, RecordReader, Records, StatusFileError, TargetKind, Update,
};
use certkiosk_formats::trust::{KeyId, SealKey, entitled};
use jiff::Timestamp;
use std::collections::HashMap;
use std::path::Path;
use tough::TargetName;

/// A publication to read: its listing and what the store holds.
pub(super) struct Publication<'a> {
    pub reader: TargetReader<'a>,
    pub full: HashMap<&'static str, TargetName>,
    pub deltas: Deltas,
    /// The publication the store holds, which delta chains start from.
    pub held: Option<u64>,
}

impl Publication<'_> {
    /// Every record set of the publication, checked.
    pub async fn update(&self) -> Result<Update, RepoError> {
        let reader = &self.reader;
        let version = reader.version;
        let mut as_of: Option<Timestamp> = None;
        let full = |kind: TargetKind| {
            self.full.get(kind.as_str()).ok_or(RepoError::MissingTarget {
                location: reader.location.to_owned(),
                kind: kind.as_str(),
            })
        };
        let (_, seals): (_, Vec<SealKey>) = reader
            .full(full(TargetKind::Seals)?, TargetKind::Seals, &mut as_of)
            .await?;
        if seals.iter().any(|s| s.key_id != KeyId::of(&s.public_key)) {
            let what = "a seal whose key id is not its key's";
            return Err(RepoError::HeaderMismatch {
                location: reader.location.to_owned(),
                kind: "seals",
                what,
            });
        }
        let (_, mut catalogue): (_, Vec<Catalogue>) = reader
            .full(full(TargetKind::Catalogue)?, TargetKind::Catalogue, &mut as_of)
            .await?;
        if catalogue.len() != 1 {
            let what = "exactly one catalogue record";
            return Err(RepoError::HeaderMismatch {
                location: reader.location.to_owned(),
                kind: "catalogue",
                what,
            });
        }
        // A scope names qualifications of the catalogue the seal is entitled to (an
        // association's seal its own body's), over a period that is one.
        let allowed = |seal: &SealKey, code: &str| {
            catalogue[0]
                .qualifications
                .iter()
                .any(|q| q.code == code && entitled(&seal.owner, seal.kind, q))
        };
        let bad_scope = seals.iter().any(|seal| {
            seal.scope
                .iter()
                .any(|s| s.from > s.until || !allowed(seal, &s.qualification))
        });
        if bad_scope {
            let what = "a seal scope naming a qualification outside the catalogue or the seal's entitlement, or ending before it starts";
            return Err(RepoError::HeaderMismatch {
                location: reader.location.to_owned(),
                kind: "seals",
                what,
            });
        }
        let revocations = reader
            .records(
                TargetKind::Revocations,
                full(TargetKind::Revocations)?,
                &self.deltas,
                self.held,
                &mut as_of,
            )
            .await?;
        let cancellations = reader
            .records(
                TargetKind::Cancellations,
                full(TargetKind::Cancellations)?,
                &self.deltas,
                self.held,
                &mut as_of,
            )
            .await?;
        let lookup = match self.full.get(TargetKind::Lookup.as_str()) {
            Some(full) => Some(reader.lookup(full, &self.deltas, self.held, &mut as_of).await?),
            None => None,
        };
        let as_of = as_of.unwrap_or(Timestamp::UNIX_EPOCH);
        Ok(Update {
            version,
            as_of,
            seals,
            catalogue: catalogue.remove(0),
            revocations,
            cancellations,
            lookup,
        })
    }
}

/// Reads targets of one verified repository, checking their headers.
pub(super) struct TargetReader<'a> {
    pub repository: &'a tough::Repository,
    pub location: &'a str,
    pub version: u64,
    /// Where downloads are spooled: the state directory, not `$TMPDIR` (often RAM), since the
    /// lookup index is hundreds of MB.
    pub spool: &'a Path,
    /// What opens the publication's sealed files.
    pub fleet: Fleet,
}

/// The content keys this appliance was granted by the publication, or why it has none.
#[derive(Debug, Default)]
pub(super) struct Fleet {
    keys: Vec<ContentKey>,
    /// Why a sealed file would not open: said with the envelope's own error.
    hint: String,
}

impl TargetReader<'_> {
    /// The content key granted to this appliance by the publication's `fleet_keys` file, read
    /// with the key at `key_file`. No grant is not an error here — a publication may seal
    /// nothing, and a sealed file says then what is missing.
    pub async fn fleet(&self, grants: Option<&TargetName>, key_file: &Path) -> Result<Fleet, RepoError> {
        let Some(grants) = grants else {
            return Ok(Fleet {
                keys: Vec::new(),
                hint: "the publication grants no fleet key".into(),
            });
        };
        let kind = TargetKind::FleetKeys;
        let mut as_of = None;
        let (_, grants): (_, Vec<Grant>) = self.full(grants, kind, &mut as_of).await?;
        let me = match super::read_fleet_key(key_file) {
            Ok(Some(k)) => k,
            Ok(None) => {
                return Ok(Fleet {
                    keys: Vec::new(),
                    hint: format!(
                        "this appliance has no fleet key ({}): make one with `certd fleet-key --init` and have the authority enroll it",
                        key_file.display()
                    ),
                });
            }
            Err(problem) => {
                return Err(RepoError::FleetKey {
                    path: key_file.to_owned(),
                    problem,
                });
            }
        };
        let Some(grant) = me.grant_in(&grants) else {
            return Ok(Fleet {
                keys: Vec::new(),
                hint: format!(
                    "this appliance (fleet key {}) is not enrolled in publication {}: give the authority the output of `certd fleet-key`",
                    me.public_hex(),
                    self.version
                ),
            });
        };
        let key = grant.unwrap(&me).map_err(|e| self.mismatch(kind, fleet_what(&e)))?;
        Ok(Fleet {
            keys: vec![key],
            hint: String::new(),
        })
    }

    /// Download a target into an anonymous temporary file, chunk by chunk (tough checks its
    /// signed length and sha256 as it streams), and hand it back for line-by-line parsing.
    async fn download(&self, name: &TargetName) -> Result<std::io::BufReader<std::fs::File>, RepoError> {
        Ok(std::io::BufReader::new(self.spool_file(name).await?))
    }

    async fn spool_file(&self, name: &TargetName) -> Result<std::fs::File, RepoError> {
        let rejected = |cause: TargetRejection| RepoError::TargetRejected {
            location: self.location.to_owned(),
            name: name.raw().to_owned(),
            cause,
        };
        let stream = self
            .repository
            .read_target(name)
            .await
            .map_err(|e| rejected(TargetRejection::Tuf(Box::new(e))))?
            .ok_or_else(|| rejected(TargetRejection::NotReadable))?;
        let spool = |e| rejected(TargetRejection::Spool(e));
        let file = tempfile::tempfile_in(self.spool).map_err(spool)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        let mut stream = stream;
        while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|e| rejected(TargetRejection::Tuf(Box::new(e))))?;
            std::io::Write::write_all(&mut out, &chunk).map_err(spool)?;
        }
        let mut file = out.into_inner().map_err(|e| spool(e.into_error()))?;
        std::io::Seek::rewind(&mut file).map_err(spool)?;
        let mut head = [0u8; fleet::MAGIC.len()];
        let n = std::io::Read::read(&mut file, &mut head).map_err(spool)?;
        std::io::Seek::rewind(&mut file).map_err(spool)?;
        if !fleet::is_sealed(&head[..n]) {
            return Ok(file);
        }
        // Opened into a second spool file, chunk by chunk: nothing of it is read before every
        // chunk has authenticated.
        let opened = tempfile::tempfile_in(self.spool).map_err(spool)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, opened);
        fleet::open(&self.fleet.keys, std::io::BufReader::new(file), &mut out).map_err(|e| match e {
            FleetError::Io(e) => rejected(TargetRejection::Spool(e)),
            FleetError::UnknownKey(_) if !self.fleet.hint.is_empty() => {
                rejected(TargetRejection::Fleet(format!("{e}; {}", self.fleet.hint)))
            }
            e => rejected(TargetRejection::Fleet(e.to_string())),
        })?;
        let mut opened = out.into_inner().map_err(|e| spool(e.into_error()))?;
        std::io::Seek::rewind(&mut opened).map_err(spool)?;
        Ok(opened)
    }

    /// The lookup index: spooled, its headers checked, its rows left for the store to stream.
    /// A delta chain from the version held when the repository lists one all the way, else
    /// the full file.
    async fn lookup(
        &self,
        full: &TargetName,
        deltas: &HashMap<(&'static str, u64), (TargetName, u64)>,
        held: Option<u64>,
        as_of: &mut Option<Timestamp>,
    ) -> Result<LookupUpdate, RepoError> {
        let kind = TargetKind::Lookup;
        let chain = delta_chain(kind, deltas, held, self.version);
        if !chain.is_empty() {
            let mut files = Vec::new();
            for &(name, from, to) in &chain {
                match self.lookup_file(name, Some(from), to, as_of).await {
                    Ok(f) => files.push(f),
                    Err(e) => {
                        tracing::info!(location = self.location, kind = kind.as_str(), error = %e, "delta chain unusable; fetching the full file");
                        files.clear();
                        break;
                    }
                }
            }
            if !files.is_empty() {
                return Ok(LookupUpdate::Deltas(files));
            }
        }
        Ok(LookupUpdate::Full(
            self.lookup_file(full, None, self.version, as_of).await?,
        ))
    }

    async fn lookup_file(
        &self,
        name: &TargetName,
        from: Option<u64>,
        to: u64,
        as_of: &mut Option<Timestamp>,
    ) -> Result<LookupFile, RepoError> {
        let kind = TargetKind::Lookup;
        let file = self.spool_file(name).await?;
        let reader = RecordReader::open(std::io::BufReader::new(file.try_clone().map_err(io(self.spool))?), kind)
            .map_err(self.file_err())?;
        let header = reader.header().clone();
        if header.from_version != from || header.version != to {
            return Err(self.mismatch(kind, "lookup file versions"));
        }
        if from.is_some() && header.total.is_none() {
            return Err(self.mismatch(kind, "delta total"));
        }
        if to == self.version {
            check_header(&header, self.version, as_of).map_err(|what| self.mismatch(kind, what))?;
        }
        let spooled = LookupFile::new(header, file);
        spooled.params().map_err(self.file_err())?;
        Ok(spooled)
    }

    fn file_err(&self) -> impl Fn(StatusFileError) -> RepoError + '_ {
        move |source| RepoError::StatusFile {
            location: self.location.to_owned(),
            cause: source,
        }
    }

    fn mismatch(&self, kind: TargetKind, what: &'static str) -> RepoError {
        RepoError::HeaderMismatch {
            location: self.location.to_owned(),
            kind: kind.as_str(),
            what,
        }
    }

    /// The full file of `kind` at the publication's version.
    async fn full<T: serde::de::DeserializeOwned>(
        &self,
        name: &TargetName,
        kind: TargetKind,
        as_of: &mut Option<Timestamp>,
    ) -> Result<(RecordHeader, Vec<T>), RepoError> {
        let file = self.download(name).await?;
        let reader = RecordReader::open(file, kind).map_err(self.file_err())?;
        if reader.header().from_version.is_some() {
            return Err(self.mismatch(kind, "a delta where the full file belongs"));
        }
        check_header(reader.header(), self.version, as_of).map_err(|what| self.mismatch(kind, what))?;
        reader.collect_all().map_err(self.file_err())
    }

    /// The records of `kind`: the delta chain from the version held when the repository lists
    /// one all the way, else the full file.
    async fn records<T: Record>(
        &self,
        kind: TargetKind,
        full: &TargetName,
        deltas: &HashMap<(&'static str, u64), (TargetName, u64)>,
        held: Option<u64>,
        as_of: &mut Option<Timestamp>,
    ) -> Result<Records<T>, RepoError> {
        let chain = delta_chain(kind, deltas, held, self.version);
        if chain.is_empty() {
            return Ok(Records::Full(self.full(full, kind, as_of).await?.1));
        }
        match self.chain::<T>(kind, &chain, as_of).await {
            Ok(links) => Ok(Records::Deltas(links)),
            Err(e) => {
                // The full file is verified on its own: a mirror missing a delta, or a delta that
                // cannot be read, costs bandwidth, not the sync.
                tracing::info!(location = self.location, kind = kind.as_str(), error = %e, "delta chain unusable; fetching the full file");
                Ok(Records::Full(self.full(full, kind, as_of).await?.1))
            }
        }
    }

    async fn chain<T: Record>(
        &self,
        kind: TargetKind,
        chain: &[(&TargetName, u64, u64)],
        as_of: &mut Option<Timestamp>,
    ) -> Result<Vec<Delta<T>>, RepoError> {
        let mut links = Vec::new();
        for &(name, from, to) in chain {
            let file = self.download(name).await?;
            let reader = RecordReader::open(file, kind).map_err(self.file_err())?;
            let h = reader.header().clone();
            if h.version != to || h.from_version != Some(from) {
                return Err(self.mismatch(kind, "delta versions"));
            }
            if to == self.version {
                check_header(&h, self.version, as_of).map_err(|what| self.mismatch(kind, what))?;
            }
            let (_, ops) = reader.collect_all::<DeltaOp<T>>().map_err(self.file_err())?;
            links.push(Delta {
                from,
                to,
                ops,
                total: h.total.ok_or_else(|| self.mismatch(kind, "delta total"))?,
            });
        }
        Ok(links)
    }
}

/// The deltas of `kind` from `held` to `version`, or none when the repository does not list
/// them all the way.
fn delta_chain<'d>(
    kind: TargetKind,
    deltas: &'d HashMap<(&'static str, u64), (TargetName, u64)>,
    held: Option<u64>,
    version: u64,
) -> Vec<(&'d TargetName, u64, u64)> {
    let mut chain = Vec::new();
    let mut at = held.filter(|h| *h < version);
    while let Some(from) = at.filter(|f| *f < version) {
        let Some((name, to)) = deltas.get(&(kind.as_str(), from)) else {
            return Vec::new();
        };
        chain.push((name, from, *to));
        at = Some(*to);
    }
    if at == Some(version) { chain } else { Vec::new() }
}

fn fleet_what(e: &FleetError) -> &'static str {
    match e {
        FleetError::BadGrant => "this appliance's grant does not open with its key",
        _ => "an unreadable grant",
    }
}

fn check_header(h: &RecordHeader, version: u64, as_of: &mut Option<Timestamp>) -> Result<(), &'static str> {
    if h.version != version {
        return Err("version");
    }
    match as_of {
        Some(t) if *t != h.as_of => Err("as_of differs between files"),
        _ => {
            *as_of = Some(h.as_of);
            Ok(())
        }
    }
}
