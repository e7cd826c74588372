//! How Rust values are encoded in SQLite, one way each: UUIDs as lowercase TEXT,
//! instants as INTEGER Unix microseconds, JSON documents as TEXT.

use crate::clock::{from_micros, to_micros};
use rusqlite::types::Type;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

pub fn uuid_text(id: Uuid) -> String {
    id.as_hyphenated().to_string()
}

pub fn time_int(t: OffsetDateTime) -> i64 {
    to_micros(t)
}

pub fn json_text(v: &Value) -> String {
    v.to_string()
}

pub fn opt_json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(json_text)
}

pub fn get_uuid(row: &rusqlite::Row<'_>, idx: &str) -> rusqlite::Result<Uuid> {
    let s: String = row.get(idx)?;
    Uuid::parse_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e)))
}

pub fn get_time(row: &rusqlite::Row<'_>, idx: &str) -> rusqlite::Result<OffsetDateTime> {
    Ok(from_micros(row.get(idx)?))
}

pub fn get_opt_time(
    row: &rusqlite::Row<'_>,
    idx: &str,
) -> rusqlite::Result<Option<OffsetDateTime>> {
    Ok(row.get::<_, Option<i64>>(idx)?.map(from_micros))
}

pub fn get_json(row: &rusqlite::Row<'_>, idx: &str) -> rusqlite::Result<Value> {
    let s: String = row.get(idx)?;
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e)))
}

pub fn get_opt_json(row: &rusqlite::Row<'_>, idx: &str) -> rusqlite::Result<Option<Value>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e))),
    }
}
