//! A hostile host: text it sends (plugin name, titles, labels, field values, problem `code`
//! and `detail`, action results) is printed with its control characters escaped, so escape
//! sequences and CR/LF cannot recolour the terminal or forge output lines.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;

use crate::util::{stderr, stdout, tessera};

/// A tiny HTTP/1.1 server on 127.0.0.1:0 answering every request with `respond(method, path)`
/// (status, content type, body), one request per connection. Runs until the test ends.
pub(crate) fn fake_host(
    respond: impl Fn(&str, &str) -> (u16, &'static str, String) + Send + 'static,
) -> String {
    fake_host_with_body(move |method, path, _body| respond(method, path))
}

/// [`fake_host`], whose `respond(method, path, body)` also sees the request body.
pub(crate) fn fake_host_with_body(
    respond: impl Fn(&str, &str, &str) -> (u16, &'static str, String) + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut parts = request_line.split_whitespace();
            let method = parts.next().unwrap_or("").to_owned();
            let path = parts.next().unwrap_or("").to_owned();
            let request_body = String::from_utf8_lossy(&body).into_owned();
            let (status, content_type, body) = respond(&method, &path, &request_body);
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// Characters a terminal acts on: C0 (but the line feeds between lines), DEL, C1.
fn has_controls(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{0}'..='\u{9}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'))
}

const EVIL: &str = "\u{1b}[2J\u{1b}]0;owned\u{7}\r\nerror: forged\u{9b}31m\u{7f}";

fn panels_doc() -> String {
    serde_json::json!({
        "plugin": format!("p{EVIL}"),
        "panels": [{
            "key": format!("k{EVIL}"),
            "title": format!("Title{EVIL}"),
            "fields": [{"name": format!("n{EVIL}"), "label": format!("L{EVIL}"),
                        "type": "text", "value": format!("v{EVIL}")}],
            "buttons": [{"label": format!("Go{EVIL}"), "action": "act",
                         "url": "/act", "method": "POST", "token": "h.c.s",
                         "expires_at": 4_102_444_800_u64}],
        }],
    })
    .to_string()
}

#[test]
fn panels_from_a_hostile_host_are_printed_without_control_characters() {
    let url = fake_host(|_, _| (200, "application/json", panels_doc()));
    let a = tessera()
        .args(["panels", &url, "--plugin", "p"])
        .assert()
        .success();
    let out = stdout(&a);
    assert!(!has_controls(&out), "{out:?}");
    assert!(
        !out.lines().any(|l| l.starts_with("error: forged")),
        "no forged line: {out}"
    );
    assert!(
        out.contains("Title\\u{1b}[2J"),
        "escaped, not dropped: {out}"
    );
    assert!(out.contains("[Go\\u{1b}"), "{out}");
    assert!(
        out.contains("\\u{d}\\u{a}error: forged\\u{9b}31m\\u{7f}"),
        "{out}"
    );
    // --json: the same document, still valid JSON, C1 and DEL escaped too.
    let a = tessera()
        .args(["panels", &url, "--plugin", "p", "--json"])
        .assert()
        .success();
    let out = stdout(&a);
    assert!(!has_controls(&out), "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["panels"][0]["title"], format!("Title{EVIL}"));
}

#[test]
fn a_hostile_problem_code_and_detail_cannot_forge_output() {
    let url = fake_host(|method, _| {
        if method == "GET" {
            (200, "application/json", panels_doc())
        } else {
            let problem = serde_json::json!({
                "code": format!("expired{EVIL}"),
                "detail": format!("nope{EVIL}"),
            });
            (401, "application/problem+json", problem.to_string())
        }
    });
    let a = tessera()
        .args(["click", &url, "--plugin", "p", "--action", "act"])
        .assert()
        .code(1);
    let err = stderr(&a);
    assert!(!has_controls(&err), "{err:?}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: expired\\u{1b}[2J"), "{err}");
    assert!(err.contains("nope\\u{1b}[2J"), "{err}");
}

#[test]
fn a_hostile_click_result_is_printed_as_inert_json() {
    let url = fake_host(|method, _| {
        if method == "GET" {
            (200, "application/json", panels_doc())
        } else {
            let result = serde_json::json!({"message": format!("done{EVIL}")});
            (200, "application/json", result.to_string())
        }
    });
    let a = tessera()
        .args(["click", &url, "--plugin", "p", "--action", "act"])
        .assert()
        .success();
    let out = stdout(&a);
    assert!(!has_controls(&out), "{out:?}");
    let result: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(result["message"], format!("done{EVIL}"));
}

/// `click --input` that names a member twice is refused before anything is clicked, rather than
/// sent with only the last value.
#[test]
fn click_refuses_input_that_repeats_a_member_and_clicks_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let posts = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&posts);
    let url = fake_host(move |method, _path| {
        if method == "POST" {
            seen.fetch_add(1, Ordering::SeqCst);
            return (200, "application/json", "{\"ok\": true}".to_owned());
        }
        let doc = serde_json::json!({"plugin": "p", "panels": [{"key": "k", "title": "t",
            "buttons": [{"label": "Go", "action": "act", "url": "/act", "token": "h.c.s", "expires_at": 4_102_444_800_u64}]}]});
        (200, "application/json", doc.to_string())
    });
    let a = tessera()
        .args(["click", &url, "--plugin", "p", "--action", "act"])
        .args(["--input", r#"{"qty": 5, "qty": 500}"#])
        .assert()
        .code(1);
    assert!(
        stderr(&a).starts_with("error: bad_input: "),
        "{}",
        stderr(&a)
    );
    assert!(stderr(&a).contains("/qty"), "{}", stderr(&a));
    assert_eq!(posts.load(Ordering::SeqCst), 0, "nothing was clicked");
    // The same input without the repetition is clicked.
    tessera()
        .args(["click", &url, "--plugin", "p", "--action", "act"])
        .args(["--input", r#"{"qty": 5}"#])
        .assert()
        .success();
    assert_eq!(posts.load(Ordering::SeqCst), 1);
}

/// `panels --json` is machine-readable on failure too (as `verify --json` is): a JSON object
/// with `code` and `message` on stdout, exit 1.
#[test]
fn panels_json_reports_failures_as_a_json_object_on_stdout() {
    let url = fake_host(|_, _| (500, "text/html", "<h1>\u{1b}[31mdown</h1>".to_owned()));
    let https = "https://127.0.0.1:9".to_owned();
    for (url, code) in [(url, "http_status"), (https, "config")] {
        let a = tessera()
            .args(["panels", &url, "--plugin", "p", "--json"])
            .assert()
            .code(1);
        let doc: serde_json::Value = serde_json::from_str(&stdout(&a))
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", stdout(&a)));
        assert_eq!(doc["code"], code, "{doc}");
        assert!(
            doc["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{doc}"
        );
    }
}

/// `panels --json` prints the document exactly as the host sent it: members this client does
/// not model are kept, and members the host left out are not made up.
#[test]
fn panels_json_prints_the_hosts_document_unchanged() {
    let doc = serde_json::json!({
        "plugin": "p", "version": 3,
        "panels": [{
            "key": "k", "title": "t", "note": "shown under the title",
            "fields": [{"name": "qty", "type": "number", "value": "1", "min": 1, "max": 5}],
            "buttons": [{"label": "Go", "action": "act", "url": "/act", "token": "h.c.s",
                         "expires_at": 4_102_444_800_u64, "confirm": "Really?"}],
        }],
    });
    let body = doc.to_string();
    let url = fake_host(move |_, _| (200, "application/json", body.clone()));
    let a = tessera()
        .args(["panels", &url, "--plugin", "p", "--json"])
        .assert()
        .success();
    let printed: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(printed, doc);
    // A document that is not a panels document is still refused, as without --json.
    let url = fake_host(|_, _| (200, "application/json", "{\"plugin\": 1}".to_owned()));
    let a = tessera()
        .args(["panels", &url, "--plugin", "p", "--json"])
        .assert()
        .code(1);
    let err: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(err["code"], "invalid_response", "{err}");
}

/// Without `--input`, `click` sends what the host's page sends for fields left as rendered
/// (its click script): every field, a field without a value as `""`; and for a panel without
/// fields no input at all (`null`, which a host reads as absent), not an empty object.
#[test]
fn click_without_input_sends_what_the_page_sends() {
    use std::sync::{Arc, Mutex};
    let posted = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let seen = Arc::clone(&posted);
    let url = fake_host_with_body(move |method, _path, body| {
        if method == "POST" {
            seen.lock()
                .unwrap()
                .push(serde_json::from_str(body).unwrap());
            return (200, "application/json", "{\"ok\": true}".to_owned());
        }
        let doc = serde_json::json!({"plugin": "p", "panels": [
            {"key": "with-fields", "title": "t",
             "fields": [{"name": "qty", "type": "number", "value": "2"},
                        {"name": "note", "type": "text", "label": "Note"}],
             "buttons": [{"label": "Go", "action": "go", "url": "/go", "token": "h.c.s", "expires_at": 4_102_444_800_u64}]},
            {"key": "no-fields", "title": "t",
             "buttons": [{"label": "Ping", "action": "ping", "url": "/ping", "token": "h.c.s", "expires_at": 4_102_444_800_u64}]},
        ]});
        (200, "application/json", doc.to_string())
    });
    for action in ["go", "ping"] {
        tessera()
            .args(["click", &url, "--plugin", "p", "--action", action])
            .assert()
            .success();
    }
    let posted = posted.lock().unwrap();
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert_eq!(
        posted[0]["input"],
        serde_json::json!({"qty": 2, "note": ""})
    );
    assert_eq!(posted[1]["input"], serde_json::Value::Null, "{}", posted[1]);
}

/// A host that accepts connections and never answers: `--timeout` bounds each request, so
/// `panels` and `click` end with `transport` well before the 30 s default. The command's own
/// guard (20 s) is only there to make the test fail instead of hang if the option were ignored.
#[test]
fn a_host_that_never_answers_is_cut_off_after_the_given_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let runs: [&[&str]; 2] = [
        &["panels", &url, "--plugin", "p", "--timeout", "1s"],
        &[
            "click",
            &url,
            "--plugin",
            "p",
            "--action",
            "a",
            "--timeout",
            "1s",
        ],
    ];
    for args in runs {
        let out = tessera()
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(1);
        assert!(
            stderr(&out).starts_with("error: transport: "),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
    }
    // A zero timeout is a usage error, not an instant failure of every request.
    tessera()
        .args(["panels", &url, "--plugin", "p", "--timeout", "0"])
        .assert()
        .code(2);
}

/// Without `--input`, `click` promises to send what the host's page sends for fields left as
/// rendered (README, `click --help`, `Panel::default_input`). The page's click script
/// (server/assets/click.js) sends a `number` field's value as `Number(value)`, serialized by
/// `JSON.stringify`: `"25.0"` and `"1e2"` (valid HTML numbers) go as the integers `25` and
/// `100`. Sent as the floats `25.0` and `100.0` instead, a host whose input type reads an
/// integer (the demo's `qty: u32`) refuses the click with `bad_input` while the page's click
/// works.
#[test]
fn click_without_input_sends_number_fields_the_way_the_page_does() {
    use std::sync::{Arc, Mutex};
    let posted = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&posted);
    let url = fake_host_with_body(move |method, _path, body| {
        if method == "POST" {
            seen.lock().unwrap().push(body.to_owned());
            return (200, "application/json", "{\"ok\": true}".to_owned());
        }
        let doc = serde_json::json!({"plugin": "p", "panels": [
            {"key": "k", "title": "t",
             "fields": [{"name": "qty", "type": "number", "value": "25.0"},
                        {"name": "copies", "type": "number", "value": "1e2"},
                        {"name": "ratio", "type": "number", "value": "2.50"},
                        {"name": "plus", "type": "number", "value": "+5"},
                        {"name": "spaced", "type": "number", "value": " 25"},
                        {"name": "hex", "type": "number", "value": "0x10"},
                        {"name": "huge", "type": "number", "value": "1e400"}],
             "buttons": [{"label": "Go", "action": "go", "url": "/go", "token": "h.c.s", "expires_at": 4_102_444_800_u64}]},
        ]});
        (200, "application/json", doc.to_string())
    });
    tessera()
        .args(["click", &url, "--plugin", "p", "--action", "go"])
        .assert()
        .success();
    let posted = posted.lock().unwrap();
    assert_eq!(posted.len(), 1, "{posted:?}");
    let body: serde_json::Value = serde_json::from_str(&posted[0]).unwrap();
    // What the page posts: a browser clears a number field whose value is not a valid
    // floating-point number ("" is sent), and keeps one that is not finite as text.
    assert_eq!(
        body["input"],
        serde_json::json!({"qty": 25, "copies": 100, "ratio": 2.5,
                           "plus": "", "spaced": "", "hex": "", "huge": "1e400"}),
        "posted {}",
        posted[0]
    );
}
