//! CORS for SPAs on other origins (actix-cors), public listener only, off unless
//! `--cors-allowed-origin` is given. Credentials (cookies) are allowed only for
//! listed origins; `*` allows any origin but never with credentials.

use actix_cors::Cors;
use actix_web::http::{header, Method};

pub fn build(origins: &[String], max_age_secs: usize) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::AUTHORIZATION,
            header::HeaderName::from_static("x-session-token"),
            header::HeaderName::from_static("x-csrf-token"),
        ])
        .expose_headers([
            header::CONTENT_TYPE,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-ratelimit-limit"),
            header::HeaderName::from_static("x-ratelimit-remaining"),
            header::HeaderName::from_static("x-ratelimit-reset"),
            header::HeaderName::from_static("x-kratos-authenticated-identity-id"),
            header::HeaderName::from_static("ory-error-id"),
        ])
        .max_age(max_age_secs);
    if origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin().send_wildcard();
    } else {
        for o in origins {
            cors = cors.allowed_origin(o);
        }
        cors = cors.supports_credentials();
    }
    cors
}
