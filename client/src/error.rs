//! What can go wrong talking to a plugin host: a typed rejection carrying the host's machine
//! code, or a transport / response problem.

use std::fmt;

use tessera_protocol::ErrorCode;

/// A machine code from a host's `application/problem+json` rejection (its `code` member).
///
/// Token verification codes reuse [`ErrorCode`] (`Code::Token(ErrorCode::Expired)`); codes a
/// host adds around tokens have their own variants; anything else is kept verbatim in
/// [`Code::Other`], so no information is lost when a newer host sends a code this client does
/// not know yet.
///
/// ```
/// use tessera_client::Code;
/// use tessera_protocol::ErrorCode;
///
/// assert_eq!(Code::parse("expired"), Code::Token(ErrorCode::Expired));
/// assert_eq!(Code::parse("expired"), ErrorCode::Expired); // compares with ErrorCode directly
/// assert_eq!(Code::parse("replayed"), Code::Replayed);
/// assert_eq!(Code::parse("rate_limited"), Code::Other("rate_limited".to_owned()));
/// assert_eq!(Code::parse("rate_limited").as_str(), "rate_limited");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// A token verification code, as defined by the protocol (`expired`, `bad_signature`, …).
    Token(ErrorCode),
    /// The request carried no token (`missing_token`).
    MissingToken,
    /// The user's input does not fit the action's input type, or breaks the JSON rules (a
    /// repeated member or form field name) (`bad_input`). A body that does not parse is
    /// `malformed`.
    BadInput,
    /// The token was already used and the action refuses to run twice (`replayed`).
    Replayed,
    /// The host could not check a single-use action's token against its replay store, so the
    /// action did not run (`replay_unavailable`); safe to retry later.
    ReplayUnavailable,
    /// The state the token was minted from has changed since (`stale`).
    Stale,
    /// The route handling the action is not bound to an action id on the host (`unbound_action`).
    UnboundAction,
    /// The request body was neither JSON nor a form (`unsupported_media_type`).
    UnsupportedMediaType,
    /// The host could not mint a button's token, e.g. it has no signing key (`mint_failed`).
    MintFailed,
    /// The request named the user in a form the host cannot use, e.g. a repeated identity
    /// header (`bad_identity`).
    BadIdentity,
    /// The host refused a request a browser sent from a page of another origin
    /// (`cross_origin`); the client sends no such headers, so it sees this only through a
    /// proxy that adds them.
    CrossOrigin,
    /// Any other code, kept verbatim.
    Other(String),
}

impl Code {
    /// Parses a machine code; never fails (unknown codes become [`Code::Other`]).
    ///
    /// ```
    /// use tessera_client::Code;
    /// use tessera_protocol::ErrorCode;
    /// assert_eq!(Code::parse("expired"), Code::Token(ErrorCode::Expired));
    /// assert_eq!(Code::parse("replayed"), Code::Replayed);
    /// assert_eq!(Code::parse("bad_identity"), Code::BadIdentity);
    /// assert_eq!(Code::parse("teapot"), Code::Other("teapot".to_owned()));
    /// // The text comes back exactly as it was sent.
    /// for code in ["expired", "replayed", "bad_identity", "teapot"] {
    ///     assert_eq!(Code::parse(code).as_str(), code);
    /// }
    /// ```
    pub fn parse(code: &str) -> Code {
        if let Some(token) = ErrorCode::from_name(code) {
            return Code::Token(token);
        }
        match code {
            "missing_token" => Code::MissingToken,
            "bad_input" => Code::BadInput,
            "replayed" => Code::Replayed,
            "replay_unavailable" => Code::ReplayUnavailable,
            "stale" => Code::Stale,
            "unbound_action" => Code::UnboundAction,
            "unsupported_media_type" => Code::UnsupportedMediaType,
            "mint_failed" => Code::MintFailed,
            "bad_identity" => Code::BadIdentity,
            "cross_origin" => Code::CrossOrigin,
            other => Code::Other(other.to_owned()),
        }
    }

    /// The machine code as text, exactly as the host sent it.
    pub fn as_str(&self) -> &str {
        match self {
            Code::Token(code) => code.as_str(),
            Code::MissingToken => "missing_token",
            Code::BadInput => "bad_input",
            Code::Replayed => "replayed",
            Code::ReplayUnavailable => "replay_unavailable",
            Code::Stale => "stale",
            Code::UnboundAction => "unbound_action",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::MintFailed => "mint_failed",
            Code::BadIdentity => "bad_identity",
            Code::CrossOrigin => "cross_origin",
            Code::Other(code) => code,
        }
    }

    /// The protocol code, when this is a token verification code.
    ///
    /// ```
    /// use tessera_client::Code;
    /// use tessera_protocol::ErrorCode;
    /// assert_eq!(Code::parse("bad_signature").token_code(), Some(ErrorCode::BadSignature));
    /// assert_eq!(Code::parse("replayed").token_code(), None);
    /// ```
    pub fn token_code(&self) -> Option<ErrorCode> {
        match self {
            Code::Token(code) => Some(*code),
            _ => None,
        }
    }
}

impl PartialEq<ErrorCode> for Code {
    fn eq(&self, other: &ErrorCode) -> bool {
        self.token_code() == Some(*other)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejection from the host: the HTTP status and the RFC 9457 problem details it sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status code (401 for `expired`, 403 for `wrong_audience`, …).
    pub status: u16,
    /// The machine code from the body's `code` member.
    pub code: Code,
    /// The body's `title`, if any.
    pub title: Option<String>,
    /// The body's `detail`, if any.
    pub detail: Option<String>,
}

/// Every error of [`Client`](crate::Client).
///
/// Match on [`ClientError::code`] (the host's typed code) rather than on message text. Messages
/// never contain a token.
///
/// ```
/// use tessera_client::{ClientError, Code, Problem};
/// use tessera_protocol::ErrorCode;
///
/// let err = ClientError::Rejected(Problem {
///     status: 401,
///     code: Code::Token(ErrorCode::Expired),
///     title: None,
///     detail: Some("token expired 40s ago".to_owned()),
/// });
/// assert_eq!(err.code(), Some(&Code::Token(ErrorCode::Expired)));
/// assert_eq!(err.machine_code(), "expired");
/// assert_eq!(err.to_string(), "token expired 40s ago (HTTP 401)");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The host refused the request with a problem+json body carrying a `code`.
    Rejected(Problem),
    /// The host answered with an error status (or a redirect, which the client never follows)
    /// and no problem+json body carrying a `code`.
    #[non_exhaustive]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The `detail` (else `title`) of a problem+json body that has no `code` member, as a
        /// proxy or another framework sends (RFC 9457 defines no `code`).
        detail: Option<String>,
        /// For a redirect (3xx): its `Location` header, as sent. The client does not follow
        /// redirects (a token must not travel anywhere the user did not name); give that URL.
        location: Option<String>,
    },
    /// The request did not complete: connection refused, timeout, I/O error, …
    Transport(reqwest::Error),
    /// The host answered with something that is not what the protocol describes.
    InvalidResponse {
        /// What is wrong with it, in words (never the body).
        reason: String,
    },
    /// The plugin has no button for this action.
    ButtonNotFound {
        /// The plugin that was searched.
        plugin: String,
        /// The action id that was looked for.
        action: String,
        /// The action ids the plugin's buttons do have.
        available: Vec<String>,
    },
    /// The client was configured with something unusable (a base URL, a user name…).
    Config {
        /// What is wrong, in words.
        reason: String,
    },
}

impl ClientError {
    /// The host's machine code, for a [`ClientError::Rejected`].
    pub fn code(&self) -> Option<&Code> {
        match self {
            ClientError::Rejected(problem) => Some(&problem.code),
            _ => None,
        }
    }

    /// A stable machine code for every kind of error: the host's code for a rejection, else one
    /// of `http_status`, `transport`, `invalid_response`, `button_not_found`, `config`.
    pub fn machine_code(&self) -> &str {
        match self {
            ClientError::Rejected(problem) => problem.code.as_str(),
            ClientError::Status { .. } => "http_status",
            ClientError::Transport(_) => "transport",
            ClientError::InvalidResponse { .. } => "invalid_response",
            ClientError::ButtonNotFound { .. } => "button_not_found",
            ClientError::Config { .. } => "config",
        }
    }

    pub(crate) fn invalid_response(reason: impl Into<String>) -> ClientError {
        ClientError::InvalidResponse {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Rejected(p) => {
                let text = p
                    .detail
                    .as_deref()
                    .or(p.title.as_deref())
                    .unwrap_or("the host refused the request");
                write!(f, "{text} (HTTP {})", p.status)
            }
            ClientError::Status {
                status,
                detail,
                location,
            } => match (detail, location) {
                (_, Some(location)) => write!(
                    f,
                    "the host answered HTTP {status}, a redirect to {location}, which this \
                     client does not follow; use that URL if you trust it"
                ),
                (Some(detail), None) => {
                    write!(f, "{detail} (HTTP {status}, without a problem code)")
                }
                (None, None) => {
                    write!(f, "the host answered HTTP {status} without a problem code")
                }
            },
            ClientError::Transport(e) => {
                // reqwest's Display is terse ("error sending request"); add the cause chain.
                write!(f, "request failed: {e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            ClientError::InvalidResponse { reason } => {
                write!(f, "unexpected response from the host: {reason}")
            }
            ClientError::ButtonNotFound {
                plugin,
                action,
                available,
            } => {
                write!(f, "plugin {plugin} has no button for action {action}")?;
                if available.is_empty() {
                    f.write_str(" (it has no buttons)")
                } else {
                    write!(f, " (its actions: {})", available.join(", "))
                }
            }
            ClientError::Config { reason } => write!(f, "invalid client configuration: {reason}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> ClientError {
        ClientError::Transport(e)
    }
}

#[cfg(test)]
mod server_codes {
    use super::Code;

    /// Every code the host's status table defines parses to a named variant, not `Other`.
    #[test]
    fn every_host_code_is_named() {
        let spec =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/PROTOCOL.md"))
                .unwrap();
        let mut seen = 0;
        for line in spec.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (Some(code), Some(status)) = (cells.get(1), cells.get(2)) else {
                continue;
            };
            let (Some(code), true) = (
                code.strip_prefix('`').and_then(|c| c.strip_suffix('`')),
                status.parse::<u16>().is_ok(),
            ) else {
                continue;
            };
            let parsed = Code::parse(code);
            assert!(!matches!(parsed, Code::Other(_)), "{code} parses to Other");
            assert_eq!(parsed.as_str(), code);
            seen += 1;
        }
        assert!(seen >= 20, "only {seen} codes in the spec table");
    }
}
