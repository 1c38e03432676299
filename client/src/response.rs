//! Reading a host's answers: a bounded body, the worker header, and a refusal's problem body.

use reqwest::Response;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::Value;

use crate::error::{ClientError, Code, Problem};

/// The header naming the worker process that served a response.
pub const WORKER_HEADER: &str = "Tessera-Worker";
/// The largest response body the client reads, in bytes: 1 MiB.
pub const MAX_RESPONSE_LEN: usize = 1024 * 1024;

pub(crate) fn worker_of(response: &Response) -> Option<String> {
    response
        .headers()
        .get(WORKER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Reads the body of a 2xx response, or turns an error status into a [`ClientError`].
pub(crate) async fn read_success(response: Response) -> Result<Vec<u8>, ClientError> {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.split(';').next().unwrap_or("").trim();
            ct.eq_ignore_ascii_case("application/problem+json")
                || ct.eq_ignore_ascii_case("application/json")
        });
    let location = if status.is_redirection() {
        response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    } else {
        None
    };
    let body = read_bounded(response).await?;
    if status.is_success() {
        return Ok(body);
    }
    let mut detail = None;
    if is_json {
        match parse_problem(status.as_u16(), &body) {
            Some(Ok(problem)) => return Err(ClientError::Rejected(problem)),
            Some(Err(text)) => detail = text,
            None => {}
        }
    }
    Err(ClientError::Status {
        status: status.as_u16(),
        detail,
        location,
    })
}

async fn read_bounded(mut response: Response) -> Result<Vec<u8>, ClientError> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_LEN as u64)
    {
        return Err(ClientError::invalid_response(format!(
            "the response body is longer than {MAX_RESPONSE_LEN} bytes"
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE_LEN {
            return Err(ClientError::invalid_response(format!(
                "the response body is longer than {MAX_RESPONSE_LEN} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A problem+json body: `Ok` with a string `code`; else `Err` with its `detail` (else `title`),
/// if any; `None` when the body is not a JSON object.
fn parse_problem(status: u16, body: &[u8]) -> Option<Result<Problem, Option<String>>> {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let (title, detail) = (text("title"), text("detail"));
    Some(match text("code") {
        Some(code) => Ok(Problem {
            status,
            code: Code::parse(&code),
            title,
            detail,
        }),
        None => Err(detail.or(title)),
    })
}
