//! The HTTP client: fetch a plugin's panels, find a button, click it.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, Response, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_protocol::ErrorCode;

use crate::error::{ClientError, Code, Problem};

/// The header the demo host reads its user from (no header means user `guest`).
pub const USER_HEADER: &str = "X-Demo-User";
/// The header naming the worker process that served a response.
pub const WORKER_HEADER: &str = "Tessera-Worker";
/// The largest response body the client reads, in bytes: 1 MiB.
pub const MAX_RESPONSE_LEN: usize = 1024 * 1024;
/// The default timeout of one request: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A plugin's panels, as served by `GET /api/plugins/{plugin}/panels`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Panels {
    /// The plugin's name.
    pub plugin: String,
    /// Its panels, in the host's order.
    pub panels: Vec<Panel>,
    /// The worker that rendered them (the `Tessera-Worker` response header), if the host says.
    #[serde(skip)]
    pub worker: Option<String>,
}

/// One panel of a plugin.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Panel {
    /// A stable key identifying the panel within the plugin.
    pub key: String,
    /// The human title.
    pub title: String,
    /// The panel's buttons.
    #[serde(default)]
    pub buttons: Vec<Button>,
    /// The input fields whose values a click sends as the action's `input`, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

/// An input field of a panel: its value goes into the click's `input` object under `name`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Field {
    /// The member name in `input`.
    pub name: String,
    /// The label shown next to the field.
    #[serde(default)]
    pub label: String,
    /// The kind of field as the host names it (`text`, `number`, …).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The initial value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One button: the action it invokes, where to post, and the token that authorises it.
///
/// `Debug` does not print the token (a bearer credential).
///
/// ```
/// use tessera_client::Button;
/// let button: Button = serde_json::from_str(r#"{"label":"Transfer","action":"transfer",
///   "url":"/api/plugins/stock-tools/actions/transfer","token":"secret-header.claims.sig"}"#)?;
/// assert_eq!(button.method, "POST"); // the default
/// let shown = format!("{button:?}");
/// assert!(shown.contains("token_len: 24") && !shown.contains("secret-header"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Deserialize, Serialize)]
pub struct Button {
    /// The label shown to the user.
    pub label: String,
    /// The action id (the token's audience).
    pub action: String,
    /// Where to send the click, relative to the host's base URL (or absolute, same origin).
    pub url: String,
    /// The HTTP method. Defaults to `POST`.
    #[serde(default = "default_method")]
    pub method: String,
    /// The action token minted at render time.
    pub token: String,
    /// When the token expires, as the host reports it (seconds since the epoch or a date).
    #[serde(default)]
    pub expires_at: Option<Value>,
    /// The plugin this button belongs to; filled in by [`Client::panels`].
    #[serde(skip)]
    pub plugin: Option<String>,
}

fn default_method() -> String {
    "POST".to_owned()
}

impl std::fmt::Debug for Button {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Button")
            .field("label", &self.label)
            .field("action", &self.action)
            .field("url", &self.url)
            .field("method", &self.method)
            .field("token_len", &self.token.len())
            .field("expires_at", &self.expires_at)
            .field("plugin", &self.plugin)
            .finish()
    }
}

impl Panel {
    /// The input the host's own page sends when this panel's fields are left as rendered (its
    /// click script reads every field): each field under its name, with its declared value, or
    /// `""` for a field that declares none; the value of a `number` field that holds a finite
    /// number as a JSON number (a whole number as an integer: `"25.0"` goes as `25`, as the
    /// page's `JSON.stringify` writes it), and as `""` when it is not a valid HTML
    /// floating-point number (`"+5"`, `" 25"`: a browser clears such a field); every other
    /// value as a string.
    ///
    /// A panel without fields gives an empty map, but the page then sends no input at all:
    /// send `null` (which a host reads as no input) to do the same.
    ///
    /// ```
    /// use tessera_client::Panel;
    /// let panel: Panel = serde_json::from_str(r#"{"key":"stock","title":"Stock","fields":[
    ///   {"name":"qty","type":"number","value":"25"},
    ///   {"name":"note","type":"text","value":"urgent"},
    ///   {"name":"to","type":"text"}]}"#)?;
    /// assert_eq!(
    ///     serde_json::Value::Object(panel.default_input()),
    ///     serde_json::json!({"qty": 25, "note": "urgent", "to": ""})
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn default_input(&self) -> serde_json::Map<String, Value> {
        let mut input = serde_json::Map::new();
        for field in &self.fields {
            let value = field.value.as_deref().unwrap_or("");
            let sent = if field.kind != "number" {
                Value::String(value.to_owned())
            } else if !is_html_float(value) {
                // A browser clears a number field whose value is not a valid floating-point
                // number (HTML's value sanitization: "+5", " 25", "0x10", "5."), so the page
                // sends "" for it.
                Value::String(String::new())
            } else {
                number(value).unwrap_or_else(|| Value::String(value.to_owned()))
            };
            input.insert(field.name.clone(), sent);
        }
        input
    }

    fn button_for(&self, action: &str) -> Option<&Button> {
        self.buttons.iter().find(|b| b.action == action)
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

/// Whether `text` is an HTML "valid floating-point number": an optional `-`, digits with an
/// optional fraction (`.` and digits; or the fraction alone), an optional exponent (`e` or `E`,
/// an optional sign, digits). Nothing else, not even surrounding whitespace.
fn is_html_float(text: &str) -> bool {
    fn digits(s: &[u8]) -> usize {
        s.iter().take_while(|b| b.is_ascii_digit()).count()
    }
    let s = text.as_bytes();
    let mut i = usize::from(s.first() == Some(&b'-'));
    let whole = digits(&s[i..]);
    i += whole;
    let mut fraction = 0;
    if s.get(i) == Some(&b'.') {
        fraction = digits(&s[i + 1..]);
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    if whole == 0 && fraction == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent = digits(&s[i..]);
        if exponent == 0 {
            return false;
        }
        i += exponent;
    }
    i == s.len()
}

/// `text` as the JSON number the page's click script sends for it (`Number(value)` written by
/// `JSON.stringify`), if it is a finite number: a whole number is written as an integer
/// (`"25.0"` and `"1e2"` go as `25` and `100`), others as they are (`"2.50"` as `2.5`).
fn number(text: &str) -> Option<Value> {
    // Through binary64 first, as `Number(value)` reads it: "9007199254740993" is
    // 9007199254740992 on the page, and so here.
    let f = text.parse::<f64>().ok().filter(|f| f.is_finite())?;
    // Every whole f64 in these ranges converts exactly (no rounding, no saturation).
    const I64_RANGE: std::ops::Range<f64> =
        -9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0;
    const U64_RANGE: std::ops::Range<f64> = 0.0..18_446_744_073_709_551_616.0;
    if f.fract() == 0.0 {
        if I64_RANGE.contains(&f) {
            #[allow(clippy::cast_possible_truncation)]
            return Some(Value::from(f as i64));
        }
        if U64_RANGE.contains(&f) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return Some(Value::from(f as u64));
        }
    }
    serde_json::Number::from_f64(f).map(Value::Number)
}

impl Panels {
    /// The panel holding the first button, across all panels, whose action id is `action`.
    ///
    /// ```
    /// use tessera_client::Panels;
    /// let panels: Panels = serde_json::from_str(r#"{"plugin":"stock-tools","panels":[
    ///   {"key":"stock","title":"Stock","buttons":[{"label":"Transfer","action":"transfer",
    ///    "url":"/api/plugins/stock-tools/actions/transfer","method":"POST","token":"t.t.t"}]}]}"#)?;
    /// assert_eq!(panels.panel_for("transfer").unwrap().key, "stock");
    /// assert!(panels.panel_for("print").is_none());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn panel_for(&self, action: &str) -> Option<&Panel> {
        self.panels
            .iter()
            .find(|p| p.buttons.iter().any(|b| b.action == action))
    }

    /// The first button, across all panels, whose action id is `action`.
    ///
    /// ```
    /// use tessera_client::Panels;
    /// let panels: Panels = serde_json::from_str(r#"{"plugin":"stock-tools","panels":[
    ///   {"key":"stock","title":"Stock","buttons":[{"label":"Transfer","action":"transfer",
    ///    "url":"/api/plugins/stock-tools/actions/transfer","method":"POST","token":"t.t.t"}]}]}"#)?;
    /// assert_eq!(panels.button("transfer").unwrap().label, "Transfer");
    /// assert!(panels.button("print").is_none());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn button(&self, action: &str) -> Option<&Button> {
        self.buttons().find(|b| b.action == action)
    }

    /// Every button of every panel, in the host's order.
    ///
    /// ```
    /// use tessera_client::Panels;
    /// let panels: Panels = serde_json::from_str(r#"{"plugin":"p","panels":[
    ///   {"key":"a","title":"A","buttons":[{"label":"One","action":"one","url":"/1","token":"t.t.t"}]},
    ///   {"key":"b","title":"B","buttons":[{"label":"Two","action":"two","url":"/2","token":"t.t.t"}]}]}"#)?;
    /// let actions: Vec<&str> = panels.buttons().map(|b| b.action.as_str()).collect();
    /// assert_eq!(actions, ["one", "two"]);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn buttons(&self) -> impl Iterator<Item = &Button> {
        self.panels.iter().flat_map(|p| p.buttons.iter())
    }
}

/// The outcome of a successful click.
#[derive(Clone, Debug, PartialEq)]
pub struct Clicked {
    /// The action's JSON result.
    pub result: Value,
    /// Whether the first attempt came back `expired` and the click was retried with a fresh
    /// panel.
    pub retried: bool,
    /// The worker that handled the click (the `Tessera-Worker` response header), if any.
    pub worker: Option<String>,
}

/// The body of a click: the token and the user's input.
#[derive(Serialize)]
struct ClickBody<'a> {
    token: &'a str,
    input: &'a Value,
}

/// Configures a [`Client`]; see [`Client::builder`].
///
/// `Debug` does not print a password the base URL carries.
#[must_use = "a builder does nothing until .build()"]
pub struct ClientBuilder {
    base: String,
    user: Option<String>,
    timeout: Duration,
    retry_expired: bool,
    not_safe: HashSet<String>,
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

/// `url` as text, with a password it carries replaced by `***` (the user name is kept).
fn without_password(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        // Only fails for URLs that cannot carry credentials, which then have no password.
        let _ = shown.set_password(Some("***"));
    }
    shown.into()
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

/// An async client for a tessera plugin host.
///
/// Plain HTTP only: the client is built without a TLS backend (ring stays the only crypto
/// library in the tree), so put a TLS-terminating proxy in front of a remote host, or use it on
/// a trusted network.
///
/// ```no_run
/// use serde_json::json;
/// use tessera_client::{Client, ClientError, Code};
/// use tessera_protocol::ErrorCode;
///
/// # async fn demo() -> Result<(), ClientError> {
/// let client = Client::builder("http://127.0.0.1:8080").user("alice").retry_expired(true).build()?;
/// let panels = client.panels("stock-tools").await?;
/// for button in panels.buttons() {
///     println!("{} -> {}", button.label, button.action);
/// }
/// let button = client.find_button("stock-tools", "plugin:stock-tools/action:transfer").await?;
/// match client.click(&button, &json!({"qty": 5})).await {
///     Ok(result) => println!("done: {result}"),
///     Err(e) if e.code() == Some(&Code::Token(ErrorCode::WrongSubject)) => {
///         eprintln!("this button was rendered for someone else")
///     }
///     Err(e) => eprintln!("error: {}: {e}", e.machine_code()),
/// }
/// # Ok(())
/// # }
/// ```
///
/// `Debug` does not print a password the base URL carries.
///
/// Redirects are never followed (a token goes only where the caller pointed it). Proxies
/// named in the environment (`HTTP_PROXY` or `http_proxy`; `NO_PROXY` exempts
/// hosts) are used, as by curl, even for a loopback address: the proxy then sees every token
/// and the user header in the clear. Set `NO_PROXY=127.0.0.1,localhost` (or unset the proxy)
/// where that is not wanted.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    retry_expired: bool,
    not_safe: HashSet<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // reqwest's own Debug shows its default headers (the user name); nothing secret.
        f.debug_struct("Client")
            .field("base", &without_password(&self.base))
            .field("retry_expired", &self.retry_expired)
            .field("not_safe", &self.not_safe)
            .field("http", &self.http)
            .finish()
    }
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

    /// The host's base URL, as given but normalized (a path ends with `/`, so that the API's
    /// paths join under it; a password in it included, which `Debug` hides).
    ///
    /// ```
    /// let client = tessera_client::Client::new("http://127.0.0.1:8080")?;
    /// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8080/");
    /// # Ok::<(), tessera_client::ClientError>(())
    /// ```
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Whether a click on `action` that comes back `expired` is retried once.
    pub fn will_retry(&self, action: &str) -> bool {
        self.retry_expired && !self.not_safe.contains(action)
    }

    /// Fetches the panels of `plugin` (`GET /api/plugins/{plugin}/panels`).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// let client = tessera_client::Client::new("http://127.0.0.1:8080")?;
    /// let panels = client.panels("stock-tools").await?;
    /// assert_eq!(panels.plugin, "stock-tools");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn panels(&self, plugin: &str) -> Result<Panels, ClientError> {
        self.panels_and_document(plugin)
            .await
            .map(|(panels, _)| panels)
    }

    /// Like [`Client::panels`], and also returns the host's JSON document as parsed (not its
    /// bytes: members come back sorted by name, a repeated member the document's shape does not
    /// check with its last value, integers beyond 64 bits as the nearest float): members [`Panels`] does not model (a host's own additions) are kept, and members
    /// the host left out are not filled with defaults. For tools that show or forward the
    /// document; the document has passed the same shape check as [`Client::panels`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// let client = tessera_client::Client::new("http://127.0.0.1:8080")?;
    /// let (panels, document) = client.panels_and_document("naive-stock").await?;
    /// assert_eq!(document["plugin"], panels.plugin.as_str());
    /// println!("{document:#}"); // with the host's `"naive": true`, which Panels has no field for
    /// # Ok(())
    /// # }
    /// ```
    pub async fn panels_and_document(&self, plugin: &str) -> Result<(Panels, Value), ClientError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::Config {
                reason: "the base URL cannot take a path".to_owned(),
            })?
            .pop_if_empty()
            .extend(["api", "plugins", plugin, "panels"]);
        let response = self.http.get(url).send().await?;
        let worker = worker_of(&response);
        let body = read_success(response).await?;
        let shape = |e: serde_json::Error| {
            ClientError::invalid_response(format!(
                "the panels document does not have the expected shape ({})",
                tessera_protocol::json_error_category(&e)
            ))
        };
        // Typed from the bytes themselves (a member a struct names twice is refused), then read
        // again as a document.
        let mut panels: Panels = serde_json::from_slice(&body).map_err(shape)?;
        let document: Value = serde_json::from_slice(&body).map_err(shape)?;
        panels.worker = worker;
        for panel in &mut panels.panels {
            for button in &mut panel.buttons {
                button.plugin = Some(plugin.to_owned());
            }
        }
        Ok((panels, document))
    }

    /// Fetches the panels of `plugin` and returns the first button for `action`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// let client = tessera_client::Client::new("http://127.0.0.1:8080")?;
    /// let button = client.find_button("stock-tools", "plugin:stock-tools/action:transfer").await?;
    /// println!("{} posts to {}", button.label, button.url);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn find_button(&self, plugin: &str, action: &str) -> Result<Button, ClientError> {
        self.find_button_and_panel(plugin, action)
            .await
            .map(|(button, _)| button)
    }

    /// Like [`Client::find_button`], and also returns the panel the button is on (its input
    /// fields, e.g. for [`Panel::default_input`]).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// let client = tessera_client::Client::new("http://127.0.0.1:8080")?;
    /// let (button, panel) = client.find_button_and_panel("stock-tools", "plugin:stock-tools/action:transfer").await?;
    /// let input = serde_json::Value::Object(panel.default_input());
    /// let result = client.click(&button, &input).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn find_button_and_panel(
        &self,
        plugin: &str,
        action: &str,
    ) -> Result<(Button, Panel), ClientError> {
        let panels = self.panels(plugin).await?;
        let found = panels
            .panel_for(action)
            .and_then(|panel| Some((panel.button_for(action)?.clone(), panel.clone())));
        found.ok_or_else(|| ClientError::ButtonNotFound {
            plugin: plugin.to_owned(),
            action: action.to_owned(),
            available: panels.buttons().map(|b| b.action.clone()).collect(),
        })
    }

    /// Clicks `button` with the user's `input` and returns the action's JSON result.
    ///
    /// A rejection comes back as [`ClientError::Rejected`] with the host's typed [`Code`]. With
    /// [`ClientBuilder::retry_expired`], an `expired` click is retried once with a fresh panel
    /// (see [`Client::click_detailed`]).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// let client = tessera_client::Client::new("http://127.0.0.1:8080")?;
    /// let button = client.find_button("stock-tools", "plugin:stock-tools/action:transfer").await?;
    /// let result = client.click(&button, &serde_json::json!({"qty": 5})).await?;
    /// println!("{result}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn click(&self, button: &Button, input: &Value) -> Result<Value, ClientError> {
        self.click_detailed(button, input).await.map(|c| c.result)
    }

    /// Fetches the panels of `plugin`, finds the button for `action` and clicks it.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// let client = tessera_client::Client::builder("http://127.0.0.1:8080").user("bob").build()?;
    /// let result = client.click_action(
    ///     "stock-tools",
    ///     "plugin:stock-tools/action:print-label",
    ///     &serde_json::json!({}),
    /// ).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn click_action(
        &self,
        plugin: &str,
        action: &str,
        input: &Value,
    ) -> Result<Value, ClientError> {
        let button = self.find_button(plugin, action).await?;
        self.click(&button, input).await
    }

    /// Like [`Client::click`], and also tells whether the click was retried and which worker
    /// handled it.
    ///
    /// The retry happens only when the client was built with
    /// [`retry_expired(true)`](ClientBuilder::retry_expired), the action is not marked
    /// [`not_safe_to_repeat`](ClientBuilder::not_safe_to_repeat), the button knows its plugin
    /// (buttons from [`Client::panels`] do) and the first click came back `expired`. It happens
    /// at most once; the second attempt's outcome is final.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// let client = tessera_client::Client::builder("http://127.0.0.1:8080").retry_expired(true).build()?;
    /// let button = client.find_button("stock-tools", "plugin:stock-tools/action:print-label").await?;
    /// // ... the user waits too long before clicking ...
    /// let clicked = client.click_detailed(&button, &serde_json::json!({})).await?;
    /// if clicked.retried {
    ///     println!("the panel had expired; clicked again with a fresh one");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn click_detailed(
        &self,
        button: &Button,
        input: &Value,
    ) -> Result<Clicked, ClientError> {
        match self.click_once(button, input).await {
            Err(e)
                if e.code() == Some(&Code::Token(ErrorCode::Expired))
                    && self.will_retry(&button.action) =>
            {
                let Some(plugin) = button.plugin.as_deref() else {
                    return Err(e);
                };
                let fresh = self.find_button(plugin, &button.action).await?;
                let mut clicked = self.click_once(&fresh, input).await?;
                clicked.retried = true;
                Ok(clicked)
            }
            other => other,
        }
    }

    async fn click_once(&self, button: &Button, input: &Value) -> Result<Clicked, ClientError> {
        let url = self.base.join(&button.url).map_err(|_| {
            ClientError::invalid_response("the button's URL is not a valid URL reference")
        })?;
        if url.origin() != self.base.origin() {
            // The token would be sent to another host: refuse.
            return Err(ClientError::invalid_response(
                "the button's URL points to another origin",
            ));
        }
        let method = Method::from_bytes(button.method.as_bytes()).map_err(|_| {
            ClientError::invalid_response("the button's method is not an HTTP method")
        })?;
        let response = self
            .http
            .request(method, url)
            .json(&ClickBody {
                token: &button.token,
                input,
            })
            .send()
            .await?;
        let worker = worker_of(&response);
        let body = read_success(response).await?;
        let result = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).map_err(|e| {
                ClientError::invalid_response(format!(
                    "the action's result is not JSON ({})",
                    tessera_protocol::json_error_category(&e)
                ))
            })?
        };
        Ok(Clicked {
            result,
            retried: false,
            worker,
        })
    }
}

fn worker_of(response: &Response) -> Option<String> {
    response
        .headers()
        .get(WORKER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Reads the body of a 2xx response, or turns an error status into a [`ClientError`].
async fn read_success(response: Response) -> Result<Vec<u8>, ClientError> {
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
