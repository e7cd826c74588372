use crate::helpers::assert::assert_kratos_error;
use crate::helpers::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn health_and_version_answer_on_both_listeners() {
    let app = spawn_app().await;
    for base in [&app.public, &app.admin] {
        for path in ["/health/alive", "/health/ready"] {
            let resp = app.http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{base}{path}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["status"], "ok");
        }
        let v: Value = app
            .http
            .get(format!("{base}/version"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    }
}

#[tokio::test]
async fn ready_is_503_when_the_database_cannot_answer() {
    let app = spawn_app().await;
    // Sabotage: take away the table readiness reads.
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    conn.execute_batch("ALTER TABLE identities RENAME TO identities_gone")
        .unwrap();

    let resp = app
        .http
        .get(app.public_url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert!(body["errors"]["database"].is_string(), "{body}");
    // Liveness does not depend on the database.
    let resp = app
        .http
        .get(app.public_url("/health/alive"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    conn.execute_batch("ALTER TABLE identities_gone RENAME TO identities")
        .unwrap();
    let resp = app
        .http
        .get(app.admin_url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_kratos_envelope() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.public_url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;
    let resp = app
        .http
        .delete(app.public_url("/health/alive"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 405, None).await;
    let resp = app
        .http
        .post(app.admin_url("/version"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 405, None).await;
    // Admin routes are not served on the public listener.
    let resp = app
        .http
        .get(app.public_url("/admin/identities"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;
}
