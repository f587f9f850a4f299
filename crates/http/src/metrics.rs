//! Prometheus metrics in a registry owned by one server (no global recorder,
//! so several apps can run in one process): request counts and latencies by
//! matched route, and the database pool and mail outbox gauges read at
//! scrape time (the outbox figures come from the database, so every process
//! reports the same, whichever worker sent what).
//!
//! Who may read them is [`MetricsAccess`]: nobody on the public listener
//! unless a token is configured ([`MetricsExposure`]), or anyone who reaches
//! a listener of their own ([`crate::serve_metrics`]).

use std::{sync::Arc, time::Instant};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web, HttpRequest,
};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use roster_domain::mail::OutboxStats;
use sha2::{Digest, Sha256};

use crate::PoolStats;

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The route label of requests no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The upper bounds (seconds) of the latency histogram's buckets: few, since
/// each is a line per method and route at every scrape (the default 11 made
/// `/metrics` past 100 KB once every route was hit); from an indexed read to
/// a bcrypt hash and the 250 ms floor of the mail requests, then `+Inf`.
pub const DURATION_BUCKETS: [f64; 6] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The bearer token `/metrics` asks for (`metrics.token`): only its SHA-256
/// is kept, and a presented token's digest is compared in constant time, so
/// the time taken tells neither where they differ nor the token's length.
/// Never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    pub fn new(token: &str) -> MetricsToken {
        MetricsToken(Sha256::digest(token.as_bytes()).into())
    }

    /// Whether `presented` is this token.
    pub fn matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(self.0.ct_eq(&digest))
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

/// Where `/metrics` is served, from configuration (`metrics.listen`,
/// `metrics.token`). The default serves it nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsExposure {
    /// `/metrics` has a listener of its own ([`crate::serve_metrics`]) and is
    /// not served on the public one.
    pub own_listener: bool,
    /// Wherever `/metrics` is served, it needs `Authorization: Bearer <token>`.
    pub token: Option<MetricsToken>,
}

impl MetricsExposure {
    /// Who may read `/metrics` on the public listener: with a token of its
    /// own and no listener of its own, the bearer of the token; else nobody
    /// (`404`, as for any unknown path).
    pub fn public(&self) -> MetricsAccess {
        match (&self.token, self.own_listener) {
            (Some(token), false) => MetricsAccess::Token(token.clone()),
            _ => MetricsAccess::NotHere,
        }
    }

    /// Who may read `/metrics` on its own listener: the bearer of the token
    /// if there is one, else anyone who can reach the listener.
    pub fn own(&self) -> MetricsAccess {
        self.token.clone().map_or(MetricsAccess::Open, MetricsAccess::Token)
    }
}

/// Who may read `/metrics` on one listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Not served on this listener: `404`.
    NotHere,
    /// Anyone who reaches the listener.
    Open,
    /// The bearer of the token; `401` for anyone else.
    Token(MetricsToken),
}

/// The metrics of one server, shared by its workers.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    pool_size: IntGauge,
    pool_available: IntGauge,
    pool_max_size: IntGauge,
    pool_waiting: IntGauge,
    outbox: IntGaugeVec,
    outbox_oldest_due: Gauge,
}

fn gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let g = IntGauge::new(name, help)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method, matched route and status."),
            &["method", "route", "status"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by method and matched route.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        registry.register(Box::new(duration.clone()))?;
        let outbox = IntGaugeVec::new(
            Opts::new(
                "roster_outbox_messages",
                "Mail in the outbox: pending (waiting or retrying), due (pending and due now), dead (given up on).",
            ),
            &["status"],
        )?;
        registry.register(Box::new(outbox.clone()))?;
        let outbox_oldest_due = Gauge::new(
            "roster_outbox_oldest_due_seconds",
            "Age of the oldest mail due for delivery; growing means the relay or the workers are behind.",
        )?;
        registry.register(Box::new(outbox_oldest_due.clone()))?;
        Ok(Metrics(Arc::new(Inner {
            outbox,
            outbox_oldest_due,
            pool_size: gauge(&registry, "roster_db_pool_size", "Database connections open.")?,
            pool_available: gauge(&registry, "roster_db_pool_available", "Idle database connections.")?,
            pool_max_size: gauge(&registry, "roster_db_pool_max_size", "Largest number of database connections.")?,
            pool_waiting: gauge(&registry, "roster_db_pool_waiting", "Tasks waiting for a database connection.")?,
            registry,
            requests,
            duration,
        })))
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.0.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.0.duration.with_label_values(&[method, route]).observe(seconds);
    }

    /// The text exposition of every metric, with the pool gauges set from
    /// `pool` and the outbox gauges from `outbox` (left as they were when the
    /// database could not be asked).
    pub fn render(&self, pool: PoolStats, outbox: Option<OutboxStats>) -> Result<String, String> {
        if let Some(o) = outbox {
            for (status, n) in [("pending", o.pending), ("due", o.due), ("dead", o.dead)] {
                self.0.outbox.with_label_values(&[status]).set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            self.0.outbox_oldest_due.set(o.oldest_due_seconds);
        }
        let set = |g: &IntGauge, v: usize| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        set(&self.0.pool_size, pool.size);
        set(&self.0.pool_available, pool.available);
        set(&self.0.pool_max_size, pool.max_size);
        set(&self.0.pool_waiting, pool.waiting);
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.0.registry.gather(), &mut buf).map_err(|e| e.to_string())?;
        String::from_utf8(buf).map_err(|e| e.to_string())
    }
}

/// The matched route pattern (e.g. `/api/v1/users/{id}`), or `unmatched`.
pub fn route_label(req: &HttpRequest) -> String {
    req.match_pattern().unwrap_or_else(|| UNMATCHED.to_string())
}

/// Standard methods by name; anything else is `other`, to bound the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request. Wrapped inside the request-id middleware.
pub async fn middleware<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.call(req).await;
    if let Some(metrics) = metrics {
        let seconds = started.elapsed().as_secs_f64();
        match &res {
            Ok(res) => metrics.observe(method, &route_label(res.request()), res.status().as_u16(), seconds),
            Err(e) => metrics.observe(method, UNMATCHED, e.as_response_error().status_code().as_u16(), seconds),
        }
    }
    res
}
