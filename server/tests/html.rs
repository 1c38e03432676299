//! HTML rendering escapes every value; the JSON form of a panel round-trips; the click script
//! is served.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tessera_server::render::{CLICK_JS, SCRIPT_PATH, escape_html, page, panel_html};
use tessera_server::{ActionRoute, Field, Panel, Principal};

use crate::util::*;

const NASTY: &str = r#"Move "<>&' </script><script>alert(1)</script>"#;

fn nasty_panel() -> Panel {
    let state = state();
    let route = ActionRoute::new("plugin:x/action:\"<>&'", "/act?a=1&b=\"<>'</script>");
    let button = state
        .button(&route, NASTY)
        .caller(Some(&Principal::new("alice")))
        .payload(&json!({"note": NASTY}))
        .mint()
        .unwrap();
    Panel::new("key\"<>&'", NASTY)
        .with_button(button)
        .with_field(Field::text("note\"<>", NASTY).with_value(NASTY))
}

#[test]
fn labels_titles_keys_and_urls_are_escaped() {
    let html = panel_html(&nasty_panel());
    // Nothing from the values can open or close an element or an attribute.
    assert!(!html.contains("</script>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("\"<>"), "{html}");
    assert!(!html.contains("'"), "{html}");
    let escaped =
        "Move &quot;&lt;&gt;&amp;&#39; &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;";
    assert!(html.contains(&format!("<h2>{escaped}</h2>")), "{html}");
    assert!(html.contains(&format!("{escaped}</button>")), "{html}");
    assert!(
        html.contains(r#"data-tessera-url="/act?a=1&amp;b=&quot;&lt;&gt;&#39;&lt;/script&gt;""#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-tessera-action="plugin:x/action:&quot;&lt;&gt;&amp;&#39;""#),
        "{html}"
    );
    assert!(html.contains(r#"data-tessera-panel="key&quot;&lt;&gt;&amp;&#39;""#));
    assert!(html.contains(&format!(r#"value="{escaped}""#)), "{html}");
    // The only tags are the ones the renderer writes.
    let tags: Vec<&str> = html
        .split('<')
        .skip(1)
        .map(|t| t.split([' ', '>']).next().unwrap())
        .collect();
    for tag in tags {
        assert!(
            [
                "section", "/section", "h2", "/h2", "div", "/div", "label", "/label", "input",
                "button", "/button", "output", "/output"
            ]
            .contains(&tag),
            "unexpected tag {tag}"
        );
    }
}

#[test]
fn the_token_travels_intact_in_a_data_attribute() {
    let panel = nasty_panel();
    let html = panel_html(&panel);
    let token = &panel.buttons[0].token;
    assert!(html.contains(&format!(r#"data-tessera-token="{token}""#)));
    assert!(html.contains(&format!(
        r#"data-tessera-expires-at="{}""#,
        panel.buttons[0].expires_at
    )));
    assert!(html.contains(r#"data-tessera-method="POST""#));
}

#[test]
fn escape_html_covers_the_five_characters() {
    assert_eq!(escape_html(r#""<>&'"#), "&quot;&lt;&gt;&amp;&#39;");
    assert_eq!(escape_html("plain text é"), "plain text é");
    assert_eq!(escape_html("&amp;"), "&amp;amp;");
}

#[test]
fn page_escapes_its_title_and_loads_the_script() {
    let html = page(NASTY, &[nasty_panel()]);
    assert!(!html.contains("</script><script>alert"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the click script tag: {html}"
    );
    assert!(html.contains(r#"<script src="/tessera/click.js" defer></script>"#));
}

#[test]
fn panel_json_round_trips() {
    let panel = nasty_panel();
    let json = serde_json::to_string(&panel).unwrap();
    let back: Panel = serde_json::from_str(&json).unwrap();
    assert_eq!(back, panel);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let button = &value["buttons"][0];
    let mut keys: Vec<&str> = button
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["action", "expires_at", "label", "method", "token", "url"]
    );
    assert_eq!(button["label"], NASTY);
}

#[test]
fn panel_without_fields_has_exactly_key_title_buttons() {
    let value = serde_json::to_value(Panel::new("k", "t")).unwrap();
    assert_eq!(value, json!({"key": "k", "title": "t", "buttons": []}));
    let back: Panel = serde_json::from_value(value).unwrap();
    assert!(back.fields.is_empty());
}

#[tokio::test]
async fn click_script_is_served() {
    let app = app(state());
    let response = send(&app, Request::get(SCRIPT_PATH).body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], CLICK_JS.as_bytes());
    // What the script relies on: the attribute names the renderer writes, the JSON body shape,
    // the worker header, and text-only output.
    for needle in [
        "data-tessera-token",
        "data-tessera-url",
        "data-tessera-method",
        "data-tessera-input",
        "data-tessera-rendered-by",
        "tessera-result",
        "Tessera-Worker",
        "textContent",
        "JSON.stringify(payload)",
    ] {
        assert!(CLICK_JS.contains(needle), "click.js lacks {needle}");
    }
    assert!(!CLICK_JS.contains("innerHTML"));
}
