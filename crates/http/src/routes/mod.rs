//! The handlers, one module per feature. Each registers its resources with
//! [`resource`], whose default service answers `405` with an `Allow` header.

pub mod account;
pub mod auth;
pub mod invitations;
pub mod me;
pub mod ops;
pub mod outbox;
pub mod paging;
pub mod user_list;
pub mod users;

use actix_web::{web, HttpRequest, HttpResponse, Resource};
use roster_domain::service::ClientMeta;

use crate::error::ApiError;

/// A resource whose unsupported methods get `405 method_not_allowed` with
/// `Allow: <allow>`.
pub(crate) fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path)
        .default_service(web::to(move || async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow)) }))
}

/// The app's default service: `404 not_found` as a problem.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// The caller's user agent and peer address, recorded on new sessions.
pub(crate) fn client_meta(req: &HttpRequest) -> ClientMeta {
    ClientMeta {
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip: req.peer_addr().map(|a| a.ip().to_string()),
    }
}
