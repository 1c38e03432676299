//! The HTTP binding's vocabulary (spec §8), defined once for the server and the client: every
//! refusal [`Code`] with its status and title, the problem+json body ([`Problem`]), where a
//! request carries its token ([`TOKEN_HEADER`], [`TOKEN_FIELD`]) and the panel document
//! ([`Panel`], [`Button`], [`Field`], [`PanelsDocument`]). Plain serde types: no HTTP library.
//!
//! ```
//! use tessera_protocol::wire::{Code, Problem};
//! // What a server sends for a refusal, and what a client reads back from it.
//! let sent = serde_json::to_string(&Problem::new(Code::Replayed, "already used"))?;
//! let read: Problem = serde_json::from_str(&sent)?;
//! assert_eq!((read.status, read.known_code()), (409, Some(Code::Replayed)));
//! # Ok::<(), serde_json::Error>(())
//! ```

mod code;
mod panel;
mod problem;

pub use self::code::Code;
pub use self::panel::{Button, Field, FieldKind, Panel, PanelsDocument};
pub use self::problem::{PROBLEM_JSON, PROBLEM_TYPE_BASE, Problem};

/// The request header that may carry the token (spec §8.1 point 3), in lower case as HTTP/2
/// writes header names (HTTP/1 compares them case-insensitively).
pub const TOKEN_HEADER: &str = "tessera-token";

/// The urlencoded form field that may carry the token (spec §8.1 point 2). The form's other
/// fields are the input.
pub const TOKEN_FIELD: &str = "tessera_token";
