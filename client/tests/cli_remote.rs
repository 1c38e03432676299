//! `tessera panels` and `tessera click` against the demo plugin host (its app served in process).

use predicates::prelude::*;

use crate::host::{Host, PLUGIN, TRANSFER};
use crate::util::{stderr, stdout, tessera};

#[test]
fn panels_prints_a_summary_or_the_json_document() {
    let host = Host::start();
    let a = tessera()
        .args(["panels", &host.url, "--plugin", PLUGIN, "--user", "alice"])
        .assert()
        .success();
    let out = stdout(&a);
    assert!(
        out.starts_with("plugin stock-tools (rendered by worker "),
        "{out}"
    );
    assert!(
        out.contains(&format!("action {TRANSFER} -> POST ")),
        "{out}"
    );
    assert!(out.contains("(expires in "), "{out}");
    assert!(out.contains("input qty"), "{out}");
    let a = tessera()
        .args(["panels", &host.url, "--plugin", PLUGIN, "--json"])
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(doc["plugin"], PLUGIN);
    let token = doc["panels"][0]["buttons"][0]["token"].as_str().unwrap();
    let claims = tessera_protocol::dangerous::decode_unverified(token)
        .unwrap()
        .claims
        .unwrap();
    assert_eq!(claims["sub"], "guest", "no --user: the host's guest");
}

#[test]
fn click_prints_the_result_and_sends_the_user() {
    let host = Host::start();
    for (user, want) in [(Some("bob"), "bob"), (None, "guest")] {
        let mut cmd = tessera();
        cmd.args(["click", &host.url, "--plugin", PLUGIN, "--action", TRANSFER])
            .args(["--input", r#"{"qty": 3}"#]);
        if let Some(user) = user {
            cmd.args(["--user", user]);
        }
        let a = cmd.assert().success();
        let result: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
        assert_eq!(result["moved"], 3);
        assert_eq!(result["user"], want);
    }
}

#[test]
fn click_failures_print_the_code_and_exit_1() {
    let host = Host::start();
    let click = |extra: &[&str]| {
        let mut cmd = tessera();
        cmd.args(["click", &host.url, "--plugin", PLUGIN])
            .args(extra);
        let a = cmd.assert().code(1);
        assert!(stdout(&a).is_empty());
        stderr(&a)
    };
    let err = click(&["--action", TRANSFER, "--input", r#"{"qty": 100000}"#]);
    assert!(err.starts_with("error: bad_input: "), "{err}");
    assert!(err.contains("HTTP 4"), "{err}");
    let err = click(&["--action", "transfer"]);
    assert!(err.starts_with("error: button_not_found: "), "{err}");
    assert!(
        err.contains(TRANSFER),
        "the message lists the real action ids: {err}"
    );
    let err = click(&["--action", TRANSFER, "--input", "{qty: 3}"]);
    assert!(err.starts_with("error: bad_input: "), "{err}");
    assert!(err.contains("--input"), "{err}");
    // The host says why, with a problem code the CLI passes on.
    tessera()
        .args(["panels", &host.url, "--plugin", "no-such-plugin"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: not_found: "));
}

#[test]
fn unreachable_or_unsupported_hosts_are_reported() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    tessera()
        .args(["panels", &url, "--plugin", PLUGIN])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: transport: "));
    tessera()
        .args(["click", &url, "--plugin", PLUGIN, "--action", TRANSFER])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: transport: "));
    tessera()
        .args(["panels", "https://127.0.0.1:1", "--plugin", PLUGIN])
        .assert()
        .code(1)
        .stderr(
            predicate::str::starts_with("error: config: ").and(predicate::str::contains("TLS")),
        );
    tessera()
        .args(["panels", "not a url", "--plugin", PLUGIN])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: config: "));
}

#[test]
fn click_sends_the_panels_declared_field_values_unless_input_replaces_them() {
    let host = Host::start();
    // The panel shows `input qty (number): … [default 25]`: a click without --input moves 25,
    // as the host's page does when the field is left as rendered.
    let a = tessera()
        .args(["panels", &host.url, "--plugin", PLUGIN])
        .assert()
        .success();
    assert!(
        stdout(&a).contains("input qty (number): "),
        "{}",
        stdout(&a)
    );
    assert!(stdout(&a).contains("[default 25]"), "{}", stdout(&a));
    let click = |input: Option<&str>| {
        let mut cmd = tessera();
        cmd.args(["click", &host.url, "--plugin", PLUGIN, "--action", TRANSFER]);
        if let Some(input) = input {
            cmd.args(["--input", input]);
        }
        let a = cmd.assert().success();
        serde_json::from_str::<serde_json::Value>(&stdout(&a)).unwrap()
    };
    assert_eq!(click(None)["moved"], 25);
    // Members of --input replace only themselves.
    let result = click(Some(r#"{"note": "rush"}"#));
    assert_eq!(result["moved"], 25);
    assert_eq!(result["note"], "rush");
    assert_eq!(click(Some(r#"{"qty": 2}"#))["moved"], 2);
}

/// `panels --json` prints the host's document as the host sent it: the demo host's naive
/// plugin says `"naive": true`, who rendered it and for whom; none of that may be dropped.
#[test]
fn panels_json_keeps_every_member_the_host_sent() {
    let host = Host::start();
    let a = tessera()
        .args(["panels", &host.url, "--plugin", "naive-stock", "--json"])
        .args(["--user", "dora"])
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(doc["naive"], true, "{doc}");
    assert_eq!(doc["user"], "dora", "{doc}");
    assert!(doc["rendered_by"].is_string(), "{doc}");
}

/// `--user` names the user to click as. HTTP drops whitespace around a header's value (RFC 9110
/// §5.5), so a name with surrounding whitespace cannot travel as it is: the client must refuse
/// it (`ClientBuilder::build`: "a user name that cannot be sent in a header" is a `config`
/// error), or the host must (spec §8.5: surrounding whitespace is `400 bad_identity`). It must
/// never click as another user (`" alice"` acting as `alice`).
#[test]
fn a_user_name_with_surrounding_whitespace_never_clicks_as_another_user() {
    let host = Host::start();
    for user in [" alice", "alice ", "\talice"] {
        let a = tessera()
            .args(["click", &host.url, "--plugin", PLUGIN, "--action", TRANSFER])
            .args(["--input", r#"{"qty": 1}"#, "--user", user])
            .assert();
        let (out, err) = (stdout(&a), stderr(&a));
        assert_eq!(
            a.get_output().status.code(),
            Some(1),
            "--user {user:?} clicked as another user: {out}"
        );
        assert!(
            err.starts_with("error: config: ") || err.starts_with("error: bad_identity: "),
            "--user {user:?}: {err}"
        );
        assert!(out.is_empty(), "--user {user:?}: {out}");
    }
}
