//! The action id: what a token is for (its audience).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An action id: the audience (`aud`) of the tokens that may invoke the action, e.g.
/// `plugin:stock-tools/action:transfer`.
///
/// ```
/// use tessera_protocol::ActionId;
/// const TRANSFER: ActionId = ActionId::from_static("plugin:stock-tools/action:transfer");
/// assert_eq!(TRANSFER.as_str(), "plugin:stock-tools/action:transfer");
/// assert_eq!(ActionId::new(String::from("a")), ActionId::from_static("a"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(Cow<'static, str>);

impl ActionId {
    /// An action id from a constant.
    pub const fn from_static(id: &'static str) -> ActionId {
        ActionId(Cow::Borrowed(id))
    }

    /// An action id from a runtime string.
    pub fn new(id: impl Into<String>) -> ActionId {
        ActionId(Cow::Owned(id.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as text that lives as long as the program, when it was made from a constant.
    ///
    /// ```
    /// use tessera_protocol::ActionId;
    /// assert_eq!(ActionId::from_static("a").as_static(), Some("a"));
    /// assert_eq!(ActionId::new("a").as_static(), None);
    /// ```
    pub fn as_static(&self) -> Option<&'static str> {
        match self.0 {
            Cow::Borrowed(text) => Some(text),
            Cow::Owned(_) => None,
        }
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ActionId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ActionId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
