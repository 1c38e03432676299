//! # tessera-protocol
//!
//! Signed, expiring **action tokens**: a plugin panel packs the data a button's action needs
//! into a token; the action endpoint, on any worker process or machine, verifies and unpacks
//! it. No shared server-side state. A forged, altered, expired or misdirected token is refused
//! with a stable [`ErrorCode`].
//!
//! Tokens are JWTs (RFC 7519) in JWS compact form (RFC 7515) with `typ: "tessera+jwt"`,
//! signed with HS256 or Ed25519 through `jsonwebtoken`'s crypto seam implemented on ring
//! ([`crypto`]), or *sealed*: the same claims encrypted as a JWE (RFC 7516, `dir` +
//! `A256GCM`; [`TokenBuilder::seal`], verified with [`Accept::Sealed`]). The profile follows
//! RFC 8725; `spec/PROTOCOL.md` is the normative text.
//!
//! ## Getting started
//!
//! ```
//! use std::sync::Arc;
//! use serde::{Deserialize, Serialize};
//! use tessera_protocol::{Algorithm, ErrorCode, Expected, KeySet, Minter, Verifier};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Transfer { part_id: u32, qty: u32 }
//!
//! // One key set for the whole deployment (in production: KeySet::from_file or from_env).
//! let keys = Arc::new(KeySet::generate(Algorithm::Hs256)?);
//! let minter = Minter::new(keys.clone(), "inventree");
//! let verifier = Verifier::new(keys, "inventree");
//!
//! // At render time, on any worker:
//! let action = "plugin:stock-tools/action:transfer";
//! let token = minter.token(action).subject("user:42")
//!     .payload(&Transfer { part_id: 1234, qty: 25 }).mint()?;
//!
//! // At click time, on any other worker:
//! let verified = verifier.verify::<Transfer>(&token, &Expected::audience(action).subject("user:42"))?;
//! assert_eq!(verified.claims.dat, Transfer { part_id: 1234, qty: 25 });
//!
//! // Someone else's click is refused with a stable code.
//! let err = verifier.verify::<Transfer>(&token, &Expected::audience(action).subject("user:7")).unwrap_err();
//! assert_eq!(err.code(), ErrorCode::WrongSubject);
//! # Ok::<(), tessera_protocol::Error>(())
//! ```
#![forbid(unsafe_code)]

mod action_id;
mod algorithm;
mod claims;
mod clock;
mod derive;
mod error;
mod header;
mod json;
mod jwk;
mod key;
mod key_set;
mod kid;
mod limits;
mod mint;
mod principal;
mod token;
mod verify;

pub mod crypto;
pub mod dangerous;
pub mod file;
pub use crate::json::rules as json_rules;
pub mod wire;

pub use crate::action_id::ActionId;
pub use crate::algorithm::Algorithm;
pub use crate::claims::{Claims, MAX_FPR_LEN};
pub use crate::clock::{Clock, FixedClock, SystemClock};
pub use crate::derive::{DERIVE_SALT, MAX_DERIVE_LABEL, MIN_DERIVE_SECRET, derive_keys};
pub use crate::error::{Error, ErrorCode, json_error_category};
pub use crate::header::{Header, TYP};
pub use crate::header::{SEALED_ALG, SEALED_ENC};
pub use crate::key::{A256GCM_KEY_LEN, ED25519_KEY_LEN, Key, MIN_HS256_SECRET};
pub use crate::key_set::{KEYS_ENV, KeySet, MAX_KEY_SET_BYTES, MAX_KEYS};
pub use crate::kid::{Kid, MAX_KID_LEN};
pub use crate::limits::{
    DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, DEFAULT_MAX_TOKEN_LEN, DEFAULT_TTL, Limits, MAX_LEEWAY,
};
pub use crate::mint::{JTI_BYTES, Minter, TokenBuilder};
pub use crate::principal::{MAX_PRINCIPAL_LEN, Principal};
pub use crate::token::{SEALED_IV_LEN, SEALED_TAG_LEN, TokenKind, UntrustedToken};
pub use crate::verify::{Accept, Expected, VerifiedToken, Verifier};

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
