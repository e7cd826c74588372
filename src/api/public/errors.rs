//! `GET /self-service/errors?id=` (Kratos `getFlowError`): errors stored for browsers.

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::errors;
use crate::timefmt;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub struct ErrorQuery {
    pub id: Option<String>,
    /// Older clients send the id as `error`.
    pub error: Option<String>,
}

pub async fn get_flow_error(
    state: web::Data<AppState>,
    query: web::Query<ErrorQuery>,
) -> Result<HttpResponse, ApiError> {
    let raw = query
        .id
        .as_deref()
        .or(query.error.as_deref())
        .unwrap_or_default();
    let now = state.clock.now();
    if raw == "stub:500" {
        return Ok(HttpResponse::Ok().json(json!({
            "id": raw,
            "error": {"code": 500, "status": "Internal Server Error",
                      "reason": "This is a stub error.", "message": "An internal server error occurred, please contact the system administrator"},
            "created_at": timefmt::rfc3339(now),
            "updated_at": timefmt::rfc3339(now),
        })));
    }
    let id =
        Uuid::parse_str(raw).map_err(|_| ApiError::not_found("The error could not be found."))?;
    let found = state
        .store
        .write_unseen(move |tx| errors::take(tx, id, now))
        .await?;
    let e = found.ok_or_else(|| ApiError::not_found("The error could not be found."))?;
    Ok(HttpResponse::Ok().json(json!({
        "id": id,
        "error": e.error,
        "created_at": timefmt::rfc3339(e.created_at),
        "updated_at": timefmt::rfc3339(e.updated_at),
    })))
}
