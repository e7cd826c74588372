//! The load generator: keep-alive HTTP/1.1 connections over loopback.

use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
}

impl Conn {
    pub async fn open(addr: &str) -> Conn {
        let s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            stream: tokio::io::BufReader::new(s),
        }
    }

    /// Sends a raw request; returns (status, body).
    pub async fn send(&mut self, request: &[u8]) -> (u16, Vec<u8>) {
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

pub fn get(path: &str, headers: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n").into_bytes()
}

pub fn delete_json(path: &str, body: &str) -> Vec<u8> {
    format!("DELETE {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

pub fn post_json(path: &str, body: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[derive(Clone, Copy)]
pub struct Figures {
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// `conns` connections send requests made by `make` for `secs` seconds.
pub async fn drive(
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
pub async fn warm(addr: &str, tokens: std::sync::Arc<Vec<String>>) -> Duration {
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

pub async fn measure(runs: u64, f: impl AsyncFn() -> Figures) -> Figures {
    let mut v = Vec::new();
    for _ in 0..runs {
        v.push(f().await);
    }
    median(v)
}
