use crate::helpers::assert::assert_kratos_error;
use crate::helpers::browser::{
    csrf_token, location, message_ids, node_message_ids, node_value, Browser,
};
use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};

async fn settings_flow(app: &TestApp, token: &str) -> Value {
    let resp = app
        .http
        .get(app.public_url("/self-service/settings/api"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn submit(app: &TestApp, token: &str, flow: &Value, body: Value) -> reqwest::Response {
    app.http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("X-Session-Token", token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn settings_show_the_identity_and_save_profile_changes() {
    let app = spawn_app().await;
    let token = app
        .registered_token("me@example.com", "correct horse battery")
        .await;
    let flow = settings_flow(&app, &token).await;
    assert_eq!(flow["state"], "show_form");
    assert_eq!(flow["identity"]["traits"]["email"], "me@example.com");
    assert_eq!(
        node_value(&flow, "traits.email"),
        Some(json!("me@example.com"))
    );
    let resp = submit(&app, &token, &flow, json!({"method": "profile", "traits": {"email": "me@example.com", "name": {"first": "Me"}}})).await;
    assert_eq!(resp.status(), 200);
    let saved: Value = resp.json().await.unwrap();
    assert_eq!(saved["state"], "success");
    assert_eq!(message_ids(&saved), vec![1050001]);
    assert_eq!(saved["identity"]["traits"]["name"]["first"], "Me");

    // Invalid traits are a 400 flow with the message on the node; no change is 4000001.
    let resp = submit(
        &app,
        &token,
        &flow,
        json!({"method": "profile", "traits": {"email": "nope"}}),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        node_message_ids(&resp.json().await.unwrap(), "traits.email"),
        vec![4000040]
    );
    let resp = submit(&app, &token, &flow, json!({"method": "profile", "traits": {"email": "me@example.com", "name": {"first": "Me"}}})).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(message_ids(&resp.json().await.unwrap()), vec![4000001]);
}

#[tokio::test]
async fn sensitive_changes_need_a_recent_login() {
    let app = spawn_app().await;
    let token = app
        .registered_token("old@example.com", "correct horse battery")
        .await;
    app.clock.advance(time::Duration::minutes(16));
    let flow = settings_flow(&app, &token).await;
    let flow_id = flow["id"].as_str().unwrap();
    for body in [
        json!({"method": "password", "password": "a fresh passphrase"}),
        json!({"method": "profile", "traits": {"email": "new@example.com"}}),
    ] {
        let resp = submit(&app, &token, &flow, body).await;
        assert_eq!(resp.status(), 403);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["id"], "session_refresh_required");
        let to = err["redirect_browser_to"].as_str().unwrap();
        assert!(
            to.contains("/self-service/login/browser?refresh=true&return_to="),
            "{to}"
        );
        assert!(to.contains(flow_id));
    }
    // A non-sensitive change is fine.
    let resp = submit(
        &app,
        &token,
        &flow,
        json!({"method": "profile", "traits": {"email": "old@example.com", "name": {"last": "X"}}}),
    )
    .await;
    assert_eq!(resp.status(), 200);

    // After re-authenticating, the email change goes through and is verified anew.
    let (_, login) = app
        .get_json(&app.public_url("/self-service/login/api?refresh=true"))
        .await;
    let resp = app
        .http
        .get(app.public_url("/self-service/login/api?refresh=true"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    let login_flow: Value = resp.json().await.unwrap();
    assert!(login["id"].is_string());
    let resp = app
        .http
        .post(login_flow["ui"]["action"].as_str().unwrap())
        .header("X-Session-Token", &token)
        .json(&json!({"method": "password", "identifier": "old@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = submit(
        &app,
        &token,
        &flow,
        json!({"method": "profile", "traits": {"email": "new@example.com"}}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let saved: Value = resp.json().await.unwrap();
    assert_eq!(saved["continue_with"][0]["action"], "show_verification_ui");
    assert_eq!(
        saved["identity"]["verifiable_addresses"][0]["value"],
        "new@example.com"
    );
    assert_eq!(
        saved["identity"]["verifiable_addresses"][0]["verified"],
        false
    );
    assert_eq!(
        app.last_message_to("new@example.com").await["template_type"],
        "verification_code_valid"
    );
    let (status, _) = app
        .login_native("new@example.com", "correct horse battery")
        .await;
    assert_eq!(status, 200, "the new email is the login identifier now");
}

#[tokio::test]
async fn password_changes_follow_the_policy_and_end_other_sessions_unless_told_not_to() {
    for keep in [false, true] {
        let app = spawn_app_with(|a| {
            if keep {
                a.push("--keep-sessions-on-password-change".into());
            }
        })
        .await;
        let token = app
            .registered_token("pw@example.com", "correct horse battery")
            .await;
        let (_, other) = app
            .login_native("pw@example.com", "correct horse battery")
            .await;
        let other = other["session_token"].as_str().unwrap().to_owned();
        let flow = settings_flow(&app, &token).await;
        for (pw, id) in [
            ("short", 4000032),
            ("password1", 4000034),
            ("correct horse battery", 4000039),
        ] {
            let resp = submit(
                &app,
                &token,
                &flow,
                json!({"method": "password", "password": pw}),
            )
            .await;
            assert_eq!(resp.status(), 400);
            assert_eq!(
                node_message_ids(&resp.json().await.unwrap(), "password"),
                vec![id],
                "{pw}"
            );
        }
        let resp = submit(
            &app,
            &token,
            &flow,
            json!({"method": "password", "password": "a much better passphrase"}),
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            app.whoami_status(&token).await,
            200,
            "the current session stays"
        );
        assert_eq!(
            app.whoami_status(&other).await,
            if keep { 200 } else { 401 }
        );
    }
}

#[tokio::test]
async fn settings_need_a_session_and_belong_to_one_identity() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.public_url("/self-service/settings/api"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 401, Some("session_inactive")).await;
    let resp = app
        .http
        .get(app.public_url("/self-service/settings/browser"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).contains("/self-service/login/browser"));

    let alice = app
        .registered_token("alice@example.com", "correct horse battery")
        .await;
    let bob = app
        .registered_token("bob@example.com", "correct horse battery")
        .await;
    let flow = settings_flow(&app, &alice).await;
    let resp = app
        .http
        .get(app.public_url(&format!(
            "/self-service/settings/flows?id={}",
            flow["id"].as_str().unwrap()
        )))
        .header("X-Session-Token", &bob)
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 403, Some("security_identity_mismatch")).await;
    let resp = submit(
        &app,
        &bob,
        &flow,
        json!({"method": "profile", "traits": {"email": "bob@example.com"}}),
    )
    .await;
    assert_kratos_error(resp, 403, Some("security_identity_mismatch")).await;
}

#[tokio::test]
async fn a_browser_changes_its_profile_with_a_form() {
    let app = spawn_app().await;
    let browser = Browser::new();
    let reg: Value = browser
        .http
        .get(app.public_url("/self-service/registration/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    browser
        .http
        .post(reg["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "csrf_token": csrf_token(&reg), "traits": {"email": "form@example.com"}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let resp = browser
        .http
        .get(app.public_url("/self-service/settings/browser"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let id = crate::helpers::browser::flow_id_from_location(&location(&resp));
    let flow_url = app.public_url(&format!("/self-service/settings/flows?id={id}"));
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
            ("method", "profile"),
            ("traits.email", "form@example.com"),
            ("traits.name.first", "Formed"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).contains(&format!("/ui/settings?flow={id}")));
    let flow: Value = browser
        .http
        .get(&flow_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flow["state"], "success");
    assert_eq!(flow["identity"]["traits"]["name"]["first"], "Formed");
    // Without the CSRF token the change is refused.
    let resp = browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "profile", "traits": {"email": "form@example.com", "name": {"first": "Evil"}}}))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 403, Some("security_csrf_violation")).await;
}
