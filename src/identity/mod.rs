//! Identities: the people Postern knows. An identity's traits are validated against
//! its JSON schema; its login identifiers and verifiable/recovery addresses are
//! derived from the traits through the schema's `ory.sh/kratos` extension.

pub mod body;
pub mod import;
pub mod manage;
pub mod schema;
pub mod view;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityState {
    Active,
    Inactive,
}

impl IdentityState {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityState::Active => "active",
            IdentityState::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(IdentityState::Active),
            "inactive" => Some(IdentityState::Inactive),
            _ => None,
        }
    }
}

/// An identity with everything that belongs to it, as stored.
#[derive(Clone, Debug)]
pub struct Identity {
    pub id: Uuid,
    pub schema_id: String,
    pub state: IdentityState,
    pub state_changed_at: Option<OffsetDateTime>,
    pub traits: Value,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
    pub external_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub credentials: Vec<Credential>,
    pub verifiable_addresses: Vec<VerifiableAddress>,
    pub recovery_addresses: Vec<RecoveryAddress>,
}

impl Identity {
    pub fn credential(&self, kind: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.kind == kind)
    }

    pub fn is_active(&self) -> bool {
        self.state == IdentityState::Active
    }
}

/// Credential type names (Kratos's `identityCredentials.type` enum).
pub const CREDENTIAL_PASSWORD: &str = "password";

/// One credential of an identity. For `password`, `config` is
/// `{"hashed_password": "<PHC string>"}`.
#[derive(Clone, Debug)]
pub struct Credential {
    pub id: Uuid,
    pub kind: String,
    pub identifiers: Vec<String>,
    pub config: Value,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Credential {
    pub fn hashed_password(&self) -> Option<&str> {
        self.config.get("hashed_password").and_then(Value::as_str)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressStatus {
    Pending,
    Sent,
    Completed,
}

impl AddressStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AddressStatus::Pending => "pending",
            AddressStatus::Sent => "sent",
            AddressStatus::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(AddressStatus::Pending),
            "sent" => Some(AddressStatus::Sent),
            "completed" => Some(AddressStatus::Completed),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct VerifiableAddress {
    pub id: Uuid,
    pub via: String,
    pub value: String,
    pub verified: bool,
    pub status: AddressStatus,
    pub verified_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryAddress {
    pub id: Uuid,
    pub via: String,
    pub value: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// How login identifiers and addresses are compared: trimmed and lower-cased, so
/// `Alice@Example.com ` and `alice@example.com` are one account (Kratos does the same).
pub fn normalize_identifier(raw: &str) -> String {
    raw.trim().to_lowercase()
}
