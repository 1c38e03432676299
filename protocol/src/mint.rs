//! Minting: a builder per token, bounded by the minter's maximum lifetime and length cap.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;

use crate::claims::MAX_TIME;
use crate::claims::{ClaimsOut, MAX_FPR_LEN};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::json::minted_form::write_dat;
use crate::json::serializer_check::check_payload;
use crate::key_set::KeySet;
use crate::limits::{
    DEFAULT_MAX_LIFETIME, DEFAULT_MAX_TOKEN_LEN, DEFAULT_TTL, check_max_lifetime,
    check_max_token_len,
};
use crate::token::SEALED_IV_LEN;

/// The number of random bytes in a minted `jti` (128 bits).
pub const JTI_BYTES: usize = 16;

/// Mints tokens with the key set's active key, for one issuer.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tessera_protocol::{Algorithm, ErrorCode, KeySet, Minter};
///
/// let minter = Minter::new(Arc::new(KeySet::generate(Algorithm::EdDsa)?), "inventree");
/// let token = minter
///     .token("plugin:stock-tools/action:transfer")
///     .subject("user:42")
///     .payload(&serde_json::json!({"part_id": 1234, "qty": 25}))
///     .ttl(Duration::from_secs(120))
///     .mint()?;
/// assert_eq!(token.split('.').count(), 3);
///
/// // There is no never-expiring token: the TTL is bounded by the maximum lifetime.
/// let err = minter.token("a").ttl(Duration::from_secs(90_000)).mint().unwrap_err();
/// assert_eq!(err.code(), ErrorCode::LifetimeTooLong);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Minter {
    keys: Arc<KeySet>,
    issuer: String,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    max_lifetime: Duration,
    max_len: usize,
    rng: SystemRandom,
}

impl Minter {
    /// A minter for `issuer` with the defaults: TTL 5 min, maximum lifetime 24 h, length cap
    /// 8 KiB, the system clock.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{
    ///     Algorithm, DEFAULT_MAX_LIFETIME, DEFAULT_MAX_TOKEN_LEN, DEFAULT_TTL, KeySet, Minter,
    /// };
    /// let minter = Minter::new(Arc::new(KeySet::generate(Algorithm::Hs256)?), "inventree");
    /// assert_eq!(minter.default_ttl(), DEFAULT_TTL);
    /// assert_eq!(minter.max_lifetime(), DEFAULT_MAX_LIFETIME);
    /// assert_eq!(minter.max_len(), DEFAULT_MAX_TOKEN_LEN);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn new(keys: Arc<KeySet>, issuer: impl Into<String>) -> Minter {
        Minter {
            keys,
            issuer: issuer.into(),
            clock: Arc::new(SystemClock),
            ttl: DEFAULT_TTL,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            max_len: DEFAULT_MAX_TOKEN_LEN,
            rng: SystemRandom::new(),
        }
    }

    /// Reads `now` from `clock`. Defaults to [`SystemClock`].
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Minter {
        self.clock = clock;
        self
    }

    /// The TTL used when a token does not set its own. Defaults to 5 minutes.
    ///
    /// Not checked here: a default TTL of zero (`invalid_config`) or over the maximum lifetime
    /// (`lifetime_too_long`) makes every [`TokenBuilder::mint`] without its own TTL fail.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use tessera_protocol::{Algorithm, ErrorCode, Expected, KeySet, Minter, Verifier};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// let minter = Minter::new(keys.clone(), "inventree").with_default_ttl(Duration::from_secs(60));
    /// let token = minter.token("a").mint()?;
    /// let claims = Verifier::new(keys.clone(), "inventree")
    ///     .verify::<()>(&token, &Expected::audience("a"))?.claims;
    /// assert_eq!(claims.exp - claims.iat, 60);
    /// let zero = Minter::new(keys, "inventree").with_default_ttl(Duration::ZERO);
    /// assert_eq!(zero.token("a").mint().unwrap_err().code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_default_ttl(mut self, ttl: Duration) -> Minter {
        self.ttl = ttl;
        self
    }

    /// The longest lifetime a token may be minted with, at least one second (else
    /// `invalid_config`: no token could be minted). Defaults to 24 hours.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet, Minter};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// let minter = Minter::new(keys.clone(), "inventree").with_max_lifetime(Duration::from_secs(600))?;
    /// assert_eq!(minter.max_lifetime(), Duration::from_secs(600));
    /// let err = Minter::new(keys, "inventree").with_max_lifetime(Duration::ZERO).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_max_lifetime(mut self, max: Duration) -> Result<Minter, Error> {
        check_max_lifetime(max)?;
        self.max_lifetime = max;
        Ok(self)
    }

    /// Refuse to mint tokens longer than this many bytes, at least 1 (else `invalid_config`).
    /// Defaults to 8192, the verifier's cap.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet, Minter};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// let minter = Minter::new(keys.clone(), "inventree").with_max_len(100)?;
    /// assert_eq!(minter.token("a").payload(&"x".repeat(200)).mint().unwrap_err().code(), ErrorCode::TooLarge);
    /// assert_eq!(Minter::new(keys, "inventree").with_max_len(0).unwrap_err().code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_max_len(mut self, max_len: usize) -> Result<Minter, Error> {
        check_max_token_len(max_len)?;
        self.max_len = max_len;
        Ok(self)
    }

    /// The issuer written into every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The default TTL.
    pub fn default_ttl(&self) -> Duration {
        self.ttl
    }

    /// The longest lifetime a token may be minted with.
    pub fn max_lifetime(&self) -> Duration {
        self.max_lifetime
    }

    /// The length cap in bytes.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The key set.
    pub fn keys(&self) -> &Arc<KeySet> {
        &self.keys
    }

    /// Starts a token for the action `aud`.
    pub fn token<'a>(&'a self, aud: &'a str) -> TokenBuilder<'a, ()> {
        TokenBuilder {
            minter: self,
            aud,
            sub: None,
            dat: &(),
            ttl: None,
            not_before: None,
            fpr: None,
            now: None,
        }
    }
}

/// One token being minted; see [`Minter::token`].
#[derive(Debug)]
#[must_use = "a token builder does nothing until .mint()"]
pub struct TokenBuilder<'a, T: ?Sized> {
    minter: &'a Minter,
    aud: &'a str,
    sub: Option<&'a str>,
    dat: &'a T,
    ttl: Option<Duration>,
    not_before: Option<u64>,
    fpr: Option<&'a str>,
    now: Option<u64>,
}

impl<'a, T: Serialize + ?Sized> TokenBuilder<'a, T> {
    /// The principal the token is for (`sub`). An empty subject is refused with
    /// `invalid_config` when minting (as are an empty issuer and an empty action id).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet, Minter};
    /// let minter = Minter::new(Arc::new(KeySet::generate(Algorithm::Hs256)?), "inventree");
    /// assert!(minter.token("a").subject("user:42").mint().is_ok());
    /// assert_eq!(minter.token("a").subject("").mint().unwrap_err().code(), ErrorCode::InvalidConfig);
    /// assert_eq!(minter.token("").mint().unwrap_err().code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn subject(mut self, sub: &'a str) -> Self {
        self.sub = Some(sub);
        self
    }

    /// The application payload (`dat`). Without it, `dat` is `null`.
    pub fn payload<U: Serialize + ?Sized>(self, dat: &'a U) -> TokenBuilder<'a, U> {
        TokenBuilder {
            minter: self.minter,
            aud: self.aud,
            sub: self.sub,
            dat,
            ttl: self.ttl,
            not_before: self.not_before,
            fpr: self.fpr,
            now: self.now,
        }
    }

    /// Time to live; bounded by the minter's maximum lifetime. Defaults to the minter's TTL.
    /// Whole seconds count; a TTL under one second is refused with `invalid_config`.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet, Minter};
    /// let minter = Minter::new(Arc::new(KeySet::generate(Algorithm::Hs256)?), "inventree");
    /// assert!(minter.token("a").ttl(Duration::from_secs(30)).mint().is_ok());
    /// let err = minter.token("a").ttl(Duration::from_millis(500)).mint().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The token is not valid before this instant (seconds since the epoch). Defaults to now.
    /// It must lie between now and the expiry (else `invalid_config`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, Expected, FixedClock, KeySet, Minter, Verifier};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// let minter = Minter::new(keys.clone(), "inventree").with_clock(Arc::new(FixedClock(1000)));
    /// let token = minter.token("a").not_before(1100).mint()?; // valid 1100..1300
    /// let at = |now| Verifier::new(keys.clone(), "inventree").with_clock(Arc::new(FixedClock(now)));
    /// let err = at(1050).verify::<()>(&token, &Expected::audience("a")).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::NotYetValid); // 50 s early: beyond the 30 s leeway
    /// assert_eq!(at(1100).verify::<()>(&token, &Expected::audience("a"))?.claims.nbf, 1100);
    /// let err = minter.token("a").not_before(1300).mint().unwrap_err(); // not before the expiry
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn not_before(mut self, nbf: u64) -> Self {
        self.not_before = Some(nbf);
        self
    }

    /// Binds a fingerprint of the state the token was minted from (`fpr`, 1 to
    /// [`MAX_FPR_LEN`](crate::MAX_FPR_LEN) bytes, else `invalid_config`). The verifier returns
    /// it in [`Claims::fpr`](crate::Claims::fpr); comparing it with the current state is the
    /// application's job.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, Expected, KeySet, Minter, Verifier};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// let minter = Minter::new(keys.clone(), "inventree");
    /// let token = minter.token("a").fingerprint("stock:1234:v7").mint()?;
    /// let ok = Verifier::new(keys, "inventree").verify::<()>(&token, &Expected::audience("a"))?;
    /// assert_eq!(ok.claims.fpr.as_deref(), Some("stock:1234:v7"));
    /// let err = minter.token("a").fingerprint(&"f".repeat(129)).mint().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn fingerprint(mut self, fpr: &'a str) -> Self {
        self.fpr = Some(fpr);
        self
    }

    /// Mints at this instant instead of the minter's clock (for vectors and tests).
    pub fn issued_at(mut self, now: u64) -> Self {
        self.now = Some(now);
        self
    }

    /// Signs the token with the active key. A key set without an active signing key (an empty
    /// one, or one with verify-only keys) is refused with `invalid_key`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet, Minter};
    /// let minter = Minter::new(Arc::new(KeySet::generate(Algorithm::Hs256)?), "inventree");
    /// let (one, two) = (minter.token("a").mint()?, minter.token("a").mint()?);
    /// assert_ne!(one, two); // a fresh random jti each time
    /// let no_key = Minter::new(Arc::new(KeySet::new()), "inventree");
    /// assert_eq!(no_key.token("a").mint().unwrap_err().code(), ErrorCode::InvalidKey);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn mint(self) -> Result<String, Error> {
        let mut jti = [0u8; JTI_BYTES];
        self.minter
            .rng
            .fill(&mut jti)
            .map_err(|_| Error::invalid_key("the system random generator failed"))?;
        self.mint_with_jti(&URL_SAFE_NO_PAD.encode(jti))
    }

    /// Seals the token with the active sealing key: JWE compact, `dir` + `A256GCM`, a fresh
    /// 96-bit nonce from `SystemRandom`. The claims are encrypted, not just signed.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Accept, Algorithm, Expected, Key, KeySet, Kid, Minter, Verifier};
    /// let mut keys = KeySet::generate(Algorithm::Hs256)?;
    /// keys.insert(Key::generate(Algorithm::A256Gcm, Kid::new("enc1")?)?)?;
    /// keys.set_active_sealing(&Kid::new("enc1")?)?;
    /// let keys = Arc::new(keys);
    /// let token = Minter::new(keys.clone(), "inventree").token("a").payload(&"cost 12.40").seal()?;
    /// assert!(!token.contains("12.40") && token.split('.').count() == 5);
    /// let ok = Verifier::new(keys, "inventree")
    ///     .verify::<String>(&token, &Expected::audience("a").accept(Accept::Sealed))?;
    /// assert_eq!(ok.claims.dat, "cost 12.40");
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn seal(self) -> Result<String, Error> {
        let mut jti = [0u8; JTI_BYTES];
        let mut nonce = [0u8; SEALED_IV_LEN];
        self.minter
            .rng
            .fill(&mut jti)
            .and_then(|()| self.minter.rng.fill(&mut nonce))
            .map_err(|_| Error::invalid_key("the system random generator failed"))?;
        self.seal_with(&URL_SAFE_NO_PAD.encode(jti), nonce)
    }

    /// Seals with a caller-chosen `jti` and nonce. **Only for deterministic test vectors**: a
    /// nonce must never repeat under one key (AES-GCM loses confidentiality and integrity
    /// when it does), which [`TokenBuilder::seal`] guarantees by drawing it at random.
    pub fn dangerous_seal_with(
        self,
        jti: &str,
        nonce: [u8; SEALED_IV_LEN],
    ) -> Result<String, Error> {
        self.seal_with(jti, nonce)
    }

    fn seal_with(self, jti: &str, nonce: [u8; SEALED_IV_LEN]) -> Result<String, Error> {
        let m = self.minter;
        let key = m
            .keys
            .active_sealing()
            .ok_or_else(|| Error::invalid_key("the key set has no active sealing (A256GCM) key"))?;
        let aead = key
            .aead()
            .ok_or_else(|| Error::invalid_key("the active sealing key cannot seal"))?;
        let mut claims = self.claims_json(jti)?;
        let header_b64 = key.header_b64();
        let tag = aead
            .seal_in_place_separate_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::from(header_b64.as_bytes()),
                &mut claims,
            )
            .map_err(|_| Error::invalid_key("AES-256-GCM refused to seal"))?;
        let mut token = String::with_capacity(header_b64.len() + claims.len() * 4 / 3 + 48);
        token.push_str(header_b64);
        token.push_str("..");
        base64_simd::URL_SAFE_NO_PAD.encode_append(nonce, &mut token);
        token.push('.');
        base64_simd::URL_SAFE_NO_PAD.encode_append(&claims, &mut token);
        token.push('.');
        base64_simd::URL_SAFE_NO_PAD.encode_append(tag.as_ref(), &mut token);
        m.check_len(token)
    }

    /// Signs the token with a caller-chosen `jti`. Only for deterministic test vectors: a
    /// real token's `jti` must be unpredictable, which [`TokenBuilder::mint`] guarantees.
    ///
    /// With [`TokenBuilder::issued_at`] and an HS256 or Ed25519 key, the token is the same
    /// every time:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, KeySet, Minter};
    /// let minter = Minter::new(Arc::new(KeySet::generate(Algorithm::EdDsa)?), "inventree");
    /// let vector = || minter.token("a").issued_at(1_790_000_000).mint_with_jti("jti-0001");
    /// assert_eq!(vector()?, vector()?);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn mint_with_jti(self, jti: &str) -> Result<String, Error> {
        let m = self.minter;
        let key = m
            .keys
            .active()
            .ok_or_else(|| Error::invalid_key("the key set has no active signing key"))?;
        let claims_json = self.claims_json(jti)?;
        let header_b64 = key.header_b64();
        let mut token = String::with_capacity(header_b64.len() + claims_json.len() * 4 / 3 + 100);
        token.push_str(header_b64);
        token.push('.');
        base64_simd::URL_SAFE_NO_PAD.encode_append(&claims_json, &mut token);
        let signing_input_len = token.len();
        let mut signature = String::with_capacity(88);
        // The active key can sign: KeySet::set_active checks it.
        key.sign_into(&token.as_bytes()[..signing_input_len], &mut signature)
            .ok_or_else(|| Error::invalid_key("the active key cannot sign"))?;
        token.push('.');
        token.push_str(&signature);
        m.check_len(token)
    }

    /// The claims JSON at `now`, after checking the lifetime, not-before and fingerprint.
    fn claims_json(&self, jti: &str) -> Result<Vec<u8>, Error> {
        let m = self.minter;
        // A token for no issuer, no action or nobody in particular is a mistake, not a token.
        if m.issuer.is_empty() || self.aud.is_empty() || self.sub.is_some_and(str::is_empty) {
            return Err(Error::InvalidConfig {
                reason: "the issuer, the audience (action id) and a subject, when given, are \
                         not empty"
                    .to_owned(),
            });
        }
        let iat = self.now.unwrap_or_else(|| m.clock.now());
        let ttl = self.ttl.unwrap_or(m.ttl).as_secs();
        let lifetime_max = m.max_lifetime.as_secs();
        if ttl == 0 {
            return Err(Error::InvalidConfig {
                reason: "a token's TTL is at least 1s".to_owned(),
            });
        }
        if ttl > lifetime_max {
            return Err(Error::LifetimeTooLong {
                lifetime: Some(ttl),
                max: lifetime_max,
            });
        }
        // Tokens carry times up to MAX_TIME only (spec §2.5); a later expiry (a caller-chosen
        // `now` near the end of time, or a clock gone wrong) is refused, never wrapped.
        let exp = iat
            .checked_add(ttl)
            .filter(|&exp| exp <= MAX_TIME)
            .ok_or_else(|| Error::InvalidConfig {
                reason: "the expiry would be after 9999-12-31T23:59:59Z, the latest time a token \
                         carries"
                    .to_owned(),
            })?;
        let nbf = self.not_before.filter(|&nbf| nbf != iat);
        if nbf.is_some_and(|nbf| nbf < iat || nbf >= exp) {
            return Err(Error::InvalidConfig {
                reason: "not-before must lie between now and the expiry".to_owned(),
            });
        }
        if self
            .fpr
            .is_some_and(|f| f.is_empty() || f.len() > MAX_FPR_LEN)
        {
            return Err(Error::InvalidConfig {
                reason: format!("a fingerprint is 1 to {MAX_FPR_LEN} bytes"),
            });
        }
        check_payload(self.dat).map_err(|reason| Error::BadPayload {
            reason: reason.to_owned(),
        })?;
        let claims = ClaimsOut {
            iss: &m.issuer,
            aud: self.aud,
            sub: self.sub,
            iat,
            nbf,
            exp,
            jti,
            fpr: self.fpr,
        };
        // The claims but `dat`, then `dat` in the minted form (spec §2.6): the same bytes for
        // the same value, whatever member order or number spelling it was given in.
        let refused = |e: serde_json::Error| Error::BadPayload {
            reason: format!(
                "the payload does not serialize to JSON ({})",
                crate::error::json_error_category(&e)
            ),
        };
        let mut out = serde_json::to_vec(&claims).map_err(refused)?;
        out.pop(); // the closing brace
        out.extend_from_slice(b",\"dat\":");
        write_dat(self.dat, &mut out).map_err(refused)?;
        out.push(b'}');
        Ok(out)
    }
}

impl Minter {
    fn check_len(&self, token: String) -> Result<String, Error> {
        if token.len() > self.max_len {
            return Err(Error::TooLarge {
                len: token.len(),
                max: self.max_len,
            });
        }
        Ok(token)
    }
}
