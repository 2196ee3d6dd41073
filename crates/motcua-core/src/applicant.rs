//! Who applies: the applicant's type, a pseudonymous key derived from their identifier, and
//! whether they signed in through the national identity account (VNeID).
//!
//! A citizen identity number (CCCD) or a tax code never enters a command, an event, a
//! projection or a report: at the boundary it is validated and turned into an [`ApplicantKey`],
//! a keyed hash (HMAC-SHA256 under the province's [`IdentityKey`]). The key answers what a
//! dossier needs to know — is this the same applicant, is this result theirs — and nothing
//! more: without the province's secret it cannot be recomputed, so a CCCD's small number space
//! cannot be searched offline from a copy of the store (Decree 13/2023/NĐ-CP on personal data:
//! an identity number is personal data, processed only as needed).

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::ids::{Cccd, IdError, TaxCode};

/// What kind of applicant (the portal's `LoaiDoiTuong`: 0 citizen, 1 enterprise, 2 household
/// business; docs/sources.md §3.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    /// A citizen (identified by CCCD).
    Citizen,
    /// An organisation or enterprise (identified by tax code).
    Organisation,
    /// A household business (identified by its tax code, or its owner's CCCD).
    HouseholdBusiness,
}

/// An applicant's identifier as presented: a CCCD or a tax code. Validated; masked in `Debug`;
/// never stored — only its [`ApplicantKey`] is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Identifier {
    /// A citizen identity number.
    Cccd(Cccd),
    /// A tax code.
    Tax(TaxCode),
}

impl Identifier {
    /// The text hashed: the kind and the digits, so a CCCD and a tax code of the same digits
    /// (an individual's tax code is their CCCD since 2025) are the same person.
    fn canonical(&self) -> String {
        match self {
            Identifier::Cccd(c) | Identifier::Tax(TaxCode::Individual(c)) => format!("person:{}", c.expose()),
            Identifier::Tax(TaxCode::Enterprise { code, branch }) => match branch {
                Some(b) => format!("tax:{code}-{b}"),
                None => format!("tax:{code}"),
            },
        }
    }
}

impl FromStr for Identifier {
    type Err = IdError;
    /// 12 digits: a CCCD; otherwise a tax code (10 digits with its check digit, optionally
    /// `-` and a 3-digit branch).
    fn from_str(s: &str) -> Result<Identifier, IdError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map(Identifier::Cccd)
        } else {
            s.parse().map(Identifier::Tax)
        }
    }
}

/// The province's secret for applicant keys: at least 32 bytes, never logged (`Debug` shows
/// nothing of it). Rotating it changes every key: keep it as long as the store.
#[derive(Clone)]
pub struct IdentityKey(Vec<u8>);

/// The shortest [`IdentityKey`] accepted, in bytes.
pub const MIN_IDENTITY_KEY_BYTES: usize = 32;

/// A secret too short to key applicants' identifiers ([`IdentityKey::new`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("an identity key needs at least {MIN_IDENTITY_KEY_BYTES} bytes, this one has {len}")]
pub struct ShortIdentityKey {
    /// The secret's length in bytes.
    pub len: usize,
}

impl IdentityKey {
    /// A key from secret bytes; [`ShortIdentityKey`] when shorter than
    /// [`MIN_IDENTITY_KEY_BYTES`].
    ///
    /// ```
    /// use motcua_core::{IdentityKey, MIN_IDENTITY_KEY_BYTES};
    /// assert!(IdentityKey::new(&[7u8; MIN_IDENTITY_KEY_BYTES]).is_ok());
    /// let short = IdentityKey::new(b"secret").unwrap_err();
    /// assert_eq!(short.to_string(), "an identity key needs at least 32 bytes, this one has 6");
    /// ```
    pub fn new(secret: &[u8]) -> Result<IdentityKey, ShortIdentityKey> {
        if secret.len() < MIN_IDENTITY_KEY_BYTES {
            return Err(ShortIdentityKey { len: secret.len() });
        }
        Ok(IdentityKey(secret.to_vec()))
    }

    /// The pseudonymous key of `id`: HMAC-SHA256 under this key, its first 16 bytes in hex.
    pub fn applicant_key(&self, id: &Identifier) -> ApplicantKey {
        // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return ApplicantKey(String::new());
        };
        mac.update(id.canonical().as_bytes());
        ApplicantKey(keyed_hex("k1", &mac.finalize().into_bytes()))
    }
}

impl IdentityKey {
    /// The pseudonymous actor id of a citizen's account (a VNeID or portal account id, which
    /// may be their CCCD): `a1` and 32 hex digits of HMAC-SHA256 under this key. The same
    /// account always gets the same id, so a citizen signing in later is the applicant of the
    /// dossiers submitted for them; an id that [`looks_like_identifier`] is keyed by its digits,
    /// so spaces, separators, prefixes or invisible characters make no other account of it.
    pub fn account_id(&self, account: &str) -> crate::ActorId {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return crate::ActorId(std::sync::Arc::from(""));
        };
        mac.update(b"account:");
        if looks_like_identifier(account) {
            let digits: String = account.chars().filter(|c| c.is_numeric()).collect();
            mac.update(b"digits:");
            mac.update(digits.as_bytes());
        } else {
            mac.update(account.trim().as_bytes());
        }
        crate::ActorId(std::sync::Arc::from(keyed_hex("a1", &mac.finalize().into_bytes())))
    }

    /// A key derived from another secret for a purpose (HMAC-SHA256 of `purpose` under it), for
    /// a server that was given no identity key but must still key account ids.
    pub fn derived(secret: &[u8], purpose: &str) -> IdentityKey {
        match Hmac::<Sha256>::new_from_slice(secret) {
            Ok(mut mac) => {
                mac.update(purpose.as_bytes());
                IdentityKey(mac.finalize().into_bytes().to_vec())
            }
            Err(_) => IdentityKey(purpose.as_bytes().to_vec()),
        }
    }
}

/// `prefix` and the first 16 bytes of `digest` in lowercase hex: a key's text.
fn keyed_hex(prefix: &str, digest: &[u8]) -> String {
    use std::fmt::Write;
    let mut hex = String::with_capacity(prefix.len() + 32);
    hex.push_str(prefix);
    for b in digest.iter().take(16) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Whether `text` holds what may be a personal identifier: after removing spaces, separators,
/// punctuation and invisible characters, a run of 10 or more digits (a CCCD has 12, a tax code
/// 10 or 13 with its branch, a phone number 10). Letters end a run, so a prefix such as
/// `cccd:` hides nothing. Such a text is never stored, logged or shown as it is.
pub fn looks_like_identifier(text: &str) -> bool {
    let mut run = 0usize;
    for c in text.chars() {
        if c.is_numeric() {
            // ASCII digits, and any other script's (fullwidth, Arabic-Indic…).
            run += 1;
            if run >= 10 {
                return true;
            }
        } else if c.is_alphabetic() {
            run = 0;
        }
        // Anything else (spaces, separators, punctuation, format and control characters)
        // is skipped: it neither counts nor ends a run.
    }
    false
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityKey(…)")
    }
}

/// A pseudonymous applicant key: `k1` and 32 hex digits (a keyed hash of the identifier; see
/// the module). Safe to store, log and show.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApplicantKey(String);

impl ApplicantKey {
    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's 16 bytes (what stores keep and index instead of its 34 characters); none for
    /// a key that is not `k1` and 32 hex digits (only the empty key a failed HMAC gives).
    pub fn to_bytes(&self) -> Option<[u8; 16]> {
        let hex = self.0.strip_prefix("k1")?;
        let mut out = [0u8; 16];
        if hex.len() != 32 {
            return None;
        }
        for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(out)
    }

    /// The key whose [`ApplicantKey::to_bytes`] are `bytes`.
    pub fn from_bytes(bytes: [u8; 16]) -> ApplicantKey {
        ApplicantKey(keyed_hex("k1", &bytes))
    }
}

impl fmt::Display for ApplicantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ApplicantKey {
    type Err = IdError;
    fn from_str(s: &str) -> Result<ApplicantKey, IdError> {
        let ok = s.len() == 34
            && s.starts_with("k1")
            && s[2..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if ok {
            Ok(ApplicantKey(s.to_string()))
        } else {
            Err(crate::ids::id_error("applicant key", s, "expected k1 and 32 lowercase hex digits"))
        }
    }
}

impl TryFrom<String> for ApplicantKey {
    type Error = IdError;
    fn try_from(s: String) -> Result<ApplicantKey, IdError> {
        s.parse()
    }
}

impl From<ApplicantKey> for String {
    fn from(k: ApplicantKey) -> String {
        k.0
    }
}

/// Who applies for a dossier, as commands and events carry it: no identifier, only its key.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Applicant {
    /// Citizen, organisation or household business.
    pub kind: ApplicantKind,
    /// The pseudonymous key of their identifier.
    pub key: ApplicantKey,
    /// Signed in through the national identity account (VNeID) when submitting (Decision 766,
    /// 4.5: use of population data).
    #[serde(default)]
    pub vneid: bool,
}

impl Applicant {
    /// The applicant presenting `id`, keyed under `key`.
    pub fn new(kind: ApplicantKind, id: &Identifier, key: &IdentityKey, vneid: bool) -> Applicant {
        Applicant { kind, key: key.applicant_key(id), vneid }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn key() -> IdentityKey {
        IdentityKey::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn keys_hide_the_identifier_and_tell_applicants_apart() {
        let id: Identifier = "001203004567".parse().unwrap();
        let k = key().applicant_key(&id);
        assert_eq!(k.as_str().len(), 34);
        assert!(!k.as_str().contains("001203004567"));
        assert_eq!(k, key().applicant_key(&id), "deterministic");
        let other: Identifier = "001203004568".parse().unwrap();
        assert_ne!(k, key().applicant_key(&other));
        // Another province's secret gives another key.
        assert_ne!(k, IdentityKey::new(&[8u8; 32]).unwrap().applicant_key(&id));
        // An individual's tax code is their CCCD: the same person.
        let tax = Identifier::Tax(TaxCode::Individual("001203004567".parse().unwrap()));
        assert_eq!(k, key().applicant_key(&tax));
        assert_eq!(IdentityKey::new(b"short").unwrap_err(), ShortIdentityKey { len: 5 });
        assert_eq!(format!("{:?}", key()), "IdentityKey(…)");
        assert!(!format!("{id:?}").contains("001203004567"), "masked: {id:?}");
        assert!("0101243150".parse::<Identifier>().is_ok(), "a tax code with its check digit");
        assert!("0101243151".parse::<Identifier>().is_err());
        assert!("k1zz".parse::<ApplicantKey>().is_err());
        let bytes = k.to_bytes().unwrap();
        assert_eq!(ApplicantKey::from_bytes(bytes), k);
        assert_eq!(ApplicantKey(String::new()).to_bytes(), None);
        assert_eq!(k.as_str().parse::<ApplicantKey>().unwrap(), k);
    }

    proptest! {
        /// Distinct CCCDs get distinct keys (no collision among what a province issues), and a
        /// key never contains the number.
        #[test]
        fn distinct_numbers_distinct_keys(a in 1u64..96_999_999_999, b in 1u64..96_999_999_999) {
            let (a, b) = (format!("{:012}", 1_000_000_000 + a % 95_000_000_000), format!("{:012}", 1_000_000_000 + b % 95_000_000_000));
            let (ia, ib): (Identifier, Identifier) = (a.parse().unwrap(), b.parse().unwrap());
            let (ka, kb) = (key().applicant_key(&ia), key().applicant_key(&ib));
            prop_assert_eq!(a == b, ka == kb);
            prop_assert!(!ka.as_str().contains(&a[3..]));
        }
    }
}
