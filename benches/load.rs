//! The load benchmark: `cargo bench --bench load`. Builds the release binary,
//! starts it on a fresh database pinned to CPU 0, seeds 100,000 identities (by
//! `postern identities import`) and 100,000 live sessions, and drives it from
//! CPU 1 with a keep-alive HTTP/1.1 load generator over loopback. Every figure
//! is the median of several bounded runs. Writes a Markdown report to stdout
//! and to target/bench-report.md. Nothing here is a pass/fail test.
//!
//! Environment knobs: BENCH_SECS (seconds per run, default 3), BENCH_RUNS
//! (runs per figure, default 3), BENCH_CREDENTIAL_RUNS (rounds of the
//! password figures, default 9 or BENCH_RUNS if more), BENCH_IDENTITIES
//! (default 100000), BENCH_ONLY=credentials (only the password, start-up and
//! memory figures).

// A benchmark harness, like the tests: a failed step should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rand::seq::IndexedRandom;
use std::io::{BufRead, BufReader, Write as _};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_postern");
const PASSWORD: &str = "benchmark passphrase";

/// One round of password work: rates per second, and the share of the
/// server's core left idle during each credential run.
struct Round {
    raw_around_logins: f64,
    logins: f64,
    login_idle: f64,
    raw_around_registrations: f64,
    registrations: f64,
    registration_idle: f64,
}

/// Given a connection number, makes that connection's request builder.
type RequestMaker = Box<dyn Fn(usize) -> Box<dyn Fn() -> Vec<u8>>>;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Pins the current process (the load generator) to CPU 1.
fn pin_self() -> bool {
    Command::new("taskset")
        .args(["-p", "-c", "1", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// CPU 0's (idle + iowait, total) time so far, in jiffies, from /proc/stat.
fn cpu0_times() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .find(|l| l.starts_with("cpu0 "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .filter_map(|f| f.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (idle, fields.iter().sum())
}

/// The share of CPU 0's time spent idle since `since` (a `cpu0_times`).
fn cpu0_idle_since(since: (u64, u64)) -> f64 {
    let now = cpu0_times();
    (now.0 - since.0) as f64 / (now.1 - since.1).max(1) as f64
}

/// Pins the calling thread to `cpu`.
fn pin_thread(cpu: u32) {
    let tid = std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let _ = Command::new("taskset")
        .args(["-p", "-c", &cpu.to_string(), &tid])
        .stdout(Stdio::null())
        .status();
}

struct Server {
    child: Child,
    public: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn start(db: &std::path::Path, extra: &[&str]) -> (Server, Duration) {
    let (public, admin) = (free_port(), free_port());
    let started = Instant::now();
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0", BIN, "serve", "--db"])
        .arg(db)
        .args([
            "--public-listen",
            &format!("127.0.0.1:{public}"),
            "--admin-listen",
            &format!("127.0.0.1:{admin}"),
        ])
        .args([
            "--log-level",
            "warn",
            "--workers",
            "1",
            "--rate-limit-low",
            "0",
            "--rate-limit-medium",
            "0",
            "--rate-limit-high",
            "0",
        ])
        .args(["--login-max-failures", "1000"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = cmd.spawn().expect("start postern");
    let server = Server {
        child,
        public: format!("127.0.0.1:{public}"),
    };
    loop {
        if get_status(&server.public, "/health/ready") == Some(200) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::yield_now();
    }
    let elapsed = started.elapsed();
    (server, elapsed)
}

fn get_status(addr: &str, path: &str) -> Option<u16> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        let s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            stream: tokio::io::BufReader::new(s),
        }
    }

    /// Sends a raw request; returns (status, body).
    async fn send(&mut self, request: &[u8]) -> (u16, Vec<u8>) {
        self.stream.get_mut().write_all(request).await.unwrap();
        let mut status = 0;
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            if status == 0 {
                status = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else if line == "\r\n" {
                break;
            } else if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await.unwrap();
        (status, body)
    }
}

fn get(path: &str, headers: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n").into_bytes()
}

fn post_json(path: &str, body: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[derive(Clone, Copy)]
struct Figures {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
}

/// `conns` connections send requests made by `make` for `secs` seconds.
async fn drive(
    addr: &str,
    conns: usize,
    secs: u64,
    make: impl Fn() -> Vec<u8> + Clone + 'static,
    expect: u16,
) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (addr, make) = (addr.to_owned(), make.clone());
        tasks.push(tokio::task::spawn_local(async move {
            let mut c = Conn::open(&addr).await;
            let mut lat = Vec::with_capacity(100_000);
            while Instant::now() < deadline {
                let req = make();
                let t = Instant::now();
                let (status, _) = c.send(&req).await;
                lat.push(t.elapsed().as_micros() as u32);
                assert_eq!(status, expect, "unexpected status");
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
    };
    Figures {
        rps: all.len() as f64 / secs as f64,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

/// Checks every token once over 64 connections; returns how long it took.
async fn warm(addr: &str, tokens: std::sync::Arc<Vec<String>>) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for first in 0..64 {
        let (addr, tokens) = (addr.to_owned(), tokens.clone());
        tasks.push(tokio::task::spawn_local(async move {
            let mut c = Conn::open(&addr).await;
            for token in tokens.iter().skip(first).step_by(64) {
                let req = get("/sessions/whoami", &format!("X-Session-Token: {token}\r\n"));
                assert_eq!(c.send(&req).await.0, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed()
}

fn median(mut v: Vec<Figures>) -> Figures {
    v.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    v[v.len() / 2]
}

async fn measure(runs: u64, f: impl AsyncFn() -> Figures) -> Figures {
    let mut v = Vec::new();
    for _ in 0..runs {
        v.push(f().await);
    }
    median(v)
}

fn seed_import_file(n: u64, hash: &str, path: &std::path::Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write!(f, "[").unwrap();
    for i in 0..n {
        if i > 0 {
            write!(f, ",").unwrap();
        }
        write!(
            f,
            r#"{{"schema_id":"default","traits":{{"email":"user{i}@bench.example","name":{{"first":"User","last":"{i}"}}}},"credentials":{{"password":{{"config":{{"hashed_password":"{hash}"}}}}}}}}"#
        )
        .unwrap();
    }
    write!(f, "]").unwrap();
}

/// 100,000 live sessions, straight into the database (tokens kept for the load),
/// with time-ordered UUIDv7 ids like the ones the server issues.
fn seed_sessions(db: &std::path::Path) -> Vec<String> {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM identities")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let now = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .unwrap()
        .as_micros() as i64;
    let tx = conn.transaction().unwrap();
    let mut tokens = Vec::with_capacity(ids.len());
    {
        let mut s = tx.prepare("INSERT INTO sessions (id, token_digest, identity_id, active, aal, authentication_methods, issued_at, authenticated_at, expires_at, created_at, updated_at) VALUES (?1, ?2, ?3, 1, 'aal1', '[{\"method\":\"password\",\"aal\":\"aal1\",\"completed_at\":\"2026-01-01T00:00:00Z\"}]', ?4, ?4, ?5, ?4, ?4)").unwrap();
        let mut d = tx.prepare("INSERT INTO session_devices (id, session_id, ip_address, user_agent, location, created_at, updated_at) VALUES (?1, ?2, '127.0.0.1', 'bench', '', ?3, ?3)").unwrap();
        for id in &ids {
            let token = format!("ory_st_{}", postern::crypto::random_alphanumeric(32));
            let sid = uuid::Uuid::now_v7().to_string();
            s.execute(rusqlite::params![
                sid,
                postern::crypto::digest_hex(token.as_bytes()),
                id,
                now,
                now + 86_400_000_000
            ])
            .unwrap();
            d.execute(rusqlite::params![
                uuid::Uuid::now_v7().to_string(),
                sid,
                now
            ])
            .unwrap();
            tokens.push(token);
        }
    }
    tx.commit().unwrap();
    tokens
}

fn main() {
    let secs = env_num("BENCH_SECS", 3);
    let runs = env_num("BENCH_RUNS", 3);
    let n = env_num("BENCH_IDENTITIES", 100_000);
    // Count before pinning: a pinned process sees only its one CPU.
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let pinned = pin_self();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let mut report = String::new();
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        .unwrap_or_default();
    line(format!("Machine: {} CPUs ({cpu}), {} GiB RAM; server pinned to CPU 0, load generator to CPU 1 ({}).", cpus, rss_total_gib(), if pinned { "taskset" } else { "NOT pinned: taskset failed" }));
    line(format!("Each figure: median of {runs} runs of {secs} s; {n} identities and {n} live sessions; tokens chosen at random.\n"));

    let dir = tempfile::tempdir().unwrap();
    let params = postern::password::HashParams::DEFAULT;
    let hash = postern::password::hash_now(params, PASSWORD).unwrap();

    // Import and database size.
    let db = dir.path().join("bench.sqlite");
    let file = dir.path().join("import.json");
    seed_import_file(n, &hash, &file);
    let (empty_server, cold_empty) = start(&db, &[]);
    drop(empty_server);
    let t = Instant::now();
    let out = Command::new(BIN)
        .args(["identities", "import"])
        .arg(&file)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let import_secs = t.elapsed().as_secs_f64();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let db_mib = std::fs::metadata(&db).unwrap().len() as f64 / 1_048_576.0;
    let tokens = std::sync::Arc::new(seed_sessions(&db));

    let (server, cold_seeded) = start(&db, &[]);
    // Idle means idle: let start-up allocations settle before reading RSS.
    #[allow(clippy::disallowed_methods)]
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = rss_kib(server.child.id(), "VmRSS:");

    // BENCH_ONLY=credentials skips the session-check table (for iterating on
    // the password figures).
    if std::env::var("BENCH_ONLY").as_deref() != Ok("credentials") {
        // A second server on the same file with the session-check cache off: what
        // a check costs when it has to go to SQLite.
        let (uncached, _) = start(&db, &["--session-cache-size", "0"]);

        // Every session checked once, so the cache holds them all, as it does on a
        // server that has been up for a while; how long that takes is the cold rate.
        let fill = local.block_on(&rt, warm(&server.public, tokens.clone()));
        let warm_anon = rss_kib(server.child.id(), "RssAnon:");

        line("| Figure | 1 conn | 16 conns | 64 conns |".into());
        line("|---|---|---|---|".into());
        let mut floor64 = 0.0;
        let mut who64 = 0.0;
        local.block_on(&rt, async {
            // whoami with a random seeded token, sent after `carrier` (a
            // header name, or the session cookie's name).
            let token_maker = |tokens: std::sync::Arc<Vec<String>>,
                               carrier: &'static str|
             -> RequestMaker {
                Box::new(move |_| {
                    let tokens = tokens.clone();
                    Box::new(move || {
                        get(
                            "/sessions/whoami",
                            &format!("{carrier}{}\r\n", tokens.choose(&mut rand::rng()).unwrap()),
                        )
                    })
                })
            };
            let cases: Vec<(&str, &str, RequestMaker)> = vec![
                (
                    "`GET /health/alive` (floor)",
                    &server.public,
                    Box::new(|_| Box::new(|| get("/health/alive", ""))),
                ),
                (
                    "`whoami` by `X-Session-Token`",
                    &server.public,
                    token_maker(tokens.clone(), "X-Session-Token: "),
                ),
                (
                    "`whoami` by cookie",
                    &server.public,
                    token_maker(tokens.clone(), "Cookie: ory_kratos_session="),
                ),
                (
                    "`whoami` by `X-Session-Token`, cache off (`--session-cache-size 0`)",
                    &uncached.public,
                    token_maker(tokens.clone(), "X-Session-Token: "),
                ),
            ];
            for (name, addr, make) in &cases {
                let mut cells = Vec::new();
                for conns in [1usize, 16, 64] {
                    let maker = std::rc::Rc::new(make(conns));
                    let f = measure(runs, || {
                        let m = maker.clone();
                        let addr = addr.to_string();
                        async move { drive(&addr, conns, secs, move || m(), 200).await }
                    })
                    .await;
                    if conns == 64 {
                        if name.contains("floor") {
                            floor64 = f.rps;
                        } else if name.ends_with("`X-Session-Token`") {
                            who64 = f.rps;
                        }
                    }
                    cells.push(format!(
                        "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
                        f.rps,
                        f.p50_us / 1000.0,
                        f.p99_us / 1000.0
                    ));
                }
                line(format!(
                    "| {name} | {} | {} | {} |",
                    cells[0], cells[1], cells[2]
                ));
            }
        });
        drop(uncached);
        line(format!(
        "\nwhoami / floor at 64 connections: {:.0}%. Filling the cache (each of the {n} sessions checked once, 64 connections, before the runs above): {:.1} s, {:.0} checks/s; anonymous memory with all {n} cached: {:.1} MiB.\n",
        100.0 * who64 / floor64.max(1.0),
        fill.as_secs_f64(),
        tokens.len() as f64 / fill.as_secs_f64(),
        warm_anon as f64 / 1024.0
    ));
    }

    // Password work. A VM's cores speed up and slow down with its neighbours,
    // so each rate is compared with the raw argon2id rate measured right
    // before and right after it on the server's own core (CPU 0, idle
    // meanwhile), and the ratios are medians over the runs.
    let raw_rate = move || {
        std::thread::spawn(move || {
            pin_thread(0);
            let t = Instant::now();
            let mut hashes = 0;
            while t.elapsed() < Duration::from_secs(secs) {
                postern::password::hash_now(params, PASSWORD).unwrap();
                hashes += 1;
            }
            hashes as f64 / t.elapsed().as_secs_f64()
        })
        .join()
        .unwrap()
    };
    // More rounds here than elsewhere: a neighbour that slows the core in one
    // round moves that round's ratio by 5 to 15 points (the report lists every
    // round), and a median of five can still land on such a round.
    let runs = env_num("BENCH_CREDENTIAL_RUNS", runs.max(9));
    let mut rounds = Vec::new();
    for _ in 0..runs {
        // Raw rates measured right before and right after each credential run;
        // the run is compared with their mean, so drift in between cancels.
        // CPU 0's idle share during each run tells time the server spent
        // waiting (on the disk, or on the load generator) from time it spent
        // working.
        let raw_before = raw_rate();
        let idle_from = cpu0_times();
        let logins = local.block_on(&rt, credential_rate(&server.public, secs, 4, true));
        let login_idle = cpu0_idle_since(idle_from);
        let raw_between = raw_rate();
        let idle_from = cpu0_times();
        let registrations = local.block_on(&rt, credential_rate(&server.public, secs, 4, false));
        let registration_idle = cpu0_idle_since(idle_from);
        let raw_after = raw_rate();
        rounds.push(Round {
            raw_around_logins: (raw_before + raw_between) / 2.0,
            logins,
            login_idle,
            raw_around_registrations: (raw_between + raw_after) / 2.0,
            registrations,
            registration_idle,
        });
    }
    let sorted = |f: &dyn Fn(&Round) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let med = |f: &dyn Fn(&Round) -> f64| {
        let v = sorted(f);
        v[v.len() / 2]
    };
    // Every round's ratio, lowest first: the median alone hides the spread.
    let each = |f: &dyn Fn(&Round) -> f64| {
        sorted(f)
            .iter()
            .map(|x| format!("{:.1}", 100.0 * x))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let login_ratio = |r: &Round| r.logins / r.raw_around_logins;
    let registration_ratio = |r: &Round| r.registrations / r.raw_around_registrations;
    line(format!(
        "argon2id m={} KiB, t={}, p={}, 4 connections, medians of {runs} rounds: raw {:.1} hashes/s on CPU 0 (the server's core); logins {:.1}/s, {:.1}% of the raw rate measured just before and after (rounds: {}%); registrations {:.1}/s, {:.1}% (rounds: {}%). CPU 0 idle during logins {:.1}%, during registrations {:.1}%.\n",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        med(&|r| r.raw_around_logins),
        med(&|r| r.logins),
        100.0 * med(&login_ratio),
        each(&login_ratio),
        med(&|r| r.registrations),
        100.0 * med(&registration_ratio),
        each(&registration_ratio),
        100.0 * med(&|r| r.login_idle),
        100.0 * med(&|r| r.registration_idle),
    ));

    // Peak memory under a burst of 200 concurrent logins (the high-water mark is
    // reset first, so earlier phases do not count).
    let _ = std::fs::write(format!("/proc/{}/clear_refs", server.child.id()), "5");
    let pid = server.child.id();
    let before_burst = rss_kib(pid, "VmRSS:");
    let anon_before = rss_kib(pid, "RssAnon:");
    // RSS also counts the database pages SQLite has mapped (file-backed, shared
    // with the page cache), so anonymous memory is sampled separately: that is
    // what hashing allocates.
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid, "RssAnon:"));
                std::thread::yield_now();
            }
            peak
        })
    };
    local.block_on(&rt, async {
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let addr = server.public.clone();
            tasks.push(tokio::task::spawn_local(async move {
                login_once(&addr, &mut Conn::open(&addr).await).await
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap());
        }
    });
    let peak = rss_kib(server.child.id(), "VmHWM:");
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let anon_peak = sampler.join().unwrap();
    drop(server);

    line("| Figure | Value |".into());
    line("|---|---|".into());
    line(format!(
        "| cold start, empty database (spawn → first 200 on /health/ready) | {:.1} ms |",
        cold_empty.as_secs_f64() * 1000.0
    ));
    line(format!(
        "| cold start, {n} identities + {n} sessions | {:.1} ms |",
        cold_seeded.as_secs_f64() * 1000.0
    ));
    line(format!(
        "| idle RSS (seeded) | {:.1} MiB |",
        idle_rss as f64 / 1024.0
    ));
    line(format!(
        "| peak RSS, 200 concurrent logins (default hash concurrency: 1 on the server's one CPU, × 19 MiB) | {:.1} MiB ({:.1} MiB just before the burst) |",
        peak as f64 / 1024.0,
        before_burst as f64 / 1024.0
    ));
    line(format!(
        "| peak anonymous memory during that burst (sampled) | {:.1} MiB ({:.1} MiB just before) |",
        anon_peak as f64 / 1024.0,
        anon_before as f64 / 1024.0
    ));
    line(format!(
        "| database size per 100,000 identities | {:.1} MiB |",
        db_mib * 100_000.0 / n as f64
    ));
    line(format!(
        "| `postern identities import` of {n} pre-hashed identities | {import_secs:.1} s |"
    ));
    let _ = std::fs::create_dir_all("target");
    std::fs::write("target/bench-report.md", report).unwrap();
}

fn rss_total_gib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1_048_576)
}

fn flow_id(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn login_once(_addr: &str, c: &mut Conn) -> bool {
    let (_, body) = c.send(&get("/self-service/login/api", "")).await;
    let id = flow_id(&body);
    let user = rand::random_range(0..1000);
    let body = format!(
        r#"{{"method":"password","identifier":"user{user}@bench.example","password":"{PASSWORD}"}}"#
    );
    let (status, _) = c
        .send(&post_json(&format!("/self-service/login?flow={id}"), &body))
        .await;
    status == 200
}

/// Completed logins (or registrations) per second over `conns` connections.
async fn credential_rate(addr: &str, secs: u64, conns: usize, login: bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(secs.max(3));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..conns {
        let addr = addr.to_owned();
        tasks.push(tokio::task::spawn_local(async move {
            let mut c = Conn::open(&addr).await;
            let mut done = 0u64;
            let mut i = 0u64;
            while Instant::now() < deadline {
                let ok = if login {
                    login_once(&addr, &mut c).await
                } else {
                    let (_, body) = c.send(&get("/self-service/registration/api", "")).await;
                    let id = flow_id(&body);
                    i += 1;
                    let body = format!(r#"{{"method":"password","traits":{{"email":"new{worker}-{i}-{}@bench.example"}},"password":"{PASSWORD}"}}"#, rand::random::<u32>());
                    c.send(&post_json(&format!("/self-service/registration?flow={id}"), &body)).await.0 == 200
                };
                done += u64::from(ok);
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}
