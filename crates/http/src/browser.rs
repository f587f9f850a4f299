//! What browsers need of every answer: CORS for the origins an operator
//! lists ([`cors`], on actix-cors), and the headers that keep answers out of
//! caches, frames and content sniffing ([`secure`], applied by
//! [`crate::middleware::request`] to every response, errors included).
//! `HEAD` is answered for every `GET` by the same middleware.

use actix_cors::Cors;
use actix_web::http::{
    header::{self, HeaderMap, HeaderName, HeaderValue},
    Method,
};

/// Cross-origin access from browsers (`http.cors`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsConfig {
    /// Origins (`https://app.example.com`, scheme, host and port only)
    /// whose scripts may call the API; `*` for any. Empty: no CORS headers
    /// at all, and browsers keep other origins out.
    pub allowed_origins: Vec<String>,
    /// How long a browser may cache a preflight answer.
    pub max_age_secs: u64,
}

impl CorsConfig {
    /// The default preflight cache: ten minutes.
    pub const DEFAULT_MAX_AGE_SECS: u64 = 600;

    /// Checks that every listed origin is an origin: `scheme://host[:port]`,
    /// or `*` alone. Returns the first bad one with the reason.
    pub fn validate(&self) -> Result<(), String> {
        for origin in &self.allowed_origins {
            if origin == "*" {
                if self.allowed_origins.len() > 1 {
                    return Err("`*` allows every origin: list it alone".into());
                }
                continue;
            }
            let Some((scheme, rest)) = origin.split_once("://") else {
                return Err(format!("{origin:?} is not an origin such as https://app.example.com"));
            };
            let host_ok = !rest.is_empty()
                && !rest.contains(['/', '?', '#', '@', ' '])
                && rest.parse::<actix_web::http::uri::Authority>().is_ok();
            if !(scheme == "https" || scheme == "http") || !host_ok {
                return Err(format!(
                    "{origin:?} is not an origin such as https://app.example.com (scheme, host and port only)"
                ));
            }
        }
        Ok(())
    }
}

/// The request headers a browser script may send.
const ALLOWED_HEADERS: [HeaderName; 5] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    HeaderName::from_static("x-request-id"),
];

/// The response headers a browser script may read beyond the safelisted ones.
const EXPOSED_HEADERS: [HeaderName; 3] =
    [HeaderName::from_static("x-request-id"), header::RETRY_AFTER, header::LOCATION];

/// The CORS middleware for `config`, or `None` when no origin is listed.
/// Credentials (cookies) are never allowed: the API takes bearer tokens.
/// A request from an unlisted origin is served as if CORS did not exist
/// (no CORS headers, so the browser withholds the answer from the script);
/// its preflight is refused with a `400` problem.
pub fn cors(config: &CorsConfig) -> Option<Cors> {
    if config.allowed_origins.is_empty() {
        return None;
    }
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allowed_headers(ALLOWED_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(usize::try_from(config.max_age_secs).ok())
        .block_on_origin_mismatch(false);
    for origin in &config.allowed_origins {
        cors = if origin == "*" { cors.allow_any_origin().send_wildcard() } else { cors.allowed_origin(origin) };
    }
    Some(cors)
}

/// The policy of every answer but the documentation's: nothing may load
/// from it or frame it (JSON needs neither).
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Swagger UI's: its own scripts, styles (it sets inline styles from script)
/// and data-URI icons from this origin, no framing.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Sets the security headers of the answer to `path`:
/// - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` on every answer;
/// - a `Content-Security-Policy` with `frame-ancestors 'none'` (Swagger UI's own under `/docs`);
/// - `Cache-Control: no-store` on every `/api/v1` answer and `/metrics` that
///   did not choose its own: they are per-caller and mostly personal data
///   (users, members, sessions, `/me`).
pub(crate) fn secure(path: &str, headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let docs = path == "/docs" || path.starts_with("/docs/");
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(if docs { DOCS_CSP } else { API_CSP }));
    let private = path.starts_with("/api/v1/") || path == "/metrics";
    if private && !headers.contains_key(header::CACHE_CONTROL) && path != crate::routes::ops::OPENAPI_PATH {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        let config =
            |o: &[&str]| CorsConfig { allowed_origins: o.iter().map(|s| s.to_string()).collect(), max_age_secs: 600 };
        assert!(config(&[]).validate().is_ok());
        assert!(config(&["https://app.example.com", "http://localhost:5173"]).validate().is_ok());
        assert!(config(&["*"]).validate().is_ok());
        for bad in ["app.example.com", "https://app.example.com/", "ftp://x.io", "https://", "https://a b", "*,x"] {
            assert!(config(&[bad]).validate().is_err(), "{bad}");
        }
        assert!(config(&["*", "https://a.io"]).validate().is_err());
    }

    #[test]
    fn personal_answers_are_not_stored_and_chosen_policies_are_kept() {
        let mut h = HeaderMap::new();
        secure("/api/v1/me", &mut h);
        assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        let mut h = HeaderMap::new();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
        secure("/api/v1/users", &mut h);
        assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "max-age=60");
        let mut h = HeaderMap::new();
        secure("/.well-known/jwks.json", &mut h);
        assert!(h.get(header::CACHE_CONTROL).is_none());
        assert!(h.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().contains("frame-ancestors 'none'"));
        let mut h = HeaderMap::new();
        secure("/docs/index.html", &mut h);
        assert!(h
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'; script-src 'self'"));
    }
}
