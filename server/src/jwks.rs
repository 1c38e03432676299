//! The JWKS endpoint: the public keys at `/.well-known/jwks.json`, so other services can verify
//! EdDSA tokens without holding a signing key.

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::TesseraState;

/// Where the public keys are served.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The `Cache-Control` of the JWKS response: cacheable for 5 minutes, short enough for a
/// rotation to reach verifiers well within a token's default lifetime.
pub const JWKS_CACHE_CONTROL: &str = "public, max-age=300";
/// The media type of a JWK Set (RFC 7517 §8.5).
pub const JWK_SET_JSON: &str = "application/jwk-set+json";

/// A router serving `GET` [`JWKS_PATH`]: the key set's Ed25519 public keys (no `d`); HMAC
/// keys never appear, so an HMAC-only set serves `{"keys":[]}`.
///
/// ```
/// use axum::{Router, body::Body, http::Request};
/// use http_body_util::BodyExt;
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::TesseraState;
/// use tower::ServiceExt;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
/// let app: Router = tessera_server::jwks::router().with_state(state);
/// let response = app.oneshot(Request::get("/.well-known/jwks.json").body(Body::empty())?).await?;
/// assert_eq!(response.headers()["cache-control"], "public, max-age=300");
/// let body = response.into_body().collect().await?.to_bytes();
/// assert_eq!(&body[..], br#"{"keys":[]}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub fn router<S>() -> Router<S>
where
    TesseraState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(JWKS_PATH, get(jwks))
}

async fn jwks(State(state): State<TesseraState>) -> Response {
    let mut response = state.jwks_json().clone().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JWK_SET_JSON));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(JWKS_CACHE_CONTROL),
    );
    response
}
