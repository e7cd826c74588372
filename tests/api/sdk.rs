//! The official Kratos Rust client drives Postern: its generated models must
//! deserialize every response, which is what breaks real clients first. (Flows
//! are checked with `assert_flow_fits`: see `helpers/sdk.rs` for the SDK's UI
//! node bug that no server can satisfy.)

use crate::helpers::browser::{csrf_token, Browser};
use crate::helpers::sdk::{assert_fits_with_continue_with, assert_flow_fits};
use crate::helpers::spawn_app;
use ory_kratos_client::apis::configuration::Configuration;
use ory_kratos_client::apis::frontend_api as frontend;
use ory_kratos_client::models;
use serde_json::{json, Value};

fn config(base: &str) -> Configuration {
    Configuration {
        base_path: base.to_owned(),
        ..Configuration::new()
    }
}

#[tokio::test]
async fn the_sdk_registers_logs_in_lists_sessions_and_logs_out() {
    let app = spawn_app().await;
    let cfg = config(&app.public);

    // Register: the flow is created and submitted over HTTP with the SDK's own
    // request body; the response is checked against the SDK's models (the SDK's
    // functions cannot parse flows or `continue_with` items: helpers/sdk.rs).
    let flow: models::RegistrationFlow =
        assert_flow_fits(&app.create_native_registration_flow().await);
    assert_eq!(flow.r#type, "api");
    let body = models::UpdateRegistrationFlowBody::Password(Box::new(
        models::UpdateRegistrationFlowWithPasswordMethod::new(
            "password".into(),
            "correct horse battery".into(),
            json!({"email": "sdk@example.com", "name": {"first": "S", "last": "DK"}}),
        ),
    ));
    let (status, raw) = app
        .post_json(
            &app.public_url(&format!("/self-service/registration?flow={}", flow.id)),
            &serde_json::to_value(&body).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{raw}");
    let registered: models::SuccessfulNativeRegistration = assert_fits_with_continue_with(&raw);
    let token = registered.session_token.clone().unwrap();
    assert_eq!(
        registered.identity.traits.as_ref().unwrap()["email"],
        "sdk@example.com"
    );
    assert_eq!(raw["continue_with"][0]["action"], "set_ory_session_token");

    // whoami.
    let session = frontend::to_session(&cfg, Some(&token), None, None)
        .await
        .unwrap();
    assert_eq!(session.active, Some(true));
    assert_eq!(session.identity.unwrap().id, registered.identity.id);

    // Log in again (a second session), then list my other sessions.
    let flow: models::LoginFlow = assert_flow_fits(&app.create_native_login_flow().await);
    let body = models::UpdateLoginFlowBody::Password(Box::new(
        models::UpdateLoginFlowWithPasswordMethod::new(
            "sdk@example.com".into(),
            "password".into(),
            "correct horse battery".into(),
        ),
    ));
    let login = frontend::update_login_flow(&cfg, &flow.id, body, None, None)
        .await
        .unwrap();
    let second = login.session_token.unwrap();
    let others = frontend::list_my_sessions(&cfg, None, None, None, None, Some(&second), None)
        .await
        .unwrap();
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].id, session.id);

    // A failed login is a 400 carrying the flow.
    let flow: models::LoginFlow = assert_flow_fits(&app.create_native_login_flow().await);
    let body = models::UpdateLoginFlowBody::Password(Box::new(
        models::UpdateLoginFlowWithPasswordMethod::new(
            "sdk@example.com".into(),
            "password".into(),
            "wrong password!".into(),
        ),
    ));
    let err = frontend::update_login_flow(&cfg, &flow.id, body, None, None)
        .await
        .unwrap_err();
    let ory_kratos_client::apis::Error::ResponseError(r) = err else {
        panic!("{err:?}")
    };
    assert_eq!(r.status, 400);
    let flow: models::LoginFlow = assert_flow_fits(&serde_json::from_str(&r.content).unwrap());
    assert_eq!(flow.ui.messages.unwrap()[0].id, 4000006);

    // Revoke the others, then log out.
    let count = frontend::disable_my_other_sessions(&cfg, Some(&second), None)
        .await
        .unwrap();
    assert_eq!(count.count, Some(1));
    frontend::perform_native_logout(&cfg, models::PerformNativeLogoutBody::new(second.clone()))
        .await
        .unwrap();
    assert!(frontend::to_session(&cfg, Some(&second), None, None)
        .await
        .is_err());
    assert!(frontend::to_session(&cfg, Some(&token), None, None)
        .await
        .is_err());
}

#[tokio::test]
async fn browser_flows_and_errors_fit_the_sdk_models() {
    let app = spawn_app().await;
    let browser = Browser::new();
    let get = |path: &str| {
        browser
            .http
            .get(app.public_url(path))
            .header("Accept", "application/json")
            .send()
    };
    let login: Value = get("/self-service/login/browser")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _: models::LoginFlow = assert_flow_fits(&login);
    let reg: Value = get("/self-service/registration/browser")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parsed: models::RegistrationFlow = assert_flow_fits(&reg);
    assert_eq!(parsed.ui.action, reg["ui"]["action"]);

    // A 400 flow with messages on nodes.
    let resp = browser
        .http
        .post(reg["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "csrf_token": csrf_token(&reg), "traits": {"email": "bad"}, "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let _: models::RegistrationFlow = assert_flow_fits(&resp.json().await.unwrap());

    // Success with continue_with, then whoami, the sessions list and the logout flow.
    let resp = browser
        .http
        .post(reg["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "csrf_token": csrf_token(&reg), "traits": {"email": "b@example.com"}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let done: models::SuccessfulNativeRegistration =
        assert_fits_with_continue_with(&resp.json().await.unwrap());
    assert!(done.session.is_some());
    let _: models::Session = get("/sessions/whoami").await.unwrap().json().await.unwrap();
    let _: Vec<models::Session> = get("/sessions").await.unwrap().json().await.unwrap();
    let logout: models::LogoutFlow = get("/self-service/logout/browser")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(logout.logout_token.starts_with("ory_lo_"));

    // Errors: the generic envelope, the expired-flow error and stored flow errors.
    let resp = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .send()
        .await
        .unwrap();
    let _: models::ErrorGeneric = resp.json().await.unwrap();
    let flow = app.create_native_login_flow().await;
    app.clock.advance(time::Duration::hours(2));
    let resp = app
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .json(&json!({"method": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 410);
    let _: models::ErrorGeneric = resp.json().await.unwrap();
    let resp = app
        .http
        .get(app.public_url("/self-service/errors?id=stub:500"))
        .send()
        .await
        .unwrap();
    let _: models::FlowError = resp.json().await.unwrap();
}

#[tokio::test]
async fn recovery_verification_settings_and_courier_fit_the_sdk_models() {
    let app = spawn_app().await;
    let token = app
        .registered_token("models@example.com", "correct horse battery")
        .await;
    let (_, v) = app
        .get_json(&app.public_url("/self-service/verification/api"))
        .await;
    let _: models::VerificationFlow = assert_flow_fits(&v);
    let (_, sent) = app
        .post_json(
            v["ui"]["action"].as_str().unwrap(),
            &json!({"method": "code", "email": "models@example.com"}),
        )
        .await;
    let _: models::VerificationFlow = assert_flow_fits(&sent);
    let code = app.code_sent_to("models@example.com").await;
    let (_, passed) = app
        .post_json(
            v["ui"]["action"].as_str().unwrap(),
            &json!({"method": "code", "code": code}),
        )
        .await;
    let _: models::VerificationFlow = assert_flow_fits(&passed);

    let resp = app
        .http
        .get(app.public_url("/self-service/settings/api"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    let settings: Value = resp.json().await.unwrap();
    let parsed: models::SettingsFlow = assert_flow_fits(&settings);
    assert_eq!(parsed.identity.id, settings["identity"]["id"]);
    app.clock.advance(time::Duration::minutes(20));
    let resp = app
        .http
        .post(settings["ui"]["action"].as_str().unwrap())
        .header("X-Session-Token", &token)
        .json(&json!({"method": "password", "password": "a whole new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let _: models::NeedsPrivilegedSessionError = resp.json().await.unwrap();

    let (_, r) = app
        .get_json(&app.public_url("/self-service/recovery/api"))
        .await;
    let _: models::RecoveryFlow = assert_flow_fits(&r);
    app.post_json(
        r["ui"]["action"].as_str().unwrap(),
        &json!({"method": "code", "email": "models@example.com"}),
    )
    .await;
    let code = app.code_sent_to("models@example.com").await;
    let (_, done) = app
        .post_json(
            r["ui"]["action"].as_str().unwrap(),
            &json!({"method": "code", "code": code}),
        )
        .await;
    let _: models::RecoveryFlow = assert_flow_fits(&done);

    let admin = config(&app.admin);
    let messages =
        ory_kratos_client::apis::courier_api::list_courier_messages(&admin, None, None, None, None)
            .await
            .unwrap();
    assert!(messages.len() >= 3);
    let one = ory_kratos_client::apis::courier_api::get_courier_message(&admin, &messages[0].id)
        .await
        .unwrap();
    assert_eq!(one.id, messages[0].id);
    let code = ory_kratos_client::apis::identity_api::create_recovery_code_for_identity(
        &admin,
        Some(models::CreateRecoveryCodeForIdentityBody::new(
            parsed.identity.id.clone(),
        )),
    )
    .await
    .unwrap();
    assert_eq!(code.recovery_code.len(), 6);
}
