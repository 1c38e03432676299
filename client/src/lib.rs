//! # tessera-client
//!
//! An async client for a tessera plugin host, and the `tessera` command-line tool (keys,
//! signing, verification, inspection, panels and clicks).
//!
//! A host serves a plugin's panels at `GET /api/plugins/{plugin}/panels`; each button carries an
//! action token minted at render time. A click posts `{"token": …, "input": …}` to the button's
//! URL and gets the action's JSON result, or an `application/problem+json` rejection whose
//! `code` this crate turns into a typed [`Code`] (`Code::Token(ErrorCode::Expired)`, …).
//!
//! ```no_run
//! use serde_json::json;
//! use tessera_client::{Client, ClientError, Code};
//! use tessera_protocol::ErrorCode;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ClientError> {
//! let client = Client::builder("http://127.0.0.1:8080")
//!     .user("alice")            // sent as X-Demo-User, the demo host's identity source
//!     .retry_expired(true)      // re-fetch the panel and retry once on `expired`
//!     .build()?;
//! let button = client.find_button("stock-tools", "plugin:stock-tools/action:transfer").await?;
//! match client.click(&button, &json!({"qty": 5})).await {
//!     Ok(result) => println!("{result}"),
//!     Err(e) if e.code() == Some(&Code::Token(ErrorCode::WrongSubject)) => {
//!         eprintln!("that button was rendered for another user")
//!     }
//!     Err(e) => eprintln!("error: {}: {e}", e.machine_code()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Limitations
//!
//! - Plain HTTP only. The client is built on `reqwest` without a TLS backend so that ring stays
//!   the only crypto library in the dependency tree; `https://` base URLs are refused with a
//!   `config` error. Put a TLS-terminating proxy in front of a remote host, or use the client on
//!   loopback or a trusted network.
//! - Identity is the demo host's: the user name travels in the `X-Demo-User` header
//!   ([`USER_HEADER`]), which a real host must not trust.
#![forbid(unsafe_code)]

mod client;
mod error;

pub use crate::client::{
    Button, Clicked, Client, ClientBuilder, DEFAULT_TIMEOUT, Field, MAX_RESPONSE_LEN, Panel,
    Panels, USER_HEADER, WORKER_HEADER,
};
pub use crate::error::{ClientError, Code, Problem};
