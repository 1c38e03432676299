//! Rejections: every refusal the server library sends, as `application/problem+json`
//! (RFC 9457), with the stable machine `code` and its HTTP status defined together in **one
//! table** ([`Code::status`]).
//!
//! Each rejection is logged through `tracing` under the target `tessera::rejection` with its
//! code, status, route and action id — never the token, the request body or a secret.

use std::borrow::Cow;
use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_protocol::wire::{Code, PROBLEM_JSON, Problem};
use tessera_protocol::{ActionId, Error, ErrorCode};

/// The log target of rejection events.
pub const LOG_TARGET: &str = "tessera::rejection";

/// A refused request: a [`Code`], a safe human `detail`, and the route and action it happened
/// on (for the log line). Its [`IntoResponse`] gives an RFC 9457 problem body and logs the
/// rejection.
///
/// The detail never contains the token, the request body or key material: verification
/// errors carry only lengths, times and static reasons, and a mint failure's detail is generic.
///
/// ```
/// use axum::http::StatusCode;
/// use axum::response::IntoResponse;
/// use tessera_protocol::{Error, ErrorCode};
/// use tessera_server::{Code, Rejection};
///
/// let rejection = Rejection::verification(Error::WrongSubject);
/// assert_eq!(rejection.code(), Code::Protocol(ErrorCode::WrongSubject));
/// assert_eq!(rejection.status(), StatusCode::FORBIDDEN);
/// let response = rejection.into_response();
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
/// ```
#[derive(Clone, Debug)]
pub struct Rejection {
    code: Code,
    detail: Cow<'static, str>,
    cause: Option<ErrorCode>,
    log_reason: Option<Cow<'static, str>>,
    route: Option<Cow<'static, str>>,
    action: Option<ActionId>,
}

impl Rejection {
    /// A token that failed verification; the code is the protocol error's code.
    pub fn verification(err: Error) -> Rejection {
        Rejection::new(err.code().into(), err.to_string())
    }

    /// A request body longer than `limit` bytes: `too_large` (413).
    pub fn body_too_large(limit: usize) -> Rejection {
        Rejection::new(
            ErrorCode::TooLarge.into(),
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// A request body that cannot be parsed as its content type says: `malformed` (400).
    pub fn malformed_body(reason: &'static str) -> Rejection {
        Rejection::new(ErrorCode::Malformed.into(), reason)
    }

    /// A single-use action's token was already used: `replayed` (409).
    pub fn replayed() -> Rejection {
        Rejection::new(
            Code::Replayed,
            "this button was already used; reload the panel for a fresh one",
        )
    }

    /// The replay guard could not answer: `replay_unavailable` (503). The action did not run.
    /// `reason` (what went wrong with the store) is for the operator: it goes to the log line,
    /// never to the client, whose detail stays generic.
    ///
    /// ```
    /// use tessera_server::{Code, Rejection};
    /// let r = Rejection::replay_unavailable("no storage space");
    /// assert_eq!((r.code(), r.status().as_u16()), (Code::ReplayUnavailable, 503));
    /// assert!(!r.detail().contains("storage"));
    /// assert_eq!(r.log_reason(), Some("no storage space"));
    /// ```
    pub fn replay_unavailable(reason: impl Into<Cow<'static, str>>) -> Rejection {
        let mut rejection = Rejection::new(
            Code::ReplayUnavailable,
            "the server could not check whether this button was used before, so the action \
             did not run; try again later",
        );
        rejection.log_reason = Some(reason.into());
        rejection
    }

    /// The state changed since the button was rendered: `stale` (409).
    pub fn stale() -> Rejection {
        Rejection::new(
            Code::Stale,
            "the data changed since this panel was rendered; reload it and try again",
        )
    }

    /// The caller's credential is present but unusable (see
    /// [`IdentitySource::check`](crate::IdentitySource::check)): `bad_identity` (400). The
    /// reason names the header or cookie, never its value.
    ///
    /// ```
    /// use tessera_server::{Code, Rejection};
    /// let r = Rejection::bad_identity("the x-remote-user header is repeated");
    /// assert_eq!((r.code(), r.status().as_u16()), (Code::BadIdentity, 400));
    /// ```
    pub fn bad_identity(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(Code::BadIdentity, reason)
    }

    /// A request a browser sent from a page of another origin that the state does not trust
    /// ([`TesseraConfig::with_trusted_origin`](crate::TesseraConfig::with_trusted_origin)):
    /// `cross_origin` (403).
    ///
    /// ```
    /// use tessera_server::{Code, Rejection};
    /// let r = Rejection::cross_origin("sent from https://evil.example");
    /// assert_eq!((r.code(), r.status().as_u16()), (Code::CrossOrigin, 403));
    /// ```
    pub fn cross_origin(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(Code::CrossOrigin, reason)
    }

    /// No token in the request: `missing_token` (400).
    pub fn missing_token() -> Rejection {
        Rejection::new(
            Code::MissingToken,
            "no token: send {\"token\": ...} as JSON, the form field tessera_token, \
             or the Tessera-Token header",
        )
    }

    /// A non-empty body that is neither JSON nor a urlencoded form: `unsupported_media_type` (415).
    pub fn unsupported_media_type() -> Rejection {
        Rejection::new(
            Code::UnsupportedMediaType,
            "send application/json or application/x-www-form-urlencoded",
        )
    }

    /// The user's input does not fit the action's input type: `bad_input` (422). `reason` must
    /// not quote the input (use positions and type names).
    ///
    /// Handlers use it too, to refuse an input that parses but is not acceptable (on a
    /// single-use route mounted with [`ActionRouterExt::action`](crate::ActionRouterExt::action)
    /// or [`ActionRoute::post`](crate::ActionRoute::post), a 4xx answer leaves the token usable).
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request};
    /// use http_body_util::BodyExt;
    /// use serde::Deserialize;
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, Problem, Rejection, TesseraState};
    /// use tower::ServiceExt;
    ///
    /// const MOVE: ActionRoute = ActionRoute::new("plugin:stock-tools/action:move", "/move");
    /// #[derive(Deserialize)]
    /// struct Qty { qty: u32 }
    /// async fn move_stock(Action { payload: in_stock, input, .. }: Action<u32, Qty>) -> Result<&'static str, Rejection> {
    ///     if input.qty > in_stock {
    ///         return Err(Rejection::bad_input("qty is more than the stock"));
    ///     }
    ///     Ok("moved")
    /// }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
    /// let token = state.button(&MOVE, "Move").payload(&10u32).mint()?.token;
    /// let body = serde_json::json!({"token": token, "input": {"qty": 11}}).to_string();
    /// let request = Request::post("/move").header("content-type", "application/json").body(Body::from(body))?;
    /// let response = Router::new().action(&MOVE, move_stock).with_state(state).oneshot(request).await?;
    /// assert_eq!(response.status(), 422);
    /// let problem: Problem = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
    /// assert_eq!((problem.code.as_str(), problem.detail.as_str()), ("bad_input", "qty is more than the stock"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn bad_input(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(Code::BadInput, reason)
    }

    /// The handler's route is not bound to an action: `unbound_action` (500).
    pub fn unbound_action() -> Rejection {
        Rejection::new(
            Code::UnboundAction,
            "this route is not bound to an action on the server",
        )
    }

    /// Minting a button's token failed: `mint_failed` (500). The protocol error's code is kept
    /// as the `cause` field of the log line; the response detail stays generic.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, ErrorCode, KeySet};
    /// use tessera_server::{ActionRoute, Code, TesseraState};
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
    /// // A verify-only state (public keys fetched from the issuer) cannot mint buttons.
    /// let published = KeySet::generate(Algorithm::EdDsa)?.public_jwks().to_string();
    /// let state = TesseraState::new(KeySet::from_public_jwks(&published)?, "inventree")?;
    /// let rejection = state.button(&PRINT, "Print").mint().unwrap_err();
    /// assert_eq!((rejection.code(), rejection.status().as_u16()), (Code::MintFailed, 500));
    /// assert_eq!(rejection.cause(), Some(ErrorCode::InvalidKey));
    /// assert_eq!(rejection.detail(), "the server could not mint a token for this action");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mint(err: Error) -> Rejection {
        let mut rejection = Rejection::new(
            Code::MintFailed,
            "the server could not mint a token for this action",
        );
        rejection.cause = Some(err.code());
        rejection
    }

    /// A rejection with any code and a safe detail.
    pub fn new(code: Code, detail: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection {
            code,
            detail: detail.into(),
            cause: None,
            log_reason: None,
            route: None,
            action: None,
        }
    }

    /// Records the route (path template) and action the rejection happened on, for the log.
    pub fn at(
        mut self,
        route: Option<impl Into<Cow<'static, str>>>,
        action: Option<ActionId>,
    ) -> Rejection {
        self.route = route.map(Into::into);
        self.action = action;
        self
    }

    /// The machine code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The HTTP status, from the one table in [`Code::status`].
    pub fn status(&self) -> StatusCode {
        // Every status in the table is a valid one (a test walks them all).
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The human detail sent in the body.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The protocol code behind a `mint_failed` rejection.
    pub fn cause(&self) -> Option<ErrorCode> {
        self.cause
    }

    /// What the operator is told in the log line and the client is not (a replay store's
    /// failure, see [`Rejection::replay_unavailable`]).
    pub fn log_reason(&self) -> Option<&str> {
        self.log_reason.as_deref()
    }

    /// The route the rejection happened on, if known.
    pub fn route(&self) -> Option<&str> {
        self.route.as_deref()
    }

    /// The problem body this rejection is sent as.
    ///
    /// ```
    /// use tessera_server::{PROBLEM_TYPE_BASE, Rejection};
    /// let problem = Rejection::stale().problem();
    /// assert_eq!(problem.type_, format!("{PROBLEM_TYPE_BASE}stale"));
    /// assert_eq!((problem.status, problem.code.as_str()), (409, "stale"));
    /// assert_eq!(problem.title, "State changed since the button was rendered");
    /// ```
    pub fn problem(&self) -> Problem {
        Problem::new(self.code, self.detail.clone().into_owned())
    }

    /// Logs the rejection as [`into_response`](IntoResponse::into_response) does: one event,
    /// target `tessera::rejection`, with the code, status, route and action (and, for a 5xx,
    /// the cause's code and the [`log_reason`](Rejection::log_reason)), never the detail or the
    /// token. Call it when you answer a rejection in
    /// your own format (a handler taking `Result<Action<T>, Rejection>`), so that refusals are
    /// still logged like the others. The route and action logged are those the rejection was
    /// located at: the extractor locates its own, and [`ActionRoute::reject`](crate::ActionRoute::reject)
    /// locates one your handler raises; any other is logged with `-` for both.
    ///
    /// ```
    /// use axum::{Json, Router, body::Body, http::{Request, StatusCode}};
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, Rejection, TesseraState};
    /// use tower::ServiceExt;
    ///
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:labels/action:print", "/labels/print");
    ///
    /// /// The plugin's own error format, with the standard log line.
    /// async fn print(action: Result<Action<u32>, Rejection>) -> (StatusCode, Json<serde_json::Value>) {
    ///     match action {
    ///         Ok(action) => (StatusCode::OK, Json(serde_json::json!({"printed": action.payload}))),
    ///         Err(rejection) => {
    ///             rejection.log();
    ///             (rejection.status(), Json(serde_json::json!({"error": rejection.code().as_str()})))
    ///         }
    ///     }
    /// }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
    /// let app = Router::new().action(&PRINT, print).with_state(state);
    /// let click = Request::post(PRINT.path()).body(Body::empty())?;
    /// assert_eq!(app.oneshot(click).await?.status(), StatusCode::BAD_REQUEST); // missing_token
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn log(&self) {
        let code = self.code.as_str();
        let status = self.status().as_u16();
        let route = self.route.as_deref().unwrap_or("-");
        let action = self.action.as_ref().map_or("-", ActionId::as_str);
        let cause = self.cause.map_or("-", ErrorCode::as_str);
        let reason = self.log_reason.as_deref().unwrap_or("-");
        crate::metrics::refused(code, self.action.as_ref());
        if self.status().is_server_error() {
            tracing::error!(target: LOG_TARGET, code, status, route, action, cause, reason, "request rejected");
        } else {
            tracing::info!(target: LOG_TARGET, code, status, route, action, "request rejected");
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for Rejection {}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        // Serializing plain strings and a number cannot fail.
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
