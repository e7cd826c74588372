//! `Application`: binds both listeners (port 0 works), builds the shared state and
//! the two actix apps, and runs them until told to stop.

use crate::api;
use crate::api::request_span::PathOnlySpans;
use crate::clock::Clock;
use crate::config::{derived_base_url, Config};
use crate::error;
use crate::password::Hasher;
use crate::state::AppState;
use crate::store::{Store, StoreOptions};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use tracing_actix_web::TracingLogger;

pub struct Application {
    public_addr: SocketAddr,
    admin_addr: SocketAddr,
    public: Server,
    admin: Server,
    state: AppState,
    courier: Option<tokio::task::JoinHandle<()>>,
    cleanup: tokio::task::JoinHandle<()>,
    stop_courier: tokio::sync::watch::Sender<bool>,
    /// Holds an `--ephemeral` database's directory; dropping it deletes the file.
    _ephemeral: Option<tempfile::TempDir>,
}

impl Application {
    pub async fn build(mut config: Config, clock: Clock) -> anyhow::Result<Application> {
        let ephemeral = if config.ephemeral {
            let dir = tempfile::Builder::new()
                .prefix("postern-")
                .tempdir()
                .context("--ephemeral: cannot create a temporary directory")?;
            config.db = dir.path().join("postern.sqlite");
            Some(dir)
        } else {
            None
        };
        let store = open_store(&config).await?;

        let public_listener = TcpListener::bind(config.public_listen).with_context(|| {
            format!("--public-listen: cannot listen on {}", config.public_listen)
        })?;
        let admin_listener = TcpListener::bind(config.admin_listen)
            .with_context(|| format!("--admin-listen: cannot listen on {}", config.admin_listen))?;
        let public_addr = public_listener.local_addr()?;
        let admin_addr = admin_listener.local_addr()?;
        if !config.public_base_url_explicit {
            config.set_public_base_url(derived_base_url(public_addr)?);
        }

        let workers = config.workers;
        let [low, medium, high] = config.rate_limits;
        let rate_limits = web::Data::new(crate::api::middleware::rate_limit::RateLimits::new(
            low,
            medium,
            high,
            config.rate_limit_burst,
        ));
        let cors_origins = config.cors_allowed_origins.clone();
        let cors_max_age = config.cors_max_age;
        let state = state_for(config, clock, store)?;
        let (stop_courier, stop_rx) = tokio::sync::watch::channel(false);
        let cleanup = crate::cleanup::spawn(state.clone(), stop_rx.clone());
        let courier = crate::courier::worker::spawn(state.clone(), stop_rx);
        if courier.is_none() {
            tracing::warn!("no --smtp-url: mail is not delivered; it stays in the outbox, readable with GET /admin/courier/messages");
        }

        let public = {
            let state = state.clone();
            HttpServer::new(move || {
                let cors = crate::api::middleware::cors::build(&cors_origins, cors_max_age);
                App::new()
                    .app_data(web::Data::new(state.clone()))
                    .app_data(rate_limits.clone())
                    .configure(|c| extractor_configs(c, &state))
                    .configure(api::public_routes)
                    .configure(|c| {
                        if state.config.serve_ui {
                            crate::ui::handlers::routes(c);
                        }
                    })
                    .default_service(web::to(error::not_found))
                    .wrap_fn(crate::api::middleware::edge)
                    .wrap(actix_web::middleware::Condition::new(
                        !cors_origins.is_empty(),
                        cors,
                    ))
                    .wrap_fn(crate::api::middleware::envelope)
                    .wrap_fn(crate::api::middleware::metrics::observe("public"))
                    .wrap(TracingLogger::<PathOnlySpans>::new())
            })
            .workers(workers)
            .disable_signals()
            .listen(public_listener)?
            .run()
        };
        let admin = {
            let state = state.clone();
            HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(state.clone()))
                    .configure(|c| extractor_configs(c, &state))
                    .configure(api::admin_routes)
                    .configure(|c| {
                        // The outbox page shows codes: development only.
                        if state.config.dev {
                            c.route(
                                "/dev/outbox",
                                web::get().to(crate::ui::handlers::dev_outbox),
                            )
                            .route("/dev/style.css", web::get().to(crate::ui::handlers::style));
                        }
                    })
                    .default_service(web::to(error::not_found))
                    .wrap_fn(crate::api::middleware::admin::require_token)
                    .wrap_fn(crate::api::middleware::envelope)
                    .wrap_fn(crate::api::middleware::metrics::observe("admin"))
                    .wrap(TracingLogger::<PathOnlySpans>::new())
            })
            .workers(workers.min(2))
            .disable_signals()
            .listen(admin_listener)?
            .run()
        };
        for warning in crate::config_checks::browser_warnings(&state.config) {
            tracing::warn!("configuration: {warning}");
        }
        tracing::info!(
            public = %public_addr,

            admin = %admin_addr,
            public_base_url = %state.config.public_base_url(),
            db = %state.store.path().display(),
            "Postern is listening"
        );
        Ok(Application {
            public_addr,
            admin_addr,
            public,
            admin,
            state,
            courier,
            cleanup,
            stop_courier,
            _ephemeral: ephemeral,
        })
    }

    pub fn public_addr(&self) -> SocketAddr {
        self.public_addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Handles that stop both servers gracefully (`stop(true)` lets in-flight
    /// requests finish).
    pub fn handles(&self) -> (ServerHandle, ServerHandle) {
        (self.public.handle(), self.admin.handle())
    }

    /// Serves until both servers have stopped.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            public,
            admin,
            state,
            courier,
            cleanup,
            stop_courier,
            _ephemeral,
            ..
        } = self;
        let (p, a) = futures_util::future::join(public, admin).await;
        let _ = stop_courier.send(true);
        if let Some(worker) = courier {
            let _ = worker.await;
        }
        let _ = cleanup.await;
        // Flows opened in the last moments still wait for a write
        // (store/pending.rs); no request can add one any more.
        let flushed = state.store.flush_flows().await;

        p.context("public server")?;
        a.context("admin server")?;
        flushed.context("writing new flows")?;
        drop(state);
        drop(_ephemeral);
        Ok(())
    }
}

/// The shared state for `config`: everything but the listeners. Also used by
/// the offline subcommands (import, export, cleanup).
pub fn state_for(config: Config, clock: Clock, store: Store) -> anyhow::Result<AppState> {
    let hasher = Hasher::new(config.hash_params, config.hash_concurrency as usize)
        .map_err(anyhow::Error::msg)?;
    let templates =
        crate::courier::templates::Templates::load(config.courier_templates.as_deref())?;
    let key_file = config
        .key_file
        .clone()
        .unwrap_or_else(|| crate::config::default_key_file(&config.db));
    let key = crate::secret_box::load_or_create_key(&key_file)
        .context("--key-file: the key that seals stored mail bodies and keys code digests")?;
    let secrets = crate::secret_box::SecretBox::from_key(&key);
    let code_key = crate::flow::code::CodeKey::derive(&key);
    let courier = crate::courier::Courier::new(
        templates,
        secrets,
        config.smtp.clone(),
        config.courier_max_attempts,
        config.courier_poll_interval,
    );
    let login_throttle =
        crate::flow::throttle::LoginThrottle::new(config.login_max_failures, config.login_lockout);
    let session_cache_size = config.session_cache_size;
    let metrics = Arc::new(crate::metrics::Metrics::new().context("metrics registry")?);
    let config = Arc::new(config);
    Ok(AppState {
        code_key,
        schemas: config.schemas.clone(),
        config,
        store,
        hasher,
        clock,
        courier: Arc::new(courier),
        login_throttle: Arc::new(login_throttle),
        metrics,
        pages: Arc::new(crate::ui::Pages::new().context("page templates")?),
        whoami_cache: Arc::new(crate::session::cache::WhoamiCache::new(session_cache_size)),
    })
}

/// The state for an offline subcommand (no listeners, no background tasks).
pub async fn offline_state(config: Config) -> anyhow::Result<AppState> {
    let store = open_store(&config).await?;
    state_for(config, Clock::system(), store)
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let path = config.db.clone();
    let options = StoreOptions {
        pool_size: config.db_pool_size,
        ..StoreOptions::default()
    };
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || Store::open(&path, &options))
        .await
        .context("opening the database was cancelled")?
        .with_context(|| format!("--db: cannot open the database {shown}"))
}

/// Body limits and Kratos-format errors for every extractor.
fn extractor_configs(c: &mut web::ServiceConfig, state: &AppState) {
    let limit = state.config.max_body_bytes;
    c.app_data(
        web::JsonConfig::default()
            .limit(limit)
            .error_handler(error::extractors::json),
    )
    .app_data(
        web::FormConfig::default()
            .limit(limit)
            .error_handler(error::extractors::form),
    )
    .app_data(web::QueryConfig::default().error_handler(error::extractors::query))
    .app_data(web::PathConfig::default().error_handler(error::extractors::path))
    .app_data(web::PayloadConfig::default().limit(limit));
}
