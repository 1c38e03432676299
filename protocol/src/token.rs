//! Parsing a token string into an [`UntrustedToken`]: the cheap checks before any key is used.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::header::{RawHeader, TYP};
use crate::{Algorithm, Error};

/// The default cap on a token's length, in bytes (checked before any decoding).
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// A token that passed the structural checks (steps 1 to 4 of the verification procedure:
/// length cap, three canonical base64url segments, a header of exactly `alg`/`typ`/`kid`, and
/// `typ` = `tessera+jwt`) but whose signature has **not** been checked. Its accessors are named
/// `untrusted_*`; claims are only reachable through [`Verifier`](crate::Verifier).
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
    /// Length of `header "." claims` in `token`.
    signing_input_len: usize,
    /// The three decoded segments, back to back.
    decoded: Vec<u8>,
    claims: Range<usize>,
    signature: Range<usize>,
    alg: Option<Algorithm>,
    kid: String,
}

impl<'t> UntrustedToken<'t> {
    /// Runs the structural checks, in order, and keeps the decoded parts.
    pub fn parse(token: &'t str, max_len: usize) -> Result<UntrustedToken<'t>, Error> {
        // Step 1: the length cap, before anything else looks at the bytes.
        if token.len() > max_len {
            return Err(Error::TooLarge {
                len: token.len(),
                max: max_len,
            });
        }
        // Step 2: compact form: [A-Za-z0-9_-] segments, exactly two dots, canonical base64url.
        let bytes = token.as_bytes();
        let mut dots = [0usize; 2];
        let mut n_dots = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'.' {
                if n_dots == 2 {
                    return Err(Error::malformed("a token has exactly three segments"));
                }
                dots[n_dots] = i;
                n_dots += 1;
            } else if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(Error::malformed(
                    "a token contains only base64url characters and two dots",
                ));
            }
        }
        if n_dots != 2 {
            return Err(Error::malformed("a token has exactly three segments"));
        }
        let segments = [
            &token[..dots[0]],
            &token[dots[0] + 1..dots[1]],
            &token[dots[1] + 1..],
        ];
        if segments.iter().any(|s| s.is_empty()) {
            return Err(Error::malformed("a token segment is empty"));
        }
        let mut decoded = Vec::with_capacity(token.len());
        let mut ends = [0usize; 3];
        for (i, segment) in segments.iter().enumerate() {
            URL_SAFE_NO_PAD
                .decode_vec(segment, &mut decoded)
                .map_err(|_| Error::malformed("a token segment is not canonical base64url"))?;
            ends[i] = decoded.len();
        }
        // Step 3: the header is a JSON object with exactly alg, typ and kid, all strings.
        let header: RawHeader<'_> = serde_json::from_slice(&decoded[..ends[0]])
            .map_err(|_| Error::malformed("the header is not a JSON object of alg, typ and kid"))?;
        // Step 4: explicit typing.
        if header.typ.0 != TYP {
            return Err(Error::malformed("the header typ is not tessera+jwt"));
        }
        let alg = Algorithm::from_name(&header.alg.0);
        let kid = header.kid.0.into_owned();
        Ok(UntrustedToken {
            token,
            signing_input_len: dots[1],
            claims: ends[0]..ends[1],
            signature: ends[1]..ends[2],
            decoded,
            alg,
            kid,
        })
    }

    /// The header's `kid`, unverified.
    pub fn untrusted_kid(&self) -> &str {
        &self.kid
    }

    /// The header's `alg` if it names an algorithm tessera knows, unverified.
    pub fn untrusted_alg(&self) -> Option<Algorithm> {
        self.alg
    }

    pub(crate) fn signing_input(&self) -> &[u8] {
        &self.token.as_bytes()[..self.signing_input_len]
    }

    pub(crate) fn signature(&self) -> &[u8] {
        &self.decoded[self.signature.clone()]
    }

    pub(crate) fn claims_json(&self) -> &[u8] {
        &self.decoded[self.claims.clone()]
    }
}

impl std::fmt::Debug for UntrustedToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token text or its claims: they may be logged.
        f.debug_struct("UntrustedToken")
            .field("len", &self.token.len())
            .field("untrusted_alg", &self.alg)
            .finish_non_exhaustive()
    }
}
