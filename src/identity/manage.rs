//! Creating, replacing, patching and deleting identities (the admin identities API
//! and, later, registration and settings). Traits are validated against their
//! schema, identifiers and addresses re-derived, and everything that belongs
//! together is written in one transaction.

use super::schema::{SchemaRegistry, Violation};
use super::view::{IdentityView, Visibility};
use super::{
    AddressStatus, Credential, Identity, IdentityState, RecoveryAddress, VerifiableAddress,
    CREDENTIAL_PASSWORD,
};
use crate::password::{check_imported_hash, HashError, Password};
use crate::state::AppState;
use crate::store::{identities, StoreError};
use serde_json::{json, Value};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("identity schema `{0}` is not configured")]
    UnknownSchema(String),
    #[error("the traits do not match the identity schema")]
    Invalid(Vec<Violation>),
    #[error("the identity has a password but its traits contain no login identifier")]
    NoIdentifier,
    #[error("{0}")]
    InvalidHash(String),
    #[error("{0}")]
    InvalidPatch(String),
    #[error("This identity conflicts with another identity that already exists (same {0}).")]
    Conflict(&'static str),
    #[error("identity not found")]
    NotFound,
    #[error(
        "You cannot remove the last first factor of an identity; it could never log in again."
    )]
    LastCredential,

    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A password as given to the admin API: plaintext to hash, or an imported hash.
#[derive(Debug)]
pub enum PasswordInput {
    Plain(Password),
    Hashed(String),
}

/// An address as given on import; its verified status is kept if the traits
/// contain the same address.
#[derive(Clone, Debug)]
pub struct AddressImport {
    pub via: String,
    pub value: String,
    pub verified: bool,
    pub status: Option<AddressStatus>,
    pub verified_at: Option<OffsetDateTime>,
}

/// Everything an identity is made of, except what is derived.
#[derive(Debug, Default)]
pub struct IdentityInput {
    pub schema_id: Option<String>,
    pub traits: Value,
    pub state: Option<IdentityState>,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
    pub external_id: Option<String>,
    pub password: Option<PasswordInput>,
    pub verifiable_addresses: Vec<AddressImport>,
}

/// Creates an identity. A plaintext password is hashed (argon2id) before the write
/// transaction starts; an imported hash must be one Postern can verify.
pub async fn create(state: &AppState, input: IdentityInput) -> Result<Identity, IdentityError> {
    create_with(state, input, |_, _| Ok(()))
        .await
        .map(|(i, ())| i)
}

/// Creates an identity and, in the same transaction, whatever `then` writes
/// (registration: the session and the flow), so that either all of it exists or
/// none of it does. `then` may only add rows: the write leaves the
/// session-check cache in place (see `Store::write_unseen`).
pub async fn create_with<T, F>(
    state: &AppState,
    input: IdentityInput,
    then: F,
) -> Result<(Identity, T), IdentityError>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Connection, &Identity) -> Result<T, StoreError> + Send + 'static,
{
    let hashed = resolve_password(state, input.password.as_ref()).await?;
    let now = state.clock.now();
    let identity = build(&state.schemas, None, input, hashed, now)?;
    // Only new rows (the identity, its addresses, a session for it, flows,
    // messages): no session check has seen them, so the cache stays valid.
    state
        .store
        .write_unseen(move |tx| {
            identities::insert(tx, &identity).map_err(conflict)?;
            let extra = then(tx, &identity)?;
            Ok::<_, IdentityError>((identity, extra))
        })
        .await
}

/// Replaces an identity's traits, state and metadata (PUT). Credentials are kept
/// unless a new password is given; addresses keep their verification status.
pub async fn update(
    state: &AppState,
    id: Uuid,
    input: IdentityInput,
) -> Result<Identity, IdentityError> {
    update_with(state, id, input, |_, _| Ok(()))
        .await
        .map(|(i, ())| i)
}

/// `update`, plus whatever `then` writes in the same transaction (settings: the
/// flow, and a verification code for a new address).
pub async fn update_with<T, F>(
    state: &AppState,
    id: Uuid,
    input: IdentityInput,
    then: F,
) -> Result<(Identity, T), IdentityError>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Connection, &Identity) -> Result<T, StoreError> + Send + 'static,
{
    let hashed = resolve_password(state, input.password.as_ref()).await?;
    let schemas = state.schemas.clone();
    let now = state.clock.now();
    // Only this identity's rows change (its row, credentials, addresses, and
    // whatever `then` does for it): other users' cached checks stay valid.
    state
        .store
        .write_for_identity(id, move |tx| {
            let existing = identities::find(tx, id)?.ok_or(IdentityError::NotFound)?;
            let identity = build(&schemas, Some(&existing), input, hashed, now)?;
            identities::replace(tx, &identity).map_err(conflict)?;
            let extra = then(tx, &identity)?;
            Ok((identity, extra))
        })
        .await
}

/// Applies an RFC 6902 JSON Patch to the identity's admin JSON (PATCH). `id` and
/// `credentials` cannot be changed this way, as in Kratos.
pub async fn patch(
    state: &AppState,
    id: Uuid,
    patch: json_patch::Patch,
) -> Result<Identity, IdentityError> {
    let schemas = state.schemas.clone();
    let base = state.config.public_base_url().to_string();
    let now = state.clock.now();
    state
        .store
        .write_for_identity(id, move |tx| {
            let existing = identities::find(tx, id)?.ok_or(IdentityError::NotFound)?;
            let view = IdentityView::new(
                &existing,
                &base,
                Visibility::Admin {
                    with_password_config: false,
                },
            );
            let mut doc = serde_json::to_value(&view)
                .map_err(|e| IdentityError::InvalidPatch(e.to_string()))?;
            let before = doc.clone();
            // `doc` is a throwaway copy, so no undo is needed; json_patch's
            // undo path panics on some patches (a move into itself).
            json_patch::patch_unsafe(&mut doc, &patch).map_err(|e| {
                IdentityError::InvalidPatch(format!("the patch cannot be applied: {e}"))
            })?;
            for frozen in ["id", "credentials"] {
                if doc.get(frozen) != before.get(frozen) {
                    return Err(IdentityError::InvalidPatch(format!(
                        "`{frozen}` cannot be patched"
                    )));
                }
            }
            let input = input_from_patched(&doc)?;
            let identity = build(&schemas, Some(&existing), input, None, now)?;
            identities::replace(tx, &identity).map_err(conflict)?;
            Ok(identity)
        })
        .await
}

pub async fn get(state: &AppState, id: Uuid) -> Result<Identity, IdentityError> {
    state
        .store
        .read(move |c| identities::find(c, id))
        .await?
        .ok_or(IdentityError::NotFound)
}

pub async fn delete(state: &AppState, id: Uuid) -> Result<(), IdentityError> {
    let deleted = state
        .store
        .write_for_identity(id, move |tx| identities::delete(tx, id))
        .await?;
    if deleted {
        Ok(())
    } else {
        Err(IdentityError::NotFound)
    }
}

/// A page of identities after `after`, or the identity owning `identifier`.
pub async fn list(
    state: &AppState,
    after: Option<Uuid>,
    limit: u32,
    identifier: Option<String>,
) -> Result<Vec<Identity>, IdentityError> {
    let found = state
        .store
        .read(move |c| match identifier {
            Some(raw) => {
                let normalized = super::normalize_identifier(&raw);
                let hit = identities::find_by_identifier(c, CREDENTIAL_PASSWORD, &normalized)?;
                Ok(hit
                    .filter(|i| after.is_none_or(|a| i.id > a))
                    .into_iter()
                    .collect())
            }
            None => identities::list(c, after, limit),
        })
        .await?;
    Ok(found)
}

fn conflict(e: StoreError) -> IdentityError {
    match e {
        StoreError::Conflict { what } => IdentityError::Conflict(what),
        other => IdentityError::Store(other),
    }
}

async fn resolve_password(
    state: &AppState,
    input: Option<&PasswordInput>,
) -> Result<Option<String>, IdentityError> {
    match input {
        None => Ok(None),
        Some(PasswordInput::Plain(p)) => Ok(Some(state.hasher.hash(p).await?)),
        Some(PasswordInput::Hashed(h)) => {
            check_imported_hash(h).map_err(IdentityError::InvalidHash)?;
            Ok(Some(h.clone()))
        }
    }
}

/// Builds the identity to store from the input and, for updates, what exists.
fn build(
    schemas: &Arc<SchemaRegistry>,
    existing: Option<&Identity>,
    input: IdentityInput,
    new_hash: Option<String>,
    now: OffsetDateTime,
) -> Result<Identity, IdentityError> {
    let schema_id = input
        .schema_id
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| schemas.default_id().to_owned());
    let schema = schemas
        .get(&schema_id)
        .ok_or_else(|| IdentityError::UnknownSchema(schema_id.clone()))?;
    schema
        .validate(&input.traits)
        .map_err(IdentityError::Invalid)?;
    let derived = schema.derive(&input.traits);

    let state = input.state.unwrap_or(IdentityState::Active);
    let state_changed_at = match existing {
        Some(e) if e.state == state => e.state_changed_at,
        _ => Some(now),
    };
    let credentials = password_credential(existing, &derived.password_identifiers, new_hash, now)?;
    let old_verifiable = existing.map_or(&[][..], |e| &e.verifiable_addresses[..]);
    let verifiable_addresses = derived
        .verifiable
        .iter()
        .map(|(via, value)| {
            verifiable(via, value, old_verifiable, &input.verifiable_addresses, now)
        })
        .collect();
    let old_recovery = existing.map_or(&[][..], |e| &e.recovery_addresses[..]);
    let recovery_addresses = derived
        .recoverable
        .iter()
        .map(|(via, value)| {
            old_recovery
                .iter()
                .find(|a| &a.via == via && &a.value == value)
                .cloned()
                .unwrap_or_else(|| RecoveryAddress {
                    id: Uuid::now_v7(),
                    via: via.clone(),
                    value: value.clone(),
                    created_at: now,
                    updated_at: now,
                })
        })
        .collect();
    Ok(Identity {
        id: existing.map_or_else(Uuid::now_v7, |e| e.id),
        schema_id,
        state,
        state_changed_at,
        traits: input.traits,
        metadata_public: input.metadata_public.filter(|v| !v.is_null()),
        metadata_admin: input.metadata_admin.filter(|v| !v.is_null()),
        external_id: input.external_id.filter(|s| !s.is_empty()),
        created_at: existing.map_or(now, |e| e.created_at),
        updated_at: now,
        credentials,
        verifiable_addresses,
        recovery_addresses,
    })
}

/// The identity's credentials: the password credential (if any) gets the freshly
/// derived identifiers, and a new hash when one is given.
fn password_credential(
    existing: Option<&Identity>,
    identifiers: &[String],
    new_hash: Option<String>,
    now: OffsetDateTime,
) -> Result<Vec<Credential>, IdentityError> {
    let mut credentials: Vec<Credential> =
        existing.map(|e| e.credentials.clone()).unwrap_or_default();
    let current = credentials
        .iter_mut()
        .find(|c| c.kind == CREDENTIAL_PASSWORD);
    match (current, new_hash) {
        (Some(c), hash) => {
            c.identifiers = identifiers.to_vec();
            if let Some(hash) = hash {
                c.config = json!({ "hashed_password": hash });
                c.updated_at = now;
            }
        }
        (None, Some(hash)) => credentials.push(Credential {
            id: Uuid::now_v7(),
            kind: CREDENTIAL_PASSWORD.to_owned(),
            identifiers: identifiers.to_vec(),
            config: json!({ "hashed_password": hash }),
            version: 0,
            created_at: now,
            updated_at: now,
        }),
        (None, None) => {}
    }
    let has_password = credentials.iter().any(|c| c.kind == CREDENTIAL_PASSWORD);
    if has_password && identifiers.is_empty() {
        return Err(IdentityError::NoIdentifier);
    }
    Ok(credentials)
}

fn verifiable(
    via: &str,
    value: &str,
    old: &[VerifiableAddress],
    imports: &[AddressImport],
    now: OffsetDateTime,
) -> VerifiableAddress {
    if let Some(a) = old.iter().find(|a| a.via == via && a.value == value) {
        return a.clone();
    }
    let import = imports
        .iter()
        .find(|a| a.via == via && super::normalize_identifier(&a.value) == value);
    let verified = import.is_some_and(|a| a.verified);
    VerifiableAddress {
        id: Uuid::now_v7(),
        via: via.to_owned(),
        value: value.to_owned(),
        verified,
        status: import.and_then(|a| a.status).unwrap_or(if verified {
            AddressStatus::Completed
        } else {
            AddressStatus::Pending
        }),
        verified_at: verified.then(|| import.and_then(|a| a.verified_at).unwrap_or(now)),
        created_at: now,
        updated_at: now,
    }
}

/// Reads the updatable fields back out of a patched admin document.
fn input_from_patched(doc: &Value) -> Result<IdentityInput, IdentityError> {
    let bad = |what: &str| IdentityError::InvalidPatch(format!("the patched `{what}` is invalid"));
    let state = match doc.get("state") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(IdentityState::parse(s).ok_or_else(|| bad("state"))?),
        Some(_) => return Err(bad("state")),
    };
    let text = |key: &str| -> Result<Option<String>, IdentityError> {
        match doc.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(key)),
        }
    };
    Ok(IdentityInput {
        schema_id: text("schema_id")?,
        traits: doc.get("traits").cloned().unwrap_or(Value::Null),
        state,
        metadata_public: doc.get("metadata_public").cloned(),
        metadata_admin: doc.get("metadata_admin").cloned(),
        external_id: text("external_id")?,
        password: None,
        verifiable_addresses: Vec::new(),
    })
}

/// Removes one credential type from an identity. As in Kratos, the last first
/// factor cannot be removed (the identity could never log in again).
pub async fn delete_credential(
    state: &AppState,
    id: Uuid,
    kind: &str,
) -> Result<(), IdentityError> {
    let kind = kind.to_owned();
    state
        .store
        .write_for_identity(id, move |tx| {
            let identity = identities::find(tx, id)?.ok_or(IdentityError::NotFound)?;
            let credential = identity.credential(&kind).ok_or(IdentityError::NotFound)?;
            if identity.credentials.len() <= 1 {
                return Err(IdentityError::LastCredential);
            }
            identities::delete_credential(tx, credential.id)?;
            Ok(())
        })
        .await
}

/// Builds (validates) a new identity without writing it; `hash` is an already
/// checked or computed password hash. Used by imports.
pub fn build_new(
    state: &AppState,
    mut input: IdentityInput,
    hash: Option<String>,
) -> Result<Identity, IdentityError> {
    input.password = None;
    build(&state.schemas, None, input, hash, state.clock.now())
}
