//! The `roster` binary's library half: configuration, wiring of the
//! adapters into the domain services, and start-up. `main.rs` is the CLI;
//! the end-to-end tests build the very same app through [`Roster::start`].

pub mod adapters;
pub mod config;
pub mod secrets;
pub mod telemetry;

use std::{net::TcpListener, sync::Arc, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use chrono::Duration as Span;
use roster_domain::{
    auth::AuthPolicy,
    ports::SystemClock,
    service::{Ports, Services},
};
use roster_http::{AppState, HttpConfig, PoolStats, Readiness};
use roster_postgres::{
    embedded::{EmbeddedOptions, EmbeddedPostgres},
    pool::{build_pool, ping, pool_status, PgPool, PoolConfig},
    signing_keys::PgSigningKeyStore,
    PgSessionRepository, PgUserRepository,
};

use crate::{
    adapters::{bcrypt::BcryptHasher, jwt::JwtSigner},
    config::Config,
    secrets::DerivedKeys,
};

/// Where the database is: an external URL, or the embedded cluster Roster runs.
pub struct Database {
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Uses `database_url`, or starts (or reuses) the embedded cluster under
    /// `data_dir/postgres`.
    pub async fn open(config: &Config) -> anyhow::Result<Database> {
        if let Some(url) = &config.database_url {
            return Ok(Database { url: url.expose().to_string(), embedded: None });
        }
        let mut opts = EmbeddedOptions::new(config.data_dir.join("postgres"));
        opts.bin_dir = config.database.postgres_bin_dir.clone();
        let pg = EmbeddedPostgres::start(opts)
            .await
            .context("starting the embedded PostgreSQL (set ROSTER_DATABASE_URL to use an existing server instead)")?;
        Ok(Database { url: pg.database_url(), embedded: Some(pg) })
    }

    /// Stops the embedded cluster, if this process started it.
    pub async fn close(self) {
        if let Some(pg) = self.embedded {
            if let Err(e) = pg.stop().await {
                tracing::error!(error = %e, "stopping the embedded PostgreSQL failed");
            }
        }
    }
}

/// The pool, as the readiness probe and the metrics see it.
struct PgReadiness(PgPool);

#[async_trait]
impl Readiness for PgReadiness {
    async fn check(&self) -> Result<(), String> {
        ping(&self.0).await.map_err(|e| e.to_string())
    }

    fn pool(&self) -> PoolStats {
        let status = self.0.status();
        let (size, available, max_size) = pool_status(&self.0);
        PoolStats { size, available, max_size, waiting: status.waiting }
    }
}

/// The key-encryption secret: configured, or generated into the data dir.
fn master_secret(config: &Config) -> anyhow::Result<zeroize::Zeroizing<[u8; 32]>> {
    match &config.key_encryption_secret {
        Some(s) => {
            secrets::decode_secret(s.expose()).context("key_encryption_secret must be 32 bytes as hex or base64")
        }
        None => secrets::load_or_create_secret_file(&config.data_dir),
    }
}

/// The policy the domain enforces, from configuration.
pub fn auth_policy(config: &Config) -> AuthPolicy {
    let a = &config.auth;
    AuthPolicy {
        issuer: config.public_url.trim_end_matches('/').to_string(),
        audience: a.audience.clone(),
        access_ttl: Span::seconds(a.access_token_ttl_secs),
        refresh_ttl: Span::seconds(a.refresh_token_ttl_secs),
        session_ttl: Span::seconds(a.session_ttl_secs),
        reuse_grace: Span::seconds(a.refresh_reuse_grace_secs),
        open_registration: a.open_registration,
        password: a.password.clone(),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// A migrated database with the services wired on it.
pub struct Roster {
    pub state: AppState,
    pub pool: PgPool,
}

impl Roster {
    /// Runs migrations on `database_url`, then builds every adapter and service.
    pub async fn build(config: &Config, database_url: &str) -> anyhow::Result<Roster> {
        let applied =
            roster_postgres::migrate::run_migrations(database_url).await.context("running database migrations")?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
        let pool_config = PoolConfig {
            max_size: config.database.max_connections,
            wait_timeout: Duration::from_millis(config.database.acquire_timeout_ms),
            create_timeout: Duration::from_millis(config.database.connect_timeout_ms),
            recycle_timeout: Duration::from_millis(config.database.connect_timeout_ms),
            ..PoolConfig::default()
        };
        let pool = build_pool(database_url, &pool_config).context("building the connection pool")?;
        let keys = DerivedKeys::new(&*master_secret(config)?)?;
        let policy = auth_policy(config);
        let signer = JwtSigner::load(&PgSigningKeyStore::new(pool.clone()), &keys, &policy.issuer, &policy.audience)
            .await
            .context("loading the token signing keys")?;
        let jwks = Arc::new(signer.jwks());
        let hasher = BcryptHasher::new(config.auth.bcrypt_cost, config.auth.hash_workers.unwrap_or_else(cores)).await?;
        let ports = Ports {
            users: Arc::new(PgUserRepository::new(pool.clone())),
            sessions: Arc::new(PgSessionRepository::new(pool.clone())),
            hasher: Arc::new(hasher),
            signer: Arc::new(signer),
            clock: Arc::new(SystemClock),
        };
        let services = Services::new(ports, policy, keys.refresh.clone());
        let http = HttpConfig {
            max_body_bytes: config.http.max_body_bytes,
            workers: config.http.workers.unwrap_or_else(cores),
            shutdown_timeout_secs: config.http.shutdown_timeout_secs,
        };
        let state = AppState { services, jwks, readiness: Arc::new(PgReadiness(pool.clone())), config: http };
        Ok(Roster { state, pool })
    }

    /// Serves on `listener` until SIGINT/SIGTERM, draining in-flight requests.
    pub fn serve(self, listener: TcpListener) -> anyhow::Result<actix_web::dev::Server> {
        Ok(roster_http::serve(listener, self.state)?)
    }
}
