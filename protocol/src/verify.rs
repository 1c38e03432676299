//! The verifier: the spec's numbered steps, in order, each with its own error.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::claims::Claims;
use crate::claims::{MAX_FPR_LEN, RawClaims};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, json_error_category};
use crate::header::Header;
use crate::json::object_only::ObjectOnly;
use crate::json::one_pass::Strict;
use crate::json::validator::{MAX_CLAIMS_DEPTH, check_json_rules_within};
use crate::key_set::KeySet;
use crate::limits::{
    DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, DEFAULT_MAX_TOKEN_LEN, check_leeway, check_max_lifetime,
    check_max_token_len,
};
use crate::token::KidRef;
use crate::token::{TokenKind, UntrustedToken};

/// What the caller expects of a token: the action it must be for and, if known, the principal.
/// It borrows what it can (`&str` arguments), so building one per request allocates nothing.
///
/// ```
/// use tessera_protocol::Expected;
/// let e = Expected::audience("plugin:stock-tools/action:transfer").subject("user:42");
/// assert_eq!(e.sub.as_deref(), Some("user:42"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected<'a> {
    /// The action id the token's `aud` must equal exactly.
    pub aud: Cow<'a, str>,
    /// The principal the token's `sub` must equal exactly, when given.
    pub sub: Option<Cow<'a, str>>,
    /// Which kinds of token are accepted. Defaults to [`Accept::Signed`].
    pub accept: Accept,
    /// The caller is known to be anonymous: a token minted for a principal (with a `sub`) is
    /// refused with `wrong_subject`. Ignored when [`Expected::sub`] is set. Defaults to `false`
    /// (no expectation about the subject).
    pub anonymous: bool,
}

/// Which kinds of token a route accepts. A token of another kind is refused as `malformed`,
/// so a sealed token never passes where a signed one is expected, and the reverse.
///
/// ```
/// use tessera_protocol::{Accept, TokenKind};
/// assert_eq!(Accept::default(), Accept::Signed);
/// assert!(Accept::Signed.allows(TokenKind::Signed));
/// assert!(!Accept::Signed.allows(TokenKind::Sealed));
/// assert!(Accept::Either.allows(TokenKind::Sealed));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Accept {
    /// Signed tokens (JWS) only. The default.
    #[default]
    Signed,
    /// Sealed tokens (JWE `dir` + `A256GCM`) only.
    Sealed,
    /// Either kind.
    Either,
}

impl Accept {
    /// Whether a token of `kind` is accepted.
    pub fn allows(self, kind: TokenKind) -> bool {
        matches!(
            (self, kind),
            (Accept::Either, _)
                | (Accept::Signed, TokenKind::Signed)
                | (Accept::Sealed, TokenKind::Sealed)
        )
    }
}

impl<'a> Expected<'a> {
    /// Expects a token for the action `aud`, for any principal.
    pub fn audience(aud: impl Into<Cow<'a, str>>) -> Expected<'a> {
        Expected {
            aud: aud.into(),
            sub: None,
            accept: Accept::Signed,
            anonymous: false,
        }
    }

    /// Expects an anonymous caller: a token that names a subject is refused with
    /// `wrong_subject`, since it was minted for somebody in particular.
    ///
    /// ```
    /// use tessera_protocol::Expected;
    /// assert!(Expected::audience("a").anonymous().anonymous);
    /// ```
    pub fn anonymous(mut self) -> Expected<'a> {
        self.anonymous = true;
        self
    }

    /// Accepts the given kinds of token instead of signed ones only.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Accept, Algorithm, ErrorCode, Expected, KeySet, Minter, Verifier};
    /// let mut keys = KeySet::generate(Algorithm::Hs256)?;
    /// keys.rotate(Algorithm::A256Gcm)?; // adds the active sealing key; the signing key stays
    /// let keys = Arc::new(keys);
    /// let sealed = Minter::new(keys.clone(), "inventree").token("a").seal()?;
    /// let verifier = Verifier::new(keys, "inventree");
    /// // By default only signed tokens pass: a sealed one is malformed here.
    /// let err = verifier.verify::<()>(&sealed, &Expected::audience("a")).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::Malformed);
    /// verifier.verify::<()>(&sealed, &Expected::audience("a").accept(Accept::Either))?;
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn accept(mut self, accept: Accept) -> Expected<'a> {
        self.accept = accept;
        self
    }

    /// Also expects the principal `sub`.
    pub fn subject(mut self, sub: impl Into<Cow<'a, str>>) -> Expected<'a> {
        self.sub = Some(sub.into());
        self
    }
}

/// A verified token: its header and its claims, with the payload typed as `T`.
///
/// ```
/// use std::sync::Arc;
/// use tessera_protocol::{Algorithm, Expected, KeySet, Minter, Verifier};
/// let keys = Arc::new(KeySet::generate(Algorithm::EdDsa)?);
/// let token = Minter::new(keys.clone(), "inventree").token("a").subject("user:42").mint()?;
/// let verified = Verifier::new(keys.clone(), "inventree").verify::<()>(&token, &Expected::audience("a"))?;
/// assert_eq!(verified.header.alg, Algorithm::EdDsa);
/// assert_eq!(&verified.header.kid, keys.active().unwrap().kid());
/// assert_eq!(verified.claims.sub.as_deref(), Some("user:42"));
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
///
/// `Debug` of a sealed token's `VerifiedToken` leaves its claims out (they are the secret
/// plaintext, spec §9: a log line must not reveal them); print the fields you mean to show.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedToken<T> {
    /// Which key and algorithm signed it.
    pub header: Header,
    /// The claims, all checks passed.
    pub claims: Claims<T>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for VerifiedToken<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("VerifiedToken");
        out.field("header", &self.header);
        if self.header.alg.is_signature() {
            out.field("claims", &self.claims);
        } else {
            out.field("claims", &format_args!("<sealed: not shown>"));
        }
        out.finish()
    }
}

/// Verifies tokens of one issuer against a key set.
///
/// Cheap checks come first and each failure has its own [`ErrorCode`](crate::ErrorCode): length
/// cap → segments → header (`typ`, members, `kid`) → `alg` equals the key's algorithm →
/// signature (constant time, by ring) → claims structure → `exp` (with leeway) → `nbf` → `iat`
/// → lifetime → `iss` → `aud` → `sub` → payload type.
///
/// ```
/// use std::sync::Arc;
/// use tessera_protocol::{Algorithm, ErrorCode, Expected, FixedClock, KeySet, Minter, Verifier};
///
/// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
/// let clock = Arc::new(FixedClock(1_790_000_000));
/// let minter = Minter::new(keys.clone(), "inventree").with_clock(clock.clone());
/// let verifier = Verifier::new(keys, "inventree").with_clock(clock);
///
/// let token = minter.token("plugin:stock-tools/action:transfer").payload(&25u32).mint()?;
/// let ok = verifier.verify::<u32>(&token, &Expected::audience("plugin:stock-tools/action:transfer"))?;
/// assert_eq!(ok.claims.dat, 25);
///
/// // The same token on another action's route is refused.
/// let err = verifier.verify::<u32>(&token, &Expected::audience("plugin:stock-tools/action:print")).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::WrongAudience);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    keys: Arc<KeySet>,
    issuer: String,
    clock: Arc<dyn Clock>,
    leeway: u64,
    max_lifetime: u64,
    max_len: usize,
}

impl Verifier {
    /// A verifier for tokens issued by `issuer`, with the defaults: leeway 30 s, maximum
    /// lifetime 24 h, length cap 8 KiB, the system clock.
    pub fn new(keys: Arc<KeySet>, issuer: impl Into<String>) -> Verifier {
        Verifier {
            keys,
            issuer: issuer.into(),
            clock: Arc::new(SystemClock),
            leeway: DEFAULT_LEEWAY.as_secs(),
            max_lifetime: DEFAULT_MAX_LIFETIME.as_secs(),
            max_len: DEFAULT_MAX_TOKEN_LEN,
        }
    }

    /// Reads `now` from `clock`. Defaults to [`SystemClock`].
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Verifier {
        self.clock = clock;
        self
    }

    /// Leeway for `exp`, `nbf` and `iat`, at most [`MAX_LEEWAY`](crate::MAX_LEEWAY). Defaults to 30 seconds.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use tessera_protocol::{Algorithm, ErrorCode, Expected, FixedClock, KeySet, Minter, Verifier};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// // Expired 10 seconds ago (minted at 1000 with a 60 s TTL; now is 1070).
    /// let token = Minter::new(keys.clone(), "inventree").token("a")
    ///     .ttl(Duration::from_secs(60)).issued_at(1000).mint()?;
    /// let verifier = Verifier::new(keys, "inventree").with_clock(Arc::new(FixedClock(1070)));
    /// assert!(verifier.verify::<()>(&token, &Expected::audience("a")).is_ok()); // within 30 s
    /// let strict = verifier.clone().with_leeway(Duration::ZERO)?;
    /// let err = strict.verify::<()>(&token, &Expected::audience("a")).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::Expired);
    /// let err = verifier.with_leeway(Duration::from_secs(301)).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_leeway(mut self, leeway: Duration) -> Result<Verifier, Error> {
        check_leeway(leeway)?;
        self.leeway = leeway.as_secs();
        Ok(self)
    }

    /// The longest accepted `exp - iat`, at least one second. Defaults to 24 hours.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use tessera_protocol::{Algorithm, ErrorCode, Expected, KeySet, Minter, Verifier};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// let hour = Minter::new(keys.clone(), "inventree").token("a").ttl(Duration::from_secs(3600)).mint()?;
    /// let verifier = Verifier::new(keys, "inventree").with_max_lifetime(Duration::from_secs(600))?;
    /// // The token's own lifetime is checked, however much of it is left.
    /// let err = verifier.verify::<()>(&hour, &Expected::audience("a")).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::LifetimeTooLong);
    /// let err = verifier.with_max_lifetime(Duration::ZERO).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_max_lifetime(mut self, max: Duration) -> Result<Verifier, Error> {
        check_max_lifetime(max)?;
        self.max_lifetime = max.as_secs();
        Ok(self)
    }

    /// The length cap in bytes, checked before any decoding; at least 1 (else
    /// `invalid_config`: every token would be refused). Defaults to 8192.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet, Verifier};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// assert_eq!(Verifier::new(keys.clone(), "inventree").with_max_len(4096)?.max_len(), 4096);
    /// let err = Verifier::new(keys, "inventree").with_max_len(0).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_max_len(mut self, max_len: usize) -> Result<Verifier, Error> {
        check_max_token_len(max_len)?;
        self.max_len = max_len;
        Ok(self)
    }

    /// The expected issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key set.
    pub fn keys(&self) -> &Arc<KeySet> {
        &self.keys
    }

    /// The length cap in bytes.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Verifies `token` for `expected` and returns its claims with `dat` as `T`.
    ///
    /// The first failing step decides the error: a token for the right action whose payload
    /// does not fit `T` is `bad_payload`; an anonymous caller ([`Expected::anonymous`]) is
    /// refused a token minted for somebody with `wrong_subject`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, ErrorCode, Expected, KeySet, Minter, Verifier};
    /// let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
    /// let token = Minter::new(keys.clone(), "inventree")
    ///     .token("a").subject("user:42").payload(&"twelve").mint()?;
    /// let verifier = Verifier::new(keys, "inventree");
    /// let ok = verifier.verify::<String>(&token, &Expected::audience("a"))?;
    /// assert_eq!(ok.claims.dat, "twelve");
    /// let err = verifier.verify::<u32>(&token, &Expected::audience("a")).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::BadPayload);
    /// let err = verifier.verify::<String>(&token, &Expected::audience("a").anonymous()).unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::WrongSubject);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<VerifiedToken<T>, Error> {
        // Steps 1-4: length, segments, header, typ.
        let mut untrusted = UntrustedToken::parse_for(token, self.max_len, Some(&self.keys))?;
        if !expected.accept.allows(untrusted.kind()) {
            return Err(Error::malformed(match untrusted.kind() {
                TokenKind::Sealed => "a sealed token where a signed one is expected",
                TokenKind::Signed => "a signed token where a sealed one is expected",
            }));
        }
        // Step 5: the kid names a key (exact match; never a key embedded in or linked from the token).
        let key = match untrusted.kid_ref() {
            KidRef::Known(index) => self.keys.by_index(*index),
            KidRef::Parsed(kid) => self.keys.get(kid).ok_or(Error::UnknownKey)?,
        };
        // Step 6: the header's alg must equal the key's algorithm; the key, not the token, decides.
        // A signing key never opens a sealed token and a sealing key never verifies a signed one.
        if untrusted.untrusted_alg() != Some(key.algorithm()) {
            return Err(Error::UnsupportedAlgorithm {
                key_alg: key.algorithm(),
            });
        }
        // Step 7: the signature (constant time), or authenticated decryption; one coarse code.
        let sealed = untrusted.kind() == TokenKind::Sealed;
        let claims_json: &[u8] = match untrusted.kind() {
            TokenKind::Signed => {
                let verifier = key.verifier().ok_or(Error::UnsupportedAlgorithm {
                    key_alg: key.algorithm(),
                })?;
                if !verifier.check(untrusted.authenticated(), untrusted.signature()) {
                    return Err(Error::BadSignature);
                }
                untrusted.claims_json()
            }
            TokenKind::Sealed => {
                let aead = key.aead().ok_or(Error::UnsupportedAlgorithm {
                    key_alg: key.algorithm(),
                })?;
                untrusted.open(aead).ok_or(Error::BadSignature)?
            }
        };
        // Steps 8 to 16. Fast path: one parse checks the structure, refuses repeated member
        // names in the payload (the claims' own are refused by the parse) and types the payload
        // in place. If that parse fails for any reason (structure, a repeated name, the payload
        // type, or a case it leaves undecided) the steps run again one by one, out of the hot
        // path, so the error is always the first failing step's. UTF-8 is checked once for the
        // whole text. The errors of a sealed token do not repeat its claims (its times).
        let outcome = if let Ok(claims_text) = std::str::from_utf8(claims_json)
            && let Ok(ObjectOnly(raw)) =
                serde_json::from_str::<ObjectOnly<RawClaims<'_, Strict<T>>>>(claims_text)
        {
            self.check_claims(&raw, expected)
                .map(|times| self.verified(key, expected, raw, |dat| dat.0, times))
        } else {
            self.claims_step_by_step(key, expected, claims_json, sealed)
        };
        if sealed {
            outcome.map_err(Error::withholding_claims)
        } else {
            outcome
        }
    }

    /// Steps 8 to 16 one by one: the path of tokens the fast path refuses or cannot decide.
    #[cold]
    #[inline(never)]
    fn claims_step_by_step<T: DeserializeOwned>(
        &self,
        key: &crate::key::Key,
        expected: &Expected<'_>,
        claims_json: &[u8],
        sealed: bool,
    ) -> Result<VerifiedToken<T>, Error> {
        // Step 8: the claims' structure (members, types, integers), then the JSON rules
        // inside the payload at any depth (no repeated member name, numbers in range, no
        // unpaired surrogate), whatever the payload type later reads or skips of it.
        let ObjectOnly(raw): ObjectOnly<RawClaims<'_, &RawValue>> =
            serde_json::from_slice(claims_json).map_err(|_| {
                Error::malformed("the claims are not a valid tessera claims object")
            })?;
        check_json_rules_within(raw.dat.get(), MAX_CLAIMS_DEPTH - 1).map_err(Error::malformed)?;
        // Steps 8 (times, fingerprint) to 15.
        let times = self.check_claims(&raw, expected)?;
        // Step 16: the payload's type.
        let dat: T = serde_json::from_str(raw.dat.get()).map_err(|e| Error::BadPayload {
            reason: if sealed {
                json_error_category(&e).to_owned()
            } else {
                format!("{} at column {}", json_error_category(&e), e.column())
            },
        })?;
        Ok(self.verified(key, expected, raw, |_| dat, times))
    }

    /// Steps 8 (the times' order, the fingerprint's length) to 15 on claims that parsed;
    /// returns `(iat, nbf, exp)`.
    fn check_claims<D>(
        &self,
        raw: &RawClaims<'_, D>,
        expected: &Expected<'_>,
    ) -> Result<(u64, u64, u64), Error> {
        let (iat, exp) = (raw.iat.0, raw.exp.0);
        let nbf = raw.nbf.0.map_or(iat, |t| t.0);
        if exp <= iat {
            return Err(Error::malformed("exp is not after iat"));
        }
        if raw
            .fpr
            .0
            .as_ref()
            .is_some_and(|f| f.0.is_empty() || f.0.len() > MAX_FPR_LEN)
        {
            return Err(Error::malformed("fpr is empty or too long"));
        }
        let now = self.clock.now();
        let leeway = self.leeway;
        // Step 9: expiry.
        if now >= exp.saturating_add(leeway) {
            return Err(Error::Expired {
                exp: Some(exp),
                now,
            });
        }
        // Steps 10 and 11: not before, issued in the future.
        if now.saturating_add(leeway) < nbf {
            return Err(Error::NotYetValid {
                valid_from: Some(nbf),
                now,
            });
        }
        if now.saturating_add(leeway) < iat {
            return Err(Error::NotYetValid {
                valid_from: Some(iat),
                now,
            });
        }
        // Step 12: lifetime.
        if exp - iat > self.max_lifetime {
            return Err(Error::LifetimeTooLong {
                lifetime: Some(exp - iat),
                max: self.max_lifetime,
            });
        }
        // Steps 13-15: issuer, audience, subject: single strings, compared exactly.
        let iss = raw.iss.0.as_ref().and_then(|v| v.as_str());
        if iss != Some(self.issuer.as_str()) {
            return Err(Error::WrongIssuer);
        }
        let aud = raw.aud.0.as_ref().and_then(|v| v.as_str());
        if aud != Some(&*expected.aud) {
            return Err(Error::WrongAudience);
        }
        let sub = raw.sub.0.as_ref().map(|s| s.0.as_ref());
        match &expected.sub {
            Some(want) if sub != Some(&**want) => return Err(Error::WrongSubject),
            None if expected.anonymous && sub.is_some() => return Err(Error::WrongSubject),
            _ => {}
        }
        Ok((iat, nbf, exp))
    }

    /// The verified token, from checked claims and the payload `dat(raw.dat)`.
    fn verified<D, T>(
        &self,
        key: &crate::key::Key,
        expected: &Expected<'_>,
        raw: RawClaims<'_, D>,
        dat: impl FnOnce(D) -> T,
        (iat, nbf, exp): (u64, u64, u64),
    ) -> VerifiedToken<T> {
        VerifiedToken {
            header: Header {
                alg: key.algorithm(),
                kid: key.kid().clone(),
            },
            claims: Claims {
                iss: self.issuer.clone(),
                aud: expected.aud.clone().into_owned(),
                sub: raw.sub.0.map(|s| s.0.into_owned()),
                iat,
                nbf,
                exp,
                jti: raw.jti.0.into_owned(),
                fpr: raw.fpr.0.map(|f| f.0.into_owned()),
                dat: dat(raw.dat),
            },
        }
    }
}
