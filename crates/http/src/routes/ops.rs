//! Operational endpoints outside the versioned API: JWKS, health, metrics,
//! the OpenAPI document and the Swagger UI.

use actix_web::{
    http::header::{self, CacheControl, CacheDirective},
    web::{self, Bytes},
    HttpRequest, HttpResponse,
};
use roster_domain::Error as DomainError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_swagger_ui::SwaggerUi;

use super::resource;
use crate::{
    error::{ApiError, InternalError, NotFound, ServiceUnavailable, Unauthorized},
    metrics::{Metrics, MetricsAccess},
    AppState,
};

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The OpenAPI document, serialized once per app and served as is.
pub struct OpenApiJson(Bytes);

impl OpenApiJson {
    pub fn new(document: &utoipa::openapi::OpenApi) -> OpenApiJson {
        // Serializing the generated document cannot fail; an empty object keeps the route alive if it did.
        let json = document.to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialize the OpenAPI document");
            "{}".into()
        });
        OpenApiJson(Bytes::from(json))
    }
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/.well-known/jwks.json", "GET, HEAD").route(web::get().to(jwks)))
        .service(resource("/health/live", "GET, HEAD").route(web::get().to(live)))
        .service(resource("/health/ready", "GET, HEAD").route(web::get().to(ready)))
        .configure(configure_metrics)
        .service(resource(OPENAPI_PATH, "GET, HEAD").route(web::get().to(openapi_json)))
        .service(resource("/docs", "GET, HEAD").route(web::get().to(docs)))
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new([OPENAPI_PATH])));
}

/// `/metrics`, on the public listener and on its own (`serve_metrics`).
pub(crate) fn configure_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/metrics", "GET, HEAD").route(web::get().to(metrics)));
}

/// A health answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: String,
}

fn ok() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(HealthResponse { status: "ok".into() })
}

/// The public keys that verify access tokens (RFC 7517).
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "ops",
    responses((status = 200, description = "JSON Web Key Set", body = Object, headers(("Cache-Control" = String))))
)]
pub(crate) async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(300)]))
        .json(state.jwks.as_ref())
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health/live", tag = "ops", responses((status = 200, description = "Alive", body = HealthResponse)))]
pub(crate) async fn live() -> HttpResponse {
    ok()
}

/// Readiness: the database answers.
#[utoipa::path(
    get, path = "/health/ready", tag = "ops",
    responses(
        (status = 200, description = "Ready", body = HealthResponse),
        ServiceUnavailable,
    )
)]
pub(crate) async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.readiness.check().await {
        Ok(()) => Ok(ok()),
        Err(cause) => Err(DomainError::Unavailable(cause).into()),
    }
}

/// Prometheus metrics in the text exposition format. Not served on this
/// listener (`404`) unless `metrics.token` is configured, and then only to
/// `Authorization: Bearer <metrics.token>` (`401` otherwise, user tokens and
/// API keys included); with `metrics.listen` it is served there instead.
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        Unauthorized,
        NotFound,
        InternalError,
    )
)]
pub(crate) async fn metrics(
    req: HttpRequest,
    access: web::Data<MetricsAccess>,
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    match access.get_ref() {
        MetricsAccess::NotHere => return Err(ApiError::RouteNotFound),
        MetricsAccess::Open => {}
        MetricsAccess::Token(token) => match crate::extract::bearer_token(&req) {
            None => return Err(ApiError::MetricsToken { presented: false }),
            Some(t) if !token.matches(t) => return Err(ApiError::MetricsToken { presented: true }),
            Some(_) => {}
        },
    }
    let outbox = match state.services.outbox.stats().await {
        Ok(stats) => Some(stats),
        Err(e) => {
            tracing::warn!(error = %e, "outbox figures unavailable for /metrics");
            None
        }
    };
    let text = metrics.render(state.readiness.pool(), outbox).map_err(DomainError::Internal)?;
    Ok(HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(text))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "ops", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub(crate) async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(doc.0.clone())
}

/// The interactive API documentation (Swagger UI) lives at `/docs/`.
#[utoipa::path(get, path = "/docs", tag = "ops", responses((status = 308, description = "Redirect to `/docs/`", headers(("Location" = String)))))]
pub(crate) async fn docs() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
}
