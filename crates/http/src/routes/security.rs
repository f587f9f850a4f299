//! `/api/v1/me/security` and `/api/v1/users/{id}/unlock`: an account's
//! security state, and lifting a lock after failed sign-ins.

use actix_web::{web, HttpResponse};
use roster_domain::service::SecurityView;
use uuid::Uuid;

use super::resource;
use crate::{
    error::{ApiError, BadRequest, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::Authenticated,
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/me/security", "GET, HEAD").route(web::get().to(my_security)))
        .service(resource("/users/{id}/unlock", "POST").route(web::post().to(unlock)));
}

/// The caller's security state: two-step verification and recovery codes
/// left, a lock after failed sign-ins and the failures counted, the last
/// sign-in's time and address.
#[utoipa::path(
    get, path = "/api/v1/me/security", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's security state", body = SecurityView),
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn my_security(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.services.security.mine(&principal).await?))
}

/// Lift a user's lock after failed sign-ins, and forget the failures.
/// Needs `users:manage_status` on an account the caller may change (in an
/// organization, one it manages); not one's own. Idempotent.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/unlock", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "Unlocked; the user's security state", body = SecurityView),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn unlock(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.services.security.unlock(&principal, id.into_inner()).await?))
}
