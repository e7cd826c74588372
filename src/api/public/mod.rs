//! Handlers of the public API, and what they share.

pub mod errors;
pub mod health;
pub mod login;
pub mod logout;
pub mod recovery;
pub mod registration;
pub mod schemas;
pub mod sessions;
pub mod settings;
pub mod verification;

use crate::api::extract::RequestContext;
use crate::flow::FlowError;
use crate::identity::Identity;
use crate::session::{manage, Session};
use crate::state::AppState;
use serde::Deserialize;
use uuid::Uuid;

/// `?flow=<id>` of submit endpoints.
#[derive(Debug, Deserialize)]
pub struct FlowQuery {
    pub flow: Option<String>,
}

/// `?id=<id>` of `/flows` endpoints.
#[derive(Debug, Deserialize)]
pub struct FlowIdQuery {
    pub id: Option<String>,
}

/// A flow id from the query string; malformed ids are treated as absent.
pub fn flow_id(raw: Option<&str>) -> Option<Uuid> {
    raw.and_then(|s| Uuid::parse_str(s.trim()).ok())
}

/// The caller's usable session, if its request carries one.
pub async fn current_session(
    state: &AppState,
    ctx: &RequestContext,
) -> Result<Option<(Session, Identity)>, FlowError> {
    match &ctx.session_token {
        Some(token) => Ok(manage::lookup(state, token).await?),
        None => Ok(None),
    }
}
