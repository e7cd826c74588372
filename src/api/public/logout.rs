//! Logout endpoints (`/self-service/logout*`).

use crate::api::extract::RequestContext;
use crate::api::respond;
use crate::error::ApiError;
use crate::flow::csrf::CsrfSecret;
use crate::flow::logout;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct CreateQuery {
    pub return_to: Option<String>,
}

/// `GET /self-service/logout/browser` (Kratos `createBrowserLogoutFlow`).
pub async fn create_browser_logout_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CreateQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    match logout::create_browser_flow(
        &state,
        ctx.session_token.as_ref(),
        query.return_to.as_deref(),
    )
    .await
    {
        Ok(flow) => HttpResponse::Ok().json(flow),
        Err(e) => respond::flow_error(&state, &ctx, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct UpdateQuery {
    pub token: Option<String>,
    pub return_to: Option<String>,
}

/// `GET /self-service/logout?token=` (Kratos `updateLogoutFlow`): revokes the
/// session, clears its cookie, rotates the CSRF cookie; 204 for JSON clients.
pub async fn update_logout_flow(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<UpdateQuery>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let q = query.into_inner();
    let result = logout::complete_browser_logout(
        &state,
        ctx.session_token.as_ref(),
        q.token.as_deref(),
        q.return_to.as_deref(),
    )
    .await;
    let mut resp = match result {
        Ok(_) if ctx.wants_json => HttpResponse::NoContent().finish(),
        Ok(target) => respond::see_other(&target).finish(),
        Err(e) => return respond::flow_error(&state, &ctx, e).await,
    };
    let _ = resp.add_cookie(&respond::clear_session_cookie(&state));
    let _ = resp.add_cookie(&respond::csrf_cookie(&state, &CsrfSecret::generate()));
    resp
}

#[derive(Debug, Deserialize)]
pub struct NativeLogoutBody {
    pub session_token: String,
}

/// `DELETE /self-service/logout/api` (Kratos `performNativeLogout`) → 204.
pub async fn perform_native_logout(
    state: web::Data<AppState>,
    body: web::Json<NativeLogoutBody>,
) -> Result<HttpResponse, ApiError> {
    logout::perform_native_logout(&state, &body.session_token)
        .await
        .map_err(|e| respond::to_api_error(&state, e))?;
    Ok(HttpResponse::NoContent().finish())
}
