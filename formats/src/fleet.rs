//! The fleet envelope (issue 17, docs/decisions/0021-fleet-envelope.md): holder-linked targets
//! — the lookup index, revocations and cancellations — are encrypted to the appliances the
//! authority enrolled, so a mirror, a CDN or anyone who copies a USB stick learns no more than
//! their sizes.
//!
//! - Each appliance holds an X25519 key pair made at install ([`ApplianceKey`], `certd
//!   fleet-key --init`); the authority enrolls its public half.
//! - A publication's holder-linked files are sealed under one random [`ContentKey`]
//!   ([`seal`]): XChaCha20-Poly1305 in the STREAM construction (64 KiB chunks, a counter and a
//!   last-chunk flag in each nonce), so truncation, reordering and tampering are all caught,
//!   and a file of hundreds of MB is sealed and opened in constant memory.
//! - The `fleet_keys` target (a status file of [`Grant`]s, in the clear and signed like every
//!   target) carries the content key wrapped to each enrolled appliance with RFC 9180 HPKE
//!   (DHKEM-X25519-HKDF-SHA256, HKDF-SHA256, ChaCha20-Poly1305, base mode). Removing an
//!   appliance and rotating the content key cuts it off from every later publication.
//!
//! TUF authenticates the ciphertext (its hash is in the signed targets metadata); the AEAD is
//! what keeps the plaintext from anyone without an enrolled key.

use crate::hex;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use hpke::{Deserializable, Kem as _, Serializable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// The first bytes of a sealed file (a gzip file starts 1f 8b).
pub const MAGIC: &[u8; 8] = b"CKFLEET1";
/// Bytes of plaintext per chunk.
pub const CHUNK: usize = 64 * 1024;
/// What is sealed is the file, zero padding and the padding's length (8 bytes, big-endian),
/// a multiple of this in all: a file's size tells its length to the next 4 KiB only (a
/// revocation's reason text, a delta's few rows), not to the byte.
pub const PAD: usize = 4096;
const PAD_LEN_BYTES: usize = 8;
const TAG_BYTES: usize = 16;
const KEY_ID_BYTES: usize = 8;
/// Nonce bytes chosen per file; the other 5 of the 24 are the chunk counter and the last flag.
const PREFIX_BYTES: usize = 19;
const HEADER_BYTES: usize = MAGIC.len() + KEY_ID_BYTES + PREFIX_BYTES;
const HPKE_INFO: &[u8] = b"certkiosk/fleet/v1";

type Kem = hpke::kem::X25519HkdfSha256;
type HpkeKdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

/// Why a sealed file or a grant cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("sealed to fleet key {0}, which this appliance was not given")]
    UnknownKey(String),
    #[error("not a fleet envelope")]
    NotSealed,
    #[error("the envelope is damaged or cut short (chunk {0} does not authenticate)")]
    Damaged(u64),
    #[error("the envelope ends without its last chunk")]
    Truncated,
    #[error("the envelope's padding is not what a sealer writes")]
    BadPadding,
    #[error("a grant that does not open with this appliance's key")]
    BadGrant,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The id of a content key: 8 bytes of SHA-256 over it, in hex in grants and envelopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; KEY_ID_BYTES]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// The key a publication's holder-linked files are sealed with.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentKey {
    key: [u8; 32],
}

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ContentKey({})", self.id())
    }
}

impl ContentKey {
    pub fn generate() -> ContentKey {
        ContentKey { key: rand::random() }
    }

    pub fn from_bytes(key: [u8; 32]) -> ContentKey {
        ContentKey { key }
    }

    /// The raw key, for the authority's own store.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.key
    }

    pub fn id(&self) -> KeyId {
        let d = Sha256::new()
            .chain_update(b"certkiosk/fleet/content-key-id\0")
            .chain_update(self.key)
            .finalize();
        let mut id = [0; KEY_ID_BYTES];
        id.copy_from_slice(&d[..KEY_ID_BYTES]);
        KeyId(id)
    }
}

fn nonce(prefix: &[u8; PREFIX_BYTES], counter: u32, last: bool) -> XNonce {
    let mut n = [0u8; 24];
    n[..PREFIX_BYTES].copy_from_slice(prefix);
    n[PREFIX_BYTES..PREFIX_BYTES + 4].copy_from_slice(&counter.to_be_bytes());
    n[23] = u8::from(last);
    XNonce::from(n)
}

/// Whether `head` (a file's first bytes) starts a fleet envelope.
pub fn is_sealed(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// Seal `input` to `key` into `out`: the header (magic, key id, nonce prefix; also every
/// chunk's associated data), then the padded plaintext ([`PAD`]) in chunks of [`CHUNK`] bytes,
/// each followed by its tag; the last chunk is flagged, so a file cut at a chunk boundary does
/// not open.
pub fn seal(key: &ContentKey, input: impl Read, mut out: impl Write) -> std::io::Result<()> {
    let cipher = XChaCha20Poly1305::new(&key.key.into());
    let prefix: [u8; PREFIX_BYTES] = rand::random();
    let mut header = Vec::with_capacity(HEADER_BYTES);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&key.id().0);
    header.extend_from_slice(&prefix);
    out.write_all(&header)?;
    let mut padded = Padded::new(input);
    let mut chunk = vec![0u8; CHUNK];
    let mut counter: u32 = 0;
    loop {
        let filled = padded.fill(&mut chunk)?;
        let last = padded.done();
        let tag = cipher
            .encrypt_inout_detached(&nonce(&prefix, counter, last), &header, (&mut chunk[..filled]).into())
            .map_err(|_| std::io::Error::other("sealing a chunk failed"))?;
        out.write_all(&chunk[..filled])?;
        out.write_all(&tag)?;
        if last {
            return out.flush();
        }
        counter = counter
            .checked_add(1)
            .ok_or_else(|| std::io::Error::other("a file of more than 2^32 chunks"))?;
    }
}

/// The plaintext as sealed: the input, then zeros and their count, to a multiple of [`PAD`].
struct Padded<R> {
    input: R,
    read: u64,
    /// The padding and its length, once the input has ended; what of it is still to give.
    tail: Option<(Vec<u8>, usize)>,
}

impl<R: Read> Padded<R> {
    fn new(input: R) -> Self {
        Padded {
            input,
            read: 0,
            tail: None,
        }
    }

    /// Fill `buf` (a whole chunk) as far as the padded plaintext goes.
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        if self.tail.is_none() {
            n = fill(&mut self.input, buf)?;
            self.read += n as u64;
            if n == buf.len() {
                return Ok(n);
            }
            let used = (self.read as usize + PAD_LEN_BYTES) % PAD;
            let zeros = (PAD - used) % PAD;
            let mut tail = vec![0u8; zeros];
            tail.extend_from_slice(&(zeros as u64).to_be_bytes());
            self.tail = Some((tail, 0));
        }
        if let Some((tail, given)) = &mut self.tail {
            let k = (tail.len() - *given).min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&tail[*given..*given + k]);
            *given += k;
            n += k;
        }
        Ok(n)
    }

    /// Everything, padding included, has been given.
    fn done(&self) -> bool {
        self.tail.as_ref().is_some_and(|(t, given)| *given == t.len())
    }
}

/// The key id a sealed file names, read from its header.
pub fn sealed_key_id(head: &[u8]) -> Option<KeyId> {
    if !is_sealed(head) || head.len() < MAGIC.len() + KEY_ID_BYTES {
        return None;
    }
    let mut id = [0; KEY_ID_BYTES];
    id.copy_from_slice(&head[MAGIC.len()..MAGIC.len() + KEY_ID_BYTES]);
    Some(KeyId(id))
}

/// Open a sealed file into `out` with the first of `keys` whose id it names; the bytes of the
/// file as it was sealed. Nothing written to `out` is to be trusted until this returns `Ok`:
/// a damaged chunk is found only when it is reached.
pub fn open(keys: &[ContentKey], mut input: impl Read, mut out: impl Write) -> Result<u64, FleetError> {
    let mut header = [0u8; HEADER_BYTES];
    if fill(&mut input, &mut header)? != HEADER_BYTES || !is_sealed(&header) {
        return Err(FleetError::NotSealed);
    }
    let id = sealed_key_id(&header).ok_or(FleetError::NotSealed)?;
    let key = keys
        .iter()
        .find(|k| k.id() == id)
        .ok_or_else(|| FleetError::UnknownKey(id.to_string()))?;
    let mut prefix = [0u8; PREFIX_BYTES];
    prefix.copy_from_slice(&header[MAGIC.len() + KEY_ID_BYTES..]);
    let cipher = XChaCha20Poly1305::new(&key.key.into());
    let sealed_chunk = CHUNK + TAG_BYTES;
    let mut buf = vec![0u8; sealed_chunk];
    // The last bytes opened are held back until the end: the padding is among them.
    const KEEP: usize = PAD + PAD_LEN_BYTES;
    let mut held: Vec<u8> = Vec::with_capacity(CHUNK + KEEP);
    let mut filled = fill(&mut input, &mut buf)?;
    let mut counter: u32 = 0;
    let mut written = 0u64;
    loop {
        if filled < TAG_BYTES {
            return Err(FleetError::Truncated);
        }
        let mut next = [0u8; 1];
        let more = filled == sealed_chunk && fill(&mut input, &mut next)? == 1;
        let (body, tag) = buf[..filled].split_at_mut(filled - TAG_BYTES);
        let tag = Tag::try_from(&*tag).map_err(|_| FleetError::Damaged(counter.into()))?;
        cipher
            .decrypt_inout_detached(&nonce(&prefix, counter, !more), &header, body.into(), &tag)
            .map_err(|_| {
                if more {
                    FleetError::Damaged(counter.into())
                } else {
                    // The flag is part of the nonce: a file cut after a full chunk fails here.
                    FleetError::Truncated
                }
            })?;
        held.extend_from_slice(body);
        if held.len() > KEEP {
            let release = held.len() - KEEP;
            out.write_all(&held[..release])?;
            written += release as u64;
            held.drain(..release);
        }
        if !more {
            break;
        }
        counter = counter.checked_add(1).ok_or(FleetError::Damaged(counter.into()))?;
        buf[0] = next[0];
        filled = 1 + fill(&mut input, &mut buf[1..])?;
    }
    // The padding ends the plaintext: zeros and their count, the whole a multiple of PAD.
    let total = written + held.len() as u64;
    let pad = held
        .len()
        .checked_sub(PAD_LEN_BYTES)
        .map(|at| {
            let mut n = [0u8; PAD_LEN_BYTES];
            n.copy_from_slice(&held[at..]);
            (at, u64::from_be_bytes(n))
        })
        .filter(|&(at, zeros)| zeros < PAD as u64 && zeros <= at as u64 && total.is_multiple_of(PAD as u64))
        .map(|(at, zeros)| at - zeros as usize)
        .filter(|&end| held[end..held.len() - PAD_LEN_BYTES].iter().all(|b| *b == 0));
    let end = pad.ok_or(FleetError::BadPadding)?;
    out.write_all(&held[..end])?;
    out.flush()?;
    Ok(written + end as u64)
}

/// Read until `buf` is full or the input ends; the bytes read.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// An appliance's fleet key pair: the private half stays in its key file, the public half
/// ([`ApplianceKey::public_hex`]) is what the authority enrolls.
#[derive(Clone)]
pub struct ApplianceKey {
    private: <Kem as hpke::Kem>::PrivateKey,
}

impl std::fmt::Debug for ApplianceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApplianceKey({})", self.public_hex())
    }
}

/// The first line of a key file, so that a file mistaken for one (or one for another purpose)
/// is refused by name.
const KEY_FILE_LABEL: &str = "certkiosk fleet key v1";

impl ApplianceKey {
    pub fn generate() -> ApplianceKey {
        let (private, _) = Kem::gen_keypair();
        ApplianceKey { private }
    }

    /// The public half, 64 hex digits.
    pub fn public_hex(&self) -> String {
        hex(&Kem::sk_to_pk(&self.private).to_bytes())
    }

    /// This appliance's line among a publication's grants, if it is enrolled there.
    pub fn grant_in<'g>(&self, grants: &'g [Grant]) -> Option<&'g Grant> {
        let public = self.public_hex();
        grants.iter().find(|g| g.appliance.eq_ignore_ascii_case(&public))
    }

    /// The key file's text: a label line and the private key in hex.
    pub fn to_file_text(&self) -> String {
        format!("{KEY_FILE_LABEL}\n{}\n", hex(&self.private.to_bytes()))
    }

    /// A key file's text; the error never repeats the file's content.
    pub fn from_file_text(text: &str) -> Result<ApplianceKey, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(KEY_FILE_LABEL) {
            return Err(format!(
                "not a fleet key file (its first line is not {KEY_FILE_LABEL:?})"
            ));
        }
        let bytes = lines
            .next()
            .and_then(|l| unhex32(l.trim()))
            .ok_or("the key line is not 64 hex digits")?;
        if lines.any(|l| !l.trim().is_empty()) {
            return Err("lines after the key".into());
        }
        let private = <Kem as hpke::Kem>::PrivateKey::from_bytes(&bytes).map_err(|_| "not an X25519 key")?;
        Ok(ApplianceKey { private })
    }
}

/// One line of the `fleet_keys` target: the content key wrapped to one enrolled appliance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The appliance's public key, 64 hex digits.
    pub appliance: String,
    /// The content key's id, 16 hex digits.
    pub key_id: String,
    /// HPKE's encapsulated key, 64 hex digits.
    pub enc: String,
    /// The content key sealed by HPKE (32 bytes and a 16-byte tag), in hex.
    pub sealed: String,
}

impl Grant {
    /// `key` wrapped to the appliance whose public key is `appliance` (64 hex digits).
    pub fn wrap(key: &ContentKey, appliance: &str) -> Result<Grant, String> {
        let public = canonical_public_key(appliance)?;
        let appliance = &hex(&public);
        let public = <Kem as hpke::Kem>::PublicKey::from_bytes(&public)
            .map_err(|_| "an appliance key is 64 hex digits of an X25519 public key".to_owned())?;
        let id = key.id();
        let (enc, sealed) = hpke::single_shot_seal::<HpkeAead, HpkeKdf, Kem>(
            &hpke::OpModeS::Base,
            &public,
            HPKE_INFO,
            &key.key,
            &grant_aad(&id, appliance),
        )
        .map_err(|e| format!("wrapping the fleet key: {e}"))?;
        Ok(Grant {
            appliance: appliance.to_owned(),
            key_id: id.to_string(),
            enc: hex(&enc.to_bytes()),
            sealed: hex(&sealed),
        })
    }

    /// The content key, unwrapped with the appliance's private key; its id must be the one the
    /// grant names.
    pub fn unwrap(&self, me: &ApplianceKey) -> Result<ContentKey, FleetError> {
        let enc = unhex32(&self.enc)
            .and_then(|b| <Kem as hpke::Kem>::EncappedKey::from_bytes(&b).ok())
            .ok_or(FleetError::BadGrant)?;
        let sealed = crate::unhex::<48>(&self.sealed).ok_or(FleetError::BadGrant)?;
        let aad = grant_aad_hex(&self.key_id, &self.appliance);
        let key = hpke::single_shot_open::<HpkeAead, HpkeKdf, Kem>(
            &hpke::OpModeR::Base,
            &me.private,
            &enc,
            HPKE_INFO,
            &sealed,
            &aad,
        )
        .map_err(|_| FleetError::BadGrant)?;
        let key: [u8; 32] = key.try_into().map_err(|_| FleetError::BadGrant)?;
        let key = ContentKey { key };
        if key.id().to_string() != self.key_id {
            return Err(FleetError::BadGrant);
        }
        Ok(key)
    }
}

/// The 32 bytes of an appliance's public key as `certd fleet-key` prints it, refusing every
/// other spelling of the same key: X25519 ignores the top bit and reduces modulo 2²⁵⁵ − 19, so
/// without this one key could be enrolled twice (and a removed key come back as its twin).
pub fn canonical_public_key(appliance: &str) -> Result<[u8; 32], String> {
    let bytes = unhex32(appliance).ok_or("an appliance key is 64 hex digits")?;
    // Little-endian u < p = 2^255 - 19: the top bit clear, and not p … 2^255 - 1.
    let top_bit = bytes[31] & 0x80 != 0;
    let at_least_p = bytes[31] == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[0] >= 0xed;
    if top_bit || at_least_p {
        return Err("not the canonical form of an X25519 public key (as `certd fleet-key` prints it)".into());
    }
    Ok(bytes)
}

/// Binds a grant to its key id and its appliance, so a grant cannot be moved to another line.
fn grant_aad(id: &KeyId, appliance: &str) -> Vec<u8> {
    grant_aad_hex(&id.to_string(), appliance)
}

fn grant_aad_hex(id: &str, appliance: &str) -> Vec<u8> {
    format!("{id}\0{}", appliance.to_ascii_lowercase()).into_bytes()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    crate::unhex::<32>(s)
}

#[cfg(test)]
mod tests;
