//! Deleting what is long past its use, in small batches so that no write lock is
//! held for long.

use super::codec::time_int;
use super::StoreError;
use rusqlite::{named_params, Connection};
use time::OffsetDateTime;

pub const BATCH: i64 = 500;

const STALE_FLOWS: &str = "DELETE FROM selfservice_flows WHERE rowid IN
    (SELECT rowid FROM selfservice_flows WHERE expires_at < :before LIMIT :batch)";
const STALE_CODES: &str = "DELETE FROM selfservice_codes WHERE rowid IN
    (SELECT rowid FROM selfservice_codes WHERE expires_at < :before LIMIT :batch)";
const STALE_SESSIONS: &str = "DELETE FROM sessions WHERE rowid IN
    (SELECT rowid FROM sessions
     WHERE expires_at < :before OR (active = 0 AND updated_at < :before) LIMIT :batch)";
const STALE_ERRORS: &str = "DELETE FROM selfservice_errors WHERE rowid IN
    (SELECT rowid FROM selfservice_errors WHERE created_at < :before LIMIT :batch)";
const STALE_MESSAGES: &str = "DELETE FROM courier_messages WHERE seq IN
    (SELECT seq FROM courier_messages
     WHERE status IN ('sent', 'abandoned') AND updated_at < :before LIMIT :batch)";

pub const STATEMENTS: &[&str] = &[
    STALE_FLOWS,
    STALE_CODES,
    STALE_SESSIONS,
    STALE_ERRORS,
    STALE_MESSAGES,
];

/// What one cleanup pass removes, table by table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Flows,
    Codes,
    Sessions,
    Errors,
    Messages,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Codes,
        Target::Flows,
        Target::Sessions,
        Target::Errors,
        Target::Messages,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Flows => "flows",
            Target::Codes => "codes",
            Target::Sessions => "sessions",
            Target::Errors => "errors",
            Target::Messages => "courier messages",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Target::Flows => STALE_FLOWS,
            Target::Codes => STALE_CODES,
            Target::Sessions => STALE_SESSIONS,
            Target::Errors => STALE_ERRORS,
            Target::Messages => STALE_MESSAGES,
        }
    }
}

/// Deletes up to `BATCH` rows of `target` that ended before `before`.
pub fn delete_batch(
    conn: &Connection,
    target: Target,
    before: OffsetDateTime,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(target.sql())?
        .execute(named_params! { ":before": time_int(before), ":batch": BATCH })?)
}
