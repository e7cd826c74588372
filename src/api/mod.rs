//! Both route tables: every path Postern serves is visible here, named after
//! Kratos's operationIds so grepping the OpenAPI spec finds the handler.

pub mod admin;
mod errors;
pub mod pagination;
pub mod public;

use crate::error;
use actix_web::{web, Resource};

/// A resource whose unmatched methods answer 405 in the Kratos envelope.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(error::method_not_allowed))
}

/// Routes both listeners serve.
fn shared_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health/alive").route(web::get().to(public::health::is_alive)))
        .service(resource("/health/ready").route(web::get().to(public::health::is_ready)))
        .service(resource("/version").route(web::get().to(public::health::get_version)))
        .service(resource("/schemas").route(web::get().to(public::schemas::list_identity_schemas)))
        .service(
            resource("/schemas/{id}").route(web::get().to(public::schemas::get_identity_schema)),
        );
}

/// The public listener: browsers, SPAs and native apps.
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    shared_routes(cfg);
}

/// The admin listener. As in Kratos, admin paths work with and without the
/// `/admin` prefix.
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    shared_routes(cfg);
    cfg.service(web::scope("/admin").configure(admin_api));
    admin_api(cfg);
}

fn admin_api(cfg: &mut web::ServiceConfig) {
    use admin::identities as ids;
    cfg.service(
        resource("/identities")
            .route(web::get().to(ids::list_identities))
            .route(web::post().to(ids::create_identity)),
    )
    .service(
        resource("/identities/{id}")
            .route(web::get().to(ids::get_identity))
            .route(web::put().to(ids::update_identity))
            .route(web::patch().to(ids::patch_identity))
            .route(web::delete().to(ids::delete_identity)),
    )
    .service(resource("/schemas").route(web::get().to(public::schemas::list_identity_schemas)))
    .service(resource("/schemas/{id}").route(web::get().to(public::schemas::get_identity_schema)));
}
