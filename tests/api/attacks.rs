//! Attacks and contention: session fixation, login timing, concurrent logins
//! and logouts of one user, a saturated database, hostile `return_to` and
//! hostile bodies, and the memory bound of a burst of password hashes.

use crate::helpers::assert::assert_kratos_error;
use crate::helpers::browser::{csrf_token, Browser};
use crate::helpers::process::submit_native;
use crate::helpers::{spawn_app, spawn_app_with};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A session id planted in the browser before login is never honoured and never
/// becomes the session issued by the login.
#[tokio::test]
async fn a_planted_session_cookie_is_never_the_session_issued() {
    let app = spawn_app().await;
    let planted = "ory_st_PlantedByTheAttacker0123456789abcdef";
    let browser = Browser::new();
    browser.jar.add_cookie_str(
        &format!("ory_kratos_session={planted}; Path=/"),
        &app.public.parse().unwrap(),
    );
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
        .json(&json!({"method": "password", "csrf_token": csrf_token(&flow),
                      "traits": {"email": "victim@example.com"}, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let issued = browser.cookie(&app.public, "ory_kratos_session").unwrap();
    assert_ne!(issued, planted);
    assert_eq!(app.whoami_status(planted).await, 401);
    let cookie_whoami = browser
        .http
        .get(app.public_url("/sessions/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(cookie_whoami.status(), 200);
}

/// A wrong password for a real account and any password for an unknown one cost
/// the same argon2 work, so their timing does not tell them apart. Real (not
/// --dev) hashing; medians of interleaved samples.
#[tokio::test]
async fn login_timing_does_not_reveal_which_accounts_exist() {
    let app = spawn_app_with(|args| {
        args.retain(|a| a != "--dev");
        args.extend([
            "--hash-memory-kib=8192".into(),
            "--hash-iterations=1".into(),
            "--login-max-failures=1000".into(),
        ]);
    })
    .await;
    app.registered_token("known@example.com", "correct horse battery")
        .await;
    // Warm up both paths (the dummy hash is made on first use).
    for who in ["known@example.com", "nobody@example.com"] {
        let (status, _) = app.login_native(who, "wrong guess entirely").await;
        assert_eq!(status, 400);
    }
    let mut samples: [Vec<Duration>; 2] = [vec![], vec![]];
    for _ in 0..15 {
        for (i, who) in ["known@example.com", "nobody@example.com"]
            .iter()
            .enumerate()
        {
            let flow = app.create_native_login_flow().await;
            let url = app.public_url(&format!(
                "/self-service/login?flow={}",
                flow["id"].as_str().unwrap()
            ));
            let body = json!({"method": "password", "identifier": who, "password": "wrong guess entirely"});
            let started = Instant::now();
            let (status, _) = app.post_json(&url, &body).await;
            samples[i].push(started.elapsed());
            assert_eq!(status, 400);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (known, unknown) = (median(&mut samples[0]), median(&mut samples[1]));
    eprintln!(
        "login timing: wrong password {known:?}, unknown account {unknown:?} (medians of 15)"
    );
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.67..1.5).contains(&ratio),
        "timing differs: known {known:?} vs unknown {unknown:?}"
    );
}

/// One user logging in and out from many devices at once: every login gets its
/// own session, every acknowledged logout holds, the rest stay valid.
#[tokio::test]
async fn concurrent_logins_and_logouts_of_one_user_stay_consistent() {
    let app = spawn_app().await;
    let first = app
        .registered_token("busy@example.com", "correct horse battery")
        .await;
    let login = || async {
        let (status, body) = app
            .login_native("busy@example.com", "correct horse battery")
            .await;
        assert_eq!(status, 200, "{body}");
        body["session_token"].as_str().unwrap().to_owned()
    };
    let mut tokens: Vec<String> = futures_util::future::join_all((0..20).map(|_| login())).await;
    tokens.push(first);
    let logout = |token: String| {
        let http = app.http.clone();
        let url = app.public_url("/self-service/logout/api");
        async move {
            let resp = http
                .delete(url)
                .json(&json!({ "session_token": token }))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 204);
            token
        }
    };
    let revoked_now: Vec<String> = tokens.drain(..10).collect();
    let (revoked, more) = tokio::join!(
        futures_util::future::join_all(revoked_now.into_iter().map(logout)),
        futures_util::future::join_all((0..10).map(|_| login()))
    );
    tokens.extend(more);
    let mut all: Vec<&String> = tokens.iter().chain(revoked.iter()).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 31, "every login got its own session");
    for t in &revoked {
        assert_eq!(app.whoami_status(t).await, 401);
    }
    for t in &tokens {
        assert_eq!(app.whoami_status(t).await, 200);
    }
    let me: Value = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .header("X-Session-Token", &tokens[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = me["identity"]["id"].as_str().unwrap();
    let (status, sessions) = app
        .get_json(&app.admin_url(&format!("/admin/identities/{id}/sessions?active=true")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(sessions.as_array().unwrap().len(), tokens.len());
}

/// Every database thread busy: a request waits for the pool's wait time, then
/// gets 503 in the Kratos envelope rather than hanging; once a thread is free
/// the next request succeeds.
#[tokio::test]
async fn a_saturated_database_answers_503_then_recovers() {
    let app = spawn_app_with(|args| args.push("--db-pool-size=1".into())).await;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let store = app.state.store.clone();
    let blocker = tokio::spawn(async move {
        store
            .read(move |_| {
                let _ = started_tx.send(());
                let _ = release_rx.recv();
                Ok(())
            })
            .await
    });
    started_rx.await.unwrap();
    let started = Instant::now();
    let resp = app
        .http
        .get(app.admin_url("/admin/identities"))
        .send()
        .await
        .unwrap();
    let body = assert_kratos_error(resp, 503, None).await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "it did not hang"
    );
    assert!(body["message"].is_string(), "{body}");
    release_tx.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    let (status, _) = app.get_json(&app.admin_url("/admin/identities")).await;
    assert_eq!(status, 200);
}

/// CR/LF in `return_to` never reaches a header, and an encoded one is refused
/// like any other URL that is not allowed.
#[tokio::test]
async fn header_injection_through_return_to_goes_nowhere() {
    let app =
        spawn_app_with(|args| args.push("--allowed-return-url=https://app.example.com/".into()))
            .await;
    for evil in [
        "https://app.example.com/%0d%0aSet-Cookie:%20injected=1",
        "https://evil.example/%0d%0aLocation:%20https://evil.example",
        "//evil.example/%2f..",
        "https:%2f%2fevil.example",
    ] {
        let resp = app
            .http
            .get(app.public_url(&format!("/self-service/login/browser?return_to={evil}")))
            .send()
            .await
            .unwrap();
        assert!(
            matches!(resp.status().as_u16(), 303 | 400),
            "{evil}: {}",
            resp.status()
        );
        for (name, value) in resp.headers() {
            let v = value.as_bytes();
            assert!(
                !v.contains(&b'\r') && !v.contains(&b'\n'),
                "{name}: {value:?}"
            );
            assert!(name.as_str() != "set-cookie" || !value.to_str().unwrap().contains("injected"));
        }
        if let Some(loc) = resp.headers().get("location") {
            let loc = loc.to_str().unwrap();
            assert!(
                !loc.starts_with("https://evil.example") && !loc.starts_with("//evil"),
                "{evil} → {loc}"
            );
        }
    }
}

/// Invalid UTF-8 and a 1 MB trait are refused in the envelope and store nothing.
#[tokio::test]
async fn invalid_utf8_and_megabyte_traits_are_refused_and_store_nothing() {
    let app = spawn_app_with(|args| args.push("--max-body-bytes=4194304".into())).await;
    let flow = app.create_native_registration_flow().await;
    let url = app.public_url(&format!(
        "/self-service/registration?flow={}",
        flow["id"].as_str().unwrap()
    ));
    let mut bad =
        br#"{"method":"password","traits":{"email":"a@example.com"},"password":"correct horse "#
            .to_vec();
    bad.extend([0xff, 0xfe, 0xc3, b'"', b'}']);
    let resp = app
        .http
        .post(&url)
        .header("Content-Type", "application/json")
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;

    let big = "a".repeat(1_000_000);
    for traits in [
        json!({"email": format!("{big}@example.com")}),
        json!({"email": "ok@example.com", "extra": big}),
    ] {
        let (status, body) = app
            .post_json(&url, &json!({"method": "password", "traits": traits, "password": "correct horse battery"}))
            .await;
        assert_eq!(
            status,
            400,
            "{}",
            &body.to_string()[..200.min(body.to_string().len())]
        );
        assert!(
            body["ui"]["nodes"].is_array(),
            "the flow comes back with its errors"
        );
    }
    assert_eq!(app.count_rows("identities"), 0);
}

/// 200 logins at once with real argon2id parameters: the hashing pool caps
/// memory, so peak RSS stays within hash memory × concurrency + a constant, not
/// 200 × hash memory. Runs the real binary so the figure is the server's own.
#[tokio::test]
async fn a_burst_of_200_logins_keeps_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("burst.sqlite");
    let flags = ["--hash-concurrency", "2", "--db", db.to_str().unwrap()];
    let (mut child, info) = crate::helpers::process::start_binary(
        &[&flags[..], &crate::helpers::process::NO_RATE_LIMITS[..]].concat(),
    );
    let base = format!("http://{}", info["public"].as_str().unwrap());
    let http = reqwest::Client::new();
    let body = json!({"method": "password", "traits": {"email": "burst@example.com"}, "password": "correct horse battery"});
    let resp = submit_native(&http, &base, "registration", &body)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let status_kib = |field: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    let before = status_kib("VmRSS:");
    let logins = (0..200).map(|_| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let body = json!({"method": "password", "identifier": "burst@example.com", "password": "correct horse battery"});
            submit_native(&http, &base, "login", &body)
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(logins).await;
    let peak = status_kib("VmHWM:");
    let _ = child.kill();
    let _ = child.wait();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let hash_kib = 19_456 * 2;
    eprintln!(
        "hashing burst: {ok}/200 logins succeeded; RSS {} MiB before, peak {} MiB (hash memory × concurrency = {} MiB)",
        before / 1024,
        peak / 1024,
        hash_kib / 1024
    );
    assert_eq!(ok, 200, "{statuses:?}");
    assert!(
        peak <= before + hash_kib + 32 * 1024,
        "peak RSS {peak} KiB grew past the hashing cap (before: {before} KiB)"
    );
}

/// Session tokens over the wire: all distinct, `ory_st_` + 32 characters from
/// the 62 alphanumerics, and the characters uniform (chi-square over 3,200
/// characters; the critical value for 61 degrees of freedom at p = 10⁻⁶ is
/// about 121 — a biased or truncated generator fails it).
#[tokio::test]
async fn session_tokens_are_unique_and_uniformly_random() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for i in 0..100 {
        tokens.push(
            app.registered_token(&format!("entropy{i}@example.com"), "correct horse battery")
                .await,
        );
    }
    let mut counts = std::collections::HashMap::new();
    for t in &tokens {
        let random = t.strip_prefix("ory_st_").expect("prefix");
        assert_eq!(random.len(), 32, "{t}");
        for c in random.chars() {
            assert!(c.is_ascii_alphanumeric(), "{t}");
            *counts.entry(c).or_insert(0u32) += 1;
        }
    }
    let mut unique = tokens.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tokens.len());
    assert_eq!(counts.len(), 62, "every alphanumeric character occurs");
    let expected = 3200.0 / 62.0;
    let chi2: f64 = counts
        .values()
        .map(|&n| (f64::from(n) - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 121.0, "characters are not uniform: chi² = {chi2:.1}");
}
