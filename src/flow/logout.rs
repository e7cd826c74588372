//! Logout (Kratos `selfservice/flow/logout`): browsers get a logout URL carrying a
//! logout token bound to their session; native apps revoke their session token.

use super::lifecycle;
use super::FlowError;
use crate::crypto::constant_time_eq;
use crate::session::{manage as sessions, SessionToken};
use crate::state::AppState;
use serde::Serialize;

/// `logoutFlow`.
#[derive(Debug, Serialize)]
pub struct LogoutFlow {
    pub logout_url: String,
    pub logout_token: String,
}

/// `createBrowserLogoutFlow`: needs the browser's session.
pub async fn create_browser_flow(
    state: &AppState,
    token: Option<&SessionToken>,
    return_to: Option<&str>,
) -> Result<LogoutFlow, FlowError> {
    let return_to = lifecycle::check_return_to(state, return_to)?;
    let token = token.ok_or(FlowError::NoSession)?;
    if sessions::lookup(state, token).await?.is_none() {
        return Err(FlowError::NoSession);
    }
    let logout_token = token.logout_token();
    let mut url = url::Url::parse(&state.config.public_url("self-service/logout"))
        .map_err(|e| FlowError::BadRequest(e.to_string()))?;
    url.query_pairs_mut().append_pair("token", &logout_token);
    if let Some(r) = &return_to {
        url.query_pairs_mut().append_pair("return_to", r);
    }
    Ok(LogoutFlow {
        logout_url: url.to_string(),
        logout_token,
    })
}

/// `updateLogoutFlow`: revokes the browser's session if the logout token is its
/// own. Returns where to send the browser. Without a session there is nothing to
/// revoke and the logout simply completes (a double click is not an error).
pub async fn complete_browser_logout(
    state: &AppState,
    token: Option<&SessionToken>,
    logout_token: Option<&str>,
    return_to: Option<&str>,
) -> Result<String, FlowError> {
    let logout_token = logout_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| FlowError::BadRequest("Please include a token in the URL query.".into()))?;
    let target = lifecycle::check_return_to(state, return_to)?
        .unwrap_or_else(|| state.config.default_return_url().to_string());
    let Some(token) = token else {
        return Ok(target);
    };
    let Some((session, _)) = sessions::lookup(state, token).await? else {
        return Ok(target);
    };
    if !constant_time_eq(token.logout_token().as_bytes(), logout_token.as_bytes()) {
        return Err(FlowError::Forbidden(
            "Unable to log out because the logout token in the URL query does not match the session cookie.".into(),
        ));
    }
    sessions::revoke(state, session.id).await?;
    Ok(target)
}

/// `performNativeLogout`: revokes the session of a session token.
pub async fn perform_native_logout(state: &AppState, token: &str) -> Result<(), FlowError> {
    let token = SessionToken::from_client(token)
        .ok_or_else(|| FlowError::BadRequest("session_token must not be empty".into()))?;
    if sessions::revoke_by_token(state, &token).await? {
        Ok(())
    } else {
        Err(FlowError::Forbidden(
            "The provided session token is not valid or has been revoked already.".into(),
        ))
    }
}
