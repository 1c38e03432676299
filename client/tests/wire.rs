//! One wire vocabulary: what the server library writes, the client reads back as the same
//! thing — every refusal code with its status, and the panel document field for field.

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use serde_json::json;
use tessera_client::{Client, ClientError, Code};
use tessera_protocol::wire::{self, Button, Field, Panel, PanelsDocument};
use tessera_protocol::{ActionId, Algorithm, KeySet, Principal};
use tessera_server::{ActionRoute, Rejection, TesseraState};

const PRINT: ActionRoute = ActionRoute::new("plugin:labels/action:print", "/labels/print");

/// Serves `app` on 127.0.0.1 with an ephemeral port until the runtime ends; returns its URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A button whose click lands on `url`.
fn button_to(url: &str) -> Button {
    Button {
        label: "Go".to_owned(),
        action: ActionId::from_static("plugin:test/action:go"),
        url: url.to_owned(),
        method: "POST".to_owned(),
        token: "h.c.s".to_owned(),
        expires_at: 4_102_444_800,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_refusal_code_the_server_sends_reads_back_as_the_same_code_and_status() {
    // A route that refuses with the code named in its path, as the server library answers.
    let app = Router::new().route(
        "/refuse/{code}",
        post(|Path(code): Path<String>| async move {
            let code = wire::Code::from_name(&code).expect("a known code");
            Rejection::new(code, "refused for the test")
        }),
    );
    let url = serve(app).await;
    let client = Client::new(&url).unwrap();
    for code in wire::Code::ALL {
        let button = button_to(&format!("/refuse/{}", code.as_str()));
        match client.click(&button).send().await {
            Err(ClientError::Rejected(problem)) => {
                assert_eq!(problem.code, Code::Known(code), "{code}");
                assert_eq!(problem.code, code);
                assert_eq!(problem.status, code.status(), "{code}");
                assert_eq!(problem.title.as_deref(), Some(code.title()), "{code}");
                assert_eq!(problem.detail.as_deref(), Some("refused for the test"));
            }
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_panel_document_written_by_the_server_reads_back_field_for_field() {
    let state =
        TesseraState::new(KeySet::generate(Algorithm::Hs256).unwrap(), "inventree").unwrap();
    let alice = Principal::new("alice");
    let button = state
        .button(&PRINT, "Print label")
        .caller(Some(&alice))
        .payload(&json!({"part": 7}))
        .mint()
        .unwrap();
    let written = PanelsDocument {
        plugin: "labels".to_owned(),
        user: Some("alice".to_owned()),
        rendered_by: Some("w1/pid1".to_owned()),
        panels: vec![
            Panel::new("labels", "Labels")
                .with_field(Field::number("copies", "Copies").with_value("2"))
                .with_field(Field::text("note", "Note"))
                .with_button(button),
            Panel::new("empty", "Nothing to click"),
        ],
    };
    let served = written.clone();
    let app = Router::new().route(
        "/panels",
        get(move || {
            let served = served.clone();
            async move { axum::Json(served) }
        }),
    );
    let url = serve(app).await;
    let read = Client::new(&url).unwrap().panels("panels").await.unwrap();
    assert_eq!(read.document, written);
    let (button, panel) = read.find(PRINT.id().as_str()).unwrap();
    assert_eq!(button, &written.panels[0].buttons[0]);
    assert_eq!(panel.fields, written.panels[0].fields);
}
