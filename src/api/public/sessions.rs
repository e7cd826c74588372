//! The caller's own sessions: `whoami`, list, revoke (`/sessions*`).

use crate::api::extract::RequestContext;
use crate::api::public::current_session;
use crate::error::ApiError;
use crate::identity::Identity;
use crate::session::cache::Cached;
use crate::session::{manage, Session, SessionView};

use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

fn unauthorized() -> ApiError {
    ApiError::unauthorized("No valid session credentials found in the request.")
}

async fn require_session(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(Session, Identity), ApiError> {
    let ctx = RequestContext::from_request(req, state);
    current_session(state, &ctx)
        .await
        .map_err(|e| crate::api::respond::to_api_error(state, e))?
        .ok_or_else(unauthorized)
}

/// `/sessions/whoami` (Kratos `toSession`), any method: the session the request's
/// token or cookie belongs to. The hot path of every app behind Postern: it
/// never writes or hashes a password; one indexed query on this thread's own
/// connection, or a cached answer when nothing changed it since.
pub async fn to_session(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = crate::api::extract::session_token(&req).ok_or_else(unauthorized)?;
    let digest = token.digest_bytes();
    let now = state.clock.now();
    let generation = state.store.generation();
    let answer = match state.whoami_cache.get_fresh(&digest, now, &state.store) {
        Some(hit) => {
            state.metrics.session_checks_cached.inc();
            hit
        }
        None => {
            state.metrics.session_checks_read.inc();
            let hex = crate::crypto::hex_lower(&digest);
            let found = state.store.read_here(crate::store::Pages::Mapped, |c| {
                crate::store::whoami::lookup(c, &hex, now)
            })?;
            let (session, identity) = found.ok_or_else(unauthorized)?;
            let view = SessionView::new(&session, Some(&identity), state.config.public_base(), now);
            let mut body = serde_json::to_vec(&view).map_err(ApiError::internal)?;
            // A cached body lives long: give back the vector's spare capacity.
            body.shrink_to_fit();
            let mut id = uuid::Uuid::encode_buffer();
            let id = identity.id.hyphenated().encode_lower(&mut id);
            let entry = Cached {
                generation,
                identity: identity.id,
                expires_at: session.expires_at,
                identity_id: header::HeaderValue::from_str(id).map_err(ApiError::internal)?,
                body: body.into(),
            };
            state.whoami_cache.put(digest, entry.clone());
            entry
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(("X-Kratos-Authenticated-Identity-Id", answer.identity_id))
        .content_type("application/json")
        .body(answer.body))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub page: Option<u64>,
    pub per_page: Option<u32>,
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
}

/// `GET /sessions` (Kratos `listMySessions`): the caller's other active sessions.
pub async fn list_my_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (session, identity) = require_session(&state, &req).await?;
    let size = query
        .page_size
        .or(query.per_page)
        .unwrap_or(250)
        .clamp(1, 1000);
    let page = match &query.page_token {
        Some(t) => t
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request("page_token is not a valid page token"))?,
        None => query.page.unwrap_or(0),
    };
    let (sessions, total) =
        manage::list_others(&state, &session, size, page * u64::from(size)).await?;
    let now = state.clock.now();
    let base = state.config.public_base();
    let body: Vec<_> = sessions
        .iter()
        .map(|s| SessionView::new(s, Some(&identity), base, now))
        .collect();
    let last = total.saturating_sub(1) / u64::from(size);
    let path = state.config.public_url("sessions");
    let mut link = format!("<{path}?page_size={size}&page_token=0>; rel=\"first\"");
    if page < last {
        link.push_str(&format!(
            ",<{path}?page_size={size}&page_token={}>; rel=\"next\"",
            page + 1
        ));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::LINK, link))
        .insert_header(("X-Total-Count", total.to_string()))
        .json(body))
}

/// `DELETE /sessions` (Kratos `disableMyOtherSessions`) → `{"count": n}`.
pub async fn disable_my_other_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (session, _) = require_session(&state, &req).await?;
    let count = manage::revoke_others(&state, session.identity_id, session.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": count })))
}

/// `DELETE /sessions/{id}` (Kratos `disableMySession`) → 204.
pub async fn disable_my_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (session, _) = require_session(&state, &req).await?;
    let id =
        Uuid::parse_str(&id).map_err(|_| ApiError::not_found("Unable to locate the resource"))?;
    if id == session.id {
        return Err(ApiError::bad_request(
            "You can not revoke the session you are currently using; log out instead.",
        ));
    }
    if manage::revoke_own(&state, session.identity_id, id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("Unable to locate the resource"))
    }
}
