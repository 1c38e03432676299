//! Reading a token **without verifying it**. Only for display (`tessera inspect`) and debugging:
//! nothing read here may be trusted or acted on.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::error::Error;
use crate::limits::DEFAULT_MAX_TOKEN_LEN;

/// The header and claims of a token, decoded but **not verified**.
#[derive(Clone, Debug, PartialEq)]
pub struct Unverified {
    /// The header JSON.
    pub header: Value,
    /// The claims JSON, or `None` for a sealed token (whose claims are encrypted).
    pub claims: Option<Value>,
}

/// Decodes a token's header and claims without checking anything but its shape.
///
/// The length cap (8 KiB) and the segment checks still apply, so hostile input is refused
/// cheaply with the same codes as verification.
///
/// ```
/// use tessera_protocol::dangerous::decode_unverified;
/// let t = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
/// let u = decode_unverified(t)?;
/// assert_eq!(u.header["alg"], "HS256");
/// assert_eq!(u.claims.unwrap()["sub"], "x");
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
pub fn decode_unverified(token: &str) -> Result<Unverified, Error> {
    if token.len() > DEFAULT_MAX_TOKEN_LEN {
        return Err(Error::TooLarge {
            len: token.len(),
            max: DEFAULT_MAX_TOKEN_LEN,
        });
    }
    let segments: Vec<&str> = token.split('.').collect();
    if segments.len() != 3 && segments.len() != 5 {
        return Err(Error::malformed("a token has three or five segments"));
    }
    let json = |segment: &str| -> Result<Value, Error> {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| Error::malformed("a token segment is not canonical base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| Error::malformed("a token segment is not JSON"))
    };
    let header = json(segments[0])?;
    // A sealed token's claims are encrypted: only its protected header is readable.
    let claims = if segments.len() == 3 {
        Some(json(segments[1])?)
    } else {
        None
    };
    Ok(Unverified { header, claims })
}
