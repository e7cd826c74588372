//! The login flow with the password method (Kratos `selfservice/flow/login`,
//! `strategy/password/login.go`). Unknown identifiers and wrong passwords get the
//! same answer (4000006) after the same argon2 work.

use super::csrf::CsrfSecret;
use super::lifecycle::{self, Submitter};
use super::ui::{UiContainer, UiNode, GROUP_DEFAULT, GROUP_PASSWORD};
use super::{text, Authenticated, Flow, FlowError, FlowKind, FlowType, Issued};
use crate::identity::{normalize_identifier, Identity, CREDENTIAL_PASSWORD};
use crate::password::{Password, Verified};
use crate::session::{manage as sessions, Client, Session};
use crate::state::AppState;
use crate::store::{identities, Pages};
use serde_json::{json, Map, Value};
use uuid::Uuid;

pub struct InitRequest {
    pub flow_type: FlowType,
    pub refresh: bool,
    pub aal: Option<String>,
    pub return_to: Option<String>,
    pub request_url: String,
    pub csrf: Option<CsrfSecret>,
    /// The caller's current session, if any.
    pub session: Option<(Session, Identity)>,
}

/// Creates a login flow (`createBrowserLoginFlow` / `createNativeLoginFlow`).
pub async fn init(state: &AppState, req: InitRequest) -> Result<Flow, FlowError> {
    let return_to = lifecycle::check_return_to(state, req.return_to.as_deref())?;
    match req.aal.as_deref().filter(|a| !a.is_empty()) {
        None | Some("aal1") => {}
        Some("aal2") if req.session.is_none() => return Err(FlowError::Aal1Required),
        Some("aal2") => {
            return Err(FlowError::BadRequest(
                "aal2 cannot be requested: no second factor is available on this server".into(),
            ))
        }
        Some(other) => return Err(FlowError::BadRequest(format!("Unknown aal `{other}`."))),
    }
    let refresh_identity = match (&req.session, req.refresh) {
        (Some(_), false) => return Err(FlowError::AlreadyLoggedIn),
        (Some((_, identity)), true) => Some(identity),
        (None, _) => None,
    };
    let mut flow = lifecycle::new_flow(
        state,
        FlowKind::Login,
        req.flow_type,
        req.request_url,
        return_to,
        req.csrf.as_ref(),
        form(state, refresh_identity),
    );
    flow.refresh = req.refresh;
    flow.identity_id = refresh_identity.map(|i| i.id);
    lifecycle::insert(state, flow).await
}

/// The login form: identifier, password, submit; for a refresh the identifier is
/// fixed to the current identity's.
pub fn form(state: &AppState, refresh_identity: Option<&Identity>) -> UiContainer {
    let mut ui = UiContainer::new(String::new());
    ui.nodes.push(UiNode::csrf(""));
    let schema = state.schemas.default_schema();
    let label = match schema.identifier_field() {
        Some(f) => f
            .title
            .as_deref()
            .map_or_else(text::identifier_label, |t| text::schema_title(t, &f.name)),
        None => text::identifier_label(),
    };
    let identifier = UiNode::input(GROUP_DEFAULT, "identifier", "text")
        .required()
        .label(label);
    let submit_label = match refresh_identity {
        Some(identity) => {
            let value = identity
                .credential(CREDENTIAL_PASSWORD)
                .and_then(|c| c.identifiers.first().cloned())
                .unwrap_or_default();
            let mut node = identifier.value(value);
            node.set_input_type("hidden");
            ui.nodes.push(node);
            ui.messages.push(text::login_refresh_requested());
            text::sign_in_refresh()
        }
        None => {
            ui.nodes.push(identifier.value(""));
            text::sign_in_with_password()
        }
    };
    ui.nodes.push(
        UiNode::input(GROUP_PASSWORD, "password", "password")
            .required()
            .autocomplete("current-password")
            .label(text::password_label()),
    );
    ui.nodes
        .push(UiNode::submit(GROUP_PASSWORD, "password", submit_label));
    ui
}

pub struct SubmitRequest {
    pub flow_id: Option<Uuid>,
    pub body: Map<String, Value>,
    pub who: Submitter,
    pub session: Option<(Session, Identity)>,
    pub client: Client,
}

/// `updateLoginFlow` with `method=password`.
pub async fn submit(state: &AppState, req: SubmitRequest) -> Result<Authenticated, FlowError> {
    let mut flow =
        lifecycle::load_for_submit(state, req.flow_id, FlowKind::Login, &req.who).await?;
    flow.ui.clear_messages();
    let body = &req.body;
    let text_field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let identifier = text_field("identifier").or_else(|| text_field("password_identifier"));
    if let Some(node) = flow.ui.node_mut("identifier") {
        if node
            .input_value()
            .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
            || !flow.refresh
        {
            node.set_value(Some(json!(identifier.clone().unwrap_or_default())));
        }
    }
    if text_field("method").as_deref() != Some("password") {
        flow.ui
            .messages
            .push(text::no_strategy(text::LOGIN_NO_STRATEGY));
        return reject(state, flow).await;
    }
    if req.session.is_some() && !flow.refresh {
        flow.ui.messages.push(text::generic(
            "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?",
        ));
        return reject(state, flow).await;
    }
    let password = text_field("password").filter(|p| !p.is_empty());
    let identifier = identifier.filter(|i| !i.trim().is_empty());
    let (Some(identifier), Some(password)) = (identifier.clone(), password.clone()) else {
        if identifier.is_none() {
            flow.ui
                .add_message("identifier", text::missing_property("identifier"));
        }
        if password.is_none() {
            flow.ui
                .add_message("password", text::missing_property("password"));
        }
        return reject(state, flow).await;
    };
    let password = Password::new(password);

    // Per-identifier throttle (known and unknown identifiers alike).
    let throttle_key = normalize_identifier(&identifier);
    if let Some(secs) = state
        .login_throttle
        .locked_for(&throttle_key, state.clock.now())
    {
        lifecycle::save(state, flow).await?;
        return Err(FlowError::Throttled {
            retry_after_secs: secs,
        });
    }
    let Some(identity) = check_password(state, &identifier, &password).await? else {
        state
            .login_throttle
            .record_failure(&throttle_key, state.clock.now());
        flow.ui.messages.push(text::invalid_credentials());
        return reject(state, flow).await;
    };
    state.login_throttle.record_success(&throttle_key);

    if !identity.is_active() {
        flow.ui.messages.push(text::account_disabled());
        return reject(state, flow).await;
    }

    flow.active = Some("password".into());
    let mut csrf_rotation = None;
    let issued = match req.session {
        Some((current, _)) if flow.refresh && current.identity_id == identity.id => {
            Issued::Refreshed {
                session: sessions::refresh(state, current, "password").await?,
            }
        }
        _ => {
            // The new session and the flow's update commit together: one write
            // (and one fsync) per login besides the password work.
            flow.updated_at = state.clock.now();
            let stored_flow = flow.clone();
            let (session, token) =
                sessions::issue_with(state, identity.id, "password", &req.client, move |tx| {
                    crate::store::flows::update(tx, &stored_flow)
                })
                .await?;
            csrf_rotation = flow.is_browser().then(CsrfSecret::generate);
            Issued::New { session, token }
        }
    };
    let flow = match &issued {
        Issued::New { .. } => flow,
        _ => lifecycle::save(state, flow).await?,
    };

    let return_to = flow
        .return_to
        .clone()
        .unwrap_or_else(|| state.config.default_return_url().to_string());
    Ok(Authenticated {
        flow,
        identity,
        issued,
        return_to,
        continue_with: Vec::new(),
        verification_ui: None,
        csrf_rotation,
    })
}

async fn reject(state: &AppState, flow: Flow) -> Result<Authenticated, FlowError> {
    let flow = lifecycle::save(state, flow).await?;
    Err(FlowError::Invalid(Box::new(flow)))
}

/// The identity whose password this is, or `None`. An unknown identifier costs
/// the same argon2 work as a wrong password. A correct password stored as bcrypt,
/// argon2i or with old parameters is rehashed to current argon2id.
async fn check_password(
    state: &AppState,
    identifier: &str,
    password: &Password,
) -> Result<Option<Identity>, FlowError> {
    let normalized = normalize_identifier(identifier);
    // Six indexed point queries (tens of microseconds): cheaper here than the
    // hand-off to a pool thread and back. Pages::Fresh, as for flows: the
    // credentials are read moments after logins and registrations commit.
    let identity = state.store.read_here(Pages::Fresh, |c| {
        identities::find_by_identifier(c, CREDENTIAL_PASSWORD, &normalized)
    })?;
    let stored = identity.as_ref().and_then(|i| {
        let c = i.credential(CREDENTIAL_PASSWORD)?;
        Some((c.id, c.hashed_password()?.to_owned()))
    });
    let Some((credential_id, hash)) = stored else {
        state.hasher.verify_dummy(password).await?;
        return Ok(None);
    };
    match state.hasher.verify(password, &hash).await {
        Ok(Verified::No) | Err(crate::password::HashError::UnsupportedHash(_)) => Ok(None),
        Ok(Verified::Yes) => Ok(identity),
        Ok(Verified::YesRehash) => {
            let new_hash = state.hasher.hash(password).await?;
            let now = state.clock.now();
            let config = json!({ "hashed_password": new_hash });
            state
                .store
                .write_unseen(move |tx| {
                    identities::update_credential_config(tx, credential_id, &config, now)
                })
                .await?;
            Ok(identity)
        }
        Err(e) => Err(e.into()),
    }
}
