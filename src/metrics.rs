//! Prometheus metrics, served as text on the admin listener
//! (`GET /metrics/prometheus`). Counters are updated as things happen; gauges
//! that describe stored state (sessions, courier queue, pool) are read at scrape.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub logins: IntCounterVec,
    pub registrations: IntCounterVec,
    pub rate_limited: IntCounterVec,
    pub active_sessions: IntGauge,
    pub courier_messages: IntGaugeVec,
    pub hashes_in_flight: IntGauge,
    pub db_connections: IntGaugeVec,
    /// Session checks (`whoami`) answered from the cache, and from the
    /// database: the cache's hit rate. Resolved once: a labelled lookup
    /// per check would cost a hash and a lock on the hot path.
    pub session_checks_cached: IntCounter,
    pub session_checks_read: IntCounter,
    /// Brought up to the store's own count at each scrape (`sync_wal_syncs`).
    db_wal_syncs: IntCounter,
    /// Serializes those catch-ups, so two scrapes at once cannot both add
    /// the same difference.
    wal_syncs_catch_up: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("postern".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by listener, method, route and status",
            ),
            &["listener", "method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by listener and route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["listener", "route"],
        )?;
        let logins = IntCounterVec::new(
            Opts::new("logins_total", "Login attempts by result"),
            &["result"],
        )?;
        let registrations = IntCounterVec::new(
            Opts::new("registrations_total", "Registration attempts by result"),
            &["result"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "rate_limit_refusals_total",
                "Requests refused with 429 by bucket",
            ),
            &["bucket"],
        )?;
        let active_sessions = IntGauge::new(
            "active_sessions",
            "Sessions that are active and not expired",
        )?;
        let courier_messages = IntGaugeVec::new(
            Opts::new("courier_messages", "Outbox messages by status"),
            &["status"],
        )?;
        let hashes_in_flight = IntGauge::new(
            "password_hashes_in_flight",
            "argon2/bcrypt operations running or waiting",
        )?;
        let db_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let db_wal_syncs = IntCounter::new(
            "db_wal_syncs_total",
            "Syncs of the database's write-ahead log to disk (one per durable write)",
        )?;
        let session_checks = IntCounterVec::new(
            Opts::new(
                "session_checks_total",
                "Session checks (whoami) by where the answer came from: cache or database",
            ),
            &["answer"],
        )?;
        registry.register(Box::new(session_checks.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(logins.clone()))?;
        registry.register(Box::new(registrations.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(active_sessions.clone()))?;
        registry.register(Box::new(courier_messages.clone()))?;
        registry.register(Box::new(hashes_in_flight.clone()))?;
        registry.register(Box::new(db_connections.clone()))?;
        registry.register(Box::new(db_wal_syncs.clone()))?;
        for status in ["queued", "processing", "sent", "abandoned"] {
            courier_messages.with_label_values(&[status]).set(0);
        }
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
            logins,
            registrations,
            rate_limited,
            active_sessions,
            courier_messages,
            hashes_in_flight,
            db_connections,
            session_checks_cached: session_checks.with_label_values(&["cache"]),
            session_checks_read: session_checks.with_label_values(&["database"]),
            db_wal_syncs,
            wal_syncs_catch_up: std::sync::Mutex::new(()),
        })
    }

    /// Raises the WAL-sync counter to `total`, the store's count
    /// (`Store::wal_syncs`): the store counts in a plain atomic and knows
    /// nothing of Prometheus.
    pub fn sync_wal_syncs(&self, total: u64) {
        let _one_at_a_time = self
            .wal_syncs_catch_up
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let reported = self.db_wal_syncs.get();
        if total > reported {
            self.db_wal_syncs.inc_by(total - reported);
        }
    }

    /// The Prometheus text exposition of everything registered.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    fn reported(m: &Metrics) -> String {
        m.render()
            .lines()
            .find(|l| l.starts_with("postern_db_wal_syncs_total "))
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn the_wal_sync_counter_follows_the_store_and_never_counts_twice() {
        let m = Metrics::new().unwrap();
        assert_eq!(reported(&m), "postern_db_wal_syncs_total 0");
        m.sync_wal_syncs(5);
        m.sync_wal_syncs(5);
        assert_eq!(reported(&m), "postern_db_wal_syncs_total 5");
        m.sync_wal_syncs(7);
        // A stale reading (an older total) never moves a counter back.
        m.sync_wal_syncs(3);
        assert_eq!(reported(&m), "postern_db_wal_syncs_total 7");
    }
}
