//! Property: changing any byte of a valid token makes verification fail.

use proptest::prelude::*;
use serde_json::Value;

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
}
