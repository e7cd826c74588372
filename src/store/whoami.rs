//! The session check in one statement: the usable session for a token digest
//! with its (active) identity, devices and addresses aggregated as JSON. This is
//! the hot path of every app behind Postern.
//!
//! The aggregates carry no `ORDER BY`: an ordered aggregate builds a sorter
//! per row, which cost a quarter of the whole query. The lists are a handful
//! of rows, sorted here instead.

use super::codec::{get_json, get_opt_json, get_opt_time, get_time, get_uuid, time_int};
use super::StoreError;
use crate::clock::from_micros;
use crate::identity::{AddressStatus, Identity, IdentityState, RecoveryAddress, VerifiableAddress};
use crate::session::{Device, Session};
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const WHOAMI: &str = "SELECT s.id, s.identity_id, s.active, s.aal, s.authentication_methods,
    s.issued_at, s.authenticated_at, s.expires_at, s.created_at, s.updated_at,
    i.schema_id, i.state, i.state_changed_at, i.traits, i.metadata_public, i.external_id,
    i.created_at AS identity_created_at, i.updated_at AS identity_updated_at,
    (SELECT json_group_array(json_array(d.id, d.ip_address, d.user_agent, d.location, d.created_at))
       FROM session_devices d WHERE d.session_id = s.id) AS devices,
    (SELECT json_group_array(json_array(a.id, a.via, a.value, a.verified, a.status, a.verified_at,
            a.created_at, a.updated_at))
       FROM identity_verifiable_addresses a WHERE a.identity_id = i.id) AS verifiable,
    (SELECT json_group_array(json_array(r.id, r.via, r.value, r.created_at, r.updated_at))
       FROM identity_recovery_addresses r WHERE r.identity_id = i.id) AS recovery
  FROM sessions s JOIN identities i ON i.id = s.identity_id
 WHERE s.token_digest = :digest AND s.active = 1 AND s.expires_at > :now AND i.state = 'active'";

pub const STATEMENTS: &[&str] = &[WHOAMI];

type DeviceRow = (String, Option<String>, Option<String>, String, i64);
type VerifiableRow = (String, String, String, i64, String, Option<i64>, i64, i64);
type RecoveryRow = (String, String, String, i64, i64);

fn uuid(s: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn parse<T: serde::de::DeserializeOwned>(row: &Row<'_>, col: &str) -> rusqlite::Result<T> {
    let text: String = row.get(col)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<(Session, Identity)> {
    let methods: String = row.get("authentication_methods")?;
    let mut devices: Vec<DeviceRow> = parse(row, "devices")?;
    devices.sort_by(|a, b| (a.4, &a.0).cmp(&(b.4, &b.0)));
    let mut verifiable: Vec<VerifiableRow> = parse(row, "verifiable")?;
    verifiable.sort_by(|a, b| (a.6, &a.2).cmp(&(b.6, &b.2)));
    let mut recovery: Vec<RecoveryRow> = parse(row, "recovery")?;
    recovery.sort_by(|a, b| (a.3, &a.2).cmp(&(b.3, &b.2)));
    let state: String = row.get("state")?;
    let session = Session {
        id: get_uuid(row, "id")?,
        identity_id: get_uuid(row, "identity_id")?,
        active: row.get("active")?,
        aal: row.get("aal")?,
        methods: serde_json::from_str(&methods).unwrap_or_default(),
        issued_at: get_time(row, "issued_at")?,
        authenticated_at: get_time(row, "authenticated_at")?,
        expires_at: get_time(row, "expires_at")?,
        devices: devices
            .into_iter()
            .map(|(id, ip, ua, location, _)| {
                Ok(Device {
                    id: uuid(&id)?,
                    ip_address: ip,
                    user_agent: ua,
                    location,
                })
            })
            .collect::<rusqlite::Result<_>>()?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    };
    let identity = Identity {
        id: session.identity_id,
        schema_id: row.get("schema_id")?,
        state: IdentityState::parse(&state).unwrap_or(IdentityState::Inactive),
        state_changed_at: get_opt_time(row, "state_changed_at")?,
        traits: get_json(row, "traits")?,
        metadata_public: get_opt_json(row, "metadata_public")?,
        metadata_admin: None,
        external_id: row.get("external_id")?,
        created_at: get_time(row, "identity_created_at")?,
        updated_at: get_time(row, "identity_updated_at")?,
        credentials: Vec::new(),
        verifiable_addresses: verifiable
            .into_iter()
            .map(
                |(id, via, value, verified, status, verified_at, created, updated)| {
                    Ok(VerifiableAddress {
                        id: uuid(&id)?,
                        via,
                        value,
                        verified: verified != 0,
                        status: AddressStatus::parse(&status).unwrap_or(AddressStatus::Pending),
                        verified_at: verified_at.map(from_micros),
                        created_at: from_micros(created),
                        updated_at: from_micros(updated),
                    })
                },
            )
            .collect::<rusqlite::Result<_>>()?,
        recovery_addresses: recovery
            .into_iter()
            .map(|(id, via, value, created, updated)| {
                Ok(RecoveryAddress {
                    id: uuid(&id)?,
                    via,
                    value,
                    created_at: from_micros(created),
                    updated_at: from_micros(updated),
                })
            })
            .collect::<rusqlite::Result<_>>()?,
    };
    Ok((session, identity))
}

/// The usable session of a token digest, with its active identity (public parts).
pub fn lookup(
    conn: &Connection,
    digest: &str,
    now: OffsetDateTime,
) -> Result<Option<(Session, Identity)>, StoreError> {
    Ok(conn
        .prepare_cached(WHOAMI)?
        .query_row(
            named_params! { ":digest": digest, ":now": time_int(now) },
            from_row,
        )
        .optional()?)
}
