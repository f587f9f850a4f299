//! Roster's HTTP layer: a thin actix-web 4 adapter over the domain services.
//!
//! - [`serve`] runs the server on a bound listener, reading connections
//!   through [`edge`]; [`app`] builds the same `App` for tests
//!   (`actix_web::test::init_service`). [`serve_metrics`] runs `/metrics`
//!   alone on a listener of its own (`metrics.listen`).
//! - Every error becomes RFC 9457 `application/problem+json`, mapped in one
//!   place: [`error`].
//! - Request bodies go through [`extract::ValidJson`], bearer tokens through
//!   [`extract::Authenticated`].
//! - Every response carries `X-Request-Id` ([`request_id`], set by
//!   [`middleware`]); Prometheus metrics live in a per-server registry
//!   ([`metrics`]).

pub mod browser;
pub mod conn;
pub mod edge;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod request_id;
pub mod routes;

use std::sync::Arc;

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    middleware::{from_fn, Condition},
    web, App, HttpServer,
};
use async_trait::async_trait;

pub use error::{ApiError, Problem};
pub use metrics::{Metrics, MetricsAccess, MetricsExposure, MetricsToken};

/// Settings of the HTTP server, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Largest accepted JSON request body (default 64 KiB); larger ones get a `413`.
    pub max_body_bytes: usize,
    /// Largest accepted picture upload (`images.max_upload_bytes`, default
    /// 10 MiB), enforced while it streams in.
    pub max_upload_bytes: usize,
    /// Worker threads; `0` lets actix choose (one per physical core).
    pub workers: usize,
    /// How long in-flight requests may run after SIGINT/SIGTERM (default 30 s).
    pub shutdown_timeout_secs: u64,
    /// The least time `forgot` and `resend` take to answer (default 250 ms),
    /// so that their timing does not tell whether an account has the address.
    pub mail_request_floor: std::time::Duration,
    /// Proxies (load balancers) whose `X-Forwarded-For` is believed: for a
    /// request from one of these, the client is the nearest address in that
    /// header that is not itself a trusted proxy. Empty: the peer address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Which browser origins may call the API ([`browser::cors`]).
    pub cors: browser::CorsConfig,
    /// Where `/metrics` is served and who may read it (default: nowhere).
    pub metrics: MetricsExposure,
    /// How long a request head may take to arrive (default 5 s); then `408`.
    pub head_timeout: std::time::Duration,
    /// How long a request body may take to arrive after its head (default
    /// 10 s); then `408` and the connection closes.
    pub body_timeout: std::time::Duration,
    /// Open connections per peer address (default 100; `0`: no cap). Past
    /// it, `503`. Connections from `trusted_proxies` are not counted.
    pub max_connections_per_ip: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 64 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
            workers: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            shutdown_timeout_secs: 30,
            mail_request_floor: std::time::Duration::from_millis(250),
            trusted_proxies: Vec::new(),
            cors: browser::CorsConfig {
                allowed_origins: Vec::new(),
                max_age_secs: browser::CorsConfig::DEFAULT_MAX_AGE_SECS,
            },
            metrics: MetricsExposure::default(),
            head_timeout: std::time::Duration::from_secs(5),
            body_timeout: std::time::Duration::from_secs(10),
            max_connections_per_ip: 100,
        }
    }
}

/// Database connection-pool figures, exported as gauges at every scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub size: usize,
    pub available: usize,
    pub max_size: usize,
    pub waiting: usize,
}

/// What `/health/ready` and the pool gauges ask of the storage adapter.
#[async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// `Ok` when the dependencies answer; `Err` carries the cause (logged,
    /// never shown to the caller).
    async fn check(&self) -> Result<(), String>;
    /// Current pool figures; cheap, no I/O.
    fn pool(&self) -> PoolStats;
}

/// Everything a handler needs, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub services: roster_domain::service::Services,
    /// The public signing keys, served at `/.well-known/jwks.json`.
    pub jwks: Arc<serde_json::Value>,
    pub readiness: Arc<dyn Readiness>,
    pub config: HttpConfig,
}

/// Builds the HTTP server on an already-bound listener (port 0 in tests); the
/// caller awaits it. actix's own signal handling drains in-flight requests on
/// SIGINT/SIGTERM within `shutdown_timeout_secs`. `metrics` is the registry
/// it records into, shared with [`serve_metrics`]. Connections are read
/// through [`edge`], which answers what actix-http would answer bare.
pub fn serve(
    listener: std::net::TcpListener,
    state: AppState,
    metrics: Metrics,
) -> std::io::Result<actix_web::dev::Server> {
    let config = state.config.clone();
    edge::server(listener, &config, move || app(state.clone(), metrics.clone()))
}

/// Serves `/metrics` alone on its own listener (`metrics.listen`), from the
/// registry `serve` records into, to whoever `state.config.metrics.own()`
/// lets in; one worker, and it stops on SIGINT/SIGTERM like [`serve`].
pub fn serve_metrics(
    listener: std::net::TcpListener,
    state: AppState,
    metrics: Metrics,
) -> std::io::Result<actix_web::dev::Server> {
    let shutdown = state.config.shutdown_timeout_secs;
    let server = HttpServer::new(move || metrics_app(state.clone(), metrics.clone()))
        .workers(1)
        .shutdown_timeout(shutdown)
        .listen(listener)?;
    Ok(server.run())
}

/// The application of [`serve_metrics`]: `/metrics` and nothing else.
pub fn metrics_app(
    state: AppState,
    metrics: Metrics,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let access = state.config.metrics.own();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(metrics))
        .app_data(web::Data::new(access))
        .configure(routes::ops::configure_metrics)
        .default_service(web::to(routes::not_found))
        .wrap(from_fn(middleware::request))
}

/// The application: routes, middleware and shared data. `serve` builds one per
/// worker with the same `metrics`; tests build one with `test::init_service`.
pub fn app(
    state: AppState,
    metrics: Metrics,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = browser::cors(&state.config.cors);
    let metrics_access = state.config.metrics.public();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(metrics))
        .app_data(web::Data::new(metrics_access))
        .app_data(web::Data::new(routes::ops::OpenApiJson::new(&openapi::document())))
        // Registered before the `/api/v1` scope, which would otherwise claim
        // `/api/v1/openapi.json`.
        .configure(routes::ops::configure)
        .service(
            web::scope("/api/v1")
                .configure(routes::auth::configure)
                .configure(routes::account::configure)
                .configure(routes::me::configure)
                .configure(routes::mfa::configure)
                .configure(routes::security::configure)
                .configure(routes::images::configure)
                .configure(routes::settings::configure)
                .configure(routes::push_tokens::configure)
                .configure(routes::sessions::configure)
                .configure(routes::allowed_ips::configure)
                .configure(routes::users::configure)
                .configure(routes::invitations::configure)
                .configure(routes::outbox::configure)
                .configure(routes::orgs::configure)
                .configure(routes::org_members::configure)
                .configure(routes::api_keys::configure)
                .configure(routes::org_invitations::configure),
        )
        .default_service(web::to(routes::not_found))
        .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
        .wrap(from_fn(metrics::middleware))
        .wrap(from_fn(middleware::request))
}
