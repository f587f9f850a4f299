//! `/api/v1/orgs/{id}/api-keys`: keys for host services. The secret is in
//! the creation answer only; listings show the prefix. Authorization is the
//! domain's: another organization's keys do not exist (`404`).

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use roster_domain::{
    org::{ApiKey, NewApiKeyInput},
    ValidationErrors,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    orgs::{org_id, OrgListParams, ORGS_PATH},
    paging::{check_query, envelope, offset_paging, PageLinks, PageMeta},
    resource,
};
use crate::{
    error::{ApiError, BadRequest, BodyErrors, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::{parse_query, query_pairs, read_json, segment_id, Authenticated},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/orgs/{id}/api-keys", "GET, HEAD, POST").route(web::get().to(list)).route(web::post().to(create)),
    )
    .service(
        resource("/orgs/{id}/api-keys/{key}", "GET, HEAD, DELETE")
            .route(web::get().to(get))
            .route(web::delete().to(revoke)),
    );
}

fn key_id(req: &HttpRequest) -> Result<Uuid, ApiError> {
    segment_id(req, "key", "api key")
}

/// A new key with its secret, which is never shown again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Send as `Authorization: Bearer <secret>`. Only its hash is kept: store it now.
    pub secret: String,
}

/// One page of an organization's live keys, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyListResponse {
    pub data: Vec<ApiKey>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// Create an API key for a host service. Needs `api_keys:manage`; the key
/// may only hold permissions the caller holds. The secret is in this answer only.
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/api-keys", tag = "orgs", security(("bearer" = [])), request_body = NewApiKeyInput,
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = CreatedApiKey, headers(("Location" = String, description = "The new key"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let input: NewApiKeyInput = read_json(&req, payload).await?;
    let (key, secret) = state.services.api_keys.create(&principal, org, input).await?;
    let location = format!("{ORGS_PATH}/{org}/api-keys/{}", key.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedApiKey { key, secret: secret.expose().to_string() }))
}

/// List the organization's live keys, newest first. Needs `api_keys:manage`.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/api-keys", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id"), OrgListParams),
    responses(
        (status = 200, description = "One page of keys", body = ApiKeyListResponse),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let pairs = query_pairs(req.query_string())?;
    let q: OrgListParams = parse_query(&pairs)?;
    let mut errors = ValidationErrors::new();
    let (page, per_page) = offset_paging(q.page.as_deref(), q.per_page.as_deref(), q.limit.as_deref(), &mut errors);
    check_query(errors)?;
    let found = state.services.api_keys.list(&principal, org, page, per_page).await?;
    let (meta, links) = envelope(&format!("{ORGS_PATH}/{org}/api-keys"), &pairs, &found);
    Ok(HttpResponse::Ok().json(ApiKeyListResponse { data: found.items, meta, links }))
}

/// Read a live key (never its secret). Needs `api_keys:manage`.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/api-keys/{key}", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id"), ("key" = uuid::Uuid, Path, description = "Key id")),
    responses(
        (status = 200, description = "The key", body = ApiKey),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let id = key_id(&req)?;
    Ok(HttpResponse::Ok().json(state.services.api_keys.get(&principal, org, id).await?))
}

/// Revoke a key: the next request with it is `401`. Needs `api_keys:manage`.
#[utoipa::path(
    delete, path = "/api/v1/orgs/{id}/api-keys/{key}", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id"), ("key" = uuid::Uuid, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn revoke(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let id = key_id(&req)?;
    state.services.api_keys.revoke(&principal, org, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
