//! What the library counts, through the [`metrics`] facade (the application installs the
//! exporter it wants; without one, counting costs an atomic load):
//!
//! - [`VERIFIED_ACTIONS`]`{action}`: clicks whose token verified (and, on a single-use route,
//!   whose use was recorded), handed to the handler;
//! - [`REFUSALS`]`{code, action}`: every [`Rejection`](crate::Rejection) logged — refused
//!   tokens and requests, and refusals a handler raises — by stable code and action id (`-`
//!   outside an action route).
//!
//! Labels are action ids (declared by the application's routes) and the codes of spec §6:
//! never a token, a user name or anything else a client chose.
//!
//! ```
//! assert_eq!(tessera_server::metrics::VERIFIED_ACTIONS, "tessera_actions_verified_total");
//! assert_eq!(tessera_server::metrics::REFUSALS, "tessera_refusals_total");
//! ```

use metrics::SharedString;
use tessera_protocol::ActionId;

/// The counter of verified actions, labelled `action`.
pub const VERIFIED_ACTIONS: &str = "tessera_actions_verified_total";

/// The counter of refusals, labelled `code` and `action`.
pub const REFUSALS: &str = "tessera_refusals_total";

/// An action id as a label value (without copying it when it is a constant).
fn label(action: Option<&ActionId>) -> SharedString {
    match action {
        None => SharedString::const_str("-"),
        Some(id) => match id.as_static() {
            Some(text) => SharedString::const_str(text),
            None => SharedString::from(id.as_str().to_owned()),
        },
    }
}

/// Counts a verified action.
pub(crate) fn verified(action: &ActionId) {
    metrics::counter!(VERIFIED_ACTIONS, "action" => label(Some(action))).increment(1);
}

/// Counts a refusal.
pub(crate) fn refused(code: &'static str, action: Option<&ActionId>) {
    metrics::counter!(REFUSALS, "code" => code, "action" => label(action)).increment(1);
}
