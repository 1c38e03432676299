//! A key set: one active signing key and any number of verify-only keys, each with a kid.

use std::path::Path;

use crate::algorithm::Algorithm;
use crate::error::{Error, json_error_category};
use crate::json::object_only::ObjectOnly;
use crate::jwk::{JwkIn, JwkOut, JwkSetIn, JwkSetOut};
use crate::key::Key;
use crate::kid::Kid;

/// The environment variable [`KeySet::from_env`] reads by default.
pub const KEYS_ENV: &str = "TESSERA_KEYS";

/// The most keys a key set holds: [`KeySet::insert`] (and so `rotate` and `add`) refuses one
/// more, and [`KeySet::from_json`] refuses a document that lists more (`invalid_key`). Far
/// above any rotation schedule (a key a week for twenty years fits), it bounds the work of
/// loading a set, whose checks compare each new key with every key already held.
///
/// ```
/// use tessera_protocol::{Algorithm, ErrorCode, KeySet, MAX_KEYS};
/// let mut keys = KeySet::new();
/// for _ in 0..MAX_KEYS {
///     keys.add(Algorithm::Hs256)?;
/// }
/// assert_eq!(keys.add(Algorithm::Hs256).unwrap_err().code(), ErrorCode::InvalidKey);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
pub const MAX_KEYS: usize = 1024;

/// The largest key set document, in bytes, that [`KeySet::from_json`],
/// [`KeySet::from_public_jwks`], [`KeySet::from_file`] and [`KeySet::from_env`] read: checked
/// before parsing (a file is not read past it). [`MAX_KEYS`] keys of any kind fit in a
/// fraction of it.
///
/// ```
/// use tessera_protocol::{ErrorCode, KeySet, MAX_KEY_SET_BYTES};
/// let padded = format!(r#"{{"keys": []}}{}"#, " ".repeat(MAX_KEY_SET_BYTES));
/// assert_eq!(KeySet::from_json(&padded).unwrap_err().code(), ErrorCode::InvalidKey);
/// ```
pub const MAX_KEY_SET_BYTES: usize = 1024 * 1024;

/// How many times [`KeySet::rotate`] draws a random kid before giving up on collisions.
const KID_DRAWS: usize = 32;

// A name that is not a kid of the set is never quoted: it could be anything the caller or the
// file's author put there, a pasted secret included (found by the key_set fuzz target: an
// "active" member holding a key's "k"). Messages name only kids that exist in the set.
const UNKNOWN_ACTIVE: &str = "the key named as active (\"active\") is not in the key set";
const UNKNOWN_ACTIVE_SEALING: &str =
    "the key named as active for sealing (\"active_sealing\") is not in the key set";
const UNKNOWN_TO_RETIRE: &str = "the key to retire is not in the key set";

/// The keys of one issuer: at most one *active* key that mints, and older keys kept for
/// verification so that rotation never breaks tokens already issued.
///
/// Stored as a JWK Set (RFC 7517) with an `active` member naming the signing key. `Debug` never
/// prints key material.
///
/// ```
/// use tessera_protocol::{Algorithm, KeySet};
/// let mut keys = KeySet::generate(Algorithm::Hs256)?;
/// let first = keys.active().unwrap().kid().clone();
/// let second = keys.rotate(Algorithm::EdDsa)?;      // new active key; the first still verifies
/// assert_eq!(keys.active().unwrap().kid(), &second);
/// assert!(keys.get(first.as_str()).is_some());
/// keys.retire(&first)?;                              // now tokens from it fail with unknown_key
/// assert!(keys.get(first.as_str()).is_none());
/// // Round trip through the file format.
/// let again = KeySet::from_json(&keys.to_private_json())?;
/// assert_eq!(again.active().unwrap().kid(), &second);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    active: Option<usize>,
    active_sealing: Option<usize>,
}

impl KeySet {
    /// An empty set (verifies nothing, mints nothing); add keys with [`KeySet::insert`].
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, Key, KeySet, Kid};
    /// let mut keys = KeySet::new();
    /// assert!(keys.is_empty() && keys.active().is_none());
    /// keys.insert(Key::generate(Algorithm::Hs256, Kid::new("k1")?)?)?;
    /// assert_eq!(keys.len(), 1);
    /// assert!(keys.active().is_none()); // inserted keys only verify until made active
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn new() -> KeySet {
        KeySet::default()
    }

    /// A set with one freshly generated active key of `alg` and a random kid.
    pub fn generate(alg: Algorithm) -> Result<KeySet, Error> {
        let mut set = KeySet::new();
        set.rotate(alg)?;
        Ok(set)
    }

    /// A set holding `key` as its active key. A key that cannot sign (a sealing key, or an
    /// Ed25519 public key alone) is refused with `invalid_key`.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, Key, KeySet, Kid};
    /// let keys = KeySet::with_active(Key::hs256(Kid::new("k1")?, &[42u8; 32])?)?;
    /// assert_eq!(keys.active().unwrap().kid().as_str(), "k1");
    /// let err = KeySet::with_active(Key::a256gcm(Kid::new("enc1")?, &[9u8; 32])?).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_active(key: Key) -> Result<KeySet, Error> {
        let mut set = KeySet::new();
        let kid = key.kid().clone();
        set.insert(key)?;
        set.set_active(&kid)?;
        Ok(set)
    }

    /// Parses a JWK Set document. Unknown members, `null` members, duplicate kids, short HMAC
    /// secrets, inconsistent Ed25519 pairs, Ed25519 public keys of small order, keys without
    /// `alg`, one secret used both to sign and to seal, and an HMAC secret that is an Ed25519
    /// public key of the set are refused with `invalid_key`; the message never quotes key
    /// material.
    /// This is the key-file format, secrets included: for a document published by an issuer
    /// and fetched from it, use [`KeySet::from_public_jwks`].
    ///
    /// ```
    /// use tessera_protocol::{ErrorCode, KeySet};
    /// let k = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"; // 32 bytes, base64url
    /// let doc = format!(r#"{{"keys":[{{"kty":"oct","kid":"a1","alg":"HS256","k":"{k}"}}],"active":"a1"}}"#);
    /// let keys = KeySet::from_json(&doc)?;
    /// assert_eq!(keys.active().unwrap().kid().as_str(), "a1");
    /// let err = KeySet::from_json(&doc.replace("HS256", "HS512")).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// assert!(!err.to_string().contains(k));
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<KeySet, Error> {
        if json.len() > MAX_KEY_SET_BYTES {
            return Err(Error::invalid_key(format!(
                "the key set document is {} bytes, more than the {MAX_KEY_SET_BYTES} allowed",
                json.len()
            )));
        }
        let ObjectOnly(doc): ObjectOnly<JwkSetIn> = serde_json::from_str(json).map_err(|e| {
            Error::invalid_key(format!(
                "not a tessera JWK Set ({} at line {} column {})",
                json_error_category(&e),
                e.line(),
                e.column()
            ))
        })?;
        if doc.keys.len() > MAX_KEYS {
            return Err(Error::invalid_key(format!(
                "the key set lists {} keys, more than the {MAX_KEYS} allowed",
                doc.keys.len()
            )));
        }
        let mut set = KeySet::new();
        for ObjectOnly(jwk) in doc.keys {
            set.insert(JwkIn::into_key(jwk)?)?;
        }
        if let Some(active) = doc.active {
            let kid = Kid::new(active)?;
            set.set_active(&kid)?;
        }
        if let Some(active) = doc.active_sealing {
            let kid = Kid::new(active)?;
            set.set_active_sealing(&kid)?;
        }
        Ok(set)
    }

    /// Parses a key set **published** by an issuer, such as the document its
    /// `/.well-known/jwks.json` answers (spec §8.4): the same format as [`KeySet::from_json`],
    /// but only Ed25519 public keys are accepted. An HMAC or sealing key, a private part
    /// (`d`), or an `active` / `active_sealing` member is refused with `invalid_key`: a
    /// document fetched over the network must never be able to plant a secret the verifier
    /// would then trust (an attacker who knows an HMAC key can forge tokens with it). Fetch
    /// the document over an authenticated channel (HTTPS), and use the result as the key set
    /// of that endpoint's issuer only.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// let issuer_keys = KeySet::generate(Algorithm::EdDsa)?;
    /// let published = issuer_keys.public_jwks().to_string();
    /// let keys = KeySet::from_public_jwks(&published)?;
    /// assert!(keys.active().is_none()); // verify-only
    /// assert_eq!(keys.len(), 1);
    ///
    /// // A published set that smuggles in an HMAC secret is refused as a whole.
    /// let hmac = KeySet::generate(Algorithm::Hs256)?.to_private_json();
    /// let err = KeySet::from_public_jwks(&hmac).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn from_public_jwks(json: &str) -> Result<KeySet, Error> {
        let set = KeySet::from_json(json)?;
        if set.active.is_some() || set.active_sealing.is_some() {
            return Err(Error::invalid_key(
                "a published key set must not name an active key (`active` or \
                 `active_sealing`): it holds public keys only, and this looks like a key file",
            ));
        }
        for key in &set.keys {
            if key.algorithm() != Algorithm::EdDsa {
                return Err(Error::invalid_key(format!(
                    "key {} of a published key set is {}: only EdDSA public keys may be loaded \
                     from a JWKS",
                    key.kid(),
                    key.algorithm().as_str()
                )));
            }
            if key.can_sign() {
                return Err(Error::invalid_key(format!(
                    "key {} of a published key set carries its private part (d)",
                    key.kid()
                )));
            }
        }
        Ok(set)
    }

    /// Reads a JWK Set file by [`ReadRules`](crate::file::ReadRules) at most
    /// [`MAX_KEY_SET_BYTES`] long, [`trusted`](crate::file::ReadRules::trusted), also from a
    /// FIFO ([`or_fifo`](crate::file::ReadRules::or_fifo)): a missing or
    /// unreadable file, a directory or device, one larger than [`MAX_KEY_SET_BYTES`], and one
    /// that other users may write to or another user (not root) owns are `invalid_key` errors
    /// naming the path.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// let path = std::env::temp_dir().join(format!("tessera-doc-keys-{}.json", std::process::id()));
    /// let keys = KeySet::generate(Algorithm::EdDsa)?;
    /// std::fs::write(&path, keys.to_private_json()).unwrap();
    /// let loaded = KeySet::from_file(&path)?;
    /// std::fs::remove_file(&path).unwrap();
    /// assert_eq!(loaded.active().unwrap().kid(), keys.active().unwrap().kid());
    ///
    /// let err = KeySet::from_file(&path).unwrap_err(); // gone now
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// assert!(err.to_string().contains(&*path.to_string_lossy()));
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<KeySet, Error> {
        let path = path.as_ref();
        let text = crate::file::ReadRules::new(MAX_KEY_SET_BYTES)
            .trusted()
            .or_fifo()
            .read(path)
            .map_err(|e| Error::invalid_key(format!("cannot use the key file: {e}")))?;
        KeySet::from_json(&text).map_err(|e| match e {
            Error::InvalidKey { reason } => {
                Error::invalid_key(format!("key file {}: {reason}", path.display()))
            }
            other => other,
        })
    }

    /// Reads a JWK Set document from the environment variable `var` (e.g. [`KEYS_ENV`]). An
    /// unset variable, or a document that does not load, is `invalid_key`, naming the variable
    /// and never quoting its value.
    ///
    /// ```
    /// use tessera_protocol::{ErrorCode, KeySet};
    /// let err = KeySet::from_env("TESSERA_DOC_EXAMPLE_UNSET").unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// assert!(err.to_string().contains("TESSERA_DOC_EXAMPLE_UNSET"));
    /// ```
    pub fn from_env(var: &str) -> Result<KeySet, Error> {
        let text = std::env::var(var).map_err(|_| {
            Error::invalid_key(format!(
                "environment variable {var} is not set or not UTF-8"
            ))
        })?;
        KeySet::from_json(&text).map_err(|e| match e {
            Error::InvalidKey { reason } => Error::invalid_key(format!("{var}: {reason}")),
            other => other,
        })
    }

    /// Adds a key (verify-only unless made active). A duplicate kid, one secret used both to
    /// sign (HS256) and to seal (A256GCM), and an HS256 secret equal to an Ed25519 public key
    /// of the set (its bytes or their base64url text) are refused with `invalid_key`.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, Key, KeySet, Kid};
    /// let mut keys = KeySet::generate(Algorithm::Hs256)?;
    /// keys.insert(Key::hs256(Kid::new("old")?, &[1u8; 32])?)?; // verifies tokens it signed
    /// let twice = keys.insert(Key::generate(Algorithm::EdDsa, Kid::new("old")?)?).unwrap_err();
    /// assert_eq!(twice.code(), ErrorCode::InvalidKey);
    /// // The same 32 bytes as an HMAC secret and a sealing key: refused.
    /// let reused = keys.insert(Key::a256gcm(Kid::new("enc")?, &[1u8; 32])?).unwrap_err();
    /// assert_eq!(reused.code(), ErrorCode::InvalidKey);
    /// assert_eq!(keys.len(), 2);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn insert(&mut self, key: Key) -> Result<(), Error> {
        if self.keys.len() >= MAX_KEYS {
            return Err(Error::invalid_key(format!(
                "cannot add key {}: the key set already holds {MAX_KEYS} keys, the most allowed \
                 (retire keys no token can still carry)",
                key.kid()
            )));
        }
        if self.get(key.kid().as_str()).is_some() {
            return Err(Error::invalid_key(format!(
                "key {} appears twice in the key set",
                key.kid()
            )));
        }
        // The same bytes never serve as both an HMAC secret and a sealing key (spec §3.2).
        // (Compared at load time, from configuration: no timing reaches an attacker.)
        if let Some(other) = self.keys.iter().find(|k| k.shares_secret_across_uses(&key)) {
            return Err(Error::invalid_key(format!(
                "keys {} and {} hold the same secret, one to sign and one to seal",
                other.kid(),
                key.kid()
            )));
        }
        // An HMAC secret is never a public key of the set (RFC 8725 §3.5): the JWKS shows it.
        if let Some(other) = self
            .keys
            .iter()
            .find(|k| k.hmac_secret_is_public_key_of(&key))
        {
            return Err(Error::invalid_key(format!(
                "keys {} and {}: an HS256 secret is an Ed25519 public key, which anyone can read",
                other.kid(),
                key.kid()
            )));
        }
        self.keys.push(key);
        Ok(())
    }

    /// Makes the key `kid` the one that mints. It must be able to sign (else `invalid_key`).
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, Key, KeySet, Kid};
    /// let mut keys = KeySet::new();
    /// keys.insert(Key::generate(Algorithm::EdDsa, Kid::new("ed1")?)?)?;
    /// keys.insert(Key::generate(Algorithm::A256Gcm, Kid::new("enc1")?)?)?;
    /// keys.set_active(&Kid::new("ed1")?)?;
    /// assert_eq!(keys.active().unwrap().kid().as_str(), "ed1");
    /// let err = keys.set_active(&Kid::new("enc1")?).unwrap_err(); // seals, never signs
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn set_active(&mut self, kid: &Kid) -> Result<(), Error> {
        let index = self
            .index(kid.as_str())
            .ok_or_else(|| Error::invalid_key(UNKNOWN_ACTIVE))?;
        if !self.keys[index].can_sign() {
            return Err(Error::invalid_key(format!(
                "active key {kid} cannot sign (a sealing key, or an Ed25519 key without \"d\")"
            )));
        }
        self.active = Some(index);
        Ok(())
    }

    /// Makes the A256GCM key `kid` the one that seals. Signing keys are refused
    /// (`invalid_key`). The active signing key is not affected: a set can sign and seal.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, Key, KeySet, Kid};
    /// let mut keys = KeySet::generate(Algorithm::Hs256)?;
    /// keys.insert(Key::generate(Algorithm::A256Gcm, Kid::new("enc1")?)?)?;
    /// keys.set_active_sealing(&Kid::new("enc1")?)?;
    /// assert_eq!(keys.active_sealing().unwrap().kid().as_str(), "enc1");
    /// assert!(keys.active().is_some()); // still signs
    /// let signing = keys.active().unwrap().kid().clone();
    /// assert_eq!(keys.set_active_sealing(&signing).unwrap_err().code(), ErrorCode::InvalidKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn set_active_sealing(&mut self, kid: &Kid) -> Result<(), Error> {
        let index = self
            .index(kid.as_str())
            .ok_or_else(|| Error::invalid_key(UNKNOWN_ACTIVE_SEALING))?;
        if !self.keys[index].can_seal() {
            return Err(Error::invalid_key(format!(
                "active sealing key {kid} is not an A256GCM key"
            )));
        }
        self.active_sealing = Some(index);
        Ok(())
    }

    /// Rotation: generates a key of `alg` with a fresh random kid and makes it active (the
    /// signing key for HS256/EdDSA, the sealing key for A256GCM); the previous one stays in the
    /// set for verification or opening. Returns the new kid.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, Expected, KeySet, Minter, Verifier};
    /// let mut keys = KeySet::generate(Algorithm::EdDsa)?;
    /// // A token minted before the rotation (by a worker that loaded the old key file)...
    /// let before = Arc::new(KeySet::from_json(&keys.to_private_json())?);
    /// let old_token = Minter::new(before, "inventree").token("a").mint()?;
    /// let new_kid = keys.rotate(Algorithm::EdDsa)?;
    /// let keys = Arc::new(keys);
    /// // ...still verifies after it, while new tokens are signed by the new key.
    /// let verifier = Verifier::new(keys.clone(), "inventree");
    /// assert!(verifier.verify::<()>(&old_token, &Expected::audience("a")).is_ok());
    /// let new_token = Minter::new(keys, "inventree").token("a").mint()?;
    /// assert_eq!(verifier.verify::<()>(&new_token, &Expected::audience("a"))?.header.kid, new_kid);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn rotate(&mut self, alg: Algorithm) -> Result<Kid, Error> {
        let kid = self.add(alg)?;
        if alg.is_signature() {
            self.set_active(&kid)?;
        } else {
            self.set_active_sealing(&kid)?;
        }
        Ok(kid)
    }

    /// The first stage of a staged rotation: generates a key of `alg` with a fresh random kid
    /// and adds it to the set **without** making it active. Where several processes load the
    /// key set at different moments, add the key, let every process load the set, and only
    /// then make it active ([`KeySet::set_active`] / [`KeySet::set_active_sealing`]): no
    /// process then meets a token signed with a key it has not loaded (spec §3.5).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, Expected, KeySet, Minter, Verifier};
    /// let mut keys = KeySet::generate(Algorithm::Hs256)?;
    /// let old_kid = keys.active().unwrap().kid().clone();
    /// let new_kid = keys.add(Algorithm::Hs256)?;
    /// assert_eq!(keys.active().unwrap().kid(), &old_kid); // still minting with the old key
    /// // Every process has loaded the set with both keys: switch.
    /// keys.set_active(&new_kid)?;
    /// let keys = Arc::new(keys);
    /// let token = Minter::new(keys.clone(), "inventree").token("a").mint()?;
    /// let verified = Verifier::new(keys, "inventree").verify::<()>(&token, &Expected::audience("a"))?;
    /// assert_eq!(verified.header.kid, new_kid);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn add(&mut self, alg: Algorithm) -> Result<Kid, Error> {
        for _ in 0..KID_DRAWS {
            let kid = Kid::random()?;
            if self.get(kid.as_str()).is_none() {
                self.insert(Key::generate(alg, kid.clone())?)?;
                return Ok(kid);
            }
        }
        Err(Error::invalid_key("could not draw an unused kid"))
    }

    /// Retirement: removes the key `kid`; tokens it signed then fail with `unknown_key`.
    /// The active key cannot be retired (rotate first): that is `invalid_key`, as is a kid
    /// not in the set.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, Expected, KeySet, Minter, Verifier};
    /// let mut keys = KeySet::generate(Algorithm::Hs256)?;
    /// let old = keys.active().unwrap().kid().clone();
    /// let old_token = Minter::new(Arc::new(KeySet::from_json(&keys.to_private_json())?), "inventree")
    ///     .token("a").mint()?;
    /// assert_eq!(keys.retire(&old).unwrap_err().code(), ErrorCode::InvalidKey); // still active
    /// keys.rotate(Algorithm::Hs256)?;
    /// keys.retire(&old)?;
    /// let err = Verifier::new(Arc::new(keys), "inventree")
    ///     .verify::<()>(&old_token, &Expected::audience("a")).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::UnknownKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn retire(&mut self, kid: &Kid) -> Result<(), Error> {
        let index = self
            .index(kid.as_str())
            .ok_or_else(|| Error::invalid_key(UNKNOWN_TO_RETIRE))?;
        if self.active == Some(index) || self.active_sealing == Some(index) {
            return Err(Error::invalid_key(format!(
                "key {kid} is an active key; rotate to a new key before retiring it"
            )));
        }
        self.keys.remove(index);
        let shift = |a: usize| if a > index { a - 1 } else { a };
        self.active = self.active.map(shift);
        self.active_sealing = self.active_sealing.map(shift);
        Ok(())
    }

    /// The key that mints, if any.
    pub fn active(&self) -> Option<&Key> {
        self.active.map(|i| &self.keys[i])
    }

    /// The key that seals, if any.
    pub fn active_sealing(&self) -> Option<&Key> {
        self.active_sealing.map(|i| &self.keys[i])
    }

    /// The key with this kid (exact byte equality), if any.
    pub fn get(&self, kid: &str) -> Option<&Key> {
        self.index(kid).map(|i| &self.keys[i])
    }

    /// All keys, in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The whole set as a JWK Set document, **secrets included** (what a key file holds).
    pub fn to_private_json(&self) -> String {
        let doc = JwkSetOut {
            keys: self
                .keys
                .iter()
                .filter_map(|k| JwkOut::from_key(k, false))
                .collect(),
            active: self.active().map(|k| k.kid().as_str()),
            active_sealing: self.active_sealing().map(|k| k.kid().as_str()),
        };
        // Serializing plain strings into JSON cannot fail.
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    /// The public JWK Set: Ed25519 public keys only (no `d`); HMAC and sealing keys never
    /// appear, so an HMAC-only set gives `{"keys":[]}`.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, KeySet};
    /// let mut keys = KeySet::generate(Algorithm::EdDsa)?;
    /// keys.rotate(Algorithm::Hs256)?; // the HMAC key, now active, is not published
    /// let jwks = keys.public_jwks();
    /// let published = jwks["keys"].as_array().unwrap();
    /// assert_eq!(published.len(), 1);
    /// assert_eq!(published[0]["kty"], "OKP");
    /// assert!(published[0].get("d").is_none() && jwks.get("active").is_none());
    /// assert_eq!(KeySet::generate(Algorithm::Hs256)?.public_jwks().to_string(), r#"{"keys":[]}"#);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn public_jwks(&self) -> serde_json::Value {
        let doc = JwkSetOut {
            keys: self
                .keys
                .iter()
                .filter_map(|k| JwkOut::from_key(k, true))
                .collect(),
            active: None,
            active_sealing: None,
        };
        serde_json::to_value(&doc).unwrap_or_else(|_| serde_json::json!({"keys": []}))
    }

    /// The index of the key whose minted header segment is exactly `header_b64`.
    pub(crate) fn index_of_header(&self, header_b64: &str) -> Option<usize> {
        self.keys.iter().position(|k| k.header_b64() == header_b64)
    }

    pub(crate) fn by_index(&self, index: usize) -> &Key {
        &self.keys[index]
    }

    fn index(&self, kid: &str) -> Option<usize> {
        self.keys.iter().position(|k| k.kid().as_str() == kid)
    }
}
