//! `/api/v1/me/mfa/*`: two-step verification with an authenticator app,
//! self-service; `/api/v1/users/{id}/mfa`: an administrator's reset.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use roster_domain::service::TurnOffInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::resource;
use crate::{
    error::{
        ApiError, BadRequest, BodyErrors, Conflict, Forbidden, NotFound, ServerErrors, TooManyRequests, Unauthorized,
    },
    extract::{read_json, Authenticated},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/me/mfa/totp", "POST, DELETE").route(web::post().to(begin)).route(web::delete().to(turn_off)),
    )
    .service(resource("/me/mfa/totp/confirm", "POST").route(web::post().to(confirm)))
    .service(resource("/me/mfa/recovery-codes", "POST").route(web::post().to(new_recovery_codes)))
    .service(resource("/users/{id}/mfa", "DELETE").route(web::delete().to(reset)));
}

/// The caller's password, to start an enrolment.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeginTotpRequest {
    pub current_password: String,
}

impl std::fmt::Debug for BeginTotpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeginTotpRequest { <redacted> }")
    }
}

/// A code from the authenticator app.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeRequest {
    /// The 6 digits the app shows now.
    #[schema(example = "123456")]
    pub code: String,
}

impl std::fmt::Debug for TotpCodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpCodeRequest { <redacted> }")
    }
}

/// A started enrolment. The secret is shown this once and never again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotpEnrolmentResponse {
    /// The secret in base32, for typing into the app.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    pub secret: String,
    /// `otpauth://totp/…`: what the QR code carries (SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, as an SVG document.
    pub qr_svg: String,
}

/// Recovery codes, shown this once: each signs in once instead of a code
/// (`POST /auth/mfa/verify` with `recovery_code`). Store them safely.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    #[schema(example = json!(["abcde-fghjk", "mnpqr-stuvw"]))]
    pub recovery_codes: Vec<String>,
}

/// Secrets in the answer: never cached.
fn secret_answer(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

/// The QR code of `uri` as SVG.
fn qr_svg(uri: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| roster_domain::Error::Internal(format!("QR code of an otpauth URI: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

/// Start enrolling an authenticator app: a new secret, its `otpauth://`
/// URI and QR code. Two-step verification turns on only once a code from
/// the app is confirmed (`POST /me/mfa/totp/confirm`); starting again
/// replaces an unconfirmed secret.
#[utoipa::path(
    post, path = "/api/v1/me/mfa/totp", tag = "me", security(("bearer" = [])), request_body = BeginTotpRequest,
    responses(
        (status = 200, description = "The secret, shown once", body = TotpEnrolmentResponse),
        BadRequest,
        Unauthorized,
        Forbidden,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn begin(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.signed_in()?;
    let body: BeginTotpRequest = read_json(&req, payload).await?;
    let enrolment = state.services.mfa.begin(&principal, &body.current_password).await?;
    let qr_svg = qr_svg(&enrolment.otpauth_uri)?;
    Ok(secret_answer(TotpEnrolmentResponse { secret: enrolment.secret, otpauth_uri: enrolment.otpauth_uri, qr_svg }))
}

/// Confirm the enrolment with a code from the app: two-step verification is
/// on, a notice is mailed, and ten recovery codes are returned, this once.
/// The code cannot sign in afterwards.
#[utoipa::path(
    post, path = "/api/v1/me/mfa/totp/confirm", tag = "me", security(("bearer" = [])), request_body = TotpCodeRequest,
    responses(
        (status = 200, description = "MFA is on; the recovery codes, shown once", body = RecoveryCodesResponse),
        BadRequest,
        Unauthorized,
        Forbidden,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn confirm(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.signed_in()?;
    let body: TotpCodeRequest = read_json(&req, payload).await?;
    let recovery_codes = state.services.mfa.confirm(&principal, &body.code).await?;
    Ok(secret_answer(RecoveryCodesResponse { recovery_codes }))
}

/// Turn two-step verification off, with the password and a current code
/// (`code`) or a recovery code (`recovery_code`). A notice is mailed. Wrong
/// codes count towards the account's lockout, as at sign-in.
#[utoipa::path(
    delete, path = "/api/v1/me/mfa/totp", tag = "me", security(("bearer" = [])), request_body = TurnOffInput,
    responses(
        (status = 204, description = "MFA is off"),
        BadRequest,
        Unauthorized,
        Forbidden,
        Conflict,
        TooManyRequests,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn turn_off(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.signed_in()?;
    let body: TurnOffInput = read_json(&req, payload).await?;
    state.services.mfa.turn_off(&principal, body).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new set of recovery codes, for a current code; the old set stops
/// working. Wrong codes count towards the account's lockout, as at sign-in.
#[utoipa::path(
    post, path = "/api/v1/me/mfa/recovery-codes", tag = "me", security(("bearer" = [])),
    request_body = TotpCodeRequest,
    responses(
        (status = 200, description = "The new recovery codes, shown once", body = RecoveryCodesResponse),
        BadRequest,
        Unauthorized,
        Forbidden,
        Conflict,
        TooManyRequests,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn new_recovery_codes(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.signed_in()?;
    let body: TotpCodeRequest = read_json(&req, payload).await?;
    let recovery_codes = state.services.mfa.new_recovery_codes(&principal, &body.code).await?;
    Ok(secret_answer(RecoveryCodesResponse { recovery_codes }))
}

/// Turn a user's two-step verification off (a lost phone); they are mailed
/// a notice and sign in with their password alone until they enrol again.
/// Needs `users:write` on an account the caller may change (in an
/// organization, one it manages); not for one's own account (use
/// `DELETE /me/mfa/totp`). Nothing happens when MFA is off.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/mfa", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user")),
    responses(
        (status = 204, description = "MFA is off"),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn reset(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state.services.mfa.reset(&principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
