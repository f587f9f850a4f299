//! The id of a request: `X-Request-Id` on every response and in every
//! problem body.
//!
//! The id comes from the caller when it is 1–128 characters of
//! `[A-Za-z0-9._-]`, otherwise it is a fresh UUIDv7. The middleware
//! (`crate::middleware`) makes it current for the task serving the request,
//! so whatever renders an error there reads the same id with [`current`].

use std::{fmt, future::Future, sync::Arc};

use actix_web::http::header::{HeaderMap, HeaderName};

/// The header carrying the id, both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const MAX_LEN: usize = 128;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A caller-supplied id, if acceptable.
    pub fn parse(raw: &str) -> Option<RequestId> {
        let ok = (1..=MAX_LEN).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| RequestId(raw.into()))
    }

    /// A fresh UUIDv7.
    pub fn generate() -> RequestId {
        RequestId(uuid::Uuid::now_v7().to_string().into())
    }

    /// The caller's id from the headers, if acceptable, else a fresh one.
    pub fn from_headers(headers: &HeaderMap) -> RequestId {
        headers
            .get(&X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .and_then(RequestId::parse)
            .unwrap_or_else(RequestId::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of the request being served by this task, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(RequestId::clone).ok()
}

/// The current id, or a fresh one outside a request (never the case for
/// responses built inside the app).
pub fn current_or_new() -> RequestId {
    current().unwrap_or_else(RequestId::generate)
}

/// Runs `f` with `id` as the current request id.
pub async fn scope<F: Future>(id: RequestId, f: F) -> F::Output {
    CURRENT.scope(id, f).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_safe_ids() {
        assert!(RequestId::parse("abc-DEF_1.2").is_some());
        assert!(RequestId::parse(&"a".repeat(128)).is_some());
        assert!(RequestId::parse(&"a".repeat(129)).is_none());
        assert!(RequestId::parse("").is_none());
        assert!(RequestId::parse("has space").is_none());
        assert!(RequestId::parse("new\nline").is_none());
        assert!(RequestId::parse("ünï").is_none());
    }

    #[test]
    fn generated_ids_are_uuid_v7() {
        let id = RequestId::generate();
        assert_eq!(uuid::Uuid::parse_str(id.as_str()).unwrap().get_version_num(), 7);
    }
}
