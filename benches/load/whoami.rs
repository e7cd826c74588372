//! The session-check table: `whoami` by token and by cookie, with the cache on
//! and off, against the framework floor (`GET /health/alive`), and while other
//! users log out.

use crate::client::{delete_json, drive, get, measure, warm, Conn};
use crate::machine::rss_kib;
use crate::server::{start, Server};
use rand::seq::IndexedRandom;
use std::sync::Arc;

/// Logouts per second during the last row.
const LOGOUTS_PER_SEC: usize = 20;

/// Given a connection number, makes that connection's request builder.
type RequestMaker = Box<dyn Fn(usize) -> Box<dyn Fn() -> Vec<u8>>>;

/// Measures the session-check figures against `server` (and a second server on
/// the same file with the cache off) and reports them.
#[allow(clippy::too_many_arguments)]
pub fn session_check_table(
    rt: &tokio::runtime::Runtime,
    local: &tokio::task::LocalSet,
    db: &std::path::Path,
    server: &Server,
    tokens: Arc<Vec<String>>,
    runs: u64,
    secs: u64,
    line: &mut impl FnMut(String),
) {
    let n = tokens.len();
    // The last 5% of the sessions log out during the last row; the checks of
    // every row use the others.
    let (checked, leaving) = tokens.split_at(n - n / 20);
    let (checked, leaving) = (Arc::new(checked.to_vec()), leaving.to_vec());
    // A second server on the same file with the session-check cache off: what
    // a check costs when it has to go to SQLite.
    let (uncached, _) = start(db, &["--session-cache-size", "0"]);

    // Every session checked once, so the cache holds them all, as it does on a
    // server that has been up for a while; how long that takes is the cold rate.
    let fill = local.block_on(rt, warm(&server.public, tokens.clone()));
    let warm_anon = rss_kib(server.child.id(), "RssAnon:");

    line("| Figure | 1 conn | 16 conns | 64 conns |".into());
    line("|---|---|---|---|".into());
    let mut floor64 = 0.0;
    let mut who64 = 0.0;
    local.block_on(rt, async {
        // whoami with a random seeded token, sent after `carrier` (a
        // header name, or the session cookie's name).
        let token_maker =
            |tokens: std::sync::Arc<Vec<String>>, carrier: &'static str| -> RequestMaker {
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
                token_maker(checked.clone(), "X-Session-Token: "),
            ),
            (
                "`whoami` by cookie",
                &server.public,
                token_maker(checked.clone(), "Cookie: ory_kratos_session="),
            ),
            (
                "`whoami` by `X-Session-Token`, cache off (`--session-cache-size 0`)",
                &uncached.public,
                token_maker(checked.clone(), "X-Session-Token: "),
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
        // Checks while other users log out: each logout is a write that
        // changes what a check reads, for one identity only.
        let leaving = std::cell::RefCell::new(leaving.into_iter());
        let maker = token_maker(checked.clone(), "X-Session-Token: ")(64);
        let maker = std::rc::Rc::new(maker);
        let f = measure(runs, || {
            let m = maker.clone();
            let addr = server.public.clone();
            let batch: Vec<String> = leaving
                .borrow_mut()
                .by_ref()
                .take(LOGOUTS_PER_SEC * secs as usize)
                .collect();
            async move {
                let logouts = tokio::task::spawn_local({
                    let addr = addr.clone();
                    async move {
                        let mut c = Conn::open(&addr).await;
                        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1) / LOGOUTS_PER_SEC as u32);
                        for token in batch {
                            tick.tick().await;
                            let body = format!(r#"{{"session_token":"{token}"}}"#);
                            let (status, _) = c.send(&delete_json("/self-service/logout/api", &body)).await;
                            assert_eq!(status, 204, "logout");
                        }
                    }
                });
                let f = drive(&addr, 64, secs, move || m(), 200).await;
                logouts.await.unwrap();
                f
            }
        })
        .await;
        line(format!(
            "| `whoami` by `X-Session-Token` while other users log out ({LOGOUTS_PER_SEC}/s) | — | — | {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms |",
            f.rps,
            f.p50_us / 1000.0,
            f.p99_us / 1000.0
        ));
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
