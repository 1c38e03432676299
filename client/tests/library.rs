//! The library's own promises, without a real host: what its `Debug` output shows, and how it
//! reports answers a tessera host would not give (from a fake host on 127.0.0.1).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;

use tessera_client::{Client, ClientError};

use crate::util::{stderr, tessera};

/// A fake host on 127.0.0.1:0 that reads each request's head and writes `response(path)` (raw
/// HTTP/1.1 response text) on its own connection. Runs until the test process ends.
pub(crate) fn raw_host(response: impl Fn(&str) -> String + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let response = std::sync::Arc::new(response);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let response = std::sync::Arc::clone(&response);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("");
                let text = response(path);
                let _ = reader.get_mut().write_all(text.as_bytes());
            });
        }
    });
    url
}

/// A base URL may carry credentials (`http://user:password@host/`, which the HTTP client sends
/// as Basic authentication): the password never appears in `Debug` output.
#[test]
fn a_base_url_without_a_scheme_is_refused_with_the_fix() {
    for base in [
        "127.0.0.1:8080",
        "localhost:8080",
        "admin:hunter2@127.0.0.1:8080",
    ] {
        let err = Client::new(base).unwrap_err();
        assert_eq!(err.machine_code(), "config", "{base}");
        let message = err.to_string();
        assert!(message.contains("http://HOST:PORT"), "{base}: {message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
    assert!(Client::new("http://127.0.0.1:8080").is_ok());
}

#[test]
fn debug_output_never_shows_the_base_url_password() {
    let builder = Client::builder("http://admin:hunter2@127.0.0.1:8080/").user("alice");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("127.0.0.1:8080"), "{shown}");
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("127.0.0.1:8080"), "{shown}");
    assert!(
        shown.contains("admin"),
        "the user name is not a secret: {shown}"
    );
    // Asked for explicitly, the URL is whole.
    assert_eq!(client.base_url().password(), Some("hunter2"));
}

/// A problem+json rejection without a `code` member (RFC 9457 problems from a proxy or another
/// framework have none) keeps its `detail`: the host's explanation is not dropped.
#[tokio::test(flavor = "current_thread")]
async fn a_problem_without_a_code_keeps_its_detail() {
    let body = r#"{"type":"about:blank","title":"Forbidden","status":403,"detail":"your address is blocked"}"#;
    let url = raw_host(move |_| {
        format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: application/problem+json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    });
    let err = Client::new(&url).unwrap().panels("p").await.unwrap_err();
    assert_eq!(err.machine_code(), "http_status", "{err:?}");
    assert!(
        matches!(&err, ClientError::Status { status: 403, detail: Some(d), .. } if d == "your address is blocked"),
        "{err:?}"
    );
    assert!(err.to_string().contains("your address is blocked"), "{err}");
    assert!(err.to_string().contains("403"), "{err}");
    let a = tessera()
        .args(["panels", &url, "--plugin", "p"])
        .assert()
        .code(1);
    assert!(
        stderr(&a).starts_with("error: http_status: your address is blocked"),
        "{}",
        stderr(&a)
    );
}

/// A redirect is not followed (a token must not travel to another place), and the error says
/// where the host points, so the user can give that URL instead.
#[tokio::test(flavor = "current_thread")]
async fn a_redirect_is_reported_with_its_target() {
    let url = raw_host(|_| {
        "HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:9/tessera/api/plugins/p/panels\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
            .to_owned()
    });
    let err = Client::new(&url).unwrap().panels("p").await.unwrap_err();
    assert_eq!(err.machine_code(), "http_status", "{err:?}");
    assert!(
        matches!(&err, ClientError::Status { status: 301, location: Some(l), .. } if l == "http://127.0.0.1:9/tessera/api/plugins/p/panels"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("redirect"), "{text}");
    assert!(
        text.contains("http://127.0.0.1:9/tessera/api/plugins/p/panels"),
        "{text}"
    );
    let a = tessera()
        .args(["panels", &url, "--plugin", "p"])
        .assert()
        .code(1);
    assert!(
        stderr(&a).contains("http://127.0.0.1:9/tessera/api/plugins/p/panels"),
        "{}",
        stderr(&a)
    );
}

/// `ClientBuilder::build` promises a `config` error for "a user name that cannot be sent in a
/// header". Whitespace around a header value is not part of the value (RFC 9110 §5.5): the
/// host reads `" alice"` as `alice`. Such a name must be refused, not sent as another user.
#[test]
fn a_user_name_with_surrounding_whitespace_is_a_config_error() {
    for user in [" alice", "alice ", "\talice", "alice\t"] {
        let built = Client::builder("http://127.0.0.1:8080").user(user).build();
        assert!(
            matches!(built, Err(ClientError::Config { .. })),
            "user {user:?} was accepted and would be sent as {:?}: {built:?}",
            user.trim()
        );
    }
}

/// `Panel::default_input` promises the input "the host's own page sends" for fields left as
/// rendered, a number field's value "as the page's `JSON.stringify` writes it". The page's
/// click script (server/assets/click.js) sends `Number(value)`, a binary64: an integer beyond
/// 2^53 arrives rounded (`"9007199254740993"` as `9007199254740992`, `"18446744073709551615"`
/// as `18446744073709551616`, written `18446744073709552000`). `default_input` parses such a
/// value exactly as an `i64`/`u64` first and sends it unrounded, so the CLI's click and the
/// page's click of the same panel hand the action different numbers.
#[test]
fn default_input_rounds_a_number_field_beyond_2_pow_53_as_the_page_does() {
    let panel: tessera_client::Panel = serde_json::from_value(serde_json::json!({
        "key": "k", "title": "t",
        "fields": [{"name": "a", "type": "number", "value": "9007199254740993"},
                   {"name": "b", "type": "number", "value": "18446744073709551615"}],
        "buttons": []
    }))
    .unwrap();
    let input = tessera_client::default_input(&panel);
    // What `JSON.stringify(Number(value))` gives, as a host reads it: never the unrounded
    // integer (as an integer or a float, the value is 2^53 and 2^64).
    assert_ne!(
        input["a"].as_u64(),
        Some(9_007_199_254_740_993),
        "sent {}, the page sends 9007199254740992",
        input["a"]
    );
    assert_eq!(input["a"].as_f64(), Some(9_007_199_254_740_992.0));
    assert_ne!(
        input["b"].as_u64(),
        Some(u64::MAX),
        "sent {}, the page sends 18446744073709552000",
        input["b"]
    );
}
