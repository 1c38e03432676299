//! The principal: who a token is minted for (its subject).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest principal [`Principal::parse`] accepts, in bytes.
pub const MAX_PRINCIPAL_LEN: usize = 256;

/// A principal: the user (or service) a token is minted for and checked against (its `sub`).
///
/// ```
/// use tessera_protocol::Principal;
/// let me = Principal::new("user:42");
/// assert_eq!(me.as_str(), "user:42");
/// // Untrusted text (a header, a cookie) goes through parse, which refuses odd values.
/// assert_eq!(Principal::parse("alice"), Some(Principal::new("alice")));
/// assert_eq!(Principal::parse(""), None);
/// assert_eq!(Principal::parse("a\nb"), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Principal(String);

impl Principal {
    /// Wraps a principal chosen by the application (not checked).
    pub fn new(principal: impl Into<String>) -> Principal {
        Principal(principal.into())
    }

    /// Parses a principal from untrusted text: 1 to [`MAX_PRINCIPAL_LEN`] bytes, no control
    /// characters, no leading or trailing whitespace. Anything else is `None`.
    ///
    /// ```
    /// use tessera_protocol::{MAX_PRINCIPAL_LEN, Principal};
    /// assert_eq!(Principal::parse("user:42"), Some(Principal::new("user:42")));
    /// assert!(Principal::parse(&"a".repeat(MAX_PRINCIPAL_LEN)).is_some());
    /// assert_eq!(Principal::parse(&"a".repeat(MAX_PRINCIPAL_LEN + 1)), None);
    /// assert_eq!(Principal::parse(" alice"), None);
    /// assert_eq!(Principal::parse("alice\u{7f}"), None); // DEL is a control character
    /// ```
    pub fn parse(text: &str) -> Option<Principal> {
        let ok = !text.is_empty()
            && text.len() <= MAX_PRINCIPAL_LEN
            && text.trim() == text
            && !text.chars().any(char::is_control);
        ok.then(|| Principal(text.to_owned()))
    }

    /// The principal as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
