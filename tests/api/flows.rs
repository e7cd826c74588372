//! Flow lifecycle: unknown, malformed and expired flows; return_to checks; API
//! flows refusing browser traffic.

use crate::helpers::assert::assert_kratos_error;
use crate::helpers::browser::{csrf_token, flow_id_from_location, location, message_ids, Browser};
use crate::helpers::{spawn_app, spawn_app_with};
use serde_json::{json, Value};

#[tokio::test]
async fn unknown_and_malformed_flow_ids() {
    let app = spawn_app().await;
    for kind in ["login", "registration"] {
        let resp = app
            .http
            .get(app.public_url(&format!(
                "/self-service/{kind}/flows?id=00000000-0000-4000-8000-000000000000"
            )))
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 404, None).await;
        let resp = app
            .http
            .get(app.public_url(&format!("/self-service/{kind}/flows?id=garbage")))
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 404, None).await;
        let resp = app
            .http
            .get(app.public_url(&format!("/self-service/{kind}/flows")))
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 404, None).await;
        for q in ["", "?flow=", "?flow=nope"] {
            let resp = app
                .http
                .post(app.public_url(&format!("/self-service/{kind}{q}")))
                .json(&json!({"method": "password"}))
                .send()
                .await
                .unwrap();
            assert_kratos_error(resp, 400, None).await;
        }
        let resp = app
            .http
            .post(app.public_url(&format!(
                "/self-service/{kind}?flow=00000000-0000-4000-8000-000000000000"
            )))
            .json(&json!({"method": "password"}))
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 404, None).await;
    }
    // A login flow id is not a registration flow.
    let login = app.create_native_login_flow().await;
    let resp = app
        .http
        .get(app.public_url(&format!(
            "/self-service/registration/flows?id={}",
            login["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;
}

#[tokio::test]
async fn an_expired_flow_answers_410_with_a_replacement_or_redirects_browsers() {
    let app = spawn_app().await;
    let flow = app.create_native_login_flow().await;
    let id = flow["id"].as_str().unwrap();
    app.clock.advance(time::Duration::minutes(61));

    let resp = app
        .http
        .get(app.public_url(&format!("/self-service/login/flows?id={id}")))
        .send()
        .await
        .unwrap();
    let err = assert_kratos_error(resp, 410, Some("self_service_flow_expired")).await;
    assert!(err["details"]["api"]
        .as_str()
        .unwrap()
        .ends_with("/self-service/login/api"));

    let resp = app
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .json(&json!({"method": "password", "identifier": "a@b.co", "password": "whatever123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 410);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["id"], "self_service_flow_expired");
    assert!(body["since"].as_i64().unwrap() >= 60_000_000_000);
    assert!(body["expired_at"].is_string());
    let new_id = body["use_flow_id"].as_str().unwrap();
    let (status, replacement) = app
        .get_json(&app.public_url(&format!("/self-service/login/flows?id={new_id}")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(message_ids(&replacement), vec![4010001]);
    assert_eq!(replacement["type"], "api");

    // Browsers are sent to the replacement flow's UI.
    let browser = Browser::new();
    let resp = browser
        .http
        .get(app.public_url("/self-service/registration/browser"))
        .send()
        .await
        .unwrap();
    let old = flow_id_from_location(&location(&resp));
    let old_flow: Value = browser
        .http
        .get(app.public_url(&format!("/self-service/registration/flows?id={old}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.clock.advance(time::Duration::hours(2));
    let resp = browser
        .http
        .post(old_flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf_token(&old_flow).as_str()),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let new = flow_id_from_location(&location(&resp));
    assert_ne!(new, old);
    let new_flow: Value = browser
        .http
        .get(app.public_url(&format!("/self-service/registration/flows?id={new}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message_ids(&new_flow), vec![4040001]);
}

#[tokio::test]
async fn return_to_must_be_allowed() {
    let app =
        spawn_app_with(|a| a.push("--allowed-return-url=https://app.example.com/".into())).await;
    let ok = app
        .http
        .get(app.public_url("/self-service/login/api?return_to=https://app.example.com/home"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<Value>().await.unwrap()["return_to"],
        "https://app.example.com/home"
    );
    for bad in [
        "https://evil.example.net/",
        "//evil.example.net",
        "javascript:alert(1)",
        "https://app.example.com.evil.net/",
    ] {
        let resp = app
            .http
            .get(app.public_url("/self-service/login/api"))
            .query(&[("return_to", bad)])
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 400, Some("self_service_flow_return_to_forbidden")).await;
        let resp = app
            .http
            .get(app.public_url("/self-service/registration/browser"))
            .header("Accept", "application/json")
            .query(&[("return_to", bad)])
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 400, Some("self_service_flow_return_to_forbidden")).await;
    }
    // A plain browser is sent to the error page instead.
    let resp = app
        .http
        .get(app.public_url("/self-service/login/browser?return_to=https://evil.example.net/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).contains("/ui/error?id="));
}

#[tokio::test]
async fn api_flows_refuse_browser_traffic() {
    let app = spawn_app().await;
    let flow = app.create_native_registration_flow().await;
    let resp = app
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Origin", "https://somewhere.example.com")
        .json(&json!({"method": "password", "traits": {"email": "o@example.com"}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(message_ids(&body), vec![4000001]);
    let resp = app
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Cookie", "some_session=1")
        .json(&json!({"method": "password", "traits": {"email": "o@example.com"}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(app.count_rows("identities"), 0);
    // Cloudflare's cookies do not count.
    let resp = app
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Cookie", "__cf_bm=abc")
        .json(&json!({"method": "password", "traits": {"email": "o@example.com"}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn submit_bodies_that_are_not_json_or_forms_are_400_and_oversized_ones_413() {
    let app = spawn_app_with(|a| a.push("--max-body-bytes=2048".into())).await;
    let flow = app.create_native_login_flow().await;
    let action = flow["ui"]["action"].as_str().unwrap();
    for (ct, body) in [
        ("text/plain", "x"),
        ("application/json", "{bad json"),
        ("application/json", "[]"),
    ] {
        let resp = app
            .http
            .post(action)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_kratos_error(resp, 400, None).await;
    }
    let resp = app
        .http
        .post(action)
        .json(&json!({"method": "password", "identifier": "x".repeat(5000), "password": "y"}))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 413, None).await;
}
