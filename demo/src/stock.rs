//! The sample plugin's stock item and its transfer: the payload a transfer button carries,
//! the user's input, and the rule that turns them into a result (shared by the `stock-tools`
//! transfer action, the naive panel and the benchmark's parse-only twin).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tessera_server::{Principal, Rejection};

/// The plugin's name in URLs and JSON.
pub(crate) const PLUGIN: &str = "stock-tools";
/// The demo's stock item, as a real plugin would load it from its database at render time.
pub(crate) const STOCK_ITEM: StockItem = StockItem {
    part_id: 1234,
    part_name: "M3×8 hex bolt",
    location: "A1-03",
    quantity: 500,
};

/// A stock item shown on the `stock-item` panel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StockItem {
    pub(crate) part_id: u32,
    pub(crate) part_name: &'static str,
    pub(crate) location: &'static str,
    pub(crate) quantity: u32,
}

/// Payload of a transfer token: everything the transfer needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TransferPayload {
    pub(crate) part_id: u32,
    pub(crate) part_name: String,
    pub(crate) from: String,
    pub(crate) to: String,
    /// The quantity on hand at render time: the most the user may move.
    pub(crate) available: u32,
    /// The worker that rendered the panel.
    pub(crate) rendered_by: String,
}

impl TransferPayload {
    pub(crate) fn for_item(item: &StockItem, to: &str, rendered_by: &str) -> TransferPayload {
        TransferPayload {
            part_id: item.part_id,
            part_name: item.part_name.to_owned(),
            from: item.location.to_owned(),
            to: to.to_owned(),
            available: item.quantity,
            rendered_by: rendered_by.to_owned(),
        }
    }
}

/// The user's input to a transfer (the panel's fields).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct TransferInput {
    /// How many to move. Defaults to 1.
    pub(crate) qty: Option<u32>,
    /// A free-text note.
    pub(crate) note: Option<String>,
}

/// The longest note kept with a transfer, in characters.
const MAX_NOTE_CHARS: usize = 200;

/// The transfer result, shared with the parse-only benchmark endpoint so that both answer
/// the same body.
pub(crate) fn transfer_result(
    payload: &TransferPayload,
    input: &TransferInput,
    user: Option<&Principal>,
    handled_by: &str,
) -> Result<Value, Rejection> {
    let qty = input.qty.unwrap_or(1);
    if qty == 0 || qty > payload.available {
        return Err(Rejection::bad_input(format!(
            "qty must be 1 to {} (the quantity on hand when the panel was rendered)",
            payload.available
        )));
    }
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(Rejection::bad_input(format!(
            "note is at most {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(json!({
        "plugin": PLUGIN,
        "action": "transfer",
        "ok": true,
        "message": format!(
            "moved {qty} × {} (#{}) from {} to {}",
            payload.part_name, payload.part_id, payload.from, payload.to
        ),
        "part_id": payload.part_id,
        "moved": qty,
        "from": payload.from,
        "to": payload.to,
        "remaining_at_source": payload.available - qty,
        "note": note,
        "user": user,
        "rendered_by": payload.rendered_by,
        "handled_by": handled_by,
    }))
}
