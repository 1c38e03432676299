//! HTML for panels, and the small click script the library serves (no build step).
//!
//! A panel renders as a `<section class="tessera-panel">` whose `<button>` elements carry the
//! action URL, method and token in `data-tessera-*` attributes. Every text and attribute value
//! is escaped ([`escape_html`]), so labels, titles and URLs can hold any characters. The
//! script at [`SCRIPT_PATH`] posts `{"token", "input"}` on click and writes the result, or the
//! error code, into the panel's `<output>`.
//!
//! Hooks for a host page:
//! - an element with `data-tessera-rendered-by="..."` around the panels (e.g. `<body>`) is
//!   shown next to each result ("rendered by ..."), and the response header `Tessera-Worker`,
//!   when present, as "handled by ...";
//! - each result also fires a `tessera:result` event (bubbling) on the button, whose `detail`
//!   is `{ok, status, code, body, worker, renderedBy}`;
//! - the `<output>` gets `data-tessera-status="ok"` or `"error"` and `data-tessera-code`.

use std::fmt::Write as _;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use tessera_protocol::wire::Panel;

/// Where [`script_router`] serves the click script.
pub const SCRIPT_PATH: &str = "/tessera/click.js";
/// The click script (vanilla JavaScript, no dependencies).
pub const CLICK_JS: &str = include_str!("../assets/click.js");
/// The `<script>` element that loads the click script.
pub const SCRIPT_TAG: &str = r#"<script src="/tessera/click.js" defer></script>"#;

/// Escapes text for HTML element content and quoted attribute values: `&`, `<`, `>`, `"` and
/// `'` become character references, so no value can close an element, an attribute or a
/// `<script>`.
///
/// ```
/// use tessera_server::render::escape_html;
/// assert_eq!(escape_html(r#"<a href="x">'&'</a>"#),
///            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    push_escaped(&mut out, text);
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The HTML of one panel.
///
/// ```
/// use tessera_server::{Button, Panel, ActionId, render::panel_html};
/// let panel = Panel::new("p", "Tools & <things>").with_button(Button {
///     label: "Go".into(), action: ActionId::from_static("a"), url: "/a".into(),
///     method: "POST".into(), token: "h.c.s".into(), expires_at: 1,
/// });
/// let html = panel_html(&panel);
/// assert!(html.contains("<h2>Tools &amp; &lt;things&gt;</h2>"));
/// assert!(html.contains(r#"data-tessera-token="h.c.s""#));
/// ```
pub fn panel_html(panel: &Panel) -> String {
    let mut out = String::with_capacity(512 + panel.buttons.len() * 512);
    out.push_str(r#"<section class="tessera-panel" data-tessera-panel=""#);
    push_escaped(&mut out, &panel.key);
    out.push_str("\">\n  <h2>");
    push_escaped(&mut out, &panel.title);
    out.push_str("</h2>\n");
    if !panel.fields.is_empty() {
        out.push_str("  <div class=\"tessera-fields\">\n");
        for field in &panel.fields {
            // The HTML input types are the document's kinds.
            let kind = field.kind.as_str();
            out.push_str("    <label>");
            push_escaped(&mut out, &field.label);
            let _ = write!(out, r#" <input type="{kind}" data-tessera-input=""#);
            push_escaped(&mut out, &field.name);
            out.push_str(r#"" name=""#);
            push_escaped(&mut out, &field.name);
            out.push('"');
            if let Some(value) = &field.value {
                out.push_str(r#" value=""#);
                push_escaped(&mut out, value);
                out.push('"');
            }
            out.push_str("></label>\n");
        }
        out.push_str("  </div>\n");
    }
    out.push_str("  <div class=\"tessera-buttons\">\n");
    for button in &panel.buttons {
        out.push_str(r#"    <button type="button" class="tessera-button" data-tessera-action=""#);
        push_escaped(&mut out, button.action.as_str());
        out.push_str(r#"" data-tessera-url=""#);
        push_escaped(&mut out, &button.url);
        out.push_str(r#"" data-tessera-method=""#);
        push_escaped(&mut out, &button.method);
        out.push_str(r#"" data-tessera-token=""#);
        push_escaped(&mut out, &button.token);
        let _ = write!(out, r#"" data-tessera-expires-at="{}">"#, button.expires_at);
        push_escaped(&mut out, &button.label);
        out.push_str("</button>\n");
    }
    out.push_str("  </div>\n");
    out.push_str("  <output class=\"tessera-result\" aria-live=\"polite\"></output>\n");
    out.push_str("</section>\n");
    out
}

/// The HTML of several panels, one after the other.
pub fn panels_html(panels: &[Panel]) -> String {
    panels.iter().map(panel_html).collect()
}

/// A complete HTML page: `title`, the panels, and the click script.
///
/// ```
/// use tessera_server::{Panel, render::page};
/// let html = page("Stock </title>", &[Panel::new("p", "P")]);
/// assert!(html.starts_with("<!doctype html>"));
/// assert!(html.contains("<title>Stock &lt;/title&gt;</title>"));
/// assert!(html.contains(r#"<script src="/tessera/click.js" defer></script>"#));
/// ```
pub fn page(title: &str, panels: &[Panel]) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>");
    push_escaped(&mut out, title);
    out.push_str("</title>\n");
    out.push_str(SCRIPT_TAG);
    out.push_str("\n</head>\n<body>\n<h1>");
    push_escaped(&mut out, title);
    out.push_str("</h1>\n");
    out.push_str(&panels_html(panels));
    out.push_str("</body>\n</html>\n");
    out
}

/// A response wrapper for anything that embeds tokens (an HTML page, a panels JSON document):
/// adds `Cache-Control: no-store` and `Referrer-Policy: no-referrer`, so tokens are neither
/// cached nor leaked through `Referer` (spec §11.3).
///
/// ```
/// use axum::response::{Html, IntoResponse};
/// use tessera_server::render::NoStore;
/// let response = NoStore(Html("<p>tokens inside</p>")).into_response();
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// assert_eq!(response.headers()["referrer-policy"], "no-referrer");
/// assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NoStore<T>(pub T);

impl<T: IntoResponse> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }
}

/// A router serving the click script at [`SCRIPT_PATH`] (`text/javascript`, cacheable for an
/// hour).
///
/// ```
/// use axum::{Router, body::Body, http::Request};
/// use tessera_server::render::{SCRIPT_PATH, script_router};
/// use tower::ServiceExt;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let app: Router = script_router();
/// let response = app.oneshot(Request::get(SCRIPT_PATH).body(Body::empty())?).await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["content-type"], "text/javascript; charset=utf-8");
/// assert_eq!(response.headers()["x-content-type-options"], "nosniff");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub fn script_router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(SCRIPT_PATH, get(click_js))
}

async fn click_js() -> Response {
    let mut response = CLICK_JS.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
