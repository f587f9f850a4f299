//! `/api/v1/me/push-tokens`: the caller's devices' push tokens; and
//! `/api/v1/push-tokens`: a host service reads its organization's members'
//! tokens to notify them. Tokens are never logged.

use actix_web::{web, HttpRequest, HttpResponse};
use roster_domain::user::{PushToken, PushTokenInput, UserPushTokens};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::resource;
use crate::{
    error::{ApiError, BadRequest, BodyErrors, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::{parse_query, path_id, query_pairs, read_json, Authenticated},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/me/push-tokens", "GET, HEAD, POST")
            .route(web::get().to(list_my_tokens))
            .route(web::post().to(register_token)),
    )
    .service(resource("/me/push-tokens/{id}", "DELETE").route(web::delete().to(delete_token)))
    .service(resource("/push-tokens", "GET, HEAD").route(web::get().to(member_tokens)));
}

/// The caller's push tokens, most recently seen first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PushTokenList {
    pub items: Vec<PushToken>,
}

/// Members' push tokens: one item per member found, in the order of their
/// addresses, each with their tokens most recently seen first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberPushTokens {
    pub items: Vec<UserPushTokens>,
}

/// Query of `GET /push-tokens`: exactly one of the two.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberTokensParams {
    /// User ids, a comma list (any of them), at most 100.
    #[param(schema_with = roster_domain::user::lookup_ids_schema)]
    pub user_id: Option<String>,
    /// Email addresses (compared case-insensitively), a comma list (any of
    /// them), at most 100.
    #[param(schema_with = roster_domain::user::lookup_emails_schema)]
    pub email: Option<String>,
}

/// Register a device's push token to the caller: `201` when it is new to
/// the caller (also when it was another user's: the device changed hands,
/// and it moves), `200` when the caller had it (its `last_seen_at` and
/// `device_name` are updated). Formats by provider: `expo`
/// `ExponentPushToken[…]` or `ExpoPushToken[…]` (at most 255 characters);
/// `fcm` a registration token (100–4096 letters, digits, `_`, `:`, `-`);
/// `apns` the device token in hex (64 digits, up to 200; kept in lower
/// case); `webpush` the subscription's endpoint URL (`https://`, at most
/// 2048 characters; its keys are not stored). A user keeps at most 20
/// tokens: registering one more drops the least recently seen.
#[utoipa::path(
    post, path = "/api/v1/me/push-tokens", tag = "me", security(("bearer" = [])), request_body = PushTokenInput,
    responses(
        (status = 201, description = "Registered", body = PushToken),
        (status = 200, description = "Already the caller's: seen again", body = PushToken),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn register_token(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Only a signed-in user has devices; an API key is refused before its body is read.
    principal.signed_in()?;
    let input: PushTokenInput = read_json(&req, payload).await?;
    let registered = state.services.push_tokens.register(&principal, input).await?;
    Ok(if registered.created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(registered.token))
}

/// The caller's push tokens, most recently seen first.
#[utoipa::path(
    get, path = "/api/v1/me/push-tokens", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's tokens", body = PushTokenList),
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn list_my_tokens(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let items = state.services.push_tokens.list(&principal).await?;
    Ok(HttpResponse::Ok().json(PushTokenList { items }))
}

/// Remove one of the caller's push tokens (another user's is `404`).
#[utoipa::path(
    delete, path = "/api/v1/me/push-tokens/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Push token id")),
    responses(
        (status = 204, description = "Removed"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn delete_token(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    principal.signed_in()?;
    let id = path_id(&req, "push token")?;
    state.services.push_tokens.delete(&principal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// For host services: the push tokens of members of the caller's
/// organization, by `user_id=` or by `email=` (exactly one; a comma list of
/// at most 100). Needs `push_tokens:read` there (typically an API key's).
/// Ids and addresses that are no active member of the organization are
/// simply absent; a member without tokens is listed with none.
#[utoipa::path(
    get, path = "/api/v1/push-tokens", tag = "users", security(("bearer" = [])),
    params(MemberTokensParams),
    responses(
        (status = 200, description = "The members found and their tokens", body = MemberPushTokens),
        BadRequest,
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn member_tokens(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(req.query_string())?;
    let q: MemberTokensParams = parse_query(&pairs)?;
    let items = state.services.push_tokens.for_members(&principal, q.user_id.as_deref(), q.email.as_deref()).await?;
    Ok(HttpResponse::Ok().json(MemberPushTokens { items }))
}
