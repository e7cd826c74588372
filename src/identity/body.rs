//! The request bodies of the admin identities API (spec `createIdentityBody`,
//! `updateIdentityBody`), also read by `postern identities import`.

use super::manage::{AddressImport, IdentityInput, PasswordInput};
use super::{AddressStatus, IdentityState};
use crate::password::Password;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Spec `createIdentityBody`; unknown fields are refused, as in Kratos.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreateIdentityBody {
    pub schema_id: Option<String>,
    pub traits: Value,
    pub state: Option<IdentityState>,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
    pub external_id: Option<String>,
    pub credentials: Option<CredentialsBody>,
    #[serde(default)]
    pub verifiable_addresses: Vec<VerifiableAddressBody>,
    #[serde(default)]
    pub recovery_addresses: Vec<Value>,
    pub organization_id: Option<Value>,
    pub region: Option<String>,
}

/// Spec `updateIdentityBody`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateIdentityBody {
    pub schema_id: String,
    pub traits: Value,
    pub state: IdentityState,
    pub metadata_public: Option<Value>,
    pub metadata_admin: Option<Value>,
    pub external_id: Option<String>,
    pub credentials: Option<CredentialsBody>,
    pub region: Option<String>,
}

/// Spec `identityWithCredentials`: only `password` is supported by Postern.
#[derive(Debug, Deserialize, Serialize)]
pub struct CredentialsBody {
    pub password: Option<PasswordCredentialBody>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct PasswordCredentialBody {
    pub config: Option<PasswordConfigBody>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct PasswordConfigBody {
    pub password: Option<String>,
    pub hashed_password: Option<String>,
    pub use_password_migration_hook: Option<bool>,
}

/// Spec `verifiableIdentityAddress`, as accepted on import.
#[derive(Debug, Deserialize, Serialize)]
pub struct VerifiableAddressBody {
    pub value: String,
    pub via: String,
    #[serde(default)]
    pub verified: bool,
    pub status: Option<AddressStatus>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub verified_at: Option<time::OffsetDateTime>,
}

impl CreateIdentityBody {
    /// The domain input; `Err` explains a malformed credentials block.
    pub fn into_input(self) -> Result<IdentityInput, String> {
        Ok(IdentityInput {
            schema_id: self.schema_id,
            traits: self.traits,
            state: self.state,
            metadata_public: self.metadata_public,
            metadata_admin: self.metadata_admin,
            external_id: self.external_id,
            password: password_input(self.credentials)?,
            verifiable_addresses: self
                .verifiable_addresses
                .into_iter()
                .map(address_import)
                .collect(),
        })
    }
}

pub fn password_input(
    credentials: Option<CredentialsBody>,
) -> Result<Option<PasswordInput>, String> {
    let Some(credentials) = credentials else {
        return Ok(None);
    };
    if let Some(kind) = credentials.other.keys().next() {
        return Err(format!(
            "Importing `{kind}` credentials is not supported; only `password` is."
        ));
    }
    let Some(config) = credentials.password.and_then(|p| p.config) else {
        return Ok(None);
    };
    if config.use_password_migration_hook == Some(true) {
        return Err("The password migration hook is not supported.".to_owned());
    }
    match (config.password, config.hashed_password) {
        (Some(_), Some(_)) => Err(
            "Give either credentials.password.config.password or hashed_password, not both."
                .to_owned(),
        ),
        (Some(p), None) => Ok(Some(PasswordInput::Plain(Password::new(p)))),
        (None, Some(h)) => Ok(Some(PasswordInput::Hashed(h))),
        (None, None) => Ok(None),
    }
}

fn address_import(a: VerifiableAddressBody) -> AddressImport {
    AddressImport {
        via: a.via,
        value: a.value,
        verified: a.verified,
        status: a.status,
        verified_at: a.verified_at,
    }
}
