//! Counts every request and its latency per listener, route pattern and status.

use crate::state::AppState;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::{web, Error, HttpMessage};
use futures_util::future::LocalBoxFuture;

pub fn observe<S, B>(
    listener: &'static str,
) -> impl Fn(ServiceRequest, &S) -> LocalBoxFuture<'static, Result<ServiceResponse<B>, Error>> + Clone
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: 'static,
{
    move |req: ServiceRequest, srv: &S| {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let method = req.method().as_str().to_owned();
        let started = std::time::Instant::now();
        let fut = srv.call(req);
        Box::pin(async move {
            let res = fut.await?;
            // Route patterns (known once routed), not paths, so label values stay few.
            let known = res
                .request()
                .extensions()
                .get::<crate::api::request_span::RoutePattern>()
                .cloned();
            let route: std::rc::Rc<str> = match known {
                Some(crate::api::request_span::RoutePattern(p)) => p,
                None => res.request().match_pattern().map(Into::into),
            }
            .unwrap_or_else(|| "unmatched".into());
            if let Some(state) = state {
                let status = res.status().as_u16().to_string();
                let m = &state.metrics;
                m.http_requests
                    .with_label_values(&[listener, &method, &route, &status])
                    .inc();
                m.http_duration
                    .with_label_values(&[listener, &route])
                    .observe(started.elapsed().as_secs_f64());
                if res.status().as_u16() == 429 {
                    // The edge marks its own refusals; any other 429 is the login throttle.
                    let bucket = res
                        .response()
                        .extensions()
                        .get::<crate::api::middleware::rate_limit::Bucket>()
                        .map_or("login-throttle", |b| b.name());
                    m.rate_limited.with_label_values(&[bucket]).inc();
                }
            }
            Ok(res)
        })
    }
}
