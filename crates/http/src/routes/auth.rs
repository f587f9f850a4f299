//! `/api/v1/auth/*`: registration, login, refresh-token rotation, logout.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use roster_domain::{
    error::TokenRejection,
    service::{Credentials, LoginOutcome, MfaVerifyInput, RegisterInput, Registered, SignedIn, MFA_METHODS},
    user::User,
    Error as DomainError, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{client_meta, resource};
use crate::{
    error::{
        ApiError, BadRequest, BodyErrors, Conflict, Forbidden, NotFound, ServerErrors, TooManyRequests, Unauthorized,
    },
    extract::{bearer_token, read_optional_json, ValidJson},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/register", "POST").route(web::post().to(register)))
        .service(resource("/auth/login", "POST").route(web::post().to(login)))
        .service(resource("/auth/mfa/verify", "POST").route(web::post().to(verify_mfa)))
        .service(resource("/auth/refresh", "POST").route(web::post().to(refresh)))
        .service(resource("/auth/logout", "POST").route(web::post().to(logout)));
}

/// A new session: the user, a short-lived access token and the refresh token
/// that renews it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignedInResponse {
    pub user: User,
    /// A JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Opaque; exchange it at `POST /auth/refresh`. Single use: each refresh returns a new one.
    pub refresh_token: String,
}

impl From<SignedIn> for SignedInResponse {
    fn from(s: SignedIn) -> Self {
        SignedInResponse {
            user: s.user,
            access_token: s.access_token,
            token_type: "Bearer".into(),
            expires_in: s.expires_in,
            refresh_token: s.refresh_token.expose().to_string(),
        }
    }
}

/// A login whose password was right, for an account with two-step
/// verification on: no tokens yet. Send a code for the challenge to
/// `POST /auth/mfa/verify`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MfaRequiredResponse {
    /// Always `true`.
    pub mfa_required: bool,
    /// Single use; lives `expires_in` seconds and takes a few codes.
    pub challenge: String,
    /// What the second step takes: `totp` (a `code`) or `recovery_code`.
    #[schema(example = json!(["totp", "recovery_code"]))]
    pub methods: Vec<String>,
    /// Seconds the challenge lives.
    #[schema(example = 300)]
    pub expires_in: i64,
}

/// What a login answers: a session, or the MFA step. (The schema of the
/// answer only: the handler serializes either part directly.)
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
pub enum LoginResponse {
    SignedIn(SignedInResponse),
    MfaRequired(MfaRequiredResponse),
}

/// A refresh token, to rotate (`/auth/refresh`) or to end its session (`/auth/logout`).
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
    /// `/auth/refresh` only: move the session to this organization of the
    /// user's (its id); the new access token carries its role and permissions.
    #[serde(default)]
    pub org: Option<uuid::Uuid>,
}

/// The optional body of `/auth/logout`: the refresh token of the session to
/// end, required without a valid bearer token (and then checked).
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Ignored (accepted as `/auth/refresh` takes it).
    #[serde(default)]
    pub org: Option<uuid::Uuid>,
}

impl std::fmt::Debug for LogoutRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogoutRequest { refresh_token: <redacted> }")
    }
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest { refresh_token: <redacted> }")
    }
}

/// A registration that waits for the address to be verified before any
/// sign-in (`auth.require_verified_email`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationRequiredResponse {
    pub user: User,
    /// Always `true`: follow the link mailed to the address, then sign in.
    pub email_verification_required: bool,
}

/// What registration answers: a session, or a pending verification.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RegisterResponse {
    SignedIn(SignedInResponse),
    VerificationRequired(VerificationRequiredResponse),
}

/// Token responses must not be cached (RFC 6749 §5.1).
pub(crate) fn signed_in(status: StatusCode, s: SignedIn) -> HttpResponse {
    let location = format!("/api/v1/users/{}", s.user.id);
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if status == StatusCode::CREATED {
        res.insert_header((header::LOCATION, location));
    }
    res.json(SignedInResponse::from(s))
}

/// Register an account (when self-registration is open). A verification
/// link is mailed; the answer signs in, unless verified addresses are
/// required, in which case it says so and carries no tokens.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterInput,
    responses(
        (status = 201, description = "Registered (and signed in, unless verification is required)", body = RegisterResponse,
            headers(("Location" = String, description = "The new user"))),
        BadRequest,
        Forbidden,
        Conflict,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    ValidJson(input): ValidJson<RegisterInput>,
) -> Result<HttpResponse, ApiError> {
    match state.services.auth.register(input, client_meta(&req)).await? {
        Registered::SignedIn(signed) => Ok(signed_in(StatusCode::CREATED, signed)),
        Registered::VerificationRequired(user) => Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(VerificationRequiredResponse { user, email_verification_required: true })),
    }
}

/// Sign in with email and password. An account with two-step verification
/// on gets a challenge instead of tokens (`mfa_required`). Failed sign-ins
/// lock the account for a while (`429 too_many_attempts`, with
/// `Retry-After`, checked before the password), counted by the address
/// signed in with whether or not it has an account; a client address that
/// fails too often is refused (`429 rate_limited`). A right password from
/// an address outside the account's allowlist is `403 ip_not_allowed`.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, description = "Signed in, or the MFA step is next", body = LoginResponse),
        BadRequest,
        Unauthorized,
        NotFound,
        Forbidden,
        TooManyRequests,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    ValidJson(credentials): ValidJson<Credentials>,
) -> Result<HttpResponse, ApiError> {
    match state.services.auth.login(credentials, client_meta(&req)).await? {
        LoginOutcome::SignedIn(signed) => Ok(signed_in(StatusCode::OK, *signed)),
        LoginOutcome::MfaRequired { challenge, expires_in } => {
            Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(MfaRequiredResponse {
                mfa_required: true,
                challenge: challenge.expose().to_string(),
                methods: MFA_METHODS.iter().map(|m| (*m).to_string()).collect(),
                expires_in,
            }))
        }
    }
}

/// The second step of a login with two-step verification on: the
/// challenge and a code from the authenticator app (`code`) or a recovery
/// code (`recovery_code`). A code works once; the challenge too, within its
/// lifetime and a few attempts (`401 invalid_challenge` after: sign in
/// again). Wrong codes count towards the account's lockout like wrong
/// passwords. The access token carries `amr: ["pwd", "otp"]`.
#[utoipa::path(
    post, path = "/api/v1/auth/mfa/verify", tag = "auth", request_body = MfaVerifyInput,
    responses(
        (status = 200, description = "Signed in", body = SignedInResponse),
        BadRequest,
        Unauthorized,
        NotFound,
        Forbidden,
        TooManyRequests,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn verify_mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    ValidJson(input): ValidJson<MfaVerifyInput>,
) -> Result<HttpResponse, ApiError> {
    let signed = state.services.auth.verify_mfa(input, client_meta(&req)).await?;
    Ok(signed_in(StatusCode::OK, signed))
}

/// Exchange a refresh token for a new access token and a new refresh token.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "Tokens rotated", body = SignedInResponse),
        BadRequest,
        Unauthorized,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    ValidJson(body): ValidJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let signed = state.services.auth.refresh(&body.refresh_token, body.org).await?;
    Ok(signed_in(StatusCode::OK, signed))
}

/// End a session: the bearer token's, or else the one of the refresh token in
/// the (optional) body, for clients whose access token has expired. An API
/// key has no session to end (`403 signed_in_user_only`). A body, when
/// there is one, is read and checked either way.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "Only needed without a valid bearer token; may be left out (`null` is no body)"),
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Session ended"),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let auth = &state.services.auth;
    let body = read_optional_json::<LogoutRequest, _>(&req, payload).await?;
    let mut rejection = TokenRejection::Missing;
    if let Some(token) = bearer_token(&req) {
        match auth.authenticate(token).await {
            Ok(principal) => {
                auth.logout(&principal).await?;
                return Ok(HttpResponse::NoContent().finish());
            }
            Err(DomainError::Unauthenticated(r)) => rejection = r,
            Err(e) => return Err(e.into()),
        }
    }
    match body {
        Some(LogoutRequest { refresh_token: Some(token), .. }) => {
            auth.logout_with_refresh(&token).await?;
            Ok(HttpResponse::NoContent().finish())
        }
        Some(_) => {
            let mut errors = ValidationErrors::new();
            errors.add("refresh_token", "is required without a valid bearer token");
            Err(DomainError::Validation(errors).into())
        }
        None => Err(DomainError::Unauthenticated(rejection).into()),
    }
}
