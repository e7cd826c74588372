//! Password work: login and registration rates at 4 connections against the
//! raw argon2id rate on the server's core, and where the server's CPU time
//! went meanwhile.

use crate::client::{get, post_json, Conn};
use crate::machine::{cpu0_idle_since, cpu0_times, env_num, pin_thread, thread_cpu_ns, ThreadCpu};
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

/// What the server did in one credential slice.
struct Slice {
    done: u64,
    took: f64,
    idle: f64,
    cpu: ThreadCpu,
}

/// Slices of one kind (logins or registrations) in a round, added up, with
/// the raw rate around each weighted by the slice's length.
#[derive(Default)]
struct Acc {
    done: u64,
    took: f64,
    idle_time: f64,
    raw_time: f64,
    cpu: ThreadCpu,
}

impl Acc {
    fn add(&mut self, s: &Slice, raw_around: f64) {
        self.done += s.done;
        self.took += s.took;
        self.idle_time += s.idle * s.took;
        self.raw_time += raw_around * s.took;
        self.cpu += &s.cpu;
    }

    /// The raw rate the round's slices are compared with.
    fn raw_around(&self) -> f64 {
        self.raw_time / self.took
    }

    fn run(&self) -> Run {
        let done = self.done.max(1) as f64;
        Run {
            rate: self.done as f64 / self.took,
            idle: self.idle_time / self.took,
            hash_share: self.cpu.hashing as f64 / self.cpu.total.max(1) as f64,
            other_ms: self.cpu.total.saturating_sub(self.cpu.hashing) as f64 / 1e6 / done,
            core_share: self.cpu.hashing as f64 / 1e9 / self.took,
            hash_ms: self.cpu.hashing as f64 / 1e6 / done,
        }
    }
}

/// One round: slices of logins and of registrations, alternating with raw
/// argon2id slices, and the raw rate around them.
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
    // One credential slice: what the server did in it.
    let slice = |login: bool, length: Duration| {
        let idle_from = cpu0_times();
        let cpu_from = thread_cpu_ns(pid);
        let (done, took) = local.block_on(rt, credential_run(&server.public, length, 4, login));
        Slice {
            done,
            took,
            idle: cpu0_idle_since(idle_from),
            cpu: thread_cpu_ns(pid).since(&cpu_from),
        }
    };
    // The raw reference: argon2id in a loop on CPU 0 (the server's core, idle
    // meanwhile), on one long-lived thread so that no slice pays for a new
    // thread's first touch of argon2's memory.
    let (to_raw, raw_orders) = std::sync::mpsc::channel::<Duration>();
    let (raw_rates, from_raw) = std::sync::mpsc::channel::<f64>();
    let raw_thread = std::thread::spawn(move || {
        pin_thread(0);
        for length in raw_orders {
            let t = Instant::now();
            let mut hashes = 0;
            while t.elapsed() < length {
                postern::password::hash_now(params, PASSWORD).unwrap();
                hashes += 1;
            }
            raw_rates
                .send(f64::from(hashes) / t.elapsed().as_secs_f64())
                .unwrap();
        }
    });
    let raw_rate = |length: Duration| {
        to_raw.send(length).unwrap();
        from_raw.recv().unwrap()
    };
    // A VM's core speeds up and slows down with its neighbours within
    // minutes, so the raw rate and the server's rates are measured in short
    // alternating slices — raw, logins, raw, registrations, raw, … — and each
    // credential slice is compared with the raw slices on either side of it:
    // drift slower than a few seconds cancels. A slice boundary costs the
    // server about one request's non-hash time (the pipeline of 4 connections
    // fills and drains), well under 1% of a 1 s slice.
    let length = Duration::from_secs(1);
    let slices_per_round = secs.max(1);
    // More rounds here than elsewhere: the report lists every round's ratio.
    let runs = env_num("BENCH_CREDENTIAL_RUNS", runs.max(9));
    let mut rounds = Vec::new();
    for _ in 0..runs {
        let (mut logins, mut registrations) = (Acc::default(), Acc::default());
        let mut raw_before = raw_rate(length);
        for _ in 0..slices_per_round {
            let s = slice(true, length);
            let raw_between = raw_rate(length);
            logins.add(&s, (raw_before + raw_between) / 2.0);
            let s = slice(false, length);
            let raw_after = raw_rate(length);
            registrations.add(&s, (raw_between + raw_after) / 2.0);
            raw_before = raw_after;
        }
        rounds.push(Round {
            raw_around_logins: logins.raw_around(),
            logins: logins.run(),
            raw_around_registrations: registrations.raw_around(),
            registrations: registrations.run(),
        });
    }
    drop(to_raw);
    raw_thread.join().unwrap();
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
    // A hash's CPU time in the server against the raw loop's wall time per
    // hash in the same round (the raw loop has CPU 0 to itself): what the
    // server's hashes lose to interruptions, cache refills and the other
    // core's activity, beyond the server's own non-hash work.
    let login_slowdown = |r: &Round| r.logins.hash_ms * r.raw_around_logins / 1000.0 - 1.0;
    let registration_slowdown =
        |r: &Round| r.registrations.hash_ms * r.raw_around_registrations / 1000.0 - 1.0;
    line(format!(
    "argon2id m={} KiB, t={}, p={}, 4 connections, medians of {runs} rounds of {slices_per_round} login and {slices_per_round} registration slices of 1 s, alternating with raw slices: raw {:.1} hashes/s on CPU 0 (the server's core); logins {:.1}/s, {:.1}% of the raw rate measured around each slice (rounds: {}%); registrations {:.1}/s, {:.1}% (rounds: {}%). CPU 0 idle during logins {:.1}%, during registrations {:.1}%. The server's own CPU time (its threads' schedstat): hashing {:.1}% of it during logins and {:.1}% during registrations; everything else {:.2} ms per login and {:.2} ms per registration. Hashing held {:.1}% of CPU 0's time during logins (rounds: {}%) and {:.1}% during registrations (rounds: {}%), at {:.2} and {:.2} ms per hash against the raw loop's {:.2} ms. Paired within each round, a hash in the server took {:+.1}% (logins; rounds: {}%) and {:+.1}% (registrations; rounds: {}%) longer than one in the raw slices around it (a round's rate ratio is its core share divided by 1 plus this).\n",
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
    100.0 * med(&login_slowdown),
    each(&login_slowdown),
    100.0 * med(&registration_slowdown),
    each(&registration_slowdown),
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
async fn credential_run(addr: &str, length: Duration, conns: usize, login: bool) -> (u64, f64) {
    let deadline = Instant::now() + length;
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
