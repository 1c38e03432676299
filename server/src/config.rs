//! The settings of a [`TesseraState`] ([`TesseraConfig`]), from code or from the environment.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tessera_protocol::{Clock, Error, KEYS_ENV, KeySet, Limits, Minter, SystemClock, Verifier};

use crate::identity::{Anonymous, IdentitySource};
use crate::origin::OriginPolicy;
use crate::replay::ReplayGuard;
use crate::state::{Inner, TesseraState};

/// The default cap on an action request's body: 64 KiB (a token is at most 8 KiB; the rest
/// is the user's input).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// Environment variable: the key set as a JWK Set document (same as [`KEYS_ENV`]).
pub const ENV_KEYS: &str = KEYS_ENV;
/// Environment variable: the path of a JWK Set file (exclusive with [`ENV_KEYS`]).
pub const ENV_KEYS_FILE: &str = "TESSERA_KEYS_FILE";
/// Environment variable: the issuer (required).
pub const ENV_ISSUER: &str = "TESSERA_ISSUER";
/// Environment variable: the default button TTL in seconds.
pub const ENV_TTL: &str = "TESSERA_TTL";
/// Environment variable: the verification leeway in seconds.
pub const ENV_LEEWAY: &str = "TESSERA_LEEWAY";
/// Environment variable: the maximum token lifetime in seconds.
pub const ENV_MAX_LIFETIME: &str = "TESSERA_MAX_LIFETIME";
/// Environment variable: the token length cap in bytes.
pub const ENV_MAX_TOKEN_LEN: &str = "TESSERA_MAX_TOKEN_LEN";
/// Environment variable: the action request body cap in bytes.
pub const ENV_BODY_LIMIT: &str = "TESSERA_BODY_LIMIT";
impl TesseraState {
    /// A state with every default (see [`TesseraConfig`]): shorthand for
    /// `TesseraConfig::new(keys, issuer).build()`.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::TesseraState;
    /// let state = TesseraState::new(KeySet::generate(Algorithm::EdDsa)?, "inventree")?;
    /// assert_eq!(state.issuer(), "inventree");
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn new(keys: impl Into<Arc<KeySet>>, issuer: impl Into<String>) -> Result<Self, Error> {
        TesseraConfig::new(keys, issuer).build()
    }

    /// A state configured from the process environment; see [`TesseraConfig::from_env`].
    pub fn from_env() -> Result<TesseraState, Error> {
        TesseraConfig::from_env()?.build()
    }
}

/// The settings of a [`TesseraState`], checked by [`TesseraConfig::build`].
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use axum::http::HeaderName;
/// use tessera_protocol::{Algorithm, ErrorCode, FixedClock, KeySet};
/// use tessera_server::{HeaderIdentity, Principal, TesseraConfig};
///
/// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree")
///     .with_ttl(Duration::from_secs(120))
///     .with_clock(Arc::new(FixedClock(1_790_000_000)))
///     .with_identity(HeaderIdentity::new(HeaderName::from_static("x-demo-user"))
///         .with_default(Principal::new("guest")))
///     .build()?;
/// assert_eq!(state.now(), 1_790_000_000);
///
/// // Out-of-range settings are refused when building.
/// let err = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree")
///     .with_leeway(Duration::from_secs(3600))
///     .build().unwrap_err();
/// assert_eq!(err.code(), ErrorCode::InvalidConfig);
/// # Ok::<(), tessera_protocol::Error>(())
/// ```
pub struct TesseraConfig {
    keys: Arc<KeySet>,
    issuer: String,
    clock: Arc<dyn Clock>,
    identity: Arc<dyn IdentitySource>,
    limits: Limits,
    body_limit: usize,
    replay: Option<Arc<dyn ReplayGuard>>,
    trusted_origins: Vec<String>,
    scheme: String,
}

impl TesseraConfig {
    /// Settings for `issuer` with the key set `keys` and every default.
    ///
    /// ```
    /// use std::time::Duration;
    /// use axum::http::Request;
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{DEFAULT_BODY_LIMIT, TesseraConfig};
    /// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree").build()?;
    /// assert_eq!(state.default_ttl(), Duration::from_secs(300));
    /// assert_eq!(state.leeway(), Duration::from_secs(30));
    /// assert_eq!(state.max_token_len(), 8192);
    /// assert_eq!(state.body_limit(), DEFAULT_BODY_LIMIT);
    /// assert!(state.replay_guard().is_none()); // single-use routes answer 503
    /// let (parts, ()) = Request::get("/").body(()).unwrap().into_parts();
    /// assert_eq!(state.identify(&parts), None); // Anonymous: every caller is nobody
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn new(keys: impl Into<Arc<KeySet>>, issuer: impl Into<String>) -> TesseraConfig {
        TesseraConfig {
            keys: keys.into(),
            issuer: issuer.into(),
            clock: Arc::new(SystemClock),
            identity: Arc::new(Anonymous),
            limits: Limits::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            replay: None,
            trusted_origins: Vec::new(),
            scheme: "http".to_owned(),
        }
    }

    /// Settings from the process environment:
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `TESSERA_KEYS` | the key set, a JWK Set document | — |
    /// | `TESSERA_KEYS_FILE` | path of a JWK Set file (instead of `TESSERA_KEYS`) | — |
    /// | `TESSERA_ISSUER` | the issuer | required |
    /// | `TESSERA_TTL` | button token TTL, seconds | 300 |
    /// | `TESSERA_LEEWAY` | leeway for `exp`/`nbf`/`iat`, seconds (≤ 300) | 30 |
    /// | `TESSERA_MAX_LIFETIME` | longest `exp - iat`, seconds | 86400 |
    /// | `TESSERA_MAX_TOKEN_LEN` | token length cap, bytes | 8192 |
    /// | `TESSERA_BODY_LIMIT` | action request body cap, bytes | 65536 |
    ///
    /// Exactly one of `TESSERA_KEYS` and `TESSERA_KEYS_FILE` must be set. Errors name the
    /// variable, never its value. The identity source stays [`Anonymous`]; set it with
    /// [`TesseraConfig::with_identity`]. [`TesseraConfig::from_lookup`] reads the same
    /// variables from a source of your own (its example runs without touching the process
    /// environment).
    pub fn from_env() -> Result<TesseraConfig, Error> {
        TesseraConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`TesseraConfig::from_env`], reading variables through `lookup` (for tests, or a
    /// configuration source of your own).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// use tessera_server::TesseraConfig;
    ///
    /// let keys = KeySet::generate(Algorithm::Hs256)?.to_private_json();
    /// let env = HashMap::from([
    ///     ("TESSERA_KEYS", keys.as_str()),
    ///     ("TESSERA_ISSUER", "inventree"),
    ///     ("TESSERA_TTL", "60"),
    /// ]);
    /// let state = TesseraConfig::from_lookup(|k| env.get(k).map(|v| v.to_string()))?.build()?;
    /// assert_eq!(state.default_ttl().as_secs(), 60);
    ///
    /// let err = TesseraConfig::from_lookup(|k| (k == "TESSERA_ISSUER").then(|| "x".into())).err().unwrap();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig); // no keys
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<TesseraConfig, Error> {
        let keys = match (lookup(ENV_KEYS), lookup(ENV_KEYS_FILE)) {
            (Some(json), None) => KeySet::from_json(&json).map_err(|e| match e {
                Error::InvalidKey { reason } => Error::InvalidKey {
                    reason: format!("{ENV_KEYS}: {reason}"),
                },
                other => other,
            })?,
            (None, Some(path)) => KeySet::from_file(PathBuf::from(path))?,
            (Some(_), Some(_)) => {
                return Err(invalid_config(format!(
                    "set only one of {ENV_KEYS} and {ENV_KEYS_FILE}"
                )));
            }
            (None, None) => {
                return Err(invalid_config(format!(
                    "set {ENV_KEYS} (a JWK Set) or {ENV_KEYS_FILE} (its path)"
                )));
            }
        };
        let issuer = lookup(ENV_ISSUER)
            .ok_or_else(|| invalid_config(format!("set {ENV_ISSUER} (the issuer name)")))?;
        let mut config = TesseraConfig::new(keys, issuer);
        let number = |name: &str| -> Result<Option<u64>, Error> {
            lookup(name)
                .map(|v| {
                    v.trim().parse::<u64>().map_err(|_| {
                        invalid_config(format!("{name} must be a whole non-negative number"))
                    })
                })
                .transpose()
        };
        if let Some(s) = number(ENV_TTL)? {
            config.limits.ttl = Duration::from_secs(s);
        }
        if let Some(s) = number(ENV_LEEWAY)? {
            config.limits.leeway = Duration::from_secs(s);
        }
        if let Some(s) = number(ENV_MAX_LIFETIME)? {
            config.limits.max_lifetime = Duration::from_secs(s);
        }
        if let Some(n) = number(ENV_MAX_TOKEN_LEN)? {
            config.limits.max_token_len = usize::try_from(n)
                .map_err(|_| invalid_config(format!("{ENV_MAX_TOKEN_LEN} is too large")))?;
        }
        if let Some(n) = number(ENV_BODY_LIMIT)? {
            config.body_limit = usize::try_from(n)
                .map_err(|_| invalid_config(format!("{ENV_BODY_LIMIT} is too large")))?;
        }
        Ok(config)
    }

    /// Reads `now` from `clock` for minting and verification. Defaults to [`SystemClock`].
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> TesseraConfig {
        self.clock = clock;
        self
    }

    /// Who is calling. Defaults to [`Anonymous`] (only subject-less tokens are accepted).
    ///
    /// The source names the caller both when a button is minted for them and when they click
    /// it: the [`Action`](crate::Action) extractor expects the token's subject to be the caller,
    /// so a button minted for alice is refused to bob with `wrong_subject` (403).
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{HeaderName, Request}};
    /// use http_body_util::BodyExt;
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, HeaderIdentity, Principal, TesseraConfig};
    /// use tower::ServiceExt;
    ///
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
    /// async fn print(action: Action<u32>) -> String {
    ///     // `action.principal` is the caller; the token was minted for them (`claims.sub`).
    ///     format!("{} printed part {}", action.claims.sub.unwrap_or_default(), action.payload)
    /// }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree")
    ///     .with_identity(HeaderIdentity::new(HeaderName::from_static("x-demo-user")))
    ///     .build()?;
    /// let button = state.button(&PRINT, "Print").caller(Some(&Principal::new("alice"))).payload(&7u32).mint()?;
    /// let app = Router::new().action(&PRINT, print).with_state(state);
    /// let click = |user: &str| Request::post("/print").header("x-demo-user", user)
    ///     .header("tessera-token", button.token.as_str()).body(Body::empty()).unwrap();
    /// let response = app.clone().oneshot(click("alice")).await?;
    /// assert_eq!(&response.into_body().collect().await?.to_bytes()[..], b"alice printed part 7");
    /// assert_eq!(app.oneshot(click("bob")).await?.status(), 403); // wrong_subject
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_identity(mut self, identity: impl IdentitySource) -> TesseraConfig {
        self.identity = Arc::new(identity);
        self
    }

    /// The same, for a source already shared behind an `Arc`.
    pub fn with_shared_identity(mut self, identity: Arc<dyn IdentitySource>) -> TesseraConfig {
        self.identity = identity;
        self
    }

    /// The TTL of a button's token, at least 1 s and at most the maximum lifetime. Defaults to
    /// 300 seconds. Checked by [`TesseraConfig::build`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// use tessera_server::TesseraConfig;
    /// let config = || KeySet::generate(Algorithm::Hs256).map(|k| TesseraConfig::new(k, "inventree"));
    /// let state = config()?.with_ttl(Duration::from_secs(60)).build()?;
    /// assert_eq!(state.default_ttl(), Duration::from_secs(60));
    /// let err = config()?.with_ttl(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// let err = config()?.with_ttl(Duration::from_secs(2 * 86_400)).build().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig); // over the 24 h maximum lifetime
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_ttl(mut self, ttl: Duration) -> TesseraConfig {
        self.limits.ttl = ttl;
        self
    }

    /// Leeway for `exp`, `nbf` and `iat`, at most 300 s. Defaults to 30 seconds.
    pub fn with_leeway(mut self, leeway: Duration) -> TesseraConfig {
        self.limits.leeway = leeway;
        self
    }

    /// The longest `exp - iat` minted or accepted, at least 1 s. Defaults to 86400 seconds.
    /// Below 300 s it must come with a shorter [`TesseraConfig::with_ttl`]: the default TTL
    /// would not fit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// use tessera_server::TesseraConfig;
    /// let config = || KeySet::generate(Algorithm::Hs256).map(|k| TesseraConfig::new(k, "inventree"));
    /// let err = config()?.with_max_lifetime(Duration::from_secs(60)).build().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig); // the 300 s default TTL is longer
    /// let state = config()?.with_max_lifetime(Duration::from_secs(60))
    ///     .with_ttl(Duration::from_secs(30)).build()?;
    /// assert_eq!(state.minter().max_lifetime(), Duration::from_secs(60));
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_max_lifetime(mut self, max: Duration) -> TesseraConfig {
        self.limits.max_lifetime = max;
        self
    }

    /// The cap on a token's length, checked before any decoding. Defaults to 8192 bytes.
    /// At least 1, and at most the body cap (64 KiB by default): raise both together.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// use tessera_server::TesseraConfig;
    /// let config = || KeySet::generate(Algorithm::Hs256).map(|k| TesseraConfig::new(k, "inventree"));
    /// assert_eq!(config()?.with_max_token_len(2048).build()?.max_token_len(), 2048);
    /// let err = config()?.with_max_token_len(100_000).build().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig); // over the 65536-byte body cap
    /// let state = config()?.with_max_token_len(100_000).with_body_limit(200_000).build()?;
    /// assert_eq!(state.max_token_len(), 100_000);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn with_max_token_len(mut self, max: usize) -> TesseraConfig {
        self.limits.max_token_len = max;
        self
    }

    /// The cap on an action request's body, at least the token cap; a larger body is refused
    /// with `too_large` (413) before it is read whole. Defaults to 65536 bytes. This cap, not
    /// axum's `DefaultBodyLimit`, is the one the [`Action`](crate::Action) extractor applies:
    /// a route that takes larger inputs needs it raised here.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request};
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, TesseraConfig};
    /// use tower::ServiceExt;
    ///
    /// const NOTE: ActionRoute = ActionRoute::new("plugin:notes/action:add", "/note");
    /// async fn note(_: Action<()>) {}
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let keys = || KeySet::generate(Algorithm::Hs256);
    /// let state = TesseraConfig::new(keys()?, "inventree")
    ///     .with_max_token_len(4096).with_body_limit(4096).build()?;
    /// let app = Router::new().action(&NOTE, note).with_state(state);
    /// let big = Request::post("/note").header("content-type", "application/json")
    ///     .body(Body::from(vec![b' '; 5000]))?;
    /// assert_eq!(app.oneshot(big).await?.status(), 413); // too_large
    ///
    /// // A body cap below the token cap (8192 bytes by default) could not carry a token.
    /// let err = TesseraConfig::new(keys()?, "inventree").with_body_limit(1000).build().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_body_limit(mut self, limit: usize) -> TesseraConfig {
        self.body_limit = limit;
        self
    }

    /// Trusts action requests that a browser sends from pages of `origin` (e.g.
    /// `https://app.example`: scheme, host and port if not the default, as browsers write the
    /// `Origin` header), on top of the host's own origin. Defaults to none.
    ///
    /// The [`Action`](crate::Action) extractor refuses with `cross_origin` (403) a request
    /// that a browser marks as sent from another site (`Sec-Fetch-Site: cross-site` or
    /// `same-site`) or, in a browser that does not send that header, whose `Origin` is not the
    /// request's own host — unless its `Origin` is trusted here. A leaked token is bound to its
    /// user, but a page on another site could otherwise make that user's browser post it
    /// (a urlencoded form needs no CORS preflight), with that user's cookies and input of the
    /// page's choosing (spec §11.13). Requests without those headers (curl, the `tessera`
    /// CLI, server-to-server) are not browser requests and are not concerned. An origin not
    /// written as browsers write it — `scheme://host[:port]`, lowercase, no default port
    /// (`:443`, `:80`), nothing after it — fails [`TesseraConfig::build`] with
    /// `invalid_config` (it could never match).
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request};
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, TesseraConfig};
    /// use tower::ServiceExt;
    ///
    /// const PAY: ActionRoute = ActionRoute::new("plugin:shop/action:pay", "/pay");
    /// async fn pay(_: Action<u32>) -> &'static str { "paid" }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "shop")
    ///     .with_trusted_origin("https://app.example")
    ///     .build()?;
    /// let token = state.button(&PAY, "Pay").payload(&12u32).mint()?.token;
    /// let app = Router::new().action(&PAY, pay).with_state(state);
    /// let from = |origin: &str| Request::post("/pay")
    ///     .header("host", "shop.example")
    ///     .header("origin", origin)
    ///     .header("sec-fetch-site", "cross-site")
    ///     .header("tessera-token", token.as_str())
    ///     .body(Body::empty())
    ///     .unwrap();
    /// assert_eq!(app.clone().oneshot(from("https://app.example")).await?.status(), 200);
    /// assert_eq!(app.oneshot(from("https://evil.example")).await?.status(), 403);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_trusted_origin(mut self, origin: impl Into<String>) -> TesseraConfig {
        self.trusted_origins.push(origin.into());
        self
    }

    /// The scheme browsers reach this server by: `http` (the default) or `https` when a
    /// TLS-terminating proxy stands in front of it. The cross-origin check
    /// ([`TesseraState::check_origin`]) compares a browser's `Origin` with the request's own
    /// scheme and host; an HTTP/1 request does not carry its scheme, so this one is used
    /// (an HTTP/2 request's own is used when it has one). Anything else fails
    /// [`TesseraConfig::build`] with `invalid_config`.
    ///
    /// ```
    /// use axum::http::Request;
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Code, TesseraConfig};
    /// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree")
    ///     .with_scheme("https")
    ///     .build()?;
    /// let from = |origin: &str| {
    ///     let (parts, ()) = Request::post("/act").header("host", "inv.example")
    ///         .header("origin", origin).body(()).unwrap().into_parts();
    ///     state.check_origin(&parts).map_err(|r| r.code())
    /// };
    /// assert_eq!(from("https://inv.example"), Ok(()));
    /// assert_eq!(from("http://inv.example"), Err(Code::CrossOrigin));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_scheme(mut self, scheme: impl Into<String>) -> TesseraConfig {
        self.scheme = scheme.into();
        self
    }

    /// The replay guard that single-use routes ([`ActionRoute::single_use`](crate::ActionRoute::single_use))
    /// record token ids in. Without one, single-use routes fail closed with
    /// `replay_unavailable`. Defaults to none.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request};
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, TesseraConfig, replay::MemoryReplayGuard};
    /// use tower::ServiceExt;
    ///
    /// const PAY: ActionRoute = ActionRoute::new("plugin:shop/action:pay", "/pay").single_use();
    /// async fn pay(_: Action<u32>) -> &'static str { "paid" }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let keys = KeySet::generate(Algorithm::Hs256)?.to_private_json();
    /// let state = TesseraConfig::new(KeySet::from_json(&keys)?, "shop")
    ///     .with_replay_guard(MemoryReplayGuard::new(10_000)).build()?;
    /// let token = state.button(&PAY, "Pay").payload(&12u32).mint()?.token;
    /// let click = || Request::post("/pay").header("tessera-token", token.as_str()).body(Body::empty()).unwrap();
    /// let app = Router::new().action(&PAY, pay).with_state(state);
    /// assert_eq!(app.clone().oneshot(click()).await?.status(), 200);
    /// assert_eq!(app.oneshot(click()).await?.status(), 409); // replayed
    ///
    /// // Without a guard, the single-use route fails closed.
    /// let unguarded = TesseraConfig::new(KeySet::from_json(&keys)?, "shop").build()?;
    /// let app = Router::new().action(&PAY, pay).with_state(unguarded);
    /// assert_eq!(app.oneshot(click()).await?.status(), 503); // replay_unavailable
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_replay_guard(mut self, guard: impl ReplayGuard) -> TesseraConfig {
        self.replay = Some(Arc::new(guard));
        self
    }

    /// The same, with a guard shared with other states.
    pub fn with_shared_replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> TesseraConfig {
        self.replay = Some(guard);
        self
    }

    /// Checks the settings and builds the state. An empty key set is `invalid_key`; an empty
    /// issuer, a zero or too long TTL, a leeway over 300 s, a zero lifetime, a zero token cap
    /// or a body cap below the token cap are `invalid_config`.
    ///
    /// A key set without a signing key builds (a verify-only deployment), but its buttons
    /// fail with `mint_failed`.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// use tessera_server::TesseraConfig;
    /// let err = TesseraConfig::new(KeySet::new(), "inventree").build().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidKey);
    /// let err = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "").build().unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::InvalidConfig);
    /// # Ok::<(), tessera_protocol::Error>(())
    /// ```
    pub fn build(self) -> Result<TesseraState, Error> {
        if self.keys.is_empty() {
            return Err(Error::InvalidKey {
                reason: "the key set is empty".to_owned(),
            });
        }
        if self.issuer.is_empty() {
            return Err(invalid_config("the issuer is empty"));
        }
        // TTL, leeway, lifetime and length cap: the protocol's rules, checked in one place.
        self.limits.check()?;
        let Limits {
            ttl,
            leeway,
            max_lifetime,
            max_token_len,
        } = self.limits;
        let scheme = match self.scheme.as_str() {
            "http" => "http",
            "https" => "https",
            _ => return Err(invalid_config("the scheme is http or https")),
        };
        let origins = OriginPolicy::new(self.trusted_origins, scheme).map_err(|bad| {
            invalid_config(format!(
                "the trusted origin {bad:?} is not an origin (scheme://host or \
                 scheme://host:port, nothing after it)"
            ))
        })?;
        if self.body_limit < max_token_len {
            return Err(invalid_config(format!(
                "the body cap ({} bytes) is below the token cap ({max_token_len} bytes)",
                self.body_limit
            )));
        }
        let verifier = Verifier::new(self.keys.clone(), self.issuer.clone())
            .with_clock(self.clock.clone())
            .with_leeway(leeway)?
            .with_max_lifetime(max_lifetime)?
            .with_max_len(max_token_len)?;
        let minter = Minter::new(self.keys.clone(), self.issuer)
            .with_clock(self.clock.clone())
            .with_default_ttl(ttl)
            .with_max_lifetime(max_lifetime)?
            .with_max_len(max_token_len)?;
        // Serializing a JSON value cannot fail.
        let jwks = Bytes::from(serde_json::to_vec(&self.keys.public_jwks()).unwrap_or_default());
        Ok(TesseraState::from_inner(Inner {
            minter,
            verifier,
            clock: self.clock,
            identity: self.identity,
            default_ttl: ttl,
            body_limit: self.body_limit,
            jwks,
            replay: self.replay,
            leeway,
            origins,
        }))
    }
}

impl fmt::Debug for TesseraConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TesseraConfig")
            .field("issuer", &self.issuer)
            .field("keys", &self.keys)
            .field("limits", &self.limits)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

fn invalid_config(reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        reason: reason.into(),
    }
}
