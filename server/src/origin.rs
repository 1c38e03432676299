//! The cross-origin policy of action requests (spec §11.13): which browser requests from
//! pages of other origins are refused.

use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

use crate::rejection::Rejection;

/// The fetch-metadata header a browser sends with the site a request comes from.
const SEC_FETCH_SITE: header::HeaderName = header::HeaderName::from_static("sec-fetch-site");

/// The origins a state trusts besides the request's own, and the rule that refuses the rest
/// (see [`TesseraState::check_origin`](crate::TesseraState::check_origin)).
#[derive(Clone, Debug)]
pub(crate) struct OriginPolicy {
    trusted: Vec<String>,
    /// The scheme browsers reach this server by, when the request does not say (an HTTP/1
    /// request's target has none): `http`, or `https` behind a TLS-terminating proxy.
    scheme: &'static str,
}

impl OriginPolicy {
    /// A policy trusting `trusted`, or the first entry that is not an origin (see
    /// [`is_origin`]).
    pub(crate) fn new(trusted: Vec<String>, scheme: &'static str) -> Result<OriginPolicy, String> {
        match trusted.iter().find(|o| !is_origin(o)) {
            Some(bad) => Err(bad.clone()),
            None => Ok(OriginPolicy { trusted, scheme }),
        }
    }

    /// `Ok` for a request the policy lets through, `cross_origin` (403) otherwise.
    pub(crate) fn check(&self, parts: &Parts) -> Result<(), Rejection> {
        let headers = &parts.headers;
        let origin = headers.get(header::ORIGIN);
        let trusted =
            || origin.is_some_and(|o| self.trusted.iter().any(|t| t.as_bytes() == o.as_bytes()));
        if let Some(site) = headers.get(SEC_FETCH_SITE) {
            return match site.as_bytes() {
                b"same-origin" | b"none" => Ok(()),
                _ if trusted() => Ok(()),
                _ => Err(Rejection::cross_origin(
                    "the browser sent this request from a page of another site",
                )),
            };
        }
        let Some(origin) = origin else {
            return Ok(());
        };
        // The request's own host: its `Host` header, or (HTTP/2, which has none) the
        // authority of its URI.
        let host = headers
            .get(header::HOST)
            .map(HeaderValue::as_bytes)
            .or_else(|| parts.uri.authority().map(|a| a.as_str().as_bytes()));
        // ... and its scheme: the request's own (HTTP/2, an absolute target), else the one the
        // server was configured with. A page of `https://host` is not `http://host`'s.
        let scheme = parts.uri.scheme_str().unwrap_or(self.scheme);
        let own_host = host.is_some_and(|host| {
            origin
                .as_bytes()
                .strip_prefix(scheme.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"://"))
                .is_some_and(|origin_host| origin_host == host)
        });
        if own_host || trusted() {
            Ok(())
        } else {
            Err(Rejection::cross_origin(
                "the request's Origin is not this host's",
            ))
        }
    }
}

/// Whether `text` is an origin as browsers write it in `Origin`: `scheme://host` or
/// `scheme://host:port`, lowercase, the port a number of 1 to 65535 and not the scheme's
/// default (browsers leave `:443` and `:80` out), nothing after it. Anything else could never
/// match a browser's `Origin`, so a typo would silently trust nothing.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
    // An IPv6 literal keeps its colons inside brackets.
    let (host, port) = match rest.rfind(':') {
        Some(at) if !rest[at..].contains(']') => (&rest[..at], Some(&rest[at + 1..])),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.[]:".contains(&b));
    let port_ok = match port {
        None => true,
        Some(port) => {
            let default = match scheme {
                "https" => Some(443),
                "http" => Some(80),
                _ => None,
            };
            port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port
                    .parse::<u32>()
                    .is_ok_and(|p| (1..=65535).contains(&p) && Some(p) != default)
        }
    };
    scheme_ok && host_ok && port_ok
}
