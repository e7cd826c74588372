//! The only place that reads the wall clock. Tests inject a manual clock and move
//! time forward instead of sleeping (flow expiry, session lifespan).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A source of "now": the system clock, or a manual one tests can advance.
#[derive(Clone, Debug)]
pub struct Clock(Inner);

#[derive(Clone, Debug)]
enum Inner {
    System,
    /// Unix time in microseconds, shared between clones.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn system() -> Self {
        Clock(Inner::System)
    }

    /// A clock frozen at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: OffsetDateTime) -> Self {
        Clock(Inner::Manual(Arc::new(AtomicI64::new(to_micros(start)))))
    }

    /// The current time, truncated to microseconds (what the database stores).
    pub fn now(&self) -> OffsetDateTime {
        match &self.0 {
            #[allow(
                clippy::disallowed_methods,
                reason = "the one sanctioned wall-clock read"
            )]
            Inner::System => from_micros(to_micros(OffsetDateTime::now_utc())),
            Inner::Manual(t) => from_micros(t.load(Ordering::SeqCst)),
        }
    }

    /// Moves a manual clock forward; a system clock ignores this.
    pub fn advance(&self, by: Duration) {
        if let Inner::Manual(t) = &self.0 {
            let micros = i64::try_from(by.whole_microseconds()).unwrap_or(i64::MAX);
            t.fetch_add(micros, Ordering::SeqCst);
        }
    }
}

/// Unix microseconds: the one encoding of instants in the database.
pub fn to_micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

pub fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let t0 = datetime!(2026-01-01 10:00 UTC);
        let clock = Clock::manual(t0);
        let other = clock.clone();
        assert_eq!(clock.now(), t0);
        other.advance(Duration::minutes(61));
        assert_eq!(clock.now(), t0 + Duration::minutes(61));
    }

    #[test]
    fn micros_round_trip() {
        let t = datetime!(2026-03-04 05:06:07.123456 UTC);
        assert_eq!(from_micros(to_micros(t)), t);
    }
}
