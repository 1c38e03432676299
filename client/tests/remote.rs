//! The client library against the demo plugin host (its app served in process).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tessera_client::{
    Button, Clicked, Client, ClientError, Code, Panels, Problem, demo_panels_path,
};
use tessera_protocol::dangerous::decode_unverified;
use tessera_protocol::wire;
use tessera_protocol::{
    Algorithm, Clock as _, ErrorCode, Expected, KeySet, Minter, SystemClock, Verifier,
};

use crate::host::{Host, PLUGIN, PRINT_LABEL, TRANSFER};

fn client(host: &Host, user: &str) -> Client {
    Client::builder(&host.url).user(user).build().unwrap()
}

/// The demo plugin's panels, as `client` sees them.
async fn panels(client: &Client) -> Panels {
    client.panels(&demo_panels_path(PLUGIN)).await.unwrap()
}

/// The demo plugin's button for `action`, as rendered for `client`.
async fn find(client: &Client, action: &str) -> Button {
    panels(client).await.find(action).unwrap().0.clone()
}

/// Clicks `button` with `input`; an `expired` click re-fetches the demo plugin's panels when
/// the client retries.
async fn click_detailed(
    client: &Client,
    button: &Button,
    input: &Value,
) -> Result<Clicked, ClientError> {
    let panels_url = demo_panels_path(PLUGIN);
    client
        .click(button)
        .input(input)
        .refresh_from(&panels_url)
        .send()
        .await
}

/// [`click_detailed`]'s result alone.
async fn click(client: &Client, button: &Button, input: &Value) -> Result<Value, ClientError> {
    click_detailed(client, button, input)
        .await
        .map(|clicked| clicked.result)
}

/// Re-mints `button`'s token with the host's key, the same claims and payload, but issued an
/// hour ago with a one-minute lifetime: a token that expired long ago, as a stale panel holds.
fn expire(host: &Host, button: &Button) -> Button {
    remint(host, button, |minter, aud, sub, dat| {
        let mut b = minter
            .token(aud)
            .payload(dat)
            .ttl(Duration::from_secs(60))
            .issued_at(SystemClock.now() - 3600);
        if let Some(sub) = sub {
            b = b.subject(sub);
        }
        b.mint().unwrap()
    })
}

fn remint(
    host: &Host,
    button: &Button,
    mint: impl Fn(&Minter, &str, Option<&str>, &Value) -> String,
) -> Button {
    let claims = decode_unverified(&button.token).unwrap().claims.unwrap();
    let keys = Arc::new(KeySet::from_file(&host.keys).unwrap());
    let minter = Minter::new(keys, claims["iss"].as_str().unwrap());
    let token = mint(
        &minter,
        claims["aud"].as_str().unwrap(),
        claims["sub"].as_str(),
        &claims["dat"],
    );
    Button {
        token,
        ..button.clone()
    }
}

fn problem(result: Result<Value, ClientError>) -> Problem {
    match result {
        Err(ClientError::Rejected(problem)) => problem,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn panels_list_buttons_whose_tokens_verify_for_the_user() {
    let host = Host::start();
    let keys = Arc::new(KeySet::from_file(&host.keys).unwrap());
    for (user, client) in [
        ("alice", client(&host, "alice")),
        ("guest", Client::new(&host.url).unwrap()),
    ] {
        let panels = panels(&client).await;
        assert_eq!(panels.document.plugin, PLUGIN);
        assert!(panels.document.panels.len() >= 2);
        assert!(panels.worker.as_deref().is_some_and(|w| !w.is_empty()));
        let buttons: Vec<&Button> = panels.buttons().collect();
        assert!(buttons.len() >= 3);
        let now = SystemClock.now();
        for b in buttons {
            assert_eq!(b.method, "POST");
            assert!(b.expires_at > now);
            let iss = decode_unverified(&b.token).unwrap().claims.unwrap()["iss"].clone();
            let verifier = Verifier::new(keys.clone(), iss.as_str().unwrap());
            let ok = verifier
                .verify::<Value>(
                    &b.token,
                    &Expected::audience(b.action.as_str()).subject(user),
                )
                .unwrap_or_else(|e| panic!("{}: {e}", b.action));
            assert_eq!(ok.claims.aud, b.action.as_str());
        }
        assert!(panels.find(TRANSFER).is_ok());
        assert!(panels.find(PRINT_LABEL).is_ok());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn click_returns_the_actions_result() {
    let host = Host::start();
    let alice = client(&host, "alice");
    let button = find(&alice, TRANSFER).await;
    assert_eq!(button.action, TRANSFER);
    let result = click(&alice, &button, &json!({"qty": 5})).await.unwrap();
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["moved"], 5);
    assert_eq!(result["user"], "alice");
    // The same token again (nothing in the host forbids a repeat), with details.
    let clicked = click_detailed(&alice, &button, &json!({"qty": 7}))
        .await
        .unwrap();
    assert!(!clicked.retried);
    assert_eq!(clicked.result["moved"], 7);
    assert!(clicked.worker.is_some());
    // By action id.
    let print = find(&alice, PRINT_LABEL).await;
    let result = click(&alice, &print, &json!({"copies": 2})).await.unwrap();
    assert_eq!(result["copies"], 2, "{result}");
}

#[tokio::test(flavor = "current_thread")]
async fn rejections_carry_the_hosts_typed_code_and_status() {
    let host = Host::start();
    let alice = client(&host, "alice");
    let transfer = find(&alice, TRANSFER).await;
    let print = find(&alice, PRINT_LABEL).await;
    let input = json!({"qty": 1});
    let with_token = |token: String| Button {
        token,
        ..transfer.clone()
    };

    // Expired: the panel was rendered long ago.
    let p = problem(click(&alice, &expire(&host, &transfer), &input).await);
    assert_eq!(
        (p.code.clone(), p.status),
        (Code::from(ErrorCode::Expired), 401)
    );
    assert_eq!(p.code, ErrorCode::Expired);

    // A changed byte of the signature.
    let sig = transfer.token.rfind('.').unwrap() + 4;
    let mut forged = transfer.token.clone().into_bytes();
    forged[sig] = if forged[sig] == b'A' { b'B' } else { b'A' };
    let p = problem(
        click(
            &alice,
            &with_token(String::from_utf8(forged).unwrap()),
            &input,
        )
        .await,
    );
    assert_eq!(
        (p.code, p.status),
        (Code::from(ErrorCode::BadSignature), 401)
    );

    // The transfer token posted to the print-label action.
    let misdirected = Button {
        url: print.url.clone(),
        ..transfer.clone()
    };
    let p = problem(click(&alice, &misdirected, &json!({})).await);
    assert_eq!(
        (p.code, p.status),
        (Code::from(ErrorCode::WrongAudience), 403)
    );

    // Alice's button clicked by Bob.
    let p = problem(click(&client(&host, "bob"), &transfer, &input).await);
    assert_eq!(
        (p.code, p.status),
        (Code::from(ErrorCode::WrongSubject), 403)
    );

    // Garbage, an oversized token.
    let p = problem(click(&alice, &with_token("garbage".to_owned()), &input).await);
    assert_eq!((p.code, p.status), (Code::from(ErrorCode::Malformed), 400));
    let p = problem(click(&alice, &with_token("a".repeat(9000)), &input).await);
    assert_eq!((p.code, p.status), (Code::from(ErrorCode::TooLarge), 413));

    // A key the host does not have; the right key under another algorithm; another issuer.
    let stranger = Minter::new(Arc::new(KeySet::generate(Algorithm::Hs256).unwrap()), "x");
    let p = problem(
        click(
            &alice,
            &with_token(stranger.token(TRANSFER).mint().unwrap()),
            &input,
        )
        .await,
    );
    assert_eq!((p.code, p.status), (Code::from(ErrorCode::UnknownKey), 401));
    let (header, rest) = transfer.token.split_once('.').unwrap();
    let mut header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["alg"] = json!("EdDSA");
    let confused = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
    let p = problem(click(&alice, &with_token(confused), &input).await);
    assert_eq!(
        (p.code, p.status),
        (Code::from(ErrorCode::UnsupportedAlgorithm), 401)
    );
    let other_issuer = remint(&host, &transfer, |_, aud, sub, dat| {
        let keys = Arc::new(KeySet::from_file(&host.keys).unwrap());
        let minter = Minter::new(keys, "someone-else");
        minter
            .token(aud)
            .subject(sub.unwrap())
            .payload(dat)
            .mint()
            .unwrap()
    });
    let p = problem(click(&alice, &other_issuer, &input).await);
    assert_eq!(
        (p.code, p.status),
        (Code::from(ErrorCode::WrongIssuer), 403)
    );

    // A valid token with input the action refuses.
    let p = problem(click(&alice, &transfer, &json!({"qty": 0})).await);
    assert_eq!(p.code, Code::from(wire::Code::BadInput));
    assert!((400..500).contains(&p.status));

    // Messages never carry the token.
    let err = click(&client(&host, "bob"), &transfer, &input)
        .await
        .unwrap_err();
    assert_eq!(err.machine_code(), "wrong_subject");
    assert!(!err.to_string().contains(&transfer.token));
    assert!(!format!("{err:?}").contains(&transfer.token));
    assert!(
        !format!("{transfer:?}").contains(&transfer.token),
        "Button's Debug hides it"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn lookup_and_transport_failures_are_typed() {
    let host = Host::start();
    let alice = client(&host, "alice");
    match panels(&alice).await.find("plugin:stock-tools/action:nope") {
        Err(ClientError::ButtonNotFound { available, .. }) => {
            assert!(available.iter().any(|a| a == TRANSFER), "{available:?}");
        }
        other => panic!("{other:?}"),
    }
    let err = alice
        .panels(&demo_panels_path("no-such-plugin"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Status { status: 404, .. })
            || matches!(&err, ClientError::Rejected(p) if p.status == 404),
        "{err:?}"
    );
    // A button pointing at another origin is refused before anything is sent.
    let mut button = find(&alice, TRANSFER).await;
    button.url = "http://127.0.0.2:9/steal".to_owned();
    let err = click(&alice, &button, &json!({})).await.unwrap_err();
    assert_eq!(err.machine_code(), "invalid_response", "{err}");
    // Nobody listening.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let gone = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let err = gone.panels(&demo_panels_path(PLUGIN)).await.unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    assert_eq!(err.machine_code(), "transport");
}

#[tokio::test(flavor = "current_thread")]
async fn an_expired_click_is_retried_once_with_a_fresh_panel_when_allowed() {
    let host = Host::start();
    let input = json!({"qty": 2});
    let plain = client(&host, "alice");
    let stale = expire(&host, &find(&plain, TRANSFER).await);

    // Off by default.
    assert_eq!(
        problem(click(&plain, &stale, &input).await).code,
        ErrorCode::Expired
    );

    // On: the client re-fetches the panel and clicks again, once.
    let retrying = Client::builder(&host.url)
        .user("alice")
        .retry_expired(true)
        .build()
        .unwrap();
    let clicked = click_detailed(&retrying, &stale, &input).await.unwrap();
    assert!(clicked.retried);
    assert_eq!(clicked.result["moved"], 2);
    assert_eq!(click(&retrying, &stale, &input).await.unwrap()["ok"], true);

    // Never for an action marked not safe to repeat, nor for other codes.
    let careful = Client::builder(&host.url)
        .user("alice")
        .retry_expired(true)
        .not_safe_to_repeat(TRANSFER)
        .build()
        .unwrap();
    assert_eq!(
        problem(click(&careful, &stale, &input).await).code,
        ErrorCode::Expired
    );
    let print = find(&careful, PRINT_LABEL).await;
    assert!(
        click_detailed(&careful, &expire(&host, &print), &json!({}))
            .await
            .unwrap()
            .retried
    );
    let bob = Client::builder(&host.url)
        .user("bob")
        .retry_expired(true)
        .build()
        .unwrap();
    let alices = find(&plain, TRANSFER).await;
    assert_eq!(
        problem(click(&bob, &alices, &input).await).code,
        ErrorCode::WrongSubject
    );
    // A click that does not say where its panels came from cannot be re-fetched: the error
    // stands.
    let alone = retrying.click(&stale).input(&input).send().await;
    assert_eq!(problem(alone.map(|c| c.result)).code, ErrorCode::Expired);
}

#[tokio::test(flavor = "current_thread")]
async fn retry_after_a_real_short_ttl_expiry() {
    // Tokens live TTL seconds with no leeway: wait (polling the clock, no timing assertion)
    // until the button's token has expired, then click. `iat` counts whole seconds, so a token
    // minted late in a second lives only TTL - 1 s (and a bit): the retry's freshly minted
    // token must survive its panel fetch and click on a loaded machine, hence more than the
    // 2 s that left a one-second margin.
    const TTL: u64 = 4;
    let host = Host::start_with(|config| {
        config
            .with_ttl(Duration::from_secs(TTL))
            .with_leeway(Duration::ZERO)
    });
    let plain = client(&host, "alice");
    let retrying = Client::builder(&host.url)
        .user("alice")
        .retry_expired(true)
        .build()
        .unwrap();
    let button = find(&plain, PRINT_LABEL).await;
    let expires_at = button.expires_at;
    for _ in 0..300 {
        if SystemClock.now() > expires_at {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(SystemClock.now() > expires_at);
    assert_eq!(
        problem(click(&plain, &button, &json!({})).await).code,
        ErrorCode::Expired
    );
    let clicked = click_detailed(&retrying, &button, &json!({}))
        .await
        .unwrap();
    assert!(clicked.retried);
    assert_eq!(clicked.result["ok"], true);
}
