//! Email verification with a code (Kratos `selfservice/flow/verification`,
//! `strategy/code`): `choose_method` → `sent_email` → `passed_challenge`. An
//! unknown address gets the same answer as a known one; the mail differs.

use super::code::{self, CodeCheck, CodeTarget, NewCode};
use super::csrf::CsrfSecret;
use super::lifecycle::{self, Submitter};
use super::ui::{AnchorAttributes, Attributes, Meta, UiContainer, UiNode};
use super::{text, Flow, FlowError, FlowKind, FlowType};
use crate::courier::templates::TemplateType;
use crate::courier::{Outgoing, Queued};
use crate::identity::normalize_identifier;
use crate::state::AppState;
use crate::store::{addresses, codes, flows, Touched};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

const GROUP_CODE: &str = "code";

pub struct InitRequest {
    pub flow_type: FlowType,
    pub return_to: Option<String>,
    pub request_url: String,
    pub csrf: Option<CsrfSecret>,
}

/// `createBrowserVerificationFlow` / `createNativeVerificationFlow`.
pub async fn init(state: &AppState, req: InitRequest) -> Result<Flow, FlowError> {
    let return_to = lifecycle::check_return_to(state, req.return_to.as_deref())?;
    let mut flow = lifecycle::new_flow(
        state,
        FlowKind::Verification,
        req.flow_type,
        req.request_url,
        return_to,
        req.csrf.as_ref(),
        choose_form(req.flow_type),
    );
    flow.active = Some("code".into());
    lifecycle::insert(state, flow).await
}

/// Step one: the address to verify.
pub fn choose_form(flow_type: FlowType) -> UiContainer {
    let mut ui = UiContainer::new(String::new());
    if flow_type == FlowType::Browser {
        ui.nodes.push(UiNode::csrf(""));
    }
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

/// Step two: the code that was sent, and a button to send another.
fn sent_form(action: String, flow_type: FlowType, email: &str) -> UiContainer {
    let mut ui = UiContainer::new(action);
    if flow_type == FlowType::Browser {
        ui.nodes.push(UiNode::csrf(""));
    }
    let mut method = UiNode::input(GROUP_CODE, "method", "hidden").value("code");
    method.meta = Meta::default();
    ui.nodes.push(method);
    let mut code = UiNode::input(GROUP_CODE, "code", "text")
        .required()
        .autocomplete("one-time-code")
        .label(text::verification_code_label());
    if let Attributes::Input(a) = &mut code.attributes {
        a.pattern = Some("[0-9]+".into());
        a.maxlength = Some(6);
    }
    ui.nodes.push(code);
    ui.nodes
        .push(UiNode::submit(GROUP_CODE, "code", text::continue_label()));
    ui.nodes.push(
        UiNode::input(GROUP_CODE, "email", "submit")
            .value(email)
            .label(text::resend_code()),
    );
    ui.messages.push(text::verification_code_sent());
    ui
}

/// Everything needed to send a verification code, prepared outside the write
/// transaction and written inside it.
pub struct Sending {
    pub outgoing: Outgoing,
    pub code: Option<NewCode>,
    pub address: String,
}

impl Sending {
    /// Prepares the mail for `address`: a code when it is a known verifiable
    /// address (`owner`), the "invalid" mail otherwise.
    pub fn prepare(
        state: &AppState,
        flow_id: Uuid,
        address: &str,
        owner: Option<Uuid>,
    ) -> Result<Sending, FlowError> {
        let now = state.clock.now();
        let lifespan = state.config.code_lifespan;
        let (template, code, data) = match owner {
            Some(identity_id) => {
                let code = code::generate(
                    &state.code_key,
                    CodeTarget {
                        flow_id,
                        kind: "verification",
                        identity_id: Some(identity_id),
                        address,
                        issued_by_admin: false,
                    },
                    now,
                    lifespan,
                );
                let url = link(state, flow_id, &code.plaintext);
                let data = json!({"to": address, "code": code.plaintext, "verification_url": url,
                                  "expires_in_minutes": lifespan.whole_minutes()});
                (TemplateType::VerificationCodeValid, Some(code), data)
            }
            None => (
                TemplateType::VerificationCodeInvalid,
                None,
                json!({"to": address}),
            ),
        };
        let outgoing = state
            .courier
            .compose(template, address, &data)
            .map_err(|e| FlowError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
        Ok(Sending {
            outgoing,
            code,
            address: address.to_owned(),
        })
    }

    /// Whose cached session checks `write` may make stale: the address's
    /// owner, whose address it marks `sent`.
    pub fn touches(&self, identity_id: Option<Uuid>) -> Touched {
        match self
            .code
            .as_ref()
            .and_then(|c| identity_id.or(c.stored.identity_id))
        {
            Some(id) => Touched::Identity(id),
            None => Touched::Nothing,
        }
    }

    /// Writes the code, marks the address `sent` and queues the mail.
    pub fn write(
        &self,
        conn: &rusqlite::Connection,
        identity_id: Option<Uuid>,
        now: OffsetDateTime,
    ) -> Result<Queued, crate::store::StoreError> {
        if let Some(code) = &self.code {
            let mut stored = code.stored.clone();
            stored.identity_id = identity_id.or(stored.identity_id);
            codes::insert(conn, &stored)?;
            if let Some(id) = stored.identity_id {
                addresses::set_sent(conn, id, "email", &self.address, now)?;
            }
        }
        self.outgoing.write(conn, now)
    }
}

/// The link in the mail: opens the flow with the code filled in.
fn link(state: &AppState, flow_id: Uuid, code: &str) -> String {
    state.config.public_url(&format!(
        "self-service/verification?flow={flow_id}&code={code}"
    ))
}

/// A verification flow already in `sent_email`, created when an identity gets a
/// new address (registration, settings). The caller writes it and `Sending` in
/// its own transaction.
pub fn for_new_address(
    state: &AppState,
    flow_type: FlowType,
    csrf_digest: Option<String>,
    return_to: Option<String>,
    address: &str,
) -> Result<(Flow, Sending), FlowError> {
    let request_url = state
        .config
        .public_url(&format!("self-service/verification/{}", flow_type.as_str()));
    let mut flow = lifecycle::new_flow(
        state,
        FlowKind::Verification,
        flow_type,
        request_url,
        return_to,
        None,
        UiContainer::new(String::new()),
    );
    flow.csrf_digest = csrf_digest;
    flow.state = "sent_email".into();
    flow.active = Some("code".into());
    flow.ui = sent_form(action(state, flow.id), flow_type, address);
    // The owner is the identity being written; `Sending::write` gets its id.
    let sending = Sending::prepare(state, flow.id, address, Some(Uuid::nil()))?;
    Ok((flow, sending))
}

fn action(state: &AppState, id: Uuid) -> String {
    state
        .config
        .public_url(&format!("self-service/verification?flow={id}"))
}

/// `continue_with` item pointing a client at a verification flow.
pub fn continue_with(state: &AppState, flow: &Flow, address: &str) -> Value {
    json!({
        "action": "show_verification_ui",
        "flow": {"id": flow.id, "verifiable_address": address,
                 "url": format!("{}?flow={}", state.config.ui_page("verification"), flow.id)}
    })
}

pub struct SubmitRequest {
    pub flow_id: Option<Uuid>,
    pub body: Map<String, Value>,
    pub who: Submitter,
}

/// `updateVerificationFlow`: `{email}` sends a code, `{code}` verifies. The flow
/// comes back either way (200 / 303); only protocol errors are `Err`.
pub async fn submit(state: &AppState, mut req: SubmitRequest) -> Result<Flow, FlowError> {
    let field = |k: &str| {
        req.body
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (code, email) = (field("code"), field("email"));
    // Kratos: the code step is not CSRF-checked; the email step is.
    req.who.skip_csrf = code.is_some();
    let mut flow =
        lifecycle::load_for_submit(state, req.flow_id, FlowKind::Verification, &req.who).await?;
    flow.ui.clear_messages();
    match (code, email) {
        (Some(code), _) => verify(state, flow, code).await,
        (None, Some(email)) => send(state, flow, &email).await,
        (None, None) => {
            let method = field("method");
            if method.as_deref().is_some_and(|m| m != "code") {
                flow.ui
                    .messages
                    .push(text::no_strategy(text::VERIFICATION_NO_STRATEGY));
            } else {
                flow.ui
                    .add_message("email", text::missing_property("email"));
            }
            lifecycle::save(state, flow).await
        }
    }
}

async fn send(state: &AppState, mut flow: Flow, email: &str) -> Result<Flow, FlowError> {
    let address = normalize_identifier(email);
    let lookup = address.clone();
    let owner = state
        .store
        .read(move |c| addresses::verifiable_owner(c, "email", &lookup))
        .await?;
    let sending = Sending::prepare(state, flow.id, &address, owner)?;
    flow.state = "sent_email".into();
    flow.ui = sent_form(action(state, flow.id), flow.flow_type, &address);
    code::reset_attempts(&mut flow);
    flow.updated_at = state.clock.now();
    let now = flow.updated_at;
    let stored = flow.clone();
    let queued = state
        .store
        .write_touching(move |tx| {
            codes::invalidate_for_flow(tx, stored.id, now)?;
            let q = sending.write(tx, owner, now)?;
            flows::update(tx, &stored)?;
            Ok::<_, crate::store::StoreError>((q, sending.touches(owner)))
        })
        .await?;
    state.courier.queued(&[queued]);
    Ok(flow)
}

async fn verify(state: &AppState, mut flow: Flow, code: String) -> Result<Flow, FlowError> {
    if flow.state == "passed_challenge" {
        flow.ui.messages.push(text::verification_already_done());
        return lifecycle::save(state, flow).await;
    }
    let now = state.clock.now();
    let continue_to = flow
        .return_to
        .clone()
        .unwrap_or_else(|| state.config.default_return_url().to_string());
    let code_key = state.code_key.clone();
    state
        .store
        .write_touching(move |tx| {
            // Only a verified address changes what a session check reads.
            let mut touched = Touched::Nothing;
            match code::check(&code_key, tx, &mut flow, "verification", &code, now)? {
                CodeCheck::Valid(c) => {
                    if let Some(identity_id) = c.identity_id {
                        addresses::set_verified(tx, identity_id, &c.via, &c.address, now)?;
                        touched = Touched::Identity(identity_id);
                    }
                    flow.state = "passed_challenge".into();
                    flow.ui = passed_form(&continue_to);
                }
                CodeCheck::Invalid => flow.ui.messages.push(text::verification_code_invalid()),
                CodeCheck::TooManyAttempts => flow.ui.messages.push(text::too_many_attempts()),
            }
            flow.updated_at = now;
            flows::update(tx, &flow)?;
            Ok::<_, crate::store::StoreError>((flow, touched))
        })
        .await
        .map_err(FlowError::from)
}

/// After success: a GET "continue" link to where the user was going.
fn passed_form(continue_to: &str) -> UiContainer {
    let mut ui = UiContainer::new(continue_to.to_owned());
    ui.method = "GET".into();
    ui.nodes.push(UiNode {
        node_type: "a".into(),
        group: GROUP_CODE.into(),
        attributes: Attributes::A(AnchorAttributes {
            id: "continue".into(),
            href: continue_to.to_owned(),
            title: text::continue_label(),
        }),
        messages: Vec::new(),
        meta: Meta::default(),
    });
    ui.messages.push(text::address_verified());
    ui
}

/// The link in the mail (`GET /self-service/verification?flow=&code=`) opens the
/// form with the code in the UI's URL; the user still submits it (Kratos does not
/// verify on GET either, so mail scanners that follow links verify nothing). The
/// code is not written into the flow: the database never holds it in clear.
pub async fn link_target(
    state: &AppState,
    flow_id: Option<Uuid>,
    code: &str,
) -> Result<String, FlowError> {
    let id = flow_id.ok_or(FlowError::NotFound)?;
    let flow = state.store.find_flow(id)?;
    let flow = flow
        .filter(|f| f.kind == FlowKind::Verification)
        .ok_or(FlowError::NotFound)?;
    let digits: String = code.chars().filter(char::is_ascii_digit).take(6).collect();
    Ok(format!(
        "{}?flow={}&code={digits}",
        state.config.ui_page("verification"),
        flow.id
    ))
}
