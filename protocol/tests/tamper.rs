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

    // Arbitrary text almost never has the shape of a token, so the property above stops at
    // the first structural check. This one gets past it: token-shaped input reaches header
    // parsing, key lookup, the algorithm checks and the signature or decryption check.
    #[test]
    fn token_shaped_input_never_panics_and_is_refused(token in token_shaped()) {
        let keys = hs_and_sealing_keys();
        let refused = verifier(&keys).verify::<Value>(&token, &expected());
        prop_assert!(refused.is_err(), "accepted {:?}", token);
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

/// HS256 `hs1` and the A256GCM sealing key `se1`: signed and sealed input both find a key.
fn hs_and_sealing_keys() -> std::sync::Arc<tessera_protocol::KeySet> {
    use tessera_protocol::{Key, KeySet, Kid};
    let mut set =
        KeySet::with_active(Key::hs256(Kid::new("hs1").unwrap(), &HS_SECRET).unwrap()).unwrap();
    set.insert(Key::a256gcm(Kid::new("se1").unwrap(), &[0x33; 32]).unwrap())
        .unwrap();
    std::sync::Arc::new(set)
}

/// A header member: a value tessera or a careless issuer writes, any short text, or absent.
fn member(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        4 => prop::sample::select(values).prop_map(|v| Some(v.to_owned())),
        1 => ".{0,12}".prop_map(Some),
        1 => Just(None),
    ]
}

/// Raw segment bytes: often the lengths a sealed token's IV (12) and tag (16) must have.
fn segment_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 12),
        prop::collection::vec(any::<u8>(), 16),
        prop::collection::vec(any::<u8>(), 32),
        prop::collection::vec(any::<u8>(), 0..120),
    ]
}

/// Input with a token's shape: `h.c.s` or `h..iv.ct.tag`, every segment canonical base64url;
/// the header is the HS256 key's own header byte for byte, a JSON object of likely and
/// unlikely members, or raw bytes.
fn token_shaped() -> impl Strategy<Value = String> {
    let json_header = (
        member(&["HS256", "EdDSA", "none", "dir", "A256GCM", "hs256"]),
        member(&["tessera+jwt", "JWT"]),
        member(&["hs1", "se1", "ed1", ""]),
        member(&["A256GCM", "A128GCM"]),
        any::<bool>(),
    )
        .prop_map(|(alg, typ, kid, enc, with_enc)| {
            let mut header = serde_json::Map::new();
            for (name, value) in [("alg", alg), ("typ", typ), ("kid", kid)] {
                if let Some(value) = value {
                    header.insert(name.to_owned(), Value::from(value));
                }
            }
            if let (true, Some(enc)) = (with_enc, enc) {
                header.insert("enc".to_owned(), Value::from(enc));
            }
            Value::Object(header).to_string().into_bytes()
        });
    let header = prop_oneof![
        1 => Just(HEADER.as_bytes().to_vec()),
        4 => json_header,
        1 => prop::collection::vec(any::<u8>(), 1..40),
    ];
    (
        header,
        prop::collection::vec(segment_bytes(), 3),
        any::<bool>(),
    )
        .prop_map(|(header, rest, sealed)| {
            let h = URL_SAFE_NO_PAD.encode(header);
            let [a, b, c] = [&rest[0], &rest[1], &rest[2]].map(|s| URL_SAFE_NO_PAD.encode(s));
            if sealed {
                format!("{h}..{a}.{b}.{c}")
            } else {
                format!("{h}.{a}.{b}")
            }
        })
}
