//! What can go wrong talking to a plugin host: a typed rejection carrying the host's machine
//! code, or a transport / response problem.

use std::fmt;

use tessera_protocol::{ErrorCode, wire};

/// A machine code from a host's `application/problem+json` rejection (its `code` member): one
/// of the HTTP binding's codes ([`wire::Code`], the same table the server answers from), or
/// any other, kept verbatim in [`Code::Other`], so no information is lost when a newer host
/// sends a code this client does not know yet.
///
/// ```
/// use tessera_client::Code;
/// use tessera_protocol::{ErrorCode, wire};
///
/// assert_eq!(Code::parse("expired"), ErrorCode::Expired); // compares with ErrorCode directly
/// assert_eq!(Code::parse("replayed"), wire::Code::Replayed); // and with the binding's codes
/// assert_eq!(Code::parse("rate_limited"), Code::Other("rate_limited".to_owned()));
/// // The text comes back exactly as it was sent.
/// for code in ["expired", "replayed", "bad_identity", "teapot"] {
///     assert_eq!(Code::parse(code).as_str(), code);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// A code of the HTTP binding (spec §6): a token verification code
    /// (`wire::Code::Protocol(ErrorCode::Expired)`, …) or one the binding adds around tokens
    /// (`replayed`, `bad_input`, …).
    Known(wire::Code),
    /// Any other code, kept verbatim.
    Other(String),
}

impl Code {
    /// Parses a machine code; never fails (unknown codes become [`Code::Other`]).
    pub fn parse(code: &str) -> Code {
        wire::Code::from_name(code).map_or_else(|| Code::Other(code.to_owned()), Code::Known)
    }

    /// The machine code as text, exactly as the host sent it.
    pub fn as_str(&self) -> &str {
        match self {
            Code::Known(code) => code.as_str(),
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
            Code::Known(code) => code.protocol(),
            Code::Other(_) => None,
        }
    }
}

impl From<wire::Code> for Code {
    fn from(code: wire::Code) -> Code {
        Code::Known(code)
    }
}

impl From<ErrorCode> for Code {
    fn from(code: ErrorCode) -> Code {
        Code::Known(code.into())
    }
}

impl PartialEq<ErrorCode> for Code {
    fn eq(&self, other: &ErrorCode) -> bool {
        self.token_code() == Some(*other)
    }
}

impl PartialEq<wire::Code> for Code {
    fn eq(&self, other: &wire::Code) -> bool {
        *self == Code::Known(*other)
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
///     code: Code::from(ErrorCode::Expired),
///     title: None,
///     detail: Some("token expired 40s ago".to_owned()),
/// });
/// assert_eq!(err.code(), Some(&Code::from(ErrorCode::Expired)));
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
