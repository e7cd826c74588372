//! The admin identities API (`/admin/identities`), shaped as Kratos's spec says.

use crate::api::pagination::{link_header, query_values, PageQuery};
use crate::error::ApiError;
use crate::identity::body::{password_input, CreateIdentityBody, UpdateIdentityBody};
use crate::identity::manage::{self, IdentityInput};
use crate::identity::view::{IdentityView, Visibility};
use crate::identity::Identity;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

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
    let input = body
        .into_inner()
        .into_input()
        .map_err(ApiError::bad_request)?;
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
        password: password_input(body.credentials).map_err(ApiError::bad_request)?,
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

/// `DELETE /admin/identities/{id}/credentials/{type}` (Kratos
/// `deleteIdentityCredentials`) → 204; the last first factor cannot be removed.
pub async fn delete_identity_credentials(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind) = path.into_inner();
    manage::delete_credential(&state, parse_id(&id)?, &kind).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct BatchPatchBody {
    pub identities: Vec<IdentityPatchBody>,
}

#[derive(Debug, Deserialize)]
pub struct IdentityPatchBody {
    pub create: Option<Value>,
    pub patch_id: Option<Uuid>,
}

/// `PATCH /admin/identities` (Kratos `batchPatchIdentities`): creates every valid
/// identity (in one transaction) and reports each record's outcome.
pub async fn batch_patch_identities(
    state: web::Data<AppState>,
    body: web::Json<BatchPatchBody>,
) -> Result<HttpResponse, ApiError> {
    const MAX_BATCH: usize = 2000;
    let patches = body.into_inner().identities;
    if patches.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "At most {MAX_BATCH} identities per request."
        )));
    }
    let ids: Vec<Option<Uuid>> = patches.iter().map(|p| p.patch_id).collect();
    let records: Vec<Value> = patches
        .into_iter()
        .map(|p| p.create.unwrap_or(Value::Null))
        .collect();
    let outcomes = crate::identity::import::import_each(&state, records).await?;
    let results: Vec<Value> = outcomes
        .iter()
        .zip(ids)
        .map(|(o, patch_id)| match o {
            crate::identity::import::Outcome::Created(i) => {
                serde_json::json!({"action": "create", "identity": i.id, "patch_id": patch_id})
            }
            crate::identity::import::Outcome::Rejected(reason) => serde_json::json!({
                "action": "error",
                "patch_id": patch_id,
                "error": ApiError::bad_request(reason.clone()).body(),
            }),
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "identities": results })))
}
