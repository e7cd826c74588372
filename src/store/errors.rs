//! Self-service errors stored for `/self-service/errors?id=`.

use super::codec::{get_json, get_time, json_text, time_int, uuid_text};
use super::StoreError;
use rusqlite::{named_params, Connection, OptionalExtension};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

const INSERT_ERROR: &str = "INSERT INTO selfservice_errors (id, error, created_at, updated_at)
    VALUES (:id, :error, :now, :now)";
const SELECT_ERROR: &str =
    "SELECT error, created_at, updated_at FROM selfservice_errors WHERE id = :id";
const MARK_SEEN: &str = "UPDATE selfservice_errors SET seen_at = :now, updated_at = :now
    WHERE id = :id AND seen_at IS NULL";

pub const STATEMENTS: &[&str] = &[INSERT_ERROR, SELECT_ERROR, MARK_SEEN];

/// A stored error: its JSON and timestamps.
pub struct StoredError {
    pub error: Value,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub fn insert(
    conn: &Connection,
    id: Uuid,
    error: &Value,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(INSERT_ERROR)?.execute(named_params! {
        ":id": uuid_text(id),
        ":error": json_text(error),
        ":now": time_int(now),
    })?;
    Ok(())
}

/// Reads an error and marks it seen.
pub fn take(
    conn: &Connection,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<StoredError>, StoreError> {
    let found = conn
        .prepare_cached(SELECT_ERROR)?
        .query_row(named_params! { ":id": uuid_text(id) }, |r| {
            Ok(StoredError {
                error: get_json(r, "error")?,
                created_at: get_time(r, "created_at")?,
                updated_at: get_time(r, "updated_at")?,
            })
        })
        .optional()?;
    if found.is_some() {
        conn.prepare_cached(MARK_SEEN)?
            .execute(named_params! { ":id": uuid_text(id), ":now": time_int(now) })?;
    }
    Ok(found)
}
