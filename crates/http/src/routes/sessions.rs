//! `/api/v1/me/sessions`: the caller's live sessions, listed and ended;
//! `/api/v1/users/{id}/sessions`: the same for an administrator holding
//! `sessions:revoke`. Who may act on whose sessions is the domain's
//! (`SessionService`); an ended session's access tokens are refused at once.

use actix_web::{web, HttpRequest, HttpResponse};
use roster_domain::auth::SessionInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::resource;
use crate::{
    error::{ApiError, BadRequest, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::{parse_query, path_id, query_pairs, segment_id, Authenticated},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/me/sessions", "GET, HEAD, DELETE")
            .route(web::get().to(list_my_sessions))
            .route(web::delete().to(revoke_my_sessions)),
    )
    .service(resource("/me/sessions/{id}", "DELETE").route(web::delete().to(revoke_my_session)))
    .service(
        resource("/users/{id}/sessions", "GET, HEAD, DELETE")
            .route(web::get().to(list_user_sessions))
            .route(web::delete().to(revoke_user_sessions)),
    )
    .service(resource("/users/{id}/sessions/{sid}", "DELETE").route(web::delete().to(revoke_user_session)));
}

/// Live sessions (neither revoked nor expired), newest first: at most the
/// newest 100.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionInfo>,
}

/// How many live sessions were ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevokedSessions {
    pub revoked: u64,
}

/// Which of the caller's sessions `DELETE /me/sessions` ends.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SessionScope {
    /// Every live session but the caller's own
    Others,
    /// Every live session, the caller's own included
    All,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeQuery {
    #[serde(default)]
    scope: Option<String>,
}

/// The caller's live sessions, newest first (at most the newest 100): when
/// and from where (`ip`, `user_agent`, both as at login) each was opened,
/// its organization, how it was authenticated (`amr`), when it ends, and
/// `current: true` for the session of the token the request carries.
/// `last_used_at` is the last refresh (rotation of the refresh token);
/// using an access token does not write it.
#[utoipa::path(
    get, path = "/api/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's live sessions", body = SessionList),
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn list_my_sessions(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let items = state.services.sessions.list_mine(&principal).await?;
    Ok(HttpResponse::Ok().json(SessionList { items }))
}

/// End many of the caller's sessions at once: `scope=others` ends every
/// live session but the current one ("sign out everywhere else");
/// `scope=all` ends the current one too (its tokens stop working with this
/// answer). `scope` is required: missing or any other value is `400
/// invalid_query` naming it. The answer counts the sessions ended.
#[utoipa::path(
    delete, path = "/api/v1/me/sessions", tag = "me", security(("bearer" = [])),
    params(("scope" = SessionScope, Query, description = "`others` (all but the current session) or `all`")),
    responses(
        (status = 200, description = "The sessions were ended", body = RevokedSessions),
        BadRequest,
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn revoke_my_sessions(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // An API key has no sessions: refused before its query is read.
    principal.signed_in()?;
    let q: ScopeQuery = parse_query(&query_pairs(req.query_string())?)?;
    let revoked = state.services.sessions.revoke_my_sessions(&principal, q.scope.as_deref()).await?;
    Ok(HttpResponse::Ok().json(RevokedSessions { revoked }))
}

/// End one of the caller's sessions — the current one too, which is a
/// logout. Unknown, another user's, or no longer live (revoked, expired):
/// `404`.
#[utoipa::path(
    delete, path = "/api/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Session id")),
    responses(
        (status = 204, description = "Ended"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn revoke_my_session(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    principal.signed_in()?;
    let id = path_id(&req, "session")?;
    state.services.sessions.revoke_mine(&principal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A user's live sessions, as `GET /me/sessions` shows them (`current` marks
/// the caller's own, when listing themselves). Needs `sessions:revoke`
/// where the caller acts; an organization's administrators act only on the
/// accounts it manages (`403 not_managed` for its other members; anyone
/// else is `404`), and acting on an owner takes an owner, on a superadmin a
/// superadmin — the rules of every account-level action. Administrators
/// may list their own.
#[utoipa::path(
    get, path = "/api/v1/users/{id}/sessions", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user's live sessions", body = SessionList),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn list_user_sessions(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let items = state.services.sessions.list_of(&principal, id).await?;
    Ok(HttpResponse::Ok().json(SessionList { items }))
}

/// End every live session of a user (on one's own account: the current
/// session too). Authorized as `GET /users/{id}/sessions`. The answer
/// counts the sessions ended.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/sessions", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The sessions were ended", body = RevokedSessions),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn revoke_user_sessions(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let revoked = state.services.sessions.revoke_all_of(&principal, id).await?;
    Ok(HttpResponse::Ok().json(RevokedSessions { revoked }))
}

/// End one session of a user. Authorized as `GET /users/{id}/sessions`; a
/// session that is not a live one of that user is `404`.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/sessions/{sid}", tag = "users", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "User id"),
        ("sid" = uuid::Uuid, Path, description = "Session id"),
    ),
    responses(
        (status = 204, description = "Ended"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn revoke_user_session(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let sid = segment_id(&req, "sid", "session")?;
    state.services.sessions.revoke_of(&principal, id, sid).await?;
    Ok(HttpResponse::NoContent().finish())
}
