//! `/api/v1/me/settings` and `/api/v1/users/{id}/settings`: a user's
//! settings, changed by JSON merge patch (RFC 7396). Authorization and the
//! merge are the domain's.

use actix_web::{web, HttpRequest, HttpResponse};
use roster_domain::user::Settings;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::resource;
use crate::{
    error::{ApiError, BadRequest, BodyErrors, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::{path_id, read_json, Authenticated},
    AppState,
};

/// A JSON merge patch (RFC 7396) of `Settings`, as documented: every key
/// optional, `null` restores its default, and no other key is taken. (The
/// handler reads the patch as a JSON object; this type only describes it.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct SettingsPatch {
    /// Channels to set (`true`/`false`) or to drop (`null`), merged into the stored ones.
    #[schema(value_type = Option<BTreeMap<String, Option<bool>>>)]
    notifications: Option<Value>,
    /// An ISO 8601 duration (`P1W`), or `null`.
    reminder_advance: Option<String>,
    /// A location of an organization the user is a member of, or `null`.
    default_location_id: Option<uuid::Uuid>,
    /// Merged into the host application's object (at most 8 KiB), or `null` to empty it.
    #[schema(value_type = Option<Object>)]
    app: Option<Value>,
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/me/settings", "GET, HEAD, PATCH")
            .route(web::get().to(get_my_settings))
            .route(web::patch().to(patch_my_settings)),
    )
    .service(
        resource("/users/{id}/settings", "GET, HEAD, PATCH")
            .route(web::get().to(get_user_settings))
            .route(web::patch().to(patch_user_settings)),
    );
}

/// The caller's settings, every known key shown (defaults included).
#[utoipa::path(
    get, path = "/api/v1/me/settings", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's settings", body = Settings),
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn get_my_settings(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (me, _) = principal.signed_in()?;
    let id = me.id;
    Ok(HttpResponse::Ok().json(state.services.settings.get(&principal, id).await?))
}

/// Change the caller's settings with a JSON merge patch (RFC 7396; send it
/// as `application/merge-patch+json` or `application/json`): members merge
/// into the stored settings, nested objects recursively, and `null` removes
/// a key, restoring its default. Known keys: `notifications` (channel →
/// boolean), `reminder_advance` (ISO 8601 duration), `default_location_id`
/// (a location of one of the caller's organizations) and `app` (a free
/// object, at most 8 KiB). Unknown keys and bad values are `422`, every one
/// named, and nothing is written. The answer is the settings whole.
#[utoipa::path(
    patch, path = "/api/v1/me/settings", tag = "me", security(("bearer" = [])),
    request_body(content = SettingsPatch, description = "A JSON merge patch of `Settings`",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The caller's settings after the patch", body = Settings),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn patch_my_settings(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Only a signed-in user has a self; an API key is refused before its body is read.
    let id = principal.signed_in()?.0.id;
    let patch: Map<String, Value> = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.settings.patch(&principal, id, patch).await?))
}

/// A user's settings: oneself, or with `users:read` a user the caller's
/// organization sees (as `GET /users/{id}`).
#[utoipa::path(
    get, path = "/api/v1/users/{id}/settings", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user's settings", body = Settings),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get_user_settings(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    Ok(HttpResponse::Ok().json(state.services.settings.get(&principal, id).await?))
}

/// Change a user's settings with a JSON merge patch, as
/// `PATCH /me/settings` does: oneself, or with `users:write` a user the
/// caller may edit (as `PATCH /users/{id}`: an owner's takes an owner, an
/// organization edits the accounts it manages). The default location must
/// be a location of an organization the user is a member of.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}/settings", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body(content = SettingsPatch, description = "A JSON merge patch of `Settings`",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The user's settings after the patch", body = Settings),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn patch_user_settings(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let patch: Map<String, Value> = read_json(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.settings.patch(&principal, id, patch).await?))
}
