//! Panels and buttons: what a plugin shows, with each button's token minted at render time.
//!
//! The JSON form (for APIs and React-style front ends) is
//! `{"key", "title", "buttons": [{"label", "action", "url", "method", "token", "expires_at"}]}`
//! plus an optional `"fields"` list for user input; [`render`](crate::render) turns a panel
//! into HTML.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tessera_protocol::Accept;

use crate::TesseraState;
use crate::action::{ActionId, ActionRoute};
use crate::identity::Principal;
use crate::rejection::Rejection;

/// A panel: a key unique within its plugin, a title, buttons, and optional input fields.
///
/// ```
/// use tessera_server::{Field, Panel};
/// let panel = Panel::new("stock", "Stock tools").with_field(Field::number("qty", "Quantity"));
/// let json = serde_json::to_value(&panel)?;
/// assert_eq!(json["key"], "stock");
/// assert_eq!(serde_json::from_value::<Panel>(json)?, panel);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Panel {
    /// The panel's key, unique within its plugin.
    pub key: String,
    /// The title shown above the buttons.
    pub title: String,
    /// The buttons, each with its token.
    pub buttons: Vec<Button>,
    /// Input fields whose values the click script sends as the action's `input` (omitted from
    /// the JSON when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

impl Panel {
    /// An empty panel.
    pub fn new(key: impl Into<String>, title: impl Into<String>) -> Panel {
        Panel {
            key: key.into(),
            title: title.into(),
            buttons: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Adds a button.
    pub fn with_button(mut self, button: Button) -> Panel {
        self.buttons.push(button);
        self
    }

    /// Adds an input field.
    pub fn with_field(mut self, field: Field) -> Panel {
        self.fields.push(field);
        self
    }
}

/// A button: its label, the action it invokes (id, URL, method), and the token minted for
/// (action, principal, payload, TTL), which expires at `expires_at` (seconds since the epoch).
///
/// Make one with [`TesseraState::button`]. Its `Debug` output shows the token's length, never
/// the token: a bearer credential (and, for a signed token, its claims) must not reach logs.
///
/// ```
/// use tessera_protocol::{Algorithm, KeySet};
/// use tessera_server::{ActionRoute, TesseraState};
/// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
/// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
/// let button = state.button("Print", &PRINT, None, &7u32)?;
/// assert!(!format!("{button:?}").contains(&button.token));
/// let json = serde_json::to_value(&button)?;
/// assert_eq!(json["action"], "plugin:stock-tools/action:print");
/// assert_eq!((json["url"].as_str(), json["method"].as_str()), (Some("/print"), Some("POST")));
/// assert_eq!(json["token"], button.token.as_str()); // the JSON form does carry it
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// The text on the button.
    pub label: String,
    /// The action id (the token's audience).
    pub action: ActionId,
    /// The URL to send the click to.
    pub url: String,
    /// The HTTP method of the click (`POST`).
    pub method: String,
    /// The signed token (not a secret from its holder: it is shown in the page).
    pub token: String,
    /// When the token expires, in seconds since the epoch.
    pub expires_at: u64,
}

impl fmt::Debug for Button {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Button")
            .field("label", &self.label)
            .field("action", &self.action)
            .field("url", &self.url)
            .field("method", &self.method)
            .field("token_len", &self.token.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// An input field of a panel. Its value is sent in the click's `input` object under `name`
/// (as a JSON number for [`FieldKind::Number`] fields holding a number).
///
/// ```
/// use tessera_server::{Field, FieldKind};
/// let qty = Field::number("qty", "Quantity").with_value("1");
/// assert_eq!(serde_json::to_value(&qty)?, serde_json::json!(
///     {"name": "qty", "label": "Quantity", "type": "number", "value": "1"}));
/// assert_eq!(Field::text("note", "Note").kind, FieldKind::Text);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The member name in `input`.
    pub name: String,
    /// The label shown next to the field.
    pub label: String,
    /// The kind of field.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// The initial value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Field {
    /// A text field.
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            kind: FieldKind::Text,
            value: None,
        }
    }

    /// A number field.
    pub fn number(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field {
            kind: FieldKind::Number,
            ..Field::text(name, label)
        }
    }

    /// Sets the initial value.
    pub fn with_value(mut self, value: impl Into<String>) -> Field {
        self.value = Some(value.into());
        self
    }
}

/// The kind of an input [`Field`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FieldKind {
    /// Free text: sent as a JSON string.
    Text,
    /// A number: sent as a JSON number (a string if the user typed something else).
    Number,
}

impl TesseraState {
    /// Mints a button for `route`, bound to `principal` (the caller, see
    /// [`Caller`](crate::Caller); `None` mints a token without subject, accepted only from
    /// anonymous callers) and carrying `payload`, with the state's default TTL.
    ///
    /// A minting failure (no signing key, a payload that does not serialize, a token over the
    /// length cap) is a `mint_failed` (500) [`Rejection`], so `?` works in handlers.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, Expected, KeySet};
    /// use tessera_server::{ActionRoute, Principal, TesseraState};
    ///
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
    /// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
    /// let alice = Principal::new("alice");
    /// let button = state.button("Print label", &PRINT, Some(&alice), &serde_json::json!({"part": 7}))?;
    /// assert_eq!(button.url, "/print");
    /// assert_eq!(button.expires_at, state.now() + 300);
    ///
    /// let ok = state.verifier().verify::<serde_json::Value>(
    ///     &button.token, &Expected::audience(PRINT.id().as_str()).subject("alice"))?;
    /// assert_eq!(ok.claims.dat["part"], 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn button<P: Serialize + ?Sized>(
        &self,
        label: impl Into<String>,
        route: &ActionRoute,
        principal: Option<&Principal>,
        payload: &P,
    ) -> Result<Button, Rejection> {
        self.button_with_ttl(label, route, principal, payload, self.default_ttl())
    }

    /// Like [`TesseraState::button`], with its own TTL (at most the maximum lifetime; a longer
    /// one is `mint_failed`, with the protocol's `lifetime_too_long` as its cause).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use tessera_protocol::{Algorithm, ErrorCode, FixedClock, KeySet};
    /// use tessera_server::{ActionRoute, Code, TesseraConfig};
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
    /// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree")
    ///     .with_clock(Arc::new(FixedClock(1_790_000_000))).build()?;
    /// let button = state.button_with_ttl("Print", &PRINT, None, &7u32, Duration::from_secs(60))?;
    /// assert_eq!(button.expires_at, 1_790_000_060);
    /// let two_days = Duration::from_secs(2 * 86_400);
    /// let err = state.button_with_ttl("Print", &PRINT, None, &7u32, two_days).unwrap_err();
    /// assert_eq!((err.code(), err.status().as_u16()), (Code::MintFailed, 500));
    /// assert_eq!(err.cause(), Some(ErrorCode::LifetimeTooLong));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn button_with_ttl<P: Serialize + ?Sized>(
        &self,
        label: impl Into<String>,
        route: &ActionRoute,
        principal: Option<&Principal>,
        payload: &P,
        ttl: Duration,
    ) -> Result<Button, Rejection> {
        self.mint_button(label, route, principal, payload, ttl, None)
    }

    /// Like [`TesseraState::button`], binding a fingerprint of the state the button was
    /// rendered from (the token's `fpr`, 1 to 128 bytes). The action checks it with
    /// [`Action::require_fingerprint`](crate::Action::require_fingerprint), so a click after the
    /// state changed is refused with `stale` instead of acting on old data.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request};
    /// use tessera_protocol::{Algorithm, KeySet};
    /// use tessera_server::{Action, ActionRoute, ActionRouterExt, Button, Rejection, TesseraState};
    /// use tower::ServiceExt;
    ///
    /// const MOVE: ActionRoute = ActionRoute::new("plugin:stock-tools/action:move", "/move");
    /// async fn move_stock(action: Action<u32>) -> Result<&'static str, Rejection> {
    ///     action.require_fingerprint("stock:1234:v8")?; // the version in the database now
    ///     Ok("moved")
    /// }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
    /// let fresh = state.button_with_fingerprint("Move", &MOVE, None, &1234u32, "stock:1234:v8")?;
    /// let old = state.button_with_fingerprint("Move", &MOVE, None, &1234u32, "stock:1234:v7")?;
    /// let app = Router::new().action(&MOVE, move_stock).with_state(state);
    /// let click = |b: &Button| Request::post("/move").header("tessera-token", b.token.as_str())
    ///     .body(Body::empty()).unwrap();
    /// assert_eq!(app.clone().oneshot(click(&fresh)).await?.status(), 200);
    /// assert_eq!(app.oneshot(click(&old)).await?.status(), 409); // stale
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn button_with_fingerprint<P: Serialize + ?Sized>(
        &self,
        label: impl Into<String>,
        route: &ActionRoute,
        principal: Option<&Principal>,
        payload: &P,
        fingerprint: &str,
    ) -> Result<Button, Rejection> {
        self.mint_button(
            label,
            route,
            principal,
            payload,
            self.default_ttl(),
            Some(fingerprint),
        )
    }

    fn mint_button<P: Serialize + ?Sized>(
        &self,
        label: impl Into<String>,
        route: &ActionRoute,
        principal: Option<&Principal>,
        payload: &P,
        ttl: Duration,
        fingerprint: Option<&str>,
    ) -> Result<Button, Rejection> {
        let now = self.now();
        let mut builder = self
            .minter()
            .token(route.id().as_str())
            .payload(payload)
            .ttl(ttl)
            .issued_at(now);
        if let Some(principal) = principal {
            builder = builder.subject(principal.as_str());
        }
        if let Some(fingerprint) = fingerprint {
            builder = builder.fingerprint(fingerprint);
        }
        let minted = match route.accept() {
            Accept::Sealed => builder.seal(),
            _ => builder.mint(),
        };
        let token = minted.map_err(|e| {
            Rejection::mint(e).at(Some(route.path().to_owned()), Some(route.id().clone()))
        })?;
        Ok(Button {
            label: label.into(),
            action: route.id().clone(),
            url: route.path().to_owned(),
            method: route.method().as_str().to_owned(),
            token,
            expires_at: now.saturating_add(ttl.as_secs()),
        })
    }
}

#[cfg(test)]
mod tests {
    use tessera_protocol::{Algorithm, KeySet};

    use super::{Button, Panel};
    use crate::{ActionRoute, Principal, TesseraState};

    const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");

    #[test]
    fn debug_of_buttons_and_panels_never_prints_the_bearer_token() {
        let state =
            TesseraState::new(KeySet::generate(Algorithm::Hs256).unwrap(), "inventree").unwrap();
        let button: Button = state
            .button(
                "Print",
                &PRINT,
                Some(&Principal::new("alice")),
                &serde_json::json!({"part": 7}),
            )
            .unwrap();
        let panel = Panel::new("stock", "Stock tools").with_button(button.clone());
        for debug in [
            format!("{button:?}"),
            format!("{button:#?}"),
            format!("{panel:?}"),
        ] {
            // Neither the token nor any of its segments (the claims, the signature).
            for part in std::iter::once(button.token.as_str()).chain(button.token.split('.')) {
                assert!(!debug.contains(part), "{debug}");
            }
            // What is safe to log still shows.
            assert!(
                debug.contains("Print") && debug.contains("/print"),
                "{debug}"
            );
        }
    }
}
