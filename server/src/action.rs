//! Routes bound to actions, and the [`Action`] extractor that verifies a click.
//!
//! An [`ActionRoute`] declares an action id and the path that serves it. Mounting a handler
//! through [`ActionRouterExt::action`] (or [`ActionRoute::post`]) attaches the route to every
//! request as an extension, so the extractor expects *that* action id as the token's audience:
//! it is never guessed from the URL, and a token minted for one action cannot invoke another.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, FromRequest, MatchedPath, Request};
use axum::handler::Handler;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Method};
use axum::response::Response;
use axum::routing::MethodRouter;
use bytes::Bytes;
use futures_util::future::Either;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tessera_protocol::json_rules::{self, JsonRuleError};
use tessera_protocol::{Accept, Claims, Expected, Header};

use crate::TesseraState;
use crate::handler::ActionHandler;
use crate::identity::Principal;
use crate::rejection::Rejection;
use crate::replay::{ReplayGuard, Use};

/// The request header that may carry the token. A request carries exactly one token: one in
/// the header and another in the body is refused as `malformed` (400).
///
/// ```
/// use axum::{Router, body::Body, http::Request};
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::{Action, ActionRoute, ActionRouterExt, TOKEN_HEADER, TesseraState};
/// use tower::ServiceExt;
///
/// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
/// async fn print(action: Action<u32>) -> String { action.input.to_string() }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
/// let token = state.button("Print", &PRINT, None, &7u32)?.token;
/// let app = Router::new().action(&PRINT, print).with_state(state);
/// let click = |body: serde_json::Value| Request::post("/print").header(TOKEN_HEADER, token.as_str())
///     .header("content-type", "application/json").body(Body::from(body.to_string())).unwrap();
/// // The token in the header, the input in the body:
/// assert_eq!(app.clone().oneshot(click(serde_json::json!({"input": {"copies": 2}}))).await?.status(), 200);
/// // The token twice:
/// assert_eq!(app.oneshot(click(serde_json::json!({"token": token}))).await?.status(), 400);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub const TOKEN_HEADER: &str = "tessera-token";

/// How long a single-use route keeps the record of a use past the last second its token can
/// verify (`exp` + leeway): a use verified in that second and recorded in the next (a loaded
/// worker, a round trip to the store) is still seen, and hosts whose clocks differ by less
/// than this agree on it. Spec §10.1 point 3.
///
/// ```
/// assert_eq!(tessera_server::REPLAY_RECORD_MARGIN.as_secs(), 60);
/// ```
pub const REPLAY_RECORD_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);
/// [`TOKEN_HEADER`] as a header name (looked up without parsing the name each time).
const TOKEN_HEADER_NAME: HeaderName = HeaderName::from_static(TOKEN_HEADER);
/// The urlencoded form field that may carry the token. The form's other fields are the input.
///
/// ```
/// use axum::{Router, body::Body, http::Request};
/// use http_body_util::BodyExt;
/// use serde::Deserialize;
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::{Action, ActionRoute, ActionRouterExt, TOKEN_FIELD, TesseraState};
/// use tower::ServiceExt;
///
/// const TRANSFER: ActionRoute = ActionRoute::new("plugin:stock-tools/action:transfer", "/transfer");
/// #[derive(Deserialize)]
/// struct Qty { qty: u32 }
/// async fn transfer(Action { payload, input, .. }: Action<u32, Qty>) -> String {
///     format!("{} of part {payload}", input.qty)
/// }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
/// let token = state.button("Transfer", &TRANSFER, None, &7u32)?.token;
/// let form = format!("{TOKEN_FIELD}={token}&qty=3");
/// let request = Request::post("/transfer")
///     .header("content-type", "application/x-www-form-urlencoded").body(Body::from(form))?;
/// let response = Router::new().action(&TRANSFER, transfer).with_state(state).oneshot(request).await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(&response.into_body().collect().await?.to_bytes()[..], b"3 of part 7");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub const TOKEN_FIELD: &str = "tessera_token";

/// An action id: the audience (`aud`) of the tokens that may invoke the action, e.g.
/// `plugin:stock-tools/action:transfer`.
///
/// ```
/// use tessera_server::ActionId;
/// const TRANSFER: ActionId = ActionId::from_static("plugin:stock-tools/action:transfer");
/// assert_eq!(TRANSFER.as_str(), "plugin:stock-tools/action:transfer");
/// assert_eq!(ActionId::new(String::from("a")), ActionId::from_static("a"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(Cow<'static, str>);

impl ActionId {
    /// An action id from a constant.
    pub const fn from_static(id: &'static str) -> ActionId {
        ActionId(Cow::Borrowed(id))
    }

    /// An action id from a runtime string.
    pub fn new(id: impl Into<String>) -> ActionId {
        ActionId(Cow::Owned(id.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An action route: the action id its tokens are minted for, and the path that serves it with
/// `POST`. Declare routes once (as constants) and use them both to mint buttons
/// ([`TesseraState::button`]) and to mount handlers ([`ActionRouterExt::action`]).
///
/// ```
/// use tessera_server::ActionRoute;
/// const TRANSFER: ActionRoute = ActionRoute::new(
///     "plugin:stock-tools/action:transfer",
///     "/api/plugins/stock-tools/actions/transfer",
/// );
/// assert_eq!(TRANSFER.id().as_str(), "plugin:stock-tools/action:transfer");
/// assert_eq!(TRANSFER.path(), "/api/plugins/stock-tools/actions/transfer");
/// ```
///
/// ## Under a path prefix
///
/// A button's URL is the route's [`path`](ActionRoute::path) as declared: the full path from
/// the root of the app. **Do not mount action routes in a router given to
/// [`Router::nest`]**: the click would be served under the prefix, but the button, which does
/// not know the prefix, would point the click at a URL nothing serves (404). To place a
/// plugin's actions under a prefix, give the routes the full path and mount them with
/// [`Router::merge`]; a prefix chosen at run time goes through [`ActionRoute::owned`]:
///
/// ```
/// use axum::{Router, body::Body, http::Request};
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::{Action, ActionId, ActionRoute, ActionRouterExt, TesseraState};
/// use tower::ServiceExt;
///
/// /// The plugin's one action, under the prefix the host mounts the plugin at.
/// fn print_route(prefix: &str) -> ActionRoute {
///     let id = ActionId::from_static("plugin:labels/action:print");
///     ActionRoute::owned(id, format!("{prefix}/actions/print"))
/// }
/// async fn print(_: Action<u32>) -> &'static str { "printed" }
/// fn plugin(prefix: &str) -> Router<TesseraState> {
///     Router::new().action(&print_route(prefix), print)
/// }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
/// let button = state.button("Print", &print_route("/plugins/labels"), None, &7u32)?;
/// assert_eq!(button.url, "/plugins/labels/actions/print");
/// let app = Router::new().merge(plugin("/plugins/labels")).with_state(state);
/// let click = Request::post(&button.url).header("tessera-token", button.token.as_str())
///     .body(Body::empty())?;
/// assert_eq!(app.oneshot(click).await?.status(), 200);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActionRoute {
    id: ActionId,
    path: Cow<'static, str>,
    accept: Accept,
    single_use: bool,
}

impl ActionRoute {
    /// A route from constants. The path must start with `/` (axum checks it when mounting).
    pub const fn new(id: &'static str, path: &'static str) -> ActionRoute {
        ActionRoute {
            id: ActionId::from_static(id),
            path: Cow::Borrowed(path),
            accept: Accept::Signed,
            single_use: false,
        }
    }

    /// A route from runtime values.
    pub fn owned(id: ActionId, path: impl Into<String>) -> ActionRoute {
        ActionRoute {
            id,
            path: Cow::Owned(path.into()),
            accept: Accept::Signed,
            single_use: false,
        }
    }

    /// Which kinds of token the route accepts: signed (JWS), sealed (JWE, claims encrypted)
    /// or either. A token of another kind is refused as `malformed`. Buttons for a route that
    /// accepts only sealed tokens are minted sealed; otherwise signed. Defaults to
    /// [`Accept::Signed`].
    ///
    /// ```
    /// use tessera_protocol::Accept;
    /// use tessera_server::ActionRoute;
    /// const SECRET: ActionRoute = ActionRoute::new("plugin:hr/action:raise", "/raise")
    ///     .accepting(Accept::Sealed);
    /// assert_eq!(SECRET.accept(), Accept::Sealed);
    /// ```
    pub const fn accepting(mut self, accept: Accept) -> ActionRoute {
        self.accept = accept;
        self
    }

    /// Marks the route **single-use**: each token runs the action at most once. The extractor
    /// records the token's `jti` in the state's [`ReplayGuard`](crate::replay::ReplayGuard)
    /// (atomically, until the token can no longer verify plus [`REPLAY_RECORD_MARGIN`]) after
    /// the token and input are accepted; a second
    /// use is refused with `replayed` (409), and if the guard is missing or unreachable the
    /// request fails closed with `replay_unavailable` (503). Routes not marked stay stateless.
    ///
    /// **Refusals do not use up the token** (spec §10.1): when the handler answers a client
    /// error (4xx, e.g. `bad_input` for a quantity too large), the record is released
    /// ([`ReplayGuard::release`](crate::replay::ReplayGuard::release)) and the same button can
    /// be clicked again. The contract: **a handler that answers 4xx must not have performed
    /// its effect**. A success (2xx) or a server error (5xx, the effect may have happened)
    /// keeps the record.
    ///
    /// ```
    /// use tessera_server::ActionRoute;
    /// const PAY: ActionRoute = ActionRoute::new("plugin:shop/action:pay", "/pay").single_use();
    /// assert!(PAY.is_single_use());
    /// ```
    pub const fn single_use(mut self) -> ActionRoute {
        self.single_use = true;
        self
    }

    /// Whether the route is single-use.
    pub const fn is_single_use(&self) -> bool {
        self.single_use
    }

    /// The kinds of token accepted.
    pub const fn accept(&self) -> Accept {
        self.accept
    }

    /// The action id (the token audience).
    pub fn id(&self) -> &ActionId {
        &self.id
    }

    /// The path the route is mounted at (also the button's URL, as is: see
    /// [Under a path prefix](ActionRoute#under-a-path-prefix)). It has no parameters
    /// ([`ActionRoute::post`] refuses them): the token covers the action and its payload,
    /// never the URL, so anything a handler reads from the path or the query string is
    /// unverified client input.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `rejection`, located at this route and action: its log line names them
    /// ([`Rejection::log`]). The extractor locates its own rejections; call this on those
    /// your handler raises itself (a refused input, a rule of your plugin).
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request};
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, Rejection, TesseraState};
    /// use tower::ServiceExt;
    ///
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:labels/action:print", "/print");
    /// async fn print(action: Action<u32, u32>) -> Result<String, Rejection> {
    ///     if action.input > 10 {
    ///         return Err(action.route.reject(Rejection::bad_input("at most 10 copies")));
    ///     }
    ///     Ok(format!("{} copies of label {}", action.input, action.payload))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let refused = PRINT.reject(Rejection::bad_input("at most 10 copies"));
    /// assert_eq!(refused.route(), Some("/print"));
    /// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
    /// let token = state.button("Print", &PRINT, None, &7u32)?.token;
    /// let app = Router::new().action(&PRINT, print).with_state(state);
    /// let click = Request::post("/print").header("content-type", "application/json")
    ///     .body(Body::from(format!(r#"{{"token":"{token}","input":11}}"#)))?;
    /// assert_eq!(app.oneshot(click).await?.status(), 422); // bad_input, logged at /print
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn reject(&self, rejection: Rejection) -> Rejection {
        rejection.at(Some(self.path().to_owned()), Some(self.id().clone()))
    }

    /// The HTTP method of every action route: `POST`.
    pub fn method(&self) -> Method {
        Method::POST
    }

    /// `handler` as a `POST` method router bound to this action. The handler must take the
    /// [`Action`] extractor ([`ActionHandler`]).
    ///
    /// # Panics
    /// When the route's path has a parameter (`/items/{id}/delete`): a button's URL is the path
    /// as is, and the token covers the action, not the URL, so a parameter would be unverified
    /// client input read as part of what the button was for. Put ids in the payload.
    ///
    /// ```
    /// use axum::Router;
    /// use tessera_server::{Action, ActionRoute, TesseraState};
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
    /// async fn print(_: Action<u32>) {}
    /// # fn app(state: TesseraState) -> Router {
    /// Router::new().route(PRINT.path(), PRINT.post(print)).with_state(state)
    /// # }
    /// ```
    #[track_caller]
    pub fn post<H, T, S>(&self, handler: H) -> MethodRouter<S>
    where
        H: Handler<T, S> + ActionHandler<T>,
        T: 'static,
        S: Clone + Send + Sync + 'static,
    {
        // A button's URL is the path as is, and the token binds the action, not the URL: a
        // path parameter would be client input posing as part of what the button was for.
        assert!(
            !self.path.contains('{'),
            "action route {}: its path {:?} has a parameter; a button's URL is the path as \
             is, and the token does not cover the URL, so put the ids in the button's payload",
            self.id.as_str(),
            self.path
        );
        // Not a layer: a layer re-boxes the route's service and its future on every request;
        // the bound handler only inserts the extension.
        axum::routing::post(Bound {
            route: self.clone(),
            handler,
        })
    }
}

/// A handler bound to an action route: puts the route in the request's extensions (where
/// [`Action`] finds it), then runs the handler.
///
/// On a single-use route it also hands the extractor a [`UseRecord`] slot, and when the
/// handler's response is a client error (4xx) after the use was recorded, it releases the
/// record ([`ReplayGuard::release`](crate::replay::ReplayGuard::release)): the handler refused
/// the click, so the token is not used up (spec §10.1). Never on 2xx or 5xx.
#[derive(Clone)]
struct Bound<H> {
    route: ActionRoute,
    handler: H,
}

/// The `T` of a [`Bound`] handler (axum tells handlers apart by their extractor tuple).
struct BoundTo<T>(std::marker::PhantomData<T>);

/// The future of a single-use route's handler, which may release the record afterwards.
type ReleasingFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

impl<H, T, S> Handler<BoundTo<T>, S> for Bound<H>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    type Future = Either<H::Future, ReleasingFuture>;

    fn call(self, mut req: Request, state: S) -> Self::Future {
        if !self.route.is_single_use() {
            req.extensions_mut().insert(self.route);
            return Either::Left(self.handler.call(req, state));
        }
        let record = UseRecord::default();
        req.extensions_mut().insert(self.route);
        req.extensions_mut().insert(record.clone());
        let handled = self.handler.call(req, state);
        Either::Right(Box::pin(async move {
            let response = handled.await;
            if response.status().is_client_error() {
                record.release().await;
            }
            response
        }))
    }
}

/// A use recorded by the extractor of a single-use route, for [`Bound`] to release if the
/// handler refuses the click.
#[derive(Clone, Default)]
struct UseRecord(Arc<Mutex<Option<Recorded>>>);

/// What to release: the guard, and the record's scope and token id.
struct Recorded {
    guard: Arc<dyn ReplayGuard>,
    scope: String,
    jti: String,
}

impl UseRecord {
    fn set(&self, recorded: Recorded) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(recorded);
        }
    }

    /// Releases the recorded use, if any. A failure is logged (without the token id) and
    /// leaves the token used up: the safe side.
    async fn release(&self) {
        let recorded = self.0.lock().ok().and_then(|mut slot| slot.take());
        let Some(Recorded { guard, scope, jti }) = recorded else {
            return;
        };
        match guard.release(&scope, &jti).await {
            Ok(()) => tracing::debug!(
                scope = %scope,
                "single-use click refused by the handler; token not used up"
            ),
            Err(e) => tracing::warn!(
                scope = %scope,
                reason = %e.reason,
                "could not release a refused single-use click; the token stays used up"
            ),
        }
    }
}

/// Mounts handlers on [`ActionRoute`]s.
pub trait ActionRouterExt<S> {
    /// Mounts `handler` at `route.path()` for `POST`, bound to `route.id()`. Mount it in the
    /// app's root router (or one merged into it), not in a nested one: buttons point at
    /// `route.path()` as is (see [Under a path prefix](ActionRoute#under-a-path-prefix)). The
    /// handler must take the [`Action`] extractor ([`ActionHandler`]); a path with a parameter
    /// panics, as in [`ActionRoute::post`].
    ///
    /// ```
    /// use axum::{Json, Router};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, TesseraState};
    ///
    /// const TRANSFER: ActionRoute = ActionRoute::new("plugin:stock-tools/action:transfer", "/transfer");
    /// async fn transfer(Action { payload, input, .. }: Action<u32, Option<String>>) -> Json<(u32, Option<String>)> {
    ///     Json((payload, input))
    /// }
    /// # fn app(state: TesseraState) -> Router {
    /// Router::new().action(&TRANSFER, transfer).with_state(state)
    /// # }
    /// ```
    fn action<H, T>(self, route: &ActionRoute, handler: H) -> Self
    where
        H: Handler<T, S> + ActionHandler<T>,
        T: 'static;
}

impl<S> ActionRouterExt<S> for Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    #[track_caller]
    fn action<H, T>(self, route: &ActionRoute, handler: H) -> Self
    where
        H: Handler<T, S> + ActionHandler<T>,
        T: 'static,
    {
        self.route(route.path(), route.post(handler))
    }
}

/// Extractor: a verified click on an action. `T` is the token's payload type, `I` the type of
/// the user's input (default: any JSON).
///
/// The token comes from exactly one of:
/// - a JSON body (`application/json`) `{"token": "...", "input": {...}}` (`input` optional:
///   absent or `null` is deserialized from `null`);
/// - a urlencoded form body with the field [`TOKEN_FIELD`] (`tessera_token`); the other fields
///   are the input (deserialized like axum's `Form`, except that a repeated field name is
///   refused);
/// - the header [`TOKEN_HEADER`] (`Tessera-Token`), with an optional JSON `{"input": ...}` or
///   form body for the input.
///
/// Checks, in order: the route is bound to an action (else `unbound_action`, 500); the request
/// is not a browser's from a page of another origin
/// ([`TesseraState::check_origin`], `cross_origin`, 403); the `Tessera-Token` header appears at
/// most once and is visible ASCII (`malformed`, 400); a `Content-Length` within the state's
/// cap (`too_large`, 413; `malformed` if not a number); the caller's identity is usable
/// (`bad_identity`, 400); the body within the cap while it streams, never read whole
/// (`too_large`, 413); the body parses (`malformed` 400, `unsupported_media_type` 415); there
/// is exactly one token (`missing_token` / `malformed`, 400); then the protocol's verification
/// with the route's action id as audience and the caller's identity as subject (every protocol
/// code, see [`Code`](crate::Code)); an anonymous caller may only use tokens without a subject
/// (`wrong_subject`); the payload fits `T` (`bad_payload`, 422); the input fits `I`
/// (`bad_input`, 422). An input that does not fit is only reported after the token verified:
/// a request with a bad token and a bad input gets the token's error. A JSON input is held to
/// the same JSON rules as the token's claims, whatever `I` reads of it
/// ([`json_rules`](tessera_protocol::json_rules)): a member name repeated in one object
/// (`{"qty": 1, "qty": 900}`, which a proxy and the handler could read differently), an
/// unpaired surrogate escape or a number out of range is `bad_input` too. Likewise a form
/// input that repeats a field name (`qty=1&qty=900`) is `bad_input`, never read as one of its
/// values.
///
/// A refusal is answered as a problem+json [`Rejection`] and logged. To answer in your own
/// format, take `Result<Action<T, I>, Rejection>` in the handler and call
/// [`Rejection::log`] on the error (see its example).
///
/// ```
/// use axum::{Json, Router, body::Body, http::Request};
/// use serde::{Deserialize, Serialize};
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::{Action, ActionRoute, ActionRouterExt, TesseraState};
/// use tower::ServiceExt;
///
/// const TRANSFER: ActionRoute = ActionRoute::new("plugin:stock-tools/action:transfer", "/transfer");
///
/// #[derive(Serialize, Deserialize)]
/// struct Part { part_id: u32 }
/// #[derive(Deserialize)]
/// struct Qty { qty: u32 }
///
/// async fn transfer(Action { payload, input, .. }: Action<Part, Qty>) -> String {
///     format!("moved {} of part {}", input.qty, payload.part_id)
/// }
///
/// # tokio_test_block(async {
/// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
/// let token = state.minter().token(TRANSFER.id().as_str()).payload(&Part { part_id: 7 }).mint()?;
/// let app = Router::new().action(&TRANSFER, transfer).with_state(state);
///
/// let body = serde_json::json!({"token": token, "input": {"qty": 3}}).to_string();
/// let request = Request::post("/transfer").header("content-type", "application/json")
///     .body(Body::from(body)).unwrap();
/// let response = app.clone().oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 200);
///
/// // A tampered token is refused with a stable code.
/// // (Its signature's first character changed: the base64url stays canonical.)
/// let (signed, signature) = token.rsplit_once('.').unwrap();
/// let first = if signature.starts_with('A') { 'B' } else { 'A' };
/// let bad = format!("{signed}.{first}{}", &signature[1..]);
/// let request = Request::post("/transfer").header("tessera-token", bad).body(Body::empty()).unwrap();
/// let response = app.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 401); // bad_signature
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
///
/// `Debug` of an action whose token was sealed leaves out its payload and claims (the secret
/// plaintext, spec §9); the rest (input, header, principal, route) is shown.
#[derive(Clone)]
#[non_exhaustive]
pub struct Action<T, I = serde_json::Value> {
    /// The token's payload (`dat`).
    pub payload: T,
    /// The user's input.
    pub input: I,
    /// The verified claims (issuer, action, subject, times, `jti`, fingerprint), without `dat`.
    pub claims: Claims<()>,
    /// The key and algorithm that signed the token.
    pub header: Header,
    /// The caller, as named by the identity source (equal to `claims.sub`).
    pub principal: Option<Principal>,
    /// The route and action the request was bound to.
    pub route: ActionRoute,
}

impl<T: std::fmt::Debug, I: std::fmt::Debug> std::fmt::Debug for Action<T, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Action");
        if self.header.alg.is_signature() {
            out.field("payload", &self.payload)
                .field("claims", &self.claims);
        } else {
            let hidden = format_args!("<sealed: not shown>");
            out.field("payload", &hidden).field("claims", &hidden);
        }
        out.field("input", &self.input)
            .field("header", &self.header)
            .field("principal", &self.principal)
            .field("route", &self.route)
            .finish()
    }
}

impl<S, T, I> FromRequest<S> for Action<T, I>
where
    TesseraState: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned + Send,
    I: DeserializeOwned + Send,
{
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Rejection> {
        let tessera = TesseraState::from_ref(state);
        // What the request head says, read before the body; the head is not kept across the
        // await (the future stays small, and so do its moves and its allocation).
        let (head, route, record, body) = {
            let (parts, body) = req.into_parts();
            let Some(route) = parts.extensions.get::<ActionRoute>().cloned() else {
                let matched = parts
                    .extensions
                    .get::<MatchedPath>()
                    .map(|m| m.as_str().to_owned());
                return Err(Rejection::unbound_action().at(matched, None));
            };
            let record = if route.is_single_use() {
                parts.extensions.get::<UseRecord>().cloned()
            } else {
                None
            };
            match Head::read(&tessera, &parts) {
                Ok(head) => (head, route, record, body),
                Err(rejection) => return Err(route.reject(rejection)),
            }
        };
        let bytes = match read_body(body, tessera.body_limit()).await {
            Ok(bytes) => bytes,
            Err(rejection) => return Err(route.reject(rejection)),
        };
        let action = Action::verify(&tessera, head, route, &bytes)?;
        if action.route.is_single_use() {
            // Boxed: the replay guard's round trip costs far more than the allocation, and
            // the routes that are not single-use keep a small future.
            Box::pin(first_use(&tessera, &action.route, &action.claims, record)).await?;
        }
        Ok(action)
    }
}

/// What the extractor takes from the request head.
struct Head {
    /// The token from the `Tessera-Token` header.
    token: Option<String>,
    /// The caller, from the state's identity source.
    principal: Option<Principal>,
    /// The body's media type.
    kind: BodyKind,
}

impl Head {
    /// Refuses a cross-origin browser request; reads the token header, the identity and the
    /// media type, and refuses a body whose
    /// `Content-Length` exceeds the state's cap before anything of it is read.
    fn read(tessera: &TesseraState, parts: &Parts) -> Result<Head, Rejection> {
        tessera.check_origin(parts)?;
        let token = header_token(&parts.headers)?;
        check_content_length(&parts.headers, tessera.body_limit())?;
        Ok(Head {
            token,
            principal: tessera.check_identity(parts)?,
            kind: body_kind(&parts.headers),
        })
    }
}

impl<T: DeserializeOwned, I: DeserializeOwned> Action<T, I> {
    /// Everything after the body is read: the envelope, the token, the verification, the
    /// payload and the input.
    fn verify(
        tessera: &TesseraState,
        head: Head,
        route: ActionRoute,
        bytes: &Bytes,
    ) -> Result<Self, Rejection> {
        let Head {
            token: header_token,
            principal,
            kind,
        } = head;
        let envelope = parse_body(kind, bytes).map_err(|r| route.reject(r))?;
        let token: Cow<'_, str> = match (header_token, envelope.token) {
            (Some(token), None) => Cow::Owned(token),
            (None, Some(token)) => token,
            (None, None) => return Err(route.reject(Rejection::missing_token())),
            (Some(_), Some(_)) => {
                return Err(route.reject(Rejection::malformed_body(
                    "the token was sent twice (header and body); send it once",
                )));
            }
        };

        let expected = Expected::audience(route.id().as_str()).accept(route.accept());
        let expected = match &principal {
            Some(p) => expected.subject(p.as_str()),
            // Nobody is signed in: a token minted for somebody is not theirs to use.
            None => expected.anonymous(),
        };
        let verified = tessera
            .verifier()
            .verify::<T>(&token, &expected)
            .map_err(|e| route.reject(Rejection::verification(e)))?;
        let Claims {
            iss,
            aud,
            sub,
            iat,
            nbf,
            exp,
            jti,
            fpr,
            dat: payload,
        } = verified.claims;
        let input: I = envelope.input.parse::<I>().map_err(|r| route.reject(r))?;
        Ok(Action {
            payload,
            input,
            claims: Claims {
                iss,
                aud,
                sub,
                iat,
                nbf,
                exp,
                jti,
                fpr,
                dat: (),
            },
            header: verified.header,
            principal,
            route,
        })
    }
}

/// Single-use routes: records the token's `jti` in the replay guard, refusing a second use.
/// A first use is noted in `record` (when the route was mounted through [`Bound`]), so that a
/// refusal by the handler can release it.
async fn first_use(
    tessera: &TesseraState,
    route: &ActionRoute,
    claims: &Claims<()>,
    record: Option<UseRecord>,
) -> Result<(), Rejection> {
    let guard = tessera.replay_guard().ok_or_else(|| {
        route.reject(Rejection::replay_unavailable(
            "this action is single-use but the server has no replay guard",
        ))
    })?;
    // Scope the record by issuer and action: a jti is unique per token anyway.
    let scope = format!("{}|{}", claims.iss, claims.aud);
    // Kept past the last second the token verifies (`exp` + leeway) by a margin: a use
    // verified in that second whose record is written in the next must still be seen.
    let until = claims
        .exp
        .saturating_add(tessera.leeway().as_secs())
        .saturating_add(REPLAY_RECORD_MARGIN.as_secs());
    let now = tessera.clock().now();
    match guard.first_use_at(&scope, &claims.jti, until, now).await {
        Ok(Use::First) => {
            if let Some(record) = record {
                record.set(Recorded {
                    guard: guard.clone(),
                    scope,
                    jti: claims.jti.clone(),
                });
            }
            Ok(())
        }
        Ok(Use::Replayed) => Err(route.reject(Rejection::replayed())),
        Err(e) => Err(route.reject(Rejection::replay_unavailable(e.reason))),
    }
}

impl<T, I> Action<T, I> {
    /// Stale-state detection: refuses the click with `stale` (409) unless the token carries a
    /// fingerprint (`fpr`) equal to `current`, the fingerprint the application computes now
    /// for the state the button acts on (a version number, a hash of the row…). Buttons bind
    /// it at render time with [`TesseraState::button_with_fingerprint`](crate::TesseraState::button_with_fingerprint).
    ///
    /// ```
    /// # use tessera_server::{Action, Rejection};
    /// async fn transfer(action: Action<u32>) -> Result<String, Rejection> {
    ///     let current_version = "stock:1234:v7"; // e.g. read from the database
    ///     action.require_fingerprint(current_version)?;
    ///     Ok(format!("moved {}", action.payload))
    /// }
    /// ```
    pub fn require_fingerprint(&self, current: &str) -> Result<(), Rejection> {
        if self.claims.fpr.as_deref() == Some(current) {
            Ok(())
        } else {
            Err(self.route.reject(Rejection::stale()))
        }
    }
}

/// The token and input found in a body.
struct Envelope<'a> {
    token: Option<Cow<'a, str>>,
    input: RawInput<'a>,
}

enum RawInput<'a> {
    /// No input: deserialized from JSON `null`.
    None,
    /// Borrowed from the request body, to be typed after the token verified, under the JSON
    /// rules.
    Json(&'a RawValue),
    /// The form pairs other than the token (at least one), re-encoded.
    Form(String),
}

impl RawInput<'_> {
    fn parse<I: DeserializeOwned>(self) -> Result<I, Rejection> {
        match self {
            // The `null` is ours, not the client's: no position to report in it.
            RawInput::None => serde_json::from_str("null")
                .map_err(|_| Rejection::bad_input("input is required, and none was sent")),
            RawInput::Json(raw) => json_rules::from_str(raw.get()).map_err(|e| match e {
                JsonRuleError::Rule(rule) => Rejection::bad_input(format!("the input {rule}")),
                JsonRuleError::DoesNotFit(reason) => {
                    Rejection::bad_input(format!("input does not fit: {reason}"))
                }
            }),
            RawInput::Form(text) => {
                // A repeated name, which a proxy in front and the handler could read
                // differently (serde_urlencoded keeps the last value for a map or a `Value`),
                // is refused, as a repeated member of a JSON input is.
                let mut names = HashSet::new();
                if !form_urlencoded::parse(text.as_bytes()).all(|(name, _)| names.insert(name)) {
                    return Err(Rejection::bad_input("the form repeats a field name"));
                }
                I::deserialize(FormInput(serde_urlencoded::Deserializer::new(
                    form_urlencoded::parse(text.as_bytes()),
                )))
                .map_err(|_| Rejection::bad_input("the form fields do not fit the action's input"))
            }
        }
    }
}

/// A JSON body `{"token": ..., "input": ...}`, with the input kept raw (borrowed from the
/// body), so that it is typed, and a bad one reported, only after the token verified.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEnvelope<'a> {
    #[serde(borrow, default)]
    token: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
}

fn header_token(headers: &HeaderMap) -> Result<Option<String>, Rejection> {
    let mut values = headers.get_all(TOKEN_HEADER_NAME).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        // `HeaderValue::to_str` lets space and tab through; a token has neither.
        (Some(value), None) => match value.to_str() {
            Ok(token) if token.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(token.to_owned())),
            _ => Err(Rejection::malformed_body(
                "the Tessera-Token header is not visible ASCII",
            )),
        },
        (Some(_), Some(_)) => Err(Rejection::malformed_body(
            "the Tessera-Token header appears more than once",
        )),
    }
}

/// Refuses a body whose `Content-Length` exceeds `limit`, before reading anything of it.
fn check_content_length(headers: &HeaderMap, limit: usize) -> Result<(), Rejection> {
    if let Some(value) = headers.get(CONTENT_LENGTH) {
        let len = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                Rejection::malformed_body("the Content-Length header is not a number")
            })?;
        if len > limit as u64 {
            return Err(Rejection::body_too_large(limit));
        }
    }
    Ok(())
}

/// Reads the body, refusing it as soon as it exceeds `limit` while streaming (a body without
/// a length, or a lying one). [`check_content_length`] has checked the announced length.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, Rejection> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if is_length_limit(&*err) => Err(Rejection::body_too_large(limit)),
        Err(_) => Err(Rejection::malformed_body(
            "the request body could not be read",
        )),
    }
}

fn is_length_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}

enum BodyKind {
    Json,
    Form,
    Other,
}

fn body_kind(headers: &HeaderMap) -> BodyKind {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return BodyKind::Other;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    // Media types compare case-insensitively (RFC 9110 §8.3.1).
    let has_prefix = |prefix: &str| {
        essence
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    let has_suffix = |suffix: &str| {
        essence
            .len()
            .checked_sub(suffix.len())
            .and_then(|at| essence.get(at..))
            .is_some_and(|s| s.eq_ignore_ascii_case(suffix))
    };
    if essence.eq_ignore_ascii_case("application/json")
        || (has_prefix("application/") && has_suffix("+json"))
    {
        BodyKind::Json
    } else if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else {
        BodyKind::Other
    }
}

fn parse_body(kind: BodyKind, bytes: &Bytes) -> Result<Envelope<'_>, Rejection> {
    if bytes.is_empty() {
        return Ok(Envelope {
            token: None,
            input: RawInput::None,
        });
    }
    match kind {
        BodyKind::Json => parse_json(bytes),
        BodyKind::Form => parse_form(bytes),
        BodyKind::Other => Err(Rejection::unsupported_media_type()),
    }
}

/// A JSON body: the token, and the input kept raw.
fn parse_json(bytes: &Bytes) -> Result<Envelope<'_>, Rejection> {
    let not_the_object = || {
        Rejection::malformed_body(
            "the JSON body is not an object of \"token\" (a string) and \"input\"",
        )
    };
    // serde would also fill the envelope from an array of its values (`["<token>", {...}]`),
    // which a proxy that inspects `.token` or `.input` reads as something else (spec §8.1).
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err(not_the_object());
    }
    let envelope: JsonEnvelope<'_> = serde_json::from_slice(bytes).map_err(|_| not_the_object())?;
    Ok(Envelope {
        token: envelope.token,
        // `null` counts as no input: both are typed from `null` ("input is required" if refused).
        input: envelope
            .input
            .filter(|raw| raw.get() != "null")
            .map_or(RawInput::None, RawInput::Json),
    })
}

/// A urlencoded form body: the field `tessera_token`, and the other fields as the input.
fn parse_form(bytes: &Bytes) -> Result<Envelope<'_>, Rejection> {
    let mut token = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    let mut fields = 0usize;
    for (name, value) in form_urlencoded::parse(bytes) {
        if name == TOKEN_FIELD {
            if token.is_some() {
                return Err(Rejection::malformed_body(
                    "the form field tessera_token appears more than once",
                ));
            }
            token = Some(Cow::Owned(value.into_owned()));
        } else {
            rest.append_pair(&name, &value);
            fields += 1;
        }
    }
    Ok(Envelope {
        token,
        // No field besides the token: no input, as with a JSON body without "input".
        input: if fields == 0 {
            RawInput::None
        } else {
            RawInput::Form(rest.finish())
        },
    })
}

/// serde_urlencoded's deserializer, plus `Option` support at the top level (a form with fields
/// is `Some`), so an action's input type can be `Option<T>` for forms as for JSON.
struct FormInput<'de>(serde_urlencoded::Deserializer<'de>);

macro_rules! forward_form {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.0.$method(visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for FormInput<'de> {
    type Error = serde_urlencoded::de::Error;

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self.0)
    }

    forward_form!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }
}
