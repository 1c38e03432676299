//! Mounting handlers on action routes: the bound handler that hands the route (and, for a
//! single-use route, the use record) to the extractor, and the router extension.

use std::future::Future;
use std::pin::Pin;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::Response;
use axum::routing::MethodRouter;
use futures_util::future::Either;

use crate::handler::ActionHandler;
use crate::route::ActionRoute;
use crate::single_use::UseRecord;

impl ActionRoute {
    /// `handler` as a `POST` method router bound to this action. The handler must take the
    /// [`Action`](crate::Action) extractor ([`ActionHandler`](crate::ActionHandler)).
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
            !self.path().contains('{'),
            "action route {}: its path {:?} has a parameter; a button's URL is the path as \
             is, and the token does not cover the URL, so put the ids in the button's payload",
            self.id().as_str(),
            self.path()
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

/// Mounts handlers on [`ActionRoute`]s.
pub trait ActionRouterExt<S> {
    /// Mounts `handler` at `route.path()` for `POST`, bound to `route.id()`. Mount it in the
    /// app's root router (or one merged into it), not in a nested one: buttons point at
    /// `route.path()` as is (see [Under a path prefix](ActionRoute#under-a-path-prefix)). The
    /// handler must take the [`Action`](crate::Action) extractor ([`ActionHandler`](crate::ActionHandler)); a path with a parameter
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
