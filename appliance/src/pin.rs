//! The kiosk's admin PIN, kept only as a salted Argon2id hash (`[kiosk] admin_pin_hash`, a PHC
//! string): `certd set-pin` makes it, the kiosk checks a typed PIN against it
//! (docs/decisions/0019-admin-pin.md). The PIN itself is never stored, printed or logged.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// How many digits a PIN has.
pub const DIGITS: std::ops::RangeInclusive<usize> = 4..=12;

/// Argon2id with 32 MiB and 3 passes, one lane: about 0.1 s on an x86 core, a few tenths of a
/// second on a Raspberry Pi 4 — slow for a guesser with a copy of the file, short for someone
/// typing the PIN.
pub const MEMORY_KIB: u32 = 32 * 1024;
pub const PASSES: u32 = 3;
pub const LANES: u32 = 1;

/// The most a configured hash may ask for, so that a hash made elsewhere cannot make each PIN
/// check take the kiosk's memory or seconds.
const MAX_MEMORY_KIB: u32 = 256 * 1024;
const MAX_PASSES: u32 = 16;
const MAX_LANES: u32 = 8;

/// A PIN, or a hash, that cannot be used. Never holds the PIN.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("a PIN is 4 to 12 digits")]
    NotAPin,
    #[error("not a PHC string like \"$argon2id$v=19$m=32768,t=3,p=1$SALT$HASH\": {cause}")]
    NotAHash { cause: argon2::password_hash::Error },
    #[error("{problem} (run `certd set-pin` to make a new one)")]
    Unsupported { problem: String },
    #[error("cannot hash the PIN: {cause}")]
    Hashing { cause: argon2::password_hash::Error },
}

/// A validated Argon2id PHC string. Its `Debug` shows the parameters, not the salt or hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash(String);

impl std::fmt::Debug for PinHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params = self.0.split('$').nth(3).unwrap_or_default();
        write!(f, "PinHash(argon2id {params})")
    }
}

/// Whether `pin` has the form of a PIN: 4 to 12 ASCII digits.
pub fn is_pin(pin: &str) -> bool {
    DIGITS.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

impl PinHash {
    /// Hashes `pin` with a fresh random salt and [`MEMORY_KIB`], [`PASSES`], [`LANES`].
    pub fn new(pin: &str) -> Result<PinHash, PinError> {
        if !is_pin(pin) {
            return Err(PinError::NotAPin);
        }
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|e| PinError::Hashing { cause: e.into() })?;
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(pin.as_bytes())
            .map_err(|cause| PinError::Hashing { cause })?;
        Ok(PinHash(hash.to_string()))
    }

    /// A PHC string as found in the configuration: Argon2id, version 19, with a salt, a hash
    /// and parameters no greater than the kiosk can afford.
    pub fn parse(text: &str) -> Result<PinHash, PinError> {
        let hash = PasswordHash::new(text).map_err(|e| PinError::NotAHash { cause: e.into() })?;
        let unsupported = |problem: String| PinError::Unsupported { problem };
        if hash.algorithm.as_str() != "argon2id" {
            return Err(unsupported(format!("{} is not argon2id", hash.algorithm.as_str())));
        }
        if hash.version != Some(0x13) {
            return Err(unsupported("only Argon2 version 19 (v=19) is supported".to_owned()));
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err(unsupported("the salt or the hash is missing".to_owned()));
        }
        let params = Params::try_from(&hash).map_err(|cause| PinError::NotAHash { cause })?;
        if params.m_cost() > MAX_MEMORY_KIB || params.t_cost() > MAX_PASSES || params.p_cost() > MAX_LANES {
            return Err(unsupported(format!(
                "m={},t={},p={} asks for more than m={MAX_MEMORY_KIB},t={MAX_PASSES},p={MAX_LANES}",
                params.m_cost(),
                params.t_cost(),
                params.p_cost()
            )));
        }
        Ok(PinHash(text.to_owned()))
    }

    /// Whether `typed` is the PIN (in constant time as far as the hash goes; a typed text that
    /// is not a PIN at all is refused at once, which tells nothing of the PIN).
    pub fn matches(&self, typed: &str) -> bool {
        if !is_pin(typed) {
            return false;
        }
        match PasswordHash::new(&self.0) {
            Ok(hash) => Argon2::default().verify_password(typed.as_bytes(), &hash).is_ok(),
            Err(_) => false,
        }
    }

    /// The PHC string, as written into the configuration.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_hashes_salted_and_checks_only_itself() {
        let a = PinHash::new("246810").expect("hash");
        let b = PinHash::new("246810").expect("hash");
        assert!(
            a.as_str().starts_with("$argon2id$v=19$m=32768,t=3,p=1$"),
            "{}",
            a.as_str()
        );
        assert_ne!(a, b, "a fresh salt each time");
        assert!(!a.as_str().contains("246810"));
        for (typed, right) in [
            ("246810", true),
            ("24681", false),
            ("2468100", false),
            ("246811", false),
            ("", false),
            ("24681a", false),
        ] {
            assert_eq!(a.matches(typed), right, "{typed:?}");
        }
        let parsed = PinHash::parse(a.as_str()).expect("its own string parses");
        assert!(parsed.matches("246810") && b.matches("246810"));
        assert!(!format!("{a:?}").contains(a.as_str().rsplit('$').next().unwrap_or("-")));
    }

    #[test]
    fn only_pins_of_4_to_12_digits_are_hashed() {
        for pin in ["123", "1234567890123", "12a4", " 1234", "１２３４", ""] {
            assert!(matches!(PinHash::new(pin), Err(PinError::NotAPin)), "{pin:?}");
        }
        assert!(PinHash::new("1234").is_ok() && PinHash::new("123456789012").is_ok());
    }

    #[test]
    fn foreign_or_costly_hashes_are_refused() {
        let salt_and_hash = "c29tZXNhbHQxMjM0$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A";
        let ok = format!("$argon2id$v=19$m=19456,t=2,p=1${salt_and_hash}");
        assert!(PinHash::parse(&ok).is_ok(), "a cheaper Argon2id hash is fine");
        for bad in [
            "246810".to_owned(),
            String::new(),
            format!("$argon2i$v=19$m=19456,t=2,p=1${salt_and_hash}"),
            format!("$argon2id$v=16$m=19456,t=2,p=1${salt_and_hash}"),
            format!("$argon2id$v=19$m=4194304,t=2,p=1${salt_and_hash}"),
            format!("$argon2id$v=19$m=19456,t=100,p=1${salt_and_hash}"),
            "$argon2id$v=19$m=19456,t=2,p=1".to_owned(),
            "$pbkdf2-sha256$i=1000$c29tZXNhbHQ$aGFzaA".to_owned(),
        ] {
            let e = PinHash::parse(&bad).expect_err(&bad);
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }
}
