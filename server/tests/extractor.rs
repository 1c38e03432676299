//! The `Action` extractor in process (`oneshot`): each transport, typed payload and input, and
//! every rejection status and code produced by a real token or request.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tessera_protocol::{Algorithm, Key, KeySet, Kid};
use tessera_server::TesseraConfig;

use crate::util::*;

// ---- transports and what reaches the handler -------------------------------------------

#[tokio::test]
async fn json_body_delivers_typed_payload_input_and_claims() {
    let app = app(state());
    let token = transfer_token("alice");
    let request = as_user(
        json_click(
            TRANSFER.path(),
            Some(&token),
            Some(json!({"note": "urgent", "count": 3})),
        ),
        "alice",
    );
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["action"], "transfer");
    assert_eq!(body["payload"], json!({"part_id": 1234, "qty": 25}));
    assert_eq!(body["input"], json!({"note": "urgent", "count": 3}));
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["principal"], "alice");
    assert_eq!(body["aud"], TRANSFER.id().as_str());
    assert_eq!(body["iss"], ISS);
    assert_eq!(body["exp"], NOW + 300);
    assert_eq!(body["kid"], "hs1");
    assert_eq!(body["route"], TRANSFER.path());
}

#[tokio::test]
async fn json_body_without_input_gives_null_input() {
    let app = app(state());
    let request = as_user(
        json_click(TRANSFER.path(), Some(&transfer_token("alice")), None),
        "alice",
    );
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["input"], Value::Null);
}

#[tokio::test]
async fn form_field_carries_the_token_and_other_fields_are_the_input() {
    let app = app(state());
    let token = transfer_token("alice");
    let form = format!("note=two+words&tessera_token={token}&count=7");
    let request = post(TRANSFER.path())
        .content_type(FORM)
        .user("alice")
        .body(form)
        .build();
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["payload"]["part_id"], 1234);
    assert_eq!(body["input"], json!({"note": "two words", "count": 7}));
}

#[tokio::test]
async fn form_with_only_the_token_gives_null_input() {
    let app = app(state());
    let form = format!("tessera_token={}", transfer_token("alice"));
    let request = post(TRANSFER.path())
        .content_type(FORM)
        .user("alice")
        .body(form)
        .build();
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["input"], Value::Null);
}

#[tokio::test]
async fn header_carries_the_token_with_an_empty_body() {
    let app = app(state());
    let request = post(TRANSFER.path())
        .token_header(&transfer_token("alice"))
        .user("alice")
        .build();
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["payload"]["qty"], 25);
    assert_eq!(body["input"], Value::Null);
}

#[tokio::test]
async fn header_token_with_a_json_input_body() {
    let app = app(state());
    let request = post(TRANSFER.path())
        .token_header(&transfer_token("alice"))
        .user("alice")
        .content_type("application/json")
        .body(r#"{"input":{"note":"n","count":1}}"#)
        .build();
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["input"], json!({"note": "n", "count": 1}));
}

#[tokio::test]
async fn eddsa_tokens_verify_too() {
    let mut set = KeySet::with_active(ed_key()).unwrap();
    set.insert(hs_key()).unwrap();
    let keys = Arc::new(set);
    let app = app(config(keys.clone()).build().unwrap());
    let token = minter_with(keys, ISS)
        .token(PRINT.id().as_str())
        .payload(&json!({"label": "A-1"}))
        .mint()
        .unwrap();
    // Anonymous caller, token without subject.
    let (status, body) = call(&app, json_click(PRINT.path(), Some(&token), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["payload"], json!({"label": "A-1"}));
}

#[tokio::test]
async fn panel_buttons_minted_for_the_caller_work_on_their_routes() {
    let app = app(state());
    let request = as_user(
        Request::get("/panels").body(Body::empty()).unwrap(),
        "carol",
    );
    let response = send(&app, request).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let panel: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(panel["key"], "stock");
    let buttons = panel["buttons"].as_array().unwrap();
    assert_eq!(buttons.len(), 2);
    assert_eq!(buttons[0]["action"], TRANSFER.id().as_str());
    assert_eq!(buttons[0]["url"], TRANSFER.path());
    assert_eq!(buttons[0]["method"], "POST");
    assert_eq!(buttons[0]["expires_at"], NOW + 300);
    assert_eq!(buttons[1]["expires_at"], NOW + 60);
    for button in buttons {
        let url = button["url"].as_str().unwrap();
        let token = button["token"].as_str().unwrap();
        let request = as_user(json_click(url, Some(token), None), "carol");
        let (status, body) = call(&app, request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The carol button clicked by dave is refused.
    let token = buttons[0]["token"].as_str().unwrap();
    let request = as_user(json_click(TRANSFER.path(), Some(token), None), "dave");
    assert_eq!(
        refusal(&app, request).await,
        (StatusCode::FORBIDDEN, "wrong_subject".to_owned())
    );
}

#[tokio::test]
async fn sealed_route_takes_sealed_buttons_and_refuses_signed_tokens() {
    let state = state();
    let alice = tessera_server::Principal::new("alice");
    let button = state
        .button(&SEALED, "Secret")
        .caller(Some(&alice))
        .payload(&json!({"salary": 1}))
        .mint()
        .unwrap();
    // A sealed token: five segments, the claims are not readable.
    assert_eq!(button.token.split('.').count(), 5);
    assert!(!button.token.contains(&b64(r#""salary""#)));
    let app = app(state);
    let request = as_user(
        json_click(SEALED.path(), Some(&button.token), None),
        "alice",
    );
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["payload"], json!({"salary": 1}));
    // A signed token for the same action is refused there...
    let signed = minter()
        .token(SEALED.id().as_str())
        .subject("alice")
        .mint()
        .unwrap();
    let request = as_user(json_click(SEALED.path(), Some(&signed), None), "alice");
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::BAD_REQUEST, "malformed")
    );
    // ...and a sealed token on a signed-only route.
    let sealed = minter()
        .token(TRANSFER.id().as_str())
        .subject("alice")
        .payload(&transfer())
        .seal()
        .unwrap();
    let request = as_user(json_click(TRANSFER.path(), Some(&sealed), None), "alice");
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::BAD_REQUEST, "malformed")
    );
}

// ---- every rejection, from a real token or request ---------------------------------------

/// Posts `token` as JSON to TRANSFER as alice and returns the refusal.
async fn refuse_transfer(token: &str) -> (StatusCode, String) {
    let app = app(state());
    refusal(
        &app,
        as_user(json_click(TRANSFER.path(), Some(token), None), "alice"),
    )
    .await
}

fn expect(status: StatusCode, code: &str) -> (StatusCode, String) {
    (status, code.to_owned())
}

#[tokio::test]
async fn garbage_token_is_malformed() {
    assert_eq!(
        refuse_transfer("garbage").await,
        expect(StatusCode::BAD_REQUEST, "malformed")
    );
    assert_eq!(
        refuse_transfer("a.b.c").await,
        expect(StatusCode::BAD_REQUEST, "malformed")
    );
}

#[tokio::test]
async fn oversized_token_is_too_large() {
    // In the header (no body to cap): the verifier's 8 KiB cap answers.
    let app = app(state());
    let request = as_user(
        post(TRANSFER.path())
            .token_header(&"a".repeat(9000))
            .build(),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
}

#[tokio::test]
async fn token_from_an_unknown_key_is_refused() {
    let other = Arc::new(KeySet::generate(Algorithm::Hs256).unwrap());
    let token = minter_with(other, ISS)
        .token(TRANSFER.id().as_str())
        .subject("alice")
        .payload(&transfer())
        .mint()
        .unwrap();
    assert_eq!(
        refuse_transfer(&token).await,
        expect(StatusCode::UNAUTHORIZED, "unknown_key")
    );
}

#[tokio::test]
async fn algorithm_other_than_the_keys_is_refused() {
    let token = transfer_token("alice");
    for alg in ["EdDSA", "none", "HS512", "hs256"] {
        let forged = with_header(
            &token,
            &json!({"alg": alg, "typ": "tessera+jwt", "kid": "hs1"}),
        );
        assert_eq!(
            refuse_transfer(&forged).await,
            expect(StatusCode::UNAUTHORIZED, "unsupported_algorithm"),
            "alg {alg}"
        );
    }
}

#[tokio::test]
async fn flipped_signature_is_refused() {
    assert_eq!(
        refuse_transfer(&flip_signature(&transfer_token("alice"))).await,
        expect(StatusCode::UNAUTHORIZED, "bad_signature")
    );
}

#[tokio::test]
async fn expired_token_is_refused() {
    let token = minter()
        .token(TRANSFER.id().as_str())
        .subject("alice")
        .payload(&transfer())
        .ttl(Duration::from_secs(300))
        .issued_at(NOW - 1000)
        .mint()
        .unwrap();
    assert_eq!(
        refuse_transfer(&token).await,
        expect(StatusCode::UNAUTHORIZED, "expired")
    );
}

#[tokio::test]
async fn token_from_the_future_is_not_yet_valid() {
    let issued_later = minter()
        .token(TRANSFER.id().as_str())
        .subject("alice")
        .payload(&transfer())
        .issued_at(NOW + 1000)
        .mint()
        .unwrap();
    assert_eq!(
        refuse_transfer(&issued_later).await,
        expect(StatusCode::UNAUTHORIZED, "not_yet_valid")
    );
    let not_before = minter()
        .token(TRANSFER.id().as_str())
        .subject("alice")
        .payload(&transfer())
        .not_before(NOW + 100)
        .mint()
        .unwrap();
    assert_eq!(
        refuse_transfer(&not_before).await,
        expect(StatusCode::UNAUTHORIZED, "not_yet_valid")
    );
}

#[tokio::test]
async fn token_living_longer_than_the_maximum_is_refused() {
    let token = minter()
        .with_max_lifetime(Duration::from_secs(3 * 86_400))
        .unwrap()
        .token(TRANSFER.id().as_str())
        .subject("alice")
        .payload(&transfer())
        .ttl(Duration::from_secs(2 * 86_400))
        .mint()
        .unwrap();
    assert_eq!(
        refuse_transfer(&token).await,
        expect(StatusCode::UNAUTHORIZED, "lifetime_too_long")
    );
}

#[tokio::test]
async fn token_from_another_issuer_is_refused() {
    let token = minter_with(keys(), "another-app")
        .token(TRANSFER.id().as_str())
        .subject("alice")
        .payload(&transfer())
        .mint()
        .unwrap();
    assert_eq!(
        refuse_transfer(&token).await,
        expect(StatusCode::FORBIDDEN, "wrong_issuer")
    );
}

#[tokio::test]
async fn token_for_action_a_is_refused_on_action_b() {
    let app = app(state());
    let print_token = minter()
        .token(PRINT.id().as_str())
        .subject("alice")
        .payload(&transfer())
        .mint()
        .unwrap();
    // A print token on the transfer route...
    let request = as_user(
        json_click(TRANSFER.path(), Some(&print_token), None),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::FORBIDDEN, "wrong_audience")
    );
    // ...and a transfer token on the print route (whose handler takes any payload).
    let request = as_user(
        json_click(PRINT.path(), Some(&transfer_token("alice")), None),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::FORBIDDEN, "wrong_audience")
    );
    // The print token works where it belongs.
    let request = as_user(json_click(PRINT.path(), Some(&print_token), None), "alice");
    assert_eq!(call(&app, request).await.0, StatusCode::OK);
}

#[tokio::test]
async fn another_principals_token_is_refused() {
    let app = app(state());
    let token = transfer_token("alice");
    // Bob clicks alice's button.
    let request = as_user(json_click(TRANSFER.path(), Some(&token), None), "bob");
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::FORBIDDEN, "wrong_subject")
    );
    // An anonymous caller may not use a token minted for someone.
    let request = json_click(TRANSFER.path(), Some(&token), None);
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::FORBIDDEN, "wrong_subject")
    );
    // A signed-in caller may not use a token minted for nobody.
    let anonymous_token = minter()
        .token(TRANSFER.id().as_str())
        .payload(&transfer())
        .mint()
        .unwrap();
    let request = as_user(
        json_click(TRANSFER.path(), Some(&anonymous_token), None),
        "bob",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::FORBIDDEN, "wrong_subject")
    );
}

#[tokio::test]
async fn payload_of_the_wrong_type_is_bad_payload() {
    let token = minter()
        .token(TRANSFER.id().as_str())
        .subject("alice")
        .payload(&json!({"part_id": "not a number", "qty": 1}))
        .mint()
        .unwrap();
    assert_eq!(
        refuse_transfer(&token).await,
        expect(StatusCode::UNPROCESSABLE_ENTITY, "bad_payload")
    );
}

#[tokio::test]
async fn input_of_the_wrong_type_is_bad_input() {
    let app = app(state());
    let token = transfer_token("alice");
    let request = as_user(
        json_click(
            TRANSFER.path(),
            Some(&token),
            Some(json!({"note": 5, "count": 1})),
        ),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::UNPROCESSABLE_ENTITY, "bad_input")
    );
    let request = post(TRANSFER.path())
        .content_type(FORM)
        .user("alice")
        .body(format!("tessera_token={token}&note=x&count=many"))
        .build();
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::UNPROCESSABLE_ENTITY, "bad_input")
    );
}

/// A JSON input is held to the claims' JSON rules whatever the input type reads of it: a
/// repeated member name, which a proxy in front and the handler could read differently, is
/// `bad_input` — for a `Value` input (where serde_json alone keeps the last value), through an
/// escaped spelling, inside a member a typed input ignores, and with the token in the header.
#[tokio::test]
async fn a_json_input_that_repeats_a_member_name_is_bad_input_whatever_the_input_type() {
    let app = app(state());
    let print_token = print_token("alice");
    let transfer_token = transfer_token("alice");
    let raw = |path: &str, token: &str, input: &str| {
        let body = format!(r#"{{"token": "{token}", "input": {input}}}"#);
        as_user(
            post(path)
                .content_type("application/json")
                .body(body)
                .build(),
            "alice",
        )
    };
    // The same inputs without the repetition are served.
    let (status, body) = call(&app, raw(PRINT.path(), &print_token, r#"{"copies": 9}"#)).await;
    assert_eq!(
        (status, &body["input"]),
        (StatusCode::OK, &json!({"copies": 9}))
    );
    let fine = r#"{"note": "n", "count": 1, "extra": {"x": 1, "y": 2}}"#;
    let (status, body) = call(&app, raw(TRANSFER.path(), &transfer_token, fine)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (path, token, input) in [
        (PRINT.path(), &print_token, r#"{"copies": 1, "copies": 9}"#),
        (
            PRINT.path(),
            &print_token,
            r#"[{"a": {"b": 1, "\u0062": 2}}]"#,
        ),
        (
            TRANSFER.path(),
            &transfer_token,
            r#"{"note": "n", "count": 1, "extra": {"x": 1, "x": 2}}"#,
        ),
    ] {
        assert_eq!(
            refusal(&app, raw(path, token, input)).await,
            expect(StatusCode::UNPROCESSABLE_ENTITY, "bad_input"),
            "{input}"
        );
    }
    let request = as_user(
        post(PRINT.path())
            .token_header(&print_token)
            .content_type("application/json")
            .body(r#"{"input": {"copies": 1, "copies": 9}}"#)
            .build(),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::UNPROCESSABLE_ENTITY, "bad_input")
    );
}

/// A form input that repeats a field name is `bad_input` too, as a JSON input repeating a
/// member is: with a `Value` input serde_urlencoded alone keeps the last value, so
/// `copies=1&copies=900` would reach the handler as 900 while a proxy in front read 1.
#[tokio::test]
async fn a_form_input_that_repeats_a_field_name_is_bad_input_whatever_the_input_type() {
    let app = app(state());
    let print_token = print_token("alice");
    let transfer_token = transfer_token("alice");
    let form = |path: &str, body: String| {
        as_user(post(path).content_type(FORM).body(body).build(), "alice")
    };
    // Without the repetition, the form is served.
    let (status, body) = call(
        &app,
        form(
            PRINT.path(),
            format!("tessera_token={print_token}&copies=1"),
        ),
    )
    .await;
    assert_eq!(
        (status, &body["input"]),
        (StatusCode::OK, &json!({"copies": "1"}))
    );
    for (path, body) in [
        (
            PRINT.path(),
            format!("tessera_token={print_token}&copies=1&copies=900"),
        ),
        // The same name spelled with a percent-escape.
        (
            PRINT.path(),
            format!("copies=1&tessera_token={print_token}&c%6Fpies=900"),
        ),
        (
            TRANSFER.path(),
            format!("tessera_token={transfer_token}&note=n&count=1&count=2"),
        ),
    ] {
        assert_eq!(
            refusal(&app, form(path, body.clone())).await,
            expect(StatusCode::UNPROCESSABLE_ENTITY, "bad_input"),
            "{body}"
        );
    }
    // With the token in the header.
    let request = post(PRINT.path())
        .token_header(&print_token)
        .content_type(FORM)
        .user("alice")
        .body("copies=1&copies=900")
        .build();
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::UNPROCESSABLE_ENTITY, "bad_input")
    );
}

/// A missing input is reported as missing: the detail does not point at a column of a body
/// the client never sent (the `null` the extractor types an absent input from).
#[tokio::test]
async fn a_missing_required_input_says_so_without_a_column() {
    async fn note(_: tessera_server::Action<Value, Note>) {}
    let app = axum::Router::new()
        .route(PRINT.path(), PRINT.post(note))
        .with_state(state());
    let token = print_token("alice");
    let form = post(PRINT.path())
        .content_type(FORM)
        .body(format!("tessera_token={token}"))
        .build();
    for request in [
        json_click(PRINT.path(), Some(&token), None),
        json_click(PRINT.path(), Some(&token), Some(Value::Null)),
        form,
    ] {
        let response = send(&app, as_user(request, "alice")).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let problem: tessera_server::Problem = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(problem.code, "bad_input");
        assert!(
            problem.detail.contains("input is required"),
            "{}",
            problem.detail
        );
        assert!(!problem.detail.contains("column"), "{}", problem.detail);
    }
}

#[tokio::test]
async fn a_required_input_is_typed_whether_present_null_or_absent() {
    async fn note(action: tessera_server::Action<Value, Note>) -> axum::Json<Value> {
        axum::Json(json!({"note": action.input.note, "count": action.input.count}))
    }
    let app = axum::Router::new()
        .route(PRINT.path(), PRINT.post(note))
        .with_state(state());
    let token = print_token("alice");
    let click =
        |input: Option<Value>| as_user(json_click(PRINT.path(), Some(&token), input), "alice");
    let (status, body) = call(&app, click(Some(json!({"note": "n", "count": 2})))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"note": "n", "count": 2}));
    // `null` and an absent input are both `null` to the input type, which refuses it here.
    for input in [Some(Value::Null), None] {
        assert_eq!(
            refusal(&app, click(input)).await,
            expect(StatusCode::UNPROCESSABLE_ENTITY, "bad_input")
        );
    }
    // A fitting input does not rescue a token for another action.
    let request = as_user(
        json_click(
            PRINT.path(),
            Some(&transfer_token("alice")),
            Some(json!({"note": "n", "count": 2})),
        ),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::FORBIDDEN, "wrong_audience")
    );
}

#[tokio::test]
async fn input_is_not_judged_before_the_token() {
    // A bad token with bad input is refused for the token.
    let app = app(state());
    let request = as_user(
        json_click(
            TRANSFER.path(),
            Some(&flip_signature(&transfer_token("alice"))),
            Some(json!({"note": 5})),
        ),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::UNAUTHORIZED, "bad_signature")
    );
}

#[tokio::test]
async fn request_without_a_token_is_missing_token() {
    let app = app(state());
    for request in [
        json_click(
            TRANSFER.path(),
            None,
            Some(json!({"note": "x", "count": 1})),
        ),
        post(TRANSFER.path()).build(),
        post(TRANSFER.path())
            .content_type(FORM)
            .body("note=x&count=1")
            .build(),
    ] {
        assert_eq!(
            refusal(&app, as_user(request, "alice")).await,
            expect(StatusCode::BAD_REQUEST, "missing_token")
        );
    }
}

#[tokio::test]
async fn unparsable_or_ambiguous_bodies_are_malformed() {
    let app = app(state());
    let token = transfer_token("alice");
    let bodies = [
        ("application/json", "{not json".to_owned()),
        ("application/json", r#"{"token": 5}"#.to_owned()),
        ("application/json", r#"["a"]"#.to_owned()),
        (
            "application/json",
            format!(r#"{{"token":"{token}","extra":1}}"#),
        ),
        (
            "application/json",
            format!(r#"{{"token":"{token}","token":"{token}"}}"#),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("tessera_token={token}&tessera_token={token}"),
        ),
    ];
    for (content_type, body) in bodies {
        let request = as_user(
            post(TRANSFER.path())
                .content_type(content_type)
                .body(body.clone())
                .build(),
            "alice",
        );
        assert_eq!(
            refusal(&app, request).await,
            expect(StatusCode::BAD_REQUEST, "malformed"),
            "{body}"
        );
    }
    // The token both in the header and in the body.
    let mut request = as_user(json_click(TRANSFER.path(), Some(&token), None), "alice");
    request
        .headers_mut()
        .insert("tessera-token", token.parse().unwrap());
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::BAD_REQUEST, "malformed")
    );
}

#[tokio::test]
async fn body_of_another_media_type_is_unsupported() {
    let app = app(state());
    let request = as_user(
        post(TRANSFER.path())
            .content_type("text/plain")
            .body(transfer_token("alice"))
            .build(),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
}

#[tokio::test]
async fn handler_on_a_route_without_an_action_is_refused() {
    let app = app(state());
    let token = print_token("alice");
    let request = as_user(json_click(UNBOUND_PATH, Some(&token), None), "alice");
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::INTERNAL_SERVER_ERROR, "unbound_action")
    );
}

#[tokio::test]
async fn a_route_mounted_by_hand_with_its_post_and_more_layers_is_bound_to_its_action() {
    async fn print(action: tessera_server::Action<Value>) -> axum::Json<Value> {
        axum::Json(json!({"aud": action.claims.aud, "payload": action.payload}))
    }
    // `ActionRoute::post` is a method router: the app's own middleware goes on top of it.
    let app = axum::Router::new()
        .route(
            PRINT.path(),
            PRINT.post(print).layer(axum::middleware::map_response(
                |r: axum::response::Response| async { r },
            )),
        )
        .with_state(state());
    let token = minter()
        .token(PRINT.id().as_str())
        .subject("alice")
        .payload(&json!({"label": 7}))
        .mint()
        .unwrap();
    let request = as_user(json_click(PRINT.path(), Some(&token), None), "alice");
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["aud"], PRINT.id().as_str());
    assert_eq!(body["payload"], json!({"label": 7}));
    // A transfer token is not for this action.
    let request = as_user(
        json_click(PRINT.path(), Some(&transfer_token("alice")), None),
        "alice",
    );
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::FORBIDDEN, "wrong_audience")
    );
}

#[tokio::test]
async fn panel_on_a_verify_only_server_is_mint_failed() {
    let verify_only = Key::ed25519_public(
        Kid::new("ed1").unwrap(),
        ed_key().ed25519_public_key().unwrap(),
    )
    .unwrap();
    let mut set = KeySet::new();
    set.insert(verify_only).unwrap();
    let state = TesseraConfig::new(set, ISS).build().unwrap();
    let app = app(state);
    let request = Request::get("/panels").body(Body::empty()).unwrap();
    assert_eq!(
        refusal(&app, request).await,
        expect(StatusCode::INTERNAL_SERVER_ERROR, "mint_failed")
    );
}

/// An identity header that is present but unusable (repeated, as a client adding a copy of a
/// proxy's header would send it; or not a valid user name) is `bad_identity` (400), on an
/// action and on a panel, before the token is looked at; the refusal does not quote it.
#[tokio::test]
async fn an_unusable_identity_header_is_bad_identity_on_actions_and_panels() {
    let app = app(state());
    let token = transfer_token("alice");
    let repeated = |request: Request<Body>| {
        let mut request = as_user(request, "alice");
        request
            .headers_mut()
            .append(USER_HEADER, "mallory".parse().unwrap());
        request
    };
    let click = repeated(json_click(TRANSFER.path(), Some(&token), None));
    let (status, problem) = call(&app, click).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["code"], "bad_identity");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("x-demo-user"), "{problem}");
    assert!(!detail.contains("mallory"), "{problem}");
    // Before the token: even a forged one gets bad_identity.
    let forged = repeated(json_click(TRANSFER.path(), Some("x.y.z"), None));
    assert_eq!(
        refusal(&app, forged).await,
        expect(StatusCode::BAD_REQUEST, "bad_identity")
    );
    let panels = repeated(Request::get("/panels").body(Body::empty()).unwrap());
    assert_eq!(
        refusal(&app, panels).await,
        expect(StatusCode::BAD_REQUEST, "bad_identity")
    );
    let padded = as_user(json_click(TRANSFER.path(), Some(&token), None), " alice");
    assert_eq!(
        refusal(&app, padded).await,
        expect(StatusCode::BAD_REQUEST, "bad_identity")
    );
    // The same click with one clean header goes through.
    let ok = as_user(json_click(TRANSFER.path(), Some(&token), None), "alice");
    assert_eq!(send(&app, ok).await.status(), StatusCode::OK);
}

/// Spec §8.1: a JSON body is an *object* `{"token": ..., "input": ...}`; "a JSON body that is
/// not an object of the members of point 1" is `malformed`. The envelope's derived
/// `Deserialize` also reads a JSON array positionally, so `["<token>", <input>]` is taken as a
/// click (a proxy or WAF that looks for `.token` in the JSON object sees no token at all).
/// The existing case `["a"]` is refused only because "a" is not a token.
#[tokio::test]
async fn a_json_body_that_is_an_array_is_malformed_even_with_a_valid_token() {
    let app = app(state());
    let token = transfer_token("alice");
    for body in [
        format!(r#"["{token}"]"#),
        format!(r#"["{token}", {{"note": "x", "count": 1}}]"#),
    ] {
        let request = as_user(
            post(TRANSFER.path())
                .content_type("application/json")
                .body(body.clone())
                .build(),
            "alice",
        );
        let response = send(&app, request).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{}",
            &body[..20]
        );
        assert_eq!(
            refused(response).await,
            expect(StatusCode::BAD_REQUEST, "malformed")
        );
    }
}

/// Spec §8.1 order: "the Tessera-Token header appears at most once and is visible ASCII
/// (`malformed`)" comes before "the caller's identity (`bad_identity`)". A header value with
/// a space or a tab is not visible ASCII (VCHAR is 0x21-0x7E), but `HeaderValue::to_str`
/// lets both through, so the identity is judged first and the answer is `bad_identity`.
#[tokio::test]
async fn a_token_header_with_a_space_or_tab_is_malformed_before_the_identity_is_checked() {
    let app = app(state());
    let token = transfer_token("alice");
    for value in [format!("{token} x"), format!("{token}\tx")] {
        let mut request = post(TRANSFER.path()).build();
        request.headers_mut().insert(
            "tessera-token",
            axum::http::HeaderValue::from_str(&value).unwrap(),
        );
        // The identity header repeated: bad_identity, but only after the token header check.
        request
            .headers_mut()
            .append(USER_HEADER, "alice".parse().unwrap());
        request
            .headers_mut()
            .append(USER_HEADER, "mallory".parse().unwrap());
        assert_eq!(
            refusal(&app, request).await,
            expect(StatusCode::BAD_REQUEST, "malformed"),
            "{:?}",
            value.contains('\t')
        );
    }
}

/// `Debug` of an `Action` whose token was sealed leaves its payload and claims out (the
/// secret plaintext), while a signed token's action shows them: a handler that logs the
/// action with `{:?}` does not write a sealed payload to its logs.
#[tokio::test]
async fn debug_of_a_sealed_action_shows_neither_payload_nor_claims() {
    use tessera_protocol::Accept;
    use tessera_server::{Action, ActionRoute, ActionRouterExt};
    async fn debug(action: Action<serde_json::Value>) -> String {
        format!("{action:?}")
    }
    const SIGNED_DEBUG: ActionRoute = ActionRoute::new("plugin:t/action:debug-signed", "/ds");
    let sealed_debug = ActionRoute::owned(SEALED.id().clone(), "/dz").accepting(Accept::Sealed);
    let state = state();
    let app: axum::Router = axum::Router::new()
        .action(&SIGNED_DEBUG, debug)
        .action(&sealed_debug, debug)
        .with_state(state.clone());
    let alice = tessera_server::Principal::new("alice");
    let payload = json!({"salary": 98765});
    for (route, shown) in [(&SIGNED_DEBUG, true), (&sealed_debug, false)] {
        let button = state
            .button(route, "B")
            .caller(Some(&alice))
            .payload(&payload)
            .mint()
            .unwrap();
        let request = as_user(json_click(route.path(), Some(&button.token), None), "alice");
        let response = send(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let text = String::from_utf8(
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        assert_eq!(text.contains("98765"), shown, "{text}");
        assert_eq!(text.contains(&(NOW + 300).to_string()), shown, "{text}");
        assert!(
            text.contains("alice") && text.contains(route.path()),
            "{text}"
        );
    }
}

// ---- defects an outside test found (issue 20) ----------------------------------------

#[tokio::test]
async fn a_request_with_two_content_type_headers_is_malformed_not_read_by_the_first() {
    let app = app(state());
    let token = transfer_token("alice");
    let json = json!({"token": token, "input": {"note": "n", "count": 1}}).to_string();
    let request = post(TRANSFER.path())
        .content_type("application/json")
        .content_type(FORM)
        .user("alice")
        .body(json)
        .build();
    assert_eq!(
        refusal(&app, request).await,
        (StatusCode::BAD_REQUEST, "malformed".to_owned())
    );
}

#[tokio::test]
async fn a_form_input_field_that_is_not_utf8_is_bad_input_not_replaced() {
    let app = app(state());
    let token = transfer_token("alice");
    for form in [
        format!("tessera_token={token}&note=caf%E9&count=1"),
        format!("tessera_token={token}&n%FFote=x&count=1"),
    ] {
        let request = post(TRANSFER.path())
            .content_type(FORM)
            .user("alice")
            .body(form.clone())
            .build();
        assert_eq!(
            refusal(&app, request).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "bad_input".to_owned()),
            "{form}"
        );
    }
    // A U+FFFD the client really sent (percent-encoded UTF-8) is input like any other.
    let request = post(TRANSFER.path())
        .content_type(FORM)
        .user("alice")
        .body(format!("tessera_token={token}&note=%EF%BF%BD&count=1"))
        .build();
    let (status, body) = call(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["input"]["note"], "\u{fffd}");
}

#[tokio::test]
async fn a_form_token_that_is_not_utf8_is_malformed() {
    let app = app(state());
    let request = post(TRANSFER.path())
        .content_type(FORM)
        .user("alice")
        .body("tessera_token=%FF%FE&count=1")
        .build();
    assert_eq!(
        refusal(&app, request).await,
        (StatusCode::BAD_REQUEST, "malformed".to_owned())
    );
}

#[tokio::test]
async fn an_origin_of_the_same_host_with_another_scheme_is_cross_origin() {
    let token = transfer_token("alice");
    let click = |origin: &str| {
        as_user(
            post(TRANSFER.path())
                .header("host", "inv.example")
                .header("origin", origin)
                .token_header(&token)
                .build(),
            "alice",
        )
    };
    // Served over plain HTTP (the default): a page of https://inv.example is another origin.
    let http = app(state());
    assert_eq!(
        refusal(&http, click("https://inv.example")).await,
        (StatusCode::FORBIDDEN, "cross_origin".to_owned())
    );
    assert_eq!(
        call(&http, click("http://inv.example")).await.0,
        StatusCode::OK
    );
    // Behind a TLS-terminating proxy the server says so, and the reverse holds.
    let https = app(config(keys()).with_scheme("https").build().unwrap());
    assert_eq!(
        call(&https, click("https://inv.example")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        refusal(&https, click("http://inv.example")).await,
        (StatusCode::FORBIDDEN, "cross_origin".to_owned())
    );
}
