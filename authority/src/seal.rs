//! The authority's seal signer: a seal key that turns claims into a `CK1:` credential.

use certkiosk_formats::credential::{Claims, encode_claims, seal_with};
use certkiosk_formats::trust::KeyId;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use std::fmt;

/// A seal key able to sign credentials.
pub struct SealSigner {
    pub key_id: KeyId,
    key: SigningKey,
}

impl fmt::Debug for SealSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key is never printed.
        f.debug_struct("SealSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SealSigner {
    pub fn new(key: SigningKey) -> Self {
        SealSigner {
            key_id: KeyId::of(&key.verifying_key()),
            key,
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Seal `claims` into the `CK1:` string form.
    pub fn seal(&self, claims: &Claims) -> String {
        self.seal_payload(encode_claims(claims))
    }

    /// Seal arbitrary payload bytes. The authority only ever seals [`encode_claims`]; tests and
    /// fuzzers use this to craft genuinely sealed but malformed credentials.
    pub fn seal_payload(&self, payload: Vec<u8>) -> String {
        seal_with(self.key_id, payload, |tbs| self.key.sign(tbs).to_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certkiosk_formats::credential::Envelope;

    #[test]
    fn the_signer_never_prints_its_private_key() {
        let signer = SealSigner::new(SigningKey::from_bytes(&[0x2a; 32]));
        let shown = format!("{signer:?}");
        assert!(shown.contains("key_id") && !shown.contains("42, 42"), "{shown}");
    }

    #[test]
    fn what_it_seals_verifies_under_its_key() {
        let signer = SealSigner::new(SigningKey::from_bytes(&[7; 32]));
        let env = Envelope::parse(&signer.seal(&Claims::example())).expect("parse");
        env.verify(&signer.verifying_key()).expect("genuine");
        assert_eq!(env.claims().expect("claims"), Claims::example());
    }
}
