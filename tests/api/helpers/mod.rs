//! `spawn_app()`: a real Postern on ephemeral ports with a temporary database,
//! configured through the real CLI parser.

pub mod assert;
pub mod browser;
pub mod courier;
pub mod metrics;
pub mod native;
pub mod process;
pub mod sdk;
pub mod smtp;

use clap::Parser;
use postern::app::Application;
use postern::clock::Clock;
use postern::config::{Config, ServeArgs};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::LazyLock;
use time::macros::datetime;
use time::OffsetDateTime;

/// The instant every test's manual clock starts at.
pub const T0: OffsetDateTime = datetime!(2026-01-01 10:00 UTC);

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        postern::telemetry::init(postern::config::LogFormat::Pretty, "debug");
    }
});

#[allow(dead_code, reason = "used by the flow tests")]
pub struct TestApp {
    /// `http://127.0.0.1:<port>` of the public listener.
    pub public: String,
    /// `http://127.0.0.1:<port>` of the admin listener.
    pub admin: String,
    pub clock: Clock,
    pub http: reqwest::Client,
    pub db_path: PathBuf,
    /// The server's shared state (for driving background work directly).
    pub state: postern::state::AppState,
    handles: (actix_web::dev::ServerHandle, actix_web::dev::ServerHandle),
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server; `tweak` adds or changes command-line flags.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Vec<String>)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("t.sqlite");
    spawn_in(dir, db, tweak).await
}

/// Starts a server on an existing directory and database file (restarts, upgrades).
pub async fn spawn_in(
    dir: tempfile::TempDir,
    db: PathBuf,
    tweak: impl FnOnce(&mut Vec<String>),
) -> TestApp {
    LazyLock::force(&TRACING);
    if let Some((k, _)) = std::env::vars().find(|(k, _)| k.starts_with("POSTERN_")) {
        panic!("{k} is set in the environment; tests configure Postern through flags only");
    }
    let mut args: Vec<String> = vec![
        "postern".into(),
        "--public-listen=127.0.0.1:0".into(),
        "--admin-listen=127.0.0.1:0".into(),
        format!("--db={}", db.display()),
        "--dev".into(),
        "--workers=1".into(),
    ];
    tweak(&mut args);
    let serve = ServeArgs::try_parse_from(&args).expect("test args");
    let config = Config::try_from(serve).expect("test config");
    let clock = Clock::manual(T0);
    let app = Application::build(config, clock.clone())
        .await
        .expect("build");
    let public = format!("http://{}", app.public_addr());
    let admin = format!("http://{}", app.admin_addr());
    let handles = app.handles();
    let state = app.state().clone();
    let task = tokio::spawn(app.run_until_stopped());
    TestApp {
        public,
        admin,
        clock,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db_path: db,
        state,
        handles,

        task: Some(task),
        dir,
    }
}

impl TestApp {
    /// Stops the server gracefully and hands back its directory (for restarts).
    pub async fn stop(mut self) -> (tempfile::TempDir, PathBuf) {
        self.handles.0.stop(true).await;
        self.handles.1.stop(true).await;
        if let Some(task) = self.task.take() {
            task.await.expect("join").expect("server ran cleanly");
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        (dir, self.db_path.clone())
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{}", self.admin, path)
    }

    pub fn public_url(&self, path: &str) -> String {
        format!("{}{}", self.public, path)
    }

    /// `POST /admin/identities` with a JSON body; returns the raw response.
    pub async fn create_identity(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.admin_url("/admin/identities"))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Creates an identity with an email and password and returns its JSON.
    pub async fn create_identity_with_password(&self, email: &str, password: &str) -> Value {
        let resp = self
            .create_identity(&json!({
                "schema_id": "default",
                "traits": { "email": email },
                "credentials": { "password": { "config": { "password": password } } }
            }))
            .await;
        assert_eq!(resp.status(), 201, "create identity");
        resp.json().await.expect("identity json")
    }

    /// Sets an identity's `state` (`active` or `inactive`) through the admin API.
    pub async fn set_identity_state(&self, id: &str, state: &str) {
        let resp = self
            .http
            .patch(self.admin_url(&format!("/admin/identities/{id}")))
            .json(&json!([{"op": "replace", "path": "/state", "value": state}]))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200, "set identity state");
    }

    /// Revokes a session through the admin API.
    pub async fn admin_revoke_session(&self, id: &str) {
        let resp = self
            .http
            .delete(self.admin_url(&format!("/admin/sessions/{id}")))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 204, "revoke session");
    }

    /// Reads a table's row count straight from the database file.
    pub fn count_rows(&self, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.db_path).expect("open db");
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }

    /// A digest of every identity-related row, to show a failed request changed nothing.
    pub fn snapshot(&self) -> String {
        let conn = rusqlite::Connection::open(&self.db_path).expect("open db");
        let mut out = String::new();
        for table in [
            "identities",
            "identity_credentials",
            "identity_credential_identifiers",
            "identity_verifiable_addresses",
            "identity_recovery_addresses",
        ] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
                .expect("prepare");
            let cols = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let mut line = String::new();
                    for i in 0..cols {
                        let v: rusqlite::types::Value = r.get(i)?;
                        line.push_str(&format!("{v:?}|"));
                    }
                    Ok(line)
                })
                .expect("query");
            for row in rows {
                out.push_str(table);
                out.push(':');
                out.push_str(&row.expect("row"));
                out.push('\n');
            }
        }
        out
    }
}
