//! Verification flow endpoints (`/self-service/verification*`).

use crate::api::extract::{FlowBody, RequestContext};
use crate::api::public::{flow_id, FlowIdQuery};
use crate::api::respond;
use crate::flow::lifecycle;
use crate::flow::verification::{self, InitRequest, SubmitRequest};
use crate::flow::{FlowKind, FlowType};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct InitQuery {
    pub return_to: Option<String>,
}

/// `GET /self-service/verification/browser` (Kratos `createBrowserVerificationFlow`).
pub async fn create_browser_verification_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let (csrf, is_new) = respond::ensure_csrf(&ctx);
    let init = InitRequest {
        flow_type: FlowType::Browser,
        return_to: query.into_inner().return_to,
        request_url: ctx.request_url.clone(),
        csrf: Some(csrf.clone()),
    };
    let result = verification::init(&state, init).await;
    respond::browser_init(&state, &ctx, result, csrf, is_new).await
}

/// `GET /self-service/verification/api` (Kratos `createNativeVerificationFlow`).
pub async fn create_native_verification_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let init = InitRequest {
        flow_type: FlowType::Api,
        return_to: query.into_inner().return_to,
        request_url: ctx.request_url.clone(),
        csrf: None,
    };
    respond::json_or_error(&state, &ctx, verification::init(&state, init).await)
}

/// `GET /self-service/verification/flows?id=` (Kratos `getVerificationFlow`).
pub async fn get_verification_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowIdQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let id = flow_id(query.id.as_deref());
    let result = lifecycle::fetch(&state, id, FlowKind::Verification, ctx.csrf.as_ref()).await;
    respond::json_or_error(&state, &ctx, result)
}

#[derive(Debug, Deserialize)]
pub struct SubmitQuery {
    pub flow: Option<String>,
    pub code: Option<String>,
}

/// `POST /self-service/verification?flow=` (Kratos `updateVerificationFlow`): the
/// flow comes back (200 JSON, 303 for browsers), wrong codes included.
pub async fn update_verification_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SubmitQuery>,
    body: FlowBody,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let submit = SubmitRequest {
        flow_id: flow_id(query.flow.as_deref()),
        who: ctx.submitter(&body),
        body: body.fields,
    };
    match verification::submit(&state, submit).await {
        Ok(flow) => respond::flow_or_redirect(&state, &ctx, &flow),
        Err(e) => respond::flow_error(&state, &ctx, e).await,
    }
}

/// `GET /self-service/verification?flow=&code=`: the link in the mail. Sends the
/// browser to the form with the code in the URL (Kratos does not verify on GET).
pub async fn open_verification_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SubmitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let q = query.into_inner();
    match verification::link_target(
        &state,
        flow_id(q.flow.as_deref()),
        q.code.as_deref().unwrap_or_default(),
    )
    .await
    {
        Ok(target) => respond::see_other(&target).finish(),
        Err(e) => respond::flow_error(&state, &ctx, e).await,
    }
}
