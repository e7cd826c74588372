//! The courier outbox over the admin API (`listCourierMessages`,
//! `getCourierMessage`): how CI reads codes without an SMTP server.

use crate::api::pagination::link_header_with;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::courier::{self as outbox, Dispatch, StoredMessage};
use crate::timefmt;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
    pub status: Option<String>,
    pub recipient: Option<String>,
}

/// Spec schema `message`, with the body opened.
pub fn message_json(state: &AppState, m: &StoredMessage, dispatches: &[Dispatch]) -> Value {
    let body = state.courier.open(m).map_or_else(
        || "(this message cannot be decrypted: its key file is gone)".to_owned(),
        |o| o.body,
    );
    json!({
        "id": m.id,
        "status": m.status,
        "type": "email",
        "channel": "email",
        "recipient": m.recipient,
        "subject": m.subject,
        "body": body,
        "template_type": m.template_type,
        "send_count": m.send_count,
        "created_at": timefmt::rfc3339(m.created_at),
        "updated_at": timefmt::rfc3339(m.updated_at),
        "dispatches": dispatches.iter().map(|d| json!({
            "id": d.id,
            "message_id": d.message_id,
            "status": d.status,
            "error": d.error.as_ref().map(|e| json!({"reason": e})),
            "created_at": timefmt::rfc3339(d.created_at),
            "updated_at": timefmt::rfc3339(d.updated_at),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /admin/courier/messages`: newest first, filters `status` and `recipient`.
pub async fn list_courier_messages(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    if let Some(s) = q.status.as_deref() {
        if !matches!(s, "queued" | "processing" | "sent" | "abandoned") {
            return Err(ApiError::bad_request(
                "status must be one of queued, processing, sent, abandoned",
            ));
        }
    }
    let size = q.page_size.unwrap_or(10).clamp(1, 1000);
    let before = match q.page_token.as_deref() {
        Some(t) => t
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("page_token is not a valid page token"))?,
        None => i64::MAX,
    };
    let recipient = q
        .recipient
        .map(|r| crate::identity::normalize_identifier(&r));
    let (status, limit) = (q.status.clone(), size + 1);
    let (mut page, dispatches) = state
        .store
        .read(move |c| {
            let page = outbox::list(c, status.as_deref(), recipient.as_deref(), before, limit)?;
            let d = page
                .iter()
                .map(|m| outbox::dispatches(c, m.id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((page, d))
        })
        .await?;
    let more = page.len() > size as usize;
    page.truncate(size as usize);
    let next = more
        .then(|| page.last().map(|m| m.seq.to_string()))
        .flatten();
    let body: Vec<Value> = page
        .iter()
        .zip(&dispatches)
        .map(|(m, d)| message_json(&state, m, d))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::LINK, link_header_with(&req, size, next)))
        .json(body))
}

/// `GET /admin/courier/messages/{id}`.
pub async fn get_courier_message(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id =
        Uuid::parse_str(&id).map_err(|_| ApiError::not_found("Unable to locate the resource"))?;
    let found = state
        .store
        .read(move |c| {
            let m = outbox::find(c, id)?;
            let d = match &m {
                Some(m) => outbox::dispatches(c, m.id)?,
                None => Vec::new(),
            };
            Ok(m.map(|m| (m, d)))
        })
        .await?;
    let (m, d) = found.ok_or_else(|| ApiError::not_found("Unable to locate the resource"))?;
    Ok(HttpResponse::Ok().json(message_json(&state, &m, &d)))
}
