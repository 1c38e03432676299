//! Reading a token from an argument or standard input, boundedly.

use std::io::Read as _;

use tessera_protocol::DEFAULT_MAX_TOKEN_LEN;

use crate::failure::Failure;

/// How much surrounding whitespace a token may carry on top of the length cap.
const WHITESPACE_SLACK: usize = 4096;
/// Standard input is read up to this many bytes, never more: a longer input is refused with
/// `too_large` without reading (or buffering) the rest.
pub(crate) const STDIN_LIMIT: usize = DEFAULT_MAX_TOKEN_LEN + WHITESPACE_SLACK;

/// The token text: from the argument, or from stdin when the argument is `-` or absent.
/// Surrounding ASCII whitespace is removed; anything else is left for the verifier to judge,
/// except nothing at all and whitespace inside (two tokens, a token split across lines),
/// which are `malformed` with a message saying so.
pub(crate) fn token(arg: Option<&str>) -> Result<String, Failure> {
    let (text, origin) = match arg {
        Some(token) if token != "-" => (token.to_owned(), "the TOKEN argument is empty or blank"),
        _ => (read_stdin()?, "standard input is empty or blank"),
    };
    let token = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if token.is_empty() {
        return Err(Failure::new(
            "malformed",
            format!("no token was given: {origin} (give the token as an argument or on stdin)"),
        ));
    }
    if token.contains(|c: char| c.is_ascii_whitespace()) {
        // No token holds whitespace: this is more than one token, or a token cut by a line
        // break. Said plainly rather than through what the verifier would make of the joint.
        return Err(Failure::new(
            "malformed",
            "the input holds whitespace inside the token (more than one token, or a token split \
             across lines?); give exactly one token",
        ));
    }
    Ok(token.to_owned())
}

fn read_stdin() -> Result<String, Failure> {
    let mut buf = Vec::with_capacity(1024);
    std::io::stdin()
        .lock()
        .take(STDIN_LIMIT as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::io(format!("cannot read the token from standard input: {e}")))?;
    if buf.len() > STDIN_LIMIT {
        return Err(Failure::new(
            "too_large",
            format!(
                "the token on standard input is longer than {STDIN_LIMIT} bytes; the limit is {DEFAULT_MAX_TOKEN_LEN}"
            ),
        ));
    }
    String::from_utf8(buf)
        .map_err(|_| Failure::new("malformed", "the token on standard input is not UTF-8 text"))
}
