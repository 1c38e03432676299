//! The [`Action`] extractor: verifies a click on an action route and hands the handler the
//! typed payload and input.

use std::borrow::Cow;

use axum::extract::{FromRef, FromRequest, MatchedPath, Request};
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use tessera_protocol::{Claims, Expected, Header, Principal};

use crate::body::{BodyKind, body_kind, check_content_length, header_token, parse_body, read_body};
use crate::rejection::Rejection;
use crate::route::ActionRoute;
use crate::single_use::{UseRecord, first_use};
use crate::state::TesseraState;

/// Extractor: a verified click on an action. `T` is the token's payload type, `I` the type of
/// the user's input (default: any JSON).
///
/// The token comes from exactly one of:
/// - a JSON body (`application/json`) `{"token": "...", "input": {...}}` (`input` optional:
///   absent or `null` is deserialized from `null`);
/// - a urlencoded form body with the field [`TOKEN_FIELD`](crate::TOKEN_FIELD) (`tessera_token`); the other fields
///   are the input (deserialized like axum's `Form`, except that a repeated field name is
///   refused);
/// - the header [`TOKEN_HEADER`](crate::TOKEN_HEADER) (`Tessera-Token`), with an optional JSON `{"input": ...}` or
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
/// ## Where the token travels
///
/// The token in the [`TOKEN_HEADER`](crate::TOKEN_HEADER), the input in the body; the same
/// token twice (header and body) is `malformed`:
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
/// let token = state.button(&PRINT, "Print").payload(&7u32).mint()?.token;
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
///
/// A form with the token in the field [`TOKEN_FIELD`](crate::TOKEN_FIELD) and the input in the
/// other fields:
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
/// let token = state.button(&TRANSFER, "Transfer").payload(&7u32).mint()?.token;
/// let form = format!("{TOKEN_FIELD}={token}&qty=3");
/// let request = Request::post("/transfer")
///     .header("content-type", "application/x-www-form-urlencoded").body(Body::from(form))?;
/// let response = Router::new().action(&TRANSFER, transfer).with_state(state).oneshot(request).await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(&response.into_body().collect().await?.to_bytes()[..], b"3 of part 7");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
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
        crate::metrics::verified(action.route.id());
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

impl<T, I> Action<T, I> {
    /// Stale-state detection: refuses the click with `stale` (409) unless the token carries a
    /// fingerprint (`fpr`) equal to `current`, the fingerprint the application computes now
    /// for the state the button acts on (a version number, a hash of the row…). Buttons bind
    /// it at render time with [`ButtonBuilder::fingerprint`](crate::ButtonBuilder::fingerprint).
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
