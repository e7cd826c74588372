//! Checking responses against the official SDK's models.
//!
//! `ory-kratos-client` 26 cannot deserialize UI nodes from any Kratos-compatible
//! server, Kratos included: `UiNodeAttributes` is an internally tagged enum on
//! `node_type`, and serde removes the tag before the variant's struct — which
//! itself requires `node_type` — sees it (ory/kratos-client-rust#3, ory/sdk#325).
//! The same bug hits `continue_with` items (tagged on `action`, which the variant
//! structs also require). So such responses are checked in parts that together
//! cover every byte: each node's attributes (or each `continue_with` item)
//! against its variant struct, and everything else against its model.

use ory_kratos_client::models;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserializes a flow into the SDK model `T`, checking every UI node separately.
pub fn assert_flow_fits<T: DeserializeOwned>(flow: &Value) -> T {
    let nodes = flow["ui"]["nodes"]
        .as_array()
        .expect("ui.nodes is an array");
    for node in nodes {
        let attrs = node["attributes"].clone();
        match attrs["node_type"].as_str() {
            Some("input") => drop(from::<models::UiNodeInputAttributes>(attrs)),
            Some("text") => drop(from::<models::UiNodeTextAttributes>(attrs)),
            Some("a") => drop(from::<models::UiNodeAnchorAttributes>(attrs)),
            Some("img") => drop(from::<models::UiNodeImageAttributes>(attrs)),
            other => panic!("unexpected node_type {other:?} in {node}"),
        }
        assert_eq!(
            node["type"], node["attributes"]["node_type"],
            "type mirrors node_type"
        );
        from::<models::ui_node::TypeEnum>(node["type"].clone());
        from::<models::ui_node::GroupEnum>(node["group"].clone());
        from::<Vec<models::UiText>>(node["messages"].clone());
        from::<models::UiNodeMeta>(node["meta"].clone());
    }
    let mut without_nodes = flow.clone();
    without_nodes["ui"]["nodes"] = Value::Array(Vec::new());
    if flow.get("continue_with").is_some() {
        return assert_fits_with_continue_with::<T>(&without_nodes);
    }
    from::<T>(without_nodes)
}

fn from<T: DeserializeOwned>(v: Value) -> T {
    match serde_json::from_value(v.clone()) {
        Ok(t) => t,
        Err(e) => panic!("{} does not fit: {e}\n{v}", std::any::type_name::<T>()),
    }
}

/// Deserializes a response with `continue_with` into `T`, checking each item
/// against its variant struct first.
pub fn assert_fits_with_continue_with<T: DeserializeOwned>(body: &Value) -> T {
    let mut rest = body.clone();
    if let Some(items) = body.get("continue_with").and_then(Value::as_array) {
        for item in items {
            let v = item.clone();
            match item["action"].as_str() {
                Some("set_ory_session_token") => {
                    drop(from::<models::ContinueWithSetOrySessionToken>(v))
                }
                Some("redirect_browser_to") => {
                    drop(from::<models::ContinueWithRedirectBrowserTo>(v))
                }
                Some("show_verification_ui") => drop(from::<models::ContinueWithVerificationUi>(v)),
                Some("show_settings_ui") => drop(from::<models::ContinueWithSettingsUi>(v)),
                Some("show_recovery_ui") => drop(from::<models::ContinueWithRecoveryUi>(v)),
                other => panic!("unexpected continue_with action {other:?}"),
            }
        }
        rest["continue_with"] = Value::Array(Vec::new());
    }
    from::<T>(rest)
}
