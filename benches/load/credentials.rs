//! Password work: login and registration rates at 4 connections against the
//! raw argon2id rate on the server's core, and where the server's CPU time
//! went meanwhile.

use crate::client::{get, post_json, Conn};
use crate::machine::{cpu0_idle_since, cpu0_times, env_num, pin_thread, thread_cpu_ns};
use crate::server::Server;
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "benchmark passphrase";

/// One credential run: completions per second, CPU 0's idle share, and the
/// server's CPU split (from its threads' schedstat).
#[derive(Clone, Copy)]
struct Run {
    rate: f64,
    idle: f64,
    /// The hashing threads' share of the server's CPU time.
    hash_share: f64,
    /// The server's CPU time outside the hashing threads, per completion.
    other_ms: f64,
    /// The hashing threads' CPU time as a share of the run's wall time: of
    /// CPU 0, since the server runs there alone. Numerator and denominator
    /// come from the same window, so the core's drift does not enter it.
    core_share: f64,
    /// The hashing threads' CPU time per completion, in ms.
    hash_ms: f64,
}

/// One round: a login run and a registration run, each with the raw argon2id
/// rate measured around it.
struct Round {
    raw_around_logins: f64,
    logins: Run,
    raw_around_registrations: f64,
    registrations: Run,
}

/// Measures the password figures against `server` and reports them.
pub fn password_figures(
    rt: &tokio::runtime::Runtime,
    local: &tokio::task::LocalSet,
    server: &Server,
    runs: u64,
    secs: u64,
    line: &mut impl FnMut(String),
) {
    let params = postern::password::HashParams::DEFAULT;
    let pid = server.child.id();
    let run = |login: bool| {
        let idle_from = cpu0_times();
        let cpu_from = thread_cpu_ns(pid);
        let (done, took) = local.block_on(rt, credential_run(&server.public, secs, 4, login));
        let idle = cpu0_idle_since(idle_from);
        let cpu = thread_cpu_ns(pid).since(&cpu_from);
        Run {
            rate: done as f64 / took,
            idle,
            hash_share: cpu.hashing as f64 / cpu.total.max(1) as f64,
            other_ms: cpu.total.saturating_sub(cpu.hashing) as f64 / 1e6 / done.max(1) as f64,
            core_share: cpu.hashing as f64 / 1e9 / took,
            hash_ms: cpu.hashing as f64 / 1e6 / done.max(1) as f64,
        }
    };
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
        let raw_before = raw_rate();
        let logins = run(true);
        let raw_between = raw_rate();
        let registrations = run(false);
        let raw_after = raw_rate();
        rounds.push(Round {
            raw_around_logins: (raw_before + raw_between) / 2.0,
            logins,
            raw_around_registrations: (raw_between + raw_after) / 2.0,
            registrations,
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
    let login_ratio = |r: &Round| r.logins.rate / r.raw_around_logins;
    let registration_ratio = |r: &Round| r.registrations.rate / r.raw_around_registrations;
    line(format!(
    "argon2id m={} KiB, t={}, p={}, 4 connections, medians of {runs} rounds: raw {:.1} hashes/s on CPU 0 (the server's core); logins {:.1}/s, {:.1}% of the raw rate measured just before and after (rounds: {}%); registrations {:.1}/s, {:.1}% (rounds: {}%). CPU 0 idle during logins {:.1}%, during registrations {:.1}%. The server's own CPU time (its threads' schedstat): hashing {:.1}% of it during logins and {:.1}% during registrations; everything else {:.2} ms per login and {:.2} ms per registration. Hashing held {:.1}% of CPU 0's time during logins (rounds: {}%) and {:.1}% during registrations (rounds: {}%), at {:.2} and {:.2} ms per hash against the raw loop's {:.2} ms.\n",
    params.memory_kib,
    params.iterations,
    params.parallelism,
    med(&|r| r.raw_around_logins),
    med(&|r| r.logins.rate),
    100.0 * med(&login_ratio),
    each(&login_ratio),
    med(&|r| r.registrations.rate),
    100.0 * med(&registration_ratio),
    each(&registration_ratio),
    100.0 * med(&|r| r.logins.idle),
    100.0 * med(&|r| r.registrations.idle),
    100.0 * med(&|r| r.logins.hash_share),
    100.0 * med(&|r| r.registrations.hash_share),
    med(&|r| r.logins.other_ms),
    med(&|r| r.registrations.other_ms),
    100.0 * med(&|r| r.logins.core_share),
    each(&|r| r.logins.core_share),
    100.0 * med(&|r| r.registrations.core_share),
    each(&|r| r.registrations.core_share),
    med(&|r| r.logins.hash_ms),
    med(&|r| r.registrations.hash_ms),
    1000.0 / med(&|r| r.raw_around_logins),
));
}

fn flow_id(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

pub async fn login_once(c: &mut Conn) -> bool {
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

/// Completed logins (or registrations) over `conns` connections, and the
/// seconds they took.
async fn credential_run(addr: &str, secs: u64, conns: usize, login: bool) -> (u64, f64) {
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
                    login_once(&mut c).await
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
    (total, started.elapsed().as_secs_f64())
}
