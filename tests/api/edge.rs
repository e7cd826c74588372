//! The edge: rate-limit buckets, client IPs behind proxies, the per-identifier
//! login throttle, CORS for SPAs, security headers.

use crate::helpers::assert::assert_kratos_error;
use crate::helpers::browser::csrf_token;
use crate::helpers::{spawn_app, spawn_app_with};
use serde_json::{json, Value};

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn each_bucket_counts_on_its_own_and_refuses_with_429_at_its_limit() {
    let app = spawn_app_with(|a| {
        a.extend(
            [
                "--rate-limit-low=2",
                "--rate-limit-medium=3",
                "--rate-limit-high=4",
            ]
            .map(String::from),
        );
    })
    .await;
    // Medium: creating flows.
    for remaining in [2, 1, 0] {
        let resp = app
            .http
            .get(app.public_url("/self-service/login/api"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, "x-ratelimit-limit").as_deref(), Some("3"));
        assert_eq!(
            header(&resp, "x-ratelimit-remaining"),
            Some(remaining.to_string())
        );
        assert!(
            header(&resp, "x-ratelimit-reset")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                <= 60
        );
    }
    let resp = app
        .http
        .get(app.public_url("/self-service/registration/api"))
        .send()
        .await
        .unwrap();
    let retry = header(&resp, "retry-after")
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_kratos_error(resp, 429, Some("rate_limit_exceeded")).await;

    // High (whoami) and low (submits) still have their own allowance.
    for _ in 0..4 {
        let resp = app
            .http
            .get(app.public_url("/sessions/whoami"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(header(&resp, "x-ratelimit-limit").as_deref(), Some("4"));
    }
    let resp = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 429, Some("rate_limit_exceeded")).await;
    for _ in 0..2 {
        let resp = app
            .http
            .post(app.public_url("/self-service/login?flow=x"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
    }
    let resp = app
        .http
        .post(app.public_url("/self-service/login?flow=x"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 429, Some("rate_limit_exceeded")).await;

    // Health, version and the admin listener are never limited.
    for _ in 0..10 {
        assert_eq!(
            app.http
                .get(app.public_url("/health/ready"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        assert!(app
            .http
            .get(app.public_url("/version"))
            .send()
            .await
            .unwrap()
            .headers()
            .get("x-ratelimit-limit")
            .is_none());
        assert_eq!(
            app.http
                .get(app.admin_url("/admin/identities"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_trusted_proxies() {
    // Untrusted peer: every forged address shares the peer's bucket.
    let app = spawn_app_with(|a| a.push("--rate-limit-medium=2".into())).await;
    for (i, expect) in [200, 200, 429].into_iter().enumerate() {
        let resp = app
            .http
            .get(app.public_url("/self-service/login/api"))
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), expect);
    }
    // Behind a trusted proxy (the test client on loopback) each client has its own
    // bucket, and sessions record the client's address.
    let app = spawn_app_with(|a| {
        a.push("--rate-limit-medium=2".into());
        a.push("--trusted-proxy=127.0.0.1/32".into());
    })
    .await;
    for i in 0..4 {
        let resp = app
            .http
            .get(app.public_url("/self-service/login/api"))
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "client {i}");
    }
    let flow = app
        .http
        .get(app.public_url("/self-service/registration/api"))
        .header("X-Forwarded-For", "198.51.100.77, 127.0.0.1")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let resp = app
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("X-Forwarded-For", "198.51.100.77")
        .header("User-Agent", "edge-test/1.0")
        .json(&json!({"method": "password", "traits": {"email": "ip@example.com"}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["session"]["devices"][0]["ip_address"], "198.51.100.77");
    assert_eq!(body["session"]["devices"][0]["user_agent"], "edge-test/1.0");
}

/// A guessing attack on one account from many addresses is stopped by the
/// per-identifier throttle, while other accounts on the same addresses log in.
#[tokio::test]
async fn brute_force_against_one_account_from_many_ips_is_refused() {
    let app = spawn_app_with(|a| {
        a.push("--trusted-proxy=127.0.0.1/32".into());
        a.push("--login-max-failures=5".into());
    })
    .await;
    app.create_identity_with_password("victim@example.com", "correct horse battery")
        .await;
    app.create_identity_with_password("bystander@example.com", "another good passphrase")
        .await;
    let attempt = |ip: String, who: &'static str, pw: &'static str| {
        let app = &app;
        async move {
            let flow = app
                .http
                .get(app.public_url("/self-service/login/api"))
                .header("X-Forwarded-For", &ip)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap();
            app.http
                .post(flow["ui"]["action"].as_str().unwrap())
                .header("X-Forwarded-For", &ip)
                .json(&json!({"method": "password", "identifier": who, "password": pw}))
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..5 {
        let resp = attempt(
            format!("203.0.113.{i}"),
            "victim@example.com",
            "guess guess guess",
        )
        .await;
        assert_eq!(resp.status(), 400, "guess {i} is just wrong");
    }
    for i in 5..10 {
        let resp = attempt(
            format!("203.0.113.{i}"),
            "victim@example.com",
            "guess guess guess",
        )
        .await;
        assert!(header(&resp, "retry-after").is_some());
        assert_kratos_error(resp, 429, Some("rate_limit_exceeded")).await;
    }
    // Even the right password waits: the lockout protects the account, not the guess.
    let resp = attempt(
        "203.0.113.99".into(),
        "victim@example.com",
        "correct horse battery",
    )
    .await;
    assert_eq!(resp.status(), 429);
    let resp = attempt(
        "203.0.113.1".into(),
        "bystander@example.com",
        "another good passphrase",
    )
    .await;
    assert_eq!(
        resp.status(),
        200,
        "other users on the same addresses still log in"
    );
    // Unknown identifiers are throttled the same way (nothing to enumerate).
    for _ in 0..5 {
        attempt(
            "203.0.113.3".into(),
            "nobody@example.com",
            "guess guess guess",
        )
        .await;
    }
    assert_eq!(
        attempt("203.0.113.4".into(), "nobody@example.com", "x guess x")
            .await
            .status(),
        429
    );
    // The lockout ends with time (injected clock).
    app.clock.advance(time::Duration::hours(1));
    let resp = attempt(
        "203.0.113.50".into(),
        "victim@example.com",
        "correct horse battery",
    )
    .await;
    assert_eq!(resp.status(), 200);
}

/// An SPA on http://localhost:3000 runs the login flow with
/// `credentials: 'include'`: the exact preflight and requests a browser sends.
#[tokio::test]
async fn an_spa_on_another_origin_logs_in_with_credentials() {
    let origin = "http://localhost:3000";
    let app = spawn_app_with(|a| a.push(format!("--cors-allowed-origin={origin}"))).await;
    app.create_identity_with_password("spa@example.com", "correct horse battery")
        .await;
    let browser = crate::helpers::browser::Browser::new();

    // fetch(…/login/browser, {credentials: 'include', headers: {Accept: 'application/json'}})
    // is a simple request: no preflight.
    let resp = browser
        .http
        .get(app.public_url("/self-service/login/browser"))
        .header("Origin", origin)
        .header("Accept", "application/json")
        .header("Sec-Fetch-Mode", "cors")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "access-control-allow-origin").as_deref(),
        Some(origin)
    );
    assert_eq!(
        header(&resp, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert!(header(&resp, "access-control-expose-headers")
        .unwrap()
        .to_lowercase()
        .contains("x-ratelimit-remaining"));
    assert!(!header(&resp, "access-control-expose-headers")
        .unwrap()
        .to_lowercase()
        .contains("set-cookie"));
    let flow: Value = resp.json().await.unwrap();

    // POST with a JSON body: the browser's preflight first.
    let preflight = browser
        .http
        .request(
            reqwest::Method::OPTIONS,
            flow["ui"]["action"].as_str().unwrap(),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        header(&preflight, "access-control-allow-origin").as_deref(),
        Some(origin)
    );
    assert_eq!(
        header(&preflight, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert!(header(&preflight, "access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert!(header(&preflight, "access-control-allow-headers")
        .unwrap()
        .to_lowercase()
        .contains("content-type"));
    assert_eq!(
        header(&preflight, "access-control-max-age").as_deref(),
        Some("600")
    );

    let resp = browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Origin", origin)
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "csrf_token": csrf_token(&flow), "identifier": "spa@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "access-control-allow-origin").as_deref(),
        Some(origin)
    );
    let me = browser
        .http
        .get(app.public_url("/sessions/whoami"))
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(
        header(&me, "access-control-allow-origin").as_deref(),
        Some(origin)
    );
}

#[tokio::test]
async fn disallowed_origins_get_no_cors_headers() {
    let app =
        spawn_app_with(|a| a.push("--cors-allowed-origin=https://app.example.com".into())).await;
    let preflight = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            app.public_url("/self-service/login"),
        )
        .header("Origin", "https://evil.example.net")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(header(&preflight, "access-control-allow-origin").is_none());
    assert!(header(&preflight, "access-control-allow-credentials").is_none());
    assert!(!preflight.status().is_success());
    let body: Value = preflight.json().await.unwrap();
    assert!(
        body["error"]["code"].is_number(),
        "errors stay in the Kratos envelope: {body}"
    );
    // Without CORS configured, nothing is allowed cross-origin.
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(header(&resp, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn public_responses_carry_security_headers() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.public_url("/self-service/login/api"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&resp, "cache-control").as_deref(),
        Some("private, no-cache, no-store, must-revalidate")
    );
    assert_eq!(
        header(&resp, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        header(&resp, "referrer-policy").as_deref(),
        Some("strict-origin-when-cross-origin")
    );
    assert_eq!(header(&resp, "x-frame-options").as_deref(), Some("DENY"));
    assert!(resp
        .headers()
        .get_all("vary")
        .iter()
        .any(|v| v.to_str().unwrap().contains("Cookie")));
    let resp = app.http.get(app.public_url("/nope")).send().await.unwrap();
    assert_eq!(
        header(&resp, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

/// "Protecting an app": a reverse proxy (nginx `auth_request`) forwards the
/// browser's Cookie header to /sessions/whoami and lets the request through on
/// 200, passing the identity id on. This test plays the proxy.
#[tokio::test]
async fn a_reverse_proxy_can_check_sessions_with_the_forwarded_cookie() {
    let app = spawn_app().await;
    let browser = crate::helpers::browser::Browser::new();
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
    browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(&json!({"method": "password", "csrf_token": csrf_token(&flow), "traits": {"email": "proxied@example.com"}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let cookie_header = browser.cookies_for(&app.public);

    // The proxy's subrequest: only the Cookie header, no body, no redirects.
    let sub = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .header("Cookie", &cookie_header)
        .send()
        .await
        .unwrap();
    assert_eq!(sub.status(), 200);
    let identity_id = header(&sub, "x-kratos-authenticated-identity-id").unwrap();
    assert!(uuid::Uuid::parse_str(&identity_id).is_ok());
    // A visitor without the cookie is refused (the proxy then redirects to login).
    let sub = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .header("Cookie", "other=1")
        .send()
        .await
        .unwrap();
    assert_eq!(sub.status(), 401);
}
