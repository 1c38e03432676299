//! Configuring a [`Client`](crate::Client): the host, the demo user, timeouts, retries.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::client::{Client, without_password};
use crate::error::ClientError;

/// The header the demo host reads its user from (no header means user `guest`).
pub const USER_HEADER: &str = "X-Demo-User";
/// The default timeout of one request: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Configures a [`Client`]; see [`Client::builder`].
///
/// `Debug` does not print a password the base URL carries.
#[must_use = "a builder does nothing until .build()"]
pub struct ClientBuilder {
    pub(crate) base: String,
    pub(crate) user: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) retry_expired: bool,
    pub(crate) not_safe: HashSet<String>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base = match Url::parse(&self.base) {
            Ok(url) => without_password(&url),
            // Not a URL (build() will say so): show nothing of it that could be a secret.
            Err(_) => format!("<{} bytes, not a URL>", self.base.len()),
        };
        f.debug_struct("ClientBuilder")
            .field("base", &base)
            .field("user", &self.user)
            .field("timeout", &self.timeout)
            .field("retry_expired", &self.retry_expired)
            .field("not_safe", &self.not_safe)
            .finish()
    }
}

impl ClientBuilder {
    /// Sends `user` as the [`USER_HEADER`] on every request, the way the demo host identifies
    /// its user. Defaults to no header (the demo host's `guest`). [`ClientBuilder::build`]
    /// refuses a name the host would refuse (spec §8.5: empty, over 256 bytes, not printable
    /// ASCII, or with whitespace around it — HTTP drops that whitespace, so `" alice"` would
    /// otherwise act as `alice`).
    ///
    /// ```
    /// use tessera_client::Client;
    /// assert!(Client::builder("http://127.0.0.1:8080").user("Dora Smith").build().is_ok());
    /// let err = Client::builder("http://127.0.0.1:8080").user(" alice").build().unwrap_err();
    /// assert_eq!(err.machine_code(), "config");
    /// ```
    pub fn user(mut self, user: impl Into<String>) -> ClientBuilder {
        self.user = Some(user.into());
        self
    }

    /// The timeout of each request (connect to last byte), at least one millisecond (a zero
    /// timeout is a [`ClientError::Config`] at [`ClientBuilder::build`]). Defaults to 30 seconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tessera_client::Client;
    /// assert!(Client::builder("http://127.0.0.1:8080").timeout(Duration::from_secs(5)).build().is_ok());
    /// let err = Client::builder("http://127.0.0.1:8080").timeout(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(err.machine_code(), "config");
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// When a click comes back `expired`, fetch the plugin's panels again and click the same
    /// action once more with its fresh token. Never for actions marked with
    /// [`ClientBuilder::not_safe_to_repeat`]. Defaults to `false`.
    pub fn retry_expired(mut self, retry: bool) -> ClientBuilder {
        self.retry_expired = retry;
        self
    }

    /// Marks an action as not safe to repeat: an `expired` click on it is returned as an error
    /// and never retried, so the user decides again on a fresh panel. Defaults to no action.
    ///
    /// ```
    /// use tessera_client::Client;
    /// let client = Client::builder("http://127.0.0.1:8080")
    ///     .retry_expired(true)
    ///     .not_safe_to_repeat("plugin:stock-tools/action:confirm-transfer")
    ///     .build()?;
    /// assert!(client.will_retry("plugin:stock-tools/action:transfer"));
    /// assert!(!client.will_retry("plugin:stock-tools/action:confirm-transfer"));
    /// # Ok::<(), tessera_client::ClientError>(())
    /// ```
    pub fn not_safe_to_repeat(mut self, action: impl Into<String>) -> ClientBuilder {
        self.not_safe.insert(action.into());
        self
    }

    /// Builds the client. Fails with [`ClientError::Config`] on a base URL that is not an
    /// absolute `http://` URL or a user name that cannot be sent in a header.
    ///
    /// ```
    /// use tessera_client::Client;
    /// assert!(Client::builder("http://127.0.0.1:8080").user("alice").build().is_ok());
    /// let err = Client::builder("http://127.0.0.1:8080").user("a\nb").build().unwrap_err();
    /// assert_eq!(err.machine_code(), "config");
    /// assert_eq!(Client::builder("not a url").build().unwrap_err().machine_code(), "config");
    /// ```
    pub fn build(self) -> Result<Client, ClientError> {
        let config = |reason: String| ClientError::Config { reason };
        if !self.base.contains("://") {
            // "127.0.0.1:8080" is no URL, and "localhost:8080" one of scheme "localhost".
            return Err(config(
                "the base URL has no scheme: write it as http://HOST:PORT".to_owned(),
            ));
        }
        let base = Url::parse(&self.base)
            .map_err(|e| config(format!("the base URL is not a valid URL ({e})")))?;
        if base.scheme() != "http" {
            return Err(config(format!(
                "only http:// URLs are supported (this client has no TLS backend), not {}://",
                base.scheme()
            )));
        }
        if base.host_str().is_none() || base.cannot_be_a_base() {
            return Err(config("the base URL has no host".to_owned()));
        }
        if self.timeout.is_zero() {
            return Err(config(
                "the request timeout is zero: every request would fail at once".to_owned(),
            ));
        }
        let mut headers = HeaderMap::new();
        if let Some(user) = &self.user {
            check_user(user).map_err(|problem| config(format!("the user name {problem}")))?;
            let value = HeaderValue::from_str(user).map_err(|_| {
                config("the user name contains characters a header cannot carry".to_owned())
            })?;
            headers.insert(HeaderName::from_static("x-demo-user"), value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| config(format!("cannot create the HTTP client ({e})")))?;
        Ok(Client {
            http,
            base,
            retry_expired: self.retry_expired,
            not_safe: self.not_safe,
        })
    }
}

/// The longest user name the demo host accepts, in bytes (spec §8.5).
const MAX_USER_LEN: usize = 256;

/// Whether `user` is a name the demo host accepts as it is (spec §8.5); else what is wrong.
fn check_user(user: &str) -> Result<(), &'static str> {
    if user.is_empty() {
        return Err("is empty (leave the user out to be the host's guest)");
    }
    if user.len() > MAX_USER_LEN {
        return Err("is longer than 256 bytes");
    }
    if !user.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(
            "has a character other than printable ASCII (letters, digits, punctuation, spaces)",
        );
    }
    if user.starts_with(' ') || user.ends_with(' ') {
        return Err("has spaces around it, which HTTP drops: it would be sent as another name");
    }
    Ok(())
}

impl Client {
    /// A client for the host at `base_url` (e.g. `http://127.0.0.1:8080`) with the defaults:
    /// no user header, 30 s timeout, no retry on `expired`.
    ///
    /// ```
    /// use tessera_client::Client;
    /// assert!(Client::new("http://127.0.0.1:8080").is_ok());
    /// // No TLS backend: https is refused up front, with a clear error.
    /// let err = Client::new("https://example.com").unwrap_err();
    /// assert_eq!(err.machine_code(), "config");
    /// ```
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        Client::builder(base_url).build()
    }

    /// Starts configuring a client for the host at `base_url`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tessera_client::Client;
    /// let client = Client::builder("http://127.0.0.1:8080")
    ///     .user("alice")
    ///     .timeout(Duration::from_secs(5))
    ///     .retry_expired(true)
    ///     .not_safe_to_repeat("plugin:stock-tools/action:transfer")
    ///     .build()?;
    /// assert!(client.will_retry("plugin:stock-tools/action:print"));
    /// assert!(!client.will_retry("plugin:stock-tools/action:transfer"));
    /// # Ok::<(), tessera_client::ClientError>(())
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base: base_url.into(),
            user: None,
            timeout: DEFAULT_TIMEOUT,
            retry_expired: false,
            not_safe: HashSet::new(),
        }
    }
}
