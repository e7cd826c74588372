//! A browser-like client: keeps cookies, never follows redirects, and reads the
//! CSRF token from flow UI nodes.

use serde_json::Value;
use std::sync::Arc;

pub struct Browser {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
}

impl Browser {
    pub fn new() -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { http, jar }
    }

    /// The Cookie header this browser would send to `url`.
    pub fn cookies_for(&self, url: &str) -> String {
        use reqwest::cookie::CookieStore;
        self.jar
            .cookies(&url.parse().unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// Value of one cookie, if set.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        self.cookies_for(url)
            .split("; ")
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }
}

/// The `value` of the UI node named `name`.
pub fn node_value(flow: &Value, name: &str) -> Option<Value> {
    flow["ui"]["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["attributes"]["name"] == name)
        .and_then(|n| n["attributes"].get("value").cloned())
}

pub fn csrf_token(flow: &Value) -> String {
    node_value(flow, "csrf_token")
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("csrf_token node")
}

/// Ids of the messages on the flow and all its nodes.
pub fn message_ids(flow: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = flow["ui"]["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_u64())
        .collect();
    for n in flow["ui"]["nodes"].as_array().into_iter().flatten() {
        ids.extend(
            n["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["id"].as_u64()),
        );
    }
    ids
}

/// Messages on one node.
pub fn node_message_ids(flow: &Value, name: &str) -> Vec<u64> {
    flow["ui"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["attributes"]["name"] == name)
        .flat_map(|n| n["messages"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m["id"].as_u64())
        .collect()
}

/// The `flow` id from a `Location` like `http://…/ui/login?flow=<id>`.
pub fn flow_id_from_location(location: &str) -> String {
    let url = reqwest::Url::parse(location).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "flow")
        .map(|(_, v)| v.into_owned())
        .expect("flow param")
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()["location"].to_str().unwrap().to_owned()
}
