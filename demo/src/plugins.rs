//! The sample inventory plugin `stock-tools`: three panels, five actions.
//!
//! Every button's token carries all the data its action needs (which part, where from, where
//! to, the rows to process) plus the worker that rendered it. The action handlers read only
//! the verified token payload and the user's input — never memory of the rendering worker —
//! so a click succeeds on any worker process.
//!
//! The `shared-stock` panel acts on state that outlives the click: the shared stock ledger
//! ([`crate::ledger`], one file for every worker). Its two actions opt in to the checks of
//! stateful actions: `confirm-transfer` is **single-use** (a second click of the same button
//! is refused with 409 `replayed` by the replay guard), and `return-all` is **bound to the
//! ledger version** it was rendered from (a click after the ledger changed is refused with
//! 409 `stale`, compared within the ledger's compare-and-swap on its version). Both are bound
//! to the data folder too ([`Ledger::binding`]): a button from a ledger this host does not
//! keep (an earlier temporary data folder) is stale, never run against records that never saw
//! it.

use axum::extract::State;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tessera_protocol::ErrorCode;
use tessera_server::render::NoStore;
use tessera_server::{
    Action, ActionRoute, ActionRouterExt, Caller, Code, Field, Panel, PanelsDocument, Principal,
    Rejection, TesseraState,
};

use crate::ledger::{self, BIN, Ledger, PluginError, SHELF};
use crate::state::AppState;
use crate::stock::{PLUGIN, STOCK_ITEM, TransferInput, TransferPayload, transfer_result};

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

/// Confirm a transfer in the shared stock ledger. **Single use**: each button moves stock once.
pub(crate) const CONFIRM_TRANSFER: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:confirm-transfer",
    "/api/plugins/stock-tools/actions/confirm-transfer",
)
.single_use();
/// Return everything counted at the destination when the panel was rendered. **Stale-checked**:
/// bound to the ledger version it was rendered from.
pub(crate) const RETURN_ALL: ActionRoute = ActionRoute::new(
    "plugin:stock-tools/action:return-all",
    "/api/plugins/stock-tools/actions/return-all",
);

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

/// Payload of a confirm-transfer token: which part, where from, where to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ConfirmPayload {
    pub(crate) part_id: u32,
    pub(crate) from: String,
    pub(crate) to: String,
    /// The ledger version shown when the panel was rendered (informative only: the transfer
    /// checks the quantity on hand at click time).
    pub(crate) version_seen: u64,
    pub(crate) rendered_by: String,
}

/// The user's input to a confirm-transfer: how many to move.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct QtyInput {
    pub(crate) qty: Option<u32>,
}

/// Payload of a return-all token: the quantity counted at the destination at render time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ReturnPayload {
    pub(crate) part_id: u32,
    pub(crate) from: String,
    pub(crate) to: String,
    /// How many were at `from` when the panel was rendered: the quantity this button moves.
    pub(crate) qty: u32,
    pub(crate) rendered_by: String,
}

/// The most label copies one click may print.
const MAX_COPIES: u32 = 50;
/// The plugin's routes: the panels (JSON) and its five actions.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(PANELS_PATH, axum::routing::get(panels_json))
        .action(&TRANSFER, transfer)
        .action(&PRINT_LABEL, print_label)
        .action(&PROCESS_DATA, process_data)
        .action(&CONFIRM_TRANSFER, confirm_transfer)
        .action(&RETURN_ALL, return_all)
}

/// Renders all the plugin's panels for `who`: the stateless ones, then the shared-stock panel
/// of the current `ledger`.
pub(crate) fn panels(
    app: &AppState,
    who: Option<&Principal>,
    ledger: &Ledger,
) -> Result<Vec<Panel>, Rejection> {
    let mut panels = stateless_panels(&app.tessera, who, app.worker.as_str())?;
    panels.push(shared_stock_panel(app, who, ledger)?);
    Ok(panels)
}

/// The key of the shared-stock panel.
pub(crate) const SHARED_STOCK_PANEL: &str = "shared-stock";

/// The shared-stock panel: the ledger as it is now, a single-use transfer button, and a
/// return-all button bound to this ledger version.
pub(crate) fn shared_stock_panel(
    app: &AppState,
    who: Option<&Principal>,
    ledger: &Ledger,
) -> Result<Panel, Rejection> {
    let (tessera, rendered_by) = (&app.tessera, app.worker.as_str());
    let confirm = ConfirmPayload {
        part_id: ledger.part_id,
        from: SHELF.to_owned(),
        to: BIN.to_owned(),
        version_seen: ledger.version,
        rendered_by: rendered_by.to_owned(),
    };
    let back = ReturnPayload {
        part_id: ledger.part_id,
        from: BIN.to_owned(),
        to: SHELF.to_owned(),
        qty: ledger.at(BIN),
        rendered_by: rendered_by.to_owned(),
    };
    Ok(Panel::new(
        SHARED_STOCK_PANEL,
        format!(
            "Shared stock #{} · {} · {SHELF}: {} pcs · {BIN}: {} pcs · ledger v{}",
            ledger.part_id,
            ledger.part_name,
            ledger.at(SHELF),
            ledger.at(BIN),
            ledger.version
        ),
    )
    .with_field(Field::number("qty", "Quantity to transfer").with_value("5"))
    .with_button(
        tessera
            .button(
                &CONFIRM_TRANSFER,
                format!("Confirm transfer to {BIN} (single use)"),
            )
            .caller(who)
            .payload(&confirm)
            .fingerprint(&app.single_use_binding)
            .mint()?,
    )
    .with_button(
        tessera
            .button(
                &RETURN_ALL,
                format!(
                    "Return all {} from {BIN} to {SHELF} (as of v{})",
                    back.qty, ledger.version
                ),
            )
            .caller(who)
            .payload(&back)
            .fingerprint(&ledger.fingerprint())
            .mint()?,
    ))
}

/// Renders the stateless panels (stock item, data tools) for `who`, minting each button's
/// token now.
pub(crate) fn stateless_panels(
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
    .with_button(
        tessera
            .button(&TRANSFER, format!("Transfer to {}", transfer.to))
            .caller(who)
            .payload(&transfer)
            .mint()?,
    )
    .with_button(
        tessera
            .button(&PRINT_LABEL, "Print label")
            .caller(who)
            .payload(&label)
            .mint()?,
    );
    let tools = Panel::new("data-tools", format!("Data tools · {}", data.dataset))
        .with_field(Field::text("op", "Operation (sum, mean, min, max)").with_value("sum"))
        .with_button(
            tessera
                .button(&PROCESS_DATA, "Process data")
                .caller(who)
                .payload(&data)
                .mint()?,
        );
    Ok(vec![stock, tools])
}

async fn panels_json(
    State(app): State<AppState>,
    Caller(who): Caller,
) -> Result<NoStore<Json<PanelsDocument>>, PluginError> {
    let ledger = ledger::read(&app.ledger).await?;
    let panels = panels(&app, who.as_ref(), &ledger)?;
    Ok(NoStore(Json(PanelsDocument {
        plugin: PLUGIN.to_owned(),
        user: who.map(|p| p.as_str().to_owned()),
        rendered_by: Some(app.worker.as_str().to_owned()),
        panels,
    })))
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
    .map_err(|refused| action.route.reject(refused))
}

async fn print_label(
    State(app): State<AppState>,
    action: Action<LabelPayload, Option<LabelInput>>,
) -> Result<Json<Value>, Rejection> {
    let p = action.payload;
    let copies = action.input.unwrap_or_default().copies.unwrap_or(1);
    if copies == 0 || copies > MAX_COPIES {
        return Err(action.route.reject(Rejection::bad_input(format!(
            "copies must be 1 to {MAX_COPIES}"
        ))));
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
    // Summed in i128, which no list of i64 that fits in memory can overflow (the payload is
    // signed by the issuer, but its values are still only data).
    let wide_sum = || values.iter().map(|&v| i128::from(v)).sum::<i128>();
    let result: Value = match op {
        "sum" => match i64::try_from(wide_sum()) {
            Ok(sum) => json!(sum),
            Err(_) => {
                return Err(action.route.reject(Rejection::new(
                    Code::Protocol(ErrorCode::BadPayload),
                    "the sum of these values is out of range (beyond 64-bit integers)",
                )));
            }
        },
        "min" => json!(values.iter().min()),
        "max" => json!(values.iter().max()),
        "mean" if values.is_empty() => Value::Null,
        // Counts are small; i128 → f64 is exact for them (and close for any others).
        "mean" => json!(wide_sum() as f64 / values.len() as f64),
        _ => {
            return Err(action.route.reject(Rejection::bad_input(
                "op must be one of sum, mean, min, max",
            )));
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

/// Single use: the replay guard admitted this token once (the extractor checked it before the
/// handler runs); the transfer checks the quantity on hand now, within the ledger's
/// compare-and-swap (re-checked if another worker changed the ledger meanwhile). Every refusal
/// here (4xx: another part, a quantity the ledger cannot move) happens before anything is
/// written, so the library releases the record and the button stays usable (spec §10.1).
async fn confirm_transfer(
    State(app): State<AppState>,
    action: Action<ConfirmPayload, Option<QtyInput>>,
) -> Result<Json<Value>, PluginError> {
    // Bound to the store whose records saw its uses (this ledger's data folder, and with the
    // memory store this worker process): a button of another (an earlier temporary folder, a
    // worker's memory gone with a reload or a restart, another worker's) is stale.
    action.require_fingerprint(&app.single_use_binding)?;
    let p = action.payload;
    let qty = action.input.unwrap_or_default().qty.unwrap_or(1);
    let (from, to) = (p.from.clone(), p.to.clone());
    let part_id = p.part_id;
    let route = action.route.clone();
    let change = ledger::update(&app.ledger, move |ledger| {
        if ledger.part_id != part_id {
            return Err(route.reject(Rejection::bad_input("this button is for another part")));
        }
        ledger
            .move_stock(&from, &to, qty)
            .map_err(|refused| route.reject(refused))
    })
    .await?;
    let after = &change.after;
    Ok(Json(json!({
        "plugin": PLUGIN,
        "action": "confirm-transfer",
        "ok": true,
        "message": format!(
            "moved {qty} × {} (#{}) from {} to {} · ledger v{} → v{} · this button is now used up",
            after.part_name, after.part_id, p.from, p.to, change.before.version, after.version
        ),
        "single_use": true,
        "part_id": after.part_id,
        "moved": qty,
        "from": p.from,
        "to": p.to,
        "stock": after.stock,
        "version": after.version,
        "user": action.principal,
        "rendered_by": p.rendered_by,
        "handled_by": app.worker.as_str(),
    })))
}

/// Stale-checked: the button's fingerprint must equal the ledger's current one, compared
/// within the ledger's compare-and-swap (so a change by another worker between this check and
/// the write makes the check run again, and refuse), so the quantity it was rendered with is
/// still what is there.
async fn return_all(
    State(app): State<AppState>,
    action: Action<ReturnPayload>,
) -> Result<Json<Value>, PluginError> {
    let p = action.payload.clone();
    let change = ledger::update(&app.ledger, move |ledger| {
        action.require_fingerprint(&ledger.fingerprint())?;
        let p = &action.payload;
        let route = &action.route;
        if ledger.part_id != p.part_id {
            return Err(route.reject(Rejection::bad_input("this button is for another part")));
        }
        if p.qty == 0 {
            return Err(route.reject(Rejection::bad_input(format!(
                "there was nothing at {} to return when the panel was rendered",
                p.from
            ))));
        }
        ledger
            .move_stock(&p.from, &p.to, p.qty)
            .map_err(|refused| route.reject(refused))?;
        Ok(action.principal.clone())
    })
    .await?;
    let after = &change.after;
    Ok(Json(json!({
        "plugin": PLUGIN,
        "action": "return-all",
        "ok": true,
        "message": format!(
            "returned all {} × {} (#{}) from {} to {} · ledger v{} → v{}",
            p.qty, after.part_name, after.part_id, p.from, p.to, change.before.version,
            after.version
        ),
        "fingerprint": change.before.fingerprint(),
        "part_id": after.part_id,
        "moved": p.qty,
        "from": p.from,
        "to": p.to,
        "stock": after.stock,
        "version": after.version,
        "user": change.value,
        "rendered_by": p.rendered_by,
        "handled_by": app.worker.as_str(),
    })))
}
