//! What handlers read from a request: the client's kind (browser or API,
//! HTML or JSON), its session token (header → cookie → Bearer), its CSRF cookie,
//! and flow submit bodies (JSON or form, dotted names turned into nested objects).

use super::negotiate;
use crate::error::ApiError;
use crate::flow::csrf::CsrfSecret;
use crate::session::{Client, SessionToken};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;

/// Name of the browser session cookie (Kratos's default).
pub const SESSION_COOKIE: &str = "ory_kratos_session";

/// Per-request facts the flows and renderers need.
pub struct RequestContext {
    pub wants_json: bool,
    pub accepts_json: bool,
    pub csrf: Option<CsrfSecret>,
    pub session_token: Option<SessionToken>,
    /// The token came from the session cookie (a browser session).
    pub token_from_cookie: bool,
    pub looks_like_browser: bool,
    pub client: Client,
    /// The full public URL of this request (a flow's `request_url`).
    pub request_url: String,
}

impl RequestContext {
    pub fn from_request(req: &HttpRequest, state: &AppState) -> RequestContext {
        let headers = req.headers();
        let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
        let accept = text(header::ACCEPT);
        let content_type = text(header::CONTENT_TYPE);
        let csrf = req
            .cookie(state.config.csrf_cookie_name())
            .and_then(|c| CsrfSecret::from_cookie(c.value()));
        let found = find_session_token(req);
        let token_from_cookie = matches!(found, Some((_, true)));
        let session_token = found.map(|(t, _)| t);
        let looks_like_browser = headers.contains_key(header::ORIGIN)
            || req
                .cookies()
                .map(|cs| {
                    cs.iter().any(|c| {
                        let n = c.name();
                        !(n.starts_with("__cf") || n.starts_with("_cf") || n.starts_with("cf_"))
                    })
                })
                .unwrap_or(false);
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
        RequestContext {
            wants_json: negotiate::wants_json(accept, content_type),
            accepts_json: negotiate::accepts_json(accept),
            csrf,
            session_token,
            token_from_cookie,
            looks_like_browser,
            client: Client {
                // The edge middleware resolved it (trusted proxies); admin has none.
                ip_address: req
                    .extensions()
                    .get::<crate::api::middleware::ClientIp>()
                    .map(|c| c.0)
                    .or_else(|| req.peer_addr().map(|a| a.ip()))
                    .map(|ip| ip.to_string()),

                user_agent: text(header::USER_AGENT).map(|s| s.chars().take(512).collect()),
            },
            request_url: state.config.public_url(&path_and_query),
        }
    }
}

impl RequestContext {
    /// What the flow checks need to know about the submitter of `body`.
    pub fn submitter(&self, body: &FlowBody) -> crate::flow::lifecycle::Submitter {
        crate::flow::lifecycle::Submitter {
            csrf: self.csrf.clone(),
            csrf_token: body
                .fields
                .get("csrf_token")
                .and_then(Value::as_str)
                .map(str::to_owned),
            looks_like_browser: self.looks_like_browser,
            skip_csrf: false,
        }
    }
}

/// A flow submit body as a nested JSON object, from JSON or a urlencoded form.
pub struct FlowBody {
    pub fields: Map<String, Value>,
    pub is_form: bool,
}

impl FromRequest for FlowBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<FlowBody, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(1_048_576, |s| s.config.max_body_bytes);
        let content_type = req.content_type().to_ascii_lowercase();
        let mut payload = payload.take();
        Box::pin(async move {
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| ApiError::bad_request("The request body could not be read."))?;
                if bytes.len() + chunk.len() > limit {
                    return Err(ApiError::payload_too_large(limit));
                }
                bytes.extend_from_slice(&chunk);
            }
            parse_body(&content_type, &bytes)
        })
    }
}

/// Parses a submit body by content type (Kratos accepts JSON and forms).
pub fn parse_body(content_type: &str, bytes: &[u8]) -> Result<FlowBody, ApiError> {
    match content_type {
        "application/json" => {
            let value: Value = serde_json::from_slice(bytes)
                .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))?;
            let Value::Object(map) = value else {
                return Err(ApiError::bad_request("The request body must be a JSON object."));
            };
            let mut fields = Map::new();
            for (k, v) in map {
                insert_dotted(&mut fields, &k, v);
            }
            Ok(FlowBody { fields, is_form: false })
        }
        "application/x-www-form-urlencoded" => {
            let mut fields = Map::new();
            for (k, v) in url::form_urlencoded::parse(bytes) {
                // Kratos drops empty form values, so an empty input reads as "missing".
                if !v.is_empty() {
                    insert_dotted(&mut fields, &k, Value::String(v.into_owned()));
                }
            }
            Ok(FlowBody { fields, is_form: true })
        }
        "" => Err(ApiError::bad_request("The request carries no Content-Type header.")),
        other => Err(ApiError::bad_request(format!(
            "Unknown HTTP Header Content-Type `{other}`: use application/json or application/x-www-form-urlencoded."
        ))),
    }
}

/// Inserts `value` at a dotted path (`traits.name.first`), creating objects.
/// Conflicting paths (a value where an object is needed) keep the first value.
fn insert_dotted(root: &mut Map<String, Value>, key: &str, value: Value) {
    let mut parts = key.split('.').filter(|p| !p.is_empty()).peekable();
    let mut at = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            match (at.get_mut(part), value) {
                (Some(Value::Object(existing)), Value::Object(incoming)) => {
                    existing.extend(incoming)
                }
                (Some(_), _) => {}
                (None, v) => {
                    at.insert(part.to_owned(), v);
                }
            }
            return;
        }
        let next = at
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        match next {
            Value::Object(m) => at = m,
            _ => return,
        }
    }
}

/// The session token of a request — `X-Session-Token`, then the session cookie,
/// then `Authorization: Bearer` — without building a whole `RequestContext`
/// (the session check is the hot path).
pub fn session_token(req: &HttpRequest) -> Option<SessionToken> {
    find_session_token(req).map(|(t, _)| t)
}

/// The session token, and whether it came from the cookie.
fn find_session_token(req: &HttpRequest) -> Option<(SessionToken, bool)> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(t) = header(header::HeaderName::from_static("x-session-token"))
        .and_then(SessionToken::from_client)
    {
        return Some((t, false));
    }
    if let Some(t) = req
        .cookie(SESSION_COOKIE)
        .and_then(|c| SessionToken::from_client(c.value()))
    {
        return Some((t, true));
    }
    header(header::AUTHORIZATION)
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .and_then(SessionToken::from_client)
        .map(|t| (t, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_with_dotted_names_become_nested_objects_without_empty_values() {
        let body = parse_body(
            "application/x-www-form-urlencoded",
            b"traits.email=a%40b.co&traits.name.first=Ada&traits.name.last=&password=x&method=password",
        )
        .unwrap();
        assert!(body.is_form);
        assert_eq!(
            Value::Object(body.fields),
            json!({"traits": {"email": "a@b.co", "name": {"first": "Ada"}}, "password": "x", "method": "password"})
        );
    }

    #[test]
    fn json_accepts_nested_and_flat_dotted_keys() {
        let body = parse_body(
            "application/json",
            br#"{"traits.email":"a@b.co","traits":{"name":{"first":"A"}},"method":"password"}"#,
        )
        .unwrap();
        assert_eq!(
            body.fields["traits"],
            json!({"email": "a@b.co", "name": {"first": "A"}})
        );
    }

    #[test]
    fn bad_bodies_are_400() {
        for (ct, b) in [
            ("application/json", &b"[1,2]"[..]),
            ("application/json", b"{nope"),
            ("text/plain", b"x=1"),
            ("", b"x=1"),
        ] {
            assert_eq!(parse_body(ct, b).err().unwrap().status().as_u16(), 400);
        }
    }

    #[test]
    fn conflicting_paths_do_not_panic() {
        let body = parse_body(
            "application/x-www-form-urlencoded",
            b"a=1&a.b=2&a.b.c=3&...=4&.x.=5",
        )
        .unwrap();
        assert_eq!(body.fields["a"], json!("1"));
        assert_eq!(body.fields["x"], json!("5"));
    }
}
