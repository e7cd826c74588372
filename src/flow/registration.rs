//! The registration flow with the password method (Kratos
//! `selfservice/flow/registration`, `strategy/password/registration.go`), one-step
//! by default or Kratos's two-step `profile_first`. A successful registration
//! writes the identity, its session and the flow in one transaction.

use super::csrf::CsrfSecret;
use super::lifecycle::{self, Submitter};
use super::ui::{UiContainer, UiNode, GROUP_DEFAULT, GROUP_PASSWORD, GROUP_PROFILE};
use super::{text, verification, Authenticated, Flow, FlowError, FlowKind, FlowType, Issued};
use crate::config::RegistrationStyle;
use crate::identity::manage::{self, IdentityError, IdentityInput, PasswordInput};
use crate::identity::schema::{trait_value, IdentitySchema, Violation, ViolationKind};
use crate::identity::Identity;
use crate::password::policy::{self, PolicyViolation};
use crate::password::Password;
use crate::session::{manage as sessions, Client, Session, SessionToken};
use crate::state::AppState;
use crate::store::{flows, sessions as session_store};
use serde_json::{json, Map, Value};
use uuid::Uuid;

pub struct InitRequest {
    pub flow_type: FlowType,
    pub return_to: Option<String>,
    pub request_url: String,
    pub csrf: Option<CsrfSecret>,
    pub session: Option<(Session, Identity)>,
}

/// Creates a registration flow; refused while logged in.
pub async fn init(state: &AppState, req: InitRequest) -> Result<Flow, FlowError> {
    let return_to = lifecycle::check_return_to(state, req.return_to.as_deref())?;
    if req.session.is_some() {
        return Err(FlowError::AlreadyLoggedIn);
    }
    let flow = lifecycle::new_flow(
        state,
        FlowKind::Registration,
        req.flow_type,
        req.request_url,
        return_to,
        req.csrf.as_ref(),
        form(state),
    );
    lifecycle::insert(state, flow).await
}

/// The first (or only) registration form, per `--registration-style`.
pub fn form(state: &AppState) -> UiContainer {
    let schema = state.schemas.default_schema();
    let mut ui = UiContainer::new(String::new());
    ui.nodes.push(UiNode::csrf(""));
    let traits = schema
        .fields
        .iter()
        .map(|f| UiNode::from_trait(GROUP_DEFAULT, f));
    match state.config.registration_style {
        RegistrationStyle::OneStep => {
            // Kratos orders: csrf_token, first trait, password, other traits, method.
            for (i, node) in traits.enumerate() {
                ui.nodes.push(node);
                if i == 0 {
                    ui.nodes.push(password_node());
                }
            }
            if schema.fields.is_empty() {
                ui.nodes.push(password_node());
            }
            ui.nodes
                .push(UiNode::submit(GROUP_PASSWORD, "password", text::sign_up()));
        }
        RegistrationStyle::ProfileFirst => {
            ui.nodes.extend(traits);
            ui.nodes
                .push(UiNode::submit(GROUP_PROFILE, "profile", text::sign_up()));
        }
    }
    ui
}

fn password_node() -> UiNode {
    UiNode::input(GROUP_PASSWORD, "password", "password")
        .required()
        .autocomplete("new-password")
        .label(text::password_label())
}

/// Step two of `profile_first`: traits fixed as hidden inputs, then the password.
fn credentials_form(schema: &IdentitySchema, traits: &Value, action: String) -> UiContainer {
    let mut ui = UiContainer::new(action);
    ui.nodes.push(UiNode::csrf(""));
    for field in &schema.fields {
        let mut node = UiNode::from_trait(GROUP_DEFAULT, field);
        node.set_input_type("hidden");
        node.set_value(trait_value(traits, &field.path).cloned());
        ui.nodes.push(node);
    }
    ui.nodes.push(password_node());
    ui.nodes
        .push(UiNode::submit(GROUP_PASSWORD, "password", text::sign_up()));
    ui.nodes.push(
        UiNode::input(GROUP_PROFILE, "screen", "submit")
            .value("previous")
            .label(text::back()),
    );
    ui.messages.push(text::choose_credentials());
    ui
}

pub struct SubmitRequest {
    pub flow_id: Option<Uuid>,
    pub body: Map<String, Value>,
    /// The body was a form: trait values arrive as strings.
    pub is_form: bool,
    pub who: Submitter,
    pub session: Option<(Session, Identity)>,
    pub client: Client,
}

/// `updateRegistrationFlow`.
pub async fn submit(state: &AppState, req: SubmitRequest) -> Result<Authenticated, FlowError> {
    let mut flow =
        lifecycle::load_for_submit(state, req.flow_id, FlowKind::Registration, &req.who).await?;
    if req.session.is_some() {
        return Err(FlowError::AlreadyLoggedIn);
    }
    let schema = state.schemas.default_schema().clone();
    let mut traits = req.body.get("traits").cloned().unwrap_or_else(|| json!({}));
    if req.is_form {
        schema.coerce_form_traits(&mut traits);
    }
    let field = |k: &str| {
        req.body
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match field("method").as_str() {
        "password" => register(state, flow, &schema, traits, &field("password"), req.client).await,
        "profile" if field("screen") == "previous" => {
            flow.ui = form(state);
            flow.ui.action = action(state, flow.id);
            show_values(&mut flow, &schema, &traits);
            reject(state, flow).await
        }
        "profile" => {
            flow.ui.clear_messages();
            show_values(&mut flow, &schema, &traits);
            if let Err(violations) = schema.validate(&traits) {
                add_violations(&mut flow, &violations);
                return reject(state, flow).await;
            }
            // Kratos answers the profile step with the flow (400 / 303), not success.
            flow.ui = credentials_form(&schema, &traits, action(state, flow.id));
            flow.active = Some("profile".into());
            reject(state, flow).await
        }
        _ => {
            flow.ui.clear_messages();
            show_values(&mut flow, &schema, &traits);
            flow.ui
                .messages
                .push(text::no_strategy(text::REGISTRATION_NO_STRATEGY));
            reject(state, flow).await
        }
    }
}

fn action(state: &AppState, id: Uuid) -> String {
    state
        .config
        .public_url(&format!("self-service/registration?flow={id}"))
}

async fn register(
    state: &AppState,
    mut flow: Flow,
    schema: &IdentitySchema,
    traits: Value,
    password: &str,
    client: Client,
) -> Result<Authenticated, FlowError> {
    flow.ui.clear_messages();
    show_values(&mut flow, schema, &traits);
    let mut ok = true;
    if let Err(violations) = schema.validate(&traits) {
        add_violations(&mut flow, &violations);
        ok = false;
    }
    let identifiers = schema.derive(&traits).password_identifiers;
    if password.is_empty() {
        flow.ui
            .add_message("password", text::missing_property("password"));
        ok = false;
    } else if let Err(v) = policy::check(password, &identifiers) {
        flow.ui.add_message("password", policy_message(&v));
        ok = false;
    }
    if ok && identifiers.is_empty() {
        flow.ui.messages.push(text::no_identifier());
        ok = false;
    }
    if !ok {
        return reject(state, flow).await;
    }

    flow.active = Some("password".into());
    flow.updated_at = state.clock.now();
    let input = IdentityInput {
        schema_id: Some(schema.id.clone()),
        traits,
        password: Some(PasswordInput::Plain(Password::new(password))),
        ..IdentityInput::default()
    };
    let session = state.config.session_after_registration.then(|| {
        let token = SessionToken::generate();
        let s = sessions::new_session(
            Uuid::nil(),
            "password",
            &client,
            state.clock.now(),
            state.config.session_lifespan,
        );
        (s, token)
    });
    // The first verifiable address gets a verification flow and a code, written
    // with the identity (Kratos's verification hook + `show_verification_ui`).
    let csrf_rotation = (flow.is_browser() && session.is_some()).then(CsrfSecret::generate);
    let verification_csrf = csrf_rotation
        .as_ref()
        .map(CsrfSecret::digest)
        .or_else(|| flow.csrf_digest.clone());
    let verification = schema
        .derive(&input.traits)
        .verifiable
        .first()
        .map(|(_, address)| {
            verification::for_new_address(
                state,
                flow.flow_type,
                verification_csrf.clone(),
                flow.return_to.clone(),
                address,
            )
        })
        .transpose()?;
    let continue_with: Vec<Value> = verification
        .iter()
        .map(|(vflow, sending)| verification::continue_with(state, vflow, &sending.address))
        .collect();
    let verification_ui = verification
        .as_ref()
        .map(|(vflow, _)| format!("{}?flow={}", state.config.ui_page("verification"), vflow.id));
    let stored_flow = flow.clone();
    let to_store = session.as_ref().map(|(s, t)| (s.clone(), t.digest()));
    let now = state.clock.now();
    let created = manage::create_with(state, input, move |tx, identity| {
        flows::update(tx, &stored_flow)?;
        let queued = match &verification {
            Some((vflow, sending)) => {
                flows::insert(tx, vflow)?;
                Some(sending.write(tx, Some(identity.id), now)?)
            }
            None => None,
        };
        let session = match to_store {
            Some((mut s, digest)) => {
                s.identity_id = identity.id;
                session_store::insert(tx, &s, &digest)?;
                Some(s)
            }
            None => None,
        };
        Ok((session, queued))
    })
    .await;
    let (identity, (stored_session, queued)) = match created {
        Ok(done) => done,
        Err(IdentityError::Conflict(_)) => {
            flow.ui.messages.push(text::duplicate_identifier());
            return reject(state, flow).await;
        }
        Err(IdentityError::Invalid(violations)) => {
            add_violations(&mut flow, &violations);
            return reject(state, flow).await;
        }
        Err(e) => return Err(e.into()),
    };
    state
        .courier
        .queued(&queued.into_iter().collect::<Vec<_>>());
    let issued = match (stored_session, session) {
        (Some(session), Some((_, token))) => Issued::New { session, token },
        _ => Issued::Nothing,
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
        continue_with,
        verification_ui,
        csrf_rotation,
    })
}

async fn reject(state: &AppState, flow: Flow) -> Result<Authenticated, FlowError> {
    let flow = lifecycle::save(state, flow).await?;
    Err(FlowError::Invalid(Box::new(flow)))
}

/// Puts the submitted trait values back into the form (never the password).
fn show_values(flow: &mut Flow, schema: &IdentitySchema, traits: &Value) {
    for field in &schema.fields {
        if let Some(node) = flow.ui.node_mut(&field.name) {
            node.set_value(trait_value(traits, &field.path).cloned());
        }
    }
}

fn add_violations(flow: &mut Flow, violations: &[Violation]) {
    for v in violations {
        flow.ui.add_message(&v.field, violation_message(v));
    }
}

/// Kratos's `translateValidationError`: schema keyword → message id.
pub fn violation_message(v: &Violation) -> text::UiText {
    match &v.kind {
        ViolationKind::Missing { property } => text::missing_property(property),
        ViolationKind::Format { format, value } if format == "email" => text::invalid_email(value),
        ViolationKind::MinLength { min, actual } => text::too_short(*min, *actual),
        ViolationKind::MaxLength { max, actual } => text::too_long(*max, *actual),
        ViolationKind::Pattern { pattern } => text::pattern_mismatch(pattern),
        ViolationKind::Type { expected, actual } => text::wrong_type(expected, actual),
        ViolationKind::Format { .. } | ViolationKind::Other => text::generic(&v.message),
    }
}

pub fn policy_message(v: &PolicyViolation) -> text::UiText {
    match v {
        PolicyViolation::TooShort { min, actual } => text::password_too_short(*min, *actual),
        PolicyViolation::TooLong { max, actual } => text::password_too_long(*max, *actual),
        PolicyViolation::TooSimilar => text::password_too_similar(),
        PolicyViolation::Breached => text::password_breached(),
    }
}
