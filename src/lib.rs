//! The `roster` binary's library half: configuration, wiring of the
//! adapters into the domain services, and start-up. `main.rs` is the CLI;
//! the end-to-end tests build the very same app through [`Roster::build`].

pub mod adapters;
pub mod banner;
pub mod config;
pub mod secrets;
pub mod telemetry;
pub mod worker;

use std::{net::TcpListener, sync::Arc, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use chrono::Duration as Span;
use roster_domain::{
    auth::LockoutPolicy,
    mail::{AccountPolicy, RateLimit, RateLimits, RetryPolicy},
    ports::{BlobStore, Mailer, SystemClock},
    service::{AuthPolicy, LoginLimit, MfaPolicy, Ports, Services},
};
use roster_http::{AppState, HttpConfig, Metrics, MetricsExposure, MetricsToken, PoolStats, Readiness};
use roster_images::{ImageLimits, ImagePipeline};
use roster_postgres::{
    embedded::{EmbeddedOptions, EmbeddedPostgres},
    pool::{build_pool, ping, pool_status, PgPool, PoolConfig},
    signing_keys::PgSigningKeyStore,
    PgAccountRepository, PgAllowedIpRepository, PgApiKeyRepository, PgImageRepository, PgLocationRepository, PgLockout,
    PgMemberRepository, PgMfaRepository, PgOrgInvitationRepository, PgOrgRepository, PgOutboxRepository,
    PgPushTokenRepository, PgRateLimits, PgRoleRepository, PgSessionRepository, PgSettingsRepository, PgUserRepository,
};
use roster_smtp::{Composer, ComposerConfig, LinkTemplates, MailerConfig};

use crate::{
    adapters::{bcrypt::BcryptHasher, jwt::JwtSigner},
    config::Config,
    secrets::DerivedKeys,
    worker::{OutboxWorker, WorkerSettings},
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
        accounts: account_policy(config),
        outbox: retry_policy(config),
        lockout: LockoutPolicy {
            max_failures: a.lockout.max_failures,
            window: Span::seconds(a.lockout.window_secs),
            first_lock: Span::seconds(a.lockout.lock_secs),
            max_lock: Span::seconds(a.lockout.max_lock_secs),
        },
        mfa: MfaPolicy {
            issuer_name: a.mfa.issuer_name.clone(),
            challenge_ttl: Span::seconds(a.mfa.challenge_ttl_secs),
            challenge_attempts: a.mfa.challenge_attempts,
        },
        login_limit: LoginLimit {
            per_ip: config.rate_limits.login.per_ip,
            window: Span::seconds(config.rate_limits.login.window_secs),
        },
    }
}

fn limit(l: &config::LimitConfig) -> RateLimit {
    RateLimit { per_address: l.per_address, per_ip: l.per_ip, window: Span::seconds(l.window_secs) }
}

fn account_policy(config: &Config) -> AccountPolicy {
    let m = &config.mail;
    let r = &config.rate_limits;
    AccountPolicy {
        require_verified_email: config.auth.require_verified_email,
        verify_email_ttl: Span::seconds(m.verify_email_ttl_secs),
        change_email_ttl: Span::seconds(m.change_email_ttl_secs),
        reset_password_ttl: Span::seconds(m.reset_password_ttl_secs),
        invitation_ttl: Span::seconds(m.invitation_ttl_secs),
        limits: RateLimits {
            forgot: limit(&r.forgot_password),
            resend: limit(&r.resend_verification),
            invite: limit(&r.invite),
            email_taken: limit(&r.email_taken),
        },
    }
}

fn retry_policy(config: &Config) -> RetryPolicy {
    let w = &config.mail.worker;
    RetryPolicy {
        max_attempts: w.max_attempts,
        base_delay: Span::seconds(w.base_delay_secs),
        max_delay: Span::seconds(w.max_delay_secs),
        lease: Span::seconds(w.lease_secs),
        batch: w.batch,
    }
}

/// The relay of `smtp_url`, or `.eml` files under `data_dir/mail`.
fn mailer(config: &Config) -> anyhow::Result<Arc<dyn Mailer>> {
    let cfg = MailerConfig { from: config.mail.from.clone(), timeout: Duration::from_secs(config.mail.timeout_secs) };
    let url = match &config.smtp_url {
        Some(url) => url.expose().to_string(),
        None => {
            let dir = config.data_dir.join("mail");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let dir = dir.canonicalize().unwrap_or(dir);
            tracing::info!(dir = %dir.display(), "no smtp_url: mail is written as .eml files (set ROSTER_SMTP_URL to send it)");
            format!("file://{}", dir.display())
        }
    };
    roster_smtp::from_url(&url, &cfg).context("configuring the mail relay (smtp_url)")
}

/// The store of `storage_url`, or files under `data_dir/objects`.
fn blob_store(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    let url = match &config.storage_url {
        Some(url) => url.clone(),
        None => {
            let dir = config.data_dir.join("objects");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let dir = dir.canonicalize().unwrap_or(dir);
            format!("file://{}", dir.display())
        }
    };
    roster_storage::from_url(&url, &config.storage).context("configuring the object store (storage_url)")
}

fn image_pipeline(config: &Config) -> ImagePipeline {
    let i = &config.images;
    let limits = ImageLimits {
        max_side: i.max_side,
        max_pixels: i.max_pixels,
        max_alloc_bytes: i.max_decode_bytes,
        jpeg_quality: i.jpeg_quality,
    };
    ImagePipeline::new(limits, i.workers.unwrap_or_else(cores))
}

fn composer(config: &Config) -> anyhow::Result<Composer> {
    let l = &config.mail.links;
    Composer::new(ComposerConfig {
        product_name: config.mail.product_name.clone(),
        public_url: config.public_url.clone(),
        links: LinkTemplates {
            verify_email: l.verify_email.clone(),
            change_email: l.change_email.clone(),
            reset_password: l.reset_password.clone(),
            invitation: l.invitation.clone(),
            org_invitation: l.org_invitation.clone(),
        },
    })
    .map_err(|e| anyhow::anyhow!("mail templates: {e}"))
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// A migrated database with the services wired on it.
pub struct Roster {
    pub state: AppState,
    pub pool: PgPool,
    /// The registry the server records into and `/metrics` renders, on
    /// either listener.
    pub metrics: Metrics,
    /// How this process's outbox worker runs; `None` when turned off.
    pub worker: Option<WorkerSettings>,
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
            accounts: Arc::new(PgAccountRepository::new(pool.clone())),
            orgs: Arc::new(PgOrgRepository::new(pool.clone())),
            roles: Arc::new(PgRoleRepository::new(pool.clone())),
            locations: Arc::new(PgLocationRepository::new(pool.clone())),
            members: Arc::new(PgMemberRepository::new(pool.clone())),
            api_keys: Arc::new(PgApiKeyRepository::new(pool.clone())),
            org_invitations: Arc::new(PgOrgInvitationRepository::new(pool.clone())),
            settings: Arc::new(PgSettingsRepository::new(pool.clone())),
            push_tokens: Arc::new(PgPushTokenRepository::new(pool.clone())),
            allowed_ips: Arc::new(PgAllowedIpRepository::new(pool.clone())),
            outbox: Arc::new(PgOutboxRepository::new(pool.clone())),
            rate_limits: Arc::new(PgRateLimits::new(pool.clone())),
            lockout: Arc::new(PgLockout::new(pool.clone())),
            mfa: Arc::new(PgMfaRepository::new(pool.clone())),
            mfa_sealer: Arc::new(keys.mfa),
            images: Arc::new(PgImageRepository::new(pool.clone())),
            blobs: blob_store(config)?,
            processor: Arc::new(image_pipeline(config)),
            hasher: Arc::new(hasher),
            signer: Arc::new(signer),
            composer: Arc::new(composer(config)?),
            sealer: Arc::new(keys.outbox),
            mailer: mailer(config)?,
            clock: Arc::new(SystemClock),
        };
        let services = Services::new(ports, policy, keys.refresh.clone());
        let http = HttpConfig {
            max_body_bytes: config.http.max_body_bytes,
            max_upload_bytes: config.images.max_upload_bytes,
            workers: config.http.workers.unwrap_or_else(cores),
            shutdown_timeout_secs: config.http.shutdown_timeout_secs,
            mail_request_floor: Duration::from_millis(config.http.mail_request_floor_ms),
            trusted_proxies: config.http.trusted_proxy_nets().map_err(|p| anyhow::anyhow!("bad trusted proxy {p}"))?,
            cors: config.http.cors.to_http(),
            metrics: MetricsExposure {
                own_listener: config.metrics.listen.is_some(),
                token: config.metrics.token.as_ref().map(|t| MetricsToken::new(t.expose())),
            },
            head_timeout: Duration::from_secs(config.http.head_timeout_secs),
            body_timeout: Duration::from_secs(config.http.body_timeout_secs),
            max_connections_per_ip: config.http.max_connections_per_ip,
        };
        let state = AppState { services, jwks, readiness: Arc::new(PgReadiness(pool.clone())), config: http };
        let w = &config.mail.worker;
        let worker = WorkerSettings {
            poll_interval: Duration::from_millis(w.poll_interval_ms),
            error_backoff: Duration::from_millis(w.poll_interval_ms.max(1000)),
            keep_sent: Span::days(w.keep_sent_days),
            prune_every: Duration::from_secs(3600),
        };
        let metrics = Metrics::new().context("registering the metrics")?;
        Ok(Roster { state, pool, metrics, worker: w.enabled.then_some(worker) })
    }

    /// Starts this process's outbox worker, unless configuration turned it off.
    pub fn start_worker(&self) -> Option<OutboxWorker> {
        let services = &self.state.services;
        self.worker.map(|settings| OutboxWorker::start(services.outbox.clone(), services.images.clone(), settings))
    }

    /// Serves on `listener` until SIGINT/SIGTERM, draining in-flight requests.
    pub fn serve(self, listener: TcpListener) -> anyhow::Result<actix_web::dev::Server> {
        Ok(roster_http::serve(listener, self.state, self.metrics)?)
    }

    /// Serves `/metrics` alone on `listener` (`metrics.listen`), from the
    /// registry [`Roster::serve`] records into; stops on SIGINT/SIGTERM too.
    pub fn serve_metrics(&self, listener: TcpListener) -> anyhow::Result<actix_web::dev::Server> {
        Ok(roster_http::serve_metrics(listener, self.state.clone(), self.metrics.clone())?)
    }
}
