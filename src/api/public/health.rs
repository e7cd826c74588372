//! `GET /health/alive`, `GET /health/ready`, `GET /version` (both listeners).

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// `GET /health/alive` (Kratos `isAlive`): the process answers.
pub async fn is_alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /health/ready` (Kratos `isReady`): 200 only when the database answers.
pub async fn is_ready(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "errors": { "database": "the database is not reachable" } }))
        }
    }
}

/// `GET /version` (Kratos `getVersion`).
pub async fn get_version() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "version": env!("CARGO_PKG_VERSION") }))
}
