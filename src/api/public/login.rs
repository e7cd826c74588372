//! Login flow endpoints (`/self-service/login*`).

use crate::api::extract::{FlowBody, RequestContext};
use crate::api::public::{current_session, flow_id, FlowIdQuery, FlowQuery};
use crate::api::respond;
use crate::flow::lifecycle;
use crate::flow::login::{self, InitRequest, SubmitRequest};
use crate::flow::{FlowKind, FlowType};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct InitQuery {
    #[serde(default)]
    pub refresh: bool,
    pub aal: Option<String>,
    pub return_to: Option<String>,
}

fn init_request(ctx: &RequestContext, q: InitQuery, flow_type: FlowType) -> InitRequest {
    InitRequest {
        flow_type,
        refresh: q.refresh,
        aal: q.aal,
        return_to: q.return_to,
        request_url: ctx.request_url.clone(),
        csrf: None,
        session: None,
    }
}

/// `GET /self-service/login/browser` (Kratos `createBrowserLoginFlow`).
pub async fn create_browser_login_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let (csrf, is_new) = respond::ensure_csrf(&ctx);
    let mut init = init_request(&ctx, query.into_inner(), FlowType::Browser);
    init.csrf = Some(csrf.clone());
    let result = match current_session(&state, &ctx).await {
        Ok(session) => login::init(&state, InitRequest { session, ..init }).await,
        Err(e) => Err(e),
    };
    respond::browser_init(&state, &ctx, result, csrf, is_new).await
}

/// `GET /self-service/login/api` (Kratos `createNativeLoginFlow`).
pub async fn create_native_login_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let init = init_request(&ctx, query.into_inner(), FlowType::Api);
    let result = match current_session(&state, &ctx).await {
        Ok(session) => login::init(&state, InitRequest { session, ..init }).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(flow) => respond::flow_json(&ctx, &flow, StatusCode::OK, None),
        Err(e) => actix_web::ResponseError::error_response(&respond::to_api_error(&state, e)),
    }
}

/// `GET /self-service/login/flows?id=` (Kratos `getLoginFlow`).
pub async fn get_login_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowIdQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    match lifecycle::fetch(
        &state,
        flow_id(query.id.as_deref()),
        FlowKind::Login,
        ctx.csrf.as_ref(),
    )
    .await
    {
        Ok(flow) => respond::flow_json(&ctx, &flow, StatusCode::OK, None),
        Err(e) => actix_web::ResponseError::error_response(&respond::to_api_error(&state, e)),
    }
}

/// `POST /self-service/login?flow=` (Kratos `updateLoginFlow`).
pub async fn update_login_flow(
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
    let result = login::submit(&state, submit).await;
    respond::count(&state.metrics.logins, &result);
    match result {
        Ok(auth) => respond::authenticated(&state, &ctx, auth, false),
        Err(e) => respond::flow_error(&state, &ctx, e).await,
    }
}
