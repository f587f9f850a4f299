//! Users' IP allowlists (seed 000's "IP addresses" and "block anonymous IP
//! addresses"): `/api/v1/users/{id}/allowed-ips`, `/users/{id}/security`,
//! the bulk forms `/users/security`, `/allowed-ips` and
//! `/allowed-ips/remove`, and `/me/ip`. Who may read or change whose list
//! is the domain's rule (`IpAllowlistService`).

use actix_web::{web, HttpRequest, HttpResponse};
use roster_domain::{
    service::BulkReport,
    user::{AllowedIp, AllowedIpInput, BulkAllowedIpInput, BulkSecurityInput, IpCheck, IpPolicy, SecurityPatch},
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{client_meta, resource};
use crate::{
    error::{
        refusal_reason, ApiError, BadRequest, BodyErrors, Forbidden, NotFound, Reason, ServerErrors, Unauthorized,
    },
    extract::{path_id, read_json, segment_id, Authenticated},
    AppState,
};

/// Registered before the users' routes: `/users/{id}` would match
/// `/users/security` too.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/users/security", "POST").route(web::post().to(bulk_security)))
        .service(
            resource("/users/{id}/allowed-ips", "GET, HEAD, POST")
                .route(web::get().to(list_allowed_ips))
                .route(web::post().to(add_allowed_ip)),
        )
        .service(resource("/users/{id}/allowed-ips/{entry}", "DELETE").route(web::delete().to(remove_allowed_ip)))
        .service(resource("/users/{id}/security", "PATCH").route(web::patch().to(patch_security)))
        .service(resource("/allowed-ips", "POST").route(web::post().to(bulk_add)))
        .service(resource("/allowed-ips/remove", "POST").route(web::post().to(bulk_remove)))
        .service(resource("/me/ip", "GET, HEAD").route(web::get().to(my_ip)));
}

/// A user a bulk request named whom the caller may not change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusedUser {
    /// The id or address as the request gave it.
    pub user: String,
    /// The rule that refused it (as a `403`'s `reason`: `owner_only`,
    /// `superadmin_only`, `not_managed`).
    pub reason: Reason,
}

/// What a bulk request did, per user named.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkResult {
    /// The users changed (or already as asked), in the order given.
    pub applied: Vec<Uuid>,
    /// Ids or addresses, as given, of users that do not exist or that the
    /// caller's organization does not see.
    pub not_found: Vec<String>,
    /// Users the caller sees but may not change (an owner without being
    /// one, a superadmin, an account another organization manages).
    pub refused: Vec<RefusedUser>,
}

impl From<BulkReport> for BulkResult {
    fn from(r: BulkReport) -> BulkResult {
        BulkResult {
            applied: r.applied,
            not_found: r.not_found,
            refused: r
                .refused
                .into_iter()
                .map(|t| RefusedUser { user: t.target, reason: refusal_reason(t.refusal).0 })
                .collect(),
        }
    }
}

/// A user's IP policy: `block_unknown_ips` and the allowlist (`items`,
/// oldest first). Oneself, or with `users:read` a user the caller's
/// organization sees (as `GET /users/{id}`).
#[utoipa::path(
    get, path = "/api/v1/users/{id}/allowed-ips", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user's IP policy", body = IpPolicy),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn list_allowed_ips(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    Ok(HttpResponse::Ok().json(state.services.allowed_ips.policy(&principal, id).await?))
}

/// Add an address or range to a user's allowlist: an IPv4 or IPv6 address
/// (kept as `/32` or `/128`) or a CIDR range (host bits cleared:
/// `192.0.2.77/24` is `192.0.2.0/24`; an IPv4-mapped IPv6 address is its
/// IPv4 address). `201` with the new entry, `200` with the entry the list
/// had for it already. A list holds at most 100 entries (`422` on `cidr`
/// past it); a malformed `cidr` is `422`. Needs `users:write` where the
/// caller acts — also for one's own list, which is an administrator's
/// policy — on an account the caller may edit (an owner's takes an owner;
/// an organization edits the accounts it manages).
#[utoipa::path(
    post, path = "/api/v1/users/{id}/allowed-ips", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body = AllowedIpInput,
    responses(
        (status = 201, description = "Added", body = AllowedIp),
        (status = 200, description = "The list had it already: that entry", body = AllowedIp),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn add_allowed_ip(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let input: AllowedIpInput = read_json(&req, payload).await?;
    let (entry, created) = state.services.allowed_ips.add(&principal, id, input).await?;
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(entry))
}

/// Remove an entry from a user's allowlist (one of another user's is
/// `404`). Needs what adding does.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/allowed-ips/{entry}", tag = "users", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "User id"),
        ("entry" = uuid::Uuid, Path, description = "Allowlist entry id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn remove_allowed_ip(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let entry = segment_id(&req, "entry", "allowed IP")?;
    state.services.allowed_ips.remove(&principal, id, entry).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Turn `block_unknown_ips` on or off for a user: with it on, a sign-in
/// whose password (and MFA) are right, from an address outside the user's
/// allowlist, is refused (an empty list then allows no address); with it
/// off the list blocks nothing. Answers the user's IP policy. Needs what
/// adding to the list does.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}/security", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body = SecurityPatch,
    responses(
        (status = 200, description = "The user's IP policy", body = IpPolicy),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn patch_security(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let patch: SecurityPatch = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.allowed_ips.set_blocking(&principal, id, patch).await?))
}

/// Turn `block_unknown_ips` on or off for many users at once, named by
/// `user_ids` (1 to 1000) or `emails` (1 to 200), exactly one. Needs `users:write`
/// where the caller acts (else `403`); each user is then asked as
/// `PATCH /users/{id}/security` asks: those the caller's organization does
/// not see (or that do not exist) are listed in `not_found`, those it may
/// not change in `refused`, and the rest are changed together and listed
/// in `applied`.
#[utoipa::path(
    post, path = "/api/v1/users/security", tag = "users", security(("bearer" = [])),
    request_body = BulkSecurityInput,
    responses(
        (status = 200, description = "What was done, per user", body = BulkResult),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn bulk_security(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: BulkSecurityInput = read_json(&req, payload).await?;
    let report = state.services.allowed_ips.bulk_set_blocking(&principal, input).await?;
    Ok(HttpResponse::Ok().json(BulkResult::from(report)))
}

/// Add an address or range to many users' allowlists at once (seed 000's
/// `add-ip` with `emails`), named by `user_ids` (1 to 1000) or `emails`
/// (1 to 200), exactly one; authorized and reported per user as `POST /users/security`
/// is. The additions are one transaction: if one would overfill a list
/// (100 entries), nothing is added and the answer is `422` naming those
/// users. A list that has the entry keeps it.
#[utoipa::path(
    post, path = "/api/v1/allowed-ips", tag = "users", security(("bearer" = [])),
    request_body = BulkAllowedIpInput,
    responses(
        (status = 200, description = "What was done, per user", body = BulkResult),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn bulk_add(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: BulkAllowedIpInput = read_json(&req, payload).await?;
    let report = state.services.allowed_ips.bulk_add(&principal, input).await?;
    Ok(HttpResponse::Ok().json(BulkResult::from(report)))
}

/// Remove an address or range from many users' allowlists at once (seed
/// 000's `remove-ip` with `emails`); the body, authorization and answer are
/// those of `POST /allowed-ips`. A list without the entry is left alone
/// (and its user counted as applied).
#[utoipa::path(
    post, path = "/api/v1/allowed-ips/remove", tag = "users", security(("bearer" = [])),
    request_body = BulkAllowedIpInput,
    responses(
        (status = 200, description = "What was done, per user", body = BulkResult),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn bulk_remove(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: BulkAllowedIpInput = read_json(&req, payload).await?;
    let report = state.services.allowed_ips.bulk_remove(&principal, input).await?;
    Ok(HttpResponse::Ok().json(BulkResult::from(report)))
}

/// The address Roster sees the caller at — the peer, or behind a proxy
/// listed in `http.trusted_proxies` the nearest `X-Forwarded-For` hop that
/// is not one — and whether the caller may sign in from it (always when
/// their `block_unknown_ips` is off). Seed 000's "IP information". A
/// signed-in user's only (`403` for an API key).
#[utoipa::path(
    get, path = "/api/v1/me/ip", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's address and whether they may sign in from it", body = IpCheck),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn my_ip(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let meta = client_meta(&req);
    Ok(HttpResponse::Ok().json(state.services.allowed_ips.my_ip(&principal, meta.ip.as_deref()).await?))
}
