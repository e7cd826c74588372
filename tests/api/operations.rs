//! Operating Postern: admin sessions, import/export, backup, metrics, cleanup,
//! admin access control.

use crate::helpers::assert::assert_kratos_error;
use crate::helpers::metrics::metric;
use crate::helpers::{spawn_app, spawn_app_with, spawn_in};
use base64::Engine;
use serde_json::{json, Value};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_postern");

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn admin_sessions_can_be_listed_inspected_extended_and_revoked() {
    let app = spawn_app().await;
    let (_, reg) = app
        .register_native("ops@example.com", "correct horse battery")
        .await;
    let identity_id = reg["identity"]["id"].as_str().unwrap().to_owned();
    let token = reg["session_token"].as_str().unwrap().to_owned();
    let mut tokens = vec![token.clone()];
    for _ in 0..2 {
        let (_, b) = app
            .login_native("ops@example.com", "correct horse battery")
            .await;
        tokens.push(b["session_token"].as_str().unwrap().to_owned());
    }
    app.registered_token("other@example.com", "correct horse battery")
        .await;

    let (status, all) = app
        .get_json(&app.admin_url("/admin/sessions?active=true"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(all.as_array().unwrap().len(), 4);
    assert!(
        all[0].get("identity").is_none() && all[0].get("devices").is_none(),
        "not expanded"
    );
    let (_, page) = app
        .get_json(&app.admin_url("/admin/sessions?page_size=3&expand=identity&expand=devices"))
        .await;
    assert_eq!(page.as_array().unwrap().len(), 3);
    assert!(
        page[0]["identity"]["metadata_admin"].is_null()
            && page[0]["identity"].get("metadata_admin").is_some()
    );
    assert!(page[0]["devices"].is_array());

    let (_, mine) = app
        .get_json(&app.admin_url(&format!("/admin/identities/{identity_id}/sessions")))
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 3);
    let sid = mine[0]["id"].as_str().unwrap().to_owned();

    // Extend: new expiry = now + lifespan.
    app.clock.advance(time::Duration::hours(5));
    let resp = app
        .http
        .patch(app.admin_url(&format!("/admin/sessions/{sid}/extend")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let extended: Value = resp.json().await.unwrap();
    assert_eq!(extended["expires_at"], "2026-01-02T15:00:00.000000Z");
    let (_, one) = app
        .get_json(&app.admin_url(&format!("/admin/sessions/{sid}?expand=identity")))
        .await;
    assert_eq!(one["identity"]["id"], identity_id);

    // Disable one, then all of the identity's.
    app.admin_revoke_session(&sid).await;
    let (_, inactive) = app
        .get_json(&app.admin_url("/admin/sessions?active=false"))
        .await;
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    let resp = app
        .http
        .delete(app.admin_url(&format!("/admin/identities/{identity_id}/sessions")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    for t in &tokens {
        assert_eq!(app.whoami_status(t).await, 401);
    }
    let resp = app
        .http
        .get(app.admin_url("/admin/sessions/00000000-0000-4000-8000-000000000000"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;

    // Credentials: the last first factor stays; unknown types are 404.
    let url = app.admin_url(&format!(
        "/admin/identities/{identity_id}/credentials/password"
    ));
    assert_kratos_error(app.http.delete(&url).send().await.unwrap(), 400, None).await;
    let url = app.admin_url(&format!("/admin/identities/{identity_id}/credentials/totp"));
    assert_kratos_error(app.http.delete(&url).send().await.unwrap(), 404, None).await;
}

fn legacy_hashes(password: &str) -> Vec<(&'static str, String)> {
    let mut pbkdf = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), b"pepper salt", 1000, &mut pbkdf);
    let mut scr = [0u8; 32];
    scrypt::scrypt(
        password.as_bytes(),
        b"NaCl salt",
        &scrypt::Params::new(10, 8, 1).unwrap(),
        &mut scr,
    )
    .unwrap();
    let argon2i = {
        use argon2::password_hash::PasswordHasher;
        let a = argon2::Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x13,
            argon2::Params::new(256, 2, 1, None).unwrap(),
        );
        a.hash_password(password.as_bytes()).unwrap().to_string()
    };
    vec![
        ("bcrypt", bcrypt::hash(password, 4).unwrap()),
        (
            "pbkdf2",
            format!(
                "$pbkdf2-sha256$i=1000,l=32${}${}",
                b64(b"pepper salt"),
                b64(&pbkdf)
            ),
        ),
        (
            "scrypt",
            format!(
                "$scrypt$ln=1024,r=8,p=1${}${}",
                b64(b"NaCl salt"),
                b64(&scr)
            ),
        ),
        ("argon2i", argon2i),
        (
            "argon2id-old",
            postern::password::hash_now(
                postern::password::HashParams {
                    memory_kib: 128,
                    iterations: 1,
                    parallelism: 1,
                },
                password,
            )
            .unwrap(),
        ),
    ]
}

fn run_import(db: &std::path::Path, input: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["identities", "import", "-", "--dev", "--db"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Users move in from another system with their password hashes; each format
/// logs in and is rehashed to argon2id on that first login.
#[tokio::test]
async fn imported_hashes_of_every_format_log_in_and_are_rehashed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("import.sqlite");
    let hashes = legacy_hashes("moving day passphrase");
    let records: Vec<Value> = hashes
        .iter()
        .map(|(kind, h)| json!({"schema_id": "default", "traits": {"email": format!("{kind}@example.com")},
                               "verifiable_addresses": [{"value": format!("{kind}@example.com"), "via": "email", "verified": true, "status": "completed"}],
                               "credentials": {"password": {"config": {"hashed_password": h}}}}))
        .collect();
    let out = run_import(&db, &serde_json::to_string(&records).unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let app = spawn_in(dir, db, |_| {}).await;
    for (kind, _) in &hashes {
        let email = format!("{kind}@example.com");
        let (status, _) = app.login_native(&email, "wrong password entirely").await;
        assert_eq!(status, 400, "{kind}");
        let (status, body) = app.login_native(&email, "moving day passphrase").await;
        assert_eq!(status, 200, "{kind}: {body}");
        assert_eq!(
            body["session"]["identity"]["verifiable_addresses"][0]["verified"], true,
            "imported status kept"
        );
    }
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let mut stmt = conn
        .prepare("SELECT config FROM identity_credentials")
        .unwrap();
    let configs: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(configs.len(), hashes.len());
    assert!(
        configs
            .iter()
            .all(|c| c.contains("$argon2id$v=19$m=64,t=1,p=1$")),
        "{configs:?}"
    );
}

#[tokio::test]
async fn an_import_with_one_bad_record_changes_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bad.sqlite");
    let input = json!([
        {"schema_id": "default", "traits": {"email": "fine@example.com"}},
        {"schema_id": "default", "traits": {"email": "not-an-email"}},
        {"schema_id": "default", "traits": {"email": "hash@example.com"}, "credentials": {"password": {"config": {"hashed_password": "$md5$nope"}}}},
        {"schema_id": "default", "traits": {"email": "fine@example.com"}}
    ]);
    let out = run_import(&db, &input.to_string());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in ["record 1", "record 2", "record 3", "traits.email"] {
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
    assert!(!stderr.contains("record 0"), "{stderr}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM identities", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0, "all or nothing");
}

#[tokio::test]
async fn export_then_import_round_trips_identities_and_passwords() {
    let app = spawn_app().await;
    app.create_identity_with_password("round@example.com", "round trip phrase")
        .await;
    app.create_identity(&json!({"schema_id": "default", "traits": {"email": "nopw@example.com", "name": {"first": "N"}}, "metadata_admin": {"k": 1}})).await;
    let out = Command::new(BIN)
        .args(["identities", "export", "--with-credentials", "--db"])
        .arg(&app.db_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported.len(), 2);
    let without = Command::new(BIN)
        .args(["identities", "export", "--db"])
        .arg(&app.db_path)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&without.stdout).contains("hashed_password"));

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("copy.sqlite");
    let result = run_import(&db, &String::from_utf8(out.stdout).unwrap());
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let copy = spawn_in(dir, db, |_| {}).await;
    let (status, _) = copy
        .login_native("round@example.com", "round trip phrase")
        .await;
    assert_eq!(status, 200);
    let (_, list) = copy.get_json(&copy.admin_url("/admin/identities")).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["metadata_admin"]["k"] == 1));
}

#[tokio::test]
async fn batch_patch_creates_valid_identities_and_reports_each_record() {
    let app = spawn_app().await;
    app.create_identity(&json!({"schema_id": "default", "traits": {"email": "taken@example.com"}}))
        .await;
    let body = json!({"identities": [
        {"create": {"schema_id": "default", "traits": {"email": "one@example.com"}}, "patch_id": "11111111-1111-4111-8111-111111111111"},
        {"create": {"schema_id": "default", "traits": {"email": "broken"}}, "patch_id": "22222222-2222-4222-8222-222222222222"},
        {"create": {"schema_id": "default", "traits": {"email": "taken@example.com"}}},
        {"create": {"schema_id": "default", "traits": {"email": "two@example.com"}}}
    ]});
    let resp = app
        .http
        .patch(app.admin_url("/admin/identities"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let result: Value = resp.json().await.unwrap();
    let items = result["identities"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "error", "error", "create"]);
    assert_eq!(items[0]["patch_id"], "11111111-1111-4111-8111-111111111111");
    assert_eq!(items[1]["error"]["code"], 400);
    assert_eq!(app.count_rows("identities"), 3);
    let _: ory_kratos_client::models::BatchPatchIdentitiesResponse =
        serde_json::from_value(result).unwrap();
}

/// A backup taken while registrations keep coming holds every identity committed
/// before it started and passes its integrity check.
#[tokio::test]
async fn a_backup_taken_under_write_load_is_consistent() {
    let app = spawn_app().await;
    for i in 0..20 {
        app.create_identity(
            &json!({"schema_id": "default", "traits": {"email": format!("before{i}@example.com")}}),
        )
        .await;
    }
    let committed: i64 = app.count_rows("identities");
    let writer = {
        let (http, url) = (app.http.clone(), app.admin_url("/admin/identities"));
        tokio::spawn(async move {
            for i in 0..200 {
                let body = json!({"schema_id": "default", "traits": {"email": format!("during{i}@example.com")}});
                http.post(&url).json(&body).send().await.unwrap();
            }
        })
    };
    let out_path = app.dir.path().join("backup.sqlite");
    let out = tokio::task::spawn_blocking({
        let (db, out) = (app.db_path.clone(), out_path.clone());
        move || {
            Command::new(BIN)
                .args(["backup"])
                .arg(&out)
                .arg("--db")
                .arg(&db)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    writer.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity ok"));
    let conn = rusqlite::Connection::open(&out_path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM identities", [], |r| r.get(0))
        .unwrap();
    assert!(n >= committed, "{n} < {committed}");
    let orphans: i64 = conn
        .query_row("SELECT count(*) FROM identities i WHERE NOT EXISTS (SELECT 1 FROM identity_verifiable_addresses a WHERE a.identity_id = i.id)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0, "no half-written identity");
    assert!(
        out_path.with_extension("sqlite.key").exists(),
        "the key file is copied along"
    );
    // Refuses to overwrite.
    let again = Command::new(BIN)
        .args(["backup"])
        .arg(&out_path)
        .arg("--db")
        .arg(&app.db_path)
        .output()
        .unwrap();
    assert!(!again.status.success());
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_follow_what_happens() {
    let app = spawn_app().await;
    let before = app.metrics().await;
    app.registered_token("m@example.com", "correct horse battery")
        .await;
    app.login_native("m@example.com", "correct horse battery")
        .await;
    app.login_native("m@example.com", "wrong password here")
        .await;
    let after = app.metrics().await;
    assert_eq!(
        metric(&after, "postern_logins_total{result=\"success\"}")
            - metric(&before, "postern_logins_total{result=\"success\"}"),
        1.0
    );
    assert_eq!(
        metric(&after, "postern_logins_total{result=\"failure\"}"),
        1.0
    );
    assert_eq!(
        metric(&after, "postern_registrations_total{result=\"success\"}"),
        1.0
    );
    assert_eq!(metric(&after, "postern_active_sessions"), 2.0);
    assert_eq!(
        metric(&after, "postern_courier_messages{status=\"queued\"}"),
        1.0
    );
    let login_requests: f64 = after
        .iter()
        .filter(|(n, _)| {
            n.starts_with("postern_http_requests_total{")
                && n.contains("route=\"/self-service/login\"")
        })
        .map(|(_, v)| v)
        .sum();
    assert_eq!(login_requests, 2.0, "one 200 and one 400, by route pattern");
    assert!(after
        .iter()
        .any(|(n, _)| n.starts_with("postern_http_request_duration_seconds_bucket{")));
    assert!(after
        .iter()
        .any(|(n, _)| n.starts_with("postern_db_pool_connections{")));
    assert!(after
        .iter()
        .any(|(n, _)| n == "postern_password_hashes_in_flight"));
    // The registration and the successful login each waited for a disk sync.
    assert!(
        metric(&after, "postern_db_wal_syncs_total")
            >= metric(&before, "postern_db_wal_syncs_total") + 2.0
    );
}

#[tokio::test]
async fn the_admin_token_guards_every_admin_route_but_health() {
    let token = "a-long-admin-token-for-tests-0123456789";
    let app = spawn_app_with(|a| a.push(format!("--admin-token={token}"))).await;
    for path in [
        "/admin/identities",
        "/identities",
        "/metrics/prometheus",
        "/admin/courier/messages",
        "/version",
    ] {
        let resp = app.http.get(app.admin_url(path)).send().await.unwrap();
        assert_kratos_error(resp, 401, None).await;
        let resp = app
            .http
            .get(app.admin_url(path))
            .header("Authorization", "Bearer wrong-token-of-some-length")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        let resp = app
            .http
            .get(app.admin_url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
    for path in ["/health/alive", "/health/ready"] {
        assert_eq!(
            app.http
                .get(app.admin_url(path))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    // A public listener route is not affected.
    assert_eq!(
        app.http
            .get(app.public_url("/self-service/login/api"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn an_admin_listener_off_loopback_needs_a_token() {
    let out = Command::new(BIN)
        .args([
            "--admin-listen",
            "0.0.0.0:0",
            "--public-listen",
            "127.0.0.1:0",
            "--ephemeral",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--admin-token"));
}

#[tokio::test]
async fn cleanup_removes_only_what_is_past_retention() {
    let app = spawn_app().await;
    let token = app
        .registered_token("keep@example.com", "correct horse battery")
        .await;
    app.create_native_login_flow().await;
    // New flows are written with the next write or within 100 ms; count them all.
    app.state.store.flush_flows().await.unwrap();
    let flows_before = app.count_rows("selfservice_flows");
    assert!(flows_before >= 3);
    // Nothing is old enough yet, and a pass that deletes no session leaves
    // the session-check cache warm.
    assert_eq!(app.whoami_status(&token).await, 200);
    assert!(app.whoami_cached(&token));
    postern::cleanup::run_once(&app.state).await.unwrap();
    assert_eq!(app.count_rows("selfservice_flows"), flows_before);
    assert!(
        app.whoami_cached(&token),
        "a cleanup pass emptied the cache"
    );
    // Nine days later: flows (1h) and the session (24h) ended over a week ago.
    // A new login's session is live; deleting the old one leaves its cached
    // check cached.
    app.clock.advance(time::Duration::days(9));
    let (status, login) = app
        .login_native("keep@example.com", "correct horse battery")
        .await;
    assert_eq!(status, 200);
    let live = login["session_token"].as_str().unwrap().to_owned();
    assert_eq!(app.whoami_status(&live).await, 200);
    app.state.store.flush_flows().await.unwrap();
    let report = postern::cleanup::run_once(&app.state).await.unwrap();
    assert!(
        app.whoami_cached(&live),
        "deleting ended sessions emptied the cache"
    );
    assert!(report.iter().map(|(_, n)| n).sum::<usize>() > flows_before as usize);
    assert_eq!(app.count_rows("selfservice_flows"), 1, "the new login's");
    assert_eq!(app.count_rows("sessions"), 1, "the new login's");
    assert_eq!(
        app.count_rows("identities"),
        1,
        "identities are never cleaned up"
    );
    assert_eq!(app.whoami_status(&token).await, 401);
}
