//! The machine: CPU pinning, CPU 0's idle time, per-thread CPU time and
//! memory figures, all read from /proc (Linux).

use std::net::TcpListener;
use std::process::{Command, Stdio};

pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Pins the current process (the load generator) to CPU 1.
pub fn pin_self() -> bool {
    Command::new("taskset")
        .args(["-p", "-c", "1", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// CPU 0's (idle + iowait, total) time so far, in jiffies, from /proc/stat.
pub fn cpu0_times() -> (u64, u64) {
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
pub fn cpu0_idle_since(since: (u64, u64)) -> f64 {
    let now = cpu0_times();
    (now.0 - since.0) as f64 / (now.1 - since.1).max(1) as f64
}

/// Pins the calling thread to `cpu`.
pub fn pin_thread(cpu: u32) {
    let tid = std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let _ = Command::new("taskset")
        .args(["-p", "-c", &cpu.to_string(), &tid])
        .stdout(Stdio::null())
        .status();
}

pub fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn rss_total_gib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1_048_576)
}

/// CPU time so far of a process's threads, in nanoseconds: all of them, and
/// its hashing threads (`postern-hash-*`).
#[derive(Clone, Copy, Default)]
pub struct ThreadCpu {
    pub total: u64,
    pub hashing: u64,
}

impl ThreadCpu {
    pub fn since(&self, earlier: &ThreadCpu) -> ThreadCpu {
        ThreadCpu {
            total: self.total.saturating_sub(earlier.total),
            hashing: self.hashing.saturating_sub(earlier.hashing),
        }
    }
}

impl std::ops::AddAssign<&ThreadCpu> for ThreadCpu {
    fn add_assign(&mut self, other: &ThreadCpu) {
        self.total += other.total;
        self.hashing += other.hashing;
    }
}

/// Reads every thread's `/proc/<pid>/task/<tid>/schedstat` (its first field is
/// the time it has run) and `comm`.
pub fn thread_cpu_ns(pid: u32) -> ThreadCpu {
    let mut cpu = ThreadCpu::default();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return cpu;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let ran: u64 = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(0);
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        cpu.total += ran;
        if name.starts_with("postern-hash") {
            cpu.hashing += ran;
        }
    }
    cpu
}
