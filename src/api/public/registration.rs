//! Registration flow endpoints (`/self-service/registration*`).

use crate::api::extract::{FlowBody, RequestContext};
use crate::api::public::{current_session, flow_id, FlowIdQuery, FlowQuery};
use crate::api::respond;
use crate::flow::lifecycle;
use crate::flow::registration::{self, InitRequest, SubmitRequest};
use crate::flow::{FlowKind, FlowType};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct InitQuery {
    pub return_to: Option<String>,
}

async fn init(
    state: &AppState,
    ctx: &RequestContext,
    query: InitQuery,
    flow_type: FlowType,
    csrf: Option<crate::flow::csrf::CsrfSecret>,
) -> Result<crate::flow::Flow, crate::flow::FlowError> {
    let session = current_session(state, ctx).await?;
    let req = InitRequest {
        flow_type,
        return_to: query.return_to,
        request_url: ctx.request_url.clone(),
        csrf,
        session,
    };
    registration::init(state, req).await
}

/// `GET /self-service/registration/browser` (Kratos `createBrowserRegistrationFlow`).
pub async fn create_browser_registration_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let (csrf, is_new) = respond::ensure_csrf(&ctx);
    let result = init(
        &state,
        &ctx,
        query.into_inner(),
        FlowType::Browser,
        Some(csrf.clone()),
    )
    .await;
    respond::browser_init(&state, &ctx, result, csrf, is_new).await
}

/// `GET /self-service/registration/api` (Kratos `createNativeRegistrationFlow`).
pub async fn create_native_registration_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    match init(&state, &ctx, query.into_inner(), FlowType::Api, None).await {
        Ok(flow) => respond::flow_json(&ctx, &flow, StatusCode::OK, None),
        Err(e) => actix_web::ResponseError::error_response(&respond::to_api_error(&state, e)),
    }
}

/// `GET /self-service/registration/flows?id=` (Kratos `getRegistrationFlow`).
pub async fn get_registration_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowIdQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let id = flow_id(query.id.as_deref());
    match lifecycle::fetch(&state, id, FlowKind::Registration, ctx.csrf.as_ref()).await {
        Ok(flow) => respond::flow_json(&ctx, &flow, StatusCode::OK, None),
        Err(e) => actix_web::ResponseError::error_response(&respond::to_api_error(&state, e)),
    }
}

/// `POST /self-service/registration?flow=` (Kratos `updateRegistrationFlow`).
pub async fn update_registration_flow(
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
        is_form: body.is_form,
        session,
        client: ctx.client.clone(),
    };
    let result = registration::submit(&state, submit).await;
    respond::count(&state.metrics.registrations, &result);
    match result {
        Ok(auth) => respond::authenticated(&state, &ctx, auth, true),
        Err(e) => respond::flow_error(&state, &ctx, e).await,
    }
}
