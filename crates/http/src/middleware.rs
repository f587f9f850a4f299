//! The middleware every request passes through first: it gives the request
//! its id ([`RequestId`]) and makes it current, serves `HEAD` as `GET`
//! (actix-http then sends the headers without the body), renders any error
//! response that is not yet a problem as one ([`ensure_problem`]), sets
//! `X-Request-Id` and the security headers ([`browser::secure`]) on the
//! response and writes one access-log line.

use std::{fmt, time::Instant};

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderMap, HeaderValue},
        Method, StatusCode,
    },
    middleware::Next,
    HttpMessage, HttpResponse, ResponseError,
};
use tracing::Instrument;

use crate::{
    browser,
    conn::EdgeConn,
    error::{ApiError, PROBLEM_JSON},
    metrics,
    request_id::{self, RequestId, X_REQUEST_ID},
};

/// The outermost middleware: assigns the id, makes it current, serves `HEAD`
/// as `GET`, renders stray errors as problems, sets the response headers and
/// writes the access log.
pub async fn request(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = RequestId::from_headers(req.headers());
    req.extensions_mut().insert(id.clone());
    if let Some(conn) = req.conn_data::<EdgeConn>() {
        conn.set_request_id(id.as_str());
    }
    let method = req.method().clone();
    // HTTP requires HEAD wherever GET is served. actix-http decided at parse
    // time that a HEAD request's answer goes without its body, so the GET
    // route's answer is sent as headers only, `Content-Length` included.
    if method == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let path = req.path().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("http_request", method = %method, request_id = %id);

    // Handlers' errors arrive as responses; only a failing middleware yields `Err`.
    let result = request_id::scope(id.clone(), async move {
        next.call(req).await.map(|res| ensure_problem(res.map_into_boxed_body()))
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
            browser::secure(&path, res.headers_mut());
            log(&metrics::route_label(res.request()), res.status().as_u16());
            Ok(res)
        }
        Err(source) => {
            log(metrics::UNMATCHED, source.as_response_error().status_code().as_u16());
            Err(WithRequestId { id: id.clone(), path, source }.into())
        }
    }
}

/// A middleware's error, rendered as a problem carrying the request id.
#[derive(Debug)]
struct WithRequestId {
    id: RequestId,
    path: String,
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
        browser::secure(&self.path, res.headers_mut());
        res
    }
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// Re-renders an error response that is not already a problem (actix's own
/// plain-text errors, Swagger UI's empty `404`) as one, keeping its headers.
pub fn ensure_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(res.headers()) {
        return res;
    }
    let (req, old) = res.into_parts();
    if status.is_server_error() {
        let cause = old.error().map(|e| e.to_string()).unwrap_or_default();
        tracing::error!(request_id = %request_id::current_or_new(), status = status.as_u16(), error = %cause, "error response from outside the problem mapping");
    }
    let mut new = ApiError::Status(status).error_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !new.headers().contains_key(name) {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}
