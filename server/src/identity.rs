//! Who is calling: the pluggable [`IdentitySource`] that names the current principal, checked
//! as the token's subject (`sub`) on every action and written into every minted button.
//!
//! A source reads the request head only ([`Parts`]), synchronously. An application whose
//! identity needs I/O (a session store) resolves it in a middleware, inserts the [`Principal`]
//! into the request extensions and uses [`ExtensionIdentity`].

use std::borrow::Cow;
use std::fmt;

use axum::http::header::{COOKIE, HeaderName};
use axum::http::request::Parts;
use tessera_protocol::Principal;

use crate::rejection::Rejection;

/// Names the principal of a request from its head, or `None` for an anonymous caller.
///
/// The action extractor expects the token's `sub` to equal the principal; for an anonymous
/// caller it accepts only tokens minted without a subject.
///
/// Closures `Fn(&Parts) -> Option<Principal>` are identity sources too. The principal must
/// come from something the server established (its session, a header its proxy sets), never
/// from what the client writes freely: the token's subject binding (spec §11.12) is only as
/// strong as this. Here, the session middleware's user, put in the request's extensions:
///
/// ```
/// use axum::http::{Request, request::Parts};
/// use tessera_server::{IdentitySource, Principal};
///
/// /// What the app's authentication middleware inserts after checking the session.
/// #[derive(Clone)]
/// struct SessionUser(String);
///
/// let from_session = |parts: &Parts| {
///     parts.extensions.get::<SessionUser>().and_then(|u| Principal::parse(&u.0))
/// };
/// let mut request = Request::get("/").body(()).unwrap();
/// request.extensions_mut().insert(SessionUser("bob".to_owned()));
/// let (parts, ()) = request.into_parts();
/// assert_eq!(from_session.identify(&parts), Some(Principal::new("bob")));
/// ```
pub trait IdentitySource: Send + Sync + 'static {
    /// The principal of this request, or `None` if there is none.
    fn identify(&self, parts: &Parts) -> Option<Principal>;

    /// Like [`identify`](IdentitySource::identify), but a request that carries this source's
    /// credential in a form it cannot use (a repeated header, a value that is not a valid
    /// principal) is refused instead of counted as nobody: the [`Action`](crate::Action) and
    /// [`Caller`](crate::Caller) extractors answer it with `bad_identity` (400), and [`or`](IdentitySource::or)
    /// does not fall back to the next source. The default never refuses.
    ///
    /// ```
    /// use axum::http::{HeaderName, Request};
    /// use tessera_server::{HeaderIdentity, IdentitySource, Principal};
    /// let source = HeaderIdentity::new(HeaderName::from_static("x-remote-user"));
    /// let (parts, ()) = Request::get("/").header("x-remote-user", "alice")
    ///     .header("x-remote-user", "mallory").body(()).unwrap().into_parts();
    /// assert!(source.check(&parts).is_err());
    /// assert_eq!(source.identify(&parts), None);
    /// ```
    fn check(&self, parts: &Parts) -> Result<Option<Principal>, BadIdentity> {
        Ok(self.identify(parts))
    }

    /// Tries `self`, then `other` when `self` finds nobody. When `self` refuses the request
    /// ([`check`](IdentitySource::check): its credential is present but unusable), `other` is
    /// not asked: a client that adds a second copy of a header your proxy sets does not get
    /// the identity of a later source it controls (a cookie).
    ///
    /// ```
    /// use axum::http::{HeaderName, Request};
    /// use tessera_server::{CookieIdentity, FixedIdentity, HeaderIdentity, IdentitySource, Principal};
    ///
    /// let source = HeaderIdentity::new(HeaderName::from_static("x-demo-user"))
    ///     .or(CookieIdentity::new("demo_user"))
    ///     .or(FixedIdentity::new(Principal::new("guest")));
    /// let (parts, ()) = Request::get("/").header("cookie", "a=1; demo_user=carol")
    ///     .body(()).unwrap().into_parts();
    /// assert_eq!(source.identify(&parts), Some(Principal::new("carol")));
    /// let (parts, ()) = Request::get("/").body(()).unwrap().into_parts();
    /// assert_eq!(source.identify(&parts), Some(Principal::new("guest")));
    /// ```
    fn or<B: IdentitySource>(self, other: B) -> Or<Self, B>
    where
        Self: Sized,
    {
        Or(self, other)
    }
}

impl<F> IdentitySource for F
where
    F: Fn(&Parts) -> Option<Principal> + Send + Sync + 'static,
{
    fn identify(&self, parts: &Parts) -> Option<Principal> {
        self(parts)
    }
}

/// Nobody: every caller is anonymous, so only tokens minted without a subject are accepted.
/// The default identity source of a [`TesseraState`](crate::TesseraState).
///
/// ```
/// use axum::http::Request;
/// use tessera_server::{Anonymous, IdentitySource};
/// let (parts, ()) = Request::get("/").body(()).unwrap().into_parts();
/// assert_eq!(Anonymous.identify(&parts), None);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Anonymous;

impl IdentitySource for Anonymous {
    fn identify(&self, _parts: &Parts) -> Option<Principal> {
        None
    }
}

/// Always the same principal (a fallback such as `guest`, or a single-user tool).
///
/// ```
/// use axum::http::Request;
/// use tessera_server::{FixedIdentity, IdentitySource, Principal};
/// let (parts, ()) = Request::get("/").body(()).unwrap().into_parts();
/// let guest = FixedIdentity::new(Principal::new("guest"));
/// assert_eq!(guest.identify(&parts), Some(Principal::new("guest")));
/// ```
#[derive(Clone, Debug)]
pub struct FixedIdentity(Principal);

impl FixedIdentity {
    /// A source that always names `principal`.
    pub fn new(principal: Principal) -> FixedIdentity {
        FixedIdentity(principal)
    }
}

impl IdentitySource for FixedIdentity {
    fn identify(&self, _parts: &Parts) -> Option<Principal> {
        Some(self.0.clone())
    }
}

/// Reads the principal from a request header, e.g. `X-Demo-User` (or `X-Remote-User` behind
/// an authenticating proxy). A missing header names nobody, or the default principal when one
/// is set; a repeated or invalid one (see [`Principal::parse`]) is refused by
/// [`check`](IdentitySource::check) (`bad_identity`), and names nobody for
/// [`identify`](IdentitySource::identify).
///
/// **Only trust a header that your own proxy sets**: anyone can send any header to a server
/// reached directly.
///
/// ```
/// use axum::http::{HeaderName, Request};
/// use tessera_server::{HeaderIdentity, IdentitySource, Principal};
///
/// let source = HeaderIdentity::new(HeaderName::from_static("x-demo-user"))
///     .with_default(Principal::new("guest"));
/// let (parts, ()) = Request::get("/").header("x-demo-user", "alice").body(()).unwrap().into_parts();
/// assert_eq!(source.identify(&parts), Some(Principal::new("alice")));
/// let (parts, ()) = Request::get("/").body(()).unwrap().into_parts();
/// assert_eq!(source.identify(&parts), Some(Principal::new("guest")));
/// ```
#[derive(Clone, Debug)]
pub struct HeaderIdentity {
    name: HeaderName,
    default: Option<Principal>,
}

impl HeaderIdentity {
    /// Reads the header `name`. Without [`HeaderIdentity::with_default`], a request without
    /// it is anonymous.
    pub fn new(name: HeaderName) -> HeaderIdentity {
        HeaderIdentity {
            name,
            default: None,
        }
    }

    /// The principal of a request without the header. Defaults to none (anonymous).
    pub fn with_default(mut self, principal: Principal) -> HeaderIdentity {
        self.default = Some(principal);
        self
    }

    /// The header read.
    pub fn header(&self) -> &HeaderName {
        &self.name
    }
}

impl IdentitySource for HeaderIdentity {
    fn identify(&self, parts: &Parts) -> Option<Principal> {
        self.check(parts).ok().flatten()
    }

    fn check(&self, parts: &Parts) -> Result<Option<Principal>, BadIdentity> {
        let mut values = parts.headers.get_all(&self.name).iter();
        match (values.next(), values.next()) {
            (None, _) => Ok(self.default.clone()),
            (Some(value), None) => value
                .to_str()
                .ok()
                .and_then(Principal::parse)
                .map(Some)
                .ok_or_else(|| {
                    BadIdentity::new(format!("the {} header is not a valid user name", self.name))
                }),
            (Some(_), Some(_)) => Err(BadIdentity::new(format!(
                "the {} header is repeated",
                self.name
            ))),
        }
    }
}

/// Reads the principal from a cookie, e.g. `demo_user=alice`. A missing cookie names nobody;
/// a repeated or invalid one (a value of other bytes than RFC 6265's cookie-octets: visible
/// ASCII but `"` `,` `;` `\`) is refused by [`check`](IdentitySource::check) (`bad_identity`),
/// and names nobody for [`identify`](IdentitySource::identify).
///
/// Like a header, a plain cookie is whatever the browser sends: use it for demos, or put a
/// value your app has authenticated in it.
///
/// ```
/// use axum::http::Request;
/// use tessera_server::{CookieIdentity, IdentitySource, Principal};
/// let source = CookieIdentity::new("demo_user");
/// let (parts, ()) = Request::get("/").header("cookie", "theme=dark; demo_user=alice")
///     .body(()).unwrap().into_parts();
/// assert_eq!(source.identify(&parts), Some(Principal::new("alice")));
/// ```
#[derive(Clone, Debug)]
pub struct CookieIdentity {
    name: String,
}

impl CookieIdentity {
    /// Reads the cookie `name`.
    pub fn new(name: impl Into<String>) -> CookieIdentity {
        CookieIdentity { name: name.into() }
    }
}

impl IdentitySource for CookieIdentity {
    fn identify(&self, parts: &Parts) -> Option<Principal> {
        self.check(parts).ok().flatten()
    }

    fn check(&self, parts: &Parts) -> Result<Option<Principal>, BadIdentity> {
        let mut found = None;
        for header in parts.headers.get_all(COOKIE) {
            // Cookie text is bytes: the name is looked for in them as they are.
            for pair in header.as_bytes().split(|&b| b == b';') {
                let pair = pair.trim_ascii();
                let Some(at) = pair.iter().position(|&b| b == b'=') else {
                    continue;
                };
                let (name, value) = (&pair[..at], &pair[at + 1..]);
                if name != self.name.as_bytes() {
                    continue;
                }
                if found.is_some() {
                    // Two cookies of the same name: ambiguous.
                    return Err(BadIdentity::new(format!(
                        "the {} cookie is repeated",
                        self.name
                    )));
                }
                let value = value
                    .strip_prefix(b"\"")
                    .and_then(|v| v.strip_suffix(b"\""))
                    .unwrap_or(value);
                // RFC 6265 cookie-octets only: visible ASCII but `"` `,` `;` `\` (nothing
                // invisible, so `bob` and `bob` with a zero-width space are never two users that
                // look alike).
                let octets = value
                    .iter()
                    .all(|&b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\'));
                let principal = std::str::from_utf8(value)
                    .ok()
                    .filter(|_| octets)
                    .and_then(Principal::parse)
                    .ok_or_else(|| {
                        BadIdentity::new(format!(
                            "the {} cookie is not a valid user name",
                            self.name
                        ))
                    })?;
                found = Some(principal);
            }
        }
        Ok(found)
    }
}

/// Reads a [`Principal`] that a middleware inserted into the request extensions (the way to
/// plug in an asynchronous session lookup).
///
/// ```
/// use axum::http::Request;
/// use tessera_server::{ExtensionIdentity, IdentitySource, Principal};
/// let mut request = Request::get("/").body(()).unwrap();
/// request.extensions_mut().insert(Principal::new("user:42"));
/// let (parts, ()) = request.into_parts();
/// assert_eq!(ExtensionIdentity.identify(&parts), Some(Principal::new("user:42")));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtensionIdentity;

impl IdentitySource for ExtensionIdentity {
    fn identify(&self, parts: &Parts) -> Option<Principal> {
        parts.extensions.get::<Principal>().cloned()
    }
}

/// Two sources, tried in order; see [`IdentitySource::or`].
#[derive(Clone, Debug)]
pub struct Or<A, B>(A, B);

impl<A: IdentitySource, B: IdentitySource> IdentitySource for Or<A, B> {
    fn identify(&self, parts: &Parts) -> Option<Principal> {
        self.check(parts).ok().flatten()
    }

    fn check(&self, parts: &Parts) -> Result<Option<Principal>, BadIdentity> {
        match self.0.check(parts)? {
            Some(principal) => Ok(Some(principal)),
            None => self.1.check(parts),
        }
    }
}

/// Why an [`IdentitySource`] refused a request: its credential is present but unusable. Sent
/// as `bad_identity` (400); the reason names the header or cookie, never its value.
///
/// ```
/// use tessera_server::{BadIdentity, Code, Rejection};
/// let refused = BadIdentity::new("the x-remote-user header is repeated");
/// assert_eq!(refused.reason(), "the x-remote-user header is repeated");
/// assert_eq!(Rejection::from(refused).code(), Code::BadIdentity);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadIdentity {
    reason: Cow<'static, str>,
}

impl BadIdentity {
    /// A refusal for `reason` (which must not quote the credential).
    pub fn new(reason: impl Into<Cow<'static, str>>) -> BadIdentity {
        BadIdentity {
            reason: reason.into(),
        }
    }

    /// What is wrong with the credential.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for BadIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for BadIdentity {}

impl From<BadIdentity> for Rejection {
    fn from(refused: BadIdentity) -> Rejection {
        Rejection::bad_identity(refused.reason)
    }
}
