//! Admin access control: with `--admin-token`, every admin route except health
//! needs `Authorization: Bearer <token>` (constant-time comparison).

use crate::crypto::constant_time_eq;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{web, Error, ResponseError};
use futures_util::future::LocalBoxFuture;

pub fn require_token<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let expected = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.config.admin_token.clone());
    let open = req.path().starts_with("/health/");
    if let (Some(expected), false) = (expected, open) {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            let err = ApiError::unauthorized(
                "The admin API needs `Authorization: Bearer <admin token>`.",
            );
            let resp = req.into_response(err.error_response());
            return Box::pin(async move { Ok(resp.map_into_right_body()) });
        }
    }
    let fut = srv.call(req);
    Box::pin(async move { Ok(fut.await?.map_into_left_body()) })
}
