//! The status table: every code's status as the spec lists it, every protocol code covered,
//! and the problem+json body of each.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use tessera_protocol::{Error, ErrorCode};
use tessera_server::{Code, Problem, Rejection};

/// The HTTP binding as spec/PROTOCOL.md and FORMAT.md list it, plus the server's own codes.
const SPEC: &[(&str, u16)] = &[
    ("malformed", 400),
    ("too_large", 413),
    ("unsupported_algorithm", 401),
    ("unknown_key", 401),
    ("bad_signature", 401),
    ("expired", 401),
    ("not_yet_valid", 401),
    ("lifetime_too_long", 401),
    ("wrong_issuer", 403),
    ("wrong_audience", 403),
    ("wrong_subject", 403),
    ("bad_payload", 422),
    ("invalid_key", 500),
    ("invalid_config", 500),
    ("missing_token", 400),
    ("unsupported_media_type", 415),
    ("bad_input", 422),
    ("unbound_action", 500),
    ("mint_failed", 500),
];

#[test]
fn every_code_has_the_spec_status() {
    assert_eq!(Code::ALL.len(), SPEC.len());
    for (name, status) in SPEC {
        let code = Code::from_name(name).unwrap_or_else(|| panic!("{name} is not a code"));
        assert_eq!(code.as_str(), *name);
        assert_eq!(code.status().as_u16(), *status, "{name}");
    }
}

#[test]
fn every_protocol_code_is_in_the_table() {
    for code in ErrorCode::ALL {
        assert!(
            Code::ALL.contains(&Code::Protocol(code)),
            "{code} is missing from Code::ALL"
        );
        assert!(
            SPEC.iter().any(|(name, _)| *name == code.as_str()),
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
        Rejection::verification(Error::Expired { exp: 10, now: 100 }),
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
        assert_eq!(problem.status, code.status().as_u16());
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
