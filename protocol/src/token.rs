//! Parsing a token string into an [`UntrustedToken`]: the cheap checks before any key is used.

use std::ops::Range;

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::header::{RawHeader, SEALED_ALG, SEALED_ENC, TYP};
use crate::json::object_only::ObjectOnly;

/// The length of a sealed token's AES-GCM nonce (the JWE initialization vector), in bytes.
pub const SEALED_IV_LEN: usize = 12;
/// The length of a sealed token's AES-GCM authentication tag, in bytes.
pub const SEALED_TAG_LEN: usize = 16;

/// The two forms of a tessera token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// A JWS (RFC 7515), three segments: the claims are readable by whoever holds the token.
    Signed,
    /// A JWE (RFC 7516) with `dir` + `A256GCM`, five segments: the claims are encrypted.
    Sealed,
}

impl TokenKind {
    /// `"signed"` or `"sealed"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::Signed => "signed",
            TokenKind::Sealed => "sealed",
        }
    }
}

/// A token that passed the structural checks (steps 1 to 4 of the verification procedure:
/// length cap, segments of canonical base64url, a header of exactly the allowed members, and
/// `typ` = `tessera+jwt`) but whose signature or encryption has **not** been checked. Whether
/// its kind (signed or sealed) is the one a route accepts, the rest of step 4, is the
/// [`Verifier`](crate::Verifier)'s to check. Its
/// accessors are named `untrusted_*`; claims are only reachable through
/// [`Verifier`](crate::Verifier).
///
/// ```
/// use tessera_protocol::{ErrorCode, UntrustedToken};
/// let err = UntrustedToken::parse("not.a-token", 8192).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::Malformed);
/// let err = UntrustedToken::parse(&"a".repeat(9000), 8192).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::TooLarge);
/// ```
pub struct UntrustedToken<'t> {
    token: &'t str,
    kind: TokenKind,
    /// Length of the authenticated prefix in `token`: `header "." claims` for a signed token,
    /// the protected header (the AAD) for a sealed one.
    authenticated_len: usize,
    /// The decoded segments, back to back.
    decoded: Vec<u8>,
    /// Signed: the claims. Sealed: the IV.
    second: Range<usize>,
    /// Signed: the signature. Sealed: the ciphertext followed by the tag.
    third: Range<usize>,
    alg: Option<Algorithm>,
    kid: KidRef,
}

/// The header's kid: parsed from the header, or known because the header is byte-identical to
/// the one a key of the set mints.
#[derive(Clone)]
pub(crate) enum KidRef {
    Parsed(String),
    Known(usize),
}

impl<'t> UntrustedToken<'t> {
    /// Runs the structural checks, in order, and keeps the decoded parts. Nothing about the
    /// key is checked: an unknown kid parses, and so does a bad signature.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tessera_protocol::{Algorithm, KeySet, Minter, TokenKind, UntrustedToken};
    /// let keys = Arc::new(KeySet::generate(Algorithm::EdDsa)?);
    /// let token = Minter::new(keys.clone(), "inventree").token("a").mint()?;
    /// let untrusted = UntrustedToken::parse(&token, 8192)?;
    /// assert_eq!(untrusted.kind(), TokenKind::Signed);
    /// assert_eq!(untrusted.untrusted_alg(), Some(Algorithm::EdDsa));
    /// assert_eq!(untrusted.untrusted_kid(), Some(keys.active().unwrap().kid().as_str()));
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn parse(token: &'t str, max_len: usize) -> Result<UntrustedToken<'t>, Error> {
        UntrustedToken::parse_for(token, max_len, None)
    }

    /// [`UntrustedToken::parse`], recognising headers minted by `keys` without re-parsing them.
    pub(crate) fn parse_for(
        token: &'t str,
        max_len: usize,
        keys: Option<&crate::key_set::KeySet>,
    ) -> Result<UntrustedToken<'t>, Error> {
        // Step 1: the length cap, before anything else looks at the bytes.
        if token.len() > max_len {
            return Err(Error::TooLarge {
                len: token.len(),
                max: max_len,
            });
        }
        // Step 2: compact form: segments separated by dots, each canonical base64url. The
        // base64url decoder below (base64-simd's strict URL_SAFE_NO_PAD) refuses every byte
        // outside [A-Za-z0-9_-] (padding and whitespace included) and non-zero trailing bits,
        // so only the dots need finding here.
        let mut dots = [0usize; 4];
        let mut n_dots = 0;
        for dot in memchr::memchr_iter(b'.', token.as_bytes()) {
            if n_dots == 4 {
                return Err(Error::malformed("a token has three or five segments"));
            }
            dots[n_dots] = dot;
            n_dots += 1;
        }
        let (kind, segments, n_segments): (TokenKind, [&str; 4], usize) = match n_dots {
            2 => (
                TokenKind::Signed,
                [
                    &token[..dots[0]],
                    &token[dots[0] + 1..dots[1]],
                    &token[dots[1] + 1..],
                    "",
                ],
                3,
            ),
            4 => {
                // JWE compact: header . encrypted key . iv . ciphertext . tag; with `dir` the
                // encrypted key is empty.
                if dots[1] != dots[0] + 1 {
                    return Err(Error::malformed(
                        "a token of five segments is sealed, and a sealed token's second \
                         (encrypted-key) segment must be empty (alg dir); this one's is not",
                    ));
                }
                (
                    TokenKind::Sealed,
                    [
                        &token[..dots[0]],
                        &token[dots[1] + 1..dots[2]],
                        &token[dots[2] + 1..dots[3]],
                        &token[dots[3] + 1..],
                    ],
                    4,
                )
            }
            _ => return Err(Error::malformed("a token has three or five segments")),
        };
        let segments = &segments[..n_segments];
        if segments.iter().any(|s| s.is_empty()) {
            return Err(Error::malformed("a token segment is empty"));
        }
        // A header byte-identical to one a key of the set mints is canonical base64url of a
        // valid header: its decoding and parsing can be skipped (it parses the same every time).
        let known = keys.and_then(|keys| keys.index_of_header(segments[0]));
        let mut decoded = Vec::with_capacity(token.len());
        let mut ends = [0usize; 4];
        for (i, segment) in segments.iter().enumerate() {
            if i == 0 && known.is_some() {
                continue;
            }
            base64_simd::URL_SAFE_NO_PAD
                .decode_append(segment, &mut decoded)
                .map_err(|_| Error::malformed("a token segment is not canonical base64url"))?;
            ends[i] = decoded.len();
        }
        let (authenticated_len, second, third) = match kind {
            TokenKind::Signed => (dots[1], ends[0]..ends[1], ends[1]..ends[2]),
            TokenKind::Sealed => {
                if ends[1] - ends[0] != SEALED_IV_LEN || ends[3] - ends[2] != SEALED_TAG_LEN {
                    return Err(Error::malformed(
                        "a sealed token has a 12-byte IV and a 16-byte tag",
                    ));
                }
                // Ciphertext and tag are adjacent in `decoded`, as ring's open_in_place wants.
                (dots[0], ends[0]..ends[1], ends[1]..ends[3])
            }
        };
        if let (Some(index), Some(keys)) = (known, keys) {
            let key = keys.by_index(index);
            // The key's own header: its kind must match the segment count.
            if key.algorithm().is_signature() == (kind == TokenKind::Signed) {
                return Ok(UntrustedToken {
                    token,
                    kind,
                    authenticated_len,
                    second,
                    third,
                    decoded,
                    alg: Some(key.algorithm()),
                    kid: KidRef::Known(index),
                });
            }
            return Err(Error::malformed(match kind {
                TokenKind::Signed => "a signed token's header has no enc",
                TokenKind::Sealed => "a sealed token's header needs enc",
            }));
        }
        // Step 3: the header is a JSON object of exactly the allowed members, all strings.
        let ObjectOnly(header): ObjectOnly<RawHeader<'_>> =
            serde_json::from_slice(&decoded[..ends[0]]).map_err(|_| {
                Error::malformed("the header is not a JSON object of alg, typ and kid")
            })?;
        // Step 4: explicit typing.
        if header.typ.0 != TYP {
            return Err(Error::malformed("the header typ is not tessera+jwt"));
        }
        let kid = header.kid.0.into_owned();
        let alg = match (kind, header.enc.0) {
            (TokenKind::Signed, None) => {
                Algorithm::from_name(&header.alg.0).filter(|a| a.is_signature())
            }
            (TokenKind::Sealed, Some(enc)) => {
                (header.alg.0 == SEALED_ALG && enc.0 == SEALED_ENC).then_some(Algorithm::A256Gcm)
            }
            (TokenKind::Signed, Some(_)) => {
                return Err(Error::malformed("a signed token's header has no enc"));
            }
            (TokenKind::Sealed, None) => {
                return Err(Error::malformed("a sealed token's header needs enc"));
            }
        };
        Ok(UntrustedToken {
            token,
            kind,
            authenticated_len,
            second,
            third,
            decoded,
            alg,
            kid: KidRef::Parsed(kid),
        })
    }

    /// Signed or sealed, from the segment count.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The header's `kid`, unverified. Always `Some` for a token from
    /// [`UntrustedToken::parse`]; the verifier's internal fast path, which recognises a key's
    /// own header byte for byte, does not parse it.
    pub fn untrusted_kid(&self) -> Option<&str> {
        match &self.kid {
            KidRef::Parsed(kid) => Some(kid),
            KidRef::Known(_) => None,
        }
    }

    pub(crate) fn kid_ref(&self) -> &KidRef {
        &self.kid
    }

    /// The algorithm the header asks for, if tessera knows it for this kind of token
    /// (HS256 or EdDSA for signed tokens; A256GCM for sealed `dir` + `A256GCM`), unverified.
    pub fn untrusted_alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// Signed: `header "." claims`. Sealed: the protected header (the AAD).
    pub(crate) fn authenticated(&self) -> &[u8] {
        &self.token.as_bytes()[..self.authenticated_len]
    }

    /// Signed: the signature.
    pub(crate) fn signature(&self) -> &[u8] {
        &self.decoded[self.third.clone()]
    }

    /// Signed: the claims JSON.
    pub(crate) fn claims_json(&self) -> &[u8] {
        &self.decoded[self.second.clone()]
    }

    /// Sealed: opens the ciphertext in place and returns the plaintext claims, or `None` when
    /// authentication fails.
    pub(crate) fn open(&mut self, key: &ring::aead::LessSafeKey) -> Option<&[u8]> {
        let mut iv = [0u8; SEALED_IV_LEN];
        iv.copy_from_slice(&self.decoded[self.second.clone()]);
        let aad = ring::aead::Aad::from(&self.token.as_bytes()[..self.authenticated_len]);
        let in_out = &mut self.decoded[self.third.clone()];
        key.open_in_place(ring::aead::Nonce::assume_unique_for_key(iv), aad, in_out)
            .ok()
            .map(|plain| &*plain)
    }
}

impl std::fmt::Debug for UntrustedToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token text or its claims: they may be logged.
        f.debug_struct("UntrustedToken")
            .field("kind", &self.kind)
            .field("len", &self.token.len())
            .field("untrusted_alg", &self.alg)
            .finish_non_exhaustive()
    }
}
