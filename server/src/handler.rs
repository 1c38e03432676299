//! The handlers an action route accepts: those that verify the click.

use crate::extractor::Action;
use crate::rejection::Rejection;

/// A handler whose **last argument is the [`Action`] extractor** (or
/// `Result<Action<T, I>, Rejection>`, to answer refusals in a format of your own): the only
/// handlers [`ActionRouterExt::action`](crate::ActionRouterExt::action) and
/// [`ActionRoute::post`](crate::ActionRoute::post) mount.
///
/// The token is verified, and a single-use route's use recorded, by the extractor. A handler
/// without it would run on any request, with no token or a forged one, and a single-use
/// route's any number of times; mounting one is a compile error rather than a silent hole.
/// (`T` is axum's extractor tuple of the handler; there is nothing to implement.)
///
/// ```compile_fail
/// use axum::Router;
/// use tessera_server::{ActionRoute, ActionRouterExt, TesseraState};
/// const PAY: ActionRoute = ActionRoute::new("plugin:shop/action:pay", "/pay").single_use();
/// async fn pay() -> &'static str { "paid, unverified" } // no Action: refused
/// fn app(state: TesseraState) -> Router {
///     Router::new().action(&PAY, pay).with_state(state)
/// }
/// ```
///
/// Other extractors come before it, as axum requires of the one that reads the body:
///
/// ```
/// use axum::{Router, extract::State};
/// use tessera_server::{Action, ActionRoute, ActionRouterExt, Rejection, TesseraState};
/// const PAY: ActionRoute = ActionRoute::new("plugin:shop/action:pay", "/pay").single_use();
/// async fn pay(State(_): State<TesseraState>, action: Action<u32>) -> String {
///     format!("paid {}", action.payload)
/// }
/// async fn pay_own_errors(action: Result<Action<u32>, Rejection>) -> String {
///     match action {
///         Ok(action) => format!("paid {}", action.payload),
///         Err(refused) => format!("refused: {}", refused.code()),
///     }
/// }
/// # fn app(state: TesseraState) -> Router {
/// Router::new()
///     .action(&PAY, pay)
///     .route("/pay-too", PAY.post(pay_own_errors))
///     .with_state(state)
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "an action route's handler must take the `Action` extractor as its last argument",
    label = "this handler does not verify the click",
    note = "without `Action<T, I>` (or `Result<Action<T, I>, Rejection>`) the handler would run \
            with no token, or a forged one"
)]
pub trait ActionHandler<T>: sealed::Sealed<T> {}

mod sealed {
    pub trait Sealed<T> {}
}

macro_rules! action_handler {
    ($($ty:ident),*) => {
        impl<F, Fut, M, P, I, $($ty,)*> sealed::Sealed<(M, $($ty,)* Action<P, I>,)> for F
        where
            F: FnOnce($($ty,)* Action<P, I>) -> Fut,
        {
        }
        impl<F, Fut, M, P, I, $($ty,)*> ActionHandler<(M, $($ty,)* Action<P, I>,)> for F
        where
            F: FnOnce($($ty,)* Action<P, I>) -> Fut,
        {
        }
        impl<F, Fut, M, P, I, $($ty,)*> sealed::Sealed<(M, $($ty,)* Result<Action<P, I>, Rejection>,)>
            for F
        where
            F: FnOnce($($ty,)* Result<Action<P, I>, Rejection>) -> Fut,
        {
        }
        impl<F, Fut, M, P, I, $($ty,)*> ActionHandler<(M, $($ty,)* Result<Action<P, I>, Rejection>,)>
            for F
        where
            F: FnOnce($($ty,)* Result<Action<P, I>, Rejection>) -> Fut,
        {
        }
    };
}

action_handler!();
action_handler!(T1);
action_handler!(T1, T2);
action_handler!(T1, T2, T3);
action_handler!(T1, T2, T3, T4);
action_handler!(T1, T2, T3, T4, T5);
action_handler!(T1, T2, T3, T4, T5, T6);
action_handler!(T1, T2, T3, T4, T5, T6, T7);
action_handler!(T1, T2, T3, T4, T5, T6, T7, T8);
action_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
action_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
action_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
action_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
action_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13);
action_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14);
action_handler!(
    T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15
);
