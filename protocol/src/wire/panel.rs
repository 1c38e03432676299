//! The panel document (spec §8.5): panels, their buttons (each with its token) and input fields.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::action_id::ActionId;

/// A panel: a key unique within its plugin, a title, buttons, and optional input fields.
///
/// ```
/// use tessera_protocol::wire::{Field, Panel};
/// let panel = Panel::new("stock", "Stock tools").with_field(Field::number("qty", "Quantity"));
/// let json = serde_json::to_value(&panel)?;
/// assert_eq!(json["key"], "stock");
/// assert_eq!(serde_json::from_value::<Panel>(json)?, panel);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Panel {
    /// The panel's key, unique within its plugin.
    pub key: String,
    /// The title shown above the buttons.
    pub title: String,
    /// The buttons, each with its token (read as none when a host leaves the member out).
    #[serde(default)]
    pub buttons: Vec<Button>,
    /// Input fields whose values a click sends as the action's `input` (omitted from the JSON
    /// when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

impl Panel {
    /// An empty panel.
    pub fn new(key: impl Into<String>, title: impl Into<String>) -> Panel {
        Panel {
            key: key.into(),
            title: title.into(),
            buttons: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Adds a button.
    #[must_use]
    pub fn with_button(mut self, button: Button) -> Panel {
        self.buttons.push(button);
        self
    }

    /// Adds an input field.
    #[must_use]
    pub fn with_field(mut self, field: Field) -> Panel {
        self.fields.push(field);
        self
    }
}

/// A button: its label, the action it invokes (id, URL, method), and the token minted for
/// (action, principal, payload, TTL), which expires at `expires_at` (seconds since the epoch,
/// the token's `exp`).
///
/// Its `Debug` output shows the token's length, never the token: a bearer credential (and,
/// for a signed token, its claims) must not reach logs.
///
/// ```
/// use tessera_protocol::wire::Button;
/// let button: Button = serde_json::from_str(r#"{"label":"Transfer","action":"transfer",
///   "url":"/api/plugins/stock-tools/actions/transfer","token":"secret-header.claims.sig",
///   "expires_at":1700000300}"#)?;
/// assert_eq!(button.method, "POST"); // the default when a host leaves it out
/// let shown = format!("{button:?}");
/// assert!(shown.contains("token_len: 24") && !shown.contains("secret-header"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// The text on the button.
    pub label: String,
    /// The action id (the token's audience).
    pub action: ActionId,
    /// The URL to send the click to (a path on the host, or an absolute URL of the same origin).
    pub url: String,
    /// The HTTP method of the click (`POST`; read as `POST` when a host leaves it out).
    #[serde(default = "post")]
    pub method: String,
    /// The token (not a secret from its holder: it is shown in the page).
    pub token: String,
    /// When the token expires, in seconds since the epoch.
    pub expires_at: u64,
}

fn post() -> String {
    "POST".to_owned()
}

impl fmt::Debug for Button {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Button")
            .field("label", &self.label)
            .field("action", &self.action)
            .field("url", &self.url)
            .field("method", &self.method)
            .field("token_len", &self.token.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// An input field of a panel. Its value is sent in the click's `input` object under `name`
/// (as a JSON number for [`FieldKind::Number`] fields holding a number).
///
/// ```
/// use tessera_protocol::wire::{Field, FieldKind};
/// let qty = Field::number("qty", "Quantity").with_value("1");
/// assert_eq!(serde_json::to_value(&qty)?, serde_json::json!(
///     {"name": "qty", "label": "Quantity", "type": "number", "value": "1"}));
/// assert_eq!(Field::text("note", "Note").kind, FieldKind::Text);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The member name in `input`.
    pub name: String,
    /// The label shown next to the field (read as empty when a host leaves it out).
    #[serde(default)]
    pub label: String,
    /// The kind of field.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// The initial value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Field {
    /// A text field.
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            kind: FieldKind::Text,
            value: None,
        }
    }

    /// A number field.
    pub fn number(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field {
            kind: FieldKind::Number,
            ..Field::text(name, label)
        }
    }

    /// Sets the initial value.
    #[must_use]
    pub fn with_value(mut self, value: impl Into<String>) -> Field {
        self.value = Some(value.into());
        self
    }
}

/// The kind of an input [`Field`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FieldKind {
    /// Free text: sent as a JSON string.
    Text,
    /// A number: sent as a JSON number (a string if the user typed something else).
    Number,
}

impl FieldKind {
    /// The kind as the document writes it (`"text"`, `"number"`).
    ///
    /// ```
    /// use tessera_protocol::wire::FieldKind;
    /// assert_eq!(FieldKind::Number.as_str(), "number");
    /// assert_eq!(serde_json::to_value(FieldKind::Text)?, FieldKind::Text.as_str());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
        }
    }
}

/// A plugin's panels document, as the demo host serves it at
/// `GET /api/plugins/{plugin}/panels` (spec §8.5).
///
/// ```
/// use tessera_protocol::wire::{Panel, PanelsDocument};
/// let doc = PanelsDocument {
///     plugin: "stock-tools".to_owned(),
///     user: Some("alice".to_owned()),
///     rendered_by: Some("w1/pid42".to_owned()),
///     panels: vec![Panel::new("stock", "Stock tools")],
/// };
/// let json = serde_json::to_value(&doc)?;
/// assert_eq!(json["panels"][0]["buttons"], serde_json::json!([]));
/// assert_eq!(serde_json::from_value::<PanelsDocument>(json)?, doc);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelsDocument {
    /// The plugin's name.
    pub plugin: String,
    /// The principal the buttons were minted for (`None`: anonymous, or a host that does not
    /// say).
    #[serde(default)]
    pub user: Option<String>,
    /// The worker that rendered the panels, if the host says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered_by: Option<String>,
    /// The panels, in the host's order.
    pub panels: Vec<Panel>,
}
