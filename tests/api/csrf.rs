//! Browser flows refuse submissions without the CSRF cookie, without the token, or
//! with a token from another browser — and such a refusal creates nothing.

use crate::helpers::assert::assert_kratos_error;
use crate::helpers::browser::{csrf_token, location, Browser};
use crate::helpers::spawn_app;
use serde_json::{json, Value};

async fn spa_flow(app: &crate::helpers::TestApp, browser: &Browser, kind: &str) -> Value {
    browser
        .http
        .get(app.public_url(&format!("/self-service/{kind}/browser")))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn csrf_failures_are_403_and_create_no_identity_or_session() {
    let app = spawn_app().await;
    let victim = Browser::new();
    let attacker = Browser::new();
    let flow = spa_flow(&app, &victim, "registration").await;
    let action = flow["ui"]["action"].as_str().unwrap().to_owned();
    let attackers_flow = spa_flow(&app, &attacker, "registration").await;
    let body = |csrf: Option<String>| {
        let mut b = json!({"method": "password", "traits": {"email": "csrf@example.com"}, "password": "correct horse battery"});
        if let Some(c) = csrf {
            b["csrf_token"] = json!(c);
        }
        b
    };

    // No cookie at all (a plain client posting to a browser flow).
    let resp = app
        .http
        .post(&action)
        .header("Accept", "application/json")
        .json(&body(Some(csrf_token(&flow))))
        .send()
        .await
        .unwrap();
    let err = assert_kratos_error(resp, 403, Some("security_csrf_violation")).await;
    assert!(err["details"]["reject_reason"].is_string());
    // The right cookie, but no token in the body.
    let resp = victim
        .http
        .post(&action)
        .header("Accept", "application/json")
        .json(&body(None))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 403, Some("security_csrf_violation")).await;
    // The right cookie and a token minted for another browser.
    let resp = victim
        .http
        .post(&action)
        .header("Accept", "application/json")
        .json(&body(Some(csrf_token(&attackers_flow))))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 403, Some("security_csrf_violation")).await;
    // Another browser with its own valid token on the victim's flow.
    let resp = attacker
        .http
        .post(&action)
        .header("Accept", "application/json")
        .json(&body(Some(csrf_token(&attackers_flow))))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 403, Some("security_csrf_violation")).await;

    assert_eq!(app.count_rows("identities"), 0);
    assert_eq!(app.count_rows("sessions"), 0);

    // And the legitimate submit still works.
    let resp = victim
        .http
        .post(&action)
        .header("Accept", "application/json")
        .json(&body(Some(csrf_token(&flow))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_cross_site_form_post_is_sent_to_the_error_page() {
    let app = spawn_app().await;
    let victim = Browser::new();
    let flow = spa_flow(&app, &victim, "login").await;
    // A form on another origin posts into the victim's flow without a token.
    let resp = victim
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Origin", "https://evil.example.net")
        .form(&[
            ("method", "password"),
            ("identifier", "x@example.com"),
            ("password", "whatever123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert!(
        loc.starts_with(&format!("{}/ui/error?id=", app.public)),
        "{loc}"
    );
    let id = loc.split("id=").nth(1).unwrap();
    let stored: Value = app
        .http
        .get(app.public_url(&format!("/self-service/errors?id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["id"], id);
    assert_eq!(stored["error"]["id"], "security_csrf_violation");
    assert_eq!(stored["error"]["code"], 403);
}

#[tokio::test]
async fn fetching_a_browser_flow_needs_the_browser_that_started_it() {
    let app = spawn_app().await;
    let browser = Browser::new();
    let flow = spa_flow(&app, &browser, "login").await;
    let url = app.public_url(&format!(
        "/self-service/login/flows?id={}",
        flow["id"].as_str().unwrap()
    ));
    assert_eq!(browser.http.get(&url).send().await.unwrap().status(), 200);
    let resp = app.http.get(&url).send().await.unwrap();
    assert_kratos_error(resp, 403, Some("security_csrf_violation")).await;
    // The CSRF cookie is HttpOnly and named after the public base URL.
    let resp = Browser::new()
        .http
        .get(app.public_url("/self-service/login/browser"))
        .send()
        .await
        .unwrap();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("csrf_token_"))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}
