//! Account recovery with a code (Kratos `selfservice/flow/recovery`,
//! `strategy/code/strategy_recovery.go`). The right code logs the user in with a
//! fresh (privileged) session and hands over a settings flow to set a new
//! password. Unknown addresses get the same answer; the mail differs.

use super::code::{self, CodeCheck, CodeTarget, NewCode};
use super::csrf::CsrfSecret;
use super::lifecycle::{self, Submitter};
use super::ui::{Attributes, UiContainer, UiNode};
use super::{settings, text, Flow, FlowError, FlowKind, FlowType};
use crate::courier::templates::TemplateType;
use crate::courier::Outgoing;
use crate::identity::{normalize_identifier, Identity};
use crate::session::{manage as sessions, Client, Session, SessionToken};
use crate::state::AppState;
use crate::store::{
    addresses, codes, flows, identities, sessions as session_store, StoreError, Touched,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

const GROUP_CODE: &str = "code";

pub struct InitRequest {
    pub flow_type: FlowType,
    pub return_to: Option<String>,
    pub request_url: String,
    pub csrf: Option<CsrfSecret>,
    pub session: Option<(Session, Identity)>,
}

/// `createBrowserRecoveryFlow` / `createNativeRecoveryFlow`; refused while logged in.
pub async fn init(state: &AppState, req: InitRequest) -> Result<Flow, FlowError> {
    let return_to = lifecycle::check_return_to(state, req.return_to.as_deref())?;
    if req.session.is_some() {
        return Err(FlowError::AlreadyLoggedIn);
    }
    let mut flow = lifecycle::new_flow(
        state,
        FlowKind::Recovery,
        req.flow_type,
        req.request_url,
        return_to,
        req.csrf.as_ref(),
        choose_form(),
    );
    flow.active = Some("code".into());
    lifecycle::insert(state, flow).await
}

pub fn choose_form() -> UiContainer {
    let mut ui = UiContainer::new(String::new());
    ui.nodes.push(UiNode::csrf(""));
    ui.nodes.push(
        UiNode::input(GROUP_CODE, "email", "email")
            .required()
            .autocomplete("email")
            .label(text::email_label()),
    );
    ui.nodes
        .push(UiNode::submit(GROUP_CODE, "code", text::continue_label()));
    ui
}

fn sent_form(action: String, email: Option<&str>) -> UiContainer {
    let mut ui = UiContainer::new(action);
    ui.nodes.push(UiNode::csrf(""));
    let mut code = UiNode::input(GROUP_CODE, "code", "text")
        .required()
        .autocomplete("one-time-code")
        .label(text::recovery_code_label());
    if let Attributes::Input(a) = &mut code.attributes {
        a.pattern = Some("[0-9]+".into());
        a.maxlength = Some(6);
    }
    ui.nodes.push(code);
    ui.nodes
        .push(UiNode::input(GROUP_CODE, "method", "hidden").value("code"));
    ui.nodes
        .push(UiNode::submit(GROUP_CODE, "code", text::continue_label()));
    if let Some(email) = email {
        ui.nodes.push(
            UiNode::input(GROUP_CODE, "email", "submit")
                .value(email)
                .label(text::resend_code()),
        );
    }
    ui.messages.push(text::recovery_code_sent());
    ui
}

fn action(state: &AppState, id: Uuid) -> String {
    state
        .config
        .public_url(&format!("self-service/recovery?flow={id}"))
}

pub struct SubmitRequest {
    pub flow_id: Option<Uuid>,
    pub body: Map<String, Value>,
    pub who: Submitter,
    pub session: Option<(Session, Identity)>,
    pub client: Client,
}

/// What a recovery submit led to.
#[derive(Debug)]
pub enum Outcome {
    /// The flow shown again (code sent, wrong code, …): 200 / 303 to the form.
    Show(Box<Flow>),

    /// The right code: the user is logged in and sent to a settings flow.
    Recovered {
        flow: Box<Flow>,
        settings: Box<Flow>,
        session: Box<Session>,
        token: SessionToken,
    },
}

/// `updateRecoveryFlow`: `{email}` sends a code (again), `{code}` recovers.
pub async fn submit(state: &AppState, req: SubmitRequest) -> Result<Outcome, FlowError> {
    let mut flow =
        lifecycle::load_for_submit(state, req.flow_id, FlowKind::Recovery, &req.who).await?;
    flow.ui.clear_messages();
    let field = |k: &str| {
        req.body
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if field("method").is_some_and(|m| m != "code") {
        flow.ui
            .messages
            .push(text::no_strategy(text::RECOVERY_NO_STRATEGY));
        return Ok(Outcome::Show(Box::new(lifecycle::save(state, flow).await?)));
    }
    match (field("code"), field("email")) {
        (_, Some(email)) => {
            if req.session.is_some() {
                return Err(FlowError::AlreadyLoggedIn);
            }
            Ok(Outcome::Show(Box::new(send(state, flow, &email).await?)))
        }
        (Some(code), None) => recover(state, flow, code, &req.client).await,
        (None, None) => {
            flow.ui
                .add_message("email", text::missing_property("email"));
            Ok(Outcome::Show(Box::new(lifecycle::save(state, flow).await?)))
        }
    }
}

async fn send(state: &AppState, mut flow: Flow, email: &str) -> Result<Flow, FlowError> {
    let address = normalize_identifier(email);
    let lookup = address.clone();
    let owner = state
        .store
        .read(move |c| addresses::recovery_owner(c, "email", &lookup))
        .await?;
    let now = state.clock.now();
    let lifespan = state.config.code_lifespan;
    let (template, code, data): (_, Option<NewCode>, _) = match owner {
        Some(identity_id) => {
            let c = code::generate(
                &state.code_key,
                CodeTarget {
                    flow_id: flow.id,
                    kind: "recovery",
                    identity_id: Some(identity_id),
                    address: &address,
                    issued_by_admin: false,
                },
                now,
                lifespan,
            );
            let data = json!({"to": address, "code": c.plaintext, "expires_in_minutes": lifespan.whole_minutes()});
            (TemplateType::RecoveryCodeValid, Some(c), data)
        }
        None => (
            TemplateType::RecoveryCodeInvalid,
            None,
            json!({"to": address}),
        ),
    };
    let outgoing: Outgoing = state
        .courier
        .compose(template, &address, &data)
        .map_err(|e| FlowError::Store(StoreError::Corrupt(e.to_string())))?;
    // Same flow either way: the requester cannot tell whether the address exists.
    flow.state = "sent_email".into();
    flow.ui = sent_form(action(state, flow.id), Some(&address));
    code::reset_attempts(&mut flow);
    flow.updated_at = now;
    let stored = flow.clone();
    // Codes, mail and the flow: nothing a session check reads.
    let queued = state
        .store
        .write_unseen(move |tx| {
            codes::invalidate_for_flow(tx, stored.id, now)?;
            if let Some(c) = &code {
                codes::insert(tx, &c.stored)?;
            }
            let q = outgoing.write(tx, now)?;
            flows::update(tx, &stored)?;
            Ok::<_, StoreError>(q)
        })
        .await?;
    state.courier.queued(&[queued]);
    Ok(flow)
}

async fn recover(
    state: &AppState,
    mut flow: Flow,
    code: String,
    client: &Client,
) -> Result<Outcome, FlowError> {
    if flow.state == "passed_challenge" {
        flow.ui.messages.push(text::recovery_already_done());
        return Ok(Outcome::Show(Box::new(lifecycle::save(state, flow).await?)));
    }
    let now = state.clock.now();
    let token = SessionToken::generate();
    let digest = token.digest();
    let client = client.clone();
    let lifespan = state.config.session_lifespan;
    let privileged_until = now + state.config.privileged_session_max_age;
    let st = state.clone();
    // A wrong code changes only the flow and its codes; a right one, the
    // identity's address and sessions: only its cached checks go stale.
    let result = state
        .store
        .write_touching(move |tx| {
            let found = match code::check(&st.code_key, tx, &mut flow, "recovery", &code, now)? {
                CodeCheck::Valid(c) => c,
                other => {
                    flow.ui.messages.push(match other {
                        CodeCheck::TooManyAttempts => text::too_many_attempts(),
                        _ => text::recovery_code_invalid(),
                    });
                    flow.updated_at = now;
                    flows::update(tx, &flow)?;
                    return Ok::<_, FlowError>((Outcome::Show(Box::new(flow)), Touched::Nothing));
                }
            };
            let identity_id = found.identity_id.ok_or(FlowError::NotFound)?;
            let identity = identities::find(tx, identity_id)?.ok_or(FlowError::NotFound)?;
            if !identity.is_active() {
                flow.ui.messages.push(text::account_disabled());
                flows::update(tx, &flow)?;
                return Ok((Outcome::Show(Box::new(flow)), Touched::Nothing));
            }
            // Kratos: receiving the code proves the address (unless an admin issued it).
            if !found.issued_by_admin {
                addresses::set_verified(tx, identity_id, &found.via, &found.address, now)?;
            }
            let session = sessions::new_session(identity_id, "code_recovery", &client, now, lifespan);
            session_store::insert(tx, &session, &digest)?;
            let mut settings_flow = settings::new_flow(&st, &identity, flow.flow_type, flow.return_to.clone(), flow.csrf_digest.clone());
            settings_flow.ui.messages.push(text::recovery_successful(privileged_until, now));
            flows::insert(tx, &settings_flow)?;
            flow.state = "passed_challenge".into();
            flow.ui.messages.clear();
            flow.updated_at = now;
            flows::update(tx, &flow)?;
            // Native apps learn the token and the next flow from `continue_with`;
            // it is shown once and never stored (the row holds no token).
            let mut shown = flow.clone();
            if flow.flow_type == FlowType::Api {
                shown.set_internal("continue_with", json!([
                    {"action": "set_ory_session_token", "ory_session_token": token.expose()},
                    {"action": "show_settings_ui", "flow": {"id": settings_flow.id,
                        "url": format!("{}?flow={}", st.config.ui_page("settings"), settings_flow.id)}}
                ]));
            }
            let recovered = Outcome::Recovered {
                flow: Box::new(shown),
                settings: Box::new(settings_flow),
                session: Box::new(session),
                token: token.clone(),
            };
            Ok((recovered, Touched::Identity(identity_id)))
        })
        .await?;
    Ok(result)
}

/// `POST /admin/recovery/code` (Kratos `createRecoveryCodeForIdentity`): a flow
/// already waiting for a code, not bound to any browser, and its code.
pub async fn create_for_identity(
    state: &AppState,
    identity_id: Uuid,
    expires_in: Option<time::Duration>,
    flow_type: FlowType,
) -> Result<(Flow, String), FlowError> {
    let identity = state
        .store
        .read(move |c| identities::find(c, identity_id))
        .await?
        .ok_or(FlowError::NotFound)?;
    let now = state.clock.now();
    let lifespan = expires_in.unwrap_or(state.config.code_lifespan);
    let request_url = state
        .config
        .public_url(&format!("self-service/recovery/{}", flow_type.as_str()));
    let mut flow = lifecycle::new_flow(
        state,
        FlowKind::Recovery,
        flow_type,
        request_url,
        None,
        None,
        UiContainer::new(String::new()),
    );
    flow.state = "sent_email".into();
    flow.active = Some("code".into());
    flow.expires_at = now + lifespan;
    flow.set_internal("csrf_exempt", json!(true));
    flow.ui = sent_form(action(state, flow.id), None);
    flow.ui.messages.clear();
    let address = identity
        .recovery_addresses
        .first()
        .map(|a| a.value.clone())
        .unwrap_or_default();
    let c = code::generate(
        &state.code_key,
        CodeTarget {
            flow_id: flow.id,
            kind: "recovery",
            identity_id: Some(identity.id),
            address: &address,
            issued_by_admin: true,
        },
        now,
        lifespan,
    );
    let stored = flow.clone();
    let stored_code = c.stored.clone();
    state
        .store
        .write_unseen(move |tx| {
            flows::insert(tx, &stored)?;
            codes::insert(tx, &stored_code)
        })
        .await?;
    Ok((flow, c.plaintext))
}
