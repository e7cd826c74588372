//! The `ui` container of a flow: its form `action`, `method`, `nodes` and
//! flow-level `messages`, in Kratos's wire shape (`ui/container`, `ui/node`).

use super::text::{self, UiText};
use crate::identity::schema::TraitField;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UiContainer {
    pub action: String,
    pub method: String,
    pub nodes: Vec<UiNode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<UiText>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UiNode {
    #[serde(rename = "type")]
    pub node_type: String,
    pub group: String,
    pub attributes: Attributes,
    #[serde(default)]
    pub messages: Vec<UiText>,
    #[serde(default)]
    pub meta: Meta,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<UiText>,
}

/// Node attributes, discriminated by `node_type` as the SDKs expect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "node_type", rename_all = "lowercase")]
pub enum Attributes {
    Input(InputAttributes),
    Text(TextAttributes),
    A(AnchorAttributes),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputAttributes {
    pub name: String,
    #[serde(rename = "type")]
    pub input_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxlength: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<InputOption>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputOption {
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextAttributes {
    pub id: String,
    pub text: UiText,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnchorAttributes {
    pub id: String,
    pub href: String,
    pub title: UiText,
}

/// Node groups used by Postern's methods.
pub const GROUP_DEFAULT: &str = "default";
pub const GROUP_PASSWORD: &str = "password";
pub const GROUP_PROFILE: &str = "profile";

impl UiNode {
    pub fn input(group: &str, name: &str, input_type: &str) -> UiNode {
        UiNode {
            node_type: "input".into(),
            group: group.into(),
            attributes: Attributes::Input(InputAttributes {
                name: name.into(),
                input_type: input_type.into(),
                value: None,
                required: false,
                disabled: false,
                autocomplete: None,
                pattern: None,
                maxlength: None,
                options: Vec::new(),
            }),
            messages: Vec::new(),
            meta: Meta::default(),
        }
    }

    pub fn required(mut self) -> Self {
        if let Attributes::Input(a) = &mut self.attributes {
            a.required = true;
        }
        self
    }

    pub fn value(mut self, value: impl Into<Value>) -> Self {
        self.set_value(Some(value.into()));
        self
    }

    pub fn autocomplete(mut self, ac: &str) -> Self {
        if let Attributes::Input(a) = &mut self.attributes {
            a.autocomplete = Some(ac.into());
        }
        self
    }

    pub fn label(mut self, label: UiText) -> Self {
        self.meta.label = Some(label);
        self
    }

    pub fn name(&self) -> &str {
        match &self.attributes {
            Attributes::Input(a) => &a.name,
            Attributes::Text(t) => &t.id,
            Attributes::A(a) => &a.id,
        }
    }

    pub fn input_value(&self) -> Option<&Value> {
        match &self.attributes {
            Attributes::Input(a) => a.value.as_ref(),
            _ => None,
        }
    }

    pub fn set_value(&mut self, value: Option<Value>) {
        if let Attributes::Input(a) = &mut self.attributes {
            a.value = value;
        }
    }

    pub fn set_input_type(&mut self, t: &str) {
        if let Attributes::Input(a) = &mut self.attributes {
            a.input_type = t.into();
        }
    }

    /// The hidden CSRF node; API flows carry it with an empty value.
    pub fn csrf(value: &str) -> UiNode {
        UiNode::input(GROUP_DEFAULT, "csrf_token", "hidden")
            .required()
            .value(value)
    }

    /// A submit button `method=<value>`.
    pub fn submit(group: &str, value: &str, label: UiText) -> UiNode {
        UiNode::input(group, "method", "submit")
            .value(value)
            .label(label)
    }

    /// The input for one identity trait, typed from its schema (Kratos's
    /// `NewInputFieldFromSchema`).
    pub fn from_trait(group: &str, field: &TraitField) -> UiNode {
        let (input_type, autocomplete) = match (field.format.as_deref(), field.json_type.as_str()) {
            (Some("email"), _) => ("email", Some("email")),
            (Some("tel"), _) => ("tel", Some("tel")),
            (Some("date-time"), _) => ("datetime-local", None),
            (Some("date"), _) => ("date", None),
            (Some("uri"), _) => ("url", Some("url")),
            (_, "number" | "integer") => ("number", None),
            (_, "boolean") => ("checkbox", None),
            _ => ("text", None),
        };
        let mut node = UiNode::input(group, &field.name, input_type);
        if let Attributes::Input(a) = &mut node.attributes {
            a.required = field.required;
            a.autocomplete = autocomplete.map(str::to_owned);
            a.pattern = field.pattern.clone();
            a.maxlength = field.max_length;
            a.options = field
                .options
                .iter()
                .take(500)
                .map(|v| InputOption { value: v.clone() })
                .collect();
        }
        if let Some(title) = &field.title {
            node.meta.label = Some(text::schema_title(title, &field.name));
        }
        node
    }
}

impl UiContainer {
    pub fn new(action: String) -> UiContainer {
        UiContainer {
            action,
            method: "POST".into(),
            nodes: Vec::new(),
            messages: Vec::new(),
        }
    }

    pub fn node_mut(&mut self, name: &str) -> Option<&mut UiNode> {
        self.nodes.iter_mut().find(|n| n.name() == name)
    }

    pub fn node(&self, name: &str) -> Option<&UiNode> {
        self.nodes.iter().find(|n| n.name() == name)
    }

    /// Removes every message, before a submit's new ones are added.
    pub fn clear_messages(&mut self) {
        self.messages.clear();
        for n in &mut self.nodes {
            n.messages.clear();
        }
    }

    /// Attaches a message to the node `field`, or to the flow when the node does
    /// not exist (Kratos appends a text input to carry it; the flow level is
    /// clearer and what UIs show anyway).
    pub fn add_message(&mut self, field: &str, message: UiText) {
        match self.node_mut(field) {
            Some(node) if !field.is_empty() => node.messages.push(message),
            _ => self.messages.push(message),
        }
    }

    /// Puts a fresh value on the CSRF node (one per response).
    pub fn set_csrf(&mut self, token: &str) {
        if let Some(node) = self.node_mut("csrf_token") {
            node.set_value(Some(Value::String(token.to_owned())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_node_has_kratos_shape() {
        let node = UiNode::input(GROUP_PASSWORD, "password", "password")
            .required()
            .autocomplete("current-password")
            .label(text::password_label());
        let v = serde_json::to_value(&node).unwrap();
        assert_eq!(
            v,
            json!({"type": "input", "group": "password",
                   "attributes": {"name": "password", "type": "password", "required": true,
                                  "disabled": false, "autocomplete": "current-password",
                                  "node_type": "input"},
                   "messages": [],
                   "meta": {"label": {"id": 1070001, "text": "Password", "type": "info"}}})
        );
        let back: UiNode = serde_json::from_value(v).unwrap();
        assert_eq!(back, node);
    }

    #[test]
    fn empty_string_values_are_emitted_and_absent_ones_are_not() {
        let v = serde_json::to_value(UiNode::csrf("")).unwrap();
        assert_eq!(v["attributes"]["value"], "");
        let v = serde_json::to_value(UiNode::input("default", "x", "text")).unwrap();
        assert!(v["attributes"].get("value").is_none());
        assert_eq!(v["meta"], json!({}));
    }
}
