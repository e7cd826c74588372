//! Sessions and their devices. Sessions are found by the SHA-256 of their token.

use super::codec::{get_time, get_uuid, time_int, uuid_text};
use super::StoreError;
use crate::session::{AuthMethod, Device, Session};
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const INSERT_SESSION: &str = "INSERT INTO sessions
    (id, token_digest, identity_id, active, aal, authentication_methods, issued_at,
     authenticated_at, expires_at, created_at, updated_at)
    VALUES (:id, :token_digest, :identity_id, :active, :aal, :methods, :issued_at,
     :authenticated_at, :expires_at, :created_at, :updated_at)";
const INSERT_DEVICE: &str = "INSERT INTO session_devices
    (id, session_id, ip_address, user_agent, location, created_at, updated_at)
    VALUES (:id, :session_id, :ip_address, :user_agent, :location, :created_at, :updated_at)";
const SELECT_BY_DIGEST: &str = "SELECT id, identity_id, active, aal, authentication_methods,
    issued_at, authenticated_at, expires_at, created_at, updated_at
    FROM sessions WHERE token_digest = :digest";
const SELECT_BY_ID: &str = "SELECT id, identity_id, active, aal, authentication_methods,
    issued_at, authenticated_at, expires_at, created_at, updated_at
    FROM sessions WHERE id = :id";
const LIST_ACTIVE_FOR_IDENTITY: &str = "SELECT id, identity_id, active, aal,
    authentication_methods, issued_at, authenticated_at, expires_at, created_at, updated_at
    FROM sessions WHERE identity_id = :identity_id AND active = 1 AND expires_at > :now
    AND id != :except ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset";
const COUNT_ACTIVE_FOR_IDENTITY: &str = "SELECT count(*) FROM sessions
    WHERE identity_id = :identity_id AND active = 1 AND expires_at > :now AND id != :except";
const SELECT_DEVICES: &str = "SELECT id, ip_address, user_agent, location
    FROM session_devices WHERE session_id = :session_id ORDER BY created_at, id";
const REVOKE: &str = "UPDATE sessions SET active = 0, updated_at = :now
    WHERE id = :id AND active = 1";
const REVOKE_FOR_IDENTITY: &str = "UPDATE sessions SET active = 0, updated_at = :now
    WHERE identity_id = :identity_id AND id = :id AND active = 1";
const REVOKE_OTHERS: &str = "UPDATE sessions SET active = 0, updated_at = :now
    WHERE identity_id = :identity_id AND id != :keep AND active = 1 AND expires_at > :now";
const LIST_ALL: &str = "SELECT id, identity_id, active, aal, authentication_methods,
    issued_at, authenticated_at, expires_at, created_at, updated_at FROM sessions
    WHERE id > :after
      AND (:active IS NULL OR (:active = 1 AND active = 1 AND expires_at > :now)
                           OR (:active = 0 AND (active = 0 OR expires_at <= :now)))
    ORDER BY id LIMIT :limit";
const LIST_FOR_IDENTITY: &str = "SELECT id, identity_id, active, aal, authentication_methods,
    issued_at, authenticated_at, expires_at, created_at, updated_at FROM sessions
    WHERE identity_id = :identity_id AND id > :after
      AND (:active IS NULL OR (:active = 1 AND active = 1 AND expires_at > :now)
                           OR (:active = 0 AND (active = 0 OR expires_at <= :now)))
    ORDER BY id LIMIT :limit";
const REVOKE_ALL_FOR_IDENTITY: &str = "UPDATE sessions SET active = 0, updated_at = :now
    WHERE identity_id = :identity_id AND active = 1";
const EXTEND: &str =
    "UPDATE sessions SET expires_at = :expires_at, updated_at = :now WHERE id = :id";
const COUNT_ACTIVE: &str = "SELECT count(*) FROM sessions WHERE active = 1 AND expires_at > :now";
const REFRESH: &str = "UPDATE sessions SET authenticated_at = :now, issued_at = :now,
    expires_at = :expires_at, authentication_methods = :methods, aal = :aal, updated_at = :now
    WHERE id = :id";

const SELECT_OWNER: &str = "SELECT identity_id FROM sessions WHERE id = :id";

pub const STATEMENTS: &[&str] = &[
    SELECT_OWNER,
    INSERT_SESSION,
    INSERT_DEVICE,
    SELECT_BY_DIGEST,
    SELECT_BY_ID,
    LIST_ACTIVE_FOR_IDENTITY,
    COUNT_ACTIVE_FOR_IDENTITY,
    SELECT_DEVICES,
    REVOKE,
    REVOKE_FOR_IDENTITY,
    REVOKE_OTHERS,
    REFRESH,
    LIST_ALL,
    LIST_FOR_IDENTITY,
    REVOKE_ALL_FOR_IDENTITY,
    EXTEND,
    COUNT_ACTIVE,
];

/// One page of sessions ordered by id (keyset), optionally of one identity and
/// filtered by whether they are usable now.
pub fn list(
    conn: &Connection,
    identity_id: Option<Uuid>,
    active: Option<bool>,
    after: Option<Uuid>,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<Session>, StoreError> {
    let after = after.map(uuid_text).unwrap_or_default();
    let rows: Vec<Session> = match identity_id {
        Some(id) => conn
            .prepare_cached(LIST_FOR_IDENTITY)?
            .query_map(
                named_params! { ":identity_id": uuid_text(id), ":after": after, ":active": active, ":now": time_int(now), ":limit": limit },
                session_from_row,
            )?
            .collect::<Result<_, _>>()?,
        None => conn
            .prepare_cached(LIST_ALL)?
            .query_map(
                named_params! { ":after": after, ":active": active, ":now": time_int(now), ":limit": limit },
                session_from_row,
            )?
            .collect::<Result<_, _>>()?,
    };
    rows.into_iter().map(|s| with_devices(conn, s)).collect()
}

/// Revokes every active session of an identity; returns how many.
pub fn revoke_all_for_identity(
    conn: &Connection,
    identity_id: Uuid,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let n = conn
        .prepare_cached(REVOKE_ALL_FOR_IDENTITY)?
        .execute(named_params! { ":identity_id": uuid_text(identity_id), ":now": time_int(now) })?;
    Ok(n as u64)
}

pub fn extend(
    conn: &Connection,
    id: Uuid,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = conn.prepare_cached(EXTEND)?.execute(named_params! {
        ":id": uuid_text(id), ":expires_at": time_int(expires_at), ":now": time_int(now),
    })?;
    Ok(n > 0)
}

pub fn count_active(conn: &Connection, now: OffsetDateTime) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(COUNT_ACTIVE)?
        .query_row(named_params! { ":now": time_int(now) }, |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn methods_json(methods: &[AuthMethod]) -> Result<String, StoreError> {
    serde_json::to_string(methods).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn insert(conn: &Connection, s: &Session, token_digest: &str) -> Result<(), StoreError> {
    conn.prepare_cached(INSERT_SESSION)?
        .execute(named_params! {
            ":id": uuid_text(s.id),
            ":token_digest": token_digest,
            ":identity_id": uuid_text(s.identity_id),
            ":active": s.active,
            ":aal": s.aal,
            ":methods": methods_json(&s.methods)?,
            ":issued_at": time_int(s.issued_at),
            ":authenticated_at": time_int(s.authenticated_at),
            ":expires_at": time_int(s.expires_at),
            ":created_at": time_int(s.created_at),
            ":updated_at": time_int(s.updated_at),
        })?;
    for d in &s.devices {
        conn.prepare_cached(INSERT_DEVICE)?.execute(named_params! {
            ":id": uuid_text(d.id),
            ":session_id": uuid_text(s.id),
            ":ip_address": d.ip_address,
            ":user_agent": d.user_agent,
            ":location": d.location,
            ":created_at": time_int(s.created_at),
            ":updated_at": time_int(s.created_at),
        })?;
    }
    Ok(())
}

pub fn find_by_digest(conn: &Connection, digest: &str) -> Result<Option<Session>, StoreError> {
    let s = conn
        .prepare_cached(SELECT_BY_DIGEST)?
        .query_row(named_params! { ":digest": digest }, session_from_row)
        .optional()?;
    s.map(|s| with_devices(conn, s)).transpose()
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Option<Session>, StoreError> {
    let s = conn
        .prepare_cached(SELECT_BY_ID)?
        .query_row(named_params! { ":id": uuid_text(id) }, session_from_row)
        .optional()?;
    s.map(|s| with_devices(conn, s)).transpose()
}

/// Active, unexpired sessions of an identity except `except`, newest first, and
/// how many there are in all.
pub fn list_active_for_identity(
    conn: &Connection,
    identity_id: Uuid,
    except: Uuid,
    now: OffsetDateTime,
    limit: u32,
    offset: u64,
) -> Result<(Vec<Session>, u64), StoreError> {
    let params = named_params! {
        ":identity_id": uuid_text(identity_id),
        ":except": uuid_text(except),
        ":now": time_int(now),
    };
    let total: i64 = conn
        .prepare_cached(COUNT_ACTIVE_FOR_IDENTITY)?
        .query_row(params, |r| r.get(0))?;
    let rows: Vec<Session> = conn
        .prepare_cached(LIST_ACTIVE_FOR_IDENTITY)?
        .query_map(
            named_params! {
                ":identity_id": uuid_text(identity_id),
                ":except": uuid_text(except),
                ":now": time_int(now),
                ":limit": limit,
                ":offset": i64::try_from(offset).unwrap_or(i64::MAX),
            },
            session_from_row,
        )?
        .collect::<Result<_, _>>()?;
    let sessions = rows
        .into_iter()
        .map(|s| with_devices(conn, s))
        .collect::<Result<_, _>>()?;
    Ok((sessions, u64::try_from(total).unwrap_or(0)))
}

/// The identity a session belongs to, without loading the session.
pub fn owner(conn: &Connection, id: Uuid) -> Result<Option<Uuid>, StoreError> {
    Ok(conn
        .prepare_cached(SELECT_OWNER)?
        .query_row(named_params! { ":id": uuid_text(id) }, |r| {
            get_uuid(r, "identity_id")
        })
        .optional()?)
}

/// Revokes one session; `false` if it was not active.
pub fn revoke(conn: &Connection, id: Uuid, now: OffsetDateTime) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(REVOKE)?
        .execute(named_params! { ":id": uuid_text(id), ":now": time_int(now) })?;
    Ok(n > 0)
}

/// Revokes one session only if it belongs to `identity_id`.
pub fn revoke_for_identity(
    conn: &Connection,
    identity_id: Uuid,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(REVOKE_FOR_IDENTITY)?
        .execute(named_params! {
            ":identity_id": uuid_text(identity_id),
            ":id": uuid_text(id),
            ":now": time_int(now),
        })?;
    Ok(n > 0)
}

/// Revokes every other active session of an identity; returns how many.
pub fn revoke_others(
    conn: &Connection,
    identity_id: Uuid,
    keep: Uuid,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let n = conn.prepare_cached(REVOKE_OTHERS)?.execute(named_params! {
        ":identity_id": uuid_text(identity_id),
        ":keep": uuid_text(keep),
        ":now": time_int(now),
    })?;
    Ok(n as u64)
}

/// Re-authentication: new `authenticated_at`, lifespan and methods.
pub fn refresh(conn: &Connection, s: &Session, now: OffsetDateTime) -> Result<(), StoreError> {
    conn.prepare_cached(REFRESH)?.execute(named_params! {
        ":id": uuid_text(s.id),
        ":now": time_int(now),
        ":expires_at": time_int(s.expires_at),
        ":methods": methods_json(&s.methods)?,
        ":aal": s.aal,
    })?;
    Ok(())
}

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<Session> {
    let methods: String = row.get("authentication_methods")?;
    Ok(Session {
        id: get_uuid(row, "id")?,
        identity_id: get_uuid(row, "identity_id")?,
        active: row.get("active")?,
        aal: row.get("aal")?,
        methods: serde_json::from_str(&methods).unwrap_or_default(),
        issued_at: get_time(row, "issued_at")?,
        authenticated_at: get_time(row, "authenticated_at")?,
        expires_at: get_time(row, "expires_at")?,
        devices: Vec::new(),
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn with_devices(conn: &Connection, mut s: Session) -> Result<Session, StoreError> {
    s.devices = conn
        .prepare_cached(SELECT_DEVICES)?
        .query_map(named_params! { ":session_id": uuid_text(s.id) }, |r| {
            Ok(Device {
                id: get_uuid(r, "id")?,
                ip_address: r.get("ip_address")?,
                user_agent: r.get("user_agent")?,
                location: r.get("location")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(s)
}
