use crate::helpers::assert::assert_kratos_error;
use crate::helpers::{spawn_app, spawn_in};
use serde_json::{json, Value};

#[tokio::test]
async fn create_identity_returns_201_with_location_and_derived_addresses() {
    let app = spawn_app().await;
    let resp = app
        .create_identity(&json!({
            "schema_id": "default",
            "traits": {"email": "Ada@Example.com", "name": {"first": "Ada"}},
            "metadata_public": {"plan": "free"},
            "metadata_admin": {"note": "vip"},
            "credentials": {"password": {"config": {"password": "correct horse battery"}}}
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    let id = body["id"].as_str().unwrap();
    assert!(
        location.ends_with(&format!("/admin/identities/{id}")),
        "{location}"
    );
    assert_eq!(body["state"], "active");
    assert_eq!(
        body["schema_url"],
        format!("{}/schemas/ZGVmYXVsdA", app.public)
    );
    assert_eq!(body["traits"]["email"], "Ada@Example.com");
    assert_eq!(body["metadata_public"]["plan"], "free");
    assert_eq!(body["metadata_admin"]["note"], "vip");
    assert_eq!(body["verifiable_addresses"][0]["value"], "ada@example.com");
    assert_eq!(body["verifiable_addresses"][0]["verified"], false);
    assert_eq!(body["verifiable_addresses"][0]["status"], "pending");
    assert_eq!(body["recovery_addresses"][0]["value"], "ada@example.com");
    let password = &body["credentials"]["password"];
    assert_eq!(password["identifiers"], json!(["ada@example.com"]));
    assert!(
        password.get("config").is_none(),
        "no secrets unless asked: {body}"
    );

    // The stored hash is argon2id; the plaintext is nowhere in the file.
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let config: String = conn
        .query_row("SELECT config FROM identity_credentials", [], |r| r.get(0))
        .unwrap();
    assert!(config.contains("$argon2id$"), "{config}");
    drop(conn);
    let raw = std::fs::read(&app.db_path).unwrap();
    let wal = std::fs::read(app.db_path.with_extension("sqlite-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(!bytes.windows(21).any(|w| w == b"correct horse battery"));
    }
}

#[tokio::test]
async fn an_identity_survives_a_restart_and_a_duplicate_email_gets_409() {
    let app = spawn_app().await;
    let created = app
        .create_identity_with_password("dup@example.com", "pass phrase one")
        .await;
    let id = created["id"].as_str().unwrap().to_owned();

    let (dir, db) = app.stop().await;
    let app = spawn_in(dir, db, |_| {}).await;

    let got: Value = app
        .http
        .get(app.admin_url(&format!("/admin/identities/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["traits"]["email"], "dup@example.com");
    let before = app.snapshot();

    // Same email, different case: the same login identifier.
    let resp = app
        .create_identity(&json!({
            "schema_id": "default",
            "traits": {"email": "DUP@example.com"},
            "credentials": {"password": {"config": {"password": "another pass phrase"}}}
        }))
        .await;
    assert_kratos_error(resp, 409, None).await;
    // Without a password the address alone still conflicts.
    let resp = app
        .create_identity(&json!({"schema_id": "default", "traits": {"email": "dup@example.com"}}))
        .await;
    assert_kratos_error(resp, 409, None).await;
    assert_eq!(app.snapshot(), before, "a refused create changes nothing");
}

#[tokio::test]
async fn schema_violations_are_400_with_the_failing_field_and_store_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"schema_id": "default", "traits": {"email": "not-an-email"}}),
            "traits.email",
        ),
        (
            json!({"schema_id": "default", "traits": {"name": {"first": "X"}}}),
            "traits.email",
        ),
        (
            json!({"schema_id": "default", "traits": {"email": "a@b.co", "extra": 1}}),
            "additional",
        ),
        (
            json!({"schema_id": "default", "traits": {"email": 42}}),
            "traits.email",
        ),
        (
            json!({"schema_id": "nope", "traits": {"email": "a@b.co"}}),
            "nope",
        ),
    ];
    for (body, needle) in cases {
        let resp = app.create_identity(&body).await;
        let err = assert_kratos_error(resp, 400, None).await;
        let reason = err["reason"].as_str().unwrap().to_lowercase();
        assert!(
            reason.contains(&needle.to_lowercase()),
            "{needle} not in {reason}"
        );
    }
    assert_eq!(app.count_rows("identities"), 0);
}

#[tokio::test]
async fn imported_hashes_are_accepted_when_verifiable_and_refused_otherwise() {
    let app = spawn_app().await;
    let argon =
        postern::password::hash_now(postern::password::HashParams::DEV, "imported pw").unwrap();
    let bcrypt = bcrypt::hash("imported pw", 4).unwrap();
    for (i, hash) in [argon, bcrypt].iter().enumerate() {
        let resp = app
            .create_identity(&json!({
                "schema_id": "default",
                "traits": {"email": format!("imp{i}@example.com")},
                "credentials": {"password": {"config": {"hashed_password": hash}}}
            }))
            .await;
        assert_eq!(resp.status(), 201, "{hash}");
        let body: Value = resp.json().await.unwrap();
        let id = body["id"].as_str().unwrap();
        let with_config: Value = app
            .http
            .get(app.admin_url(&format!(
                "/admin/identities/{id}?include_credential=password"
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            with_config["credentials"]["password"]["config"]["hashed_password"],
            *hash
        );
    }
    for bad in ["plaintext", "$md5$abc", "$2b$99$xx"] {
        let resp = app
            .create_identity(&json!({
                "schema_id": "default",
                "traits": {"email": "bad@example.com"},
                "credentials": {"password": {"config": {"hashed_password": bad}}}
            }))
            .await;
        assert_kratos_error(resp, 400, None).await;
    }
    assert_eq!(app.count_rows("identities"), 2);
}

#[tokio::test]
async fn list_identities_paginates_with_link_headers_and_filters_by_identifier() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let v = app
            .create_identity(
                &json!({"schema_id": "default", "traits": {"email": format!("u{i}@example.com")}}),
            )
            .await
            .json::<Value>()
            .await
            .unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    ids.sort();

    let mut seen = Vec::new();
    let mut url = app.admin_url("/admin/identities?page_size=2");
    for _ in 0..10 {
        let resp = app.http.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let link = resp.headers()["link"].to_str().unwrap().to_owned();
        assert!(link.contains("rel=\"first\""), "{link}");
        let page: Vec<Value> = resp.json().await.unwrap();
        seen.extend(page.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        let next = link
            .split(',')
            .find(|l| l.contains("rel=\"next\""))
            .map(|l| {
                l.trim()
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned()
            });
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(seen, ids, "every identity exactly once, in id order");

    let found: Vec<Value> = app
        .http
        .get(app.admin_url("/identities?credentials_identifier=U3@EXAMPLE.com"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // No password credential → no identifier; create one that has it.
    assert!(found.is_empty());
    let with_pw = app
        .create_identity_with_password("login@example.com", "pass phrase here")
        .await;
    let found: Vec<Value> = app
        .http
        .get(app.admin_url("/identities?credentials_identifier=Login@Example.com"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], with_pw["id"]);

    let resp = app
        .http
        .get(app.admin_url("/admin/identities?page_token=garbage"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
}

#[tokio::test]
async fn update_replaces_traits_and_keeps_verification_state_of_unchanged_addresses() {
    let app = spawn_app().await;
    let resp = app
        .create_identity(&json!({
            "schema_id": "default",
            "traits": {"email": "keep@example.com"},
            "verifiable_addresses": [{"value": "keep@example.com", "via": "email", "verified": true, "status": "completed"}],
            "credentials": {"password": {"config": {"password": "pass phrase here"}}}
        }))
        .await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["verifiable_addresses"][0]["verified"], true);
    let id = created["id"].as_str().unwrap();
    let url = app.admin_url(&format!("/admin/identities/{id}"));

    let resp = app
        .http
        .put(&url)
        .json(&json!({"schema_id": "default", "state": "inactive",
                      "traits": {"email": "keep@example.com", "name": {"last": "Lovelace"}},
                      "metadata_public": {"a": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["state"], "inactive");
    assert_eq!(updated["traits"]["name"]["last"], "Lovelace");
    assert_eq!(updated["verifiable_addresses"][0]["verified"], true);
    assert_eq!(
        updated["verifiable_addresses"][0]["id"],
        created["verifiable_addresses"][0]["id"]
    );
    assert_eq!(
        updated["credentials"]["password"]["identifiers"],
        json!(["keep@example.com"])
    );

    // Changing the email changes the identifier and starts a new, unverified address.
    let resp = app
        .http
        .put(&url)
        .json(&json!({"schema_id": "default", "state": "active", "traits": {"email": "new@example.com"}}))
        .send()
        .await
        .unwrap();
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(
        updated["credentials"]["password"]["identifiers"],
        json!(["new@example.com"])
    );
    assert_eq!(updated["verifiable_addresses"][0]["verified"], false);
    assert_eq!(updated["verifiable_addresses"].as_array().unwrap().len(), 1);

    // PUT needs state (spec: required).
    let resp = app
        .http
        .put(&url)
        .json(&json!({"schema_id": "default", "traits": {"email": "new@example.com"}}))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
    let resp = app
        .http
        .put(app.admin_url("/admin/identities/7d3f4b1e-0000-4000-8000-000000000000"))
        .json(&json!({"schema_id": "default", "state": "active", "traits": {"email": "x@example.com"}}))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;
}

#[tokio::test]
async fn patch_applies_json_patch_and_refuses_invalid_results() {
    let app = spawn_app().await;
    let created = app
        .create_identity_with_password("patch@example.com", "pass phrase here")
        .await;
    let url = app.admin_url(&format!(
        "/admin/identities/{}",
        created["id"].as_str().unwrap()
    ));

    let resp = app
        .http
        .patch(&url)
        .json(&json!([
            {"op": "add", "path": "/traits/name", "value": {"first": "Pat"}},
            {"op": "replace", "path": "/metadata_admin", "value": {"tier": 2}}
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let patched: Value = resp.json().await.unwrap();
    assert_eq!(patched["traits"]["name"]["first"], "Pat");
    assert_eq!(patched["metadata_admin"]["tier"], 2);
    assert_eq!(
        patched["credentials"]["password"]["identifiers"],
        json!(["patch@example.com"])
    );

    let before = app.snapshot();
    for bad in [
        json!([{"op": "replace", "path": "/traits/email", "value": "not an email"}]),
        json!([{"op": "replace", "path": "/id", "value": "00000000-0000-4000-8000-000000000000"}]),
        json!([{"op": "remove", "path": "/no/such/path"}]),
        json!([{"op": "test", "path": "/state", "value": "inactive"}]),
        json!([{"op": "frobnicate", "path": "/state"}]),
        json!({"op": "replace"}),
    ] {
        let resp = app.http.patch(&url).json(&bad).send().await.unwrap();
        assert_kratos_error(resp, 400, None).await;
    }
    assert_eq!(app.snapshot(), before);
}

#[tokio::test]
async fn delete_removes_the_identity_and_everything_it_owns() {
    let app = spawn_app().await;
    let created = app
        .create_identity_with_password("bye@example.com", "pass phrase here")
        .await;
    let url = app.admin_url(&format!(
        "/admin/identities/{}",
        created["id"].as_str().unwrap()
    ));
    let resp = app.http.delete(&url).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    for table in [
        "identities",
        "identity_credentials",
        "identity_credential_identifiers",
        "identity_verifiable_addresses",
        "identity_recovery_addresses",
    ] {
        assert_eq!(app.count_rows(table), 0, "{table}");
    }
    let resp = app.http.delete(&url).send().await.unwrap();
    assert_kratos_error(resp, 404, None).await;
    let resp = app.http.get(&url).send().await.unwrap();
    assert_kratos_error(resp, 404, None).await;
    // The email is free again.
    app.create_identity_with_password("bye@example.com", "pass phrase here")
        .await;
}

#[tokio::test]
async fn the_official_sdk_drives_the_admin_identities_api() {
    use ory_kratos_client::apis::configuration::Configuration;
    use ory_kratos_client::apis::{identity_api, metadata_api};
    use ory_kratos_client::models;

    let app = spawn_app().await;
    let config = Configuration {
        base_path: app.admin.clone(),
        ..Configuration::new()
    };
    metadata_api::is_ready(&config).await.unwrap();
    metadata_api::get_version(&config).await.unwrap();
    let schemas = identity_api::list_identity_schemas(&config, None, None, None, None)
        .await
        .unwrap();
    assert_eq!(schemas[0].id, "default");

    let mut body =
        models::CreateIdentityBody::new("default".into(), json!({"email": "sdk@example.com"}));
    let mut pw = models::IdentityWithCredentialsPasswordConfig::new();
    pw.password = Some("sdk pass phrase".into());
    let mut pwc = models::IdentityWithCredentialsPassword::new();
    pwc.config = Some(Box::new(pw));
    let mut creds = models::IdentityWithCredentials::new();
    creds.password = Some(Box::new(pwc));
    body.credentials = Some(Box::new(creds));
    let created = identity_api::create_identity(&config, Some(body))
        .await
        .unwrap();
    assert_eq!(created.schema_id, "default");

    let got = identity_api::get_identity(&config, &created.id, Some(vec!["password".into()]))
        .await
        .unwrap();
    let cred = &got.credentials.unwrap()["password"];
    assert_eq!(
        cred.identifiers.as_deref(),
        Some(&["sdk@example.com".to_owned()][..])
    );

    let list = identity_api::list_identities(
        &config,
        None,
        None,
        Some(10),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(list.len(), 1);

    let update = models::UpdateIdentityBody::new(
        "default".into(),
        models::update_identity_body::StateEnum::Inactive,
        json!({"email": "sdk@example.com", "name": {"first": "S"}}),
    );
    let updated = identity_api::update_identity(&config, &created.id, Some(update))
        .await
        .unwrap();
    assert_eq!(updated.state, Some(models::identity::StateEnum::Inactive));

    let mut op = models::JsonPatch::new("replace".into(), "/state".into());
    op.value = Some(Some(json!("active")));
    let patched = identity_api::patch_identity(&config, &created.id, Some(vec![op]))
        .await
        .unwrap();
    assert_eq!(patched.state, Some(models::identity::StateEnum::Active));

    identity_api::delete_identity(&config, &created.id)
        .await
        .unwrap();
    let err = identity_api::get_identity(&config, &created.id, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ory_kratos_client::apis::Error::ResponseError(ref r) if r.status == 404),
        "{err:?}"
    );
}
