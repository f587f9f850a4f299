//! `GET /api/v1/users` and `GET /api/v1/users/count`: filtering, sorting,
//! paging and the page links.

use actix_web::{web, HttpRequest, HttpResponse};
use roster_domain::{
    user::{User, UserFilter, UserListQuery, UserStatus},
    Error as DomainError, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::users::USERS_PATH;
use crate::{
    error::ApiError,
    extract::{int_param, parse_query, query_pairs, Authenticated},
    AppState,
};

/// Query of `GET /users`. Values are read as text and validated by the
/// domain, so that every bad parameter is reported at once.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page number, from 1 (default 1).
    #[param(value_type = Option<u32>, minimum = 1)]
    pub page: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// Alias of `per_page`.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Comma-separated keys, `-` for descending: `created_at`, `updated_at`,
    /// `email`, `name`, `given_name`, `family_name`, `status`, `last_login_at`.
    #[param(example = "-created_at,email")]
    pub sort: Option<String>,
    /// Case-insensitive substring of the email or the names.
    pub q: Option<String>,
    /// Exact email, case-insensitive.
    pub email: Option<String>,
    /// Case-insensitive substring of the names.
    pub name: Option<String>,
    #[param(value_type = Option<UserStatus>)]
    pub status: Option<String>,
}

/// Query of `GET /users/count`: the filters of `GET /users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountParams {
    /// Case-insensitive substring of the email or the names.
    pub q: Option<String>,
    /// Exact email, case-insensitive.
    pub email: Option<String>,
    /// Case-insensitive substring of the names.
    pub name: Option<String>,
    #[param(value_type = Option<UserStatus>)]
    pub status: Option<String>,
}

/// Paging figures of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageMeta {
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub total_pages: u64,
}

/// Relative links to pages of the same list, other parameters preserved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageLinks {
    #[serde(rename = "self")]
    #[schema(rename = "self")]
    pub self_: String,
    pub first: String,
    /// `null` on the first page.
    pub prev: Option<String>,
    /// `null` on the last page.
    pub next: Option<String>,
    pub last: String,
}

/// One page of users.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserListResponse {
    pub data: Vec<User>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// How many users match.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CountResponse {
    pub count: u64,
}

fn invalid_query(errors: ValidationErrors) -> ApiError {
    ApiError::Domain(DomainError::InvalidQuery(errors))
}

fn filter(
    errors: &mut ValidationErrors,
    q: Option<String>,
    email: Option<String>,
    name: Option<String>,
    status: Option<String>,
) -> UserFilter {
    UserFilter::parse(q, email, name, status).unwrap_or_else(|e| {
        for (field, msgs) in e.as_map() {
            errors.extend(field, msgs.iter().cloned());
        }
        UserFilter::default()
    })
}

impl ListParams {
    /// Validates every parameter, reporting all the bad ones together.
    fn into_query(self) -> Result<UserListQuery, ApiError> {
        let mut errors = ValidationErrors::new();
        let page = int_param(&mut errors, "page", self.page.as_deref());
        let per_page = int_param(&mut errors, "per_page", self.per_page.as_deref());
        let limit = int_param(&mut errors, "limit", self.limit.as_deref());
        let filter = filter(&mut errors, self.q, self.email, self.name, self.status);
        match UserListQuery::parse(filter, page, per_page, limit, self.sort.as_deref()) {
            Ok(query) if errors.is_empty() => Ok(query),
            Ok(_) => Err(invalid_query(errors)),
            Err(e) => {
                for (field, msgs) in e.as_map() {
                    errors.extend(field, msgs.iter().cloned());
                }
                Err(invalid_query(errors))
            }
        }
    }
}

/// Percent-encodes a query component (everything but RFC 3986 unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Links for `page` of a list with `total_pages`, keeping every parameter but
/// the paging ones in their original order.
fn page_links(pairs: &[(String, String)], page: u32, per_page: u32, total_pages: u64) -> PageLinks {
    let kept: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "page" | "per_page" | "limit"))
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let link = |p: u64| {
        let mut parts = kept.clone();
        parts.push(format!("page={p}"));
        parts.push(format!("per_page={per_page}"));
        format!("{USERS_PATH}?{}", parts.join("&"))
    };
    let page = u64::from(page);
    let last = total_pages.max(1);
    PageLinks {
        self_: link(page),
        first: link(1),
        prev: (page > 1).then(|| link((page - 1).min(last))),
        next: (page < last).then(|| link(page + 1)),
        last: link(last),
    }
}

/// List users, filtered, sorted and paged. Needs `users:read`.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(ListParams),
    responses(
        (status = 200, description = "One page of users", body = UserListResponse),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 500, response = crate::openapi::InternalError),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
pub(crate) async fn list_users(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(req.query_string())?;
    let query = parse_query::<ListParams>(&pairs)?.into_query()?;
    let page = state.services.users.list(&principal, query).await?;
    let total_pages = page.total_pages();
    let links = page_links(&pairs, page.page, page.per_page, total_pages);
    let meta = PageMeta { page: page.page, per_page: page.per_page, total: page.total, total_pages };
    Ok(HttpResponse::Ok().json(UserListResponse { data: page.items, meta, links }))
}

/// Count the users matching the filters. Needs `users:read`.
#[utoipa::path(
    get, path = "/api/v1/users/count", tag = "users", security(("bearer" = [])), params(CountParams),
    responses(
        (status = 200, description = "The number of matching users", body = CountResponse),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 500, response = crate::openapi::InternalError),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
pub(crate) async fn count_users(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p: CountParams = parse_query(&query_pairs(req.query_string())?)?;
    let mut errors = ValidationErrors::new();
    let filter = filter(&mut errors, p.q, p.email, p.name, p.status);
    if !errors.is_empty() {
        return Err(invalid_query(errors));
    }
    let count = state.services.users.count(&principal, filter).await?;
    Ok(HttpResponse::Ok().json(CountResponse { count }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        query_pairs(q).unwrap()
    }

    #[test]
    fn links_keep_other_parameters_and_null_the_ends() {
        let l = page_links(&pairs("q=ada+l%C3%B8v&page=2&limit=10&sort=-email"), 2, 10, 3);
        assert_eq!(l.self_, "/api/v1/users?q=ada%20l%C3%B8v&sort=-email&page=2&per_page=10");
        assert_eq!(l.prev.as_deref(), Some("/api/v1/users?q=ada%20l%C3%B8v&sort=-email&page=1&per_page=10"));
        assert_eq!(l.next.as_deref(), Some("/api/v1/users?q=ada%20l%C3%B8v&sort=-email&page=3&per_page=10"));
        assert_eq!(l.last, "/api/v1/users?q=ada%20l%C3%B8v&sort=-email&page=3&per_page=10");
        let l = page_links(&[], 1, 20, 0);
        assert_eq!((l.prev, l.next), (None, None));
        assert_eq!(l.last, "/api/v1/users?page=1&per_page=20");
    }

    #[test]
    fn bad_parameters_are_reported_together() {
        let err = parse_query::<ListParams>(&pairs("page=abc&per_page=500&sort=password&status=zombie"))
            .unwrap()
            .into_query()
            .unwrap_err();
        match err {
            ApiError::Domain(DomainError::InvalidQuery(e)) => {
                assert_eq!(e.fields().collect::<Vec<_>>(), vec!["page", "per_page", "sort", "status"])
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
