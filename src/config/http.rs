//! The HTTP server's settings (`http`, `http.cors`) and where `/metrics` is
//! served (`metrics`).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::{Config, Secret};

/// Where Prometheus metrics (`/metrics`) are served. Neither set: nowhere.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// A listener of their own, e.g. `127.0.0.1:9464`: `/metrics` is served
    /// there and not on `listen`.
    pub listen: Option<SocketAddr>,
    /// A bearer token (at least 16 characters) that `/metrics` then asks for:
    /// on `listen` (the only way to serve it there), or on `metrics.listen`.
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    /// Worker threads; defaults to the number of CPU cores.
    pub workers: Option<usize>,
    pub shutdown_timeout_secs: u64,
    /// The least time `forgot` and `resend` take, so timing tells nothing about an address.
    pub mail_request_floor_ms: u64,
    /// Load balancers whose `X-Forwarded-For` is believed, as addresses or CIDR ranges
    /// (`["10.0.0.0/8"]`). Without them, the client is the peer address.
    pub trusted_proxies: Vec<String>,
    pub cors: CorsSettings,
    /// Seconds a request head may take to arrive; then `408` and the connection closes.
    pub head_timeout_secs: u64,
    /// Seconds a request body may take to arrive after its head; then `408` and the connection closes.
    pub body_timeout_secs: u64,
    /// Open connections per peer address (trusted proxies not counted); past it, `503`. `0`: no cap.
    pub max_connections_per_ip: usize,
}

/// Browsers on other origins (`http.cors`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsSettings {
    /// Origins (`https://app.example.com`) whose scripts may call the API, or
    /// `["*"]` for any. Empty (the default): no CORS.
    pub allowed_origins: Vec<String>,
    /// How long browsers may cache a preflight answer.
    pub max_age_secs: u64,
}

impl Default for CorsSettings {
    fn default() -> Self {
        CorsSettings {
            allowed_origins: Vec::new(),
            max_age_secs: roster_http::browser::CorsConfig::DEFAULT_MAX_AGE_SECS,
        }
    }
}

impl CorsSettings {
    /// What the HTTP layer takes.
    pub fn to_http(&self) -> roster_http::browser::CorsConfig {
        roster_http::browser::CorsConfig {
            allowed_origins: self.allowed_origins.clone(),
            max_age_secs: self.max_age_secs,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_body_bytes: 64 * 1024,
            workers: None,
            shutdown_timeout_secs: 30,
            mail_request_floor_ms: 250,
            trusted_proxies: Vec::new(),
            cors: CorsSettings::default(),
            head_timeout_secs: 5,
            body_timeout_secs: 10,
            max_connections_per_ip: 100,
        }
    }
}

impl HttpSettings {
    /// `trusted_proxies` parsed; a bare address is a single-host range.
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| p.to_string())
            })
            .collect()
    }
}

impl Config {
    pub(super) fn validate_metrics(&self, problems: &mut Vec<String>) {
        let m = &self.metrics;
        if m.listen.is_some_and(|addr| addr == self.listen && addr.port() != 0) {
            problems.push("metrics.listen must not be listen: /metrics is served there instead of the API".into());
        }
        if let Some(token) = &m.token {
            let t = token.expose();
            if t.chars().count() < 16 || t.chars().any(char::is_whitespace) {
                problems.push("metrics.token must be at least 16 characters, without spaces".into());
            }
        }
    }
}
