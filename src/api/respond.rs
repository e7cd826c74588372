//! Turning flow outcomes into HTTP the way Kratos does: 303 redirects for plain
//! browsers, flow JSON (400 on validation errors) for SPAs and native apps, the
//! error envelope otherwise; plus the session and CSRF cookies.

use super::extract::{RequestContext, SESSION_COOKIE};
use crate::config::SameSite as SameSiteFlag;
use crate::error::{ApiError, ErrorId};
use crate::flow::csrf::CsrfSecret;
use crate::flow::lifecycle;
use crate::flow::{Flow, FlowError, FlowType, FlowView};
use crate::state::AppState;
use crate::timefmt;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, HttpResponseBuilder};
use time::OffsetDateTime;

/// The CSRF secret for this response: the browser's, or a new one to set.
pub fn ensure_csrf(ctx: &RequestContext) -> (CsrfSecret, bool) {
    match &ctx.csrf {
        Some(s) => (s.clone(), false),
        None => (CsrfSecret::generate(), true),
    }
}

fn same_site(flag: SameSiteFlag) -> SameSite {
    match flag {
        SameSiteFlag::Lax => SameSite::Lax,
        SameSiteFlag::Strict => SameSite::Strict,
        SameSiteFlag::None => SameSite::None,
    }
}

fn base_cookie(state: &AppState, name: String, value: String) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_path("/");
    c.set_secure(state.config.cookies_secure());
    if let Some(domain) = &state.config.cookie_domain {
        c.set_domain(domain.clone());
    }
    c
}

pub fn csrf_cookie(state: &AppState, secret: &CsrfSecret) -> Cookie<'static> {
    let name = state.config.csrf_cookie_name().to_owned();
    let mut c = base_cookie(state, name, secret.cookie_value());
    // nosurf: SameSite as configured, but Lax when the cookie cannot be Secure.
    let flag = if state.config.cookies_secure() {
        same_site(state.config.cookie_same_site)
    } else {
        SameSite::Lax
    };
    c.set_same_site(flag);
    c.set_max_age(CookieDuration::days(365));
    c
}

pub fn session_cookie(
    state: &AppState,
    token: &str,
    expires_at: OffsetDateTime,
) -> Cookie<'static> {
    let mut c = base_cookie(state, SESSION_COOKIE.into(), token.to_owned());
    c.set_same_site(same_site(state.config.cookie_same_site));
    let remaining = (expires_at - state.clock.now()).whole_seconds().max(0);
    c.set_max_age(CookieDuration::seconds(remaining));
    c
}

pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = base_cookie(state, SESSION_COOKIE.into(), String::new());
    c.set_same_site(same_site(state.config.cookie_same_site));
    c.make_removal();
    c
}

pub fn see_other(location: &str) -> HttpResponseBuilder {
    let mut b = HttpResponse::SeeOther();
    b.insert_header((header::LOCATION, location.to_owned()));
    b
}

/// `<ui-url>/<kind>?flow=<id>`.
pub fn flow_ui_url(state: &AppState, flow: &Flow) -> String {
    format!(
        "{}?flow={}",
        state.config.ui_page(flow.kind.as_str()),
        flow.id
    )
}

/// The flow JSON, with a fresh masked CSRF token for browser flows.
pub fn flow_json(
    ctx: &RequestContext,
    flow: &Flow,
    status: StatusCode,
    csrf: Option<&CsrfSecret>,
) -> HttpResponse {
    let masked = match (flow.flow_type, csrf.or(ctx.csrf.as_ref())) {
        (FlowType::Browser, Some(s)) => s.masked(),
        _ => String::new(),
    };
    HttpResponse::build(status).json(FlowView::new(flow, &masked))
}

/// Answers a browser-flow init: 303 to the UI, or the flow JSON for SPAs; sets
/// the CSRF cookie when the browser had none.
pub async fn browser_init(
    state: &AppState,
    ctx: &RequestContext,
    result: Result<Flow, FlowError>,
    csrf: CsrfSecret,
    csrf_is_new: bool,
) -> HttpResponse {
    let mut resp = match result {
        Ok(flow) if ctx.accepts_json => flow_json(ctx, &flow, StatusCode::OK, Some(&csrf)),
        Ok(flow) => see_other(&flow_ui_url(state, &flow)).finish(),
        Err(FlowError::AlreadyLoggedIn) if !ctx.wants_json => {
            see_other(state.config.default_return_url().as_str()).finish()
        }
        Err(e) => return flow_error(state, ctx, e).await,
    };
    if csrf_is_new {
        let _ = resp.add_cookie(&csrf_cookie(state, &csrf));
    }
    resp
}

/// Renders a flow failure as Kratos does for this kind of client.
pub async fn flow_error(state: &AppState, ctx: &RequestContext, err: FlowError) -> HttpResponse {
    let html = !ctx.wants_json;
    match err {
        FlowError::Invalid(flow) if html && flow.is_browser() => {
            see_other(&flow_ui_url(state, &flow)).finish()
        }
        FlowError::Invalid(flow) => flow_json(ctx, &flow, StatusCode::BAD_REQUEST, None),
        FlowError::Expired { replacement, .. } if html && replacement.is_browser() => {
            see_other(&flow_ui_url(state, &replacement)).finish()
        }
        FlowError::RefreshRequired { return_to } if html => {
            see_other(&refresh_login_url(state, &return_to)).finish()
        }
        FlowError::AlreadyLoggedIn if html => {
            see_other(state.config.default_return_url().as_str()).finish()
        }
        other => {
            let api = to_api_error(state, other);
            if html {
                if let Ok(id) = lifecycle::record_error(state, api.body()).await {
                    let url = format!("{}?id={id}", state.config.ui_page("error"));
                    return see_other(&url).finish();
                }
            }
            actix_web::ResponseError::error_response(&api)
        }
    }
}

/// The error envelope for a flow failure (JSON clients, and the error page).
pub fn to_api_error(state: &AppState, err: FlowError) -> ApiError {
    let now = state.clock.now();
    match err {
        FlowError::NotFound => ApiError::not_found("The requested flow could not be found."),
        FlowError::MissingFlowId => {
            ApiError::bad_request("The flow query parameter is missing or malformed.")
        }
        FlowError::Gone { flow } => {
            let mut e = expired(flow.expires_at, now);
            let init = format!("self-service/{}/{}", flow.kind.as_str(), flow.flow_type.as_str());
            e = match flow.flow_type {
                FlowType::Browser => e.with_detail("redirect_to", state.config.public_url(&init)),
                FlowType::Api => e.with_detail("api", state.config.public_url(&init)),
            };
            match flow.return_to {
                Some(r) => e.with_detail("return_to", r),
                None => e,
            }
        }
        FlowError::Expired { expired_at, replacement } => expired(expired_at, now)
            .with_sibling("expired_at", timefmt::rfc3339(expired_at))
            .with_sibling(
                "since",
                i64::try_from((now - expired_at).whole_nanoseconds()).unwrap_or(i64::MAX),
            )
            .with_sibling("use_flow_id", replacement.id.to_string()),
        FlowError::Csrf(reject_reason) => ApiError::forbidden(
            "Please retry the flow and optionally clear your cookies. The request was rejected to protect you from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal information, and other serious security issues.",
        )
        .with_id(ErrorId::SecurityCsrfViolation)
        .with_detail("reject_reason", reject_reason)
        .with_detail(
            "hint",
            "Browser flows need the CSRF cookie set when the flow was created and the flow's csrf_token sent back in the body. SPAs must send requests with credentials included; server-side apps must forward the Cookie header.",
        ),
        FlowError::AlreadyLoggedIn => {
            ApiError::bad_request("A valid session was detected and thus this flow is not possible.")
                .with_id(ErrorId::SessionAlreadyAvailable)
        }
        FlowError::ReturnToForbidden => ApiError::bad_request(
            "Requested return_to URL is not allowed; add it with --allowed-return-url.",
        )
        .with_id(ErrorId::SelfServiceFlowReturnToForbidden),
        FlowError::Aal1Required => ApiError::unauthorized(
            "You can not requested a higher AAL (AAL2/AAL3) without an active session.",
        )
        .with_id(ErrorId::SessionAal1Required),
        FlowError::BadRequest(r) => ApiError::bad_request(r),
        // Normally rendered as the flow itself; as an error, its messages.
        FlowError::Invalid(flow) => ApiError::bad_request(
            flow.ui
                .messages
                .iter()
                .map(|m| m.text.clone())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        FlowError::NoSession => ApiError::unauthorized("No active session was found in this request.")
            .with_id(ErrorId::SessionInactive),
        FlowError::Forbidden(r) => ApiError::forbidden(r),
        FlowError::Throttled { retry_after_secs } => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed login attempts for this account; retry in {retry_after_secs} seconds."),
        )
        .with_id(ErrorId::RateLimitExceeded)
        .with_retry_after(retry_after_secs),

        FlowError::IdentityMismatch => ApiError::forbidden("The requested flow does not belong to this user.")
            .with_id(ErrorId::SecurityIdentityMismatch),
        FlowError::RefreshRequired { return_to } => {
            let url = refresh_login_url(state, &return_to);
            ApiError::forbidden("The login session is too old and thus not allowed to update these fields. Please re-authenticate.")
                .with_id(ErrorId::SessionRefreshRequired)
                .with_sibling("redirect_browser_to", url.clone())
                .with_detail("redirect_browser_to", url)
        }
        FlowError::Store(e) => e.into(),
        FlowError::Hash(e) => e.into(),
        FlowError::Identity(e) => e.into(),
    }
}

/// `<public>/self-service/login/browser?refresh=true&return_to=…`.
pub fn refresh_login_url(state: &AppState, return_to: &str) -> String {
    let mut url = url::Url::parse(&state.config.public_url("self-service/login/browser"))
        .unwrap_or_else(|_| state.config.public_base_url().clone());
    url.query_pairs_mut()
        .append_pair("refresh", "true")
        .append_pair("return_to", return_to);
    url.to_string()
}

fn expired(expired_at: OffsetDateTime, now: OffsetDateTime) -> ApiError {
    let minutes = (now - expired_at).whole_minutes().max(0);
    ApiError::new(
        StatusCode::GONE,
        format!("The self-service flow expired {minutes} minutes ago, initialize a new one."),
    )
    .with_id(ErrorId::SelfServiceFlowExpired)
    .with_message("self-service flow expired")
}

/// The body of a successful login or registration (the spec's
/// `successfulNativeLogin` / `successfulNativeRegistration`, or the browser's
/// JSON answer), serialized straight from the views: building a
/// `serde_json::Value` first cost the HTTP thread twice as much.
#[derive(serde::Serialize)]
struct AuthenticatedBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<crate::session::SessionView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<crate::identity::view::IdentityView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
    /// `null` when there is nothing to continue with (Kratos's API flows).
    continue_with: Option<Vec<serde_json::Value>>,
}

/// A successful login or registration: cookie + 303 for browsers, JSON for SPAs
/// (`continue_with: redirect_browser_to`) and native apps (`session_token`).
pub fn authenticated(
    state: &AppState,
    ctx: &RequestContext,
    auth: crate::flow::Authenticated,
    registration: bool,
) -> HttpResponse {
    use crate::flow::Issued;
    use crate::identity::view::{IdentityView, Visibility};
    use crate::session::SessionView;
    use serde_json::json;

    let now = state.clock.now();
    let base = state.config.public_base();
    let (session, token) = match &auth.issued {
        Issued::New { session, token } => (Some(session), Some(token.expose().to_owned())),
        Issued::Refreshed { session } => (
            Some(session),
            ctx.session_token.as_ref().map(|t| t.expose().to_owned()),
        ),
        Issued::Nothing => (None, None),
    };
    let mut body = AuthenticatedBody {
        session: session.map(|s| SessionView::new(s, Some(&auth.identity), base, now)),
        identity: registration.then(|| IdentityView::new(&auth.identity, base, Visibility::Public)),
        session_token: None,
        continue_with: None,
    };
    if auth.flow.flow_type == FlowType::Api {
        // Kratos: registration's session hook adds `set_ory_session_token`; a login
        // without other items answers `continue_with: null`.
        let mut items = Vec::new();
        if let Some(t) = &token {
            body.session_token = Some(t);
            if registration {
                items.push(json!({"action": "set_ory_session_token", "ory_session_token": t}));
            }
        }
        items.extend(auth.continue_with.iter().cloned());
        body.continue_with = (!items.is_empty()).then_some(items);
        return HttpResponse::Ok().json(body);
    }
    let mut resp = if ctx.wants_json {
        let mut items = auth.continue_with.clone();
        items.push(json!({"action": "redirect_browser_to", "redirect_browser_to": auth.return_to}));
        body.continue_with = Some(items);
        HttpResponse::Ok().json(body)
    } else {
        see_other(auth.verification_ui.as_deref().unwrap_or(&auth.return_to)).finish()
    };

    if let (Some(s), Some(t)) = (session, &token) {
        let _ = resp.add_cookie(&session_cookie(state, t, s.expires_at));
        // Kratos rotates the CSRF secret when a session is issued to a browser.
        if let Some(secret) = &auth.csrf_rotation {
            let _ = resp.add_cookie(&csrf_cookie(state, secret));
        }
    }
    resp
}

/// 200 with the flow JSON, or the error envelope (flow init and fetch endpoints).
pub fn json_or_error(
    state: &AppState,
    ctx: &RequestContext,
    result: Result<Flow, FlowError>,
) -> HttpResponse {
    match result {
        Ok(flow) => flow_json(ctx, &flow, StatusCode::OK, None),
        Err(e) => actix_web::ResponseError::error_response(&to_api_error(state, e)),
    }
}

/// A flow shown again after a submit: 303 to its UI for plain browsers, 200 JSON
/// otherwise (verification and recovery answer 200 even for a wrong code).
pub fn flow_or_redirect(state: &AppState, ctx: &RequestContext, flow: &Flow) -> HttpResponse {
    if flow.is_browser() && !ctx.wants_json {
        see_other(&flow_ui_url(state, flow)).finish()
    } else {
        flow_json(ctx, flow, StatusCode::OK, None)
    }
}

/// The settings flow JSON, which always carries its identity.
pub fn settings_json(
    state: &AppState,
    ctx: &RequestContext,
    flow: &Flow,
    identity: &crate::identity::Identity,
    status: StatusCode,
) -> HttpResponse {
    let masked = match (flow.flow_type, ctx.csrf.as_ref()) {
        (FlowType::Browser, Some(s)) => s.masked(),
        _ => String::new(),
    };
    HttpResponse::build(status)
        .json(FlowView::new(flow, &masked).with_identity(identity, state.config.public_base()))
}

/// A saved settings change: 303 back to the settings UI for plain browsers; the
/// flow (state `success`) for JSON clients.
pub fn settings_saved(
    state: &AppState,
    ctx: &RequestContext,
    flow: &Flow,
    identity: &crate::identity::Identity,
) -> HttpResponse {
    if flow.is_browser() && !ctx.wants_json {
        return see_other(&flow_ui_url(state, flow)).finish();
    }
    settings_json(state, ctx, flow, identity, StatusCode::OK)
}

/// `<public>/self-service/login/browser[?return_to=…]`.
pub fn login_url(state: &AppState, return_to: Option<&str>) -> String {
    let mut url = url::Url::parse(&state.config.public_url("self-service/login/browser"))
        .unwrap_or_else(|_| state.config.public_base_url().clone());
    if let Some(r) = return_to {
        url.query_pairs_mut().append_pair("return_to", r);
    }
    url.to_string()
}

/// A successful recovery: the session is issued and the user is sent to the
/// settings flow — a 303 for browsers, `422 browser_location_change_required` for
/// SPAs, and the recovery flow with `continue_with` for native apps.
pub fn recovered(
    state: &AppState,
    ctx: &RequestContext,
    flow: &Flow,
    settings: &Flow,
    session: &crate::session::Session,
    token: &crate::session::SessionToken,
) -> HttpResponse {
    if flow.flow_type == FlowType::Api {
        return flow_json(ctx, flow, StatusCode::OK, None);
    }
    let target = flow_ui_url(state, settings);
    let mut resp = if ctx.wants_json {
        let e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("In order to complete this flow please redirect the browser to: {target}"),
        )
        .with_id(ErrorId::BrowserLocationChangeRequired)
        .with_message("browser location change required")
        .with_sibling("redirect_browser_to", target.clone());
        actix_web::ResponseError::error_response(&e)
    } else {
        see_other(&target).finish()
    };
    let _ = resp.add_cookie(&session_cookie(state, token.expose(), session.expires_at));
    let _ = resp.add_cookie(&csrf_cookie_keep(state, ctx));
    resp
}

/// The browser's current CSRF cookie again (a recovered session keeps the browser
/// bound to the settings flow that was created for it).
fn csrf_cookie_keep(state: &AppState, ctx: &RequestContext) -> Cookie<'static> {
    let secret = ctx.csrf.clone().unwrap_or_else(CsrfSecret::generate);
    csrf_cookie(state, &secret)
}

/// Counts a login or registration submit: `success`, `failure` (the user's
/// input was refused) or `error` (the request never got that far).
pub fn count<T>(counter: &prometheus::IntCounterVec, result: &Result<T, FlowError>) {
    let label = match result {
        Ok(_) => "success",
        Err(FlowError::Invalid(_) | FlowError::Throttled { .. }) => "failure",
        Err(_) => "error",
    };
    counter.with_label_values(&[label]).inc();
}
