use crate::helpers::assert::assert_kratos_error;
use crate::helpers::browser::{csrf_token, message_ids, Browser};
use crate::helpers::spawn_app;
use serde_json::{json, Value};

fn strip(mut flow: Value) -> Value {
    for k in ["id", "request_url", "issued_at", "expires_at"] {
        flow[k] = Value::Null;
    }
    flow["ui"]["action"] = Value::Null;
    for n in flow["ui"]["nodes"].as_array_mut().unwrap() {
        if n["attributes"]["name"] == "email" || n["attributes"]["name"] == "csrf_token" {
            n["attributes"]["value"] = Value::Null;
        }
    }
    flow
}

#[tokio::test]
async fn known_and_unknown_addresses_get_identical_answers_and_different_mail() {
    let app = spawn_app().await;
    app.create_identity_with_password("known@example.com", "correct horse battery")
        .await;
    let mut answers = Vec::new();
    for email in ["known@example.com", "ghost@example.com"] {
        let (_, flow) = app
            .get_json(&app.public_url("/self-service/recovery/api"))
            .await;
        let (status, sent) = app
            .post_json(
                flow["ui"]["action"].as_str().unwrap(),
                &json!({"method": "code", "email": email}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(sent["state"], "sent_email");
        assert_eq!(message_ids(&sent), vec![1060003]);
        answers.push(strip(sent));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        app.last_message_to("known@example.com").await["template_type"],
        "recovery_code_valid"
    );
    let ghost = app.last_message_to("ghost@example.com").await;
    assert_eq!(ghost["template_type"], "recovery_code_invalid");
    assert!(crate::helpers::courier::six_digits(ghost["body"].as_str().unwrap()).is_none());
}

/// Recover by code as an SPA, set a new password in the settings flow it hands
/// over, and check old password, new password and other sessions.
#[tokio::test]
async fn recovery_by_code_leads_to_a_new_password_and_ends_other_sessions() {
    let app = spawn_app().await;
    let old_token = app
        .registered_token("lost@example.com", "forgotten passphrase")
        .await;
    let browser = Browser::new();
    let flow: Value = browser
        .http
        .get(app.public_url("/self-service/recovery/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let action = flow["ui"]["action"].as_str().unwrap().to_owned();
    let post = |body: Value| {
        browser
            .http
            .post(&action)
            .header("Accept", "application/json")
            .json(&body)
            .send()
    };
    let sent: Value = post(
        json!({"method": "code", "email": "lost@example.com", "csrf_token": csrf_token(&flow)}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let code = app.code_sent_to("lost@example.com").await;

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let resp = post(json!({"method": "code", "code": wrong, "csrf_token": csrf_token(&sent)}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(message_ids(&resp.json().await.unwrap()), vec![4060006]);

    let resp = post(json!({"method": "code", "code": code, "csrf_token": csrf_token(&sent)}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["id"], "browser_location_change_required");
    let target = body["redirect_browser_to"].as_str().unwrap();
    assert!(
        target.starts_with(&format!("{}/ui/settings?flow=", app.public)),
        "{target}"
    );
    let settings_id = crate::helpers::browser::flow_id_from_location(target);

    // The recovered browser is logged in and its settings flow says so.
    let settings: Value = browser
        .http
        .get(app.public_url(&format!("/self-service/settings/flows?id={settings_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message_ids(&settings), vec![1060001]);
    assert_eq!(settings["identity"]["traits"]["email"], "lost@example.com");
    let resp = browser
        .http
        .post(settings["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "password": "brand new passphrase", "csrf_token": csrf_token(&settings)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let saved: Value = resp.json().await.unwrap();
    assert_eq!(saved["state"], "success");
    assert_eq!(message_ids(&saved), vec![1050001]);

    let (status, _) = app
        .login_native("lost@example.com", "forgotten passphrase")
        .await;
    assert_eq!(status, 400, "the old password no longer works");
    let (status, _) = app
        .login_native("lost@example.com", "brand new passphrase")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.whoami_status(&old_token).await,
        401,
        "other sessions were revoked"
    );
    // Receiving the code proved the address.
    let me: Value = browser
        .http
        .get(app.public_url("/sessions/whoami"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["identity"]["verifiable_addresses"][0]["verified"], true);
    assert_eq!(me["authentication_methods"][0]["method"], "code_recovery");

    // The code cannot be used twice.
    let resp = post(json!({"method": "code", "code": code, "csrf_token": csrf_token(&sent)}))
        .await
        .unwrap();
    assert_eq!(message_ids(&resp.json().await.unwrap()), vec![4060001]);
}

#[tokio::test]
async fn native_recovery_returns_the_token_and_settings_flow_in_continue_with() {
    let app = spawn_app().await;
    app.create_identity_with_password("app@example.com", "correct horse battery")
        .await;
    let (_, done) = app.recover_native("app@example.com").await;
    assert_eq!(done["state"], "passed_challenge");
    let token = done["continue_with"][0]["ory_session_token"]
        .as_str()
        .unwrap();
    assert_eq!(done["continue_with"][1]["action"], "show_settings_ui");
    let settings_id = done["continue_with"][1]["flow"]["id"].as_str().unwrap();
    let resp = app
        .http
        .post(app.public_url(&format!("/self-service/settings?flow={settings_id}")))
        .header("X-Session-Token", token)
        .json(&json!({"method": "password", "password": "another new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, _) = app
        .login_native("app@example.com", "another new passphrase")
        .await;
    assert_eq!(status, 200);
    // The token is not kept in the flow.
    let (_, again) = app
        .get_json(&app.public_url(&format!(
            "/self-service/recovery/flows?id={}",
            done["id"].as_str().unwrap()
        )))
        .await;
    assert!(again.get("continue_with").is_none(), "{again}");
}

#[tokio::test]
async fn a_code_used_twice_at_once_succeeds_once() {
    let app = spawn_app().await;
    app.create_identity_with_password("race@example.com", "correct horse battery")
        .await;
    let (_, flow) = app
        .get_json(&app.public_url("/self-service/recovery/api"))
        .await;
    let action = flow["ui"]["action"].as_str().unwrap().to_owned();
    app.post_json(
        &action,
        &json!({"method": "code", "email": "race@example.com"}),
    )
    .await;
    let code = app.code_sent_to("race@example.com").await;
    let body = json!({"method": "code", "code": code});
    let attempts = (0..6).map(|_| app.post_json(&action, &body));
    let results = futures_util::future::join_all(attempts).await;
    let recovered = results
        .iter()
        .filter(|(_, b)| b["state"] == "passed_challenge" && b.get("continue_with").is_some())
        .count();
    assert_eq!(recovered, 1, "{results:?}");
    assert_eq!(app.count_rows("sessions"), 1);
}

#[tokio::test]
async fn admins_can_create_a_recovery_code() {
    let app = spawn_app().await;
    let identity = app
        .create_identity_with_password("help@example.com", "correct horse battery")
        .await;
    let (status, body) = app
        .post_json(
            &app.admin_url("/admin/recovery/code"),
            &json!({"identity_id": identity["id"], "expires_in": "15m"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let code = body["recovery_code"].as_str().unwrap();
    let link = body["recovery_link"].as_str().unwrap();
    assert!(link.starts_with(&format!("{}/ui/recovery?flow=", app.public)));
    let flow_id = crate::helpers::browser::flow_id_from_location(link);
    // The user opens the link in any browser: no CSRF binding for admin-made flows.
    let browser = Browser::new();
    let resp = browser
        .http
        .post(app.public_url(&format!("/self-service/recovery?flow={flow_id}")))
        .form(&[("method", "code"), ("code", code)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .contains("/ui/settings?flow="));
    assert!(browser.cookie(&app.public, "ory_kratos_session").is_some());

    let (status, _) = app
        .post_json(
            &app.admin_url("/admin/recovery/code"),
            &json!({"identity_id": "00000000-0000-4000-8000-000000000000"}),
        )
        .await;
    assert_eq!(status, 404);
    let resp = app
        .http
        .post(app.admin_url("/admin/recovery/code"))
        .json(&json!({"identity_id": identity["id"], "expires_in": "soon"}))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;
}

#[tokio::test]
async fn logged_in_users_cannot_start_recovery() {
    let app = spawn_app().await;
    let token = app
        .registered_token("in@example.com", "correct horse battery")
        .await;
    let resp = app
        .http
        .get(app.public_url("/self-service/recovery/api"))
        .header("X-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, Some("session_already_available")).await;
}
