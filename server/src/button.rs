//! Minting a panel's buttons: [`TesseraState::button`] and its [`ButtonBuilder`].
//!
//! The panel document's types ([`Panel`](crate::Panel), [`Button`], [`Field`](crate::Field))
//! are the wire vocabulary's ([`tessera_protocol::wire`]), shared with clients;
//! [`render`](crate::render) turns a panel into HTML.

use std::time::Duration;

use serde::Serialize;
use tessera_protocol::wire::Button;
use tessera_protocol::{Accept, Principal};

use crate::rejection::Rejection;
use crate::route::ActionRoute;
use crate::state::TesseraState;

impl TesseraState {
    /// Starts a button labelled `label` for `route`: name the caller it is for
    /// ([`ButtonBuilder::caller`]; without one, the token has no subject and only anonymous
    /// callers may use it), its payload, and optionally its TTL and fingerprint, then
    /// [`mint`](ButtonBuilder::mint) it. Buttons for a route that accepts only sealed tokens
    /// are minted sealed; otherwise signed.
    ///
    /// A minting failure (no signing key, a payload that does not serialize, a token over the
    /// length cap, a TTL over the maximum lifetime) is a `mint_failed` (500) [`Rejection`], so
    /// `?` works in handlers.
    ///
    /// ```
    /// use tessera_protocol::{Algorithm, Expected, KeySet, Principal};
    /// use tessera_server::{ActionRoute, TesseraState};
    ///
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
    /// let state = TesseraState::new(KeySet::generate(Algorithm::Hs256)?, "inventree")?;
    /// let alice = Principal::new("alice");
    /// let button = state.button(&PRINT, "Print label")
    ///     .caller(Some(&alice))
    ///     .payload(&serde_json::json!({"part": 7}))
    ///     .mint()?;
    /// assert_eq!(button.url, "/print");
    /// assert_eq!(button.expires_at, state.now() + 300);
    ///
    /// let ok = state.verifier().verify::<serde_json::Value>(
    ///     &button.token, &Expected::audience(PRINT.id().as_str()).subject("alice"))?;
    /// assert_eq!(ok.claims.dat["part"], 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn button<'a>(
        &'a self,
        route: &'a ActionRoute,
        label: impl Into<String>,
    ) -> ButtonBuilder<'a, ()> {
        ButtonBuilder {
            state: self,
            route,
            label: label.into(),
            caller: None,
            payload: &(),
            ttl: None,
            fingerprint: None,
        }
    }
}

/// A button being minted: see [`TesseraState::button`]. Each setting may be given in any
/// order and combined with the others.
#[must_use = "a button is only minted by `mint()`"]
pub struct ButtonBuilder<'a, P: ?Sized> {
    state: &'a TesseraState,
    route: &'a ActionRoute,
    label: String,
    caller: Option<&'a Principal>,
    payload: &'a P,
    ttl: Option<Duration>,
    fingerprint: Option<&'a str>,
}

impl<'a, P: Serialize + ?Sized> ButtonBuilder<'a, P> {
    /// The caller the token is for (its `sub`), as the [`Caller`](crate::Caller) extractor
    /// gives it; `None` mints a token without subject, which only anonymous callers may use.
    pub fn caller(mut self, caller: Option<&'a Principal>) -> Self {
        self.caller = caller;
        self
    }

    /// The data the action needs (the token's `dat`); `null` when not given.
    pub fn payload<Q: Serialize + ?Sized>(self, payload: &'a Q) -> ButtonBuilder<'a, Q> {
        ButtonBuilder {
            state: self.state,
            route: self.route,
            label: self.label,
            caller: self.caller,
            payload,
            ttl: self.ttl,
            fingerprint: self.fingerprint,
        }
    }

    /// The token's lifetime, instead of the state's default TTL (at most the maximum lifetime;
    /// a longer one is `mint_failed`, with the protocol's `lifetime_too_long` as its cause).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use tessera_protocol::{Algorithm, ErrorCode, FixedClock, KeySet};
    /// use tessera_server::{ActionRoute, Code, TesseraConfig};
    /// const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");
    /// let state = TesseraConfig::new(KeySet::generate(Algorithm::Hs256)?, "inventree")
    ///     .with_clock(Arc::new(FixedClock(1_790_000_000))).build()?;
    /// let button = state.button(&PRINT, "Print").payload(&7u32).ttl(Duration::from_secs(60)).mint()?;
    /// assert_eq!(button.expires_at, 1_790_000_060);
    /// let two_days = Duration::from_secs(2 * 86_400);
    /// let err = state.button(&PRINT, "Print").ttl(two_days).mint().unwrap_err();
    /// assert_eq!((err.code(), err.status().as_u16()), (Code::MintFailed, 500));
    /// assert_eq!(err.cause(), Some(ErrorCode::LifetimeTooLong));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Binds a fingerprint of the state the button was rendered from (the token's `fpr`, 1 to
    /// 128 bytes). The action checks it with
    /// [`Action::require_fingerprint`](crate::Action::require_fingerprint), so a click after
    /// the state changed is refused with `stale` instead of acting on old data.
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
    /// let fresh = state.button(&MOVE, "Move").payload(&1234u32).fingerprint("stock:1234:v8").mint()?;
    /// let old = state.button(&MOVE, "Move").payload(&1234u32).fingerprint("stock:1234:v7").mint()?;
    /// let app = Router::new().action(&MOVE, move_stock).with_state(state);
    /// let click = |b: &Button| Request::post("/move").header("tessera-token", b.token.as_str())
    ///     .body(Body::empty()).unwrap();
    /// assert_eq!(app.clone().oneshot(click(&fresh)).await?.status(), 200);
    /// assert_eq!(app.oneshot(click(&old)).await?.status(), 409); // stale
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn fingerprint(mut self, fingerprint: &'a str) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }

    /// Mints the token and returns the button.
    ///
    /// # Errors
    /// `mint_failed` (500), with the protocol error's code as the rejection's
    /// [`cause`](Rejection::cause).
    pub fn mint(self) -> Result<Button, Rejection> {
        let route = self.route;
        let now = self.state.now();
        let ttl = self.ttl.unwrap_or_else(|| self.state.default_ttl());
        let mut builder = self
            .state
            .minter()
            .token(route.id().as_str())
            .payload(self.payload)
            .ttl(ttl)
            .issued_at(now);
        if let Some(caller) = self.caller {
            builder = builder.subject(caller.as_str());
        }
        if let Some(fingerprint) = self.fingerprint {
            builder = builder.fingerprint(fingerprint);
        }
        let minted = match route.accept() {
            Accept::Sealed => builder.seal(),
            _ => builder.mint(),
        };
        let token = minted.map_err(|e| route.reject(Rejection::mint(e)))?;
        Ok(Button {
            label: self.label,
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

    use tessera_protocol::Principal;
    use tessera_protocol::wire::{Button, Panel};

    use crate::route::ActionRoute;
    use crate::state::TesseraState;

    const PRINT: ActionRoute = ActionRoute::new("plugin:stock-tools/action:print", "/print");

    #[test]
    fn debug_of_buttons_and_panels_never_prints_the_bearer_token() {
        let state =
            TesseraState::new(KeySet::generate(Algorithm::Hs256).unwrap(), "inventree").unwrap();
        let alice = Principal::new("alice");
        let button: Button = state
            .button(&PRINT, "Print")
            .caller(Some(&alice))
            .payload(&serde_json::json!({"part": 7}))
            .mint()
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
