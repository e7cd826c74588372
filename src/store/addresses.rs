//! Verifiable and recovery addresses, looked up and updated by value.

use super::codec::{time_int, uuid_text};
use super::StoreError;
use rusqlite::{named_params, Connection, OptionalExtension};
use time::OffsetDateTime;
use uuid::Uuid;

const VERIFIABLE_OWNER: &str = "SELECT identity_id FROM identity_verifiable_addresses
    WHERE via = :via AND value = :value";
const RECOVERY_OWNER: &str = "SELECT identity_id FROM identity_recovery_addresses
    WHERE via = :via AND value = :value";
const SET_SENT: &str = "UPDATE identity_verifiable_addresses SET status = 'sent', updated_at = :now
    WHERE identity_id = :identity_id AND via = :via AND value = :value AND verified = 0";
const SET_VERIFIED: &str = "UPDATE identity_verifiable_addresses
    SET verified = 1, status = 'completed', verified_at = coalesce(verified_at, :now), updated_at = :now
    WHERE identity_id = :identity_id AND via = :via AND value = :value";

pub const STATEMENTS: &[&str] = &[VERIFIABLE_OWNER, RECOVERY_OWNER, SET_SENT, SET_VERIFIED];

fn owner(conn: &Connection, sql: &str, via: &str, value: &str) -> Result<Option<Uuid>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached(sql)?
        .query_row(named_params! { ":via": via, ":value": value }, |r| r.get(0))
        .optional()?;
    id.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// The identity a verifiable address belongs to.
pub fn verifiable_owner(
    conn: &Connection,
    via: &str,
    value: &str,
) -> Result<Option<Uuid>, StoreError> {
    owner(conn, VERIFIABLE_OWNER, via, value)
}

/// The identity a recovery address belongs to.
pub fn recovery_owner(
    conn: &Connection,
    via: &str,
    value: &str,
) -> Result<Option<Uuid>, StoreError> {
    owner(conn, RECOVERY_OWNER, via, value)
}

/// A verification code went out to this (unverified) address.
pub fn set_sent(
    conn: &Connection,
    identity_id: Uuid,
    via: &str,
    value: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(SET_SENT)?.execute(named_params! {
        ":identity_id": uuid_text(identity_id), ":via": via, ":value": value, ":now": time_int(now),
    })?;
    Ok(())
}

/// The address is proven to belong to the identity.
pub fn set_verified(
    conn: &Connection,
    identity_id: Uuid,
    via: &str,
    value: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(SET_VERIFIED)?.execute(named_params! {
        ":identity_id": uuid_text(identity_id), ":via": via, ":value": value, ":now": time_int(now),
    })?;
    Ok(())
}
