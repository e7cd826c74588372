//! Crash safety: the real binary under concurrent registrations and logins is
//! killed with SIGKILL at random moments, restarted on the same file, and checked:
//! every acknowledged registration exists and logs in, every issued session that
//! was not revoked still passes whoami, every revoked one does not, the file is
//! intact, and no identity is half written. CRASH_ROUNDS sets the rounds (CI: 3).

use serde_json::{json, Value};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::helpers::process::{start_binary, submit_native, NO_RATE_LIMITS};

struct Proc {
    child: Child,
    public: String,
}

fn start(db: &std::path::Path) -> Proc {
    let db = db.to_str().unwrap();
    let (child, info) = start_binary(&[&["--dev", "--db", db], &NO_RATE_LIMITS[..]].concat());
    Proc {
        child,
        public: format!("http://{}", info["public"].as_str().unwrap()),
    }
}

fn kill(p: &mut Proc, signal: &str) {
    Command::new("kill")
        .args([signal, &p.child.id().to_string()])
        .status()
        .unwrap();
    p.child.wait().unwrap();
}

#[derive(Default)]
struct Ledger {
    /// Emails whose registration was acknowledged with 200.
    registered: Vec<String>,
    /// Session tokens issued (acknowledged) and not revoked.
    live: Vec<String>,
    /// Tokens whose revocation was acknowledged.
    revoked: Vec<String>,
}

async fn register(http: &reqwest::Client, base: &str, email: &str) -> Option<String> {
    let body = json!({"method": "password", "traits": {"email": email}, "password": "crash test passphrase"});
    let resp = submit_native(http, base, "registration", &body).await?;
    if resp.status() != 200 {
        return None;
    }
    let body: Value = resp.json().await.ok()?;
    body["session_token"].as_str().map(str::to_owned)
}

/// One round of load until SIGKILL; returns what the server acknowledged.
async fn load_until_killed(p: &mut Proc, round: usize, ledger: &mut Ledger) {
    let http = reqwest::Client::new();
    let base = p.public.clone();
    let kill_after = Duration::from_millis(150 + rand::random_range(0..400));
    let started = Instant::now();
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                let mut acked = Ledger::default();
                for i in 0.. {
                    let email = format!("r{round}w{w}n{i}@crash.example");
                    let Some(token) = register(&http, &base, &email).await else {
                        break;
                    };
                    acked.registered.push(email);
                    // Every third session is revoked again (native logout).
                    if i % 3 == 0 {
                        let ok = http
                            .delete(format!("{base}/self-service/logout/api"))
                            .json(&json!({"session_token": token}))
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 204);
                        if ok {
                            acked.revoked.push(token);
                        } else {
                            // Unknown outcome: neither live nor revoked for sure.
                            break;
                        }
                    } else {
                        acked.live.push(token);
                    }
                }
                acked
            })
        })
        .collect();
    while started.elapsed() < kill_after {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill(p, "-KILL");
    for w in workers {
        let acked = w.await.unwrap();
        ledger.registered.extend(acked.registered);
        ledger.live.extend(acked.live);
        ledger.revoked.extend(acked.revoked);
    }
}

async fn verify(base: &str, ledger: &Ledger, db: &std::path::Path) {
    let http = reqwest::Client::new();
    for email in &ledger.registered {
        let body =
            json!({"method": "password", "identifier": email, "password": "crash test passphrase"});
        let resp = submit_native(&http, base, "login", &body).await.unwrap();
        assert_eq!(
            resp.status(),
            200,
            "acknowledged registration {email} cannot log in"
        );
    }
    for (tokens, expect) in [(&ledger.live, 200), (&ledger.revoked, 401)] {
        for t in tokens {
            let status = http
                .get(format!("{base}/sessions/whoami"))
                .header("X-Session-Token", t)
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, expect);
        }
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let half: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM identities i WHERE NOT EXISTS (SELECT 1 FROM identity_credentials c WHERE c.identity_id = i.id))
                  + (SELECT count(*) FROM identity_credentials c WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.id = c.identity_id))
                  + (SELECT count(*) FROM identity_credentials c WHERE NOT EXISTS (SELECT 1 FROM identity_credential_identifiers x WHERE x.credential_id = c.id))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(half, 0, "half-written identities");
}

#[tokio::test]
async fn sigkill_under_load_loses_nothing_that_was_acknowledged() {
    let rounds: usize = std::env::var("CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.sqlite");
    let mut ledger = Ledger::default();
    for round in 0..rounds {
        let mut p = start(&db);
        load_until_killed(&mut p, round, &mut ledger).await;
        let mut p = start(&db);
        verify(&p.public, &ledger, &db).await;
        kill(&mut p, "-KILL");
    }
    eprintln!(
        "crash safety: {rounds} SIGKILL rounds; {} acknowledged registrations, {} live and {} revoked sessions all as acknowledged",
        ledger.registered.len(),
        ledger.live.len(),
        ledger.revoked.len()
    );
    assert!(
        !ledger.registered.is_empty(),
        "the load did something before each kill"
    );
}

/// SIGTERM during load: in-flight requests finish, and everything acknowledged is there.
#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_requests() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("term.sqlite");
    let mut p = start(&db);
    let http = reqwest::Client::new();
    let base = p.public.clone();
    let inflight: Vec<_> = (0..8)
        .map(|i| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                register(&http, &base, &format!("term{i}@crash.example"))
                    .await
                    .map(|_| i)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status()
        .unwrap();
    let status = p.child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let mut ledger = Ledger::default();
    for t in inflight {
        if let Some(i) = t.await.unwrap() {
            ledger.registered.push(format!("term{i}@crash.example"));
        }
    }
    let p2 = start(&db);
    verify(&p2.public, &ledger, &db).await;
    let mut p2 = p2;
    kill(&mut p2, "-KILL");
}
