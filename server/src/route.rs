//! Action routes: an action id and the path that serves it, declared once and used both to
//! mint buttons and to mount handlers.

use std::borrow::Cow;

use axum::http::Method;
use tessera_protocol::{Accept, ActionId};

use crate::rejection::Rejection;

/// An action route: the action id its tokens are minted for, and the path that serves it with
/// `POST`. Declare routes once (as constants) and use them both to mint buttons
/// ([`TesseraState::button`](crate::TesseraState::button)) and to mount handlers ([`ActionRouterExt::action`](crate::ActionRouterExt::action)).
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
/// [`Router::nest`](axum::Router::nest)**: the click would be served under the prefix, but the button, which does
/// not know the prefix, would point the click at a URL nothing serves (404). To place a
/// plugin's actions under a prefix, give the routes the full path and mount them with
/// [`Router::merge`](axum::Router::merge); a prefix chosen at run time goes through [`ActionRoute::owned`]:
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
/// let button = state.button(&print_route("/plugins/labels"), "Print").payload(&7u32).mint()?;
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
    /// (atomically, until the token can no longer verify plus [`REPLAY_RECORD_MARGIN`](crate::REPLAY_RECORD_MARGIN)) after
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
    /// let token = state.button(&PRINT, "Print").payload(&7u32).mint()?.token;
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
}
