//! The shared state: key set, issuer, clock, limits and identity source, behind one `Arc`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use bytes::Bytes;
use tessera_protocol::{Clock, KeySet, Minter, Principal, Verifier};

use crate::identity::IdentitySource;
use crate::origin::OriginPolicy;
use crate::rejection::Rejection;
use crate::replay::ReplayGuard;

/// Everything the library needs, cheap to clone (one `Arc` inside): the key set, the issuer,
/// the clock, the limits, a [`Minter`] and a [`Verifier`] built from them, and the
/// [`IdentitySource`]. Handlers never touch a key: buttons are minted through
/// [`TesseraState::button`] and actions verified by the [`Action`](crate::Action) extractor.
///
/// Extractors find it through axum's [`FromRef`](axum::extract::FromRef), so it can be the
/// router's state or one field of a larger app state:
///
/// ```
/// use axum::{Json, Router, extract::{FromRef, State}, routing::get};
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::{
///     Action, ActionRoute, ActionRouterExt, Caller, Panel, Rejection, TesseraConfig, TesseraState,
///     render,
/// };
///
/// const TRANSFER: ActionRoute = ActionRoute::new(
///     "plugin:stock-tools/action:transfer",
///     "/api/plugins/stock-tools/actions/transfer",
/// );
///
/// #[derive(Clone)]
/// struct AppState { tessera: TesseraState, plugin_name: &'static str }
///
/// impl FromRef<AppState> for TesseraState {
///     fn from_ref(app: &AppState) -> TesseraState { app.tessera.clone() }
/// }
///
/// // A panel carries tokens: send it with no-store and no-referrer (render::NoStore).
/// async fn panels(State(app): State<AppState>, Caller(who): Caller)
///     -> Result<render::NoStore<Json<Panel>>, Rejection>
/// {
///     let button = app.tessera.button(&TRANSFER, "Transfer").caller(who.as_ref()).payload(&serde_json::json!({"part": 7})).mint()?;
///     Ok(render::NoStore(Json(Panel::new("stock", app.plugin_name).with_button(button))))
/// }
///
/// async fn transfer(action: Action<serde_json::Value>) -> Json<serde_json::Value> {
///     Json(action.payload)
/// }
///
/// let tessera = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree").build()?;
/// let app: Router = Router::new()
///     .route("/panels", get(panels))
///     .action(&TRANSFER, transfer)
///     .merge(tessera_server::routes())
///     .with_state(AppState { tessera, plugin_name: "Stock tools" });
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
#[derive(Clone)]
pub struct TesseraState {
    inner: Arc<Inner>,
}

/// What a [`TesseraState`] holds; built (and checked) by
/// [`TesseraConfig::build`](crate::TesseraConfig::build).
pub(crate) struct Inner {
    pub(crate) minter: Minter,
    pub(crate) verifier: Verifier,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) identity: Arc<dyn IdentitySource>,
    pub(crate) default_ttl: Duration,
    pub(crate) body_limit: usize,
    pub(crate) jwks: Bytes,
    pub(crate) replay: Option<Arc<dyn ReplayGuard>>,
    pub(crate) leeway: Duration,
    pub(crate) origins: OriginPolicy,
}

impl TesseraState {
    /// The state holding `inner` (built by [`TesseraConfig::build`](crate::TesseraConfig::build)).
    pub(crate) fn from_inner(inner: Inner) -> TesseraState {
        TesseraState {
            inner: Arc::new(inner),
        }
    }

    /// The minter (active key, issuer, clock, default TTL, maximum lifetime, length cap).
    pub fn minter(&self) -> &Minter {
        &self.inner.minter
    }

    /// The verifier (key set, issuer, clock, leeway, maximum lifetime, length cap).
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// The key set.
    pub fn keys(&self) -> &Arc<KeySet> {
        self.inner.verifier.keys()
    }

    /// The issuer written into and expected in every token.
    pub fn issuer(&self) -> &str {
        self.inner.verifier.issuer()
    }

    /// The current time, from the state's clock, in seconds since the epoch.
    pub fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The TTL of a button's token unless the button sets its own.
    pub fn default_ttl(&self) -> Duration {
        self.inner.default_ttl
    }

    /// The cap on an action request's body, in bytes.
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// The cap on a token's length, in bytes.
    pub fn max_token_len(&self) -> usize {
        self.inner.verifier.max_len()
    }

    /// The identity source.
    pub fn identity(&self) -> &Arc<dyn IdentitySource> {
        &self.inner.identity
    }

    /// The principal of a request, from the identity source (nobody when the source refuses
    /// the request: see [`TesseraState::check_identity`]).
    pub fn identify(&self, parts: &Parts) -> Option<Principal> {
        self.inner.identity.identify(parts)
    }

    /// The principal of a request, or `bad_identity` (400) when the identity source refuses
    /// it ([`IdentitySource::check`](crate::IdentitySource::check)): what the
    /// [`Action`](crate::Action) and [`Caller`](crate::Caller) extractors use.
    ///
    /// ```
    /// use axum::http::{HeaderName, Request};
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Code, HeaderIdentity, Principal, TesseraConfig};
    /// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree")
    ///     .with_identity(HeaderIdentity::new(HeaderName::from_static("x-remote-user")))
    ///     .build()?;
    /// let (parts, ()) = Request::get("/").header("x-remote-user", "alice").body(())?.into_parts();
    /// assert_eq!(state.check_identity(&parts)?, Some(Principal::new("alice")));
    /// let (parts, ()) = Request::get("/").header("x-remote-user", " alice").body(())?.into_parts();
    /// assert_eq!(state.check_identity(&parts).unwrap_err().code(), Code::BadIdentity);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_identity(&self, parts: &Parts) -> Result<Option<Principal>, Rejection> {
        Ok(self.inner.identity.check(parts)?)
    }

    /// Refuses with `cross_origin` (403) a request a browser sent from a page of another
    /// origin that is not trusted ([`TesseraConfig::with_trusted_origin`](crate::TesseraConfig::with_trusted_origin)); the [`Action`](crate::Action)
    /// extractor calls it first. The rule (as Go's `CrossOriginProtection`): `Sec-Fetch-Site`
    /// `same-origin` or `none` passes; any other value (`cross-site`, `same-site`) is refused
    /// unless `Origin` is trusted; without `Sec-Fetch-Site`, a request without `Origin`
    /// passes (not a browser's), and one with `Origin` passes when it names the request's own
    /// scheme and `Host` (the scheme of [`TesseraConfig::with_scheme`](crate::TesseraConfig::with_scheme)
    /// when the request does not carry one) or a trusted origin.
    ///
    /// ```
    /// use axum::http::Request;
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Code, TesseraState};
    /// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
    /// let check = |headers: &[(&str, &str)]| {
    ///     let mut request = Request::post("/act");
    ///     for (name, value) in headers {
    ///         request = request.header(*name, *value);
    ///     }
    ///     let (parts, ()) = request.body(()).unwrap().into_parts();
    ///     state.check_origin(&parts).map_err(|r| r.code())
    /// };
    /// assert_eq!(check(&[]), Ok(())); // curl, the CLI
    /// assert_eq!(check(&[("sec-fetch-site", "same-origin")]), Ok(()));
    /// assert_eq!(check(&[("sec-fetch-site", "cross-site")]), Err(Code::CrossOrigin));
    /// assert_eq!(check(&[("host", "inv.example"), ("origin", "http://inv.example")]), Ok(()));
    /// assert_eq!(check(&[("host", "inv.example"), ("origin", "http://evil.example")]),
    ///            Err(Code::CrossOrigin));
    /// // Served over plain HTTP (the default; see `TesseraConfig::with_scheme`): a page of
    /// // https://inv.example is another origin.
    /// assert_eq!(check(&[("host", "inv.example"), ("origin", "https://inv.example")]),
    ///            Err(Code::CrossOrigin));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_origin(&self, parts: &Parts) -> Result<(), Rejection> {
        self.inner.origins.check(parts)
    }

    /// The replay guard of single-use routes, if one is configured.
    pub fn replay_guard(&self) -> Option<&Arc<dyn ReplayGuard>> {
        self.inner.replay.as_ref()
    }

    /// The leeway applied to `exp`, `nbf` and `iat`.
    pub fn leeway(&self) -> Duration {
        self.inner.leeway
    }

    /// The public JWK Set document served at [`JWKS_PATH`](crate::jwks::JWKS_PATH), computed
    /// once when the state is built.
    pub fn jwks_json(&self) -> &Bytes {
        &self.inner.jwks
    }
}

impl fmt::Debug for TesseraState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key set's Debug prints kids and algorithms only, never material.
        f.debug_struct("TesseraState")
            .field("issuer", &self.issuer())
            .field("keys", self.keys())
            .field("default_ttl", &self.inner.default_ttl)
            .field("body_limit", &self.inner.body_limit)
            .finish_non_exhaustive()
    }
}
