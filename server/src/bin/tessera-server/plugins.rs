//! The sample inventory plugin `stock-tools`: two panels, three actions.
//!
//! Every button's token carries all the data its action needs (which part, where from, where
//! to, the rows to process) plus the worker that rendered it. The action handlers read only
//! the verified token payload and the user's input — never memory of the rendering worker —
//! so a click succeeds on any worker process.

use axum::extract::State;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tessera_server::render::NoStore;
use tessera_server::{
    Action, ActionRoute, ActionRouterExt, Caller, Field, Panel, Principal, Rejection, TesseraState,
};

use crate::app::AppState;

/// The plugin's name in URLs and JSON.
pub(crate) const PLUGIN: &str = "stock-tools";
/// Where the plugin's panels are rendered as JSON.
pub(crate) const PANELS_PATH: &str = "/api/plugins/stock-tools/panels";

/// Transfer stock between locations.
pub(crate) const TRANSFER: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:transfer",
    "/api/plugins/stock-tools/actions/transfer",
);
/// Print a label for a part.
pub(crate) const PRINT_LABEL: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:print-label",
    "/api/plugins/stock-tools/actions/print-label",
);
/// Process a batch of stocktake counts.
pub(crate) const PROCESS_DATA: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:process-data",
    "/api/plugins/stock-tools/actions/process-data",
);

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

#[derive(Clone, Debug, Serialize, Deserialize)]
struct LabelPayload {
    part_id: u32,
    part_name: String,
    location: String,
    template: String,
    rendered_by: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct LabelInput {
    copies: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct DataPayload {
    dataset: String,
    unit: String,
    /// Counted quantities per bin.
    values: Vec<i64>,
    rendered_by: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct DataInput {
    op: Option<String>,
}

/// The most label copies one click may print.
const MAX_COPIES: u32 = 50;
/// The longest note kept with a transfer, in characters.
const MAX_NOTE_CHARS: usize = 200;

/// The plugin's routes: the panels (JSON) and its three actions.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(PANELS_PATH, axum::routing::get(panels_json))
        .action(&TRANSFER, transfer)
        .action(&PRINT_LABEL, print_label)
        .action(&PROCESS_DATA, process_data)
}

/// Renders the plugin's panels for `who`, minting each button's token now.
pub(crate) fn panels(
    tessera: &TesseraState,
    who: Option<&Principal>,
    rendered_by: &str,
) -> Result<Vec<Panel>, Rejection> {
    let item = STOCK_ITEM;
    let transfer = TransferPayload::for_item(&item, "B2-11", rendered_by);
    let label = LabelPayload {
        part_id: item.part_id,
        part_name: item.part_name.to_owned(),
        location: item.location.to_owned(),
        template: "40x20-qr".to_owned(),
        rendered_by: rendered_by.to_owned(),
    };
    let data = DataPayload {
        dataset: "stocktake 2026-11, aisle A".to_owned(),
        unit: "pcs".to_owned(),
        values: vec![120, 75, 310, 42, 188, 97],
        rendered_by: rendered_by.to_owned(),
    };
    let stock = Panel::new(
        "stock-item",
        format!(
            "Stock item #{} · {} · {} pcs at {}",
            item.part_id, item.part_name, item.quantity, item.location
        ),
    )
    .with_field(Field::number("qty", "Quantity to move").with_value("25"))
    .with_field(Field::number("copies", "Label copies").with_value("1"))
    .with_button(tessera.button(
        format!("Transfer to {}", transfer.to),
        &TRANSFER,
        who,
        &transfer,
    )?)
    .with_button(tessera.button("Print label", &PRINT_LABEL, who, &label)?);
    let tools = Panel::new("data-tools", format!("Data tools · {}", data.dataset))
        .with_field(Field::text("op", "Operation (sum, mean, min, max)").with_value("sum"))
        .with_button(tessera.button("Process data", &PROCESS_DATA, who, &data)?);
    Ok(vec![stock, tools])
}

async fn panels_json(
    State(app): State<AppState>,
    Caller(who): Caller,
) -> Result<NoStore<Json<Value>>, Rejection> {
    let panels = panels(&app.tessera, who.as_ref(), app.worker.as_str())?;
    Ok(NoStore(Json(json!({
        "plugin": PLUGIN,
        "user": who,
        "rendered_by": app.worker.as_str(),
        "panels": panels,
    }))))
}

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

async fn transfer(
    State(app): State<AppState>,
    action: Action<TransferPayload, Option<TransferInput>>,
) -> Result<Json<Value>, Rejection> {
    let input = action.input.unwrap_or_default();
    transfer_result(
        &action.payload,
        &input,
        action.principal.as_ref(),
        app.worker.as_str(),
    )
    .map(Json)
}

async fn print_label(
    State(app): State<AppState>,
    action: Action<LabelPayload, Option<LabelInput>>,
) -> Result<Json<Value>, Rejection> {
    let p = action.payload;
    let copies = action.input.unwrap_or_default().copies.unwrap_or(1);
    if copies == 0 || copies > MAX_COPIES {
        return Err(Rejection::bad_input(format!(
            "copies must be 1 to {MAX_COPIES}"
        )));
    }
    let lines = [
        p.part_name.clone(),
        format!("PART #{}", p.part_id),
        format!("LOC {}", p.location),
        format!("QR part:{}", p.part_id),
    ];
    Ok(Json(json!({
        "plugin": PLUGIN,
        "action": "print-label",
        "ok": true,
        "message": format!("queued {copies} label(s) for #{} on template {}", p.part_id, p.template),
        "template": p.template,
        "copies": copies,
        "label": lines,
        "user": action.principal,
        "rendered_by": p.rendered_by,
        "handled_by": app.worker.as_str(),
    })))
}

async fn process_data(
    State(app): State<AppState>,
    action: Action<DataPayload, Option<DataInput>>,
) -> Result<Json<Value>, Rejection> {
    let p = action.payload;
    let op = action.input.unwrap_or_default().op;
    let op = op.as_deref().map_or("sum", str::trim);
    let values = &p.values;
    let result: Value = match op {
        "sum" => json!(values.iter().sum::<i64>()),
        "min" => json!(values.iter().min()),
        "max" => json!(values.iter().max()),
        "mean" if values.is_empty() => Value::Null,
        "mean" => {
            // Counts are small; i64 → f64 is exact for them.
            let sum: i64 = values.iter().sum();
            json!(sum as f64 / values.len() as f64)
        }
        _ => {
            return Err(Rejection::bad_input(
                "op must be one of sum, mean, min, max",
            ));
        }
    };
    Ok(Json(json!({
        "plugin": PLUGIN,
        "action": "process-data",
        "ok": true,
        "message": format!("{op} of {} rows of {}: {result} {}", values.len(), p.dataset, p.unit),
        "dataset": p.dataset,
        "op": op,
        "rows": values.len(),
        "result": result,
        "unit": p.unit,
        "user": action.principal,
        "rendered_by": p.rendered_by,
        "handled_by": app.worker.as_str(),
    })))
}
