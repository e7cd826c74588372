//! Identities with their credentials, credential identifiers and addresses. An
//! identity and everything belonging to it are written together, in the caller's
//! transaction, so no half-written identity can ever be observed.

use super::codec::{
    get_json, get_opt_json, get_opt_time, get_time, get_uuid, json_text, opt_json_text, time_int,
    uuid_text,
};
use super::{on_unique, StoreError};
use crate::identity::{
    AddressStatus, Credential, Identity, IdentityState, RecoveryAddress, VerifiableAddress,
};
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use uuid::Uuid;

const INSERT_IDENTITY: &str = "INSERT INTO identities
    (id, schema_id, state, state_changed_at, traits, metadata_public, metadata_admin,
     external_id, created_at, updated_at)
    VALUES (:id, :schema_id, :state, :state_changed_at, :traits, :metadata_public,
     :metadata_admin, :external_id, :created_at, :updated_at)";
const UPDATE_IDENTITY: &str = "UPDATE identities SET schema_id = :schema_id, state = :state,
    state_changed_at = :state_changed_at, traits = :traits, metadata_public = :metadata_public,
    metadata_admin = :metadata_admin, external_id = :external_id, updated_at = :updated_at
    WHERE id = :id";
const DELETE_IDENTITY: &str = "DELETE FROM identities WHERE id = :id";
const SELECT_IDENTITY: &str = "SELECT id, schema_id, state, state_changed_at, traits,
    metadata_public, metadata_admin, external_id, created_at, updated_at
    FROM identities WHERE id = :id";
const LIST_IDENTITIES: &str = "SELECT id, schema_id, state, state_changed_at, traits,
    metadata_public, metadata_admin, external_id, created_at, updated_at
    FROM identities WHERE id > :after ORDER BY id LIMIT :limit";
const FIND_BY_IDENTIFIER: &str = "SELECT c.identity_id FROM identity_credential_identifiers i
    JOIN identity_credentials c ON c.id = i.credential_id
    WHERE i.type = :type AND i.identifier = :identifier";
const INSERT_CREDENTIAL: &str = "INSERT INTO identity_credentials
    (id, identity_id, type, config, version, created_at, updated_at)
    VALUES (:id, :identity_id, :type, :config, :version, :created_at, :updated_at)";
const INSERT_IDENTIFIER: &str = "INSERT INTO identity_credential_identifiers
    (credential_id, type, identifier) VALUES (:credential_id, :type, :identifier)";
const SELECT_CREDENTIALS: &str = "SELECT id, type, config, version, created_at, updated_at
    FROM identity_credentials WHERE identity_id = :identity_id ORDER BY type";
const SELECT_IDENTIFIERS: &str = "SELECT identifier FROM identity_credential_identifiers
    WHERE credential_id = :credential_id ORDER BY identifier";
const DELETE_CREDENTIAL: &str = "DELETE FROM identity_credentials WHERE id = :id";
const DELETE_CREDENTIALS: &str =
    "DELETE FROM identity_credentials WHERE identity_id = :identity_id";
const INSERT_VERIFIABLE: &str = "INSERT INTO identity_verifiable_addresses
    (id, identity_id, via, value, verified, status, verified_at, created_at, updated_at)
    VALUES (:id, :identity_id, :via, :value, :verified, :status, :verified_at, :created_at,
     :updated_at)";
const SELECT_VERIFIABLE: &str = "SELECT id, via, value, verified, status, verified_at,
    created_at, updated_at FROM identity_verifiable_addresses
    WHERE identity_id = :identity_id ORDER BY created_at, value";
const DELETE_VERIFIABLE: &str =
    "DELETE FROM identity_verifiable_addresses WHERE identity_id = :identity_id";
const INSERT_RECOVERY: &str = "INSERT INTO identity_recovery_addresses
    (id, identity_id, via, value, created_at, updated_at)
    VALUES (:id, :identity_id, :via, :value, :created_at, :updated_at)";
const SELECT_RECOVERY: &str = "SELECT id, via, value, created_at, updated_at
    FROM identity_recovery_addresses WHERE identity_id = :identity_id ORDER BY created_at, value";
const DELETE_RECOVERY: &str =
    "DELETE FROM identity_recovery_addresses WHERE identity_id = :identity_id";
const COUNT_IDENTITIES: &str = "SELECT count(*) FROM identities";
const UPDATE_CREDENTIAL_CONFIG: &str = "UPDATE identity_credentials
    SET config = :config, updated_at = :updated_at WHERE id = :id";

/// Every statement above, for the test that prepares them all against `schema.sql`.
pub const STATEMENTS: &[&str] = &[
    INSERT_IDENTITY,
    UPDATE_IDENTITY,
    DELETE_IDENTITY,
    SELECT_IDENTITY,
    LIST_IDENTITIES,
    FIND_BY_IDENTIFIER,
    INSERT_CREDENTIAL,
    INSERT_IDENTIFIER,
    SELECT_CREDENTIALS,
    SELECT_IDENTIFIERS,
    DELETE_CREDENTIALS,
    DELETE_CREDENTIAL,
    INSERT_VERIFIABLE,
    SELECT_VERIFIABLE,
    DELETE_VERIFIABLE,
    INSERT_RECOVERY,
    SELECT_RECOVERY,
    DELETE_RECOVERY,
    COUNT_IDENTITIES,
    UPDATE_CREDENTIAL_CONFIG,
];

/// What a UNIQUE violation while writing an identity means.
pub const CONFLICT_IDENTIFIER: &str = "identifier";
pub const CONFLICT_EXTERNAL_ID: &str = "external_id";
pub const CONFLICT_ADDRESS: &str = "address";

/// Inserts a new identity with all its parts.
pub fn insert(conn: &Connection, identity: &Identity) -> Result<(), StoreError> {
    conn.prepare_cached(INSERT_IDENTITY)?
        .execute(named_params! {
            ":id": uuid_text(identity.id),
            ":schema_id": identity.schema_id,
            ":state": identity.state.as_str(),
            ":state_changed_at": identity.state_changed_at.map(time_int),
            ":traits": json_text(&identity.traits),
            ":metadata_public": opt_json_text(&identity.metadata_public),
            ":metadata_admin": opt_json_text(&identity.metadata_admin),
            ":external_id": identity.external_id,
            ":created_at": time_int(identity.created_at),
            ":updated_at": time_int(identity.updated_at),
        })
        .map_err(on_unique(CONFLICT_EXTERNAL_ID))?;
    insert_parts(conn, identity)
}

/// Replaces an existing identity and all its parts; `false` if it does not exist.
pub fn replace(conn: &Connection, identity: &Identity) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(UPDATE_IDENTITY)?
        .execute(named_params! {
            ":id": uuid_text(identity.id),
            ":schema_id": identity.schema_id,
            ":state": identity.state.as_str(),
            ":state_changed_at": identity.state_changed_at.map(time_int),
            ":traits": json_text(&identity.traits),
            ":metadata_public": opt_json_text(&identity.metadata_public),
            ":metadata_admin": opt_json_text(&identity.metadata_admin),
            ":external_id": identity.external_id,
            ":updated_at": time_int(identity.updated_at),
        })
        .map_err(on_unique(CONFLICT_EXTERNAL_ID))?;
    if changed == 0 {
        return Ok(false);
    }
    let id = uuid_text(identity.id);
    for sql in [DELETE_CREDENTIALS, DELETE_VERIFIABLE, DELETE_RECOVERY] {
        conn.prepare_cached(sql)?
            .execute(named_params! { ":identity_id": id })?;
    }
    insert_parts(conn, identity)?;
    Ok(true)
}

fn insert_parts(conn: &Connection, identity: &Identity) -> Result<(), StoreError> {
    let identity_id = uuid_text(identity.id);
    for c in &identity.credentials {
        let credential_id = uuid_text(c.id);
        conn.prepare_cached(INSERT_CREDENTIAL)?
            .execute(named_params! {
                ":id": credential_id,
                ":identity_id": identity_id,
                ":type": c.kind,
                ":config": json_text(&c.config),
                ":version": c.version,
                ":created_at": time_int(c.created_at),
                ":updated_at": time_int(c.updated_at),
            })?;
        for identifier in &c.identifiers {
            conn.prepare_cached(INSERT_IDENTIFIER)?
                .execute(named_params! {
                    ":credential_id": credential_id,
                    ":type": c.kind,
                    ":identifier": identifier,
                })
                .map_err(on_unique(CONFLICT_IDENTIFIER))?;
        }
    }
    for a in &identity.verifiable_addresses {
        conn.prepare_cached(INSERT_VERIFIABLE)?
            .execute(named_params! {
                ":id": uuid_text(a.id),
                ":identity_id": identity_id,
                ":via": a.via,
                ":value": a.value,
                ":verified": a.verified,
                ":status": a.status.as_str(),
                ":verified_at": a.verified_at.map(time_int),
                ":created_at": time_int(a.created_at),
                ":updated_at": time_int(a.updated_at),
            })
            .map_err(on_unique(CONFLICT_ADDRESS))?;
    }
    for a in &identity.recovery_addresses {
        conn.prepare_cached(INSERT_RECOVERY)?
            .execute(named_params! {
                ":id": uuid_text(a.id),
                ":identity_id": identity_id,
                ":via": a.via,
                ":value": a.value,
                ":created_at": time_int(a.created_at),
                ":updated_at": time_int(a.updated_at),
            })
            .map_err(on_unique(CONFLICT_ADDRESS))?;
    }
    Ok(())
}

/// Deletes an identity (its parts cascade); `false` if it did not exist.
pub fn delete(conn: &Connection, id: Uuid) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(DELETE_IDENTITY)?
        .execute(named_params! { ":id": uuid_text(id) })?;
    Ok(n > 0)
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Option<Identity>, StoreError> {
    let row = conn
        .prepare_cached(SELECT_IDENTITY)?
        .query_row(named_params! { ":id": uuid_text(id) }, identity_from_row)
        .optional()?;
    row.map(|identity| load_parts(conn, identity)).transpose()
}

/// The identity owning a login identifier of a credential type.
pub fn find_by_identifier(
    conn: &Connection,
    kind: &str,
    identifier: &str,
) -> Result<Option<Identity>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached(FIND_BY_IDENTIFIER)?
        .query_row(
            named_params! { ":type": kind, ":identifier": identifier },
            |r| r.get(0),
        )
        .optional()?;
    match id {
        None => Ok(None),
        Some(id) => {
            let id = Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            find(conn, id)
        }
    }
}

/// One page of identities ordered by id, starting after `after` (keyset pagination).
pub fn list(
    conn: &Connection,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Identity>, StoreError> {
    let after = after.map(uuid_text).unwrap_or_default();
    let rows: Vec<Identity> = conn
        .prepare_cached(LIST_IDENTITIES)?
        .query_map(
            named_params! { ":after": after, ":limit": limit },
            identity_from_row,
        )?
        .collect::<Result<_, _>>()?;
    rows.into_iter().map(|i| load_parts(conn, i)).collect()
}

pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(COUNT_IDENTITIES)?
        .query_row([], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn identity_from_row(row: &Row<'_>) -> rusqlite::Result<Identity> {
    let state: String = row.get("state")?;
    Ok(Identity {
        id: get_uuid(row, "id")?,
        schema_id: row.get("schema_id")?,
        state: IdentityState::parse(&state).unwrap_or(IdentityState::Inactive),
        state_changed_at: get_opt_time(row, "state_changed_at")?,
        traits: get_json(row, "traits")?,
        metadata_public: get_opt_json(row, "metadata_public")?,
        metadata_admin: get_opt_json(row, "metadata_admin")?,
        external_id: row.get("external_id")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
        credentials: Vec::new(),
        verifiable_addresses: Vec::new(),
        recovery_addresses: Vec::new(),
    })
}

fn load_parts(conn: &Connection, mut identity: Identity) -> Result<Identity, StoreError> {
    let id = uuid_text(identity.id);
    let mut credentials: Vec<Credential> = conn
        .prepare_cached(SELECT_CREDENTIALS)?
        .query_map(named_params! { ":identity_id": id }, credential_from_row)?
        .collect::<Result<_, _>>()?;
    for c in &mut credentials {
        c.identifiers = conn
            .prepare_cached(SELECT_IDENTIFIERS)?
            .query_map(named_params! { ":credential_id": uuid_text(c.id) }, |r| {
                r.get(0)
            })?
            .collect::<Result<_, _>>()?;
    }
    identity.credentials = credentials;
    identity.verifiable_addresses = conn
        .prepare_cached(SELECT_VERIFIABLE)?
        .query_map(named_params! { ":identity_id": id }, verifiable_from_row)?
        .collect::<Result<_, _>>()?;
    identity.recovery_addresses = conn
        .prepare_cached(SELECT_RECOVERY)?
        .query_map(named_params! { ":identity_id": id }, recovery_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(identity)
}

fn credential_from_row(row: &Row<'_>) -> rusqlite::Result<Credential> {
    Ok(Credential {
        id: get_uuid(row, "id")?,
        kind: row.get("type")?,
        identifiers: Vec::new(),
        config: get_json(row, "config")?,
        version: row.get("version")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn verifiable_from_row(row: &Row<'_>) -> rusqlite::Result<VerifiableAddress> {
    let status: String = row.get("status")?;
    Ok(VerifiableAddress {
        id: get_uuid(row, "id")?,
        via: row.get("via")?,
        value: row.get("value")?,
        verified: row.get("verified")?,
        status: AddressStatus::parse(&status).unwrap_or(AddressStatus::Pending),
        verified_at: get_opt_time(row, "verified_at")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn recovery_from_row(row: &Row<'_>) -> rusqlite::Result<RecoveryAddress> {
    Ok(RecoveryAddress {
        id: get_uuid(row, "id")?,
        via: row.get("via")?,
        value: row.get("value")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

/// Replaces a credential's config (e.g. a password rehashed with current parameters).
pub fn update_credential_config(
    conn: &Connection,
    credential_id: Uuid,
    config: &serde_json::Value,
    now: time::OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(UPDATE_CREDENTIAL_CONFIG)?
        .execute(named_params! {
            ":id": uuid_text(credential_id),
            ":config": json_text(config),
            ":updated_at": time_int(now),
        })?;
    Ok(())
}

/// Sets an identity's password hash: updates its password credential, or creates
/// one (with the given identifiers) when it has none.
pub fn set_password(
    conn: &Connection,
    identity_id: Uuid,
    credential_id: Option<Uuid>,
    identifiers: &[String],
    config: &serde_json::Value,
    now: time::OffsetDateTime,
) -> Result<(), StoreError> {
    if let Some(id) = credential_id {
        return update_credential_config(conn, id, config, now);
    }
    let id = Uuid::now_v7();
    conn.prepare_cached(INSERT_CREDENTIAL)?
        .execute(named_params! {
            ":id": uuid_text(id),
            ":identity_id": uuid_text(identity_id),
            ":type": crate::identity::CREDENTIAL_PASSWORD,
            ":config": json_text(config),
            ":version": 0,
            ":created_at": time_int(now),
            ":updated_at": time_int(now),
        })?;
    for identifier in identifiers {
        conn.prepare_cached(INSERT_IDENTIFIER)?
            .execute(named_params! {
                ":credential_id": uuid_text(id),
                ":type": crate::identity::CREDENTIAL_PASSWORD,
                ":identifier": identifier,
            })
            .map_err(on_unique(CONFLICT_IDENTIFIER))?;
    }
    Ok(())
}

pub fn delete_credential(conn: &Connection, credential_id: Uuid) -> Result<(), StoreError> {
    conn.prepare_cached(DELETE_CREDENTIAL)?
        .execute(named_params! { ":id": uuid_text(credential_id) })?;
    Ok(())
}
