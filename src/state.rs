//! The state every handler and domain function shares. Passed explicitly (one
//! `web::Data<AppState>`), never global, so tests can run many servers at once.

use crate::clock::Clock;
use crate::config::Config;
use crate::courier::Courier;
use crate::identity::schema::SchemaRegistry;
use crate::password::Hasher;
use crate::store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub schemas: Arc<SchemaRegistry>,
    pub store: Store,
    pub hasher: Hasher,
    pub clock: Clock,
    pub courier: Arc<Courier>,
    /// Keys the stored digests of recovery and verification codes.
    pub code_key: crate::flow::code::CodeKey,
    pub login_throttle: Arc<crate::flow::throttle::LoginThrottle>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub pages: Arc<crate::ui::Pages>,
    pub whoami_cache: Arc<crate::session::cache::WhoamiCache>,
}
