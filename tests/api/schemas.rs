use crate::helpers::assert::assert_kratos_error;
use crate::helpers::{spawn_app, spawn_app_with};
use serde_json::Value;

#[tokio::test]
async fn builtin_schema_is_listed_and_served_by_raw_and_encoded_id() {
    let app = spawn_app().await;
    let expected: Value =
        serde_json::from_str(include_str!("../../src/identity/default.schema.json")).unwrap();
    for base in [&app.public, &app.admin] {
        let list: Value = app
            .http
            .get(format!("{base}/schemas"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list[0]["id"], "default");
        assert_eq!(list[0]["schema"], expected);
        for id in ["default", "ZGVmYXVsdA"] {
            let resp = app
                .http
                .get(format!("{base}/schemas/{id}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.json::<Value>().await.unwrap(), expected);
        }
    }
    let resp = app
        .http
        .get(app.public_url("/schemas/missing"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;
}

#[tokio::test]
async fn custom_schemas_are_loaded_and_used_for_validation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customer.json");
    std::fs::write(
        &path,
        r#"{"$schema":"http://json-schema.org/draft-07/schema#","type":"object",
            "properties":{"traits":{"type":"object","properties":{
              "username":{"type":"string","minLength":3,"title":"Username",
                "ory.sh/kratos":{"credentials":{"password":{"identifier":true}}}},
              "age":{"type":"integer","minimum":13}},
            "required":["username"]}}}"#,
    )
    .unwrap();
    let arg = format!("--identity-schema=customer={}", path.display());
    let app = spawn_app_with(|a| {
        a.push(arg);
        a.push("--default-schema-id=customer".into());
    })
    .await;

    let list: Value = app
        .http
        .get(app.public_url("/schemas"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], "customer");

    let resp = app
        .create_identity(&serde_json::json!({
            "traits": {"username": "Zed", "age": 30},
            "credentials": {"password": {"config": {"password": "a long passphrase"}}}
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["schema_id"], "customer");
    assert_eq!(body["credentials"]["password"]["identifiers"][0], "zed");

    let resp = app
        .create_identity(&serde_json::json!({"traits": {"username": "Amy", "age": 5}}))
        .await;
    let err = assert_kratos_error(resp, 400, None).await;
    assert!(
        err["reason"].as_str().unwrap().contains("traits.age"),
        "{err}"
    );
}
