//! Malformed requests answer with the right status in the Kratos envelope and leave
//! the database exactly as it was.

use crate::helpers::assert::assert_kratos_error;
use crate::helpers::{spawn_app, spawn_app_with};
use serde_json::json;

#[tokio::test]
async fn malformed_json_wrong_types_and_unknown_fields_are_400_and_change_nothing() {
    let app = spawn_app().await;
    app.create_identity_with_password("seed@example.com", "pass phrase here")
        .await;
    let before = app.snapshot();
    let url = app.admin_url("/admin/identities");
    let raw_bodies = [
        "{\"schema_id\": \"default\", \"traits\": ", // truncated
        "not json at all",
        "[]",                                                      // wrong top-level type
        "{\"schema_id\": 5, \"traits\": {\"email\": \"a@b.co\"}}", // wrong field type
        "{\"schema_id\": \"default\"}",                            // missing traits
        "{\"schema_id\": \"default\", \"traits\": {\"email\": \"a@b.co\"}, \"bogus\": 1}", // unknown field
        "{\"schema_id\": \"default\", \"traits\": {\"email\": \"a@b.co\"}, \"state\": \"sleepy\"}",
        "{\"schema_id\": \"default\", \"traits\": \"string traits\"}",
    ];
    for body in raw_bodies {
        let resp = app
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 400, None).await;
    }
    // Invalid UTF-8 in a JSON body.
    let resp = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'])
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
    // Not JSON at all by content type.
    let resp = app
        .http
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
    assert_eq!(app.snapshot(), before);
}

#[tokio::test]
async fn oversized_bodies_are_413_and_change_nothing() {
    let app = spawn_app_with(|a| a.push("--max-body-bytes=4096".into())).await;
    let big = "x".repeat(8192);
    let resp = app
        .create_identity(&json!({"schema_id": "default", "traits": {"email": "big@example.com", "name": {"first": big}}}))
        .await;
    assert_kratos_error(resp, 413, None).await;
    assert_eq!(app.count_rows("identities"), 0);
}

#[tokio::test]
async fn bad_query_and_path_parameters_answer_in_the_envelope() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.admin_url("/admin/identities?page_size=abc"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
    let resp = app
        .http
        .get(app.admin_url("/admin/identities?page_size=0"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
    let resp = app
        .http
        .get(app.admin_url("/admin/identities?page_size=-3"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
    for id in ["not-a-uuid", "%00", "' OR 1=1 --"] {
        let resp = app
            .http
            .get(app.admin_url(&format!("/admin/identities/{id}")))
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 404, None).await;
        let resp = app
            .http
            .delete(app.admin_url(&format!("/admin/identities/{id}")))
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 404, None).await;
    }
    let resp = app
        .http
        .put(app.admin_url("/admin/identities"))
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 405, None).await;
}

#[tokio::test]
async fn sql_metacharacters_and_deep_nesting_are_just_data() {
    let app = spawn_app().await;
    let evil = "x'); DROP TABLE identities; --";
    let resp = app
        .create_identity(&json!({
            "schema_id": "default",
            "traits": {"email": "evil@example.com", "name": {"first": evil}},
            "metadata_public": {"q": evil}
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["traits"]["name"]["first"], evil);
    assert_eq!(app.count_rows("identities"), 1);

    // Nesting past serde_json's recursion limit is refused, not a crash.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!("{{\"schema_id\":\"default\",\"traits\":{{\"email\":\"d@example.com\"}},\"metadata_public\":{deep}}}");
    let resp = app
        .http
        .post(app.admin_url("/admin/identities"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
    let resp = app
        .http
        .get(app.admin_url("/health/alive"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the server is still up");
}
