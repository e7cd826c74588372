//! `POST /admin/recovery/code` (Kratos `createRecoveryCodeForIdentity`).

use crate::api::respond;
use crate::error::ApiError;
use crate::flow::{recovery, FlowType};
use crate::state::AppState;
use crate::timefmt;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRecoveryCodeBody {
    pub identity_id: uuid::Uuid,
    /// e.g. `1h`, `30m`.
    pub expires_in: Option<String>,
    pub flow_type: Option<String>,
}

pub async fn create_recovery_code_for_identity(
    state: web::Data<AppState>,
    body: web::Json<CreateRecoveryCodeBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let expires_in = body
        .expires_in
        .as_deref()
        .map(|s| {
            humantime::parse_duration(s)
                .ok()
                .and_then(|d| time::Duration::try_from(d).ok())
                .filter(|d| d.is_positive())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "expires_in `{s}` is not a duration like 1h or 30m"
                    ))
                })
        })
        .transpose()?;
    let flow_type = match body.flow_type.as_deref() {
        None | Some("browser") => FlowType::Browser,
        Some("api") => FlowType::Api,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "flow_type `{other}` must be browser or api"
            )))
        }
    };
    let (flow, code) =
        recovery::create_for_identity(&state, body.identity_id, expires_in, flow_type)
            .await
            .map_err(|e| match e {
                crate::flow::FlowError::NotFound => {
                    ApiError::not_found("The identity does not exist.")
                }
                other => respond::to_api_error(&state, other),
            })?;
    Ok(HttpResponse::Created().json(json!({
        "recovery_link": respond::flow_ui_url(&state, &flow),
        "recovery_code": code,
        "expires_at": timefmt::rfc3339(flow.expires_at),
    })))
}
