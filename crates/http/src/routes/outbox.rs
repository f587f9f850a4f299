//! `/api/v1/outbox`: the mail outbox as superadmins see it — never the
//! content of a message, only where it stands — and re-queuing dead mail.

use actix_web::{web, HttpRequest, HttpResponse};
use roster_domain::{
    mail::{OutboxEntry, OutboxStatus},
    ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    paging::{check_query, envelope, offset_paging, status_param, PageLinks, PageMeta},
    resource,
};
use crate::{
    error::{ApiError, BadRequest, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::{parse_query, path_id, query_pairs, Authenticated},
    AppState,
};

const PATH: &str = "/api/v1/outbox";

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/outbox", "GET, HEAD").route(web::get().to(list)))
        .service(resource("/outbox/{id}/retry", "POST").route(web::post().to(retry)));
}

/// Query of `GET /outbox`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxListParams {
    #[param(value_type = Option<roster_domain::mail::OutboxStatus>)]
    pub status: Option<String>,
    #[param(schema_with = roster_domain::values::schema::page)]
    pub page: Option<String>,
    #[param(schema_with = roster_domain::values::schema::per_page)]
    pub per_page: Option<String>,
    /// Alias of `per_page`.
    #[param(schema_with = roster_domain::values::schema::per_page)]
    pub limit: Option<String>,
}

/// One page of queued messages, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxListResponse {
    pub data: Vec<OutboxEntry>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// List queued messages (e.g. `?status=dead`). Superadmins only.
#[utoipa::path(
    get, path = "/api/v1/outbox", tag = "outbox", security(("bearer" = [])), params(OutboxListParams),
    responses(
        (status = 200, description = "One page of messages", body = OutboxListResponse),
        BadRequest,
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(req.query_string())?;
    let q: OutboxListParams = parse_query(&pairs)?;
    let mut errors = ValidationErrors::new();
    let (page, per_page) = offset_paging(q.page.as_deref(), q.per_page.as_deref(), q.limit.as_deref(), &mut errors);
    let status = status_param(q.status.as_deref(), OutboxStatus::parse, "must be pending, sent or dead", &mut errors);
    check_query(errors)?;
    let found = state.services.outbox.list(&principal, status, page, per_page).await?;
    let (meta, links) = envelope(PATH, &pairs, &found);
    Ok(HttpResponse::Ok().json(OutboxListResponse { data: found.items, meta, links }))
}

/// Queue a dead message again, with a fresh count of attempts. Superadmins only.
#[utoipa::path(
    post, path = "/api/v1/outbox/{id}/retry", tag = "outbox", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Message id")),
    responses(
        (status = 202, description = "Queued again"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn retry(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "message")?;
    state.services.outbox.requeue(&principal, id).await?;
    Ok(HttpResponse::Accepted().finish())
}
