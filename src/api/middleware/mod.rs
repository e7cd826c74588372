//! What sits between the public listener and the handlers: rate-limit buckets,
//! security headers, CORS, and a last line of defence that turns any stray
//! non-JSON error (from actix or a middleware) into the Kratos envelope.

pub mod admin;
pub mod cors;
pub mod metrics;

pub mod rate_limit;

use crate::api::client_ip::client_ip;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{web, Error, HttpMessage, ResponseError};
use futures_util::future::LocalBoxFuture;
use rate_limit::{bucket_for, Decision};

/// The client IP of the request, as the rate limiter and sessions see it.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);

/// Rate limiting and security headers for the public listener.
pub fn edge<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let limits = req.app_data::<web::Data<rate_limit::RateLimits>>().cloned();
    let decision = match (&state, &limits) {
        (Some(state), Some(limits)) => {
            let ip = client_ip(
                req.peer_addr(),
                req.headers(),
                &state.config.trusted_proxies,
            );
            if let Some(ip) = ip {
                req.extensions_mut().insert(ClientIp(ip));
            }
            limits.check(bucket_for(req.method(), req.path()), ip)
        }
        _ => Decision::Unlimited,
    };

    if let Decision::Refused {
        limit,
        retry_after_secs,
        bucket,
    } = decision
    {
        let mut refusal = rate_limit::refusal(limit, retry_after_secs, bucket);
        refusal.extensions_mut().insert(bucket);
        let resp = req.into_response(refusal);

        return Box::pin(
            async move { Ok(with_security_headers(resp, false).map_into_right_body()) },
        );
    }
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    let fut = srv.call(req);
    Box::pin(async move {
        let mut res = fut.await?;
        if let Decision::Allowed {
            limit,
            remaining,
            reset_secs,
        } = decision
        {
            rate_limit::add_headers(res.headers_mut(), limit, remaining, reset_secs);
        }
        Ok(with_security_headers(res, is_get).map_into_left_body())
    })
}

fn with_security_headers<B>(mut res: ServiceResponse<B>, is_get: bool) -> ServiceResponse<B> {
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    // Responses depend on the session and CSRF cookies.
    h.append(header::VARY, header::HeaderValue::from_static("Cookie"));
    if is_get && !h.contains_key(header::CACHE_CONTROL) {
        // Kratos: every GET is private and never cached.
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("private, no-cache, no-store, must-revalidate"),
        );
    }
    res
}

/// Turns errors raised by middleware (CORS refusals, …) and any non-JSON error
/// response into the Kratos envelope. Handlers already answer in it.
pub fn envelope<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let fut = srv.call(req);
    Box::pin(async move {
        match fut.await {
            Ok(res) => {
                let status = res.status();
                let is_json = res
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|c| c.starts_with("application/json"));
                if !status.is_client_error() && !status.is_server_error() || is_json {
                    return Ok(res.map_into_left_body());
                }
                let kept: Vec<_> = res
                    .headers()
                    .iter()
                    .filter(|(k, _)| *k != header::CONTENT_TYPE && *k != header::CONTENT_LENGTH)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let reason = status.canonical_reason().unwrap_or("The request failed.");
                let mut fresh = ApiError::new(status, reason).error_response();
                for (k, v) in kept {
                    fresh.headers_mut().insert(k, v);
                }
                Ok(res.into_response(fresh).map_into_right_body())
            }
            Err(e) => {
                let status = e.as_response_error().status_code();
                let reason = if status.is_server_error() {
                    String::new()
                } else {
                    e.to_string()
                };
                Err(ApiError::new(status, reason).into())
            }
        }
    })
}
