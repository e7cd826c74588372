//! Settings (Kratos `selfservice/flow/settings`): the logged-in identity changes
//! its traits (`profile`) or its password (`password`). Changing the password or
//! an identifier/address needs a recent login (`--privileged-session-max-age`).

use super::csrf::CsrfSecret;
use super::lifecycle::{self, Submitter};
use super::registration::{policy_message, violation_message};
use super::ui::{UiContainer, UiNode, GROUP_PASSWORD, GROUP_PROFILE};
use super::{text, verification, Flow, FlowError, FlowKind, FlowType};
use crate::identity::manage::{self, IdentityError, IdentityInput};
use crate::identity::schema::trait_value;
use crate::identity::{Identity, CREDENTIAL_PASSWORD};
use crate::password::policy;
use crate::password::{Password, Verified};
use crate::session::Session;
use crate::state::AppState;
use crate::store::{flows, identities, sessions as session_store, StoreError};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// A settings flow for `identity` (not yet stored).
pub fn new_flow(
    state: &AppState,
    identity: &Identity,
    flow_type: FlowType,
    return_to: Option<String>,
    csrf_digest: Option<String>,
) -> Flow {
    let request_url = state
        .config
        .public_url(&format!("self-service/settings/{}", flow_type.as_str()));
    let mut flow = lifecycle::new_flow(
        state,
        FlowKind::Settings,
        flow_type,
        request_url,
        return_to,
        None,
        form(state, identity),
    );
    flow.identity_id = Some(identity.id);
    flow.csrf_digest = csrf_digest;
    flow
}

pub struct InitRequest {
    pub flow_type: FlowType,
    pub return_to: Option<String>,
    pub request_url: String,
    pub csrf: Option<CsrfSecret>,
    pub session: Option<(Session, Identity)>,
}

/// `createBrowserSettingsFlow` / `createNativeSettingsFlow`: needs a session.
pub async fn init(state: &AppState, req: InitRequest) -> Result<(Flow, Identity), FlowError> {
    let return_to = lifecycle::check_return_to(state, req.return_to.as_deref())?;
    let (_, identity) = req.session.ok_or(FlowError::NoSession)?;
    let mut flow = new_flow(
        state,
        &identity,
        req.flow_type,
        return_to,
        req.csrf.as_ref().map(CsrfSecret::digest),
    );
    flow.request_url = req.request_url;
    if req.flow_type == FlowType::Api {
        flow.csrf_digest = None;
    }
    Ok((lifecycle::insert(state, flow).await?, identity))
}

/// The settings form with the identity's current traits.
pub fn form(state: &AppState, identity: &Identity) -> UiContainer {
    let mut ui = UiContainer::new(String::new());
    ui.nodes.push(UiNode::csrf(""));
    if let Some(schema) = state.schemas.get(&identity.schema_id) {
        for field in &schema.fields {
            let mut node = UiNode::from_trait(GROUP_PROFILE, field);
            node.set_value(trait_value(&identity.traits, &field.path).cloned());
            ui.nodes.push(node);
        }
    }
    ui.nodes
        .push(UiNode::submit(GROUP_PROFILE, "profile", text::save()));
    ui.nodes.push(
        UiNode::input(GROUP_PASSWORD, "password", "password")
            .required()
            .autocomplete("new-password")
            .label(text::password_label()),
    );
    ui.nodes
        .push(UiNode::submit(GROUP_PASSWORD, "password", text::save()));
    ui
}

/// `GET /self-service/settings/flows?id=`: only for the identity it belongs to.
pub async fn fetch(
    state: &AppState,
    id: Option<Uuid>,
    csrf: Option<&CsrfSecret>,
    session: Option<(Session, Identity)>,
) -> Result<(Flow, Identity), FlowError> {
    let (_, identity) = session.ok_or(FlowError::NoSession)?;
    let flow = lifecycle::fetch(state, id, FlowKind::Settings, csrf).await?;
    if flow.identity_id != Some(identity.id) {
        return Err(FlowError::IdentityMismatch);
    }
    Ok((flow, identity))
}

pub struct SubmitRequest {
    pub flow_id: Option<Uuid>,
    pub body: Map<String, Value>,
    pub is_form: bool,
    pub who: Submitter,
    pub session: Option<(Session, Identity)>,
}

/// A successful settings change.
#[derive(Debug)]
pub struct Saved {
    pub flow: Flow,
    pub identity: Identity,
}

/// `updateSettingsFlow` with `method=profile` or `method=password`.
pub async fn submit(state: &AppState, req: SubmitRequest) -> Result<Saved, FlowError> {
    let (session, identity) = req.session.ok_or(FlowError::NoSession)?;
    let mut flow =
        lifecycle::load_for_submit(state, req.flow_id, FlowKind::Settings, &req.who).await?;
    if flow.identity_id != Some(identity.id) {
        return Err(FlowError::IdentityMismatch);
    }
    flow.ui.clear_messages();
    flow.set_internal("continue_with", Value::Null);
    let now = state.clock.now();
    let privileged = session.authenticated_at + state.config.privileged_session_max_age > now;
    let refresh = || FlowError::RefreshRequired {
        return_to: state
            .config
            .public_url(&format!("self-service/settings?flow={}", flow.id)),
    };
    match req.body.get("method").and_then(Value::as_str) {
        Some("profile") => {
            let mut traits = req.body.get("traits").cloned().unwrap_or_else(|| json!({}));
            if let Some(schema) = state
                .schemas
                .get(&identity.schema_id)
                .filter(|_| req.is_form)
            {
                schema.coerce_form_traits(&mut traits);
            }
            if traits == identity.traits {
                flow.ui.messages.push(text::no_changes());
                return reject(state, flow).await;
            }
            let schema = state.schemas.get(&identity.schema_id).cloned();
            let (old, new) = match &schema {
                Some(s) => (s.derive(&identity.traits), s.derive(&traits)),
                None => Default::default(),
            };
            if old != new && !privileged {
                return Err(refresh());
            }
            save_profile(state, flow, &session, identity, traits, &old).await
        }
        Some("password") => {
            if !privileged {
                return Err(refresh());
            }
            let password = req
                .body
                .get("password")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            save_password(state, flow, &session, identity, password).await
        }
        _ => {
            flow.ui
                .messages
                .push(text::no_strategy(text::SETTINGS_NO_STRATEGY));
            reject(state, flow).await
        }
    }
}

async fn reject(state: &AppState, flow: Flow) -> Result<Saved, FlowError> {
    let flow = lifecycle::save(state, flow).await?;
    Err(FlowError::Invalid(Box::new(flow)))
}

fn show_traits(flow: &mut Flow, state: &AppState, schema_id: &str, traits: &Value) {
    if let Some(schema) = state.schemas.get(schema_id) {
        for field in &schema.fields {
            if let Some(node) = flow.ui.node_mut(&field.name) {
                node.set_value(trait_value(traits, &field.path).cloned());
            }
        }
    }
}

async fn save_profile(
    state: &AppState,
    mut flow: Flow,
    session: &Session,
    identity: Identity,
    traits: Value,
    old: &crate::identity::schema::Derived,
) -> Result<Saved, FlowError> {
    show_traits(&mut flow, state, &identity.schema_id, &traits);
    // A new verifiable address is verified again: a flow and a code go with the change.
    let new_address = state
        .schemas
        .get(&identity.schema_id)
        .map(|s| s.derive(&traits))
        .and_then(|d| {
            d.verifiable
                .into_iter()
                .find(|a| !old.verifiable.contains(a))
        })
        .map(|(_, value)| value);
    let verification = new_address
        .as_deref()
        .map(|a| {
            verification::for_new_address(
                state,
                flow.flow_type,
                flow.csrf_digest.clone(),
                flow.return_to.clone(),
                a,
            )
        })
        .transpose()?;
    let input = IdentityInput {
        schema_id: Some(identity.schema_id.clone()),
        traits,
        state: Some(identity.state),
        metadata_public: identity.metadata_public.clone(),
        metadata_admin: identity.metadata_admin.clone(),
        external_id: identity.external_id.clone(),
        ..IdentityInput::default()
    };
    flow.state = "success".into();
    flow.updated_at = state.clock.now();
    let stored_flow = flow.clone();
    let now = flow.updated_at;
    let st = state.clone();
    let _ = session;
    let result = manage::update_with(state, identity.id, input, move |tx, updated| {
        let mut flow = stored_flow;
        let action = std::mem::take(&mut flow.ui.action);
        flow.ui = form(&st, updated);
        flow.ui.action = action;
        flow.ui.messages.push(text::settings_saved());
        let mut queued = None;
        if let Some((vflow, sending)) = &verification {
            flows::insert(tx, vflow)?;
            queued = Some(sending.write(tx, Some(updated.id), now)?);
            flow.set_internal(
                "continue_with",
                json!([verification::continue_with(&st, vflow, &sending.address)]),
            );
        }
        flows::update(tx, &flow)?;
        Ok((flow, queued))
    })
    .await;
    match result {
        Ok((identity, (flow, queued))) => {
            state
                .courier
                .queued(&queued.into_iter().collect::<Vec<_>>());
            Ok(Saved { flow, identity })
        }
        Err(IdentityError::Invalid(violations)) => {
            for v in &violations {
                flow.ui.add_message(&v.field, violation_message(v));
            }
            flow.state = "show_form".into();
            reject(state, flow).await
        }
        Err(IdentityError::Conflict(_)) => {
            flow.ui.messages.push(text::duplicate_identifier());
            flow.state = "show_form".into();
            reject(state, flow).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn save_password(
    state: &AppState,
    mut flow: Flow,
    session: &Session,
    identity: Identity,
    password: String,
) -> Result<Saved, FlowError> {
    let identifiers = identity
        .credential(CREDENTIAL_PASSWORD)
        .map(|c| c.identifiers.clone())
        .unwrap_or_else(|| {
            state
                .schemas
                .get(&identity.schema_id)
                .map(|s| s.derive(&identity.traits).password_identifiers)
                .unwrap_or_default()
        });
    if password.is_empty() {
        flow.ui
            .add_message("password", text::missing_property("password"));
        return reject(state, flow).await;
    }
    if let Err(v) = policy::check(&password, &identifiers) {
        flow.ui.add_message("password", policy_message(&v));
        return reject(state, flow).await;
    }
    let password = Password::new(password);
    let current = identity.credential(CREDENTIAL_PASSWORD).cloned();
    if let Some(hash) = current.as_ref().and_then(|c| c.hashed_password()) {
        if matches!(
            state.hasher.verify(&password, hash).await,
            Ok(Verified::Yes | Verified::YesRehash)
        ) {
            flow.ui.add_message("password", text::same_password());
            return reject(state, flow).await;
        }
    }
    if identifiers.is_empty() {
        flow.ui.messages.push(text::no_identifier());
        return reject(state, flow).await;
    }
    let hash = state.hasher.hash(&password).await?;
    let now = state.clock.now();
    flow.state = "success".into();
    flow.updated_at = now;
    let action = std::mem::take(&mut flow.ui.action);
    flow.ui = form(state, &identity);
    flow.ui.action = action;
    flow.ui.messages.push(text::settings_saved());

    let (identity_id, keep) = (identity.id, session.id);
    let revoke_others = !state.config.keep_sessions_on_password_change;
    let stored = flow.clone();
    state
        .store
        .write_for_identity(identity_id, move |tx| {
            identities::set_password(
                tx,
                identity_id,
                current.map(|c| c.id),
                &identifiers,
                &json!({"hashed_password": hash}),
                now,
            )?;
            if revoke_others {
                session_store::revoke_others(tx, identity_id, keep, now)?;
            }
            flows::update(tx, &stored)?;
            Ok::<_, StoreError>(())
        })
        .await?;
    let identity = manage::get(state, identity_id).await?;
    Ok(Saved { flow, identity })
}
