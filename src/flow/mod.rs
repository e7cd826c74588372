//! Self-service flows: the shared machinery (model, JSON view, expiry, errors) and
//! one module per flow. Flows are plain Rust: no HTTP types; `api/` renders their
//! outcomes as redirects, flow JSON or errors.

pub mod code;
pub mod csrf;
pub mod lifecycle;
pub mod login;
pub mod logout;
pub mod recovery;
pub mod registration;
pub mod return_to;
pub mod settings;
pub mod text;
pub mod throttle;
pub mod ui;
pub mod verification;

use crate::identity::manage::IdentityError;
use crate::password::HashError;
use crate::session::Session;
use crate::store::StoreError;
use crate::timefmt;
use csrf::CsrfSecret;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use ui::UiContainer;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    Login,
    Registration,
    Settings,
    Recovery,
    Verification,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Login => "login",
            FlowKind::Registration => "registration",
            FlowKind::Settings => "settings",
            FlowKind::Recovery => "recovery",
            FlowKind::Verification => "verification",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "login" => Some(FlowKind::Login),
            "registration" => Some(FlowKind::Registration),
            "settings" => Some(FlowKind::Settings),
            "recovery" => Some(FlowKind::Recovery),
            "verification" => Some(FlowKind::Verification),
            _ => None,
        }
    }

    /// The state a new flow starts in.
    pub fn initial_state(self) -> &'static str {
        match self {
            FlowKind::Settings => "show_form",
            _ => "choose_method",
        }
    }

    /// Message id of "this flow expired" on its replacement.
    pub fn expired_message(self) -> u32 {
        match self {
            FlowKind::Login => text::LOGIN_EXPIRED,
            FlowKind::Registration => text::REGISTRATION_EXPIRED,
            FlowKind::Settings => text::SETTINGS_EXPIRED,
            FlowKind::Recovery => text::RECOVERY_EXPIRED,
            FlowKind::Verification => text::VERIFICATION_EXPIRED,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowType {
    /// Native apps: no cookies, no CSRF.
    Api,
    /// Browsers and SPAs: cookies and CSRF.
    Browser,
}

impl FlowType {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowType::Api => "api",
            FlowType::Browser => "browser",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api" => Some(FlowType::Api),
            "browser" => Some(FlowType::Browser),
            _ => None,
        }
    }
}

/// A stored self-service flow.
#[derive(Clone, Debug)]
pub struct Flow {
    pub id: Uuid,
    pub kind: FlowKind,
    pub flow_type: FlowType,
    pub state: String,
    pub request_url: String,
    pub return_to: Option<String>,
    pub active: Option<String>,
    pub ui: UiContainer,
    /// SHA-256 of the CSRF cookie secret of the browser that started the flow.
    pub csrf_digest: Option<String>,
    /// The identity a refresh login or a settings flow belongs to.
    pub identity_id: Option<Uuid>,
    pub refresh: bool,
    pub requested_aal: String,
    /// Flow-specific state not shown to clients (e.g. the two-step registration step).
    pub internal: Value,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Flow {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }

    /// Sets a key of the flow's internal state (an object).
    pub fn set_internal(&mut self, key: &str, value: Value) {
        if !self.internal.is_object() {
            self.internal = Value::Object(serde_json::Map::new());
        }
        if let Value::Object(map) = &mut self.internal {
            map.insert(key.to_owned(), value);
        }
    }

    pub fn is_browser(&self) -> bool {
        self.flow_type == FlowType::Browser
    }

    /// Whether a browser's CSRF cookie is the one this flow was created with.
    pub fn csrf_matches(&self, secret: Option<&CsrfSecret>) -> bool {
        match (self.flow_type, secret, &self.csrf_digest) {
            (FlowType::Api, _, _) => true,
            (FlowType::Browser, Some(s), Some(d)) => s.matches_digest(d),
            _ => false,
        }
    }
}

/// The flow as Kratos clients read it (`loginFlow`, `registrationFlow`).
#[derive(Serialize)]
pub struct FlowView<'a> {
    id: Uuid,
    #[serde(rename = "type")]
    flow_type: &'static str,
    #[serde(serialize_with = "timefmt::serialize")]
    expires_at: OffsetDateTime,
    #[serde(serialize_with = "timefmt::serialize")]
    issued_at: OffsetDateTime,
    request_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<&'a str>,
    ui: UiContainer,
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_aal: Option<&'a str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timefmt::option::serialize"
    )]
    created_at: Option<OffsetDateTime>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timefmt::option::serialize"
    )]
    updated_at: Option<OffsetDateTime>,
    /// Settings flows show the identity they change (public view).
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<crate::identity::view::IdentityView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    continue_with: Option<&'a Value>,
}

impl<'a> FlowView<'a> {
    /// A settings flow with the identity it belongs to.
    pub fn with_identity(
        mut self,
        identity: &'a crate::identity::Identity,
        public_base: &str,
    ) -> Self {
        self.identity = Some(crate::identity::view::IdentityView::new(
            identity,
            public_base,
            crate::identity::view::Visibility::Public,
        ));
        self
    }

    /// `csrf_value` is the masked token for this response (browser flows) or `""`.
    pub fn new(flow: &'a Flow, csrf_value: &str) -> Self {
        let mut ui = flow.ui.clone();
        ui.set_csrf(csrf_value);
        let login = flow.kind == FlowKind::Login;
        // Kratos emits `organization_id` on login, registration and settings flows.
        let has_org = matches!(
            flow.kind,
            FlowKind::Login | FlowKind::Registration | FlowKind::Settings
        );
        FlowView {
            id: flow.id,
            flow_type: flow.flow_type.as_str(),
            expires_at: flow.expires_at,
            issued_at: flow.issued_at,
            request_url: &flow.request_url,
            return_to: flow.return_to.as_deref(),
            active: flow.active.as_deref(),
            ui,
            state: &flow.state,
            organization_id: has_org.then_some(Value::Null),
            refresh: login.then_some(flow.refresh),
            requested_aal: login.then_some(flow.requested_aal.as_str()),
            created_at: login.then_some(flow.created_at),
            updated_at: login.then_some(flow.updated_at),
            identity: None,
            continue_with: flow.internal.get("continue_with").filter(|v| v.is_array()),
        }
    }
}

/// Why a flow request did not succeed. `api/respond.rs` renders each as Kratos does.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("the flow does not exist")]
    NotFound,
    #[error("the flow query parameter is missing or malformed")]
    MissingFlowId,
    /// Fetching an expired flow: 410 without a replacement.
    #[error("the flow expired")]
    Gone { flow: Box<Flow> },
    /// Submitting to an expired flow: a replacement flow carries the message.
    #[error("the flow expired")]
    Expired {
        expired_at: OffsetDateTime,
        replacement: Box<Flow>,
    },
    #[error("CSRF check failed: {0}")]
    Csrf(&'static str),
    /// The flow, with messages explaining what to fix (400 / 303 back to the form).
    #[error("the submission was not accepted")]
    Invalid(Box<Flow>),
    #[error("a session is already available")]
    AlreadyLoggedIn,
    #[error("the return_to URL is not allowed")]
    ReturnToForbidden,
    #[error("aal2 requested without a session")]
    Aal1Required,
    #[error("{0}")]
    BadRequest(String),
    #[error("no valid session")]
    NoSession,
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed logins for this identifier; retry after the lockout.
    #[error("too many failed attempts")]
    Throttled { retry_after_secs: i64 },

    /// The flow belongs to another identity than the session's.
    #[error("the flow belongs to another identity")]
    IdentityMismatch,
    /// A privileged (recent) login is needed; `return_to` resumes the flow.
    #[error("re-authentication required")]
    RefreshRequired { return_to: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// The session a successful login or registration leaves the client with.
#[derive(Debug)]
pub enum Issued {
    /// A new session; the client gets its token (or cookie).
    New {
        session: Session,
        token: crate::session::SessionToken,
    },
    /// A refresh login: the client's existing session, re-authenticated.
    Refreshed { session: Session },
    /// Registration without logging in (`--no-session-after-registration`).
    Nothing,
}

/// What a successful login or registration hands to the API layer.
#[derive(Debug)]
pub struct Authenticated {
    pub flow: Flow,
    pub identity: crate::identity::Identity,
    pub issued: Issued,
    pub return_to: String,
    /// `continue_with` items the flow adds (e.g. `show_verification_ui`).
    pub continue_with: Vec<Value>,
    /// A verification flow started for the new identity: plain browsers go there.
    pub verification_ui: Option<String>,
    /// The browser's new CSRF secret: Kratos rotates it whenever a session is
    /// issued to a browser, and flows created with the session are bound to it.
    pub csrf_rotation: Option<csrf::CsrfSecret>,
}
