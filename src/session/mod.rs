//! Sessions: who is logged in, since when, until when, and how. Tokens are
//! `ory_st_` + 32 random alphanumerics (≈190 bits); only their SHA-256 is stored,
//! so a copy of the database does not log anyone in.

pub mod cache;
pub mod manage;

use crate::crypto;
use crate::identity::view::{IdentityView, Visibility};
use crate::identity::Identity;
use crate::timefmt;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

/// A session token as a client holds it. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub const PREFIX: &'static str = "ory_st_";

    pub fn generate() -> SessionToken {
        SessionToken(format!(
            "{}{}",
            Self::PREFIX,
            crypto::random_alphanumeric(32)
        ))
    }

    /// Wraps a token a client sent; anything non-empty is looked up.
    pub fn from_client(s: &str) -> Option<SessionToken> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 256).then(|| SessionToken(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks sessions up by.
    pub fn digest(&self) -> String {
        crypto::digest_hex(self.0.as_bytes())
    }

    /// The same digest as bytes (the session-check cache's key).
    pub fn digest_bytes(&self) -> [u8; 32] {
        crypto::digest(self.0.as_bytes())
    }

    /// The session's logout token, derived from the session token so that it needs
    /// no storage: only a holder of the session can know it, and a leaked logout
    /// token reveals nothing about the session token.
    pub fn logout_token(&self) -> String {
        let digest = crypto::digest_hex(format!("logout:{}", self.0).as_bytes());
        format!("ory_lo_{}", digest.get(..32).unwrap_or(&digest))
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// One completed authentication step (`authentication_methods[]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthMethod {
    pub method: String,
    pub aal: String,
    #[serde(with = "time::serde::rfc3339")]
    pub completed_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    pub id: Uuid,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub location: String,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub active: bool,
    pub aal: String,
    pub methods: Vec<AuthMethod>,
    pub issued_at: OffsetDateTime,
    pub authenticated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub devices: Vec<Device>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Session {
    /// Usable right now: not revoked and not expired. (The identity's own state is
    /// checked where the identity is at hand.)
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.active && self.expires_at > now
    }
}

/// Where a request came from, recorded as the session's device.
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The session as Kratos clients read it (spec schema `session`).
#[derive(Serialize)]
pub struct SessionView<'a> {
    id: Uuid,
    active: bool,
    #[serde(serialize_with = "timefmt::serialize")]
    expires_at: OffsetDateTime,
    #[serde(serialize_with = "timefmt::serialize")]
    authenticated_at: OffsetDateTime,
    authenticator_assurance_level: &'a str,
    authentication_methods: Vec<MethodView<'a>>,
    #[serde(serialize_with = "timefmt::serialize")]
    issued_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<IdentityView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    devices: Option<Vec<DeviceView<'a>>>,
}

#[derive(Serialize)]
struct MethodView<'a> {
    method: &'a str,
    aal: &'a str,
    #[serde(serialize_with = "timefmt::serialize")]
    completed_at: OffsetDateTime,
}

#[derive(Serialize)]
struct DeviceView<'a> {
    id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    location: &'a str,
}

impl<'a> SessionView<'a> {
    /// `identity` is shown in its public form (no credentials, no admin metadata).
    pub fn new(
        session: &'a Session,
        identity: Option<&'a Identity>,
        public_base: &str,
        now: OffsetDateTime,
    ) -> Self {
        SessionView {
            id: session.id,
            active: session.is_usable(now) && identity.is_none_or(Identity::is_active),
            expires_at: session.expires_at,
            authenticated_at: session.authenticated_at,
            authenticator_assurance_level: &session.aal,
            authentication_methods: session
                .methods
                .iter()
                .map(|m| MethodView {
                    method: &m.method,
                    aal: &m.aal,
                    completed_at: m.completed_at,
                })
                .collect(),
            issued_at: session.issued_at,
            identity: identity.map(|i| IdentityView::new(i, public_base, Visibility::Public)),
            devices: Some(
                session
                    .devices
                    .iter()
                    .map(|d| DeviceView {
                        id: d.id,
                        ip_address: d.ip_address.as_deref(),
                        user_agent: d.user_agent.as_deref(),
                        location: &d.location,
                    })
                    .collect(),
            ),
        }
    }

    /// The admin API's view: the identity with its admin metadata, and only
    /// what `expand` asked for.
    pub fn admin(
        session: &'a Session,
        identity: Option<&'a Identity>,
        public_base: &str,
        now: OffsetDateTime,
        expand_identity: bool,
        expand_devices: bool,
    ) -> Self {
        let mut view = SessionView::new(session, identity, public_base, now);
        view.identity = identity.filter(|_| expand_identity).map(|i| {
            IdentityView::new(
                i,
                public_base,
                Visibility::Admin {
                    with_password_config: false,
                },
            )
        });
        if !expand_devices {
            view.devices = None;
        }
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_prefix_entropy_and_redacted_debug() {
        let t = SessionToken::generate();
        assert!(t.expose().starts_with("ory_st_"));
        assert_eq!(t.expose().len(), 7 + 32);
        assert_ne!(t, SessionToken::generate());
        assert!(!format!("{t:?}").contains(t.expose()));
        assert_eq!(t.digest().len(), 64);
    }

    #[test]
    fn logout_token_is_stable_per_session_and_distinct() {
        let t = SessionToken::generate();
        assert_eq!(t.logout_token(), t.logout_token());
        assert!(t.logout_token().starts_with("ory_lo_"));
        assert_ne!(t.logout_token(), SessionToken::generate().logout_token());
        assert!(!t.logout_token().contains(&t.expose()[7..]));
    }
}
