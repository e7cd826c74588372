use crate::helpers::assert::assert_kratos_error;
use crate::helpers::browser::{
    csrf_token, flow_id_from_location, location, message_ids, node_value, Browser,
};
use crate::helpers::spawn_app;
use serde_json::{json, Value};

#[tokio::test]
async fn native_login_issues_a_new_session_token() {
    let app = spawn_app().await;
    let first = app
        .registered_token("ada@example.com", "correct horse battery")
        .await;
    let flow = app.create_native_login_flow().await;
    let names: Vec<&str> = flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["attributes"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["csrf_token", "identifier", "password", "method"]);
    assert_eq!(flow["ui"]["nodes"][1]["meta"]["label"]["id"], 1070002);
    assert_eq!(flow["requested_aal"], "aal1");
    assert_eq!(flow["refresh"], false);

    let (status, body) = app
        .login_native("  ADA@example.com ", "correct horse battery")
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["session_token"].as_str().unwrap();
    assert_ne!(token, first);
    assert_eq!(
        body["session"]["authentication_methods"][0]["method"],
        "password"
    );
    assert_eq!(body["session"]["authenticator_assurance_level"], "aal1");
    assert_eq!(app.whoami_status(token).await, 200);
    assert_eq!(app.whoami_status(&first).await, 200, "other sessions stay");
}

/// Arrange a browser flow, submit a wrong password for a known account, then the
/// same for the same (now unknown) account: the answers must not differ.
#[tokio::test]
async fn wrong_password_and_unknown_email_get_identical_answers() {
    let app = spawn_app().await;
    let identity = app
        .create_identity_with_password("known@example.com", "correct horse battery")
        .await;
    let browser = Browser::new();
    let flow: Value = browser
        .http
        .get(app.public_url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let submit = |csrf: String| {
        browser
            .http
            .post(flow["ui"]["action"].as_str().unwrap())
            .header("Accept", "application/json")
            .json(&json!({"method": "password", "csrf_token": csrf,
                          "identifier": "known@example.com", "password": "not the password"}))
            .send()
    };
    let known = submit(csrf_token(&flow)).await.unwrap();
    assert_eq!(known.status(), 400);
    let mut known: Value = known.json().await.unwrap();
    assert_eq!(message_ids(&known), vec![4000006]);

    let url = app.admin_url(&format!(
        "/admin/identities/{}",
        identity["id"].as_str().unwrap()
    ));
    assert_eq!(app.http.delete(url).send().await.unwrap().status(), 204);
    let unknown = submit(csrf_token(&known)).await.unwrap();
    assert_eq!(unknown.status(), 400);
    let mut unknown: Value = unknown.json().await.unwrap();

    for v in [&mut known, &mut unknown] {
        let csrf = v["ui"]["nodes"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|n| n["attributes"]["name"] == "csrf_token")
            .unwrap();
        csrf["attributes"]["value"] = json!("<masked>");
    }
    assert_eq!(
        serde_json::to_string(&known).unwrap(),
        serde_json::to_string(&unknown).unwrap()
    );
    assert_eq!(
        node_value(&known, "identifier"),
        Some(json!("known@example.com"))
    );
    assert!(node_value(&known, "password").is_none());
}

#[tokio::test]
async fn browser_login_with_a_form_goes_back_to_the_form_then_lands_on_return_to() {
    let app = spawn_app().await;
    app.create_identity_with_password("form@example.com", "correct horse battery")
        .await;
    let browser = Browser::new();
    let resp = browser
        .http
        .get(app.public_url("/self-service/login/browser"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let id = flow_id_from_location(&location(&resp));
    let flow_url = app.public_url(&format!("/self-service/login/flows?id={id}"));
    let flow: Value = browser
        .http
        .get(&flow_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let resp = browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf_token(&flow).as_str()),
            ("identifier", "form@example.com"),
            ("password", "wrong one"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).contains(&format!("/ui/login?flow={id}")));
    let flow: Value = browser
        .http
        .get(&flow_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message_ids(&flow), vec![4000006]);

    let resp = browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf_token(&flow).as_str()),
            ("identifier", "form@example.com"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), format!("{}/ui/welcome", app.public));
    let resp = browser
        .http
        .get(app.public_url("/sessions/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Logged in: a new login flow redirects away (HTML) or is refused (JSON).
    let resp = browser
        .http
        .get(app.public_url("/self-service/login/browser"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), format!("{}/ui/welcome", app.public));
    let resp = browser
        .http
        .get(app.public_url("/self-service/login/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, Some("session_already_available")).await;
}

#[tokio::test]
async fn refresh_login_keeps_the_session_and_moves_authenticated_at() {
    let app = spawn_app().await;
    let token = app
        .registered_token("re@example.com", "correct horse battery")
        .await;
    let before: Value = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.clock.advance(time::Duration::minutes(30));
    let flow: Value = app
        .http
        .get(app.public_url("/self-service/login/api?refresh=true"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flow["refresh"], true);
    assert_eq!(
        node_value(&flow, "identifier"),
        Some(json!("re@example.com"))
    );
    assert_eq!(message_ids(&flow), vec![1010003]);
    let resp = app
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("X-Session-Token", &token)
        .json(&json!({"method": "password", "identifier": "re@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["session"]["id"], before["id"]);
    assert_eq!(body["session_token"], token);
    assert_ne!(
        body["session"]["authenticated_at"],
        before["authenticated_at"]
    );
    assert_eq!(
        body["session"]["authentication_methods"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Without refresh, a logged-in native client cannot start a login flow.
    let resp = app
        .http
        .get(app.public_url("/self-service/login/api"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, Some("session_already_available")).await;
}

#[tokio::test]
async fn aal_and_method_errors() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.public_url("/self-service/login/api?aal=aal2"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 401, Some("session_aal1_required")).await;
    let resp = app
        .http
        .get(app.public_url("/self-service/login/api?aal=aal9"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;

    let flow = app.create_native_login_flow().await;
    let url = flow["ui"]["action"].as_str().unwrap();
    let (status, body) = app
        .post_json(url, &json!({"method": "totp", "totp_code": "1"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(message_ids(&body), vec![4010002]);
    let (status, body) = app
        .post_json(
            url,
            &json!({"method": "password", "identifier": "x@example.com"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        crate::helpers::browser::node_message_ids(&body, "password"),
        vec![4000002]
    );
}

#[tokio::test]
async fn imported_bcrypt_passwords_log_in_and_are_rehashed_to_argon2id() {
    let app = spawn_app().await;
    let hash = bcrypt::hash("legacy passphrase", 4).unwrap();
    let resp = app
        .create_identity(&json!({"schema_id": "default", "traits": {"email": "legacy@example.com"},
                                 "credentials": {"password": {"config": {"hashed_password": hash}}}}))
        .await;
    assert_eq!(resp.status(), 201);
    let (status, _) = app.login_native("legacy@example.com", "wrong").await;
    assert_eq!(status, 400);
    let (status, body) = app
        .login_native("legacy@example.com", "legacy passphrase")
        .await;
    assert_eq!(status, 200, "{body}");
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let config: String = conn
        .query_row("SELECT config FROM identity_credentials", [], |r| r.get(0))
        .unwrap();
    assert!(config.contains("$argon2id$v=19$m=64,t=1,p=1$"), "{config}");
    let (status, _) = app
        .login_native("legacy@example.com", "legacy passphrase")
        .await;
    assert_eq!(status, 200, "the new hash verifies");
}

#[tokio::test]
async fn a_disabled_identity_cannot_log_in() {
    let app = spawn_app().await;
    let identity = app
        .create_identity_with_password("off@example.com", "correct horse battery")
        .await;
    app.set_identity_state(identity["id"].as_str().unwrap(), "inactive")
        .await;
    let (status, body) = app
        .login_native("off@example.com", "correct horse battery")
        .await;
    assert_eq!(status, 400);
    assert_eq!(message_ids(&body), vec![4010011]);
}
