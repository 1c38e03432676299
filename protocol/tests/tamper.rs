//! Properties: changing any byte of a valid token makes verification fail; a token segment is
//! accepted exactly when it is canonical base64url.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::Value;
use tessera_protocol::{DEFAULT_MAX_TOKEN_LEN, ErrorCode, UntrustedToken};

use crate::util::*;

fn token_for(alg_ed: bool) -> (std::sync::Arc<tessera_protocol::KeySet>, String) {
    let keys = if alg_ed { ed_keys() } else { hs_keys() };
    let token = minter(&keys)
        .token(AUD)
        .subject(SUB)
        .payload(&transfer())
        .mint()
        .unwrap();
    (keys, token)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_changed_byte_is_refused(ed in any::<bool>(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (keys, token) = token_for(ed);
        let mut bytes = token.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        // Any byte, including ones that make the text invalid UTF-8.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        prop_assume!(text != token);
        prop_assert!(verifier(&keys).verify::<Value>(&text, &expected()).is_err());
    }

    #[test]
    fn arbitrary_input_never_panics(s in ".{0,600}") {
        let keys = hs_keys();
        prop_assert!(verifier(&keys).verify::<Value>(&s, &expected()).is_err());
    }

    #[test]
    fn a_segment_is_accepted_exactly_when_it_is_canonical_base64url(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(SEGMENT_CHARS.to_vec())), 0..3),
        second in any::<bool>(),
    ) {
        // Start from a canonical encoding (so that acceptance is often the right answer), then
        // change up to two characters to anything a careless encoder might write: a padding
        // '=', the standard alphabet's '+' and '/', a space, or a letter that sets a trailing bit.
        let mut segment = URL_SAFE_NO_PAD.encode(&bytes).into_bytes();
        for (at, c) in &edits {
            if !segment.is_empty() {
                let i = at.index(segment.len());
                segment[i] = *c;
            }
        }
        let segment = String::from_utf8(segment).expect("ASCII");
        let (_, token) = token_for(false);
        let parts: Vec<&str> = token.split('.').collect();
        // The segment as the claims (second) or as the signature (third) of a signed token.
        let tampered = if second {
            format!("{}.{segment}.{}", parts[0], parts[2])
        } else {
            format!("{}.{}.{segment}", parts[0], parts[1])
        };
        // The reference: the `base64` crate's strict URL-safe, unpadded decoder.
        let canonical = !segment.is_empty() && URL_SAFE_NO_PAD.decode(&segment).is_ok();
        let parsed = UntrustedToken::parse(&tampered, DEFAULT_MAX_TOKEN_LEN);
        prop_assert_eq!(parsed.is_ok(), canonical, "segment {:?}", segment);
        if let Err(e) = parsed {
            prop_assert_eq!(e.code(), ErrorCode::Malformed);
        }
    }
}

/// Characters a segment may be edited to: base64url's own, and what a non-canonical or
/// standard-alphabet encoder writes.
const SEGMENT_CHARS: &[u8] = b"AaBbQgw-_09=+/ .\n";
