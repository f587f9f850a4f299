//! `/api/v1/orgs`, `/api/v1/orgs/{id}/roles`, `/api/v1/orgs/{id}/permissions`
//! and `/api/v1/permissions`: organizations, their roles and the permission
//! vocabulary. Authorization is the domain's: an organization the caller
//! does not belong to does not exist (`404`).

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use roster_domain::{
    org::{NewOrgInput, NewRoleInput, OrgPatch, OrgPermission, Organization, PermissionInput, Role, RolePatch},
    ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    paging::{check_query, envelope, offset_paging, PageLinks, PageMeta},
    resource,
};
use crate::{
    error::{ApiError, BadRequest, BodyErrors, Conflict, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::{parse_query, path_id, query_pairs, read_json, segment_id, Authenticated},
    AppState,
};

/// The collection's absolute path, for `Location` headers and page links.
pub(crate) const ORGS_PATH: &str = "/api/v1/orgs";

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/orgs", "GET, HEAD, POST").route(web::get().to(list_orgs)).route(web::post().to(create_org)))
        .service(
            resource("/orgs/{id}", "GET, HEAD, PATCH, DELETE")
                .route(web::get().to(get_org))
                .route(web::patch().to(update_org))
                .route(web::delete().to(delete_org)),
        )
        .service(
            resource("/orgs/{id}/roles", "GET, HEAD, POST")
                .route(web::get().to(list_roles))
                .route(web::post().to(create_role)),
        )
        .service(
            resource("/orgs/{id}/roles/{role}", "GET, HEAD, PATCH, DELETE")
                .route(web::get().to(get_role))
                .route(web::patch().to(update_role))
                .route(web::delete().to(delete_role)),
        )
        .service(resource("/permissions", "GET, HEAD").route(web::get().to(list_permissions)))
        .service(
            resource("/orgs/{id}/permissions", "GET, HEAD, POST")
                .route(web::get().to(org_permissions))
                .route(web::post().to(register_permission)),
        )
        .service(resource("/orgs/{id}/permissions/{name}", "DELETE").route(web::delete().to(delete_permission)));
}

/// The organization of the `{id}` segment; malformed is `404`.
pub(crate) fn org_id(req: &HttpRequest) -> Result<Uuid, ApiError> {
    path_id(req, "organization")
}

/// Query of `GET /orgs`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgListParams {
    /// Page number.
    #[param(schema_with = roster_domain::values::schema::page)]
    pub page: Option<String>,
    /// Page size.
    #[param(schema_with = roster_domain::values::schema::per_page)]
    pub per_page: Option<String>,
    /// Alias of `per_page`.
    #[param(schema_with = roster_domain::values::schema::per_page)]
    pub limit: Option<String>,
}

/// One page of organizations, by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgListResponse {
    pub data: Vec<Organization>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// Every role of an organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleListResponse {
    pub data: Vec<Role>,
}

/// Query of `GET /permissions`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PermissionListParams {
    /// Also list what this organization registered (the caller must belong to it).
    #[param(value_type = Option<uuid::Uuid>)]
    pub org_id: Option<String>,
}

/// Permissions: the built-in catalogue (`org_id: null`) and those registered
/// by an organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PermissionListResponse {
    pub data: Vec<OrgPermission>,
}

/// List the organizations the caller belongs to (every one, for a superadmin), by name.
#[utoipa::path(
    get, path = "/api/v1/orgs", tag = "orgs", security(("bearer" = [])), params(OrgListParams),
    responses(
        (status = 200, description = "One page of organizations", body = OrgListResponse),
        BadRequest,
        Unauthorized,
        ServerErrors,
    )
)]
pub(crate) async fn list_orgs(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(req.query_string())?;
    let q: OrgListParams = parse_query(&pairs)?;
    let mut errors = ValidationErrors::new();
    let (page, per_page) = offset_paging(q.page.as_deref(), q.per_page.as_deref(), q.limit.as_deref(), &mut errors);
    check_query(errors)?;
    let found = state.services.orgs.list(&principal, page, per_page).await?;
    let (meta, links) = envelope(ORGS_PATH, &pairs, &found);
    Ok(HttpResponse::Ok().json(OrgListResponse { data: found.items, meta, links }))
}

/// Create an organization with its built-in roles (`owner`, `admin`,
/// `member`) and, given `owner_id`, its first owner. Superadmins only.
#[utoipa::path(
    post, path = "/api/v1/orgs", tag = "orgs", security(("bearer" = [])), request_body = NewOrgInput,
    responses(
        (status = 201, description = "Created", body = Organization, headers(("Location" = String, description = "The new organization"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn create_org(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: NewOrgInput = read_json(&req, payload).await?;
    let org = state.services.orgs.create(&principal, input).await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("{ORGS_PATH}/{}", org.id))).json(org))
}

/// Read an organization. Any member.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The organization", body = Organization),
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get_org(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = org_id(&req)?;
    Ok(HttpResponse::Ok().json(state.services.orgs.get(&principal, id).await?))
}

/// Rename an organization or change its slug. Needs `org:manage` there.
#[utoipa::path(
    patch, path = "/api/v1/orgs/{id}", tag = "orgs", security(("bearer" = [])), request_body = OrgPatch,
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The updated organization", body = Organization),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn update_org(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = org_id(&req)?;
    let patch: OrgPatch = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.orgs.update(&principal, id, patch).await?))
}

/// Delete an organization with its roles, locations, permissions and
/// memberships; its users stay. Superadmins only; never the default organization.
#[utoipa::path(
    delete, path = "/api/v1/orgs/{id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        ServerErrors,
    )
)]
pub(crate) async fn delete_org(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = org_id(&req)?;
    state.services.orgs.delete(&principal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List the roles of an organization, built-in and custom. Any member.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/roles", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, description = "Every role", body = RoleListResponse),
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn list_roles(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let data = state.services.roles.list(&principal, org).await?;
    Ok(HttpResponse::Ok().json(RoleListResponse { data }))
}

/// Create a custom role. Needs `roles:manage`, and (unless owner) every
/// permission it grants; the permissions must be built in or registered.
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/roles", tag = "orgs", security(("bearer" = [])), request_body = NewRoleInput,
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 201, description = "Created", body = Role, headers(("Location" = String, description = "The new role"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn create_role(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let input: NewRoleInput = read_json(&req, payload).await?;
    let role = state.services.roles.create(&principal, org, input).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{ORGS_PATH}/{org}/roles/{}", role.id)))
        .json(role))
}

/// Read a role. Any member.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/roles/{role}", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("role" = uuid::Uuid, Path, description = "Role id"),
    ),
    responses(
        (status = 200, description = "The role", body = Role),
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get_role(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let id = segment_id(&req, "role", "role")?;
    Ok(HttpResponse::Ok().json(state.services.roles.get(&principal, org, id).await?))
}

/// Change a role (`null` clears the description; `permissions` replaces the
/// set). Built-in roles keep their names, and `owner` every permission.
/// Needs `roles:manage`.
#[utoipa::path(
    patch, path = "/api/v1/orgs/{id}/roles/{role}", tag = "orgs", security(("bearer" = [])), request_body = RolePatch,
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("role" = uuid::Uuid, Path, description = "Role id"),
    ),
    responses(
        (status = 200, description = "The updated role", body = Role),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn update_role(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let id = segment_id(&req, "role", "role")?;
    let patch: RolePatch = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.roles.update(&principal, org, id, patch).await?))
}

/// Delete a custom role nobody holds. Needs `roles:manage`.
#[utoipa::path(
    delete, path = "/api/v1/orgs/{id}/roles/{role}", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("role" = uuid::Uuid, Path, description = "Role id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        ServerErrors,
    )
)]
pub(crate) async fn delete_role(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let id = segment_id(&req, "role", "role")?;
    state.services.roles.delete(&principal, org, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List the built-in permission catalogue and, given `org_id`, what that
/// organization registered (the caller must belong to it).
#[utoipa::path(
    get, path = "/api/v1/permissions", tag = "orgs", security(("bearer" = [])), params(PermissionListParams),
    responses(
        (status = 200, description = "The permissions", body = PermissionListResponse),
        BadRequest,
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn list_permissions(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q: PermissionListParams = parse_query(&query_pairs(req.query_string())?)?;
    let mut errors = ValidationErrors::new();
    let org = match q.org_id.as_deref().map(str::trim) {
        None => None,
        Some(raw) => {
            let parsed = Uuid::try_parse(raw).ok();
            if parsed.is_none() {
                errors.add("org_id", "must be a UUID");
            }
            parsed
        }
    };
    check_query(errors)?;
    let data = state.services.roles.permissions(&principal, org).await?;
    Ok(HttpResponse::Ok().json(PermissionListResponse { data }))
}

/// List the permissions usable in an organization: the built-in catalogue
/// and those it registered. Any member.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/permissions", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The permissions", body = PermissionListResponse),
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn org_permissions(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let data = state.services.roles.permissions(&principal, Some(org)).await?;
    Ok(HttpResponse::Ok().json(PermissionListResponse { data }))
}

/// Register a permission of the host application (`resource:action`, not a
/// built-in one), so roles and members can be granted it. Needs `roles:manage`.
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/permissions", tag = "orgs", security(("bearer" = [])), request_body = PermissionInput,
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 201, description = "Registered", body = OrgPermission),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn register_permission(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let input: PermissionInput = read_json(&req, payload).await?;
    Ok(HttpResponse::Created().json(state.services.roles.register_permission(&principal, org, input).await?))
}

/// Forget a registered permission that no role or member holds. Needs `roles:manage`.
#[utoipa::path(
    delete, path = "/api/v1/orgs/{id}/permissions/{name}", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("name" = String, Path, description = "Permission name, `resource:action`"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        ServerErrors,
    )
)]
pub(crate) async fn delete_permission(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let name = req.match_info().get("name").unwrap_or_default();
    state.services.roles.delete_permission(&principal, org, name).await?;
    Ok(HttpResponse::NoContent().finish())
}
