//! The HTTP client: fetch a plugin's panels, click a button.

use std::collections::HashSet;

use reqwest::{Method, Url};
use serde::Serialize;
use serde_json::Value;
use tessera_protocol::ErrorCode;
use tessera_protocol::wire::{Button, PanelsDocument};

use crate::error::ClientError;
use crate::panels::Panels;
use crate::response::{read_success, worker_of};

/// `url` as text, with a password it carries replaced by `***` (the user name is kept).
pub(crate) fn without_password(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        // Only fails for URLs that cannot carry credentials, which then have no password.
        let _ = shown.set_password(Some("***"));
    }
    shown.into()
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

/// An async client for a tessera plugin host.
///
/// Plain HTTP only: the client is built without a TLS backend (ring stays the only crypto
/// library in the tree), so put a TLS-terminating proxy in front of a remote host, or use it on
/// a trusted network.
///
/// ```no_run
/// use serde_json::json;
/// use tessera_client::{Client, ClientError, demo_panels_path};
/// use tessera_protocol::ErrorCode;
///
/// # async fn demo() -> Result<(), ClientError> {
/// let client = Client::builder("http://127.0.0.1:8080").user("alice").retry_expired(true).build()?;
/// let panels = client.panels(&demo_panels_path("stock-tools")).await?;
/// for button in panels.buttons() {
///     println!("{} -> {}", button.label, button.action);
/// }
/// let (button, _) = panels.find("plugin:stock-tools/action:transfer")?;
/// match client.click(button).input(&json!({"qty": 5})).refresh_from(panels.url.as_str()).send().await {
///     Ok(clicked) => println!("done: {}", clicked.result),
///     Err(e) if e.code().is_some_and(|c| *c == ErrorCode::WrongSubject) => {
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
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) retry_expired: bool,
    pub(crate) not_safe: HashSet<String>,
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

    /// Fetches a plugin's panels from `url`, a URL reference resolved against the base URL
    /// (`"api/plugins/stock-tools/panels"`, see [`demo_panels_path`](crate::demo_panels_path)
    /// for the demo host's; an absolute URL must have the base URL's origin).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// use tessera_client::{Client, demo_panels_path};
    /// let client = Client::new("http://127.0.0.1:8080")?;
    /// let panels = client.panels(&demo_panels_path("stock-tools")).await?;
    /// assert_eq!(panels.document.plugin, "stock-tools");
    /// println!("{:#}", panels.raw); // the document as the host sent it, its own members too
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// A transport error, a refusal, or [`ClientError::InvalidResponse`] when the document does
    /// not have the panels document's shape.
    pub async fn panels(&self, url: &str) -> Result<Panels, ClientError> {
        let url = self.same_origin(url, "the panels URL")?;
        let response = self.http.get(url.clone()).send().await?;
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
        let document: PanelsDocument = serde_json::from_slice(&body).map_err(shape)?;
        let raw: Value = serde_json::from_slice(&body).map_err(shape)?;
        Ok(Panels {
            document,
            raw,
            worker,
            url,
        })
    }

    /// Starts a click on `button`: give the user's input ([`Click::input`]; none by default)
    /// and the panels it came from ([`Click::refresh_from`], for the retry on `expired`), then
    /// [`send`](Click::send) it.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tessera_client::ClientError> {
    /// use tessera_client::{Client, default_input, demo_panels_path};
    /// let client = Client::builder("http://127.0.0.1:8080").retry_expired(true).build()?;
    /// let panels = client.panels(&demo_panels_path("stock-tools")).await?;
    /// let (button, panel) = panels.find("plugin:stock-tools/action:transfer")?;
    /// let mut input = default_input(panel); // what the page sends for the fields as rendered
    /// input.insert("qty".to_owned(), 5.into());
    /// let input = serde_json::Value::Object(input);
    /// let clicked = client.click(button).input(&input).refresh_from(panels.url.as_str()).send().await?;
    /// println!("{} (handled by {:?}, retried: {})", clicked.result, clicked.worker, clicked.retried);
    /// # Ok(())
    /// # }
    /// ```
    pub fn click<'a>(&'a self, button: &'a Button) -> Click<'a> {
        Click {
            client: self,
            button,
            input: &Value::Null,
            refresh: None,
        }
    }

    /// `url` resolved against the base URL, if it has the base URL's origin (a token or the
    /// user's name must not travel to another host).
    fn same_origin(&self, url: &str, what: &str) -> Result<Url, ClientError> {
        let url = self.base.join(url).map_err(|_| {
            ClientError::invalid_response(format!("{what} is not a valid URL reference"))
        })?;
        if url.origin() == self.base.origin() {
            Ok(url)
        } else {
            Err(ClientError::invalid_response(format!(
                "{what} points to another origin"
            )))
        }
    }

    async fn click_once(&self, button: &Button, input: &Value) -> Result<Clicked, ClientError> {
        let url = self.same_origin(&button.url, "the button's URL")?;
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

/// A click being prepared: see [`Client::click`].
#[must_use = "a click is only sent by `send()`"]
pub struct Click<'a> {
    client: &'a Client,
    button: &'a Button,
    input: &'a Value,
    refresh: Option<&'a str>,
}

impl<'a> Click<'a> {
    /// The user's input (the click's `input`); `null`, no input, when not given (what the page
    /// sends for a panel without fields).
    pub fn input(mut self, input: &'a Value) -> Click<'a> {
        self.input = input;
        self
    }

    /// Where the button's panels came from (`panels.url.as_str()`, or the URL reference given
    /// to [`Client::panels`]): when the client retries `expired` clicks
    /// ([`ClientBuilder::retry_expired`](crate::ClientBuilder::retry_expired)) and the action
    /// is not marked [`not_safe_to_repeat`](crate::ClientBuilder::not_safe_to_repeat), an
    /// `expired` click fetches the panels again from there and clicks the same action's fresh
    /// button once, at most. Without it, an `expired` click is returned as the error.
    pub fn refresh_from(mut self, panels_url: &'a str) -> Click<'a> {
        self.refresh = Some(panels_url);
        self
    }

    /// Sends the click: the action's JSON result, whether it was retried, and which worker
    /// handled it. A refusal comes back as [`ClientError::Rejected`] with the host's typed
    /// [`Code`](crate::Code).
    ///
    /// # Errors
    /// A refusal, a transport error, or an answer that is not what the protocol describes.
    pub async fn send(self) -> Result<Clicked, ClientError> {
        let Click {
            client,
            button,
            input,
            refresh,
        } = self;
        match client.click_once(button, input).await {
            Err(e)
                if e.code().is_some_and(|c| *c == ErrorCode::Expired)
                    && client.will_retry(button.action.as_str()) =>
            {
                let Some(panels_url) = refresh else {
                    return Err(e);
                };
                let fresh = client.panels(panels_url).await?;
                let (fresh, _) = fresh.find(button.action.as_str())?;
                let mut clicked = client.click_once(fresh, input).await?;
                clicked.retried = true;
                Ok(clicked)
            }
            other => other,
        }
    }
}
