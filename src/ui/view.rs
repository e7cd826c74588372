//! Turning a flow's `ui` container into what the templates show: forms, fields,
//! buttons and messages. Generic over node types and groups, so the pages work
//! for any identity schema.

use super::catalogue;
use crate::flow::text::{TextType, UiText};
use crate::flow::ui::{Attributes, UiContainer, UiNode};
use serde::Serialize;

#[derive(Serialize)]
pub struct MessageVm {
    pub id: u32,
    pub text: String,
    pub kind: &'static str,
}

impl MessageVm {
    pub fn from(t: &UiText) -> MessageVm {
        MessageVm {
            id: t.id,
            text: catalogue::render(t),
            kind: match t.kind {
                TextType::Info => "info",
                TextType::Error => "error",
                TextType::Success => "success",
            },
        }
    }
}

#[derive(Serialize, Default)]
pub struct NodeVm {
    pub kind: &'static str,
    pub name: String,
    pub input_type: String,
    pub value: String,
    pub label: String,
    pub required: bool,
    pub disabled: bool,
    pub autocomplete: Option<String>,
    pub inputmode: Option<&'static str>,
    pub pattern: Option<String>,
    pub maxlength: Option<u64>,
    pub secondary: bool,
    pub href: String,
    pub dom_id: String,
    pub messages: Vec<MessageVm>,
}

#[derive(Serialize)]
pub struct FormVm {
    pub heading: Option<&'static str>,
    pub action: String,
    pub method: String,
    pub nodes: Vec<NodeVm>,
}

fn label_of(node: &UiNode) -> String {
    node.meta
        .label
        .as_ref()
        .map(catalogue::render)
        .unwrap_or_else(|| node.name().to_owned())
}

fn value_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub fn node_vm(node: &UiNode, csrf: &str, prefill: &[(&str, &str)]) -> NodeVm {
    let messages = node.messages.iter().map(MessageVm::from).collect();
    let dom_id = format!("field-{}", node.name().replace(['.', '_'], "-"));
    match &node.attributes {
        Attributes::Input(a) => {
            let mut value = if a.name == "csrf_token" {
                csrf.to_owned()
            } else {
                value_text(a.value.as_ref())
            };
            if let Some((_, v)) = prefill.iter().find(|(k, _)| *k == a.name) {
                value = (*v).to_owned();
            }
            let kind = match a.input_type.as_str() {
                "hidden" => "hidden",
                "submit" | "button" => "submit",
                "checkbox" => "checkbox",
                _ => "input",
            };
            let autocomplete = a
                .autocomplete
                .clone()
                .or_else(|| (a.name == "identifier").then(|| "username".to_owned()));
            NodeVm {
                kind,
                secondary: kind == "submit" && a.name != "method",
                inputmode: (a.name == "code").then_some("numeric"),
                input_type: a.input_type.clone(),
                name: a.name.clone(),
                value,
                label: label_of(node),
                required: a.required,
                disabled: a.disabled,
                autocomplete,
                pattern: a.pattern.clone(),
                maxlength: a.maxlength,
                href: String::new(),
                dom_id,
                messages,
            }
        }
        Attributes::A(a) => NodeVm {
            kind: "a",
            label: catalogue::render(&a.title),
            href: a.href.clone(),
            dom_id: a.id.clone(),
            messages,
            ..NodeVm::default()
        },
        Attributes::Text(t) => NodeVm {
            kind: "text",
            label: catalogue::render(&t.text),
            dom_id: t.id.clone(),
            messages,
            ..NodeVm::default()
        },
    }
}

/// The forms of a page: one per group for settings (so each can be submitted
/// alone), one for everything else. The CSRF node goes into every form.
pub fn forms(
    ui: &UiContainer,
    csrf: &str,
    split_by_group: bool,
    prefill: &[(&str, &str)],
) -> Vec<FormVm> {
    let form = |heading, nodes: Vec<&UiNode>| FormVm {
        heading,
        action: ui.action.clone(),
        method: ui.method.to_lowercase(),
        nodes: nodes
            .into_iter()
            .map(|n| node_vm(n, csrf, prefill))
            .collect(),
    };
    if !split_by_group {
        return vec![form(None, ui.nodes.iter().collect())];
    }
    let shared: Vec<&UiNode> = ui
        .nodes
        .iter()
        .filter(|n| n.group == "default" && n.name() == "csrf_token")
        .collect();
    let mut out = Vec::new();
    for (group, heading) in [("profile", "Profile"), ("password", "Password")] {
        let nodes: Vec<&UiNode> = ui.nodes.iter().filter(|n| n.group == group).collect();
        if !nodes.is_empty() {
            out.push(form(
                Some(heading),
                shared.iter().copied().chain(nodes).collect(),
            ));
        }
    }
    out
}
