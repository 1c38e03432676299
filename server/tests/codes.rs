//! The status table: every code's status as the spec lists it, every protocol code covered,
//! and the problem+json body of each.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use tessera_protocol::{Error, ErrorCode};
use tessera_server::{Code, Problem, Rejection};

/// The error table of spec/PROTOCOL.md: every row `| `code` | status | ... |`.
fn spec_table() -> Vec<(String, u16)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/PROTOCOL.md");
    let spec = std::fs::read_to_string(path).expect("spec/PROTOCOL.md");
    spec.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let status: u16 = cells.get(2)?.parse().ok()?;
            Some((code.to_owned(), status))
        })
        .collect()
}

#[test]
fn every_code_has_the_spec_status() {
    // The server's one table and the spec's table say the same thing, both ways.
    let spec = spec_table();
    for (name, status) in &spec {
        let code = Code::from_name(name).unwrap_or_else(|| panic!("{name} is not a code"));
        assert_eq!(code.as_str(), name);
        assert_eq!(code.status(), *status, "{name}");
    }
    for code in Code::ALL {
        assert!(
            spec.iter().any(|(name, _)| name == code.as_str()),
            "{} is missing from the error table of spec/PROTOCOL.md",
            code.as_str()
        );
    }
}

#[test]
fn every_protocol_code_is_in_the_table() {
    let spec = spec_table();
    for code in ErrorCode::ALL {
        assert!(
            Code::ALL.contains(&Code::Protocol(code)),
            "{code} is missing from Code::ALL"
        );
        assert!(
            spec.iter().any(|(name, _)| name == code.as_str()),
            "{code} is missing from the spec table"
        );
    }
}

#[test]
fn codes_are_unique() {
    let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Code::ALL.len());
}

#[tokio::test]
async fn every_rejection_is_problem_json() {
    let rejections = [
        Rejection::verification(Error::Expired {
            exp: Some(10),
            now: 100,
        }),
        Rejection::verification(Error::InvalidKey {
            reason: "x".to_owned(),
        }),
        Rejection::body_too_large(1024),
        Rejection::malformed_body("bad"),
        Rejection::missing_token(),
        Rejection::unsupported_media_type(),
        Rejection::bad_input("does not fit"),
        Rejection::unbound_action(),
        Rejection::mint(Error::InvalidKey {
            reason: "no active key".to_owned(),
        }),
    ];
    for rejection in rejections {
        let code = rejection.code();
        let response = rejection.into_response();
        assert_eq!(response.status(), code.status());
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let problem: Problem = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(problem.code, code.as_str());
        assert_eq!(problem.status, code.status());
        assert_eq!(problem.title, code.title());
        assert_eq!(
            problem.type_,
            format!("https://tessera.invalid/problems/{code}")
        );
    }
}

#[test]
fn mint_failure_hides_its_cause_from_the_client() {
    let rejection = Rejection::mint(Error::InvalidKey {
        reason: "key file /etc/secret/keys.json: unreadable".to_owned(),
    });
    assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(rejection.cause(), Some(ErrorCode::InvalidKey));
    assert!(!rejection.detail().contains("/etc/secret"));
    assert!(!rejection.problem().detail.contains("/etc/secret"));
}
