//! Settings flow endpoints (`/self-service/settings*`).

use crate::api::extract::{FlowBody, RequestContext};
use crate::api::public::{current_session, flow_id, FlowIdQuery, FlowQuery};
use crate::api::respond;
use crate::flow::settings::{self, InitRequest, SubmitRequest};
use crate::flow::{FlowError, FlowType};
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
    return_to: Option<String>,
    flow_type: FlowType,
    csrf: Option<crate::flow::csrf::CsrfSecret>,
) -> Result<(crate::flow::Flow, crate::identity::Identity), FlowError> {
    let session = current_session(state, ctx).await?;
    let req = InitRequest {
        flow_type,
        return_to,
        request_url: ctx.request_url.clone(),
        csrf,
        session,
    };
    settings::init(state, req).await
}

/// `GET /self-service/settings/browser` (Kratos `createBrowserSettingsFlow`). No
/// session: 401 for JSON clients, a 303 to the login for browsers.
pub async fn create_browser_settings_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let (csrf, is_new) = respond::ensure_csrf(&ctx);
    let return_to = query.into_inner().return_to;
    let mut resp = match init(
        &state,
        &ctx,
        return_to.clone(),
        FlowType::Browser,
        Some(csrf.clone()),
    )
    .await
    {
        Ok((flow, identity)) if ctx.accepts_json => {
            respond::settings_json(&state, &ctx, &flow, &identity, StatusCode::OK)
        }
        Ok((flow, _)) => respond::see_other(&respond::flow_ui_url(&state, &flow)).finish(),
        Err(FlowError::NoSession) if !ctx.wants_json => {
            respond::see_other(&respond::login_url(&state, return_to.as_deref())).finish()
        }
        Err(e) => return respond::flow_error(&state, &ctx, e).await,
    };
    if is_new {
        let _ = resp.add_cookie(&respond::csrf_cookie(&state, &csrf));
    }
    resp
}

/// `GET /self-service/settings/api` (Kratos `createNativeSettingsFlow`).
pub async fn create_native_settings_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<InitQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    match init(
        &state,
        &ctx,
        query.into_inner().return_to,
        FlowType::Api,
        None,
    )
    .await
    {
        Ok((flow, identity)) => {
            respond::settings_json(&state, &ctx, &flow, &identity, StatusCode::OK)
        }
        Err(e) => actix_web::ResponseError::error_response(&respond::to_api_error(&state, e)),
    }
}

/// `GET /self-service/settings/flows?id=` (Kratos `getSettingsFlow`).
pub async fn get_settings_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FlowIdQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let result = match current_session(&state, &ctx).await {
        Ok(session) => {
            settings::fetch(
                &state,
                flow_id(query.id.as_deref()),
                ctx.csrf.as_ref(),
                session,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((flow, identity)) => {
            respond::settings_json(&state, &ctx, &flow, &identity, StatusCode::OK)
        }
        Err(e) => actix_web::ResponseError::error_response(&respond::to_api_error(&state, e)),
    }
}

/// `POST /self-service/settings?flow=` (Kratos `updateSettingsFlow`).
pub async fn update_settings_flow(
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
    let identity = session.as_ref().map(|(_, i)| i.clone());
    let submit = SubmitRequest {
        flow_id: flow_id(query.flow.as_deref()),
        who: ctx.submitter(&body),
        is_form: body.is_form,
        body: body.fields,
        session,
    };
    match settings::submit(&state, submit).await {
        Ok(saved) => respond::settings_saved(&state, &ctx, &saved.flow, &saved.identity),
        // The settings flow JSON always carries its identity.
        Err(FlowError::Invalid(flow)) if ctx.wants_json || !flow.is_browser() => match &identity {
            Some(i) => respond::settings_json(&state, &ctx, &flow, i, StatusCode::BAD_REQUEST),
            None => respond::flow_error(&state, &ctx, FlowError::NoSession).await,
        },
        Err(FlowError::NoSession) if !ctx.wants_json => {
            respond::see_other(&respond::login_url(&state, None)).finish()
        }
        Err(e) => respond::flow_error(&state, &ctx, e).await,
    }
}

/// `GET /self-service/settings?flow=`: where a refresh login returns to; shows
/// the settings flow again.
pub async fn resume_settings_flow(
    state: web::Data<AppState>,
    query: web::Query<FlowQuery>,
) -> HttpResponse {
    match flow_id(query.flow.as_deref()) {
        Some(id) => {
            respond::see_other(&format!("{}?flow={id}", state.config.ui_page("settings"))).finish()
        }
        None => {
            respond::see_other(&state.config.public_url("self-service/settings/browser")).finish()
        }
    }
}
