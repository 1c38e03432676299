//! The [`Caller`] extractor: the current caller's principal, for panel handlers.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use tessera_protocol::Principal;

use crate::rejection::Rejection;
use crate::state::TesseraState;

/// Extractor: the current caller's principal, from the state's identity source. Use it in a
/// panel handler to mint buttons for the caller. A request whose credential the source refuses
/// ([`IdentitySource::check`](crate::IdentitySource::check)) is answered `bad_identity` (400) before the handler runs.
///
/// ```
/// use axum::{Json, Router, extract::State, routing::get};
/// use tessera_server::{Caller, TesseraState};
///
/// async fn whoami(Caller(who): Caller) -> String {
///     who.map_or_else(|| "anonymous".to_owned(), |p| p.to_string())
/// }
/// # fn app(state: TesseraState) -> Router {
/// Router::new().route("/whoami", get(whoami)).with_state(state)
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller(pub Option<Principal>);

impl Caller {
    /// The principal, if any.
    pub fn principal(&self) -> Option<&Principal> {
        self.0.as_ref()
    }
}

impl<S> FromRequestParts<S> for Caller
where
    TesseraState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    /// The principal the state's identity source names; `bad_identity` (400) when it refuses
    /// the request ([`IdentitySource::check`](crate::IdentitySource::check)).
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, Rejection> {
        Ok(Caller(TesseraState::from_ref(state).check_identity(parts)?))
    }
}
