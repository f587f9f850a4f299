//! `/api/v1/orgs/{id}/members` and `/api/v1/orgs/{id}/locations`: who
//! belongs to an organization, with which role, where. Authorization is the
//! domain's: an organization the caller does not belong to does not exist.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use roster_domain::{
    org::{AddMemberInput, Location, LocationInput, LocationPatch, Member, MemberPatch, MemberPermissionsInput},
    ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    orgs::{org_id, ORGS_PATH},
    paging::{check_query, envelope, offset_paging, PageLinks, PageMeta},
    resource,
    user_list::{list_response, ListParams, UserListResponse},
};
use crate::{
    error::{ApiError, BadRequest, BodyErrors, Conflict, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::{parse_query, query_pairs, read_json, segment_id, Authenticated},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/orgs/{id}/members", "GET, HEAD, POST")
            .route(web::get().to(list_members))
            .route(web::post().to(add_member)),
    )
    .service(
        resource("/orgs/{id}/members/{user}", "GET, HEAD, PATCH, DELETE")
            .route(web::get().to(get_member))
            .route(web::patch().to(update_member))
            .route(web::delete().to(remove_member)),
    )
    .service(
        resource("/orgs/{id}/members/{user}/permissions", "GET, HEAD, PUT")
            .route(web::get().to(member_permissions))
            .route(web::put().to(set_member_permissions)),
    )
    .service(resource("/orgs/{id}/members/{user}/activate", "POST").route(web::post().to(activate_member)))
    .service(resource("/orgs/{id}/members/{user}/deactivate", "POST").route(web::post().to(deactivate_member)))
    .service(
        resource("/orgs/{id}/locations", "GET, HEAD, POST")
            .route(web::get().to(list_locations))
            .route(web::post().to(create_location)),
    )
    .service(
        resource("/orgs/{id}/locations/{location}", "GET, HEAD, PATCH, DELETE")
            .route(web::get().to(get_location))
            .route(web::patch().to(update_location))
            .route(web::delete().to(delete_location)),
    );
}

/// The member of the `{user}` segment; malformed is `404`.
fn member_id(req: &HttpRequest) -> Result<uuid::Uuid, ApiError> {
    segment_id(req, "user", "member")
}

/// The location of the `{location}` segment; malformed is `404`.
fn location_id(req: &HttpRequest) -> Result<uuid::Uuid, ApiError> {
    segment_id(req, "location", "location")
}

/// Query of `GET /orgs/{id}/locations`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LocationListParams {
    /// Case-insensitive substring of the name or of a keyword.
    pub q: Option<String>,
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

/// One page of locations, by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocationListResponse {
    pub data: Vec<Location>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// List the members of an organization with every feature of `GET /users`
/// (filters, `filter=`, sorting, projection, offset and keyset paging); each
/// user's `role` is their role in this organization. Needs `users:read` there.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/members", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id"), ListParams),
    responses(
        (status = 200, description = "One page of members", body = UserListResponse),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn list_members(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let pairs = query_pairs(req.query_string())?;
    let params = parse_query::<ListParams>(&pairs)?.into_domain()?;
    let list = state.services.members.list(&principal, org, &params).await?;
    list_response(&list, &pairs, &format!("{ORGS_PATH}/{org}/members"))
}

/// Add an existing user with a role (`member` by default) and, when the role
/// `requires_location`, a location. Needs `members:manage` and the role's
/// permissions; only owners make owners.
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/members", tag = "orgs", security(("bearer" = [])), request_body = AddMemberInput,
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 201, description = "Added", body = Member, headers(("Location" = String, description = "The new member"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn add_member(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let input: AddMemberInput = read_json(&req, payload).await?;
    let member = state.services.members.add(&principal, org, input).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{ORGS_PATH}/{org}/members/{}", member.user_id)))
        .json(member))
}

/// Read a membership: role, location and extra permissions. Any member.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/members/{user}", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("user" = uuid::Uuid, Path, description = "User id"),
    ),
    responses(
        (status = 200, description = "The member", body = Member),
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get_member(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let user = member_id(&req)?;
    Ok(HttpResponse::Ok().json(state.services.members.get(&principal, org, user).await?))
}

/// Change a member's role or location (`null` clears it). Needs
/// `members:manage`; owners are managed by owners, nobody changes their own
/// role, and the last owner stays one.
#[utoipa::path(
    patch, path = "/api/v1/orgs/{id}/members/{user}", tag = "orgs", security(("bearer" = [])), request_body = MemberPatch,
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("user" = uuid::Uuid, Path, description = "User id"),
    ),
    responses(
        (status = 200, description = "The updated member", body = Member),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn update_member(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let user = member_id(&req)?;
    let patch: MemberPatch = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.members.update(&principal, org, user, patch).await?))
}

/// Remove a member; the user stays. Needs `members:manage`; the last owner cannot go.
#[utoipa::path(
    delete, path = "/api/v1/orgs/{id}/members/{user}", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("user" = uuid::Uuid, Path, description = "User id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn remove_member(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let user = member_id(&req)?;
    state.services.members.remove(&principal, org, user).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Read a member's extra permissions (`extra_permissions` of the member). Any member.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/members/{user}/permissions", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("user" = uuid::Uuid, Path, description = "User id"),
    ),
    responses(
        (status = 200, description = "The member, with `extra_permissions`", body = Member),
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn member_permissions(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    get_member(state, Authenticated(principal), req).await
}

/// Replace the permissions granted to one member on top of their role. Needs
/// `members:manage` and (unless owner) the permissions themselves; nobody but
/// an owner grants themselves any.
#[utoipa::path(
    put, path = "/api/v1/orgs/{id}/members/{user}/permissions", tag = "orgs", security(("bearer" = [])),
    request_body = MemberPermissionsInput,
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("user" = uuid::Uuid, Path, description = "User id"),
    ),
    responses(
        (status = 200, description = "The updated member", body = Member),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn set_member_permissions(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let user = member_id(&req)?;
    let input: MemberPermissionsInput = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.members.set_permissions(&principal, org, user, input).await?))
}

/// List an organization's locations by name; `q` searches names and keywords. Any member.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/locations", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id"), LocationListParams),
    responses(
        (status = 200, description = "One page of locations", body = LocationListResponse),
        BadRequest,
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn list_locations(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let pairs = query_pairs(req.query_string())?;
    let q: LocationListParams = parse_query(&pairs)?;
    let mut errors = ValidationErrors::new();
    let (page, per_page) = offset_paging(q.page.as_deref(), q.per_page.as_deref(), q.limit.as_deref(), &mut errors);
    check_query(errors)?;
    let found = state.services.locations.list(&principal, org, q.q, page, per_page).await?;
    let (meta, links) = envelope(&format!("{ORGS_PATH}/{org}/locations"), &pairs, &found);
    Ok(HttpResponse::Ok().json(LocationListResponse { data: found.items, meta, links }))
}

/// Create a location. Needs `locations:manage`.
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/locations", tag = "orgs", security(("bearer" = [])), request_body = LocationInput,
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 201, description = "Created", body = Location, headers(("Location" = String, description = "The new location"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn create_location(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let input: LocationInput = read_json(&req, payload).await?;
    let location = state.services.locations.create(&principal, org, input).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{ORGS_PATH}/{org}/locations/{}", location.id)))
        .json(location))
}

/// Read a location. Any member.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/locations/{location}", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("location" = uuid::Uuid, Path, description = "Location id"),
    ),
    responses(
        (status = 200, description = "The location", body = Location),
        Unauthorized,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get_location(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let id = location_id(&req)?;
    Ok(HttpResponse::Ok().json(state.services.locations.get(&principal, org, id).await?))
}

/// Change a location (`keywords` replaces the list). Needs `locations:manage`.
#[utoipa::path(
    patch, path = "/api/v1/orgs/{id}/locations/{location}", tag = "orgs", security(("bearer" = [])),
    request_body = LocationPatch,
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("location" = uuid::Uuid, Path, description = "Location id"),
    ),
    responses(
        (status = 200, description = "The updated location", body = Location),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn update_location(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let id = location_id(&req)?;
    let patch: LocationPatch = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.locations.update(&principal, org, id, patch).await?))
}

/// Delete a location no member has. Needs `locations:manage`.
#[utoipa::path(
    delete, path = "/api/v1/orgs/{id}/locations/{location}", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("location" = uuid::Uuid, Path, description = "Location id"),
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
pub(crate) async fn delete_location(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let id = location_id(&req)?;
    state.services.locations.delete(&principal, org, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Let a deactivated member act in this organization again (idempotent).
/// Needs `members:manage`; owners are managed by owners, nobody activates
/// themselves. Not in the default organization (`409`): activate the user.
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/members/{user}/activate", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("user" = uuid::Uuid, Path, description = "User id"),
    ),
    responses(
        (status = 200, description = "The member, now active", body = Member),
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        ServerErrors,
    )
)]
pub(crate) async fn activate_member(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let user = member_id(&req)?;
    Ok(HttpResponse::Ok().json(state.services.members.activate(&principal, org, user).await?))
}

/// Deactivate a member in this organization only (idempotent): they stay
/// listed, but cannot act here and their sessions in it end; their account
/// and other organizations are untouched. Needs `members:manage`; owners are
/// managed by owners, nobody deactivates themselves, the last active owner
/// stays. Not in the default organization (`409`): deactivate the user.
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/members/{user}/deactivate", tag = "orgs", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organization id"),
        ("user" = uuid::Uuid, Path, description = "User id"),
    ),
    responses(
        (status = 200, description = "The member, now inactive here", body = Member),
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        ServerErrors,
    )
)]
pub(crate) async fn deactivate_member(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&req)?;
    let user = member_id(&req)?;
    Ok(HttpResponse::Ok().json(state.services.members.deactivate(&principal, org, user).await?))
}
