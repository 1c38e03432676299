//! Integration tests of tessera-protocol, one binary. Each module proves one family of behaviour.

mod util;

// Known answers from RFC 7515 A.1, RFC 7520 §4.4, RFC 8037 A.4 and a pinned tessera token.
mod rfc_examples;
// Mint then verify, HS256 and EdDSA, with a typed payload.
mod round_trip;
// One or more real tokens built to cause each ErrorCode.
mod error_codes;
// Algorithm confusion: header alg vs key alg, public key used as HMAC secret, alg none.
mod alg_confusion;
// Rotation and retirement; key-set file format, file and environment loading.
mod key_sets;
// Debug/Display of secret-bearing types and error messages leak nothing.
mod secrets;
// proptest: any changed byte of a valid token is refused.
mod tamper;
// spec/vectors: drift from the generator, and the Rust verifier over every case.
mod vectors;
// The Python reference implementation against this crate, and the spec's error table.
mod cross_impl;
// Sealed tokens (JWE dir + A256GCM).
mod sealed;
// Whole-file writes and trusted key-file reads (`tessera_protocol::file`).
mod files;
// spec/vectors/derive.json: key sets derived from a host secret (spec §3.7).
mod derive;
