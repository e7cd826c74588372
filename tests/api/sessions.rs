use crate::helpers::assert::assert_kratos_error;
use crate::helpers::spawn_app;
use serde_json::{json, Value};

#[tokio::test]
async fn whoami_accepts_header_cookie_and_bearer_and_names_the_identity() {
    let app = spawn_app().await;
    let token = app
        .registered_token("me@example.com", "correct horse battery")
        .await;
    let url = app.public_url("/sessions/whoami");
    let requests = [
        app.http.get(&url).header("X-Session-Token", &token),
        app.http
            .get(&url)
            .header("Cookie", format!("ory_kratos_session={token}")),
        app.http
            .get(&url)
            .header("Authorization", format!("Bearer {token}")),
        app.http.post(&url).header("X-Session-Token", &token),
    ];
    for req in requests {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let id = resp.headers()["x-kratos-authenticated-identity-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["identity"]["id"], id);
        assert_eq!(body["active"], true);
        assert_eq!(body["devices"].as_array().unwrap().len(), 1);
        assert!(body["identity"].get("credentials").is_none());
    }
    for bad in [None, Some("ory_st_nottherightone"), Some("")] {
        let mut req = app.http.get(&url);
        if let Some(t) = bad {
            req = req.header("X-Session-Token", t);
        }
        let err = assert_kratos_error(req.send().await.unwrap(), 401, None).await;
        assert_eq!(err["message"], "The request could not be authorized");
    }
}

#[tokio::test]
async fn an_expired_session_is_refused_at_once() {
    let app = spawn_app().await;
    let token = app
        .registered_token("exp@example.com", "correct horse battery")
        .await;
    app.clock
        .advance(time::Duration::hours(23) + time::Duration::minutes(59));
    assert_eq!(app.whoami_status(&token).await, 200);
    app.clock.advance(time::Duration::minutes(1));
    assert_eq!(app.whoami_status(&token).await, 401);
}

#[tokio::test]
async fn disabling_the_identity_ends_its_sessions() {
    let app = spawn_app().await;
    let (_, body) = app
        .register_native("dis@example.com", "correct horse battery")
        .await;
    let token = body["session_token"].as_str().unwrap();
    let url = app.admin_url(&format!(
        "/admin/identities/{}",
        body["identity"]["id"].as_str().unwrap()
    ));
    app.http
        .patch(&url)
        .json(&json!([{"op": "replace", "path": "/state", "value": "inactive"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(app.whoami_status(token).await, 401);
}

#[tokio::test]
async fn list_and_revoke_my_other_sessions() {
    let app = spawn_app().await;
    let current = app
        .registered_token("many@example.com", "correct horse battery")
        .await;
    let mut others = Vec::new();
    for _ in 0..3 {
        let (status, body) = app
            .login_native("many@example.com", "correct horse battery")
            .await;
        assert_eq!(status, 200);
        others.push(body);
    }
    let resp = app
        .http
        .get(app.public_url("/sessions"))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-total-count"], "3");
    let list: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(list.len(), 3, "the current session is not listed");
    let ids: Vec<&str> = others
        .iter()
        .map(|o| o["session"]["id"].as_str().unwrap())
        .collect();
    assert!(list
        .iter()
        .all(|s| ids.contains(&s["id"].as_str().unwrap())));

    // Paging.
    let resp = app
        .http
        .get(app.public_url("/sessions?page_size=2"))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"next\""));
    assert_eq!(resp.json::<Vec<Value>>().await.unwrap().len(), 2);

    // Revoke one by id; the current one cannot be revoked this way.
    let url = app.public_url(&format!("/sessions/{}", ids[0]));
    let resp = app
        .http
        .delete(&url)
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        app.whoami_status(others[0]["session_token"].as_str().unwrap())
            .await,
        401
    );
    let resp = app
        .http
        .delete(&url)
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;
    let current_id: Value = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = app
        .http
        .delete(app.public_url(&format!("/sessions/{}", current_id["id"].as_str().unwrap())))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;

    // Revoke all others.
    let resp = app
        .http
        .delete(app.public_url("/sessions"))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"count": 2}));
    for o in &others {
        assert_eq!(
            app.whoami_status(o["session_token"].as_str().unwrap())
                .await,
            401
        );
    }
    assert_eq!(app.whoami_status(&current).await, 200);

    // Someone else's session cannot be revoked through my endpoint.
    let stranger = app
        .registered_token("stranger@example.com", "correct horse battery")
        .await;
    let theirs: Value = app
        .http
        .get(app.public_url("/sessions/whoami"))
        .header("X-Session-Token", &stranger)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = app
        .http
        .delete(app.public_url(&format!("/sessions/{}", theirs["id"].as_str().unwrap())))
        .header("X-Session-Token", &current)
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;
    assert_eq!(app.whoami_status(&stranger).await, 200);

    let resp = app
        .http
        .get(app.public_url("/sessions"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 401, None).await;
}

#[tokio::test]
async fn the_database_never_holds_a_session_token_in_plain_text() {
    let app = spawn_app().await;
    let mut tokens = vec![
        app.registered_token("plain@example.com", "correct horse battery")
            .await,
    ];
    for _ in 0..3 {
        let (_, body) = app
            .login_native("plain@example.com", "correct horse battery")
            .await;
        tokens.push(body["session_token"].as_str().unwrap().to_owned());
    }
    let mut files = vec![std::fs::read(&app.db_path).unwrap()];
    files.push(std::fs::read(app.db_path.with_extension("sqlite-wal")).unwrap_or_default());
    for token in &tokens {
        let secret = &token.as_bytes()[7..]; // without the ory_st_ prefix
        for bytes in &files {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "token found in the database"
            );
        }
        assert!(!files.iter().any(|b| b
            .windows(b"correct horse battery".len())
            .any(|w| w == b"correct horse battery")));
    }
}

/// whoami answers from a cache when nothing changed; every change must still
/// show at once: identity edits, revocation, logout, expiry.
#[tokio::test]
async fn cached_session_checks_see_every_change_at_once() {
    let app = spawn_app().await;
    let (_, body) = app
        .register_native("cache@example.com", "correct horse battery")
        .await;
    let token = body["session_token"].as_str().unwrap().to_owned();
    let id = body["identity"]["id"].as_str().unwrap().to_owned();
    let me = || async {
        let resp = app
            .http
            .get(app.public_url("/sessions/whoami"))
            .header("X-Session-Token", &token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    };
    for _ in 0..3 {
        assert_eq!(me().await.0, 200);
    }
    // An identity edit shows in the very next answer.
    let url = app.admin_url(&format!("/admin/identities/{id}"));
    app.http
        .patch(&url)
        .json(&json!([{"op": "add", "path": "/traits/name", "value": {"first": "Cached"}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        me().await.1["identity"]["traits"]["name"]["first"],
        "Cached"
    );
    // Expiry needs no write at all.
    app.clock.advance(time::Duration::hours(23));
    assert_eq!(me().await.0, 200);
    app.clock.advance(time::Duration::hours(2));
    assert_eq!(me().await.0, 401);

    // Revocation by an admin, and logout.
    let (_, login) = app
        .login_native("cache@example.com", "correct horse battery")
        .await;
    let t2 = login["session_token"].as_str().unwrap().to_owned();
    assert_eq!(app.whoami_status(&t2).await, 200);
    assert_eq!(app.whoami_status(&t2).await, 200);
    let sid = login["session"]["id"].as_str().unwrap();
    app.http
        .delete(app.admin_url(&format!("/admin/sessions/{sid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(app.whoami_status(&t2).await, 401);
    let (_, login) = app
        .login_native("cache@example.com", "correct horse battery")
        .await;
    let t3 = login["session_token"].as_str().unwrap().to_owned();
    assert_eq!(app.whoami_status(&t3).await, 200);
    app.http
        .delete(app.public_url("/self-service/logout/api"))
        .json(&json!({"session_token": t3}))
        .send()
        .await
        .unwrap();
    assert_eq!(app.whoami_status(&t3).await, 401);
}
