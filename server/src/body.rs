//! Reading an action request's body (spec §8.1): its size cap, its media type, the token in
//! exactly one place, and the input kept raw until the token has verified.

use std::borrow::Cow;
use std::collections::HashSet;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::http::HeaderName;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tessera_protocol::json_rules::{self, JsonRuleError};
use tessera_protocol::wire::{TOKEN_FIELD, TOKEN_HEADER};

use crate::form::FormInput;
use crate::rejection::Rejection;

/// [`TOKEN_HEADER`] as a header name (looked up without parsing the name each time).
const TOKEN_HEADER_NAME: HeaderName = HeaderName::from_static(TOKEN_HEADER);

/// The token and input found in a body.
pub(crate) struct Envelope<'a> {
    pub(crate) token: Option<Cow<'a, str>>,
    pub(crate) input: RawInput<'a>,
}

pub(crate) enum RawInput<'a> {
    /// No input: deserialized from JSON `null`.
    None,
    /// Borrowed from the request body, to be typed after the token verified, under the JSON
    /// rules.
    Json(&'a RawValue),
    /// The form pairs other than the token (at least one), re-encoded.
    Form(String),
    /// Form fields of which one is not UTF-8 once percent-decoded: refused as `bad_input`
    /// once the token has verified (never read with U+FFFD in its place, as a JSON input with
    /// a lone surrogate is refused).
    FormNotUtf8,
}

impl RawInput<'_> {
    pub(crate) fn parse<I: DeserializeOwned>(self) -> Result<I, Rejection> {
        match self {
            // The `null` is ours, not the client's: no position to report in it.
            RawInput::None => serde_json::from_str("null")
                .map_err(|_| Rejection::bad_input("input is required, and none was sent")),
            RawInput::Json(raw) => json_rules::from_str(raw.get()).map_err(|e| match e {
                JsonRuleError::Rule(rule) => Rejection::bad_input(format!("the input {rule}")),
                JsonRuleError::DoesNotFit(reason) => {
                    Rejection::bad_input(format!("input does not fit: {reason}"))
                }
            }),
            RawInput::Form(text) => {
                // A repeated name, which a proxy in front and the handler could read
                // differently (serde_urlencoded keeps the last value for a map or a `Value`),
                // is refused, as a repeated member of a JSON input is.
                let mut names = HashSet::new();
                if !form_urlencoded::parse(text.as_bytes()).all(|(name, _)| names.insert(name)) {
                    return Err(Rejection::bad_input("the form repeats a field name"));
                }
                I::deserialize(FormInput(serde_urlencoded::Deserializer::new(
                    form_urlencoded::parse(text.as_bytes()),
                )))
                .map_err(|_| Rejection::bad_input("the form fields do not fit the action's input"))
            }
            RawInput::FormNotUtf8 => Err(Rejection::bad_input(
                "a form field name or value is not UTF-8 once percent-decoded",
            )),
        }
    }
}

/// A JSON body `{"token": ..., "input": ...}`, with the input kept raw (borrowed from the
/// body), so that it is typed, and a bad one reported, only after the token verified.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEnvelope<'a> {
    #[serde(borrow, default)]
    token: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
}

pub(crate) fn header_token(headers: &HeaderMap) -> Result<Option<String>, Rejection> {
    let mut values = headers.get_all(TOKEN_HEADER_NAME).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        // `HeaderValue::to_str` lets space and tab through; a token has neither.
        (Some(value), None) => match value.to_str() {
            Ok(token) if token.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(token.to_owned())),
            _ => Err(Rejection::malformed_body(
                "the Tessera-Token header is not visible ASCII",
            )),
        },
        (Some(_), Some(_)) => Err(Rejection::malformed_body(
            "the Tessera-Token header appears more than once",
        )),
    }
}

/// Refuses a body whose `Content-Length` exceeds `limit`, before reading anything of it.
pub(crate) fn check_content_length(headers: &HeaderMap, limit: usize) -> Result<(), Rejection> {
    if let Some(value) = headers.get(CONTENT_LENGTH) {
        let len = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                Rejection::malformed_body("the Content-Length header is not a number")
            })?;
        if len > limit as u64 {
            return Err(Rejection::body_too_large(limit));
        }
    }
    Ok(())
}

/// Reads the body, refusing it as soon as it exceeds `limit` while streaming (a body without
/// a length, or a lying one). [`check_content_length`] has checked the announced length.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, Rejection> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if is_length_limit(&*err) => Err(Rejection::body_too_large(limit)),
        Err(_) => Err(Rejection::malformed_body(
            "the request body could not be read",
        )),
    }
}

fn is_length_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}

pub(crate) enum BodyKind {
    Json,
    Form,
    Other,
    /// More than one `Content-Type` header: which one describes the body is a guess, so the
    /// body is refused as `malformed` (as a repeated token header or JSON member is).
    Repeated,
}

pub(crate) fn body_kind(headers: &HeaderMap) -> BodyKind {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (first, second) = (values.next(), values.next());
    if second.is_some() {
        return BodyKind::Repeated;
    }
    let Some(value) = first.and_then(|v| v.to_str().ok()) else {
        return BodyKind::Other;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    // Media types compare case-insensitively (RFC 9110 §8.3.1).
    let has_prefix = |prefix: &str| {
        essence
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    let has_suffix = |suffix: &str| {
        essence
            .len()
            .checked_sub(suffix.len())
            .and_then(|at| essence.get(at..))
            .is_some_and(|s| s.eq_ignore_ascii_case(suffix))
    };
    if essence.eq_ignore_ascii_case("application/json")
        || (has_prefix("application/") && has_suffix("+json"))
    {
        BodyKind::Json
    } else if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else {
        BodyKind::Other
    }
}

pub(crate) fn parse_body(kind: BodyKind, bytes: &Bytes) -> Result<Envelope<'_>, Rejection> {
    if bytes.is_empty() {
        return Ok(Envelope {
            token: None,
            input: RawInput::None,
        });
    }
    match kind {
        BodyKind::Json => parse_json(bytes),
        BodyKind::Form => parse_form(bytes),
        BodyKind::Other => Err(Rejection::unsupported_media_type()),
        BodyKind::Repeated => Err(Rejection::malformed_body(
            "the Content-Type header appears more than once",
        )),
    }
}

/// A JSON body: the token, and the input kept raw.
fn parse_json(bytes: &Bytes) -> Result<Envelope<'_>, Rejection> {
    let not_the_object = || {
        Rejection::malformed_body(
            "the JSON body is not an object of \"token\" (a string) and \"input\"",
        )
    };
    // serde would also fill the envelope from an array of its values (`["<token>", {...}]`),
    // which a proxy that inspects `.token` or `.input` reads as something else (spec §8.1).
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err(not_the_object());
    }
    let envelope: JsonEnvelope<'_> = serde_json::from_slice(bytes).map_err(|_| not_the_object())?;
    Ok(Envelope {
        token: envelope.token,
        // `null` counts as no input: both are typed from `null` ("input is required" if refused).
        input: envelope
            .input
            .filter(|raw| raw.get() != "null")
            .map_or(RawInput::None, RawInput::Json),
    })
}

/// A urlencoded form body: the field `tessera_token`, and the other fields as the input.
fn parse_form(bytes: &Bytes) -> Result<Envelope<'_>, Rejection> {
    let mut token = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    let mut fields = 0usize;
    let mut not_utf8 = false;
    for (raw, (name, value)) in bytes
        .split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .zip(form_urlencoded::parse(bytes))
    {
        // form_urlencoded decodes bytes that are not UTF-8 as U+FFFD: look at them first.
        if !decodes_to_utf8(raw) {
            if name == TOKEN_FIELD {
                return Err(Rejection::malformed_body(
                    "the form field tessera_token is not UTF-8 once percent-decoded",
                ));
            }
            not_utf8 = true;
        }
        if name == TOKEN_FIELD {
            if token.is_some() {
                return Err(Rejection::malformed_body(
                    "the form field tessera_token appears more than once",
                ));
            }
            token = Some(Cow::Owned(value.into_owned()));
        } else {
            rest.append_pair(&name, &value);
            fields += 1;
        }
    }
    Ok(Envelope {
        token,
        // No field besides the token: no input, as with a JSON body without "input".
        input: if not_utf8 {
            RawInput::FormNotUtf8
        } else if fields == 0 {
            RawInput::None
        } else {
            RawInput::Form(rest.finish())
        },
    })
}

/// Whether a form pair (`name=value`, urlencoded) is UTF-8 once its `+` and `%XX` escapes are
/// decoded (an escape that is not one is kept as is, as form_urlencoded does).
fn decodes_to_utf8(pair: &[u8]) -> bool {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut decoded = Vec::with_capacity(pair.len());
    let mut i = 0;
    while i < pair.len() {
        match pair[i] {
            b'%' => match (
                pair.get(i + 1).and_then(|&b| hex(b)),
                pair.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits make one byte.
                    decoded.push(u8::try_from(hi * 16 + lo).unwrap_or(0));
                    i += 3;
                    continue;
                }
                _ => decoded.push(b'%'),
            },
            b'+' => decoded.push(b' '),
            b => decoded.push(b),
        }
        i += 1;
    }
    // Name and value are checked together: '=' is ASCII and cannot end a UTF-8 sequence.
    std::str::from_utf8(&decoded).is_ok()
}
