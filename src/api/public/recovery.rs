//! Recovery flow endpoints (`/self-service/recovery*`).

use crate::api::extract::{FlowBody, RequestContext};
use crate::api::public::{current_session, flow_id, FlowIdQuery, FlowQuery};
use crate::api::respond;
use crate::flow::lifecycle;
use crate::flow::recovery::{self, InitRequest, Outcome, SubmitRequest};
use crate::flow::{FlowError, FlowKind, FlowType};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct InitQuery {
    pub return_to: Option<String>,
}

async fn init(
    state: &AppState,
    ctx: &RequestContext,
    return_to: Option<String>,
    flow_type: FlowType,
    csrf: Option<crate::flow::csrf::CsrfSecret>,
) -> Result<crate::flow::Flow, FlowError> {
    let session = current_session(state, ctx).await?;
    let req = InitRequest {
        flow_type,
        return_to,
        request_url: ctx.request_url.clone(),
        csrf,
        session,
    };
    recovery::init(state, req).await
}

/// `GET /self-service/recovery/browser` (Kratos `createBrowserRecoveryFlow`).
pub async fn create_browser_recovery_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let (csrf, is_new) = respond::ensure_csrf(&ctx);
    let result = init(
        &state,
        &ctx,
        query.into_inner().return_to,
        FlowType::Browser,
        Some(csrf.clone()),
    )
    .await;
    respond::browser_init(&state, &ctx, result, csrf, is_new).await
}

/// `GET /self-service/recovery/api` (Kratos `createNativeRecoveryFlow`).
pub async fn create_native_recovery_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let result = init(
        &state,
        &ctx,
        query.into_inner().return_to,
        FlowType::Api,
        None,
    )
    .await;
    respond::json_or_error(&state, &ctx, result)
}

/// `GET /self-service/recovery/flows?id=` (Kratos `getRecoveryFlow`).
pub async fn get_recovery_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowIdQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let result = lifecycle::fetch(
        &state,
        flow_id(query.id.as_deref()),
        FlowKind::Recovery,
        ctx.csrf.as_ref(),
    )
    .await;
    respond::json_or_error(&state, &ctx, result)
}

/// `POST /self-service/recovery?flow=` (Kratos `updateRecoveryFlow`).
pub async fn update_recovery_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
    body: FlowBody,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let session = match current_session(&state, &ctx).await {
        Ok(s) => s,
        Err(e) => return respond::flow_error(&state, &ctx, e).await,
    };
    let submit = SubmitRequest {
        flow_id: flow_id(query.flow.as_deref()),
        who: ctx.submitter(&body),
        body: body.fields,
        session,
        client: ctx.client.clone(),
    };
    match recovery::submit(&state, submit).await {
        Ok(Outcome::Show(flow)) => respond::flow_or_redirect(&state, &ctx, &flow),
        Ok(Outcome::Recovered {
            flow,
            settings,
            session,
            token,
        }) => respond::recovered(&state, &ctx, &flow, &settings, &session, &token),
        Err(e) => respond::flow_error(&state, &ctx, e).await,
    }
}
