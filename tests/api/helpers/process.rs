//! The real `postern` binary as a child process, for tests that need a process
//! of its own (signals, crashes, its own memory figures, subcommands).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Flags that switch every rate-limit bucket off (load and crash tests).
pub const NO_RATE_LIMITS: [&str; 3] = [
    "--rate-limit-low=0",
    "--rate-limit-medium=0",
    "--rate-limit-high=0",
];

/// The built binary, with no `POSTERN_*` variables leaking in from outside.
pub fn postern() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postern"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("POSTERN_")) {
        cmd.env_remove(k);
    }
    cmd
}

/// Starts `postern serve` on port 0 and reads the bound addresses from its
/// JSON start-up log line (`public`, `admin`, `db`): no port races. `extra` is
/// every other flag (`--dev`, `--db`, …).
pub fn start_binary(extra: &[&str]) -> (Child, Value) {
    let mut child = postern()
        .args([
            "serve",
            "--public-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .args(["--log-format", "json", "--log-level", "info"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let listening = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["fields"]["message"] == "Postern is listening" {
            break v["fields"].clone();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, listening)
}

/// A native self-service submission to a server at `base` (`flow`: login,
/// registration, …): opens the flow, posts `body` to it. `None` when the
/// server could not be reached (the crash tests kill it mid-request).
pub async fn submit_native(
    http: &reqwest::Client,
    base: &str,
    flow: &str,
    body: &Value,
) -> Option<reqwest::Response> {
    let opened: Value = http
        .get(format!("{base}/self-service/{flow}/api"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    http.post(opened["ui"]["action"].as_str()?)
        .json(body)
        .send()
        .await
        .ok()
}
