//! Strict JSON helpers: the spec's JSON rules at any depth, and "string or anything else".

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The deepest nesting claims may have (spec §2.4): the claims object is depth 1, and each
/// array or object inside it adds one, so `dat` may hold 63 levels of containers.
pub(crate) const MAX_CLAIMS_DEPTH: usize = 64;

/// Deserializes any JSON value under the spec's JSON rules (§2.4), at any depth: an object
/// with a repeated member name is refused here; serde_json refuses the rest as it reads every
/// value in full: invalid UTF-8, unpaired surrogate escapes, numbers out of binary64 range
/// (`1e400`, or an integer of 400 digits), NaN literals, nesting deeper than 127.
pub(crate) struct JsonRules;

impl<'de> Deserialize<'de> for JsonRules {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Rules { levels: usize::MAX }.deserialize(d)
    }
}

/// [`JsonRules`] with at most `levels` more levels of arrays and objects.
#[derive(Clone, Copy)]
struct Rules {
    levels: usize,
}

impl<'de> DeserializeSeed<'de> for Rules {
    type Value = JsonRules;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonRules, D::Error> {
        d.deserialize_any(RulesVisitor(self))
    }
}

impl Rules {
    /// The seed of the values inside one more container.
    fn inside<E: de::Error>(self) -> Result<Rules, E> {
        match self.levels.checked_sub(1) {
            Some(levels) => Ok(Rules { levels }),
            None => Err(E::custom(TOO_DEEP)),
        }
    }
}

pub(crate) struct RulesVisitor(Rules);

/// The levels a member of the claims object may still hold.
/// The visitor that holds one claim's value (any JSON) to the rules.
pub(crate) fn claim_value() -> RulesVisitor {
    RulesVisitor(CLAIM_VALUE)
}

const CLAIM_VALUE: Rules = Rules {
    levels: MAX_CLAIMS_DEPTH - 1,
};

impl<'de> Visitor<'de> for RulesVisitor {
    type Value = JsonRules;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<JsonRules, E> {
        Ok(JsonRules)
    }
    fn visit_i64<E>(self, _: i64) -> Result<JsonRules, E> {
        Ok(JsonRules)
    }
    fn visit_u64<E>(self, _: u64) -> Result<JsonRules, E> {
        Ok(JsonRules)
    }
    fn visit_f64<E>(self, _: f64) -> Result<JsonRules, E> {
        Ok(JsonRules)
    }
    fn visit_str<E>(self, _: &str) -> Result<JsonRules, E> {
        Ok(JsonRules)
    }
    fn visit_unit<E>(self) -> Result<JsonRules, E> {
        Ok(JsonRules)
    }
    fn visit_none<E>(self) -> Result<JsonRules, E> {
        Ok(JsonRules)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonRules, A::Error> {
        let inside = self.0.inside()?;
        while seq.next_element_seed(inside)?.is_some() {}
        Ok(JsonRules)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonRules, A::Error> {
        let inside = self.0.inside()?;
        // A short list while objects are small, a hash set beyond: a body of thousands of
        // members costs linear time, not quadratic.
        let mut seen: Vec<Cow<'de, str>> = Vec::new();
        let mut many: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            let repeated = match &mut many {
                Some(set) => !set.insert(key.0),
                None if seen.contains(&key.0) => true,
                None if seen.len() < LINEAR_NAMES => {
                    seen.push(key.0);
                    false
                }
                None => {
                    let mut set: HashSet<_> = seen.drain(..).collect();
                    set.insert(key.0);
                    many = Some(set);
                    false
                }
            };
            if repeated {
                return Err(de::Error::custom(DUPLICATE));
            }
            map.next_value_seed(inside)?;
        }
        Ok(JsonRules)
    }
}

/// How many member names of one object are compared one by one before a hash set takes over.
const LINEAR_NAMES: usize = 16;

/// The error message of a repeated member name.
const DUPLICATE: &str = "duplicate member";
/// The error message of nesting beyond the levels allowed.
const TOO_DEEP: &str = "nested too deep";

/// Checks the JSON text `json` against the spec's JSON rules (see [`JsonRules`]); on failure,
/// which rule it breaks, in words (never the input).
pub(crate) fn check_json_rules(json: &str) -> Result<(), &'static str> {
    check_json_rules_within(json, usize::MAX)
}

/// [`check_json_rules`], and at most `levels` levels of arrays and objects (a scalar has
/// none, `[{}]` two): a claims payload is checked with `MAX_CLAIMS_DEPTH - 1`.
pub(crate) fn check_json_rules_within(json: &str, levels: usize) -> Result<(), &'static str> {
    let mut de = serde_json::Deserializer::from_str(json);
    let Err(e) = Rules { levels }.deserialize(&mut de).and_then(|_| de.end()) else {
        return Ok(());
    };
    // serde_json's messages name the rule, then the position; only the rule is kept.
    let message = e.to_string();
    let broken = |rule: &str| message.starts_with(rule);
    Err(if broken(DUPLICATE) {
        "the payload repeats a member name"
    } else if broken("number out of range") {
        "the payload has a number out of range"
    } else if broken("lone leading surrogate")
        || broken("unexpected end of hex escape")
        || broken("invalid unicode code point")
    {
        "the payload has an unpaired surrogate escape"
    } else if broken(TOO_DEEP) {
        "the claims nest deeper than 64 levels"
    } else if broken("recursion limit exceeded") {
        "the payload nests deeper than 127 levels"
    } else {
        "the payload is not valid JSON"
    })
}

/// A string that borrows from the input when it has no escapes.
pub(crate) struct CowStr<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = CowStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<CowStr<'a>, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<CowStr<'a>, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<CowStr<'a>, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::JsonRules;

    /// JSON text (as serde_json writes it, or with spaces) whose objects may repeat names.
    pub(crate) fn json_text() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec![
            "a",
            "b",
            "ab",
            "",
            "a\\n",
            "\\u0061",
            "x\\\"y",
            "a-long-member-name",
            "a-long-member-name\\\"and-more",
        ]);
        let leaf = prop_oneof![
            Just("1".to_owned()),
            Just("null".to_owned()),
            Just(r#""v""#.to_owned()),
            Just(r#""q\"{\"a\":1}""#.to_owned()),
            Just(r#""\\""#.to_owned()),
            Just(r#""a string of some length, over eight bytes""#.to_owned()),
            Just(r#""a long string\"with {\"a\":1,\"a\":2} inside\\""#.to_owned()),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((name.clone(), inner, any::<bool>()), 0..5).prop_map(|m| {
                    let members: Vec<String> = m
                        .into_iter()
                        .map(|(k, v, spaced)| {
                            if spaced {
                                format!(" \"{k}\" : {v} ")
                            } else {
                                format!("\"{k}\":{v}")
                            }
                        })
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    pub(crate) fn walk(json: &str) -> bool {
        serde_json::from_str::<JsonRules>(json).is_err()
    }

    #[test]
    fn each_broken_json_rule_is_named_without_quoting_the_input() {
        use super::check_json_rules;
        let deep = format!("{}1{}", "[".repeat(130), "]".repeat(130));
        for (json, rule) in [
            (r#"{"secret":1,"secret":2}"#, Some("repeats a member name")),
            (
                r#"{"a":{"secret":[1,{"b":1,"\u0062":2}]}}"#,
                Some("repeats a member name"),
            ),
            (r#"{"secret":1e400}"#, Some("number out of range")),
            (r#"[-1e400]"#, Some("number out of range")),
            (
                &format!(r#"{{"secret":{}}}"#, "9".repeat(400)),
                Some("number out of range"),
            ),
            (r#"{"secret":"\ud800"}"#, Some("unpaired surrogate")),
            (r#"{"secret":"\udc00x"}"#, Some("unpaired surrogate")),
            (&deep, Some("deeper than 127")),
            (r#"{"secret":1,}"#, Some("not valid JSON")),
            (
                r#"{"a":1.7976931348623157e308,"b":"\ud83d\ude00","c":[[[]]]}"#,
                None,
            ),
        ] {
            let got = check_json_rules(json);
            match rule {
                None => assert_eq!(got, Ok(()), "{json}"),
                Some(rule) => {
                    let message = got.expect_err(json);
                    assert!(message.contains(rule), "{json}: {message}");
                    assert!(!message.contains("secret"), "{message}");
                }
            }
        }
    }
}
