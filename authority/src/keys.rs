//! Ed25519 key files, and their use as tough signing keys.
//!
//! Every authority key — the four TUF roles and each seal — is one Ed25519 key stored as a
//! PKCS#8 PEM file (mode 0600), readable by OpenSSL. One crypto library, ed25519-dalek, signs
//! both credentials and TUF metadata; tough verifies the metadata on the appliance.

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use std::fmt;
use std::path::{Path, PathBuf};
use tough::async_trait;
use tough::key_source::KeySource;
use tough::schema::key::{Ed25519Key, Ed25519Scheme, Key};
use tough::sign::Sign;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("key file {path} is not an Ed25519 PKCS#8 PEM key")]
    Parse { path: PathBuf },
    #[error("cannot write key file {path}: {cause}")]
    Write { path: PathBuf, cause: std::io::Error },
    #[error("key file {path} already exists; refusing to overwrite a private key")]
    Exists { path: PathBuf },
}

/// A fresh key from the operating system's random source.
pub fn generate() -> SigningKey {
    SigningKey::from_bytes(&rand::random::<[u8; 32]>())
}

/// Write `key` to a new file at `path`, readable only by its owner.
pub fn write_key(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|_| KeyFileError::Parse { path: path.to_owned() })?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => KeyFileError::Exists { path: path.to_owned() },
            _ => KeyFileError::Write {
                path: path.to_owned(),
                cause: source,
            },
        })?;
    f.write_all(pem.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|source| KeyFileError::Write {
            path: path.to_owned(),
            cause: source,
        })
}

pub fn read_key(path: &Path) -> Result<SigningKey, KeyFileError> {
    let pem = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: path.to_owned(),
        cause: source,
    })?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|_| KeyFileError::Parse { path: path.to_owned() })
}

/// The TUF form of an Ed25519 public key.
pub fn tuf_key(key: &SigningKey) -> Key {
    Key::Ed25519 {
        keyval: Ed25519Key {
            public: key.verifying_key().as_bytes().to_vec().into(),
            _extra: Default::default(),
        },
        scheme: Ed25519Scheme::Ed25519,
        _extra: Default::default(),
    }
}

/// A key held in memory, usable wherever tough wants a [`KeySource`].
#[derive(Clone)]
pub struct TufSigner(pub SigningKey);

impl fmt::Debug for TufSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("TufSigner").finish_non_exhaustive()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[async_trait]
impl Sign for TufSigner {
    fn tuf_key(&self) -> Key {
        tuf_key(&self.0)
    }

    async fn sign(&self, msg: &[u8], _rng: &(dyn aws_lc_rs::rand::SecureRandom + Sync)) -> Result<Vec<u8>, BoxError> {
        use ed25519_dalek::Signer;
        Ok(self.0.sign(msg).to_bytes().to_vec())
    }
}

#[async_trait]
impl KeySource for TufSigner {
    async fn as_sign(&self) -> Result<Box<dyn Sign>, BoxError> {
        Ok(Box::new(self.clone()))
    }

    async fn write(&self, _value: &str, _key_id_hex: &str) -> Result<(), BoxError> {
        Err("in-memory signing keys are not written back".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_and_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.pem");
        let key = generate();
        write_key(&path, &key).expect("write");
        assert_eq!(read_key(&path).expect("read").to_bytes(), key.to_bytes());
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(write_key(&path, &key), Err(KeyFileError::Exists { .. })));
        std::fs::write(&path, "garbage").expect("write");
        assert!(matches!(read_key(&path), Err(KeyFileError::Parse { .. })));
    }

    #[test]
    fn debug_output_never_contains_key_material() {
        let key = SigningKey::from_bytes(&[0xAB; 32]);
        let shown = format!("{:?}", TufSigner(key));
        assert!(
            !shown.to_lowercase().contains("ab, ") && !shown.contains("171"),
            "{shown}"
        );
    }
}
