//! The pages' handlers. Each page reads `?flow=<id>`, fetches the flow directly
//! (no HTTP round trip), and renders its `ui` container; without a usable flow it
//! starts a new one through the normal browser endpoint.

use super::view::{forms, MessageVm};
use crate::api::extract::RequestContext;
use crate::api::public::{current_session, flow_id};
use crate::api::respond;
use crate::flow::csrf::CsrfSecret;
use crate::flow::{lifecycle, logout, settings, Flow, FlowError, FlowKind};
use crate::session::manage as sessions;
use crate::state::AppState;
use crate::timefmt;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub flow: Option<String>,
    pub return_to: Option<String>,
    pub code: Option<String>,
    pub id: Option<String>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/ui",
        web::get().to(|s: web::Data<AppState>| async move {
            redirect(&s.config.public_url("ui/welcome"))
        }),
    )
    .route("/ui/style.css", web::get().to(style))
    .route("/ui/login", web::get().to(login_page))
    .route("/ui/registration", web::get().to(registration_page))
    .route("/ui/recovery", web::get().to(recovery_page))
    .route("/ui/verification", web::get().to(verification_page))
    .route("/ui/settings", web::get().to(settings_page))
    .route("/ui/welcome", web::get().to(welcome_page))
    .route("/ui/error", web::get().to(error_page))
    .route("/ui/sessions/revoke", web::post().to(revoke_session));
}

fn redirect(to: &str) -> HttpResponse {
    respond::see_other(to).finish()
}

/// The strict policy of every page: our stylesheet, forms to ourselves, nothing else.
fn html(state: &AppState, body: String) -> HttpResponse {
    let origin = state
        .config
        .public_base_url()
        .origin()
        .ascii_serialization();
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"),
        ))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn base_ctx(state: &AppState, title: &str) -> serde_json::Map<String, Value> {
    let mut ctx = serde_json::Map::new();
    ctx.insert("title".into(), json!(title));
    ctx.insert("brand".into(), json!("Postern"));
    ctx.insert(
        "css_url".into(),
        json!(state.config.public_url("ui/style.css")),
    );
    ctx
}

fn render(state: &AppState, template: &str, ctx: serde_json::Map<String, Value>) -> HttpResponse {
    match state.pages.render(template, Value::Object(ctx)) {
        Ok(body) => html(state, body),
        Err(e) => actix_web::ResponseError::error_response(&crate::error::ApiError::internal(
            anyhow::anyhow!("page {template}: {e}"),
        )),
    }
}

pub async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(super::STYLE)
}

/// Where to start a new flow of `kind` (keeps `return_to`).
fn init_url(state: &AppState, kind: FlowKind, return_to: Option<&str>) -> String {
    let mut url = url::Url::parse(
        &state
            .config
            .public_url(&format!("self-service/{}/browser", kind.as_str())),
    )
    .unwrap_or_else(|_| state.config.public_base_url().clone());
    if let Some(r) = return_to {
        url.query_pairs_mut().append_pair("return_to", r);
    }
    url.to_string()
}

fn page_url(state: &AppState, page: &str) -> String {
    state.config.public_url(&format!("ui/{page}"))
}

fn link(text: &str, href: String) -> Value {
    json!({"text": text, "href": href})
}

struct Copy {
    title: &'static str,
    lead: Option<&'static str>,
    links: Vec<Value>,
}

fn copy(state: &AppState, flow: &Flow) -> Copy {
    let p = |page| page_url(state, page);
    match flow.kind {
        FlowKind::Login if flow.refresh => Copy {
            title: "Confirm it's you",
            lead: None,
            links: vec![],
        },
        FlowKind::Login => Copy {
            title: "Sign in",
            lead: None,
            links: vec![
                link("Forgot password?", p("recovery")),
                link("Create account", p("registration")),
            ],
        },
        FlowKind::Registration => Copy {
            title: "Create your account",
            lead: None,
            links: vec![link("Already have an account? Sign in", p("login"))],
        },
        FlowKind::Recovery => Copy {
            title: "Recover your account",
            lead: Some("Enter your email address and we will send you a code."),
            links: vec![link("Sign in", p("login"))],
        },
        FlowKind::Verification => Copy {
            title: "Verify your email",
            lead: None,
            links: vec![
                link(
                    "Resend a code to another address",
                    init_url(state, FlowKind::Verification, None),
                ),
                link("Home", p("welcome")),
            ],
        },
        FlowKind::Settings => Copy {
            title: "Account settings",
            lead: None,
            links: vec![link("Home", p("welcome"))],
        },
    }
}

fn render_flow(
    state: &AppState,
    ctx: &RequestContext,
    flow: &Flow,
    code: Option<&str>,
) -> HttpResponse {
    let csrf = ctx
        .csrf
        .as_ref()
        .map(CsrfSecret::masked)
        .unwrap_or_default();
    let prefill: Vec<(&str, &str)> = code.map(|c| vec![("code", c)]).unwrap_or_default();
    let c = copy(state, flow);
    let mut page = base_ctx(state, c.title);
    page.insert("heading".into(), json!(c.title));
    page.insert("lead".into(), json!(c.lead));
    page.insert(
        "messages".into(),
        json!(flow
            .ui
            .messages
            .iter()
            .map(MessageVm::from)
            .collect::<Vec<_>>()),
    );
    let split = flow.kind == FlowKind::Settings;
    page.insert(
        "forms".into(),
        json!(forms(&flow.ui, &csrf, split, &prefill)),
    );
    page.insert("links".into(), json!(c.links));
    render(state, "flow.html", page)
}

async fn flow_page(
    state: &AppState,
    req: &HttpRequest,
    q: PageQuery,
    kind: FlowKind,
) -> HttpResponse {
    let ctx = RequestContext::from_request(req, state);
    let Some(id) = flow_id(q.flow.as_deref()) else {
        return redirect(&init_url(state, kind, q.return_to.as_deref()));
    };
    let result = match kind {
        FlowKind::Settings => match current_session(state, &ctx).await {
            Ok(session) => settings::fetch(state, Some(id), ctx.csrf.as_ref(), session)
                .await
                .map(|(f, _)| f),
            Err(e) => Err(e),
        },
        _ => lifecycle::fetch(state, Some(id), kind, ctx.csrf.as_ref()).await,
    };
    match result {
        Ok(flow) => render_flow(state, &ctx, &flow, q.code.as_deref()),
        // A stale or foreign link: start over rather than show an error.
        Err(FlowError::NotFound | FlowError::Gone { .. } | FlowError::Csrf(_)) => {
            redirect(&init_url(state, kind, q.return_to.as_deref()))
        }
        Err(FlowError::NoSession | FlowError::IdentityMismatch) => redirect(&init_url(
            state,
            FlowKind::Login,
            Some(&page_url(state, "settings")),
        )),
        Err(e) => respond::flow_error(state, &ctx, e).await,
    }
}

macro_rules! flow_page_handler {
    ($name:ident, $kind:expr) => {
        pub async fn $name(
            state: web::Data<AppState>,
            req: HttpRequest,
            q: web::Query<PageQuery>,
        ) -> HttpResponse {
            flow_page(&state, &req, q.into_inner(), $kind).await
        }
    };
}

flow_page_handler!(login_page, FlowKind::Login);
flow_page_handler!(registration_page, FlowKind::Registration);
flow_page_handler!(recovery_page, FlowKind::Recovery);
flow_page_handler!(verification_page, FlowKind::Verification);
flow_page_handler!(settings_page, FlowKind::Settings);

/// Who you are, your sessions (revocable), and a logout link.
pub async fn welcome_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    let Ok(Some((session, identity))) = current_session(&state, &ctx).await else {
        return redirect(&page_url(&state, "login"));
    };
    let Some(token) = ctx.session_token.as_ref() else {
        return redirect(&page_url(&state, "login"));
    };
    let (others, _) = sessions::list_others(&state, &session, 50, 0)
        .await
        .unwrap_or_default();
    let logout_url = logout::create_browser_flow(&state, Some(token), None)
        .await
        .map(|f| f.logout_url)
        .unwrap_or_default();
    let row = |s: &crate::session::Session, current: bool| {
        let d = s.devices.first();
        json!({"id": s.id, "current": current, "since": timefmt::rfc3339(s.authenticated_at),
               "ip": d.and_then(|d| d.ip_address.clone()).unwrap_or_default(),
               "user_agent": d.and_then(|d| d.user_agent.clone()).unwrap_or_else(|| "unknown".into())})
    };
    let mut rows = vec![row(&session, true)];
    rows.extend(others.iter().map(|s| row(s, false)));
    let email = identity
        .verifiable_addresses
        .first()
        .map(|a| a.value.clone())
        .unwrap_or_default();
    let verified = identity
        .verifiable_addresses
        .first()
        .is_some_and(|a| a.verified);
    let (csrf, is_new) = respond::ensure_csrf(&ctx);
    let mut page = base_ctx(&state, "Welcome");
    page.insert(
        "name".into(),
        identity
            .traits
            .pointer("/name/first")
            .cloned()
            .unwrap_or(Value::Null),
    );
    page.insert("email".into(), json!(email));
    page.insert("verified".into(), json!(verified));
    page.insert("identity_id".into(), json!(identity.id));
    page.insert(
        "authenticated_at".into(),
        json!(timefmt::rfc3339(session.authenticated_at)),
    );
    page.insert(
        "expires_at".into(),
        json!(timefmt::rfc3339(session.expires_at)),
    );
    page.insert("sessions".into(), json!(rows));
    page.insert("csrf_token".into(), json!(csrf.masked()));
    page.insert(
        "revoke_url".into(),
        json!(page_url(&state, "sessions/revoke")),
    );
    page.insert("settings_url".into(), json!(page_url(&state, "settings")));
    page.insert(
        "verification_url".into(),
        json!(page_url(&state, "verification")),
    );
    page.insert("logout_url".into(), json!(logout_url));
    let mut resp = render(&state, "welcome.html", page);
    if is_new {
        let _ = resp.add_cookie(&respond::csrf_cookie(&state, &csrf));
    }
    resp
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    pub csrf_token: String,
    pub session_id: String,
}

/// The welcome page's "Revoke" button (a plain form, CSRF-checked).
pub async fn revoke_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<RevokeForm>,
) -> HttpResponse {
    let ctx = RequestContext::from_request(&req, &state);
    if !ctx
        .csrf
        .as_ref()
        .is_some_and(|s| s.matches_masked(&form.csrf_token))
    {
        return respond::flow_error(
            &state,
            &ctx,
            FlowError::Csrf("the form's csrf_token does not match the CSRF cookie"),
        )
        .await;
    }
    let Ok(Some((session, _))) = current_session(&state, &ctx).await else {
        return redirect(&page_url(&state, "login"));
    };
    if let Ok(id) = uuid::Uuid::parse_str(&form.session_id) {
        if id != session.id {
            let _ = sessions::revoke_own(&state, session.identity_id, id).await;
        }
    }
    redirect(&page_url(&state, "welcome"))
}

/// Errors stored for browsers (`/self-service/errors?id=`), shown as a page.
pub async fn error_page(state: web::Data<AppState>, q: web::Query<PageQuery>) -> HttpResponse {
    let id = q.id.as_deref().and_then(|i| uuid::Uuid::parse_str(i).ok());
    let now = state.clock.now();
    let stored = match id {
        Some(id) => state
            .store
            .write_unseen(move |tx| crate::store::errors::take(tx, id, now))
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let (reason, code, error_id) = match &stored {
        Some(e) => (
            e.error
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("Something went wrong.")
                .to_owned(),
            e.error.get("code").cloned().unwrap_or(Value::Null),
            e.error.get("id").cloned().unwrap_or(Value::Null),
        ),
        None => (
            "This error no longer exists. Please start again.".to_owned(),
            Value::Null,
            Value::Null,
        ),
    };
    let heading = match error_id.as_str() {
        Some("security_csrf_violation") => "This form expired",
        Some("self_service_flow_return_to_forbidden") => "That link is not allowed",
        _ => "Something went wrong",
    };
    let mut page = base_ctx(&state, heading);
    page.insert("heading".into(), json!(heading));
    page.insert("reason".into(), json!(reason));
    page.insert("code".into(), code);
    page.insert("error_id".into(), error_id);
    page.insert("login_url".into(), json!(page_url(&state, "login")));
    page.insert("home_url".into(), json!(page_url(&state, "welcome")));
    render(&state, "error.html", page)
}

/// `--dev` only, on the admin listener: the courier outbox as a page.
pub async fn dev_outbox(state: web::Data<AppState>) -> HttpResponse {
    let messages = state
        .store
        .read(|c| crate::store::courier::list(c, None, None, i64::MAX, 100))
        .await
        .unwrap_or_default();
    let rows: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({"recipient": m.recipient, "subject": m.subject, "status": m.status,
                   "created_at": timefmt::rfc3339(m.created_at),
                   "body": state.courier.open(m).map(|o| o.body).unwrap_or_default()})
        })
        .collect();
    let mut page = base_ctx(&state, "Outbox");
    page.insert("css_url".into(), json!("/dev/style.css"));
    page.insert("messages".into(), json!(rows));
    render(&state, "outbox.html", page)
}
