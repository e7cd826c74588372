//! The identity as Kratos clients read it (spec schema `identity`). The public view
//! (whoami, flows) has no credentials and no `metadata_admin`; the admin view adds
//! them, with credential secrets only when asked for (`include_credential`).

use super::{Credential, Identity, RecoveryAddress, VerifiableAddress};
use crate::timefmt;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// What the identity itself may see.
    Public,
    /// Admin API; `with_password_config` adds the password hash config.
    Admin { with_password_config: bool },
}

#[derive(Serialize)]
pub struct IdentityView<'a> {
    id: Uuid,
    schema_id: &'a str,
    schema_url: String,
    state: &'static str,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timefmt::option::serialize"
    )]
    state_changed_at: Option<OffsetDateTime>,
    traits: &'a Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    verifiable_addresses: Vec<VerifiableAddressView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    recovery_addresses: Vec<RecoveryAddressView<'a>>,
    metadata_public: &'a Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata_admin: Option<&'a Option<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credentials: Option<BTreeMap<&'a str, CredentialView<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
    organization_id: Option<Uuid>,
    #[serde(serialize_with = "timefmt::serialize")]
    created_at: OffsetDateTime,
    #[serde(serialize_with = "timefmt::serialize")]
    updated_at: OffsetDateTime,
}

#[derive(Serialize)]
struct CredentialView<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    identifiers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<&'a Value>,
    version: i64,
    #[serde(serialize_with = "timefmt::serialize")]
    created_at: OffsetDateTime,
    #[serde(serialize_with = "timefmt::serialize")]
    updated_at: OffsetDateTime,
}

#[derive(Serialize)]
pub struct VerifiableAddressView<'a> {
    id: Uuid,
    value: &'a str,
    verified: bool,
    via: &'a str,
    status: &'static str,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timefmt::option::serialize"
    )]
    verified_at: Option<OffsetDateTime>,
    #[serde(serialize_with = "timefmt::serialize")]
    created_at: OffsetDateTime,
    #[serde(serialize_with = "timefmt::serialize")]
    updated_at: OffsetDateTime,
}

#[derive(Serialize)]
struct RecoveryAddressView<'a> {
    id: Uuid,
    value: &'a str,
    via: &'a str,
    #[serde(serialize_with = "timefmt::serialize")]
    created_at: OffsetDateTime,
    #[serde(serialize_with = "timefmt::serialize")]
    updated_at: OffsetDateTime,
}

impl<'a> IdentityView<'a> {
    pub fn new(identity: &'a Identity, public_base: &str, visibility: Visibility) -> Self {
        let admin = matches!(visibility, Visibility::Admin { .. });
        let with_config = matches!(
            visibility,
            Visibility::Admin {
                with_password_config: true
            }
        );
        IdentityView {
            id: identity.id,
            schema_id: &identity.schema_id,
            schema_url: super::schema::schema_url(public_base, &identity.schema_id),
            state: identity.state.as_str(),
            state_changed_at: identity.state_changed_at,
            traits: &identity.traits,
            verifiable_addresses: identity
                .verifiable_addresses
                .iter()
                .map(VerifiableAddressView::new)
                .collect(),
            recovery_addresses: identity
                .recovery_addresses
                .iter()
                .map(RecoveryAddressView::new)
                .collect(),
            metadata_public: &identity.metadata_public,
            metadata_admin: admin.then_some(&identity.metadata_admin),
            credentials: (admin && !identity.credentials.is_empty()).then(|| {
                identity
                    .credentials
                    .iter()
                    .map(|c| (c.kind.as_str(), CredentialView::new(c, with_config)))
                    .collect()
            }),
            external_id: identity.external_id.as_deref(),
            organization_id: None,
            created_at: identity.created_at,
            updated_at: identity.updated_at,
        }
    }
}

impl<'a> CredentialView<'a> {
    fn new(c: &'a Credential, with_config: bool) -> Self {
        CredentialView {
            kind: &c.kind,
            identifiers: &c.identifiers,
            config: with_config.then_some(&c.config),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl<'a> VerifiableAddressView<'a> {
    pub fn new(a: &'a VerifiableAddress) -> Self {
        VerifiableAddressView {
            id: a.id,
            value: &a.value,
            verified: a.verified,
            via: &a.via,
            status: a.status.as_str(),
            verified_at: a.verified_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

impl<'a> RecoveryAddressView<'a> {
    fn new(a: &'a RecoveryAddress) -> Self {
        RecoveryAddressView {
            id: a.id,
            value: &a.value,
            via: &a.via,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}
