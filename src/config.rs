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
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub http: HttpSettings,
    pub log: LogConfig,
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
    pub password: PasswordPolicy,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    /// Worker threads; defaults to the number of CPU cores.
    pub workers: Option<usize>,
    pub shutdown_timeout_secs: u64,
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
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            http: HttpSettings::default(),
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
            password: PasswordPolicy::default(),
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings { max_body_bytes: 64 * 1024, workers: None, shutdown_timeout_secs: 30 }
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
        if self.database_url.is_some() && self.key_encryption_secret.is_none() {
            problems.push("key_encryption_secret (ROSTER_KEY_ENCRYPTION_SECRET) is required with database_url: every process sharing the database needs the same one".into());
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
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("bcrypt_cost") && e.contains("max_length") && e.contains("key_encryption_secret"), "{e}");
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Config { database_url: Some(Secret::new("postgres://u:hunter2@h/db")), ..Config::default() };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
