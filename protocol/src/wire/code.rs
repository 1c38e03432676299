//! Every refusal code of the HTTP binding with its status and title: the one table (spec §6).

use std::fmt;

use crate::error::ErrorCode;

/// A stable machine code of a refused request: either a protocol [`ErrorCode`] (verification
/// failures, and `too_large` / `malformed` for request bodies) or one of the codes only the
/// HTTP binding has.
///
/// ```
/// use tessera_protocol::ErrorCode;
/// use tessera_protocol::wire::Code;
///
/// assert_eq!(Code::Protocol(ErrorCode::Expired).status(), 401);
/// assert_eq!(Code::Protocol(ErrorCode::WrongAudience).as_str(), "wrong_audience");
/// assert_eq!(Code::MissingToken.status(), 400);
/// assert_eq!(Code::from_name("bad_input"), Some(Code::BadInput));
/// assert_eq!(Code::from_name("teapot"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// A protocol code (`malformed`, `expired`, `wrong_audience`, …).
    Protocol(ErrorCode),
    /// `missing_token`: no token in the JSON body, the form field or the `Tessera-Token` header.
    MissingToken,
    /// `unsupported_media_type`: a non-empty body that is neither JSON nor a urlencoded form.
    UnsupportedMediaType,
    /// `bad_input`: the user's `input` does not fit the action's input type, or breaks the JSON
    /// rules (a repeated member or form field name). A body that does not parse is `malformed`.
    BadInput,
    /// `unbound_action`: the handler's route was not declared with an action id, so the server
    /// does not know which action it is.
    UnboundAction,
    /// `mint_failed`: the server could not mint a button's token (e.g. no signing key).
    MintFailed,
    /// `replayed`: a single-use action's token was used before.
    Replayed,
    /// `replay_unavailable`: the replay guard's store could not be reached; the single-use
    /// action failed closed and did not run (safe to retry later).
    ReplayUnavailable,
    /// `stale`: the state the button was rendered from has changed since (fingerprint mismatch).
    Stale,
    /// `bad_identity`: the request carries the identity source's credential (a header, a
    /// cookie) in a form it cannot use: repeated, or not a valid principal.
    BadIdentity,
    /// `cross_origin`: a browser sent the action request from a page of another origin (its
    /// `Sec-Fetch-Site` or `Origin` header says so) that the server does not trust.
    CrossOrigin,
}

impl Code {
    /// Every code: the protocol's, in verification-step order, then the binding's.
    ///
    /// ```
    /// use tessera_protocol::wire::Code;
    /// for code in Code::ALL {
    ///     // Each machine code parses back, and maps to a client (4xx) or server (5xx) error.
    ///     assert_eq!(Code::from_name(code.as_str()), Some(code));
    ///     assert!((400..600).contains(&code.status()));
    /// }
    /// assert_eq!(Code::Replayed.status(), 409);
    /// assert_eq!(Code::ReplayUnavailable.status(), 503);
    /// ```
    pub const ALL: [Code; 24] = [
        Code::Protocol(ErrorCode::TooLarge),
        Code::Protocol(ErrorCode::Malformed),
        Code::Protocol(ErrorCode::UnknownKey),
        Code::Protocol(ErrorCode::UnsupportedAlgorithm),
        Code::Protocol(ErrorCode::BadSignature),
        Code::Protocol(ErrorCode::Expired),
        Code::Protocol(ErrorCode::NotYetValid),
        Code::Protocol(ErrorCode::LifetimeTooLong),
        Code::Protocol(ErrorCode::WrongIssuer),
        Code::Protocol(ErrorCode::WrongAudience),
        Code::Protocol(ErrorCode::WrongSubject),
        Code::Protocol(ErrorCode::BadPayload),
        Code::Protocol(ErrorCode::InvalidKey),
        Code::Protocol(ErrorCode::InvalidConfig),
        Code::MissingToken,
        Code::UnsupportedMediaType,
        Code::BadInput,
        Code::UnboundAction,
        Code::MintFailed,
        Code::Replayed,
        Code::ReplayUnavailable,
        Code::Stale,
        Code::BadIdentity,
        Code::CrossOrigin,
    ];

    /// The stable machine code, e.g. `"missing_token"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Protocol(code) => code.as_str(),
            Code::MissingToken => "missing_token",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::BadInput => "bad_input",
            Code::UnboundAction => "unbound_action",
            Code::MintFailed => "mint_failed",
            Code::Replayed => "replayed",
            Code::ReplayUnavailable => "replay_unavailable",
            Code::Stale => "stale",
            Code::BadIdentity => "bad_identity",
            Code::CrossOrigin => "cross_origin",
        }
    }

    /// Parses a machine code; unknown strings give `None`.
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The HTTP status of this code (spec §6).
    pub const fn status(self) -> u16 {
        self.entry().0
    }

    /// A short human title for the problem body.
    pub const fn title(self) -> &'static str {
        self.entry().1
    }

    /// The protocol code, when this is one.
    ///
    /// ```
    /// use tessera_protocol::{ErrorCode, wire::Code};
    /// assert_eq!(Code::from_name("expired").and_then(Code::protocol), Some(ErrorCode::Expired));
    /// assert_eq!(Code::Replayed.protocol(), None);
    /// ```
    pub const fn protocol(self) -> Option<ErrorCode> {
        match self {
            Code::Protocol(code) => Some(code),
            _ => None,
        }
    }

    /// THE table: status and title of every code, in one place.
    const fn entry(self) -> (u16, &'static str) {
        match self {
            Code::Protocol(code) => match code {
                ErrorCode::TooLarge => (413, "Request or token too large"),
                ErrorCode::Malformed => (400, "Malformed token or request"),
                ErrorCode::UnknownKey => (401, "Unknown signing key"),
                ErrorCode::UnsupportedAlgorithm => (401, "Unsupported algorithm"),
                ErrorCode::BadSignature => (401, "Bad signature"),
                ErrorCode::Expired => (401, "Token expired"),
                ErrorCode::NotYetValid => (401, "Token not yet valid"),
                ErrorCode::LifetimeTooLong => (401, "Token lifetime too long"),
                ErrorCode::WrongIssuer => (403, "Wrong issuer"),
                ErrorCode::WrongAudience => (403, "Token is for another action"),
                ErrorCode::WrongSubject => (403, "Token is for another user"),
                ErrorCode::BadPayload => (422, "Token payload does not fit"),
                ErrorCode::InvalidKey => (500, "Invalid key material"),
                ErrorCode::InvalidConfig => (500, "Invalid configuration"),
            },
            Code::MissingToken => (400, "Missing token"),
            Code::UnsupportedMediaType => (415, "Unsupported media type"),
            Code::BadInput => (422, "Input does not fit"),
            Code::UnboundAction => (500, "Route not bound to an action"),
            Code::MintFailed => (500, "Could not mint a token"),
            Code::Replayed => (409, "Action already performed with this token"),
            Code::ReplayUnavailable => (503, "Replay guard unavailable"),
            Code::Stale => (409, "State changed since the button was rendered"),
            Code::BadIdentity => (400, "Unusable identity"),
            Code::CrossOrigin => (403, "Cross-origin request refused"),
        }
    }
}

impl From<ErrorCode> for Code {
    fn from(code: ErrorCode) -> Code {
        Code::Protocol(code)
    }
}

impl PartialEq<ErrorCode> for Code {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == Code::Protocol(*other)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
