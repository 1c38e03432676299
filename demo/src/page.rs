//! `GET /`: the demo page, with the tessera panels beside the naive one and a log of clicks
//! showing which worker rendered the page and which handled each click.

use axum::extract::State;
use axum::http::header;
use axum::response::Html;
use tessera_server::Caller;
use tessera_server::render::{NoStore, SCRIPT_TAG, escape_html, panel_html, panels_html};

use crate::cli::{REPLAY_DIR, ReplayStore};
use crate::ledger::{self, LEDGER_DIR, PluginError};
use crate::naive;
use crate::plugins;
use crate::state::{AppState, USER_COOKIE};

const STYLE: &str = r#"
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color: #1d2430; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.columns { display: grid; grid-template-columns: 2fr 1fr; gap: 1.5rem; align-items: start; }
@media (max-width: 50rem) { .columns { grid-template-columns: 1fr; } }
.column > h2 { font-size: 1.1rem; margin: .5rem 0; }
.tessera-panel { border: 1px solid #c9d3e0; border-radius: 8px; padding: .75rem 1rem; margin-bottom: 1rem; background: #f8fafc; }
.tessera-panel h2 { font-size: 1rem; margin: 0 0 .5rem; }
.naive .tessera-panel { border-color: #e0b4b4; background: #fdf6f6; }
.tessera-fields label { display: inline-block; margin: 0 1rem .5rem 0; }
.tessera-fields input { width: 7rem; }
.tessera-button { margin: .25rem .5rem .25rem 0; padding: .35rem .8rem; cursor: pointer; }
.tessera-result { display: block; margin-top: .5rem; font-family: ui-monospace, monospace; font-size: .85rem; white-space: pre-wrap; }
.tessera-result[data-tessera-status="ok"] { color: #176c2f; }
.tessera-result[data-tessera-status="error"] { color: #a11d1d; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #e3e8ef; }
td.ok { color: #176c2f; } td.error { color: #a11d1d; }
.muted { color: #5b6575; }
.shared .tessera-panel { border-color: #b9c8a6; background: #f7fbf2; }
.warn { color: #8a5a00; }
"#;

/// Records every click's outcome in the log table and lets the user switch identity.
const PAGE_JS: &str = r#"
(function () {
  "use strict";
  var log = document.getElementById("click-log");
  var count = 0;
  document.addEventListener("tessera:result", function (event) {
    var d = event.detail || {};
    var panel = event.target.closest(".tessera-panel");
    count += 1;
    var row = document.createElement("tr");
    var cells = [
      String(count),
      panel ? panel.getAttribute("data-tessera-panel") : "",
      event.target.textContent,
      d.ok ? "ok " + d.status : (d.status || "") + " " + d.code,
      d.renderedBy || "",
      d.worker || "",
      d.renderedBy && d.worker ? (d.renderedBy === d.worker ? "same" : "other worker") : ""
    ];
    for (var i = 0; i < cells.length; i++) {
      var td = document.createElement("td");
      td.textContent = cells[i];
      if (i === 3) td.className = d.ok ? "ok" : "error";
      row.appendChild(td);
    }
    row.setAttribute("data-ok", d.ok ? "true" : "false");
    row.setAttribute("data-code", d.code || "");
    log.insertBefore(row, log.firstChild);
  });
  var form = document.getElementById("who");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var user = form.elements.user.value.trim();
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(user)) { form.elements.user.setCustomValidity("letters, digits, . _ @ -"); form.reportValidity(); return; }
    document.cookie = "__COOKIE__=" + user + "; path=/; SameSite=Strict";
    location.reload();
  });
})();
"#;

/// The page may not be framed by another site (clickjacking: a page elsewhere overlaying its
/// buttons), in old browsers and new.
const NO_FRAMING: [(header::HeaderName, &str); 2] = [
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
];

/// Renders the page for the caller; every button's token is minted now, on this worker.
pub(crate) async fn index(
    State(app): State<AppState>,
    Caller(who): Caller,
) -> Result<
    (
        [(header::HeaderName, &'static str); 2],
        NoStore<Html<String>>,
    ),
    PluginError,
> {
    let worker = app.worker.as_str();
    let tessera_panels = plugins::stateless_panels(&app.tessera, who.as_ref(), worker)?;
    let ledger = ledger::read(&app.ledger).await?;
    let shared_panel = plugins::shared_stock_panel(&app, who.as_ref(), &ledger)?;
    let naive_panel = naive::panel(&app, who.as_ref());
    let user = who.as_ref().map_or("(anonymous)", |p| p.as_str());
    let mut html = String::with_capacity(16 * 1024);
    html.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str("<title>tessera demo · stock-tools</title>\n<style>");
    html.push_str(STYLE);
    html.push_str("</style>\n");
    html.push_str(SCRIPT_TAG);
    html.push_str("\n</head>\n<body data-tessera-rendered-by=\"");
    html.push_str(&escape_html(worker));
    html.push_str("\">\n<h1>tessera demo plugin host</h1>\n<p class=\"muted\">This page was rendered by worker <b id=\"rendered-by\">");
    html.push_str(&escape_html(worker));
    html.push_str("</b> for user <b id=\"user\">");
    html.push_str(&escape_html(user));
    html.push_str(
        "</b>. The host runs several worker processes on one address; every request opens a \
         new connection (the host answers <code>Connection: close</code>), so a click may \
         land on any worker.</p>\n",
    );
    html.push_str("<form id=\"who\">User: <input name=\"user\" value=\"");
    html.push_str(&escape_html(user));
    html.push_str("\" size=\"12\"> <button type=\"submit\">Switch user</button></form>\n");
    html.push_str(
        "<div class=\"columns\">\n<div class=\"column tessera\" id=\"tessera-panels\">\n",
    );
    html.push_str("<h2>With tessera: the data travels in a signed token</h2>\n");
    html.push_str(&panels_html(&tessera_panels));
    html.push_str(&shared_section(&app, &shared_panel));
    html.push_str("</div>\n<div class=\"column naive\" id=\"naive-panels\">\n");
    html.push_str(
        "<h2>NAIVE: the data stays in the rendering worker's memory</h2>\n\
         <p class=\"muted\">Works only when the click reaches the worker that rendered the \
         page; elsewhere it fails with <code>410 render_state_missing</code>.</p>\n",
    );
    html.push_str(&panel_html(&naive_panel));
    html.push_str("</div>\n</div>\n<h2>Clicks</h2>\n<table>\n<thead><tr><th>#</th><th>panel</th><th>button</th><th>result</th><th>rendered by</th><th>handled by</th><th></th></tr></thead>\n<tbody id=\"click-log\"></tbody>\n</table>\n<script>");
    html.push_str(&PAGE_JS.replace("__COOKIE__", USER_COOKIE));
    html.push_str("</script>\n</body>\n</html>\n");
    // Tokens are minted per render and per user: the page is never cached nor leaked
    // through a Referer.
    Ok((NO_FRAMING, NoStore(Html(html))))
}

/// The shared-stock section: what single-use and stale-state mean here, which replay store
/// guards the single-use button, and the panel.
fn shared_section(app: &AppState, panel: &tessera_server::Panel) -> String {
    let mut html = String::with_capacity(4 * 1024);
    html.push_str(
        "<div class=\"shared\" id=\"shared-stock\">\n<h2>Stateful actions: single use and \
         stale state</h2>\n<p class=\"muted\">This panel changes a stock ledger shared by \
         every worker (<code>",
    );
    html.push_str(LEDGER_DIR);
    html.push('/');
    html.push_str(
        "</code> in the host's data folder). <b>Confirm transfer</b> is single-use: click it \
         twice and the second click is refused with <code>409 replayed</code>. <b>Return \
         all</b> is bound to the ledger version it was rendered from: after any change (a \
         transfer, on any worker) it is refused with <code>409 stale</code>. Reload the page \
         for fresh buttons.</p>\n<p class=\"muted\" id=\"replay-store\">Replay store: <b>",
    );
    html.push_str(&escape_html(app.replay.describe()));
    html.push_str("</b>");
    match app.replay {
        ReplayStore::File => {
            html.push_str(&format!(
                " (<code>{REPLAY_DIR}/</code> in the data folder) — every replay is refused, \
                 whichever of the {} workers it reaches.",
                app.workers
            ));
        }
        ReplayStore::Memory if app.workers > 1 => {
            html.push_str(&format!(
                " — <span class=\"warn\">with {} workers, the button works only on the worker \
                 that rendered it (its memory records the use): a click that lands on another \
                 worker is refused as <code>stale</code>, and so is every click after a reload \
                 or a restart. Start the host with <code>--replay-store file</code> (the \
                 default) or <code>--replay-store redis://…</code> for buttons that work on \
                 every worker.</span>",
                app.workers
            ));
        }
        ReplayStore::Memory => {
            html.push_str(
                " — one worker, so every replay reaches the guard that saw the first click; \
                 the button is bound to this worker process's memory, so after a reload or a \
                 restart it is refused as <code>stale</code> (it never runs again).",
            );
        }
        #[cfg(feature = "redis")]
        ReplayStore::Redis(_) => {
            html.push_str(&format!(
                " — every replay is refused, whichever of the {} workers it reaches.",
                app.workers
            ));
        }
    }
    html.push_str("</p>\n");
    html.push_str(&panel_html(panel));
    html.push_str("</div>\n");
    html
}
