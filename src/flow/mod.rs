//! Self-service flows: the shared machinery (model, JSON view, expiry, errors) and
//! one module per flow. Flows are plain Rust: no HTTP types; `api/` renders their
//! outcomes as redirects, flow JSON or errors.

pub mod csrf;
pub mod lifecycle;
pub mod login;
pub mod logout;
pub mod registration;
pub mod return_to;
pub mod text;
pub mod ui;

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
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Login => "login",
            FlowKind::Registration => "registration",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "login" => Some(FlowKind::Login),
            "registration" => Some(FlowKind::Registration),
            _ => None,
        }
    }

    /// Message id of "this flow expired" on its replacement.
    pub fn expired_message(self) -> u32 {
        match self {
            FlowKind::Login => text::LOGIN_EXPIRED,
            FlowKind::Registration => text::REGISTRATION_EXPIRED,
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
    organization_id: Option<Uuid>,
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
}

impl<'a> FlowView<'a> {
    /// `csrf_value` is the masked token for this response (browser flows) or `""`.
    pub fn new(flow: &'a Flow, csrf_value: &str) -> Self {
        let mut ui = flow.ui.clone();
        ui.set_csrf(csrf_value);
        let login = flow.kind == FlowKind::Login;
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
            organization_id: None,
            refresh: login.then_some(flow.refresh),
            requested_aal: login.then_some(flow.requested_aal.as_str()),
            created_at: login.then_some(flow.created_at),
            updated_at: login.then_some(flow.updated_at),
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
}
