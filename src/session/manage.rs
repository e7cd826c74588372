//! Issuing, finding, refreshing and revoking sessions.

use super::{AuthMethod, Client, Device, Session, SessionToken};
use crate::identity::Identity;
use crate::state::AppState;
use crate::store::{identities, sessions, StoreError, Touched};
use time::OffsetDateTime;
use uuid::Uuid;

/// A fresh aal1 session for `identity`, authenticated now by `method`.
pub fn new_session(
    identity_id: Uuid,
    method: &str,
    client: &Client,
    now: OffsetDateTime,
    lifespan: time::Duration,
) -> Session {
    Session {
        id: Uuid::now_v7(),
        identity_id,
        active: true,
        aal: "aal1".into(),
        methods: vec![AuthMethod {
            method: method.into(),
            aal: "aal1".into(),
            completed_at: now,
        }],
        issued_at: now,
        authenticated_at: now,
        expires_at: now + lifespan,
        devices: vec![Device {
            id: Uuid::now_v7(),
            ip_address: client.ip_address.clone(),
            user_agent: client.user_agent.clone(),
            location: String::new(),
        }],
        created_at: now,
        updated_at: now,
    }
}

/// Creates and stores a session; returns it with the token only the client keeps.
pub async fn issue(
    state: &AppState,
    identity_id: Uuid,
    method: &str,
    client: &Client,
) -> Result<(Session, SessionToken), StoreError> {
    issue_with(state, identity_id, method, client, |_| Ok(())).await
}

/// `issue`, with `then` written in the same transaction (login: the flow), so
/// both commit with one fsync. `then` must leave existing sessions, identities
/// and addresses alone (see `Store::write_unseen`).
pub async fn issue_with(
    state: &AppState,
    identity_id: Uuid,
    method: &str,
    client: &Client,
    then: impl FnOnce(&rusqlite::Connection) -> Result<(), StoreError> + Send + 'static,
) -> Result<(Session, SessionToken), StoreError> {
    let session = new_session(
        identity_id,
        method,
        client,
        state.clock.now(),
        state.config.session_lifespan,
    );
    let token = SessionToken::generate();
    let digest = token.digest();
    let stored = session.clone();
    state
        .store
        .write_unseen(move |tx| {
            sessions::insert(tx, &stored, &digest)?;
            then(tx)
        })
        .await?;
    Ok((session, token))
}

/// The usable session a token belongs to, with its (active) identity. Read-only:
/// this is the hot path of every app behind Postern.
pub async fn lookup(
    state: &AppState,
    token: &SessionToken,
) -> Result<Option<(Session, Identity)>, StoreError> {
    let digest = token.digest();
    let now = state.clock.now();
    state
        .store
        .read(move |c| {
            let Some(session) = sessions::find_by_digest(c, &digest)? else {
                return Ok(None);
            };
            if !session.is_usable(now) {
                return Ok(None);
            }
            let identity = identities::find(c, session.identity_id)?;
            Ok(identity.filter(Identity::is_active).map(|i| (session, i)))
        })
        .await
}

/// Re-authentication of an existing session: new `authenticated_at` and expiry,
/// one more authentication method (Kratos keeps the session id and token).
pub async fn refresh(
    state: &AppState,
    mut session: Session,
    method: &str,
) -> Result<Session, StoreError> {
    let now = state.clock.now();
    session.authenticated_at = now;
    session.issued_at = now;
    session.expires_at = now + state.config.session_lifespan;
    session.methods.push(AuthMethod {
        method: method.into(),
        aal: "aal1".into(),
        completed_at: now,
    });
    let stored = session.clone();
    state
        .store
        .write_for_identity(stored.identity_id, move |tx| {
            sessions::refresh(tx, &stored, now)
        })
        .await?;
    Ok(session)
}

/// Revokes the session a token belongs to. `false` when no session has this token;
/// an already revoked one counts as found (Kratos answers 204 for it too).
pub async fn revoke_by_token(state: &AppState, token: &SessionToken) -> Result<bool, StoreError> {
    let digest = token.digest();
    let now = state.clock.now();
    state
        .store
        .write_touching(move |tx| match sessions::find_by_digest(tx, &digest)? {
            Some(s) => {
                sessions::revoke(tx, s.id, now)?;
                Ok((true, Touched::Identity(s.identity_id)))
            }
            None => Ok((false, Touched::Nothing)),
        })
        .await
}

/// Revokes a session by id; `false` when there is none.
pub async fn revoke(state: &AppState, id: Uuid) -> Result<bool, StoreError> {
    let now = state.clock.now();
    change_session(state, id, move |tx| sessions::revoke(tx, id, now)).await
}

/// Runs `change` on session `id` in a write that touches only its
/// identity's cached checks; `false` without running it when there is no
/// such session.
async fn change_session(
    state: &AppState,
    id: Uuid,
    change: impl FnOnce(&rusqlite::Connection) -> Result<bool, StoreError> + Send + 'static,
) -> Result<bool, StoreError> {
    state
        .store
        .write_touching(move |tx| match sessions::owner(tx, id)? {
            Some(identity) => Ok((change(tx)?, Touched::Identity(identity))),
            None => Ok((false, Touched::Nothing)),
        })
        .await
}

/// Revokes all of the identity's sessions except `keep`; returns how many.
pub async fn revoke_others(
    state: &AppState,
    identity_id: Uuid,
    keep: Uuid,
) -> Result<u64, StoreError> {
    let now = state.clock.now();
    state
        .store
        .write_for_identity(identity_id, move |tx| {
            sessions::revoke_others(tx, identity_id, keep, now)
        })
        .await
}

/// Revokes one of the identity's own sessions; `false` if it has no such active one.
pub async fn revoke_own(state: &AppState, identity_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let now = state.clock.now();
    state
        .store
        .write_for_identity(identity_id, move |tx| {
            sessions::revoke_for_identity(tx, identity_id, id, now)
        })
        .await
}

/// The identity's other active sessions (one page) and their total count.
pub async fn list_others(
    state: &AppState,
    current: &Session,
    limit: u32,
    offset: u64,
) -> Result<(Vec<Session>, u64), StoreError> {
    let (identity_id, except) = (current.identity_id, current.id);
    let now = state.clock.now();
    state
        .store
        .read(move |c| {
            sessions::list_active_for_identity(c, identity_id, except, now, limit, offset)
        })
        .await
}

/// A session with its identity, for the admin API.
pub type WithIdentity = (Session, Option<Identity>);

/// Admin listing: one keyset page of sessions (of one identity, or all).
pub async fn admin_list(
    state: &AppState,
    identity_id: Option<Uuid>,
    active: Option<bool>,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<WithIdentity>, StoreError> {
    let now = state.clock.now();
    state
        .store
        .read(move |c| {
            let page = sessions::list(c, identity_id, active, after, now, limit)?;
            page.into_iter()
                .map(|s| {
                    let identity = identities::find(c, s.identity_id)?;
                    Ok((s, identity))
                })
                .collect()
        })
        .await
}

pub async fn admin_get(state: &AppState, id: Uuid) -> Result<Option<WithIdentity>, StoreError> {
    state
        .store
        .read(move |c| match sessions::find(c, id)? {
            Some(s) => {
                let identity = identities::find(c, s.identity_id)?;
                Ok(Some((s, identity)))
            }
            None => Ok(None),
        })
        .await
}

/// `PATCH /admin/sessions/{id}/extend`: new expiry = now + lifespan (Kratos).
pub async fn extend(state: &AppState, id: Uuid) -> Result<bool, StoreError> {
    let now = state.clock.now();
    let expires_at = now + state.config.session_lifespan;
    change_session(state, id, move |tx| {
        sessions::extend(tx, id, expires_at, now)
    })
    .await
}

pub async fn revoke_all_for_identity(
    state: &AppState,
    identity_id: Uuid,
) -> Result<u64, StoreError> {
    let now = state.clock.now();
    state
        .store
        .write_for_identity(identity_id, move |tx| {
            sessions::revoke_all_for_identity(tx, identity_id, now)
        })
        .await
}
