//! The built-in pages over plain HTTP: what they send, escape and refuse.

use crate::helpers::browser::Browser;
use crate::helpers::{spawn_app, spawn_app_with};
use serde_json::json;

async fn page(b: &Browser, url: &str) -> (u16, String, reqwest::header::HeaderMap) {
    // Follow the flow-creating redirects by hand, as a browser would.
    let mut url = url.to_owned();
    for _ in 0..5 {
        let resp = b.http.get(&url).send().await.unwrap();
        if resp.status() == 303 {
            url = resp.headers()["location"].to_str().unwrap().to_owned();
            continue;
        }
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        return (status, resp.text().await.unwrap(), headers);
    }
    panic!("too many redirects from {url}");
}

#[tokio::test]
async fn pages_render_forms_with_a_strict_policy_and_autocomplete() {
    let app = spawn_app().await;
    let b = Browser::new();
    let (status, html, headers) = page(&b, &app.public_url("/ui/login")).await;
    let html = html.replace("&#x2f;", "/");
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(!html.contains("<script"), "no JavaScript");
    for needle in [
        "name=\"identifier\"",
        "autocomplete=\"username\"",
        "autocomplete=\"current-password\"",
        "name=\"csrf_token\"",
        "/ui/recovery",
        "/ui/registration",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    let (_, css, headers) = page(&b, &app.public_url("/ui/style.css")).await;
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(css.contains(":focus-visible"));
    for p in ["registration", "recovery", "verification"] {
        let (status, html, _) = page(&b, &app.public_url(&format!("/ui/{p}"))).await;
        assert_eq!(status, 200, "{p}");
        assert!(html.contains("<form method=\"post\""), "{p}");
    }
}

#[tokio::test]
async fn user_input_is_escaped_everywhere() {
    let app = spawn_app().await;
    let b = Browser::new();
    let (_, html, _) = page(&b, &app.public_url("/ui/registration")).await;
    let action = html
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let evil = "<script>alert(1)</script>";
    b.http
        .post(&action)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("traits.email", "xss@example.com"),
            ("traits.name.first", evil),
            ("password", "short"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    let flow_url = format!(
        "{}/ui/registration?flow={}",
        app.public,
        action.split("flow=").nth(1).unwrap()
    );
    let (_, html, _) = page(&b, &flow_url).await;
    assert!(!html.contains(evil));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
}

#[tokio::test]
async fn welcome_needs_a_session_and_the_error_page_shows_stored_errors() {
    let app = spawn_app().await;
    let b = Browser::new();
    let resp = b
        .http
        .get(app.public_url("/ui/welcome"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/ui/login"));
    // A CSRF failure lands on the error page, which explains it.
    let (_, html, _) = page(&b, &app.public_url("/ui/login")).await;
    let action = html
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let resp = b
        .http
        .post(&action)
        .form(&[
            ("identifier", "a@b.co"),
            ("password", "whatever1"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    let error_url = resp.headers()["location"].to_str().unwrap().to_owned();
    let (status, html, _) = page(&b, &error_url).await;
    assert_eq!(status, 200);
    assert!(html.contains("This form expired"), "{html}");
}

#[tokio::test]
async fn the_ui_can_be_turned_off_and_the_outbox_page_exists_only_in_dev() {
    let app = spawn_app_with(|a| a.push("--no-ui".into())).await;
    assert_eq!(
        app.http
            .get(app.public_url("/ui/login"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let (status, _) = app.get_json(&app.admin_url("/dev/outbox")).await;
    assert_eq!(status, 200, "tests run with --dev");
    app.registered_token("dev@example.com", "correct horse battery")
        .await;
    let html = app
        .http
        .get(app.admin_url("/dev/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("dev@example.com") && html.contains("Please verify your email address"));

    let prod = spawn_app_with(|a| a.retain(|f| f != "--dev")).await;
    assert_eq!(
        prod.http
            .get(prod.admin_url("/dev/outbox"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let _ = json!(null);
}
