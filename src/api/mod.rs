//! Both route tables: every path Postern serves is visible here, named after
//! Kratos's operationIds so grepping the OpenAPI spec finds the handler.

pub mod admin;
pub mod client_ip;
mod errors;
pub mod extract;
pub mod middleware;

pub mod negotiate;
pub mod pagination;
pub mod public;
pub mod request_span;
pub mod respond;

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
    use public::{errors, login, logout, recovery, registration, sessions, settings, verification};
    // First: routes are tried in order, and this is the hot path.
    // toSession answers every method, as Kratos does.
    cfg.service(resource("/sessions/whoami").route(web::route().to(sessions::to_session)));
    shared_routes(cfg);
    cfg.service(
        resource("/self-service/recovery/browser")
            .route(web::get().to(recovery::create_browser_recovery_flow)),
    )
    .service(
        resource("/self-service/recovery/api")
            .route(web::get().to(recovery::create_native_recovery_flow)),
    )
    .service(
        resource("/self-service/recovery/flows").route(web::get().to(recovery::get_recovery_flow)),
    )
    .service(
        resource("/self-service/recovery").route(web::post().to(recovery::update_recovery_flow)),
    )
    .service(
        resource("/self-service/verification/browser")
            .route(web::get().to(verification::create_browser_verification_flow)),
    )
    .service(
        resource("/self-service/verification/api")
            .route(web::get().to(verification::create_native_verification_flow)),
    )
    .service(
        resource("/self-service/verification/flows")
            .route(web::get().to(verification::get_verification_flow)),
    )
    .service(
        resource("/self-service/verification")
            .route(web::post().to(verification::update_verification_flow))
            .route(web::get().to(verification::open_verification_link)),
    )
    .service(
        resource("/self-service/settings/browser")
            .route(web::get().to(settings::create_browser_settings_flow)),
    )
    .service(
        resource("/self-service/settings/api")
            .route(web::get().to(settings::create_native_settings_flow)),
    )
    .service(
        resource("/self-service/settings/flows").route(web::get().to(settings::get_settings_flow)),
    )
    .service(
        resource("/self-service/settings")
            .route(web::post().to(settings::update_settings_flow))
            .route(web::get().to(settings::resume_settings_flow)),
    );
    cfg.service(
        resource("/self-service/login/browser")
            .route(web::get().to(login::create_browser_login_flow)),
    )
    .service(
        resource("/self-service/login/api").route(web::get().to(login::create_native_login_flow)),
    )
    .service(resource("/self-service/login/flows").route(web::get().to(login::get_login_flow)))
    .service(resource("/self-service/login").route(web::post().to(login::update_login_flow)))
    .service(
        resource("/self-service/registration/browser")
            .route(web::get().to(registration::create_browser_registration_flow)),
    )
    .service(
        resource("/self-service/registration/api")
            .route(web::get().to(registration::create_native_registration_flow)),
    )
    .service(
        resource("/self-service/registration/flows")
            .route(web::get().to(registration::get_registration_flow)),
    )
    .service(
        resource("/self-service/registration")
            .route(web::post().to(registration::update_registration_flow)),
    )
    .service(
        resource("/self-service/logout/browser")
            .route(web::get().to(logout::create_browser_logout_flow)),
    )
    .service(resource("/self-service/logout").route(web::get().to(logout::update_logout_flow)))
    .service(
        resource("/self-service/logout/api").route(web::delete().to(logout::perform_native_logout)),
    )
    .service(resource("/self-service/errors").route(web::get().to(errors::get_flow_error)))
    .service(
        resource("/sessions")
            .route(web::get().to(sessions::list_my_sessions))
            .route(web::delete().to(sessions::disable_my_other_sessions)),
    )
    .service(resource("/sessions/{id}").route(web::delete().to(sessions::disable_my_session)));
}

/// The admin listener. As in Kratos, admin paths work with and without the
/// `/admin` prefix.
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    shared_routes(cfg);
    cfg.service(resource("/metrics/prometheus").route(web::get().to(admin::metrics::prometheus)));

    cfg.service(web::scope("/admin").configure(admin_api));
    admin_api(cfg);
}

fn admin_api(cfg: &mut web::ServiceConfig) {
    use admin::identities as ids;
    cfg.service(
        resource("/identities")
            .route(web::get().to(ids::list_identities))
            .route(web::post().to(ids::create_identity))
            .route(web::patch().to(ids::batch_patch_identities)),
    )
    .service(
        resource("/identities/{id}")
            .route(web::get().to(ids::get_identity))
            .route(web::put().to(ids::update_identity))
            .route(web::patch().to(ids::patch_identity))
            .route(web::delete().to(ids::delete_identity)),
    )
    .service(resource("/sessions").route(web::get().to(admin::sessions::list_sessions)))
    .service(
        resource("/sessions/{id}")
            .route(web::get().to(admin::sessions::get_session))
            .route(web::delete().to(admin::sessions::disable_session)),
    )
    .service(
        resource("/sessions/{id}/extend").route(web::patch().to(admin::sessions::extend_session)),
    )
    .service(
        resource("/identities/{id}/sessions")
            .route(web::get().to(admin::sessions::list_identity_sessions))
            .route(web::delete().to(admin::sessions::delete_identity_sessions)),
    )
    .service(
        resource("/identities/{id}/credentials/{type}")
            .route(web::delete().to(admin::identities::delete_identity_credentials)),
    )
    .service(
        resource("/courier/messages").route(web::get().to(admin::courier::list_courier_messages)),
    )
    .service(
        resource("/courier/messages/{id}")
            .route(web::get().to(admin::courier::get_courier_message)),
    )
    .service(
        resource("/recovery/code")
            .route(web::post().to(admin::recovery::create_recovery_code_for_identity)),
    )
    .service(resource("/schemas").route(web::get().to(public::schemas::list_identity_schemas)))
    .service(resource("/schemas/{id}").route(web::get().to(public::schemas::get_identity_schema)));
}
