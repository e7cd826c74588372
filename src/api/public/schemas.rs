//! `GET /schemas` and `GET /schemas/{id}`: the identity schemas, public as in Kratos.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// `GET /schemas` (Kratos `listIdentitySchemas`).
pub async fn list_identity_schemas(state: web::Data<AppState>) -> HttpResponse {
    let list: Vec<_> = state
        .schemas
        .all()
        .map(|s| json!({ "id": s.id, "schema": s.raw }))
        .collect();
    HttpResponse::Ok().json(list)
}

/// `GET /schemas/{id}` (Kratos `getIdentitySchema`); the id may be raw or base64url.
pub async fn get_identity_schema(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let schema = state
        .schemas
        .get_by_id_or_encoded(&id)
        .ok_or_else(|| ApiError::not_found(format!("Identity schema `{id}` does not exist.")))?;
    Ok(HttpResponse::Ok().json(&schema.raw))
}
