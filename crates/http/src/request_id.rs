//! `X-Request-Id` on every response, and one access-log line per request.
//!
//! The id comes from the caller when it is 1–128 characters of
//! `[A-Za-z0-9._-]`, otherwise it is a fresh UUIDv7. It is put in the request
//! extensions and in a task-local scoped around the inner service call, so
//! that error rendering ([`crate::error`]) writes the same id into the body.

use std::{fmt, sync::Arc, time::Instant};

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        header::{HeaderMap, HeaderName, HeaderValue},
        StatusCode,
    },
    middleware::Next,
    HttpMessage, HttpResponse, ResponseError,
};
use tracing::Instrument;

use crate::error::ApiError;

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

    fn from_headers(headers: &HeaderMap) -> RequestId {
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

/// The outermost middleware: assigns the id, makes it current, renders stray
/// errors as problems, sets the response header and writes the access log.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = RequestId::from_headers(req.headers());
    req.extensions_mut().insert(id.clone());
    let method = req.method().clone();
    let started = Instant::now();
    let span = tracing::info_span!("http_request", method = %method, request_id = %id);

    // Handlers' errors arrive as responses; only a failing middleware yields `Err`.
    let result = CURRENT
        .scope(id.clone(), async move {
            next.call(req).await.map(|res| crate::error::ensure_problem(res.map_into_boxed_body()))
        })
        .instrument(span.clone())
        .await;

    let log = |route: &str, status: u16| {
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        span.in_scope(|| {
            if status >= 500 {
                tracing::warn!(method = %method, route, status, latency_ms, request_id = %id, "request");
            } else {
                tracing::info!(method = %method, route, status, latency_ms, request_id = %id, "request");
            }
        });
    };
    match result {
        Ok(mut res) => {
            if let Ok(value) = HeaderValue::from_str(id.as_str()) {
                res.headers_mut().insert(X_REQUEST_ID, value);
            }
            log(&crate::metrics::route_label(res.request()), res.status().as_u16());
            Ok(res)
        }
        Err(source) => {
            log(crate::metrics::UNMATCHED, source.as_response_error().status_code().as_u16());
            Err(WithRequestId { id: id.clone(), source }.into())
        }
    }
}

/// A middleware's error, rendered as a problem carrying the request id.
#[derive(Debug)]
struct WithRequestId {
    id: RequestId,
    source: actix_web::Error,
}

impl fmt::Display for WithRequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.source, f)
    }
}

impl ResponseError for WithRequestId {
    fn status_code(&self) -> StatusCode {
        self.source.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut res = match self.source.as_error::<ApiError>() {
            Some(e) => e.response_with_id(self.id.as_str()),
            None => ApiError::Status(self.status_code()).response_with_id(self.id.as_str()),
        };
        if let Ok(value) = HeaderValue::from_str(self.id.as_str()) {
            res.headers_mut().insert(X_REQUEST_ID, value);
        }
        res
    }
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
