//! Terminal-safe text: whatever a host (or a token) says is printed with its control
//! characters escaped, so it cannot move the cursor, recolour the terminal, forge lines, or
//! reorder what is shown (bidirectional overrides).

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

/// Whether `c` is a control character: C0 (U+0000–U+001F), DEL (U+007F) or C1
/// (U+0080–U+009F), which terminals act on (escape sequences, CR, LF, CSI …), or a
/// bidirectional formatting character, which reorders the text around it on display.
fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}') || is_bidi(c)
}

/// The bidirectional formatting characters (Unicode UAX #9): marks, embeddings, overrides,
/// isolates.
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// `text` with every control character written as `\u{XX}` (an ESC becomes `\u{1b}`, a line
/// feed `\u{a}`): one line of inert text. Text without control characters is returned as is.
pub(crate) fn text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `value` as pretty-printed JSON that is safe on a terminal and still the same JSON:
/// serde_json already escapes C0 characters in strings; DEL, C1 and bidirectional formatting
/// characters (which it writes raw) become `\u007f`, `\u009b`, `\u202e`, …. Outside strings JSON text has no such characters, so the
/// replacement only ever touches string contents.
pub(crate) fn json(value: &Value) -> String {
    // The line feeds and spaces of pretty printing stay; C0 in strings is already escaped.
    let raw = |c: char| matches!(c, '\u{7f}'..='\u{9f}') || is_bidi(c);
    let pretty = format!("{value:#}");
    if !pretty.chars().any(raw) {
        return pretty;
    }
    let mut out = String::with_capacity(pretty.len() + 8);
    for c in pretty.chars() {
        if raw(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_other_text_is_kept() {
        assert_eq!(text("plain · ünïcode"), "plain · ünïcode");
        assert_eq!(
            text("a\u{1b}[31mb\r\nc\u{7f}\u{9b}d\0"),
            "a\\u{1b}[31mb\\u{d}\\u{a}c\\u{7f}\\u{9b}d\\u{0}"
        );
        // A right-to-left override would show "evil.exe" as "exe.live" and the like.
        assert_eq!(
            text("ok\u{202e}txt.exe\u{2066}x\u{2069}"),
            "ok\\u{202e}txt.exe\\u{2066}x\\u{2069}"
        );
    }

    #[test]
    fn json_stays_the_same_json() {
        let value = serde_json::json!({"k\u{9b}": "a\u{1b}b\u{7f}c\u{85}\u{202e}", "n": 1});
        let shown = json(&value);
        assert!(
            !shown.chars().any(|c| is_control(c) && c != '\n'),
            "{shown}"
        );
        assert_eq!(serde_json::from_str::<Value>(&shown).unwrap(), value);
    }
}
