//! `/api/v1/me`: the caller's own account.

use actix_web::{web, HttpRequest, HttpResponse};
use roster_domain::{
    service::ChangeEmailInput,
    user::{MePatch, User},
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::resource;
use crate::{
    error::{ApiError, BadRequest, BodyErrors, Forbidden, ServerErrors, Unauthorized},
    extract::{read_json, Authenticated},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/me", "GET, HEAD, PATCH").route(web::get().to(get_me)).route(web::patch().to(patch_me)))
        .service(resource("/me/password", "POST").route(web::post().to(change_password)))
        .service(resource("/me/email", "POST").route(web::post().to(change_email)));
}

/// A password change: the current password and the new one.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePasswordRequest { <redacted> }")
    }
}

/// The caller's own user.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn get_me(Authenticated(principal): Authenticated) -> Result<HttpResponse, ApiError> {
    // The principal's user was read from the store with the session: no second query.
    let (me, _) = principal.signed_in()?;
    Ok(HttpResponse::Ok().json(me))
}

/// Change the caller's own profile fields (`null` clears a field).
#[utoipa::path(
    patch, path = "/api/v1/me", tag = "me", security(("bearer" = [])), request_body = MePatch,
    responses(
        (status = 200, description = "The updated caller", body = User),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn patch_me(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Only a signed-in user has a self; an API key is refused before its body is read.
    principal.signed_in()?;
    let patch: MePatch = read_json(&req, payload).await?;
    let user = state.services.auth.update_me(&principal, patch).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Change the caller's password; every other session of the caller is ended
/// and a notice is mailed.
#[utoipa::path(
    post, path = "/api/v1/me/password", tag = "me", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn change_password(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Only a signed-in user has a self; an API key is refused before its body is read.
    principal.signed_in()?;
    let body: ChangePasswordRequest = read_json(&req, payload).await?;
    state.services.auth.change_password(&principal, &body.current_password, &body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the caller's email address: a confirmation link goes to the new
/// address and a notice to the current one; the address changes when the
/// link is followed (`POST /auth/email/verify`). If the new address already
/// has an account, that address is told instead; the answer is the same.
#[utoipa::path(
    post, path = "/api/v1/me/email", tag = "me", security(("bearer" = [])), request_body = ChangeEmailInput,
    responses(
        (status = 202, description = "A confirmation link is on its way to the new address"),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn change_email(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Only a signed-in user has a self; an API key is refused before its body is read.
    principal.signed_in()?;
    let body: ChangeEmailInput = read_json(&req, payload).await?;
    state.services.accounts.request_email_change(&principal, body).await?;
    Ok(HttpResponse::Accepted().finish())
}
