//! The mailed-link flows under `/api/v1/auth`: forgotten password and
//! reset, email verification and its resend, accepting an invitation.
//!
//! `forgot` and `resend` answer `202` whether or not an account has the
//! address, and no sooner than [`HttpConfig::mail_request_floor`], so that
//! neither the answer nor its timing tells whether it has one.
//!
//! [`HttpConfig::mail_request_floor`]: crate::HttpConfig::mail_request_floor

use std::time::Instant;

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use roster_domain::service::{AcceptInvitationInput, ResetPasswordInput};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{auth::signed_in, client_meta, resource};
use crate::{
    error::{ApiError, BadRequest, BodyErrors, Conflict, Gone, ServerErrors, TooManyRequests},
    extract::ValidJson,
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/password/forgot", "POST").route(web::post().to(forgot_password)))
        .service(resource("/auth/password/reset", "POST").route(web::post().to(reset_password)))
        .service(resource("/auth/email/verify", "POST").route(web::post().to(verify_email)))
        .service(resource("/auth/email/resend", "POST").route(web::post().to(resend_verification)))
        .service(resource("/auth/invitations/accept", "POST").route(web::post().to(accept_invitation)));
}

/// An email address.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[schema(value_type = roster_domain::values::Email)]
    pub email: String,
}

/// A token from a mailed link.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub token: String,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenRequest { token: <redacted> }")
    }
}

/// Waits until `floor` has passed since `started`.
async fn no_sooner_than(started: Instant, floor: std::time::Duration) {
    let left = floor.saturating_sub(started.elapsed());
    if !left.is_zero() {
        actix_web::rt::time::sleep(left).await;
    }
}

/// Ask for a password-reset link. Always `202`: whether an account has the
/// address is not told, by the answer or by its timing.
#[utoipa::path(
    post, path = "/api/v1/auth/password/forgot", tag = "auth", request_body = EmailRequest,
    responses(
        (status = 202, description = "If an active account has this address, a link is on its way"),
        BadRequest,
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    )
)]
pub(crate) async fn forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    ValidJson(body): ValidJson<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    state.services.accounts.forgot_password(&body.email, &client_meta(&req)).await?;
    no_sooner_than(started, state.config.mail_request_floor).await;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token of a reset link. Every session of the
/// account ends, and a notice is mailed.
#[utoipa::path(
    post, path = "/api/v1/auth/password/reset", tag = "auth", request_body = ResetPasswordInput,
    responses(
        (status = 204, description = "Password set; sign in with it"),
        BadRequest,
        Gone,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn reset_password(
    state: web::Data<AppState>,
    ValidJson(body): ValidJson<ResetPasswordInput>,
) -> Result<HttpResponse, ApiError> {
    state.services.accounts.reset_password(body).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Confirm an email address with the token of a verification link: the
/// account's address, or the new address of a change, which then replaces
/// the old one.
#[utoipa::path(
    post, path = "/api/v1/auth/email/verify", tag = "auth", request_body = TokenRequest,
    responses(
        (status = 204, description = "Address confirmed"),
        BadRequest,
        Conflict,
        Gone,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn verify_email(
    state: web::Data<AppState>,
    ValidJson(body): ValidJson<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    state.services.accounts.verify_email(&body.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask for a new verification link. Always `202`, like `forgot`.
#[utoipa::path(
    post, path = "/api/v1/auth/email/resend", tag = "auth", request_body = EmailRequest,
    responses(
        (status = 202, description = "If an account with this unverified address exists, a link is on its way"),
        BadRequest,
        BodyErrors,
        TooManyRequests,
        ServerErrors,
    )
)]
pub(crate) async fn resend_verification(
    state: web::Data<AppState>,
    req: HttpRequest,
    ValidJson(body): ValidJson<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    state.services.accounts.resend_verification(&body.email, &client_meta(&req)).await?;
    no_sooner_than(started, state.config.mail_request_floor).await;
    Ok(HttpResponse::Accepted().finish())
}

/// Accept an invitation with the token of its link: set a password (and a
/// name), activate the account, and sign in.
#[utoipa::path(
    post, path = "/api/v1/auth/invitations/accept", tag = "auth", request_body = AcceptInvitationInput,
    responses(
        (status = 200, description = "Account activated and signed in", body = crate::routes::auth::SignedInResponse),
        BadRequest,
        Gone,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn accept_invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    ValidJson(body): ValidJson<AcceptInvitationInput>,
) -> Result<HttpResponse, ApiError> {
    let signed = state.services.accounts.accept_invitation(body, client_meta(&req)).await?;
    Ok(signed_in(StatusCode::OK, signed))
}
