//! What private state keeps of a password: a salted hash, and a rotation left half done.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A rotation left half done: MySQL holds the password whose hash this is, `DATABASE_URL`
/// does not.
#[derive(Serialize, Deserialize)]
pub(super) struct Pending {
    pub(super) digest: PasswordDigest,
    /// The Heroku error, for the plan's warning.
    pub(super) reason: String,
}

/// A salted SHA-256 of a password, to recognise it later without keeping it.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct PasswordDigest {
    pub(super) salt: String,
    pub(super) sha256: String,
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl PasswordDigest {
    pub(super) fn of(password: &str) -> PasswordDigest {
        let mut salt = [0u8; 16];
        // Without randomness a fixed salt still hides the password; it only loses the
        // protection against precomputed tables.
        if getrandom::fill(&mut salt).is_err() {
            salt = *b"treeherder-salt!";
        }
        let salt = hex(&salt);
        let sha256 = Self::hash(&salt, password);
        PasswordDigest { salt, sha256 }
    }

    pub(super) fn hash(salt: &str, password: &str) -> String {
        hex(&Sha256::new()
            .chain_update(salt.as_bytes())
            .chain_update(password.as_bytes())
            .finalize())
    }

    pub(super) fn matches(&self, password: &str) -> bool {
        Self::hash(&self.salt, password) == self.sha256
    }
}
