//! The JSON rules of spec §2.4 and the minted form of §2.6, in one place:
//!
//! - [`one_pass`]: the verifier's one-pass reader — types a value and refuses repeated member
//!   names in the same pass ([`one_pass::Strict`]), falling back to the validator when it
//!   cannot decide cheaply;
//! - [`validator`]: the full validator, at any depth (repeated names, unpaired surrogates,
//!   numbers out of range, nesting);
//! - [`rules`]: the same rules for JSON that travels beside a token (an action's input, a
//!   payload a user types), public as [`json_rules`](crate::json::rules);
//! - [`object_only`]: a struct read from a JSON object only, never from an array of its values;
//! - [`serializer_check`]: what the minter checks of a payload before it signs (NaN, repeated
//!   names, integers beyond 64 bits);
//! - [`minted_form`]: the bytes a minter writes for `dat`.

pub(crate) mod minted_form;
pub(crate) mod object_only;
pub(crate) mod one_pass;
pub mod rules;
pub(crate) mod serializer_check;
pub(crate) mod validator;
