//! The real `postern` binary: flags, subcommands, start-up and graceful shutdown.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::helpers::process::{postern, start_binary, submit_native};

#[test]
fn a_bad_flag_value_is_a_clear_error_naming_the_flag() {
    for (args, flag) in [
        (vec!["--public-listen", "not-an-address"], "--public-listen"),
        (vec!["--hash-iterations", "zero"], "--hash-iterations"),
        (vec!["--log-format", "xml"], "--log-format"),
        (vec!["--identity-schema", "broken"], "--identity-schema"),
        (
            vec![
                "--identity-schema",
                "x=/no/such/file.json",
                "--default-schema-id",
                "x",
            ],
            "/no/such/file.json",
        ),
        (vec!["--hash-memory-kib", "1"], "--hash-memory-kib"),
    ] {
        let out = postern().args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn hash_password_prints_a_verifiable_argon2id_hash() {
    let mut child = postern()
        .args([
            "hash-password",
            "--hash-memory-kib",
            "256",
            "--hash-iterations",
            "1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"my secret\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{hash}");
    let params = postern::password::HashParams {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };
    assert_eq!(
        postern::password::verify_now(params, "my secret", hash).unwrap(),
        postern::password::Verified::Yes
    );
}

#[test]
fn migrate_creates_and_upgrades_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    let out = postern()
        .args(["migrate", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, postern::store::migrate::LATEST);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

/// Starts the binary in developer mode on port 0.
fn start(extra: &[&str]) -> (std::process::Child, Value) {
    start_binary(&[&["--dev"], extra].concat())
}

/// Like `start`, but keeps every log line.
fn start_capturing(
    extra: &[&str],
) -> (
    std::process::Child,
    Value,
    std::sync::Arc<std::sync::Mutex<String>>,
) {
    let mut child = postern()
        .args([
            "serve",
            "--public-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .args(["--log-format", "json", "--dev", "--ephemeral"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let err_log = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            err_log.lock().unwrap().push_str(&line);
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        log.lock().unwrap().push_str(&line);
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["fields"]["message"] == "Postern is listening" {
            break v["fields"].clone();
        }
    };
    let out_log = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            out_log.lock().unwrap().push_str(&line);
            out_log.lock().unwrap().push('\n');
        }
    });
    (child, listening, log)
}

/// Runs registration, verification (through the mail link), login, logout and
/// recovery at the most verbose log level, then scans the log for every secret
/// the run produced.
#[tokio::test]
async fn logs_never_contain_codes_tokens_or_passwords() {
    use serde_json::json;
    let (mut child, info, log) = start_capturing(&["--log-level", "trace"]);
    let public = format!("http://{}", info["public"].as_str().unwrap());
    let admin = format!("http://{}", info["admin"].as_str().unwrap());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let password = "log-secret passphrase";
    let body = json!({"method": "password", "traits": {"email": "logs@example.com"}, "password": password});
    let reg: Value = submit_native(&http, &public, "registration", &body)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = reg["session_token"].as_str().unwrap().to_owned();
    let messages: Value = http
        .get(format!("{admin}/admin/courier/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = messages[0]["body"].as_str().unwrap().to_owned();
    let link = body
        .lines()
        .find(|l| l.contains("code="))
        .unwrap()
        .trim()
        .to_owned();
    let code = link.rsplit("code=").next().unwrap().to_owned();
    http.get(&link).send().await.unwrap();
    http.get(format!("{public}/sessions/whoami"))
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    // A wrong password and a 404 make the server log more.
    let body = json!({"method": "password", "identifier": "logs@example.com", "password": "wrong-secret guess"});
    submit_native(&http, &public, "login", &body).await.unwrap();
    let logout = format!("{public}/self-service/logout?token=ory_lo_secretlogouttoken123");
    http.get(&logout)
        .header("Cookie", format!("ory_kratos_session={token}"))
        .send()
        .await
        .unwrap();
    http.delete(format!("{public}/self-service/logout/api"))
        .json(&json!({"session_token": token}))
        .send()
        .await
        .unwrap();

    assert!(terminate(&mut child).success());
    let log = log.lock().unwrap().clone();
    assert!(log.contains("message queued"), "the log is captured");
    for secret in [
        password,
        "wrong-secret guess",
        &token[7..],
        &code,
        "secretlogouttoken123",
    ] {
        assert!(!log.contains(secret), "`{secret}` appears in the log");
    }
}

fn get(addr: &str, path: &str) -> u16 {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut status = String::new();
    BufReader::new(stream).read_line(&mut status).unwrap();
    status.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    child.wait().unwrap()
}

#[test]
fn serve_answers_ready_on_both_ports_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("serve.sqlite");
    let (mut child, info) = start(&["--db", db.to_str().unwrap()]);
    let public = info["public"].as_str().unwrap().to_owned();
    let admin = info["admin"].as_str().unwrap().to_owned();
    assert_eq!(get(&public, "/health/ready"), 200);
    assert_eq!(get(&admin, "/health/ready"), 200);
    assert!(db.exists());
    let status = terminate(&mut child);
    assert!(status.success(), "{status:?}");
}

#[test]
fn ephemeral_mode_removes_its_database_on_exit() {
    let (mut child, info) = start(&["--ephemeral"]);
    let db = std::path::PathBuf::from(info["db"].as_str().unwrap());
    assert!(db.exists(), "{db:?}");
    assert_eq!(get(info["public"].as_str().unwrap(), "/health/ready"), 200);
    assert!(terminate(&mut child).success());
    assert!(!db.exists(), "{db:?} should be gone");
}
