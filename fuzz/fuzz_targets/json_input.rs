//! Arbitrary text through the spec's JSON rules (`tessera_protocol::json_rules`), which hold
//! the JSON a user gives (the CLI's `--payload` / `--input`, an action's input) to the
//! token's rules: no repeated member name at any depth, no unpaired surrogate escape, no
//! number beyond binary64.
//!
//! Properties: never a panic; what the rules accept serde_json accepts too, as the same value
//! (the rules only ever refuse more); writing the value and reading it under the rules again
//! gives the same value (a second pass is stable); the one-pass typed path and the full check
//! agree (accepting as a `Value` and as a type that ignores everything go together); and a
//! refusal names one of the documented rules, in fixed words.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use serde_json::Value;
use tessera_protocol::json_rules::{self, JsonRuleError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match json_rules::from_str::<Value>(text) {
        Ok(value) => accepted(text, &value),
        Err(err) => refused(text, &err),
    }
});

fn accepted(text: &str, value: &Value) {
    let plain: Value =
        serde_json::from_str(text).expect("the rules accepted what serde_json refuses");
    assert_eq!(
        &plain, value,
        "the rules read another value than serde_json"
    );
    let written = serde_json::to_string(value).expect("a parsed value writes");
    let again: Value = json_rules::from_str(&written).expect("a written value follows the rules");
    assert_eq!(&again, value, "a second pass changed the value");
    assert_eq!(serde_json::to_string(&again).expect("writes"), written);
    json_rules::from_str::<IgnoredAny>(text).expect("accepted as a Value, so as anything");
}

/// The rules as `JsonRuleError::Rule` names them (fixed words: a refusal never quotes the text).
const RULES: [&str; 5] = [
    "repeats a member name",
    "has a number out of range",
    "has an unpaired surrogate escape",
    "nests deeper than 127 levels",
    "is not valid JSON",
];

fn refused(text: &str, err: &JsonRuleError) {
    match err {
        // Any text: a `Value` takes every JSON text, so only a rule can refuse it.
        JsonRuleError::DoesNotFit(reason) => panic!("a Value does not fit: {reason}"),
        JsonRuleError::Rule(rule) => assert!(RULES.contains(rule), "undocumented rule {rule:?}"),
    }
    // The ignoring type is refused too: the rules hold whatever the type reads.
    assert!(
        json_rules::from_str::<IgnoredAny>(text).is_err(),
        "the one pass skipped a rule"
    );
}
