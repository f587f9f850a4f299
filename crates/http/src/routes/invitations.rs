//! `/api/v1/invitations`: invite an address, list invitations, withdraw one.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use roster_domain::{
    mail::{Invitation, InvitationStatus},
    service::InviteInput,
    ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    client_meta,
    paging::{check_query, envelope, offset_paging, status_param, PageLinks, PageMeta},
    resource,
};
use crate::{
    error::{
        ApiError, BadRequest, BodyErrors, Conflict, Forbidden, NotFound, ServerErrors, TooManyRequests, Unauthorized,
    },
    extract::{parse_query, path_id, query_pairs, read_json, Authenticated},
    AppState,
};

const PATH: &str = "/api/v1/invitations";

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/invitations", "GET, HEAD, POST").route(web::get().to(list)).route(web::post().to(invite)))
        .service(resource("/invitations/{id}", "DELETE").route(web::delete().to(revoke)));
}

/// Query of `GET /invitations`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvitationListParams {
    #[param(value_type = Option<roster_domain::mail::InvitationStatus>)]
    pub status: Option<String>,
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

/// One page of invitations, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationListResponse {
    pub data: Vec<Invitation>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// Invite an address: a `pending` user is created (or, for an address that
/// is already pending, the earlier invitation is superseded) and mailed a
/// link to set a password. Needs `users:write`; granting `owner` takes an owner.
#[utoipa::path(
    post, path = "/api/v1/invitations", tag = "invitations", security(("bearer" = [])), request_body = InviteInput,
    responses(
        (status = 201, description = "Invited", body = Invitation, headers(("Location" = String, description = "The invited user"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        Conflict,
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    )
)]
pub(crate) async fn invite(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: InviteInput = read_json(&req, payload).await?;
    let invitation = state.services.invitations.invite(&principal, input, &client_meta(&req)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", invitation.user_id)))
        .json(invitation))
}

/// List invitations, newest first. Needs `users:read`.
#[utoipa::path(
    get, path = "/api/v1/invitations", tag = "invitations", security(("bearer" = [])), params(InvitationListParams),
    responses(
        (status = 200, description = "One page of invitations", body = InvitationListResponse),
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
    let q: InvitationListParams = parse_query(&pairs)?;
    let mut errors = ValidationErrors::new();
    let (page, per_page) = offset_paging(q.page.as_deref(), q.per_page.as_deref(), q.limit.as_deref(), &mut errors);
    let expected = "must be pending, accepted, revoked, superseded or expired";
    let status = status_param(q.status.as_deref(), InvitationStatus::parse, expected, &mut errors);
    check_query(errors)?;
    let found = state.services.invitations.list(&principal, status, page, per_page).await?;
    let (meta, links) = envelope(PATH, &pairs, &found);
    Ok(HttpResponse::Ok().json(InvitationListResponse { data: found.items, meta, links }))
}

/// Withdraw an invitation: its link stops working, and its user, still
/// pending, is removed. Idempotent. Needs `users:write`.
#[utoipa::path(
    delete, path = "/api/v1/invitations/{id}", tag = "invitations", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Invitation id")),
    responses(
        (status = 204, description = "Withdrawn (or already closed)"),
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        ServerErrors,
    )
)]
pub(crate) async fn revoke(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "invitation")?;
    state.services.invitations.revoke(&principal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
