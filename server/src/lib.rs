//! # tessera-server
//!
//! axum integration for tessera action tokens: a plugin renders **panels** whose **buttons**
//! carry a token minted for (action, principal, payload, TTL); a click posts the token to the
//! action's route, where the [`Action`] extractor verifies it — on any worker process, with no
//! state shared between workers — and hands the handler the typed payload and input.
//!
//! - [`TesseraState`] / [`TesseraConfig`]: keys, issuer, clock, limits, identity source (one
//!   `Arc`, reached through `FromRef`).
//! - [`ActionRoute`] + [`ActionRouterExt::action`]: routes bound to an explicit action id.
//! - [`Action`]: the extractor (token from a JSON body, a form field or the `Tessera-Token`
//!   header).
//! - [`Panel`], [`Button`], [`TesseraState::button`]; [`render`] for HTML and the click script.
//! - [`IdentitySource`] ([`HeaderIdentity`], [`CookieIdentity`], …) and the [`Caller`] extractor.
//! - [`Rejection`] / [`Code`]: `application/problem+json` refusals, one status table.
//! - [`replay`]: single-use actions ([`ActionRoute::single_use`]) with an in-memory, a file
//!   (the processes of one machine) or a Redis replay guard; [`Action::require_fingerprint`]
//!   refuses clicks on stale buttons.
//! - [`jwks::router`]: the public keys at `/.well-known/jwks.json`; [`routes`] merges it with
//!   the click script's route.
//!
//! ## A complete app
//!
//! ```
//! use axum::{Json, Router, extract::State, http::HeaderName, response::Html, routing::get};
//! use serde::{Deserialize, Serialize};
//! use tessera_protocol::{Algorithm, KeySet};
//! use tessera_server::{
//!     Action, ActionRoute, ActionRouterExt, Caller, HeaderIdentity, Panel, Principal,
//!     Rejection, TesseraConfig, TesseraState, render,
//! };
//!
//! const TRANSFER: ActionRoute = ActionRoute::new(
//!     "plugin:stock-tools/action:transfer",
//!     "/api/plugins/stock-tools/actions/transfer",
//! );
//!
//! #[derive(Serialize, Deserialize)]
//! struct Transfer { part_id: u32, from: String, to: String }
//!
//! // Pages that embed tokens are sent with no-store and no-referrer (render::NoStore).
//! async fn page(State(tessera): State<TesseraState>, Caller(who): Caller)
//!     -> Result<render::NoStore<Html<String>>, Rejection>
//! {
//!     let payload = Transfer { part_id: 1234, from: "A1".into(), to: "B2".into() };
//!     let button = tessera.button(&TRANSFER, "Move 1234 to B2").caller(who.as_ref()).payload(&payload).mint()?;
//!     let panel = Panel::new("stock", "Stock tools").with_button(button);
//!     Ok(render::NoStore(Html(render::page("Stock", &[panel]))))
//! }
//!
//! async fn transfer(Action { payload, .. }: Action<Transfer>) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({"moved": payload.part_id, "to": payload.to}))
//! }
//!
//! // A demo identity: any client can send this header. In production, read the principal
//! // from the app's session, or from a header only its proxy sets (spec §11.12).
//! let tessera = TesseraConfig::new(KeySet::generate(Algorithm::EdDsa)?, "inventree")
//!     .with_identity(HeaderIdentity::new(HeaderName::from_static("x-demo-user"))
//!         .with_default(Principal::new("guest")))
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/", get(page))
//!     .action(&TRANSFER, transfer)
//!     .merge(tessera_server::routes())
//!     .with_state(tessera);
//! // axum::serve(listener, app).await
//! # let _ = app;
//! # Ok::<(), tessera_protocol::Error>(())
//! ```
#![forbid(unsafe_code)]

mod body;
mod button;
mod caller;
mod config;
mod extractor;
mod form;
mod handler;
mod identity;
mod mount;
mod origin;
mod rejection;
mod route;
mod single_use;
mod state;

pub mod jwks;
pub mod metrics;
pub mod render;
pub mod replay;

use axum::Router;
use axum::extract::FromRef;

pub use crate::button::ButtonBuilder;
pub use crate::caller::Caller;
pub use crate::config::{
    DEFAULT_BODY_LIMIT, ENV_BODY_LIMIT, ENV_ISSUER, ENV_KEYS, ENV_KEYS_FILE, ENV_LEEWAY,
    ENV_MAX_LIFETIME, ENV_MAX_TOKEN_LEN, ENV_TTL, TesseraConfig,
};
pub use crate::extractor::Action;
pub use crate::handler::ActionHandler;
pub use crate::identity::{
    Anonymous, BadIdentity, CookieIdentity, ExtensionIdentity, FixedIdentity, HeaderIdentity,
    IdentitySource, Or,
};
pub use crate::mount::ActionRouterExt;
pub use crate::rejection::{LOG_TARGET, Rejection};
pub use crate::route::ActionRoute;
pub use crate::single_use::REPLAY_RECORD_MARGIN;
pub use crate::state::TesseraState;
// The protocol's concepts and the HTTP binding's vocabulary, shared with clients.
pub use tessera_protocol as protocol;
pub use tessera_protocol::wire::{
    Button, Code, Field, FieldKind, PROBLEM_JSON, PROBLEM_TYPE_BASE, Panel, PanelsDocument,
    Problem, TOKEN_FIELD, TOKEN_HEADER,
};
pub use tessera_protocol::{ActionId, MAX_PRINCIPAL_LEN, Principal};

/// The library's own routes: the JWKS endpoint ([`jwks::router`]) and the click script
/// ([`render::script_router`]). Merge them into your app.
///
/// ```
/// use axum::Router;
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::TesseraState;
/// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
/// let app: Router = Router::new().merge(tessera_server::routes()).with_state(state);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
pub fn routes<S>() -> Router<S>
where
    TesseraState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    jwks::router().merge(render::script_router())
}
