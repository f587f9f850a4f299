//! `/api/v1/users`: user administration. Authorization is the domain's.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use roster_domain::{
    auth::Principal,
    user::{MePatch, NewUserInput, User, UserPatchInput, UserReplaceInput, UserStatus},
    Patch, ValidationErrors,
};
use serde::Deserialize;

use super::{
    resource,
    user_list::{count_users, list_users, USERS_PATH},
};
use crate::{
    error::{
        ApiError, BadRequest, BodyErrors, Conflict, Forbidden, NotFound, ServerErrors, TooManyRequests, Unauthorized,
    },
    extract::{from_value, path_id, read_json, Authenticated},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/users", "GET, HEAD, POST").route(web::get().to(list_users)).route(web::post().to(create_user)),
    )
    // Before `/users/{id}`, which would match it too.
    .service(resource("/users/count", "GET, HEAD").route(web::get().to(count_users)))
    .service(
        resource("/users/{id}", "GET, HEAD, PATCH, PUT, DELETE")
            .route(web::get().to(get_user))
            .route(web::patch().to(patch_user))
            .route(web::put().to(replace_user))
            .route(web::delete().to(delete_user)),
    )
    .service(resource("/users/{id}/activate", "POST").route(web::post().to(activate_user)))
    .service(resource("/users/{id}/deactivate", "POST").route(web::post().to(deactivate_user)))
    .service(resource("/users/{id}/ban", "POST").route(web::post().to(ban_user)))
    .service(resource("/users/{id}/password-reset", "POST").route(web::post().to(send_password_reset)));
}

/// The members of `UserPatchInput` outside its flattened `MePatch`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchHead {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    location_id: Patch<uuid::Uuid>,
    #[serde(default)]
    managed_by: Option<uuid::Uuid>,
}

/// The keys of [`PatchHead`].
const HEAD: [&str; 5] = ["email", "email_verified", "role", "location_id", "managed_by"];

/// Reads a `UserPatchInput` in its two parts, so that an error inside the
/// flattened `MePatch` still names its field (serde loses paths through
/// `flatten`).
fn user_patch(mut body: serde_json::Map<String, serde_json::Value>) -> Result<UserPatchInput, ApiError> {
    let head: serde_json::Map<_, _> = HEAD.into_iter().filter_map(|k| body.remove_entry(k)).collect();
    match (from_value::<PatchHead>(head.into()), from_value::<MePatch>(body.into())) {
        (Ok(head), Ok(fields)) => Ok(UserPatchInput {
            email: head.email,
            email_verified: head.email_verified,
            role: head.role,
            location_id: head.location_id,
            managed_by: head.managed_by,
            fields,
        }),
        (head, fields) => {
            let mut errors = ValidationErrors::new();
            for e in [head.err(), fields.err()].into_iter().flatten() {
                errors.absorb(e);
            }
            Err(errors.into())
        }
    }
}

/// Create a user in the caller's organization: managed by it, and a member
/// there with `role` (`member` by default) and `location_id`, in one step.
/// With a password (the organization's password policy; an unverified
/// address is mailed a verification link), or with `send_invite: true` as a
/// `pending` user who is mailed an invitation to set one. Needs
/// `users:write`, and every permission of the role given. An address that
/// already has an account is `409 email_taken` — an answer rationed per
/// organization (`429` past the limit); bring an existing person in with an
/// invitation into the organization instead. The platform's administrators
/// create platform accounts (members of the default organization).
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = NewUserInput,
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String, description = "The new user"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        Conflict,
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    )
)]
pub(crate) async fn create_user(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input: NewUserInput = read_json(&req, payload).await?;
    let user = state.services.users.create(&principal, input, &super::client_meta(&req)).await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("{USERS_PATH}/{}", user.id))).json(user))
}

/// Read a user: oneself, or with `users:read` anyone the caller's
/// organization sees — its members (with their membership there), or every
/// user for the platform's administrators (with `managed_by`). Anyone else
/// is `404`, as an unknown id is.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get_user(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    Ok(HttpResponse::Ok().json(state.services.users.get(&principal, id).await?))
}

/// Change some fields of a user (`null` clears one), and their `role` and
/// `location_id` in the caller's organization. Others than oneself need
/// `users:write`; the account's own fields only for an organization that
/// manages it (`403 not_managed` otherwise — the membership still changes),
/// a role only by one who holds its permissions. A changed address becomes
/// unverified and is mailed a link; a tenant's `409 email_taken` answers are
/// rationed, as on creation (`429` past the limit).
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), request_body = UserPatchInput,
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The updated user", body = User),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    )
)]
pub(crate) async fn patch_user(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let input = user_patch(read_json(&req, payload).await?)?;
    Ok(HttpResponse::Ok().json(state.services.users.patch(&principal, id, input).await?))
}

/// Replace every editable field of a user's account; fields left out are
/// cleared (the role and location in the caller's organization are kept
/// unless given). The same rules as `PATCH`.
#[utoipa::path(
    put, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), request_body = UserReplaceInput,
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The updated user", body = User),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    )
)]
pub(crate) async fn replace_user(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let input: UserReplaceInput = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.users.replace(&principal, id, input).await?))
}

/// Delete a user for good: the account, with its sessions and its
/// memberships in every organization. Needs `users:delete`; an organization
/// deletes only the accounts it manages (`403 not_managed` — remove the
/// membership instead).
#[utoipa::path(
    delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn delete_user(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    state.services.users.delete(&principal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_status(
    state: &AppState,
    principal: &Principal,
    req: &HttpRequest,
    status: UserStatus,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(req, "user")?;
    Ok(HttpResponse::Ok().json(state.services.users.set_status(principal, id, status).await?))
}

/// Activate a user (idempotent). Needs `users:manage_status`; an
/// organization, for the accounts it manages.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/activate", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user, now active", body = User),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn activate_user(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    set_status(&state, &principal, &req, UserStatus::Active).await
}

/// Deactivate a user and end their sessions (idempotent). Needs
/// `users:manage_status`; an organization, for the accounts it manages
/// (`403 not_managed` — deactivate the membership instead).
#[utoipa::path(
    post, path = "/api/v1/users/{id}/deactivate", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user, now inactive", body = User),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn deactivate_user(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    set_status(&state, &principal, &req, UserStatus::Inactive).await
}

/// Ban a user and end their sessions (idempotent). Needs
/// `users:manage_status`; an organization, for the accounts it manages.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/ban", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user, now banned", body = User),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn ban_user(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    set_status(&state, &principal, &req, UserStatus::Banned).await
}

/// Mail the user a link to set a new password; their current password keeps
/// working until the link is used. Needs `users:write`; an organization,
/// for the accounts it manages. Not for one's own account (`403`, reason
/// `not_yourself`): use `POST /auth/password/forgot` or `POST /me/password`.
/// The letters count against the address's limit of `forgot`
/// (`rate_limits.forgot_password`, shared with it): past it, `429` with
/// `Retry-After`.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/password-reset", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 202, description = "A reset link is on its way"),
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        TooManyRequests,
        ServerErrors,
    )
)]
pub(crate) async fn send_password_reset(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    state.services.users.send_password_reset(&principal, id).await?;
    Ok(HttpResponse::Accepted().finish())
}
