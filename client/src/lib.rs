//! # tessera-client
//!
//! An async client for a tessera plugin host, and the `tessera` command-line tool (keys,
//! signing, verification, inspection, panels and clicks).
//!
//! A host serves a plugin's panels (the demo host at `GET /api/plugins/{plugin}/panels`, see
//! [`demo_panels_path`]); each button carries an action token minted at render time. A click
//! posts `{"token": …, "input": …}` to the button's URL and gets the action's JSON result, or an
//! `application/problem+json` rejection whose `code` this crate turns into a typed [`Code`]
//! (the HTTP binding's codes, [`tessera_protocol::wire::Code`], or any other kept verbatim).
//!
//! ```no_run
//! use serde_json::json;
//! use tessera_client::{Client, ClientError, demo_panels_path};
//! use tessera_protocol::ErrorCode;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ClientError> {
//! let client = Client::builder("http://127.0.0.1:8080")
//!     .user("alice")            // sent as X-Demo-User, the demo host's identity source
//!     .retry_expired(true)      // re-fetch the panel and retry once on `expired`
//!     .build()?;
//! let panels = client.panels(&demo_panels_path("stock-tools")).await?;
//! let (button, _panel) = panels.find("plugin:stock-tools/action:transfer")?;
//! match client.click(button).input(&json!({"qty": 5})).refresh_from(panels.url.as_str()).send().await {
//!     Ok(clicked) => println!("{}", clicked.result),
//!     Err(e) if e.code().is_some_and(|c| *c == ErrorCode::WrongSubject) => {
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

mod builder;
mod client;
mod error;
mod panels;
mod response;

pub use crate::builder::{ClientBuilder, DEFAULT_TIMEOUT, USER_HEADER};
pub use crate::client::{Click, Clicked, Client};
pub use crate::error::{ClientError, Code, Problem};
pub use crate::panels::{Panels, default_input, demo_panels_path};
pub use crate::response::{MAX_RESPONSE_LEN, WORKER_HEADER};
// The panel document's types are the wire vocabulary's, shared with the server.
pub use tessera_protocol::wire::{Button, Field, FieldKind, Panel, PanelsDocument};
