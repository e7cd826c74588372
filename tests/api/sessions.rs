use crate::helpers::assert::assert_kratos_error;
use crate::helpers::metrics::metric;
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
    let (token, id) = app
        .registered("dis@example.com", "correct horse battery")
        .await;
    app.set_identity_state(&id, "inactive").await;
    assert_eq!(app.whoami_status(&token).await, 401);
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

/// Secrets at rest: after registrations, logins, a recovery by code and a
/// password change, neither the database file nor its WAL holds a session
/// token or a password, and no stored value holds a recovery or verification
/// code (codes are six digits, so they are looked for in every stored value,
/// not in the raw file, where digits occur by chance).
#[tokio::test]
async fn the_database_never_holds_a_secret_in_plain_text() {
    let app = spawn_app().await;
    let mut tokens = vec![
        app.registered_token("plain@example.com", "correct horse battery")
            .await,
    ];
    let mut codes = vec![app.code_sent_to("plain@example.com").await];
    for _ in 0..3 {
        let (_, body) = app
            .login_native("plain@example.com", "correct horse battery")
            .await;
        tokens.push(body["session_token"].as_str().unwrap().to_owned());
    }
    let (_, done) = app.recover_native("plain@example.com").await;
    codes.push(app.code_sent_to("plain@example.com").await);
    let recovered = done["continue_with"][0]["ory_session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let settings = done["continue_with"][1]["flow"]["id"].as_str().unwrap();
    let resp = app
        .http
        .post(app.public_url(&format!("/self-service/settings?flow={settings}")))
        .header("X-Session-Token", &recovered)
        .json(&json!({"method": "password", "password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    tokens.push(recovered);

    let mut files = vec![std::fs::read(&app.db_path).unwrap()];
    files.push(std::fs::read(app.db_path.with_extension("sqlite-wal")).unwrap_or_default());
    let contains = |secret: &[u8]| {
        files
            .iter()
            .any(|b| b.windows(secret.len()).any(|w| w == secret))
    };
    for token in &tokens {
        assert!(
            !contains(&token.as_bytes()[7..]),
            "token found in the database"
        );
    }
    for password in ["correct horse battery", "a brand new passphrase"] {
        assert!(
            !contains(password.as_bytes()),
            "password found in the database"
        );
    }
    // The detector itself: a code in a message is found, one inside a digest is not.
    assert!(holds_code("Your code is 123456.", "123456"));
    assert!(!holds_code("9f123456ab", "123456"));
    let values = all_stored_text(&app.db_path);
    for code in &codes {
        assert_eq!(code.len(), 6);
        let leaked = values.iter().find(|v| holds_code(v, code));
        assert!(leaked.is_none(), "code {code} stored as {leaked:?}");
    }
    // Nor a digest anyone holding the file could compute: a code has only a
    // million values, so an unkeyed SHA-256 of it (with its flow id, which is
    // stored too) would give it away. Every flow id is tried with every code.
    let flow_ids = stored_column(&app.db_path, "SELECT id FROM selfservice_flows");
    assert!(!flow_ids.is_empty());
    let digests = stored_column(&app.db_path, "SELECT code_digest FROM selfservice_codes");
    assert!(digests.len() >= codes.len());
    for code in &codes {
        for flow in &flow_ids {
            let plain = postern::crypto::digest_hex(format!("{flow}:{code}").as_bytes());
            assert!(
                !digests.iter().any(|d| d.contains(&plain)),
                "code {code} stored under an unkeyed digest"
            );
        }
    }
}

fn stored_column(db: &std::path::Path, sql: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut stmt = c.prepare(sql).unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Every text value in every table.
fn all_stored_text(db: &std::path::Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                if let Ok(rusqlite::types::ValueRef::Text(v)) = row.get_ref(i) {
                    out.push(String::from_utf8_lossy(v).into_owned());
                }
            }
        }
    }
    out
}

/// `code` as a token of its own in `value` (not six digits inside a longer
/// hex digest or identifier, where they occur by chance).
fn holds_code(value: &str, code: &str) -> bool {
    value.match_indices(code).any(|(at, _)| {
        let before = value[..at].chars().next_back();
        let after = value[at + code.len()..].chars().next();
        let free = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_hexdigit());
        free(before) && free(after)
    })
}

/// whoami answers from a cache when nothing changed; every change must still
/// show at once: identity edits, revocation, logout, expiry.
#[tokio::test]
async fn cached_session_checks_see_every_change_at_once() {
    let app = spawn_app().await;
    let (token, id) = app
        .registered("cache@example.com", "correct horse battery")
        .await;
    let me = || app.whoami(&token);
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
    app.admin_revoke_session(sid).await;
    assert_eq!(app.whoami_status(&t2).await, 401);
    let (_, login) = app
        .login_native("cache@example.com", "correct horse battery")
        .await;
    let t3 = login["session_token"].as_str().unwrap().to_owned();
    assert_eq!(app.whoami_status(&t3).await, 200);
    assert_eq!(app.logout_native(&t3).await, 204);
    assert_eq!(app.whoami_status(&t3).await, 401);
}

/// New sessions are rows no cached answer depends on, so logins and
/// registrations leave the cache alone (under a login load it would otherwise
/// be useless); a change to an existing session or identity empties it.
#[tokio::test]
async fn new_sessions_keep_cached_checks_and_changes_drop_them() {
    let app = spawn_app().await;
    let (token, id) = app
        .registered("kept@example.com", "correct horse battery")
        .await;
    assert_eq!(app.whoami_status(&token).await, 200);
    let cached = || app.whoami_cached(&token);
    assert!(cached(), "a check is cached once answered");

    app.register_native("other@example.com", "correct horse battery")
        .await;
    let (status, login) = app
        .login_native("kept@example.com", "correct horse battery")
        .await;
    assert_eq!(status, 200);
    assert!(cached(), "a registration or login must not empty the cache");

    // Revoking the *other* session is a change to an existing session.
    let sid = login["session"]["id"].as_str().unwrap();
    app.admin_revoke_session(sid).await;
    assert!(!cached(), "a session change invalidates cached answers");
    assert_eq!(app.whoami_status(&token).await, 200);
    assert!(cached());

    // Deactivating the identity shows at once.
    app.set_identity_state(&id, "inactive").await;
    assert_eq!(app.whoami_status(&token).await, 401);
}

/// A logout, a revoked session or an admin edit concerns one identity: every
/// other user's cached check stays valid (with one logout emptying the whole
/// cache, a server with steady logouts answered most checks from the
/// database). A write that is not declared per identity still empties it.
#[tokio::test]
async fn a_logout_keeps_other_users_checks_cached() {
    let app = spawn_app().await;
    let (ada, ada_id) = app
        .registered("ada@example.com", "correct horse battery")
        .await;
    let (bob, bob_id) = app
        .registered("bob@example.com", "correct horse battery")
        .await;
    for token in [&ada, &bob] {
        assert_eq!(app.whoami_status(token).await, 200);
    }
    assert!(app.whoami_cached(&ada) && app.whoami_cached(&bob));

    // Bob logs out: his check fails at once, Ada's is still cached.
    assert_eq!(app.logout_native(&bob).await, 204);
    assert!(!app.whoami_cached(&bob));
    assert_eq!(app.whoami_status(&bob).await, 401);
    assert!(
        app.whoami_cached(&ada),
        "another user's logout emptied the cache"
    );
    let from_cache = || async {
        metric(
            &app.metrics().await,
            "postern_session_checks_total{answer=\"cache\"}",
        )
    };
    let hits = from_cache().await;
    assert_eq!(app.whoami_status(&ada).await, 200);
    assert_eq!(from_cache().await, hits + 1.0, "answered from the cache");

    // Bob logs in again and revokes his other sessions (none): still only his.
    let (_, login) = app
        .login_native("bob@example.com", "correct horse battery")
        .await;
    let bob2 = login["session_token"].as_str().unwrap().to_owned();
    let resp = app
        .http
        .delete(app.public_url("/sessions"))
        .header("X-Session-Token", &bob2)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(app.whoami_cached(&ada));

    // An admin revoking all of Ada's sessions ends hers at once.
    let resp = app
        .http
        .delete(app.admin_url(&format!("/admin/identities/{ada_id}/sessions")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(!app.whoami_cached(&ada));
    assert_eq!(app.whoami_status(&ada).await, 401);

    // An admin edit concerns that identity only: Bob's answer is read again,
    // Cy's stays.
    let cy = app
        .registered_token("cy@example.com", "correct horse battery")
        .await;
    for token in [&bob2, &cy] {
        assert_eq!(app.whoami_status(token).await, 200);
    }
    app.set_identity_state(&bob_id, "active").await;
    assert!(!app.whoami_cached(&bob2));
    assert!(app.whoami_cached(&cy), "an edit of Bob emptied the cache");

    // A write that does not say whose rows it changed empties it for everyone.
    app.state
        .store
        .write(|_| Ok::<_, postern::store::StoreError>(()))
        .await
        .unwrap();
    assert!(!app.whoami_cached(&cy));
}

/// Logouts racing with other users' cached checks and logins: whatever else
/// is going on, the first check after a logout has answered refuses the
/// token, and other users' checks keep working.
#[tokio::test]
async fn concurrent_logouts_never_leave_a_usable_cached_answer() {
    let app = spawn_app().await;
    let password = "correct horse battery";
    let user = |n: usize| {
        let app = &app;
        async move {
            let email = format!("race{n}@example.com");
            let mut previous = app.registered_token(&email, password).await;
            for round in 0..6 {
                let (status, login) = app.login_native(&email, password).await;
                assert_eq!(status, 200);
                let token = login["session_token"].as_str().unwrap().to_owned();
                for _ in 0..3 {
                    assert_eq!(app.whoami_status(&token).await, 200);
                    assert_eq!(app.whoami_status(&previous).await, 200);
                }
                assert_eq!(app.logout_native(&previous).await, 204);
                assert_eq!(
                    app.whoami_status(&previous).await,
                    401,
                    "user {n}, round {round}: a logged-out token still worked"
                );
                assert_eq!(app.whoami_status(&token).await, 200);
                previous = token;
            }
        }
    };
    futures_util::future::join_all((0..8).map(user)).await;
}

/// Verifying an address changes its owner's answer (`verifiable_addresses`
/// in the session's identity) and nobody else's; asking for a recovery code
/// changes no answer at all, and completing a recovery only its owner's.
#[tokio::test]
async fn verifying_an_address_refreshes_only_its_owner_s_cached_check() {
    let app = spawn_app().await;
    let ada = app
        .registered_token("ada@example.com", "correct horse battery")
        .await;
    let (status, body) = app
        .register_native("bob@example.com", "correct horse battery")
        .await;
    assert_eq!(status, 200);
    let bob = body["session_token"].as_str().unwrap().to_owned();
    let flow = body["continue_with"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "show_verification_ui")
        .unwrap()["flow"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for token in [&ada, &bob] {
        assert_eq!(app.whoami_status(token).await, 200);
    }

    let (_, recovery) = app
        .get_json(&app.public_url("/self-service/recovery/api"))
        .await;
    let app = &app;
    let recovery_url = app.public_url(&format!(
        "/self-service/recovery?flow={}",
        recovery["id"].as_str().unwrap()
    ));
    let recover = |body: Value| {
        let url = recovery_url.clone();
        async move { app.http.post(url).json(&body).send().await.unwrap() }
    };
    let resp = recover(json!({"method": "code", "email": "ada@example.com"})).await;
    assert_eq!(resp.status(), 200);
    assert!(
        app.whoami_cached(&ada) && app.whoami_cached(&bob),
        "a recovery mail"
    );

    let code = app.code_sent_to("bob@example.com").await;
    let resp = app
        .http
        .post(app.public_url(&format!("/self-service/verification?flow={flow}")))
        .json(&json!({"method": "code", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(app.whoami_cached(&ada), "Ada's answer did not change");
    assert!(!app.whoami_cached(&bob));
    let (_, me) = app.whoami(&bob).await;
    assert_eq!(me["identity"]["verifiable_addresses"][0]["verified"], true);
    assert!(app.whoami_cached(&bob));

    // Ada completes her recovery (her address becomes verified, she gets a
    // new session): her answer is read again, Bob's is not.
    let code = app.code_sent_to("ada@example.com").await;
    let resp = recover(json!({"method": "code", "code": code})).await;
    assert_eq!(resp.status(), 200);
    assert!(!app.whoami_cached(&ada));
    assert!(app.whoami_cached(&bob), "Ada's recovery emptied the cache");
    let (_, me) = app.whoami(&ada).await;
    assert_eq!(me["identity"]["verifiable_addresses"][0]["verified"], true);
}

/// The session check (`whoami`: its own query and cache) and the endpoints
/// that need a session (`session::manage::lookup`, here the settings flow)
/// are two code paths; they must agree on which sessions are usable — live,
/// identity disabled and enabled again, revoked, expired.
#[tokio::test]
async fn whoami_and_session_endpoints_agree_on_which_sessions_are_usable() {
    let app = spawn_app().await;
    let both = |token: String| {
        let app = &app;
        async move {
            let settings = app
                .http
                .get(app.public_url("/self-service/settings/api"))
                .header("X-Session-Token", &token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            (app.whoami_status(&token).await, settings)
        }
    };
    let (token, id) = app
        .registered("agree@example.com", "correct horse battery")
        .await;
    assert_eq!(both(token.clone()).await, (200, 200), "live");

    app.set_identity_state(&id, "inactive").await;
    assert_eq!(both(token.clone()).await, (401, 401), "identity disabled");
    app.set_identity_state(&id, "active").await;
    assert_eq!(both(token.clone()).await, (200, 200), "enabled again");

    let (_, login) = app
        .login_native("agree@example.com", "correct horse battery")
        .await;
    let revoked = login["session_token"].as_str().unwrap().to_owned();
    assert_eq!(both(revoked.clone()).await, (200, 200));
    let sid = login["session"]["id"].as_str().unwrap();
    app.admin_revoke_session(sid).await;
    assert_eq!(both(revoked).await, (401, 401), "revoked");

    app.clock.advance(time::Duration::hours(25));
    assert_eq!(both(token).await, (401, 401), "expired");
}
