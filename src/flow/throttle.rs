//! Per-identifier login throttling, on top of the per-IP buckets: after
//! `--login-max-failures` failed logins for one identifier (from any number of
//! addresses), further attempts for it are refused for `--login-lockout`,
//! doubling with each further failure up to an hour. Unknown identifiers are
//! throttled exactly like known ones, so the throttle reveals nothing about
//! which accounts exist. A successful login clears the count.

use crate::crypto;
use std::collections::HashMap;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Failures are forgotten after this long without a new one.
const FORGET_AFTER: Duration = Duration::hours(1);
const MAX_LOCKOUT: Duration = Duration::hours(1);
const MAX_TRACKED: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last_failure: OffsetDateTime,
    locked_until: Option<OffsetDateTime>,
}

pub struct LoginThrottle {
    max_failures: u32,
    lockout: Duration,
    /// Keyed by a digest of the normalized identifier (no emails in memory dumps).
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("max_failures", &self.max_failures)
            .finish()
    }
}

fn key(identifier: &str) -> String {
    crypto::digest_hex(identifier.as_bytes())
}

impl LoginThrottle {
    pub fn new(max_failures: u32, lockout: Duration) -> LoginThrottle {
        LoginThrottle {
            max_failures: max_failures.max(1),
            lockout,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds)` to wait when the identifier is locked right now.
    pub fn locked_for(&self, identifier: &str, now: OffsetDateTime) -> Option<i64> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let until = entries.get(&key(identifier))?.locked_until?;
        (until > now).then(|| (until - now).whole_seconds().max(1))
    }

    pub fn record_failure(&self, identifier: &str, now: OffsetDateTime) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_TRACKED {
            entries.retain(|_, e| now - e.last_failure < FORGET_AFTER);
        }
        let e = entries.entry(key(identifier)).or_insert(Entry {
            failures: 0,
            last_failure: now,
            locked_until: None,
        });
        if now - e.last_failure >= FORGET_AFTER {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
        if e.failures >= self.max_failures {
            let doublings = (e.failures - self.max_failures).min(16);
            let wait = (self.lockout * 2i32.pow(doublings)).min(MAX_LOCKOUT);
            e.locked_until = Some(now + wait);
        }
    }

    pub fn record_success(&self, identifier: &str) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.remove(&key(identifier));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_doubles_and_clears_on_success() {
        let t = LoginThrottle::new(3, Duration::seconds(30));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for _ in 0..2 {
            t.record_failure("a@b.c", t0);
        }
        assert_eq!(t.locked_for("a@b.c", t0), None);
        t.record_failure("a@b.c", t0);
        assert_eq!(t.locked_for("a@b.c", t0), Some(30));
        assert_eq!(t.locked_for("other@b.c", t0), None, "per identifier");
        let later = t0 + Duration::seconds(31);
        assert_eq!(t.locked_for("a@b.c", later), None);
        t.record_failure("a@b.c", later);
        assert_eq!(t.locked_for("a@b.c", later), Some(60), "doubles");
        t.record_success("a@b.c");
        assert_eq!(t.locked_for("a@b.c", later), None);
    }
}
