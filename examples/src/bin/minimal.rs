//! The smallest tessera app: one panel with one button, and the action it invokes.
//!
//! Run with `cargo run -p tessera-examples --bin minimal`, then open http://127.0.0.1:3000/
//! and click the button. Options (environment): `BIND` (default `127.0.0.1:3000`).
//!
//! The page is rendered with a token minted for the caller (`X-Demo-User` header, else
//! `guest`); the click posts it back, and the handler works from the verified payload and the
//! quantity typed in the page. Try it by hand:
//!
//! ```text
//! curl -s localhost:3000/panel                       # the panel as JSON, with its token
//! curl -s localhost:3000/api/stock/move -H 'content-type: application/json' \
//!      -d '{"token":"<token>","input":{"qty":3}}'     # the click
//! curl -s localhost:3000/api/stock/move -H 'content-type: application/json' \
//!      -d '{"token":"garbage"}'                       # refused: 400, code "malformed"
//! ```

use axum::extract::State;
use axum::http::HeaderName;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tessera_protocol::{Algorithm, KeySet};
use tessera_server::render::NoStore;
use tessera_server::{
    Action, ActionRoute, ActionRouterExt, Caller, Field, HeaderIdentity, Panel, Principal,
    Rejection, TesseraConfig, TesseraState, render,
};

/// The one action: its id (the token audience) and its route.
const MOVE: ActionRoute = ActionRoute::new("example:stock/action:move", "/api/stock/move");

/// What the panel packs into the token at render time.
#[derive(Serialize, Deserialize)]
struct Move {
    part: String,
    from: String,
    to: String,
}

/// What the user types in the page.
#[derive(Deserialize)]
struct Qty {
    qty: u32,
}

fn panel(tessera: &TesseraState, who: Option<&Principal>) -> Result<Panel, Rejection> {
    let payload = Move {
        part: "M3 bolt".to_owned(),
        from: "A1".to_owned(),
        to: "B2".to_owned(),
    };
    let button = tessera
        .button(&MOVE, "Move to B2")
        .caller(who)
        .payload(&payload)
        .mint()?;
    Ok(Panel::new("stock", "Stock")
        .with_field(Field::number("qty", "Quantity").with_value("1"))
        .with_button(button))
}

async fn page(
    State(tessera): State<TesseraState>,
    Caller(who): Caller,
) -> Result<NoStore<Html<String>>, Rejection> {
    Ok(NoStore(Html(render::page(
        "tessera minimal",
        &[panel(&tessera, who.as_ref())?],
    ))))
}

async fn panel_json(
    State(tessera): State<TesseraState>,
    Caller(who): Caller,
) -> Result<NoStore<Json<Panel>>, Rejection> {
    Ok(NoStore(Json(panel(&tessera, who.as_ref())?)))
}

async fn move_stock(Action { payload, input, .. }: Action<Move, Qty>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "message": format!("moved {} × {} from {} to {}", input.qty, payload.part, payload.from, payload.to),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(true).init();
    // A fresh key per run: tokens from a previous run are refused with `unknown_key`.
    let tessera = TesseraConfig::new(KeySet::generate(Algorithm::EdDsa)?, "example")
        .with_identity(
            HeaderIdentity::new(HeaderName::from_static("x-demo-user"))
                .with_default(Principal::new("guest")),
        )
        .build()?;
    let app = Router::new()
        .route("/", get(page))
        .route("/panel", get(panel_json))
        .action(&MOVE, move_stock)
        .merge(tessera_server::routes())
        .with_state(tessera);
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
