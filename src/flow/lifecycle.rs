//! What every flow goes through: creation, fetching (`/flows?id=`), and the checks
//! before a submit is looked at — existence, expiry (with a replacement flow),
//! API flows refusing browser traffic, and CSRF for browser flows.

use super::csrf::CsrfSecret;
use super::ui::UiContainer;
use super::{
    login, recovery, registration, settings, text, verification, Flow, FlowError, FlowKind,
    FlowType,
};
use crate::state::AppState;
use crate::store::{errors, flows};
use serde_json::{json, Value};
use uuid::Uuid;

/// Who is submitting, as far as the flow checks care.
#[derive(Debug, Default)]
pub struct Submitter {
    /// The browser's CSRF cookie secret, if it sent one.
    pub csrf: Option<CsrfSecret>,
    /// The `csrf_token` the body carried.
    pub csrf_token: Option<String>,
    /// The request carries an `Origin` header or (non-Cloudflare) cookies: browser
    /// traffic, which API flows refuse.
    pub looks_like_browser: bool,
    /// Kratos does not CSRF-check verification code submissions (the code is the
    /// proof); such submits set this.
    pub skip_csrf: bool,
}

/// A new flow with its `ui.action` pointing at its submit URL.
pub fn new_flow(
    state: &AppState,
    kind: FlowKind,
    flow_type: FlowType,
    request_url: String,
    return_to: Option<String>,
    csrf: Option<&CsrfSecret>,
    mut ui: UiContainer,
) -> Flow {
    let now = state.clock.now();
    let id = Uuid::now_v7();
    ui.action = state
        .config
        .public_url(&format!("self-service/{}?flow={id}", kind.as_str()));
    Flow {
        id,
        kind,
        flow_type,
        state: kind.initial_state().into(),
        request_url,
        return_to,
        active: None,
        ui,
        csrf_digest: match flow_type {
            FlowType::Browser => csrf.map(CsrfSecret::digest),
            FlowType::Api => None,
        },
        identity_id: None,
        refresh: false,
        requested_aal: "aal1".into(),
        internal: json!({}),
        issued_at: now,
        expires_at: now + state.config.flow_lifespan,
        created_at: now,
        updated_at: now,
    }
}

/// Stores a new flow: with the next write, within `FLUSH_AFTER` (see
/// `store/pending.rs`); lookups see it at once.
pub async fn insert(state: &AppState, flow: Flow) -> Result<Flow, FlowError> {
    state.store.insert_flow_soon(flow.clone());
    Ok(flow)
}

pub async fn save(state: &AppState, mut flow: Flow) -> Result<Flow, FlowError> {
    flow.updated_at = state.clock.now();
    let stored = flow.clone();
    state
        .store
        .write_relaxed(move |tx| flows::update(tx, &stored))
        .await?;
    Ok(flow)
}

async fn find(state: &AppState, id: Uuid, kind: FlowKind) -> Result<Flow, FlowError> {
    let flow = state.store.find_flow(id)?;
    flow.filter(|f| f.kind == kind).ok_or(FlowError::NotFound)
}

/// `GET /self-service/<kind>/flows?id=`: the flow, if it exists, is not expired
/// and (browser flows) belongs to this browser.
pub async fn fetch(
    state: &AppState,
    id: Option<Uuid>,
    kind: FlowKind,
    csrf: Option<&CsrfSecret>,
) -> Result<Flow, FlowError> {
    let flow = find(state, id.ok_or(FlowError::NotFound)?, kind).await?;
    if flow.is_expired(state.clock.now()) {
        return Err(FlowError::Gone {
            flow: Box::new(flow),
        });
    }
    if !is_csrf_exempt(&flow) && !flow.csrf_matches(csrf) {
        return Err(FlowError::Csrf(
            "the flow was started by another browser, or the CSRF cookie is missing",
        ));
    }
    Ok(flow)
}

/// The checks before a submit is processed. On an expired flow a replacement is
/// created (same type and `return_to`) carrying the "expired" message.
pub async fn load_for_submit(
    state: &AppState,
    id: Option<Uuid>,
    kind: FlowKind,
    who: &Submitter,
) -> Result<Flow, FlowError> {
    let mut flow = find(state, id.ok_or(FlowError::MissingFlowId)?, kind).await?;
    let now = state.clock.now();
    if flow.is_expired(now) {
        let mut replacement = replacement(state, &flow, who.csrf.as_ref()).await?;
        replacement.ui.messages.push(text::flow_expired(
            kind.expired_message(),
            flow.expires_at,
            now,
        ));
        let replacement = insert(state, replacement).await?;
        return Err(FlowError::Expired {
            expired_at: flow.expires_at,
            replacement: Box::new(replacement),
        });
    }
    match flow.flow_type {
        FlowType::Api if who.looks_like_browser => {
            // Kratos: API flows must not be used by browsers (no CSRF protection there).
            flow.ui.clear_messages();
            flow.ui.messages.push(text::generic(
                "The request was made with browser cookies or an Origin header, but this is an API flow. Browsers must use a browser flow (/self-service/<flow>/browser).",
            ));
            Err(FlowError::Invalid(Box::new(flow)))
        }
        FlowType::Browser if who.skip_csrf || is_csrf_exempt(&flow) => Ok(flow),
        FlowType::Browser => {
            let Some(secret) = who.csrf.as_ref() else {
                return Err(FlowError::Csrf("the request carries no CSRF cookie"));
            };
            if !flow.csrf_matches(Some(secret)) {
                return Err(FlowError::Csrf(
                    "the CSRF cookie does not belong to this flow",
                ));
            }
            match who.csrf_token.as_deref() {
                None | Some("") => Err(FlowError::Csrf("the request body carries no csrf_token")),
                Some(t) if !secret.matches_masked(t) => Err(FlowError::Csrf(
                    "the csrf_token does not match the CSRF cookie",
                )),
                Some(_) => Ok(flow),
            }
        }
        FlowType::Api => Ok(flow),
    }
}

/// Flows an admin created for a user (`createRecoveryCodeForIdentity`) are not
/// bound to a browser.
fn is_csrf_exempt(flow: &Flow) -> bool {
    flow.internal.get("csrf_exempt").and_then(Value::as_bool) == Some(true)
}

/// A fresh flow of the same kind, type and `return_to`.
async fn replacement(
    state: &AppState,
    old: &Flow,
    csrf: Option<&CsrfSecret>,
) -> Result<Flow, FlowError> {
    let ui = match old.kind {
        FlowKind::Login => login::form(state, None),
        FlowKind::Registration => registration::form(state),
        FlowKind::Recovery => recovery::choose_form(),
        FlowKind::Verification => verification::choose_form(old.flow_type),
        FlowKind::Settings => {
            let id = old.identity_id.ok_or(FlowError::NoSession)?;
            let identity = state
                .store
                .read(move |c| crate::store::identities::find(c, id))
                .await?
                .ok_or(FlowError::NoSession)?;
            settings::form(state, &identity)
        }
    };
    let mut flow = new_flow(
        state,
        old.kind,
        old.flow_type,
        old.request_url.clone(),
        old.return_to.clone(),
        csrf,
        ui,
    );
    flow.identity_id = old.identity_id;
    flow.state = old.kind.initial_state().into();
    Ok(flow)
}

/// Checks a `return_to` against the allow-list; `Ok(None)` when none was given.
pub fn check_return_to(state: &AppState, raw: Option<&str>) -> Result<Option<String>, FlowError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => state
            .config
            .return_to_policy()
            .check(r)
            .map(|u| Some(u.to_string()))
            .ok_or(FlowError::ReturnToForbidden),
    }
}

/// Stores an error for a browser to read through `/self-service/errors?id=`.
pub async fn record_error(state: &AppState, error: Value) -> Result<Uuid, FlowError> {
    let id = Uuid::now_v7();
    let now = state.clock.now();
    state
        .store
        .write_unseen(move |tx| errors::insert(tx, id, &error, now))
        .await?;
    Ok(id)
}
