//! The admin identities API (`/admin/identities`), shaped as Kratos's spec says.

use crate::api::pagination::{link_header, query_values, PageQuery};
use crate::error::ApiError;
use crate::identity::manage::{self, AddressImport, IdentityInput, PasswordInput};
use crate::identity::view::{IdentityView, Visibility};
use crate::identity::{AddressStatus, Identity, IdentityState};
use crate::password::Password;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// Spec `createIdentityBody`; unknown fields are refused, as in Kratos.
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Deserialize)]
pub struct CredentialsBody {
    pub password: Option<PasswordCredentialBody>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct PasswordCredentialBody {
    pub config: Option<PasswordConfigBody>,
}

#[derive(Debug, Deserialize)]
pub struct PasswordConfigBody {
    pub password: Option<String>,
    pub hashed_password: Option<String>,
    pub use_password_migration_hook: Option<bool>,
}

/// Spec `verifiableIdentityAddress`, as accepted on import.
#[derive(Debug, Deserialize)]
pub struct VerifiableAddressBody {
    pub value: String,
    pub via: String,
    #[serde(default)]
    pub verified: bool,
    pub status: Option<AddressStatus>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub verified_at: Option<time::OffsetDateTime>,
}

/// Query of `listIdentities`. (No `#[serde(flatten)]`: serde_urlencoded then reads
/// every value as a string and numbers stop parsing.)
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
    pub per_page: Option<u32>,
    pub credentials_identifier: Option<String>,
}

impl ListQuery {
    fn page(&self) -> PageQuery {
        PageQuery {
            page_size: self.page_size,
            page_token: self.page_token.clone(),
            per_page: self.per_page,
        }
    }
}

fn password_input(credentials: Option<CredentialsBody>) -> Result<Option<PasswordInput>, ApiError> {
    let Some(credentials) = credentials else {
        return Ok(None);
    };
    if let Some(kind) = credentials.other.keys().next() {
        return Err(ApiError::bad_request(format!(
            "Importing `{kind}` credentials is not supported; only `password` is."
        )));
    }
    let Some(config) = credentials.password.and_then(|p| p.config) else {
        return Ok(None);
    };
    if config.use_password_migration_hook == Some(true) {
        return Err(ApiError::bad_request(
            "The password migration hook is not supported.",
        ));
    }
    match (config.password, config.hashed_password) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "Give either credentials.password.config.password or hashed_password, not both.",
        )),
        (Some(p), None) => Ok(Some(PasswordInput::Plain(Password::new(p)))),
        (None, Some(h)) => Ok(Some(PasswordInput::Hashed(h))),
        (None, None) => Ok(None),
    }
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("Unable to locate the resource"))
}

fn render(state: &AppState, identity: &Identity, with_password_config: bool) -> Value {
    let view = IdentityView::new(
        identity,
        state.config.public_base(),
        Visibility::Admin {
            with_password_config,
        },
    );
    serde_json::to_value(view).unwrap_or(Value::Null)
}

fn wants_password_config(req: &HttpRequest) -> bool {
    query_values(req, "include_credential")
        .iter()
        .any(|c| c == "password")
}

/// `POST /admin/identities` (Kratos `createIdentity`) → 201 + `Location`.
pub async fn create_identity(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CreateIdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = IdentityInput {
        schema_id: body.schema_id,
        traits: body.traits,
        state: body.state,
        metadata_public: body.metadata_public,
        metadata_admin: body.metadata_admin,
        external_id: body.external_id,
        password: password_input(body.credentials)?,
        verifiable_addresses: body
            .verifiable_addresses
            .into_iter()
            .map(address_import)
            .collect(),
    };
    let identity = manage::create(&state, input).await?;
    let info = req.connection_info();
    let location = format!(
        "{}://{}/admin/identities/{}",
        info.scheme(),
        info.host(),
        identity.id
    );
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(render(&state, &identity, false)))
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

/// `GET /admin/identities` (Kratos `listIdentities`), keyset-paginated.
pub async fn list_identities(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page_query = query.page();
    let size = page_query.size()?;
    let after = page_query.after()?;
    let mut page = manage::list(
        &state,
        after,
        size + 1,
        query.credentials_identifier.clone(),
    )
    .await?;
    let more = page.len() > size as usize;
    page.truncate(size as usize);
    let next = more.then(|| page.last().map(|i| i.id)).flatten();
    let with_config = wants_password_config(&req);
    let body: Vec<Value> = page
        .iter()
        .map(|i| render(&state, i, with_config))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::LINK, link_header(&req, size, next)))
        .json(body))
}

/// `GET /admin/identities/{id}` (Kratos `getIdentity`).
pub async fn get_identity(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let identity = manage::get(&state, parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(render(&state, &identity, wants_password_config(&req))))
}

/// `PUT /admin/identities/{id}` (Kratos `updateIdentity`).
pub async fn update_identity(
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<UpdateIdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let body = body.into_inner();
    let input = IdentityInput {
        schema_id: Some(body.schema_id),
        traits: body.traits,
        state: Some(body.state),
        metadata_public: body.metadata_public,
        metadata_admin: body.metadata_admin,
        external_id: body.external_id,
        password: password_input(body.credentials)?,
        verifiable_addresses: Vec::new(),
    };
    let identity = manage::update(&state, id, input).await?;
    Ok(HttpResponse::Ok().json(render(&state, &identity, false)))
}

/// `PATCH /admin/identities/{id}` (Kratos `patchIdentity`): RFC 6902 JSON Patch.
pub async fn patch_identity(
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<json_patch::Patch>,
) -> Result<HttpResponse, ApiError> {
    let identity = manage::patch(&state, parse_id(&id)?, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(render(&state, &identity, false)))
}

/// `DELETE /admin/identities/{id}` (Kratos `deleteIdentity`) → 204.
pub async fn delete_identity(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    manage::delete(&state, parse_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
