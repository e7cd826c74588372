//! The admin sessions API (`/admin/sessions`, `/admin/identities/{id}/sessions`).

use crate::api::pagination::{link_header, query_values, PageQuery};
use crate::error::ApiError;
use crate::session::manage::{self, WithIdentity};
use crate::session::SessionView;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
    pub per_page: Option<u32>,
    pub active: Option<bool>,
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("Unable to locate the resource"))
}

/// `expand=identity`, `expand=devices` (repeatable or comma-separated).
fn expansions(req: &HttpRequest) -> (bool, bool) {
    let all: Vec<String> = query_values(req, "expand")
        .iter()
        .flat_map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    (
        all.iter().any(|e| e == "identity"),
        all.iter().any(|e| e == "devices"),
    )
}

fn render(state: &AppState, item: &WithIdentity, expand: (bool, bool)) -> Value {
    let (session, identity) = item;
    let view = SessionView::admin(
        session,
        identity.as_ref(),
        state.config.public_base(),
        state.clock.now(),
        expand.0,
        expand.1,
    );
    serde_json::to_value(view).unwrap_or(Value::Null)
}

async fn list(
    state: &AppState,
    req: &HttpRequest,
    q: ListQuery,
    identity_id: Option<Uuid>,
    expand: (bool, bool),
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        page_size: q.page_size,
        page_token: q.page_token,
        per_page: q.per_page,
    };
    let (size, after) = (page.size()?, page.after()?);
    let mut items = manage::admin_list(state, identity_id, q.active, after, size + 1).await?;
    let more = items.len() > size as usize;
    items.truncate(size as usize);
    let next = more.then(|| items.last().map(|(s, _)| s.id)).flatten();
    let body: Vec<Value> = items.iter().map(|i| render(state, i, expand)).collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::LINK, link_header(req, size, next)))
        .json(body))
}

/// `GET /admin/sessions` (Kratos `listSessions`).
pub async fn list_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let expand = expansions(&req);
    list(&state, &req, query.into_inner(), None, expand).await
}

/// `GET /admin/identities/{id}/sessions` (Kratos `listIdentitySessions`).
pub async fn list_identity_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    crate::identity::manage::get(&state, id).await?;
    list(&state, &req, query.into_inner(), Some(id), (true, true)).await
}

/// `GET /admin/sessions/{id}` (Kratos `getSession`).
pub async fn get_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let item = manage::admin_get(&state, parse_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("Unable to locate the resource"))?;
    Ok(HttpResponse::Ok().json(render(&state, &item, expansions(&req))))
}

/// `DELETE /admin/sessions/{id}` (Kratos `disableSession`) → 204.
pub async fn disable_session(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    if manage::admin_get(&state, id).await?.is_none() {
        return Err(ApiError::not_found("Unable to locate the resource"));
    }
    manage::revoke(&state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PATCH /admin/sessions/{id}/extend` (Kratos `extendSession`): expiry = now + lifespan.
pub async fn extend_session(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    if !manage::extend(&state, id).await? {
        return Err(ApiError::not_found("Unable to locate the resource"));
    }
    let item = manage::admin_get(&state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Unable to locate the resource"))?;
    Ok(HttpResponse::Ok().json(render(&state, &item, (true, true))))
}

/// `DELETE /admin/identities/{id}/sessions` (Kratos `deleteIdentitySessions`) → 204.
pub async fn delete_identity_sessions(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    crate::identity::manage::get(&state, id).await?;
    manage::revoke_all_for_identity(&state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
