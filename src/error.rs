//! `ApiError`: the one error type handlers return. It renders Kratos's error envelope
//! `{"error": {"id", "code", "status", "reason", "message"}}` and never shows clients
//! library or internal error text; every 5xx is logged once, with its cause chain.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// Kratos's error ids (`text/message_error.go`), serialized snake_case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorId {
    SessionInactive,
    SessionAal2Required,
    SessionAal1Required,
    SessionAlreadyAvailable,
    SessionRefreshRequired,
    BrowserLocationChangeRequired,
    SecurityCsrfViolation,
    SecurityIdentityMismatch,
    SelfServiceFlowExpired,
    SelfServiceFlowReplaced,
    SelfServiceFlowReturnToForbidden,
    SelfServiceFlowDisabled,
    IdentityDisabled,
    RateLimitExceeded,
}

impl ErrorId {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorId::SessionInactive => "session_inactive",
            ErrorId::SessionAal2Required => "session_aal2_required",
            ErrorId::SessionAal1Required => "session_aal1_required",
            ErrorId::SessionAlreadyAvailable => "session_already_available",
            ErrorId::SessionRefreshRequired => "session_refresh_required",
            ErrorId::BrowserLocationChangeRequired => "browser_location_change_required",
            ErrorId::SecurityCsrfViolation => "security_csrf_violation",
            ErrorId::SecurityIdentityMismatch => "security_identity_mismatch",
            ErrorId::SelfServiceFlowExpired => "self_service_flow_expired",
            ErrorId::SelfServiceFlowReplaced => "self_service_flow_replaced",
            ErrorId::SelfServiceFlowReturnToForbidden => "self_service_flow_return_to_forbidden",
            ErrorId::SelfServiceFlowDisabled => "self_service_flow_disabled",
            ErrorId::IdentityDisabled => "identity_disabled",
            ErrorId::RateLimitExceeded => "rate_limit_exceeded",
        }
    }
}

pub struct ApiError {
    status: StatusCode,
    id: Option<ErrorId>,
    reason: Cow<'static, str>,
    message: Option<&'static str>,
    details: Option<Box<Map<String, Value>>>,
    /// Keys written beside `"error"` (Kratos's enhanced errors: `use_flow_id`, …).
    siblings: Option<Box<Map<String, Value>>>,
    /// For logs only, never serialized.
    source: Option<anyhow::Error>,
    /// Seconds for a `Retry-After` header.
    retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, reason: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            id: None,
            reason: reason.into(),
            message: None,
            details: None,
            siblings: None,
            source: None,
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn bad_request(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason)
    }

    pub fn not_found(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, reason)
    }

    pub fn conflict(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, reason)
    }

    pub fn unauthorized(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, reason)
    }

    pub fn forbidden(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, reason)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body is larger than the limit of {limit} bytes."),
        )
    }

    /// The database pool is exhausted or the database is unreachable: retryable.
    pub fn unavailable(source: anyhow::Error) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is busy or its database is unavailable; retry shortly.",
        );
        e.source = Some(source);
        e
    }

    /// An unexpected failure: logged with its cause, answered generically.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "");
        e.source = Some(source.into());
        e
    }

    pub fn with_id(mut self, id: ErrorId) -> Self {
        self.id = Some(id);
        self
    }

    pub fn with_message(mut self, message: &'static str) -> Self {
        self.message = Some(message);
        self
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details
            .get_or_insert_with(Box::default)
            .insert(key.to_owned(), value.into());
        self
    }

    pub fn with_sibling(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.siblings
            .get_or_insert_with(Box::default)
            .insert(key.to_owned(), value.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn id(&self) -> Option<ErrorId> {
        self.id
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The envelope's inner object (`{"id", "code", "status", "reason", "message"}`),
    /// also stored verbatim for `/self-service/errors`.
    pub fn body(&self) -> Value {
        let mut inner = Map::new();
        if let Some(id) = self.id {
            inner.insert("id".into(), id.as_str().into());
        }
        inner.insert("code".into(), self.status.as_u16().into());
        inner.insert("status".into(), status_text(self.status).into());
        // 5xx reasons stay out of the body (they may describe internals), except
        // 503's, which only ever says "retry".
        let shown =
            !self.status.is_server_error() || self.status == StatusCode::SERVICE_UNAVAILABLE;
        if shown && !self.reason.is_empty() {
            inner.insert("reason".into(), Value::String(self.reason.to_string()));
        }
        if let Some(details) = &self.details {
            inner.insert("details".into(), Value::Object((**details).clone()));
        }
        let message = self.message.unwrap_or_else(|| stock_message(self.status));
        inner.insert("message".into(), message.into());
        Value::Object(inner)
    }

    fn envelope(&self) -> Value {
        let mut outer = self.siblings.as_deref().cloned().unwrap_or_default();
        outer.insert("error".into(), self.body());
        Value::Object(outer)
    }
}

/// Herodot's stock `message` per status (`herodot: error_default.go`).
fn stock_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request was malformed or contained invalid parameters",
        401 => "The request could not be authorized",
        403 => "The requested action was forbidden",
        404 => "The requested resource could not be found",
        405 => "The requested method is not allowed on this resource",
        409 => "The resource could not be created due to a conflict",
        410 => "The requested resource is no longer available",
        413 => "The request body is too large",
        415 => "The request's content type is not supported",
        422 => "The request was well-formed but was unable to be followed due to semantic errors",
        429 => "Too many requests",
        503 => "The service is temporarily unavailable",
        _ if status.is_server_error() => {
            "An internal server error occurred, please contact the system administrator"
        }
        _ => "The request could not be processed",
    }
}

fn status_text(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)?;
        if let Some(source) = &self.source {
            write!(f, ": {source:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            // The one place a 5xx is logged, with its whole cause chain.
            tracing::error!(status = self.status.as_u16(), error = ?self, "request failed");
        }
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((
            header::HeaderName::from_static("ory-error-id"),
            self.id.map(ErrorId::as_str).unwrap_or(""),
        ));
        if let Some(secs) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            resp.insert_header((header::ALLOW, "GET, HEAD, POST, PUT, PATCH, DELETE"));
        }
        resp.content_type("application/json")
            .body(self.envelope().to_string())
    }
}

/// Turns actix's extractor failures into Kratos-format errors (wired into
/// `JsonConfig`, `QueryConfig`, `PathConfig` and `FormConfig` in `app.rs`).
pub mod extractors {
    use super::ApiError;
    use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
    use actix_web::HttpRequest;

    pub fn json(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
        let api = match &err {
            JsonPayloadError::OverflowKnownLength { limit, .. }
            | JsonPayloadError::Overflow { limit } => ApiError::payload_too_large(*limit),
            JsonPayloadError::ContentType => ApiError::bad_request(
                "The request must carry the header Content-Type: application/json.",
            ),
            JsonPayloadError::Deserialize(e) => ApiError::bad_request(format!(
                "The request body is not valid JSON for this endpoint: {e}"
            )),
            _ => ApiError::bad_request("The request body could not be read."),
        };
        api.into()
    }

    pub fn query(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
        let QueryPayloadError::Deserialize(e) = &err else {
            return ApiError::bad_request("The query string could not be parsed.").into();
        };
        ApiError::bad_request(format!("The query string is invalid: {e}")).into()
    }

    pub fn path(err: PathError, _req: &HttpRequest) -> actix_web::Error {
        let PathError::Deserialize(e) = &err else {
            return ApiError::not_found("Unable to locate the resource").into();
        };
        ApiError::bad_request(format!("The URL path is invalid: {e}")).into()
    }

    pub fn form(err: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
        let api = match &err {
            UrlencodedError::Overflow { limit, .. } => ApiError::payload_too_large(*limit),
            UrlencodedError::ContentType => ApiError::bad_request(
                "The request must carry the header Content-Type: application/x-www-form-urlencoded.",
            ),
            _ => ApiError::bad_request("The form body could not be parsed."),
        };
        api.into()
    }
}

/// The default service: unknown routes answer 404 in the Kratos envelope.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "No route matches {} {}",
        req.method(),
        req.path()
    )))
}

/// A known path with an unsupported method: 405 in the Kratos envelope.
pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint does not support the request's HTTP method.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_kratos_shape() {
        let e = ApiError::forbidden("bad token")
            .with_id(ErrorId::SecurityCsrfViolation)
            .with_sibling("redirect_browser_to", "http://x");
        let v = e.envelope();
        assert_eq!(v["error"]["id"], "security_csrf_violation");
        assert_eq!(v["error"]["code"], 403);
        assert_eq!(v["error"]["status"], "Forbidden");
        assert_eq!(v["error"]["reason"], "bad token");
        assert_eq!(v["error"]["message"], "The requested action was forbidden");
        assert_eq!(v["redirect_browser_to"], "http://x");
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let e = ApiError::internal(anyhow::anyhow!("secret sql detail"));
        let text = e.envelope().to_string();
        assert!(!text.contains("secret"));
        assert_eq!(e.envelope()["error"]["code"], 500);
    }
}
