//! `tessera inspect`: decode a token without verifying it, and say so.

use serde_json::Value;
use tessera_protocol::dangerous::decode_unverified;
use tessera_protocol::{Clock as _, SystemClock};

use crate::failure::{Failure, print};
use crate::{input, safe, time};

/// Decode a token WITHOUT verifying it: header and claims pretty-printed, times as dates and
/// relative to now. Nothing shown is checked or trustworthy; use `tessera verify` for that.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Show times relative to this instant (seconds since the epoch) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// The token, or `-` (or nothing) to read it from stdin. Surrounding whitespace is ignored.
    #[arg(value_name = "TOKEN|-")]
    token: Option<String>,
}

const BANNER: &str = "UNVERIFIED: this token was decoded, NOT verified. Its signature, expiry, \
issuer and audience have not been checked, so anything below may be forged. Do not trust or act \
on it; use `tessera verify` for that.";

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let token = input::token(args.token.as_deref())?;
    let decoded = decode_unverified(&token)?;
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    let mut out = vec![BANNER.to_owned(), String::new()];
    // A repeated member shows only its last value below; say so loudly.
    let segments: Vec<&str> = token.split('.').collect();
    let mut parts = vec![("header repeats", segments[0])];
    if decoded.claims.is_some() {
        parts.push(("claims repeat", segments[1]));
    }
    for (part, segment) in parts {
        let repeated = repeated_members(segment);
        if !repeated.is_empty() {
            out.push(format!(
                "WARNING: the {part} the member(s) {}: only the last value of each is \
                 shown below, and every verifier refuses such a token as malformed.",
                safe::text(&repeated.join(", "))
            ));
            out.push(String::new());
        }
    }
    out.push("header (unverified):".to_owned());
    out.push(safe::json(&decoded.header));
    if decoded.claims.is_none() {
        out.push(
            "claims: sealed (encrypted); only the header is readable without the key".to_owned(),
        );
    }
    if let Some(claims) = &decoded.claims {
        out.push("claims (unverified):".to_owned());
        out.push(safe::json(claims));
        let times = times(claims, now);
        if !times.is_empty() {
            out.push(format!("times (now is {}):", time::date(now)));
            out.extend(times);
        }
    }
    print(&out.join("\n"))
}

fn times(claims: &Value, now: u64) -> Vec<String> {
    let at = |name: &str| claims.get(name).and_then(Value::as_u64);
    let mut lines = Vec::new();
    if let Some(iat) = at("iat") {
        lines.push(format!(
            "  issued     {}  ({})",
            time::date(iat),
            time::relative(iat, now)
        ));
    }
    if let Some(nbf) = at("nbf") {
        lines.push(format!(
            "  not before {}  ({})",
            time::date(nbf),
            time::relative(nbf, now)
        ));
    }
    if let Some(exp) = at("exp") {
        let when = if exp > now {
            format!("expires in {}", time::human(exp - now))
        } else {
            format!("expired {} ago", time::human(now - exp))
        };
        lines.push(format!("  expires    {}  ({when})", time::date(exp)));
    }
    lines
}

/// The members repeated within one JSON object anywhere in a token segment (base64url JSON),
/// as JSON Pointers. A segment that cannot be read yields none (the decoder has already judged
/// it).
fn repeated_members(segment: &str) -> Vec<String> {
    use base64::Engine as _;

    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment) else {
        return Vec::new();
    };
    tessera_protocol::json_rules::repeated_members(&bytes)
}
