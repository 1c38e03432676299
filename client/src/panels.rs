//! What a host's panels document holds for a client: its panels and buttons (the wire types,
//! shared with the server), where it came from, and the input a page would send.

use reqwest::Url;
use serde_json::Value;
use tessera_protocol::wire::{Button, FieldKind, Panel, PanelsDocument};

use crate::error::ClientError;

/// A plugin's panels, as fetched by [`Client::panels`](crate::Client::panels): the typed
/// document, the document as parsed (members the types do not model, such as a host's own
/// additions, are kept there), the worker that rendered it and the URL it came from (where a
/// click on one of its buttons fetches a fresh token when it comes back `expired`).
#[derive(Clone, Debug, PartialEq)]
pub struct Panels {
    /// The typed document.
    pub document: PanelsDocument,
    /// The document as parsed (not its bytes: members come back sorted by name, integers beyond
    /// 64 bits as the nearest float), for tools that show or forward it.
    pub raw: Value,
    /// The worker that rendered it (the `Tessera-Worker` response header), if the host says.
    pub worker: Option<String>,
    /// Where it was fetched from.
    pub url: Url,
}

impl Panels {
    /// The first button, across all panels, whose action id is `action`, with the panel it is
    /// on (its input fields, e.g. for [`default_input`]).
    ///
    /// ```
    /// use tessera_client::Panels;
    /// let document = serde_json::from_str(r#"{"plugin":"stock-tools","panels":[
    ///   {"key":"stock","title":"Stock","buttons":[{"label":"Transfer","action":"transfer",
    ///    "url":"/api/plugins/stock-tools/actions/transfer","token":"t.t.t","expires_at":1}]}]}"#)?;
    /// let url = "http://127.0.0.1:8080/panels".parse()?;
    /// let panels = Panels { document, raw: serde_json::Value::Null, worker: None, url };
    /// let (button, panel) = panels.find("transfer")?;
    /// assert_eq!((button.label.as_str(), panel.key.as_str()), ("Transfer", "stock"));
    /// assert_eq!(panels.find("print").unwrap_err().machine_code(), "button_not_found");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ClientError::ButtonNotFound`], naming the actions the panels do have.
    pub fn find(&self, action: &str) -> Result<(&Button, &Panel), ClientError> {
        self.document
            .panels
            .iter()
            .find_map(|panel| {
                let button = panel.buttons.iter().find(|b| b.action == action)?;
                Some((button, panel))
            })
            .ok_or_else(|| ClientError::ButtonNotFound {
                plugin: self.document.plugin.clone(),
                action: action.to_owned(),
                available: self.buttons().map(|b| b.action.to_string()).collect(),
            })
    }

    /// Every button of every panel, in the host's order.
    ///
    /// ```
    /// use tessera_client::Panels;
    /// let document = serde_json::from_str(r#"{"plugin":"p","panels":[
    ///   {"key":"a","title":"A","buttons":[{"label":"One","action":"one","url":"/1","token":"t","expires_at":1}]},
    ///   {"key":"b","title":"B","buttons":[{"label":"Two","action":"two","url":"/2","token":"t","expires_at":1}]}]}"#)?;
    /// let url = "http://127.0.0.1:8080/panels".parse()?;
    /// let panels = Panels { document, raw: serde_json::Value::Null, worker: None, url };
    /// let actions: Vec<&str> = panels.buttons().map(|b| b.action.as_str()).collect();
    /// assert_eq!(actions, ["one", "two"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn buttons(&self) -> impl Iterator<Item = &Button> {
        self.document.panels.iter().flat_map(|p| p.buttons.iter())
    }
}

/// Where the demo host serves a plugin's panels (spec §8.5: `/api/plugins/{plugin}/panels`),
/// as a path relative to a client's base URL (the plugin name percent-encoded as one path
/// segment). It is the demo host's convention, not the protocol's: a host that serves its
/// panels elsewhere is given that URL.
///
/// ```
/// assert_eq!(tessera_client::demo_panels_path("stock-tools"), "api/plugins/stock-tools/panels");
/// assert_eq!(tessera_client::demo_panels_path("a/b"), "api/plugins/a%2Fb/panels");
/// ```
pub fn demo_panels_path(plugin: &str) -> String {
    let mut url = Url::parse("http://host/").expect("a constant URL");
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.extend(["api", "plugins", plugin, "panels"]);
    }
    url.path().trim_start_matches('/').to_owned()
}

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
/// use tessera_client::{Panel, default_input};
/// let panel: Panel = serde_json::from_str(r#"{"key":"stock","title":"Stock","fields":[
///   {"name":"qty","type":"number","value":"25"},
///   {"name":"note","type":"text","value":"urgent"},
///   {"name":"to","type":"text"}]}"#)?;
/// assert_eq!(
///     serde_json::Value::Object(default_input(&panel)),
///     serde_json::json!({"qty": 25, "note": "urgent", "to": ""})
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn default_input(panel: &Panel) -> serde_json::Map<String, Value> {
    let mut input = serde_json::Map::new();
    for field in &panel.fields {
        let value = field.value.as_deref().unwrap_or("");
        let sent = if field.kind != FieldKind::Number {
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
