//! Configuration: `ServeArgs` is what clap parses from flags and `POSTERN_*`
//! variables; `Config` is the validated result, built once at start-up and shared
//! read-only (`Arc<Config>`), never global.

use crate::identity::schema::{IdentitySchema, SchemaRegistry, DEFAULT_SCHEMA_ID};
use crate::password::HashParams;
use anyhow::Context;
use clap::{Args, Parser, ValueEnum};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use url::Url;

/// argon2id parameters, shared by `serve` and `hash-password`.
#[derive(Clone, Debug, Args)]
pub struct HashArgs {
    /// argon2id memory cost in KiB.
    #[arg(long, env = "POSTERN_HASH_MEMORY_KIB", default_value_t = HashParams::DEFAULT.memory_kib)]
    pub hash_memory_kib: u32,
    /// argon2id iterations (time cost).
    #[arg(long, env = "POSTERN_HASH_ITERATIONS", default_value_t = HashParams::DEFAULT.iterations)]
    pub hash_iterations: u32,
    /// argon2id parallelism (lanes).
    #[arg(long, env = "POSTERN_HASH_PARALLELISM", default_value_t = HashParams::DEFAULT.parallelism)]
    pub hash_parallelism: u32,
}

impl HashArgs {
    pub fn params(&self) -> anyhow::Result<HashParams> {
        let params = HashParams {
            memory_kib: self.hash_memory_kib,
            iterations: self.hash_iterations,
            parallelism: self.hash_parallelism,
        };
        params.argon2().map_err(|e| {
            anyhow::anyhow!(
                "--hash-memory-kib / --hash-iterations / --hash-parallelism: {e} \
                 (memory must be at least 8 × parallelism KiB, iterations ≥ 1, parallelism 1..=16777215)"
            )
        })?;
        Ok(params)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SameSite {
    Lax,
    Strict,
    None,
}

/// How registration asks for traits and credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RegistrationStyle {
    /// One form: traits and password together (Kratos `unified`).
    OneStep,
    /// Kratos's two-step `profile_first`: traits first, then the password.
    #[value(name = "profile_first", alias = "profile-first")]
    ProfileFirst,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `postern serve` flags. Every flag also reads the `POSTERN_*` variable named in
/// its help.
#[derive(Clone, Debug, Parser)]
#[command(name = "postern")]
pub struct ServeArgs {
    /// SQLite database file (created and migrated on start).
    #[arg(long, env = "POSTERN_DB", default_value = "postern.sqlite")]
    pub db: PathBuf,
    /// Use a temporary database file, deleted on exit (for CI and demos).
    #[arg(long, env = "POSTERN_EPHEMERAL")]
    pub ephemeral: bool,
    /// Address of the public API (browsers, apps). Port 0 picks a free port.
    #[arg(long, env = "POSTERN_PUBLIC_LISTEN", default_value = "127.0.0.1:4433")]
    pub public_listen: SocketAddr,
    /// Address of the admin API (your backend only). Keep it on loopback.
    #[arg(long, env = "POSTERN_ADMIN_LISTEN", default_value = "127.0.0.1:4434")]
    pub admin_listen: SocketAddr,
    /// Public URL clients reach the public API at (default: http://<public-listen>/).
    #[arg(long, env = "POSTERN_PUBLIC_BASE_URL")]
    pub public_base_url: Option<Url>,
    /// An identity schema as ID=PATH (repeatable). Default: the built-in email + password schema, id `default`.
    #[arg(long = "identity-schema", env = "POSTERN_IDENTITY_SCHEMA", value_delimiter = ',', value_parser = parse_schema_arg)]
    pub identity_schemas: Vec<(String, PathBuf)>,
    /// Schema id used for identities created without one.
    #[arg(long, env = "POSTERN_DEFAULT_SCHEMA_ID", default_value = DEFAULT_SCHEMA_ID)]
    pub default_schema_id: String,
    #[command(flatten)]
    pub hash: HashArgs,
    /// How many password hashes may run at once (each uses --hash-memory-kib of memory). Default: the CPUs Postern may run on, at most 8; more than that only adds memory, since hashing is all CPU.
    #[arg(long, env = "POSTERN_HASH_CONCURRENCY", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub hash_concurrency: Option<u32>,
    /// Developer mode: cheap password hashing and debug logs. Never in production.
    #[arg(long, env = "POSTERN_DEV")]
    pub dev: bool,
    /// Log output format.
    #[arg(long, env = "POSTERN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// Log filter, e.g. `info` or `postern=debug,actix_web=info` (default: info; debug with --dev).
    #[arg(long, env = "POSTERN_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "POSTERN_MAX_BODY_BYTES", default_value_t = 1_048_576, value_parser = clap::value_parser!(u64).range(1024..=67_108_864))]
    pub max_body_bytes: u64,
    /// HTTP worker threads per listener (default: one per CPU core).
    #[arg(long, env = "POSTERN_WORKERS", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub workers: Option<u32>,
    /// Read connections (and threads) in the database pool; writes have one connection of their own.
    #[arg(long, env = "POSTERN_DB_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub db_pool_size: u32,
    /// How long a self-service flow stays usable, e.g. `1h`, `30m`.
    #[arg(long, env = "POSTERN_FLOW_LIFESPAN", default_value = "1h", value_parser = parse_duration)]
    pub flow_lifespan: time::Duration,
    /// How long a session lasts after login, e.g. `24h`, `30d`.
    #[arg(long, env = "POSTERN_SESSION_LIFESPAN", default_value = "24h", value_parser = parse_duration)]
    pub session_lifespan: time::Duration,
    /// Where browsers go after login, registration and logout when no `return_to` applies (default: <ui-url>/welcome).
    #[arg(long, env = "POSTERN_DEFAULT_RETURN_URL")]
    pub default_return_url: Option<Url>,
    /// A URL `return_to` may point at (repeatable; scheme, host and path prefix must match; `https://*.example.com/` allows subdomains).
    #[arg(
        long = "allowed-return-url",
        env = "POSTERN_ALLOWED_RETURN_URL",
        value_delimiter = ','
    )]
    pub allowed_return_urls: Vec<Url>,
    /// Base URL of the self-service UI: flows redirect browsers to <ui-url>/login?flow=<id> etc. (default: <public-base-url>/ui).
    #[arg(long, env = "POSTERN_UI_URL")]
    pub ui_url: Option<Url>,
    /// Domain attribute of the session and CSRF cookies (default: host-only).
    #[arg(long, env = "POSTERN_COOKIE_DOMAIN")]
    pub cookie_domain: Option<String>,
    /// SameSite attribute of the session cookie (CSRF cookies fall back to Lax when not Secure).
    #[arg(long, env = "POSTERN_COOKIE_SAME_SITE", value_enum, default_value_t = SameSite::Lax)]
    pub cookie_same_site: SameSite,
    /// Registration form style.
    #[arg(long, env = "POSTERN_REGISTRATION_STYLE", value_enum, default_value_t = RegistrationStyle::OneStep)]
    pub registration_style: RegistrationStyle,
    /// Do not log users in after they register (Kratos without the `session` hook).
    #[arg(long, env = "POSTERN_NO_SESSION_AFTER_REGISTRATION")]
    pub no_session_after_registration: bool,
    /// SMTP server for mail: smtp://user:pass@host:port (STARTTLS when offered), smtps://… (implicit TLS); `?skip_ssl_verify=true`, `?disable_starttls=true`. Without it, mail stays in the outbox (admin API).
    #[arg(long, env = "POSTERN_SMTP_URL")]
    pub smtp_url: Option<Url>,
    /// Sender of mail, e.g. `Acme <no-reply@acme.test>`.
    #[arg(
        long,
        env = "POSTERN_SMTP_FROM",
        default_value = "Postern <no-reply@localhost>"
    )]
    pub smtp_from: String,
    /// Directory whose files override the built-in mail templates (same relative paths).
    #[arg(long, env = "POSTERN_COURIER_TEMPLATES")]
    pub courier_templates: Option<PathBuf>,
    /// Delivery attempts before a message is abandoned.
    #[arg(long, env = "POSTERN_COURIER_MAX_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub courier_max_attempts: u32,
    /// How often the courier looks for due messages (it is also woken when one is queued).
    #[arg(long, env = "POSTERN_COURIER_POLL_INTERVAL", default_value = "1s", value_parser = parse_std_duration)]
    pub courier_poll_interval: std::time::Duration,
    /// How long recovery and verification codes stay valid.
    #[arg(long, env = "POSTERN_CODE_LIFESPAN", default_value = "1h", value_parser = parse_duration)]
    pub code_lifespan: time::Duration,
    /// How recent a login must be to change the password or identifiers (else re-authenticate).
    #[arg(long, env = "POSTERN_PRIVILEGED_SESSION_MAX_AGE", default_value = "15m", value_parser = parse_duration)]
    pub privileged_session_max_age: time::Duration,
    /// Requests per minute per client IP for sensitive operations (every self-service submit, revoking sessions); 0 disables.
    #[arg(long, env = "POSTERN_RATE_LIMIT_LOW", default_value_t = 1000)]
    pub rate_limit_low: u32,
    /// Requests per minute per client IP for regular operations (creating flows, listing sessions); 0 disables.
    #[arg(long, env = "POSTERN_RATE_LIMIT_MEDIUM", default_value_t = 2000)]
    pub rate_limit_medium: u32,
    /// Requests per minute per client IP for high-frequency operations (whoami, fetching flows); 0 disables.
    #[arg(long, env = "POSTERN_RATE_LIMIT_HIGH", default_value_t = 5000)]
    pub rate_limit_high: u32,
    /// Requests a client may make at once before the per-minute rate applies (0: the bucket's per-minute limit).
    #[arg(long, env = "POSTERN_RATE_LIMIT_BURST", default_value_t = 0)]
    pub rate_limit_burst: u32,
    /// A proxy (IP or CIDR) whose X-Forwarded-For is believed (repeatable). Without it, the TCP peer is the client.
    #[arg(long = "trusted-proxy", env = "POSTERN_TRUSTED_PROXY", value_delimiter = ',', value_parser = parse_cidr)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// An origin allowed to call the public API from a browser with credentials, e.g. http://localhost:3000 (repeatable; enables CORS; `*` allows any origin without credentials).
    #[arg(long = "cors-allowed-origin", env = "POSTERN_CORS_ALLOWED_ORIGIN", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_allowed_origins: Vec<String>,
    /// How long browsers may cache a CORS preflight answer, in seconds.
    #[arg(long, env = "POSTERN_CORS_MAX_AGE", default_value_t = 600)]
    pub cors_max_age: usize,
    /// Failed logins for one identifier before it is locked for a while (all IPs together).
    #[arg(long, env = "POSTERN_LOGIN_MAX_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub login_max_failures: u32,
    /// First lockout after too many failed logins; doubles with each further failure, up to an hour.
    #[arg(long, env = "POSTERN_LOGIN_LOCKOUT", default_value = "30s", value_parser = parse_duration)]
    pub login_lockout: time::Duration,
    /// Require `Authorization: Bearer <TOKEN>` on every admin route except health. Needed to bind the admin listener off loopback.
    #[arg(long, env = "POSTERN_ADMIN_TOKEN", conflicts_with = "admin_token_file")]
    pub admin_token: Option<String>,
    /// Read the admin token from a file (first line).
    #[arg(long, env = "POSTERN_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// How long expired sessions, flows, codes and old mail are kept before cleanup deletes them.
    #[arg(long, env = "POSTERN_CLEANUP_RETENTION", default_value = "7d", value_parser = parse_duration)]
    pub cleanup_retention: time::Duration,
    /// How often the cleanup task runs.
    #[arg(long, env = "POSTERN_CLEANUP_INTERVAL", default_value = "1h", value_parser = parse_std_duration)]
    pub cleanup_interval: std::time::Duration,
    /// Session checks kept in memory, about 1.6 KiB each (0 disables). Any change to a session, identity or address invalidates them; expiry is checked on every use.
    #[arg(long, env = "POSTERN_SESSION_CACHE_SIZE", default_value_t = 100_000)]
    pub session_cache_size: usize,
    /// Do not serve the built-in self-service pages under /ui/ (use --ui-url for your own).
    #[arg(long, env = "POSTERN_NO_UI")]
    pub no_ui: bool,
    /// Key that seals stored mail bodies and keys the digests of codes (default: `<db>.key`, created on first start). Back it up with the database.
    #[arg(long, env = "POSTERN_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Keep the identity's other sessions when its password changes (default: revoke them).
    #[arg(long, env = "POSTERN_KEEP_SESSIONS_ON_PASSWORD_CHANGE")]
    pub keep_sessions_on_password_change: bool,
}

/// Hashing is pure CPU work: one hash per CPU Postern may run on (its
/// affinity mask, so a server pinned to one core hashes one at a time instead
/// of thrashing the cache with two 19 MiB working sets), at most 8 by default
/// so that memory stays small on big machines.
fn default_hash_concurrency() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(8) as u32)
}

fn parse_cidr(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{s}` is not an IP address or CIDR like 10.0.0.0/8"))
}

/// `scheme://host[:port]`, or `*`.
fn parse_origin(s: &str) -> Result<String, String> {
    if s == "*" {
        return Ok(s.to_owned());
    }
    let url = Url::parse(s)
        .map_err(|e| format!("`{s}` is not an origin like https://app.example.com: {e}"))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.path() != "/"
        || url.query().is_some()
    {
        return Err(format!(
            "`{s}` is not an origin: use scheme://host[:port] without a path"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

fn parse_std_duration(s: &str) -> Result<std::time::Duration, String> {
    parse_duration(s).and_then(|d| std::time::Duration::try_from(d).map_err(|e| e.to_string()))
}

fn parse_duration(s: &str) -> Result<time::Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration like 30m, 1h or 7d: {e}"))?;
    if d.is_zero() {
        return Err("the duration must be longer than zero".into());
    }
    time::Duration::try_from(d).map_err(|e| e.to_string())
}

fn parse_schema_arg(s: &str) -> Result<(String, PathBuf), String> {
    let (id, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected ID=PATH, got `{s}`"))?;
    if id.is_empty() || path.is_empty() {
        return Err(format!(
            "expected ID=PATH with both parts non-empty, got `{s}`"
        ));
    }
    Ok((id.to_owned(), PathBuf::from(path)))
}

/// Validated configuration.
#[derive(Debug)]
pub struct Config {
    pub db: PathBuf,
    pub ephemeral: bool,
    pub public_listen: SocketAddr,
    pub admin_listen: SocketAddr,
    /// Resolved once the public listener is bound (port 0 becomes the real
    /// port): set it with `set_public_base_url`, which also re-resolves what
    /// depends on it.
    public_base_url: Url,
    pub public_base_url_explicit: bool,
    pub schemas: Arc<SchemaRegistry>,
    pub hash_params: HashParams,
    pub hash_concurrency: u32,
    pub dev: bool,
    pub max_body_bytes: usize,
    pub workers: usize,
    pub db_pool_size: u32,
    pub flow_lifespan: time::Duration,
    pub session_lifespan: time::Duration,
    default_return_url: Option<Url>,
    /// Derived from the public base URL once (and again when it changes,
    /// see `set_public_base_url`) rather than on every request: the name of
    /// the CSRF cookie (`flow::csrf::cookie_name`)...
    csrf_cookie_name: String,
    /// ...and the `return_to` policy: these URLs, the public base URL and the
    /// default return URL (`default_return_url`, or the UI's welcome page),
    /// which it also holds for `default_return_url()`.
    return_to_policy: crate::flow::return_to::ReturnToPolicy,
    allowed_return_urls: Vec<Url>,
    ui_url: Option<Url>,
    pub cookie_domain: Option<String>,
    pub cookie_same_site: SameSite,
    pub registration_style: RegistrationStyle,
    pub session_after_registration: bool,
    pub smtp: Option<crate::courier::smtp::SmtpSettings>,
    pub courier_templates: Option<PathBuf>,
    pub courier_max_attempts: u32,
    pub courier_poll_interval: std::time::Duration,
    pub code_lifespan: time::Duration,
    pub privileged_session_max_age: time::Duration,
    pub keep_sessions_on_password_change: bool,
    pub key_file: Option<PathBuf>,
    pub rate_limits: [u32; 3],
    pub rate_limit_burst: u32,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub cors_allowed_origins: Vec<String>,
    pub cors_max_age: usize,
    pub login_max_failures: u32,
    pub login_lockout: time::Duration,
    pub admin_token: Option<String>,
    pub cleanup_retention: time::Duration,
    pub cleanup_interval: std::time::Duration,
    pub serve_ui: bool,
    pub session_cache_size: usize,
}

impl TryFrom<ServeArgs> for Config {
    type Error = anyhow::Error;

    fn try_from(args: ServeArgs) -> anyhow::Result<Config> {
        let hash_params = if args.dev {
            HashParams::DEV
        } else {
            args.hash.params()?
        };
        let schemas = load_schemas(&args.identity_schemas, &args.default_schema_id)?;
        let admin_token = admin_token(&args)?;
        if let Some(url) = &args.public_base_url {
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                anyhow::bail!("--public-base-url must be an http(s) URL with a host, got `{url}`");
            }
        }
        let public_base_url = match &args.public_base_url {
            Some(u) => normalize_base(u.clone()),
            None => derived_base_url(args.public_listen)?,
        };
        let mut config = Config {
            db: args.db,
            ephemeral: args.ephemeral,
            public_listen: args.public_listen,
            admin_listen: args.admin_listen,
            public_base_url_explicit: args.public_base_url.is_some(),
            csrf_cookie_name: String::new(),
            return_to_policy: crate::flow::return_to::ReturnToPolicy::new(
                public_base_url.clone(),
                &public_base_url,
                Vec::new(),
            ),
            public_base_url,
            schemas: Arc::new(schemas),
            hash_params,
            hash_concurrency: args
                .hash_concurrency
                .unwrap_or_else(default_hash_concurrency),
            dev: args.dev,
            max_body_bytes: usize::try_from(args.max_body_bytes).unwrap_or(1_048_576),
            workers: args.workers.map_or_else(
                || std::thread::available_parallelism().map_or(2, usize::from),
                |w| w as usize,
            ),
            db_pool_size: args.db_pool_size,
            flow_lifespan: args.flow_lifespan,
            session_lifespan: args.session_lifespan,
            default_return_url: args.default_return_url,
            allowed_return_urls: args.allowed_return_urls,
            ui_url: args.ui_url.map(normalize_base),
            cookie_domain: args.cookie_domain.filter(|d| !d.is_empty()),
            cookie_same_site: args.cookie_same_site,
            registration_style: args.registration_style,
            session_after_registration: !args.no_session_after_registration,
            smtp: args
                .smtp_url
                .as_ref()
                .map(|u| crate::courier::smtp::SmtpSettings::parse(u, &args.smtp_from))
                .transpose()
                .map_err(anyhow::Error::msg)?,
            courier_templates: args.courier_templates,
            courier_max_attempts: args.courier_max_attempts,
            courier_poll_interval: args.courier_poll_interval,
            code_lifespan: args.code_lifespan,
            privileged_session_max_age: args.privileged_session_max_age,
            keep_sessions_on_password_change: args.keep_sessions_on_password_change,
            key_file: args.key_file,
            rate_limits: [
                args.rate_limit_low,
                args.rate_limit_medium,
                args.rate_limit_high,
            ],
            rate_limit_burst: args.rate_limit_burst,
            trusted_proxies: args.trusted_proxies,
            cors_allowed_origins: args.cors_allowed_origins,
            cors_max_age: args.cors_max_age,
            login_max_failures: args.login_max_failures,
            login_lockout: args.login_lockout,
            admin_token,
            cleanup_retention: args.cleanup_retention,
            cleanup_interval: args.cleanup_interval,
            serve_ui: !args.no_ui,
            session_cache_size: args.session_cache_size,
        };
        config.resolve_derived();
        Ok(config)
    }
}

fn load_schemas(args: &[(String, PathBuf)], default_id: &str) -> anyhow::Result<SchemaRegistry> {
    if args.is_empty() {
        if default_id != DEFAULT_SCHEMA_ID {
            anyhow::bail!(
                "--default-schema-id is `{default_id}`, but only the built-in schema `{DEFAULT_SCHEMA_ID}` is configured; add --identity-schema {default_id}=PATH"
            );
        }
        return SchemaRegistry::builtin();
    }
    let mut schemas = Vec::new();
    for (id, path) in args {
        if schemas.iter().any(|s: &IdentitySchema| &s.id == id) {
            anyhow::bail!("--identity-schema: the id `{id}` is given twice");
        }
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("--identity-schema: cannot read identity schema file {origin}")
        })?;
        schemas.push(IdentitySchema::parse(id, &text, &origin)?);
    }
    SchemaRegistry::new(schemas, default_id)
}

/// The admin token from `--admin-token` or `--admin-token-file`; an admin
/// listener off loopback without one is refused (anyone could manage identities).
fn admin_token(args: &ServeArgs) -> anyhow::Result<Option<String>> {
    let token = match (&args.admin_token, &args.admin_token_file) {
        (Some(t), _) => Some(t.trim().to_owned()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("--admin-token-file: cannot read {}", path.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    if token.as_deref().is_some_and(|t| t.len() < 16) {
        anyhow::bail!("--admin-token: use at least 16 characters (e.g. `openssl rand -hex 32`)");
    }
    if token.is_none() && !args.admin_listen.ip().is_loopback() {
        anyhow::bail!(
            "--admin-listen {} is not a loopback address: anyone who reaches it could manage identities. Set --admin-token (or --admin-token-file), or keep the admin listener on 127.0.0.1",
            args.admin_listen
        );
    }
    Ok(token)
}

/// `<db>.key`: the key file beside the database.
pub fn default_key_file(db: &std::path::Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// `http://<listen address>/`, with an unspecified IP (0.0.0.0, ::) read as loopback.
pub fn derived_base_url(listen: SocketAddr) -> anyhow::Result<Url> {
    let ip = if listen.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        listen.ip()
    };
    let addr = SocketAddr::new(ip, listen.port());
    Url::parse(&format!("http://{addr}/")).context("cannot derive the public base URL")
}

/// Base URLs end in `/` so that joining paths is predictable.
fn normalize_base(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    url
}

impl Config {
    /// `<public base>/<path>` as a string, e.g. `public_url("self-service/login")`.
    pub fn public_url(&self, path: &str) -> String {
        format!("{}{}", self.public_base_url, path.trim_start_matches('/'))
    }

    /// The public base URL without its trailing slash.
    pub fn public_base(&self) -> &str {
        self.public_base_url.as_str().trim_end_matches('/')
    }

    /// `<ui-url>/<page>`, e.g. `ui_page("login")` (default UI base: `<public>/ui`).
    pub fn ui_page(&self, page: &str) -> String {
        match &self.ui_url {
            Some(u) => format!("{u}{page}"),
            None => self.public_url(&format!("ui/{page}")),
        }
    }

    /// Where browsers land when nothing else applies.
    pub fn default_return_url(&self) -> &Url {
        self.return_to_policy.default_url()
    }

    pub fn public_base_url(&self) -> &Url {
        &self.public_base_url
    }

    /// The CSRF cookie's name, which depends on the public base URL.
    pub fn csrf_cookie_name(&self) -> &str {
        &self.csrf_cookie_name
    }

    /// Sets the public base URL (once the listener is bound, port 0 becomes
    /// the real port) and what depends on it.
    pub fn set_public_base_url(&mut self, url: Url) {
        self.public_base_url = url;
        self.resolve_derived();
    }

    fn resolve_derived(&mut self) {
        let default_return_url = self.default_return_url.clone().unwrap_or_else(|| {
            Url::parse(&self.ui_page("welcome")).unwrap_or_else(|_| self.public_base_url.clone())
        });
        self.csrf_cookie_name = crate::flow::csrf::cookie_name(self.public_base_url.as_str());
        self.return_to_policy = crate::flow::return_to::ReturnToPolicy::new(
            default_return_url,
            &self.public_base_url,
            self.allowed_return_urls.clone(),
        );
    }

    /// The `return_to` policy, derived with the other URL-dependent values.
    pub fn return_to_policy(&self) -> &crate::flow::return_to::ReturnToPolicy {
        &self.return_to_policy
    }

    /// `--allowed-return-url`s as configured.
    pub fn allowed_return_urls(&self) -> &[Url] {
        &self.allowed_return_urls
    }

    /// Cookies get `Secure` when the public base URL is https.
    pub fn cookies_secure(&self) -> bool {
        self.public_base_url.scheme() == "https"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut all = vec!["postern"];
        all.extend_from_slice(args);
        let serve = ServeArgs::try_parse_from(all).map_err(|e| e.to_string())?;
        Config::try_from(serve).map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn the_default_return_url_follows_the_bound_address_unless_configured() {
        let mut c = parse(&["--public-listen", "127.0.0.1:0"]).unwrap();
        c.set_public_base_url(Url::parse("http://127.0.0.1:4455/").unwrap());
        assert_eq!(
            c.default_return_url().as_str(),
            "http://127.0.0.1:4455/ui/welcome"
        );
        assert_eq!(
            c.csrf_cookie_name(),
            crate::flow::csrf::cookie_name("http://127.0.0.1:4455/")
        );
        // The return_to policy allows the bound address, not the unbound one.
        let policy = c.return_to_policy();
        assert!(policy.check("http://127.0.0.1:4455/after").is_some());
        assert!(policy.check("http://127.0.0.1:4433/after").is_none());
        let mut c = parse(&[
            "--default-return-url",
            "https://app.example/home",
            "--allowed-return-url",
            "https://other.example/",
        ])
        .unwrap();
        c.set_public_base_url(Url::parse("http://127.0.0.1:4455/").unwrap());
        assert_eq!(c.default_return_url().as_str(), "https://app.example/home");
        let policy = c.return_to_policy();
        for allowed in [
            "https://app.example/home/x",
            "https://other.example/y",
            "http://127.0.0.1:4455/z",
        ] {
            assert!(policy.check(allowed).is_some(), "{allowed}");
        }
        assert!(policy.check("https://evil.example/").is_none());
    }

    #[test]
    fn defaults_give_a_working_config() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.public_listen.to_string(), "127.0.0.1:4433");
        assert_eq!(c.admin_listen.to_string(), "127.0.0.1:4434");
        assert_eq!(c.public_base_url.as_str(), "http://127.0.0.1:4433/");
        assert_eq!(c.hash_params, HashParams::DEFAULT);
        assert_eq!(c.schemas.default_id(), "default");
    }

    #[test]
    fn bad_values_name_their_flag() {
        let e = parse(&["--public-listen", "nope"]).unwrap_err();
        assert!(e.contains("--public-listen"), "{e}");
        let e = parse(&["--hash-parallelism", "0"]).unwrap_err();
        assert!(e.contains("--hash-"), "{e}");
        let e = parse(&["--identity-schema", "noequals"]).unwrap_err();
        assert!(e.contains("--identity-schema"), "{e}");
        let e = parse(&["--identity-schema", "x=/does/not/exist.json"]).unwrap_err();
        assert!(e.contains("/does/not/exist.json"), "{e}");
        let e = parse(&["--default-schema-id", "other"]).unwrap_err();
        assert!(e.contains("--default-schema-id"), "{e}");
        let e = parse(&["--public-base-url", "ftp://x/"]).unwrap_err();
        assert!(e.contains("--public-base-url"), "{e}");
    }

    #[test]
    fn dev_mode_uses_cheap_hashing() {
        assert_eq!(parse(&["--dev"]).unwrap().hash_params, HashParams::DEV);
    }

    #[test]
    fn unspecified_listen_address_derives_a_loopback_base_url() {
        let c = parse(&["--public-listen", "0.0.0.0:8080"]).unwrap();
        assert_eq!(c.public_base_url.as_str(), "http://127.0.0.1:8080/");
        let c = parse(&["--public-base-url", "https://auth.example.com/id"]).unwrap();
        assert_eq!(
            c.public_url("self-service/login"),
            "https://auth.example.com/id/self-service/login"
        );
    }
}
