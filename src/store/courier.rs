//! The courier outbox and its delivery attempts.

use super::codec::{get_time, get_uuid, time_int, uuid_text};
use super::StoreError;
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const INSERT_MESSAGE: &str = "INSERT INTO courier_messages
    (id, type, status, recipient, subject, body, html_body, template_type, send_count,
     next_attempt_at, created_at, updated_at)
    VALUES (:id, 'email', 'queued', :recipient, :subject, :body, :html_body, :template_type, 0,
     :now, :now, :now)";
const SELECT_MESSAGE: &str = "SELECT seq, id, type, status, recipient, subject, body, html_body,
    template_type, send_count, last_error, next_attempt_at, created_at, updated_at
    FROM courier_messages WHERE id = :id";
const LIST_MESSAGES: &str = "SELECT seq, id, type, status, recipient, subject, body, html_body,
    template_type, send_count, last_error, next_attempt_at, created_at, updated_at
    FROM courier_messages
    WHERE (:status IS NULL OR status = :status) AND (:recipient IS NULL OR recipient = :recipient)
      AND seq < :before
    ORDER BY seq DESC LIMIT :limit";
const CLAIM_DUE: &str = "UPDATE courier_messages SET status = 'processing', updated_at = :now
    WHERE seq IN (SELECT seq FROM courier_messages
                  WHERE status = 'queued' AND next_attempt_at <= :now ORDER BY seq LIMIT :limit)
    RETURNING seq, id, type, status, recipient, subject, body, html_body, template_type,
      send_count, last_error, next_attempt_at, created_at, updated_at";
const MARK_SENT: &str = "UPDATE courier_messages SET status = 'sent', send_count = send_count + 1,
    last_error = NULL, updated_at = :now WHERE id = :id";
const MARK_FAILED: &str = "UPDATE courier_messages SET status = :status,
    send_count = send_count + 1, last_error = :error, next_attempt_at = :next, updated_at = :now
    WHERE id = :id";
const REQUEUE_PROCESSING: &str = "UPDATE courier_messages SET status = 'queued', updated_at = :now
    WHERE status = 'processing'";
const INSERT_DISPATCH: &str = "INSERT INTO courier_message_dispatches
    (id, message_id, status, error, created_at, updated_at)
    VALUES (:id, :message_id, :status, :error, :now, :now)";
const SELECT_DISPATCHES: &str = "SELECT id, message_id, status, error, created_at, updated_at
    FROM courier_message_dispatches WHERE message_id = :message_id ORDER BY created_at, id";
const COUNT_BY_STATUS: &str = "SELECT status, count(*) FROM courier_messages GROUP BY status";

pub const STATEMENTS: &[&str] = &[
    INSERT_MESSAGE,
    SELECT_MESSAGE,
    LIST_MESSAGES,
    CLAIM_DUE,
    MARK_SENT,
    MARK_FAILED,
    REQUEUE_PROCESSING,
    INSERT_DISPATCH,
    SELECT_DISPATCHES,
    COUNT_BY_STATUS,
];

#[derive(Clone, Debug)]
pub struct StoredMessage {
    pub seq: i64,
    pub id: Uuid,
    pub status: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub html_body: String,
    pub template_type: String,
    pub send_count: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub struct Dispatch {
    pub id: Uuid,
    pub message_id: Uuid,
    pub status: String,
    pub error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A message to queue (rendered already).
pub struct NewMessage<'a> {
    pub id: Uuid,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub html_body: &'a str,
    pub template_type: &'a str,
}

pub fn insert(
    conn: &Connection,
    m: &NewMessage<'_>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(INSERT_MESSAGE)?
        .execute(named_params! {
            ":id": uuid_text(m.id),
            ":recipient": m.recipient,
            ":subject": m.subject,
            ":body": m.body,
            ":html_body": m.html_body,
            ":template_type": m.template_type,
            ":now": time_int(now),
        })?;
    Ok(())
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
    Ok(conn
        .prepare_cached(SELECT_MESSAGE)?
        .query_row(named_params! { ":id": uuid_text(id) }, message_from_row)
        .optional()?)
}

/// Newest first, before sequence number `before` (keyset pagination).
pub fn list(
    conn: &Connection,
    status: Option<&str>,
    recipient: Option<&str>,
    before: i64,
    limit: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let rows = conn
        .prepare_cached(LIST_MESSAGES)?
        .query_map(
            named_params! { ":status": status, ":recipient": recipient, ":before": before, ":limit": limit },
            message_from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Claims up to `limit` due messages for delivery (status → processing).
pub fn claim_due(
    conn: &Connection,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let rows = conn
        .prepare_cached(CLAIM_DUE)?
        .query_map(
            named_params! { ":now": time_int(now), ":limit": limit },
            message_from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn mark_sent(conn: &Connection, id: Uuid, now: OffsetDateTime) -> Result<(), StoreError> {
    conn.prepare_cached(MARK_SENT)?
        .execute(named_params! { ":id": uuid_text(id), ":now": time_int(now) })?;
    insert_dispatch(conn, id, "success", None, now)
}

/// Records a failed attempt: back to `queued` for `next`, or `abandoned`.
pub fn mark_failed(
    conn: &Connection,
    id: Uuid,
    error: &str,
    next: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(MARK_FAILED)?.execute(named_params! {
        ":id": uuid_text(id),
        ":status": if next.is_some() { "queued" } else { "abandoned" },
        ":error": error,
        ":next": time_int(next.unwrap_or(now)),
        ":now": time_int(now),
    })?;
    insert_dispatch(conn, id, "failed", Some(error), now)
}

/// After a crash, messages caught mid-delivery are queued again (at-least-once).
pub fn requeue_processing(conn: &Connection, now: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(REQUEUE_PROCESSING)?
        .execute(named_params! { ":now": time_int(now) })?)
}

fn insert_dispatch(
    conn: &Connection,
    message_id: Uuid,
    status: &str,
    error: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(INSERT_DISPATCH)?
        .execute(named_params! {
            ":id": uuid_text(Uuid::now_v7()),
            ":message_id": uuid_text(message_id),
            ":status": status,
            ":error": error,
            ":now": time_int(now),
        })?;
    Ok(())
}

pub fn dispatches(conn: &Connection, message_id: Uuid) -> Result<Vec<Dispatch>, StoreError> {
    let rows = conn
        .prepare_cached(SELECT_DISPATCHES)?
        .query_map(
            named_params! { ":message_id": uuid_text(message_id) },
            |r| {
                Ok(Dispatch {
                    id: get_uuid(r, "id")?,
                    message_id: get_uuid(r, "message_id")?,
                    status: r.get("status")?,
                    error: r.get("error")?,
                    created_at: get_time(r, "created_at")?,
                    updated_at: get_time(r, "updated_at")?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// How many messages are in each status (metrics, health).
pub fn count_by_status(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = conn
        .prepare_cached(COUNT_BY_STATUS)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        seq: row.get("seq")?,
        id: get_uuid(row, "id")?,
        status: row.get("status")?,
        recipient: row.get("recipient")?,
        subject: row.get("subject")?,
        body: row.get("body")?,
        html_body: row.get("html_body")?,
        template_type: row.get("template_type")?,
        send_count: row.get("send_count")?,
        last_error: row.get("last_error")?,
        next_attempt_at: get_time(row, "next_attempt_at")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}
