//! A database file from the first release opens, migrates in place and keeps its data.

use crate::helpers::spawn_in;
use serde_json::Value;

#[tokio::test]
async fn a_version_1_database_opens_and_serves_its_identities() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.sqlite");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(include_str!("../fixtures/v1.sql"))
            .unwrap();
    }
    let app = spawn_in(dir, db, |_| {}).await;

    let resp = app
        .http
        .get(app.admin_url("/admin/identities/6f1d6a3e-5b0c-4f7e-9a51-2d3c4b5a6978"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["traits"]["email"], "old@example.com");
    assert_eq!(
        body["credentials"]["password"]["identifiers"][0],
        "old@example.com"
    );

    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, postern::store::migrate::LATEST);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
