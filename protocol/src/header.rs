//! The protected header of a tessera token: exactly `alg`, `typ` and `kid`.

use serde::Deserialize;

use crate::algorithm::Algorithm;
use crate::json::validator::CowStr;
use crate::kid::Kid;

/// The explicit type of every tessera token (RFC 8725 §3.11): the header's `typ`.
pub const TYP: &str = "tessera+jwt";

/// A verified token's header: the algorithm and key that signed it. After a rotation it tells
/// tokens of the old key from those of the new one.
///
/// ```
/// use std::sync::Arc;
/// use tessera_protocol::{Algorithm, Expected, Header, Key, KeySet, Kid, Minter, Verifier};
/// let keys = Arc::new(KeySet::with_active(Key::generate(Algorithm::EdDsa, Kid::new("2026-11")?)?)?);
/// let token = Minter::new(keys.clone(), "inventree").token("a").mint()?;
/// let header = Verifier::new(keys, "inventree").verify::<()>(&token, &Expected::audience("a"))?.header;
/// assert_eq!(header, Header { alg: Algorithm::EdDsa, kid: Kid::new("2026-11")? });
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The algorithm, equal to the key's algorithm.
    pub alg: Algorithm,
    /// The id of the key that signed the token.
    pub kid: Kid,
}

/// The header as it is on the wire, before any trust: only these three members are allowed, each
/// a string; serde refuses duplicates, other members (`crit`, `jwk`, `jku`, `x5u`, `x5c`, …) and
/// other types.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeader<'a> {
    #[serde(borrow)]
    pub(crate) alg: CowStr<'a>,
    #[serde(borrow)]
    pub(crate) typ: CowStr<'a>,
    #[serde(borrow)]
    pub(crate) kid: CowStr<'a>,
    /// Present in (and only in) a sealed token's protected header.
    #[serde(borrow, default)]
    pub(crate) enc: crate::claims::Opt<CowStr<'a>>,
}

/// The JOSE `alg` of a sealed token: a direct, shared content-encryption key.
pub const SEALED_ALG: &str = "dir";
/// The JOSE `enc` of a sealed token.
pub const SEALED_ENC: &str = "A256GCM";

/// The compact JSON of a minted header, members in the spec's order: the JWS header for a
/// signing key, the JWE protected header for a sealing key.
pub(crate) fn minted_header_json(alg: Algorithm, kid: &Kid) -> String {
    // alg names and kids are [A-Za-z0-9._-] only, so no JSON escaping is needed.
    if alg.is_signature() {
        format!(
            r#"{{"alg":"{}","typ":"{TYP}","kid":"{}"}}"#,
            alg.as_str(),
            kid.as_str()
        )
    } else {
        format!(
            r#"{{"alg":"{SEALED_ALG}","enc":"{SEALED_ENC}","typ":"{TYP}","kid":"{}"}}"#,
            kid.as_str()
        )
    }
}
