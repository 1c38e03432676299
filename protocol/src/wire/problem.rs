//! The problem+json body of a refused request (RFC 9457, spec §8.3).

use serde::{Deserialize, Serialize};

use super::code::Code;

/// The media type of every refusal body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The prefix of a problem's `type` URI in the reference server; the code follows it, e.g.
/// `https://tessera.invalid/problems/expired`. An identifier, not a page to fetch (`.invalid`
/// is a reserved domain).
pub const PROBLEM_TYPE_BASE: &str = "https://tessera.invalid/problems/";

/// An RFC 9457 problem body with tessera's `code` member, as a server sends it and a client
/// reads it. A client reads `type`, `title` and `detail` as empty when a host leaves them out
/// (clients tell refusals apart by `code` alone, spec §8.3); `code` is kept as sent, so a code
/// this version does not know is not lost ([`Problem::known_code`] names the known ones).
///
/// ```
/// use tessera_protocol::wire::{Code, Problem};
/// let problem = Problem::new(Code::Stale, "the stock changed");
/// assert_eq!(problem.type_, "https://tessera.invalid/problems/stale");
/// assert_eq!((problem.status, problem.title.as_str()), (409, "State changed since the button was rendered"));
/// let sent = serde_json::to_string(&problem)?;
/// let read: Problem = serde_json::from_str(&sent)?;
/// assert_eq!(read, problem);
/// assert_eq!(read.known_code(), Some(Code::Stale));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the problem type: [`PROBLEM_TYPE_BASE`] followed by the code.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// A short human summary of the problem type.
    #[serde(default)]
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// A human explanation of this occurrence (never the token).
    #[serde(default)]
    pub detail: String,
    /// The stable machine code (see [`Code`]), as sent.
    pub code: String,
}

impl Problem {
    /// The body a server sends for `code`, with the table's status and title.
    pub fn new(code: Code, detail: impl Into<String>) -> Problem {
        Problem {
            type_: format!("{PROBLEM_TYPE_BASE}{}", code.as_str()),
            title: code.title().to_owned(),
            status: code.status(),
            detail: detail.into(),
            code: code.as_str().to_owned(),
        }
    }

    /// The code, when it is one this version knows.
    pub fn known_code(&self) -> Option<Code> {
        Code::from_name(&self.code)
    }
}
