//! The server under test: the release binary, pinned to CPU 0.

use crate::machine::free_port;
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_postern");

pub struct Server {
    pub child: Child,
    pub public: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

pub fn start(db: &std::path::Path, extra: &[&str]) -> (Server, Duration) {
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

pub fn get_status(addr: &str, path: &str) -> Option<u16> {
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
