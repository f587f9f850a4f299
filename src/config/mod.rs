//! Typed configuration: embedded defaults, overlaid by a TOML file
//! (`--config` / `ROSTER_CONFIG`), overlaid by `ROSTER_*` environment
//! variables (`__` separates sections: `ROSTER_AUTH__BCRYPT_COST=13`).
//! Validated once at start; secrets are wrapped so they never print.

use std::{net::SocketAddr, path::PathBuf};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use roster_domain::values::PasswordPolicy;
use serde::{Deserialize, Serialize};

mod http;
mod security;
mod storage;

pub use http::{CorsSettings, HttpSettings, MetricsConfig};
pub use roster_storage::StorageOptions;
pub use security::{LockoutConfig, LoginLimitConfig, MfaConfig};
pub use storage::ImagesConfig;

/// A secret string: deserializes like a string, never shows in `Debug`.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to serve on.
    pub listen: SocketAddr,
    /// Where the embedded defaults keep their state (database cluster, generated secret).
    pub data_dir: PathBuf,
    /// Public base URL: the `iss` of tokens and the base of links.
    pub public_url: String,
    /// An external PostgreSQL; without it Roster runs its own cluster under `data_dir/postgres`.
    pub database_url: Option<Secret>,
    /// 32 bytes, hex or base64, that encrypt signing keys at rest and key refresh-token
    /// derivation. Required with `database_url`; generated into `data_dir` otherwise.
    pub key_encryption_secret: Option<Secret>,
    /// The mail relay: `smtp://user:pass@host:587` (STARTTLS), `smtps://…:465`, or
    /// `file:///dir`. Without it, mail is written as `.eml` files under `data_dir/mail`.
    pub smtp_url: Option<Secret>,
    /// Where pictures are kept: `file:///path`, `s3://bucket[/prefix]` (see `storage`), or
    /// `memory://` (lost at exit). Without it, files under `data_dir/objects`.
    pub storage_url: Option<String>,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub mail: MailConfig,
    pub rate_limits: RateLimitsConfig,
    pub http: HttpSettings,
    pub metrics: MetricsConfig,
    /// Options of an `s3://` store (endpoint, region, path style, credentials,
    /// timeouts); unset ones fall back to the usual `AWS_*` variables.
    pub storage: StorageOptions,
    pub images: ImagesConfig,
    pub log: LogConfig,
}

/// Mail: sender, product name, links, token lifetimes and delivery.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The sender, e.g. `Roster <no-reply@example.com>`.
    pub from: String,
    /// The product named in messages.
    pub product_name: String,
    /// SMTP connect and command timeout.
    pub timeout_secs: u64,
    /// Link templates per flow: `{token}` is replaced by the token, `{public_url}` by the
    /// public URL. Point them at the host application's own pages.
    pub links: LinksConfig,
    pub verify_email_ttl_secs: i64,
    pub change_email_ttl_secs: i64,
    pub reset_password_ttl_secs: i64,
    pub invitation_ttl_secs: i64,
    pub worker: WorkerConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinksConfig {
    pub verify_email: String,
    pub change_email: String,
    pub reset_password: String,
    pub invitation: String,
    /// Invitation into an organization (accept to become a member).
    pub org_invitation: String,
}

/// The outbox worker that runs in every process.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Run a worker in this process (every process may; they never send a message twice).
    pub enabled: bool,
    /// How often an idle worker looks for due mail.
    pub poll_interval_ms: u64,
    /// Messages claimed at once.
    pub batch: u32,
    /// Attempts before a message is parked as dead.
    pub max_attempts: u32,
    /// Delay after the first failure, doubled after each further one (with jitter).
    pub base_delay_secs: i64,
    pub max_delay_secs: i64,
    /// How long a claimed message is hidden from other workers.
    pub lease_secs: i64,
    /// Sent messages are forgotten after this many days.
    pub keep_sent_days: i64,
}

/// One limit: requests per address and per client IP in each window.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitConfig {
    pub per_address: u32,
    pub per_ip: u32,
    pub window_secs: i64,
}

/// Rate limits of the endpoints that send mail, counted in PostgreSQL.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    pub forgot_password: LimitConfig,
    pub resend_verification: LimitConfig,
    pub invite: LimitConfig,
    /// An organization's `409 email_taken` answers to `POST /users`:
    /// `per_address` counts per organization.
    pub email_taken: LimitConfig,
    /// Failed sign-ins (wrong passwords and wrong MFA codes) per client
    /// address, on any accounts.
    pub login: LoginLimitConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Most connections in the pool.
    pub max_connections: usize,
    /// How long a request waits for a pooled connection before answering 503.
    pub acquire_timeout_ms: u64,
    /// How long opening a connection may take.
    pub connect_timeout_ms: u64,
    /// PostgreSQL binaries for the embedded cluster (default: `pg_config --bindir`,
    /// else the newest `/usr/lib/postgresql/*/bin`).
    pub postgres_bin_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub session_ttl_secs: i64,
    /// A rotated refresh token presented again within this many seconds gets the
    /// same successor (concurrent tabs); later, it revokes the session.
    pub refresh_reuse_grace_secs: i64,
    pub open_registration: bool,
    /// bcrypt cost, 10 to 31.
    pub bcrypt_cost: u32,
    /// Concurrent hashes; defaults to the number of CPU cores.
    pub hash_workers: Option<usize>,
    /// Refuse login until the email address is verified.
    pub require_verified_email: bool,
    pub password: PasswordPolicy,
    pub lockout: LockoutConfig,
    pub mfa: MfaConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `roster=debug,info`.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            public_url: "http://127.0.0.1:8080".into(),
            database_url: None,
            key_encryption_secret: None,
            smtp_url: None,
            storage_url: None,
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            mail: MailConfig::default(),
            rate_limits: RateLimitsConfig::default(),
            http: HttpSettings::default(),
            metrics: MetricsConfig::default(),
            storage: StorageOptions::default(),
            images: ImagesConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            max_connections: 16,
            acquire_timeout_ms: 3000,
            connect_timeout_ms: 5000,
            postgres_bin_dir: None,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            audience: "roster".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            session_ttl_secs: 90 * 24 * 3600,
            refresh_reuse_grace_secs: 10,
            open_registration: true,
            bcrypt_cost: 12,
            hash_workers: None,
            require_verified_email: false,
            password: PasswordPolicy::default(),
            lockout: LockoutConfig::default(),
            mfa: MfaConfig::default(),
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            from: "Roster <no-reply@localhost>".into(),
            product_name: "Roster".into(),
            timeout_secs: 10,
            links: LinksConfig::default(),
            verify_email_ttl_secs: 48 * 3600,
            change_email_ttl_secs: 24 * 3600,
            reset_password_ttl_secs: 3600,
            invitation_ttl_secs: 7 * 24 * 3600,
            worker: WorkerConfig::default(),
        }
    }
}

impl Default for LinksConfig {
    fn default() -> Self {
        LinksConfig {
            verify_email: "{public_url}/verify-email?token={token}".into(),
            change_email: "{public_url}/verify-email?token={token}".into(),
            reset_password: "{public_url}/reset-password?token={token}".into(),
            invitation: "{public_url}/accept-invitation?token={token}".into(),
            org_invitation: "{public_url}/join-organization?token={token}".into(),
        }
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            enabled: true,
            poll_interval_ms: 1000,
            batch: 16,
            max_attempts: 10,
            base_delay_secs: 30,
            max_delay_secs: 3600,
            lease_secs: 120,
            keep_sent_days: 7,
        }
    }
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        let hourly = |per_address, per_ip| LimitConfig { per_address, per_ip, window_secs: 3600 };
        RateLimitsConfig {
            forgot_password: hourly(5, 30),
            resend_verification: hourly(5, 30),
            invite: hourly(5, 200),
            email_taken: hourly(30, 30),
            login: LoginLimitConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, level: "info".into() }
    }
}

/// Why configuration was refused. The message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Defaults ← TOML file (if given) ← `ROSTER_*` environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!("config file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file(path));
        }
        let env = Env::prefixed("ROSTER_").ignore(&["CONFIG", "TEST_DATABASE_URL"]).split("__");
        let config: Config = figment.merge(env).extract().map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Every rule at once, so one start shows every mistake.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        self.images.validate(&mut problems);
        let a = &self.auth;
        if !(10..=31).contains(&a.bcrypt_cost) {
            problems.push(format!("auth.bcrypt_cost must be between 10 and 31 (got {})", a.bcrypt_cost));
        }
        if let Err(e) = a.password.check() {
            problems.push(e);
        }
        if a.access_token_ttl_secs < 30 || a.access_token_ttl_secs > 24 * 3600 {
            problems.push("auth.access_token_ttl_secs must be between 30 and 86400".into());
        }
        if a.refresh_token_ttl_secs < 60 || a.refresh_token_ttl_secs > a.session_ttl_secs {
            problems.push("auth.refresh_token_ttl_secs must be at least 60 and at most auth.session_ttl_secs".into());
        }
        if !(0..=300).contains(&a.refresh_reuse_grace_secs) {
            problems.push("auth.refresh_reuse_grace_secs must be between 0 and 300".into());
        }
        if a.hash_workers == Some(0) {
            problems.push("auth.hash_workers must be at least 1".into());
        }
        if a.audience.trim().is_empty() {
            problems.push("auth.audience must not be empty".into());
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            problems.push("public_url must start with http:// or https://".into());
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".into());
        }
        if self.database.acquire_timeout_ms == 0 || self.database.connect_timeout_ms == 0 {
            problems.push("database timeouts must be positive".into());
        }
        if self.http.max_body_bytes < 1024 {
            problems.push("http.max_body_bytes must be at least 1024".into());
        }
        if self.http.workers == Some(0) {
            problems.push("http.workers must be at least 1".into());
        }
        if !(1..=3600).contains(&self.http.head_timeout_secs) || !(1..=3600).contains(&self.http.body_timeout_secs) {
            problems.push("http.head_timeout_secs and http.body_timeout_secs must be between 1 and 3600".into());
        }
        if self.database_url.is_some() && self.key_encryption_secret.is_none() {
            problems.push("key_encryption_secret (ROSTER_KEY_ENCRYPTION_SECRET) is required with database_url: every process sharing the database needs the same one".into());
        }
        self.validate_mail(&mut problems);
        if let Err(bad) = self.http.cors.to_http().validate() {
            problems.push(format!("http.cors.allowed_origins: {bad}"));
        }
        self.validate_metrics(&mut problems);
        if let Err(bad) = self.http.trusted_proxy_nets() {
            problems.push(format!("http.trusted_proxies: {bad:?} is not an IP address or CIDR range"));
        }
        if let Some(s) = &self.key_encryption_secret {
            if crate::secrets::decode_secret(s.expose()).is_none() {
                problems.push("key_encryption_secret must be 32 bytes as 64 hex characters or base64".into());
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems.join("; ")))
        }
    }
}

impl Config {
    fn validate_mail(&self, problems: &mut Vec<String>) {
        let m = &self.mail;
        if m.from.trim().is_empty() || !m.from.contains('@') {
            problems.push("mail.from must be an address, e.g. \"Roster <no-reply@example.com>\"".into());
        }
        if m.product_name.trim().is_empty() {
            problems.push("mail.product_name must not be empty".into());
        }
        if m.timeout_secs == 0 {
            problems.push("mail.timeout_secs must be at least 1".into());
        }
        let links = [
            ("verify_email", &m.links.verify_email),
            ("change_email", &m.links.change_email),
            ("reset_password", &m.links.reset_password),
            ("invitation", &m.links.invitation),
            ("org_invitation", &m.links.org_invitation),
        ];
        for (name, template) in links {
            if !template.contains("{token}") {
                problems.push(format!("mail.links.{name} must contain {{token}}"));
            }
        }
        let ttls = [
            ("verify_email_ttl_secs", m.verify_email_ttl_secs),
            ("change_email_ttl_secs", m.change_email_ttl_secs),
            ("reset_password_ttl_secs", m.reset_password_ttl_secs),
            ("invitation_ttl_secs", m.invitation_ttl_secs),
        ];
        for (name, secs) in ttls {
            if !(60..=90 * 24 * 3600).contains(&secs) {
                problems.push(format!("mail.{name} must be between 60 and 7776000"));
            }
        }
        let w = &m.worker;
        if w.poll_interval_ms == 0 || w.batch == 0 || w.max_attempts == 0 {
            problems.push("mail.worker.poll_interval_ms, batch and max_attempts must be at least 1".into());
        }
        if w.base_delay_secs < 1 || w.max_delay_secs < w.base_delay_secs {
            problems.push("mail.worker.base_delay_secs must be at least 1 and at most max_delay_secs".into());
        }
        if w.lease_secs < 2 * (m.timeout_secs as i64) * 3 {
            problems.push(
                "mail.worker.lease_secs must be at least 6 × mail.timeout_secs (a send may take 3 timeouts)".into(),
            );
        }
        if w.keep_sent_days < 1 {
            problems.push("mail.worker.keep_sent_days must be at least 1".into());
        }
        let r = &self.rate_limits;
        for (name, l) in [
            ("forgot_password", r.forgot_password),
            ("resend_verification", r.resend_verification),
            ("invite", r.invite),
            ("email_taken", r.email_taken),
        ] {
            if l.per_address == 0 || l.per_ip == 0 || !(1..=7 * 24 * 3600).contains(&l.window_secs) {
                problems.push(format!(
                    "rate_limits.{name}: per_address and per_ip must be at least 1, window_secs 1..=604800"
                ));
            }
        }
        let l = &r.login;
        if l.per_ip == 0 || !(1..=7 * 24 * 3600).contains(&l.window_secs) {
            problems.push("rate_limits.login: per_ip must be at least 1, window_secs 1..=604800".into());
        }
        let k = &self.auth.lockout;
        if k.max_failures == 0 || k.max_failures > 100 {
            problems.push("auth.lockout.max_failures must be 1..=100 (ASVS V2.2.1 allows at most 100 an hour)".into());
        }
        if !(60..=24 * 3600).contains(&k.window_secs) {
            problems.push("auth.lockout.window_secs must be 60..=86400".into());
        }
        if k.lock_secs < 1 || k.max_lock_secs < k.lock_secs || k.max_lock_secs > 24 * 3600 {
            problems.push("auth.lockout: lock_secs at least 1, max_lock_secs from lock_secs to 86400".into());
        }
        let f = &self.auth.mfa;
        if f.issuer_name.trim().is_empty() || f.issuer_name.len() > 64 {
            problems.push("auth.mfa.issuer_name must be 1..=64 characters".into());
        }
        if !(30..=3600).contains(&f.challenge_ttl_secs) || !(1..=20).contains(&f.challenge_attempts) {
            problems.push("auth.mfa: challenge_ttl_secs 30..=3600, challenge_attempts 1..=20".into());
        }
        if let Some(url) = &self.smtp_url {
            let u = url.expose();
            if !(u.starts_with("smtp://") || u.starts_with("smtps://") || u.starts_with("file://")) {
                problems.push("smtp_url must start with smtp://, smtps:// or file://".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn every_problem_is_reported() {
        let mut c = Config::default();
        c.auth.bcrypt_cost = 4;
        c.auth.password.max_length = 100;
        c.database_url = Some(Secret::new("postgres://u:p@h/db"));
        c.http.body_timeout_secs = 0;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("bcrypt_cost") && e.contains("max_length") && e.contains("key_encryption_secret"), "{e}");
        assert!(e.contains("http.body_timeout_secs"), "{e}");
    }

    #[test]
    fn mail_settings_are_checked_together() {
        let mut c = Config::default();
        c.mail.links.reset_password = "https://app.example.com/reset".into();
        c.mail.links.org_invitation = "{public_url}/join-organization".into();
        c.mail.reset_password_ttl_secs = 5;
        c.http.trusted_proxies = vec!["10.0.0.0/8".into(), "192.0.2.1".into(), "proxy.local".into()];
        c.smtp_url = Some(Secret::new("http://mail.example.com"));
        let e = c.validate().unwrap_err().to_string();
        for needle in [
            "mail.links.reset_password",
            "mail.links.org_invitation",
            "reset_password_ttl_secs",
            "proxy.local",
            "smtp_url",
        ] {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
        c.http.trusted_proxies.pop();
        assert_eq!(c.http.trusted_proxy_nets().unwrap().len(), 2);
    }

    #[test]
    fn secrets_do_not_print() {
        let mut c = Config { database_url: Some(Secret::new("postgres://u:hunter2@h/db")), ..Config::default() };
        c.metrics.token = Some(Secret::new("hunter3-metrics-token"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("hunter3"), "{shown}");
    }

    #[test]
    fn metrics_are_served_nowhere_by_default_and_their_settings_are_checked() {
        let c = Config::default();
        assert!(c.metrics.listen.is_none() && c.metrics.token.is_none());
        let mut c = Config::default();
        c.metrics.listen = Some(c.listen);
        c.metrics.token = Some(Secret::new("short"));
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("metrics.listen") && e.contains("metrics.token"), "{e}");
        c.metrics.listen = Some(SocketAddr::from(([127, 0, 0, 1], 9464)));
        c.metrics.token = Some(Secret::new("a-long-enough-metrics-token"));
        c.validate().unwrap();
    }
}
