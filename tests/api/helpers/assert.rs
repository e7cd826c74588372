//! Assertions on Kratos-format responses.

use serde_json::Value;

/// Checks status and the error envelope; returns the `error` object.
pub async fn assert_kratos_error(resp: reqwest::Response, status: u16, id: Option<&str>) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        ctype.starts_with("application/json"),
        "content-type {ctype}"
    );
    let body: Value = resp.json().await.expect("error body is JSON");
    let err = body
        .get("error")
        .cloned()
        .unwrap_or_else(|| panic!("no `error` in {body}"));
    assert_eq!(err["code"], status, "{body}");
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(err["status"].as_str().is_some(), "{body}");
    assert_eq!(err.get("id").and_then(Value::as_str), id, "{body}");
    err
}
