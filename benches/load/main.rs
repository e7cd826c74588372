//! The load benchmark: `cargo bench --bench load`. Builds the release binary,
//! starts it on a fresh database pinned to CPU 0, seeds 100,000 identities (by
//! `postern identities import`) and 100,000 live sessions, and drives it from
//! CPU 1 with a keep-alive HTTP/1.1 load generator over loopback. Every figure
//! is the median of several bounded runs. Writes a Markdown report to stdout
//! and to target/bench-report.md. Nothing here is a pass/fail test.
//!
//! Environment knobs: BENCH_SECS (seconds per run, default 3; for the password
//! figures, the 1 s slices of each kind per round), BENCH_RUNS (runs per
//! figure, default 3), BENCH_CREDENTIAL_RUNS (rounds of the password figures,
//! default 9 or BENCH_RUNS if more), BENCH_IDENTITIES
//! (default 100000), BENCH_ONLY=credentials (only the password, start-up and
//! memory figures).

// A benchmark harness, like the tests: a failed step should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod client;
mod credentials;
mod machine;
mod seed;
mod server;
mod whoami;

use client::Conn;
use credentials::{login_once, PASSWORD};
use machine::{env_num, pin_self, rss_kib, rss_total_gib};
use seed::{seed_import_file, seed_sessions};
use server::{start, BIN};
use std::process::Command;
use std::time::{Duration, Instant};

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
        whoami::session_check_table(
            &rt,
            &local,
            &db,
            &server,
            tokens.clone(),
            runs,
            secs,
            &mut line,
        );
    }
    credentials::password_figures(&rt, &local, &server, runs, secs, &mut line);

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
                login_once(&mut Conn::open(&addr).await).await
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
