//! One-time recovery and verification codes.

use super::codec::{get_opt_time, get_time, get_uuid, time_int, uuid_text};
use super::StoreError;
use rusqlite::{named_params, Connection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const INSERT_CODE: &str = "INSERT INTO selfservice_codes
    (id, flow_id, kind, code_digest, identity_id, address, via, issued_by_admin, expires_at,
     created_at)
    VALUES (:id, :flow_id, :kind, :code_digest, :identity_id, :address, :via, :issued_by_admin,
     :expires_at, :created_at)";
const SELECT_USABLE: &str = "SELECT id, flow_id, kind, code_digest, identity_id, address, via,
    issued_by_admin, used_at, expires_at, created_at FROM selfservice_codes
    WHERE flow_id = :flow_id AND kind = :kind AND used_at IS NULL AND expires_at > :now";
const MARK_USED: &str =
    "UPDATE selfservice_codes SET used_at = :now WHERE id = :id AND used_at IS NULL";
const INVALIDATE_FOR_FLOW: &str = "UPDATE selfservice_codes SET used_at = :now
    WHERE flow_id = :flow_id AND used_at IS NULL";

pub const STATEMENTS: &[&str] = &[INSERT_CODE, SELECT_USABLE, MARK_USED, INVALIDATE_FOR_FLOW];

#[derive(Clone, Debug)]
pub struct StoredCode {
    pub id: Uuid,
    pub flow_id: Uuid,
    pub kind: String,
    pub code_digest: String,
    pub identity_id: Option<Uuid>,
    pub address: String,
    pub via: String,
    pub issued_by_admin: bool,
    pub used_at: Option<OffsetDateTime>,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

pub fn insert(conn: &Connection, c: &StoredCode) -> Result<(), StoreError> {
    conn.prepare_cached(INSERT_CODE)?.execute(named_params! {
        ":id": uuid_text(c.id),
        ":flow_id": uuid_text(c.flow_id),
        ":kind": c.kind,
        ":code_digest": c.code_digest,
        ":identity_id": c.identity_id.map(uuid_text),
        ":address": c.address,
        ":via": c.via,
        ":issued_by_admin": c.issued_by_admin,
        ":expires_at": time_int(c.expires_at),
        ":created_at": time_int(c.created_at),
    })?;
    Ok(())
}

/// Codes of a flow that are neither used nor expired.
pub fn usable(
    conn: &Connection,
    flow_id: Uuid,
    kind: &str,
    now: OffsetDateTime,
) -> Result<Vec<StoredCode>, StoreError> {
    let rows = conn
        .prepare_cached(SELECT_USABLE)?
        .query_map(
            named_params! { ":flow_id": uuid_text(flow_id), ":kind": kind, ":now": time_int(now) },
            code_from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Marks a code used; `false` if something else used it first.
pub fn mark_used(conn: &Connection, id: Uuid, now: OffsetDateTime) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(MARK_USED)?
        .execute(named_params! { ":id": uuid_text(id), ":now": time_int(now) })?;
    Ok(n == 1)
}

/// Invalidates every outstanding code of a flow (before a new one is sent).
pub fn invalidate_for_flow(
    conn: &Connection,
    flow_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(INVALIDATE_FOR_FLOW)?
        .execute(named_params! { ":flow_id": uuid_text(flow_id), ":now": time_int(now) })?;
    Ok(())
}

fn code_from_row(row: &Row<'_>) -> rusqlite::Result<StoredCode> {
    let identity_id: Option<String> = row.get("identity_id")?;
    Ok(StoredCode {
        id: get_uuid(row, "id")?,
        flow_id: get_uuid(row, "flow_id")?,
        kind: row.get("kind")?,
        code_digest: row.get("code_digest")?,
        identity_id: identity_id.and_then(|s| Uuid::parse_str(&s).ok()),
        address: row.get("address")?,
        via: row.get("via")?,
        issued_by_admin: row.get("issued_by_admin")?,
        used_at: get_opt_time(row, "used_at")?,
        expires_at: get_time(row, "expires_at")?,
        created_at: get_time(row, "created_at")?,
    })
}
