//! `/api/v1/orgs/{id}/invitations` and `/api/v1/auth/org-invitations/accept`:
//! inviting an address into an organization. The inviter gets the same
//! answer whether or not the address has an account.

use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use roster_domain::{
    mail::InvitationStatus,
    org::{OrgInvitation, OrgInviteInput},
    service::{AcceptOrgInvitationInput, OrgAccepted},
    ValidationErrors,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    auth::signed_in,
    client_meta,
    invitations::InvitationListParams,
    orgs::{org_id, ORGS_PATH},
    paging::{check_query, envelope, offset_paging, status_param, PageLinks, PageMeta},
    resource,
};
use crate::{
    error::{
        ApiError, BadRequest, BodyErrors, Conflict, Forbidden, Gone, NotFound, ServerErrors, TooManyRequests,
        Unauthorized,
    },
    extract::{parse_query, query_pairs, read_json, segment_id, Authenticated, ValidJson},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/orgs/{id}/invitations", "GET, HEAD, POST").route(web::get().to(list)).route(web::post().to(invite)),
    )
    .service(resource("/orgs/{id}/invitations/{invitation}", "DELETE").route(web::delete().to(revoke)))
    .service(resource("/auth/org-invitations/accept", "POST").route(web::post().to(accept)));
}

fn invitation_id(req: &HttpRequest) -> Result<Uuid, ApiError> {
    segment_id(req, "invitation", "invitation")
}

/// One page of an organization's invitations, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgInvitationListResponse {
    pub data: Vec<OrgInvitation>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// An existing account joined the organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JoinedResponse {
    pub org_id: Uuid,
    pub user_id: Uuid,
}

/// Invite an address into the organization with a role (and location). A
/// letter with a link goes to the address; accepting makes its account a
/// member, or creates the account first. The answer is the same whether or
/// not the address has an account. Needs `members:manage`; granting a role
/// takes its permissions (`owner`: an owner).
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/invitations", tag = "orgs", security(("bearer" = [])), request_body = OrgInviteInput,
    params(("id" = uuid::Uuid, Path, description = "Organization id")),
    responses(
        (status = 201, description = "Invited", body = OrgInvitation, headers(("Location" = String, description = "The invitation"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
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
    let org = org_id(&req)?;
    let input: OrgInviteInput = read_json(&req, payload).await?;
    let invitation = state.services.org_invitations.invite(&principal, org, input, &client_meta(&req)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{ORGS_PATH}/{org}/invitations/{}", invitation.id)))
        .json(invitation))
}

/// List the organization's invitations, newest first. Needs `members:manage`.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/invitations", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id"), InvitationListParams),
    responses(
        (status = 200, description = "One page of invitations", body = OrgInvitationListResponse),
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
    let q: InvitationListParams = parse_query(&pairs)?;
    let mut errors = ValidationErrors::new();
    let (page, per_page) = offset_paging(q.page.as_deref(), q.per_page.as_deref(), q.limit.as_deref(), &mut errors);
    let expected = "must be pending, accepted, revoked, superseded or expired";
    let status = status_param(q.status.as_deref(), InvitationStatus::parse, expected, &mut errors);
    check_query(errors)?;
    let found = state.services.org_invitations.list(&principal, org, status, page, per_page).await?;
    let (meta, links) = envelope(&format!("{ORGS_PATH}/{org}/invitations"), &pairs, &found);
    Ok(HttpResponse::Ok().json(OrgInvitationListResponse { data: found.items, meta, links }))
}

/// Withdraw an invitation: its link stops working. Idempotent. Needs `members:manage`.
#[utoipa::path(
    delete, path = "/api/v1/orgs/{id}/invitations/{invitation}", tag = "orgs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Organization id"), ("invitation" = uuid::Uuid, Path, description = "Invitation id")),
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
    let org = org_id(&req)?;
    let id = invitation_id(&req)?;
    state.services.org_invitations.revoke(&principal, org, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept an invitation into an organization with the token of its link.
/// An address with an account joins (its password does not change; sign in
/// as usual): `200` with the organization and user. An address without one
/// needs `password` (and may give `name`): the account is created, verified
/// by the link, joins, and is signed in: `200` with tokens.
#[utoipa::path(
    post, path = "/api/v1/auth/org-invitations/accept", tag = "auth", request_body = AcceptOrgInvitationInput,
    responses(
        (status = 200, description = "Joined (`JoinedResponse`), or a new account joined and signed in (`SignedInResponse`)", body = crate::routes::auth::SignedInResponse),
        BadRequest,
        Conflict,
        Gone,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    ValidJson(body): ValidJson<AcceptOrgInvitationInput>,
) -> Result<HttpResponse, ApiError> {
    match state.services.org_invitations.accept(body, client_meta(&req)).await? {
        OrgAccepted::Joined { org_id, user_id } => Ok(HttpResponse::Ok().json(JoinedResponse { org_id, user_id })),
        OrgAccepted::Created { signed_in: s, .. } => Ok(signed_in(StatusCode::OK, *s)),
    }
}
