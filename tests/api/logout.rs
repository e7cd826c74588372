use crate::helpers::assert::assert_kratos_error;
use crate::helpers::browser::{csrf_token, Browser};
use crate::helpers::spawn_app;
use serde_json::{json, Value};

async fn logged_in_browser(app: &crate::helpers::TestApp, email: &str) -> Browser {
    let browser = Browser::new();
    let flow: Value = browser
        .http
        .get(app.public_url("/self-service/registration/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "csrf_token": csrf_token(&flow), "traits": {"email": email}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    browser
}

#[tokio::test]
async fn browser_logout_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let browser = logged_in_browser(&app, "bye@example.com").await;
    let token = browser.cookie(&app.public, "ory_kratos_session").unwrap();

    let resp = browser
        .http
        .get(app.public_url("/self-service/logout/browser"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let flow: Value = resp.json().await.unwrap();
    let logout_token = flow["logout_token"].as_str().unwrap();
    assert!(logout_token.starts_with("ory_lo_"));
    let logout_url = flow["logout_url"].as_str().unwrap();
    assert!(logout_url.starts_with(&format!("{}/self-service/logout?token=ory_lo_", app.public)));

    // Another browser's logout token is refused.
    let other = logged_in_browser(&app, "other@example.com").await;
    let resp = other
        .http
        .get(logout_url)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 403, None).await;
    assert!(other.cookie(&app.public, "ory_kratos_session").is_some());
    let resp = browser
        .http
        .get(app.public_url("/self-service/logout"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;

    let resp = browser.http.get(logout_url).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("{}/ui/welcome", app.public).as_str()
    );
    assert!(
        browser.cookie(&app.public, "ory_kratos_session").is_none(),
        "cookie cleared"
    );
    assert_eq!(app.whoami_status(&token).await, 401);

    // Without a session there is no logout flow.
    let resp = browser
        .http
        .get(app.public_url("/self-service/logout/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 401, Some("session_inactive")).await;
}

#[tokio::test]
async fn native_logout_revokes_the_token() {
    let app = spawn_app().await;
    let token = app
        .registered_token("app@example.com", "correct horse battery")
        .await;
    let url = app.public_url("/self-service/logout/api");
    let resp = app
        .http
        .delete(&url)
        .json(&json!({"session_token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(app.whoami_status(&token).await, 401);
    // Again: already revoked is still 204 (Kratos); an unknown token is 403.
    let resp = app
        .http
        .delete(&url)
        .json(&json!({"session_token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app
        .http
        .delete(&url)
        .json(&json!({"session_token": "ory_st_unknown"}))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 403, None).await;
    let resp = app.http.delete(&url).json(&json!({})).send().await.unwrap();
    assert_kratos_error(resp, 400, None).await;
}
