//! Request spans for logs, without query strings: flow links carry codes and
//! logout tokens in their query (`?code=`, `?token=`), and a log line must never
//! contain a secret.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub struct PathOnlySpans;

/// The request's route pattern, matched once here for the span and kept for
/// the metrics: matching walks the route table and runs a regex per dynamic
/// route, a tenth of a cached session check when done twice.
#[derive(Clone)]
pub struct RoutePattern(pub Option<std::rc::Rc<str>>);

impl RootSpanBuilder for PathOnlySpans {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let pattern = request.match_pattern().map(std::rc::Rc::<str>::from);
        request
            .extensions_mut()
            .insert(RoutePattern(pattern.clone()));
        let route = pattern.as_deref().unwrap_or_else(|| request.path());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.path(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
