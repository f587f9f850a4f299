//! `GET /api/v1/users` and `GET /api/v1/users/count`: the shortcuts, the
//! SCIM `filter=`, sorting, projection, offset and keyset paging, and the
//! page links. Every rule is the domain's; this module only translates.

use actix_web::{web, HttpRequest, HttpResponse};
use roster_domain::{
    service::UserList,
    user::{ListParams as DomainParams, Paging, User},
    Error as DomainError, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::{link, page_links, PageLinks, PageMeta};
use crate::{
    error::{ApiError, BadRequest, Forbidden, ServerErrors, Unauthorized},
    extract::{int_param, parse_query, query_pairs, Authenticated},
    AppState,
};

/// The collection's absolute path, for `Location` headers and page links.
pub(crate) const USERS_PATH: &str = "/api/v1/users";

/// Query of `GET /users`. Values are read as text and validated by the
/// domain, so that every bad parameter is reported at once.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// SCIM filter (RFC 7644 §3.4.2.2): `eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not (…)`,
    /// parentheses. Attributes: `id`, `email`, `email_verified`, `name`, `given_name`, `family_name`,
    /// `phone`, `locale`, `timezone`, `status`, `created_at`, `updated_at`, `last_login_at`,
    /// `profile.birthdate|gender|pronouns|employee_id|position|department`, `org_id`, `role`,
    /// `location_id`, `managed` (whether the organization manages the account), `attributes.<key>`;
    /// `role`, `location_id` and `managed` are about the caller's organization. Strings compare case-insensitively, except `attributes.<key>`, which is the
    /// host application's data and compares exactly. Ties in `sort` break on `id` in the direction
    /// of the last sort key.
    #[param(example = r#"status eq "active" and (profile.department eq "R&D" or role eq "admin")"#)]
    pub filter: Option<String>,
    /// Case-insensitive substring of the email or the names.
    #[param(schema_with = roster_domain::values::schema::query_text)]
    pub q: Option<String>,
    /// Exact emails, case-insensitive; a comma list means any of them.
    #[param(schema_with = roster_domain::values::schema::values)]
    pub email: Option<String>,
    /// Case-insensitive substring of the names.
    #[param(schema_with = roster_domain::values::schema::query_text)]
    pub name: Option<String>,
    /// Statuses; a comma list means any of them (`active,inactive`).
    #[param(schema_with = roster_domain::user::statuses_schema)]
    pub status: Option<String>,
    /// Role names in the organization; a comma list means any of them.
    #[param(schema_with = roster_domain::values::schema::values)]
    pub role: Option<String>,
    /// Organization ids the user is a member of; a comma list means any of them.
    #[param(schema_with = roster_domain::values::schema::uuids)]
    pub org_id: Option<String>,
    /// Location ids (of the caller's organization) the user has; a comma list means any of them.
    #[param(schema_with = roster_domain::values::schema::uuids)]
    pub location_id: Option<String>,
    /// Comma-separated keys, `-` for descending: `created_at`, `updated_at`,
    /// `email`, `name`, `given_name`, `family_name`, `status`, `last_login_at`. Ties break on `id`.
    #[param(example = "-created_at,email")]
    pub sort: Option<String>,
    /// Projection: the members of each user to return (`id` always is).
    #[param(example = "id,email,name")]
    pub fields: Option<String>,
    /// Offset paging: page number (default 1); not with `after`. Offset pages count every match for
    /// `meta.total`, which on millions of users costs most of a second: pass `total=false` to skip
    /// it, and use `after` (keyset) to walk far — deep offsets get slower, cursors do not.
    #[param(schema_with = roster_domain::values::schema::page_or_cursor)]
    pub page: Option<String>,
    /// Page size.
    #[param(schema_with = roster_domain::values::schema::per_page)]
    pub per_page: Option<String>,
    /// Alias of `per_page`.
    #[param(schema_with = roster_domain::values::schema::per_page)]
    pub limit: Option<String>,
    /// Keyset paging: empty for the first page, then the cursor from `links.next`. Constant time at
    /// any depth; tied to the `sort` it was issued for. Not with `page` (`400 invalid_query`): the
    /// two are two ways of paging.
    pub after: Option<String>,
    /// Count every match (`meta.total`): offset pages do unless `total=false` (faster on large
    /// directories); keyset pages only with `total=true`.
    #[param(value_type = Option<bool>)]
    pub total: Option<String>,
}

/// Query of `GET /users/count`: the filters of `GET /users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountParams {
    /// SCIM filter, as for `GET /users`.
    pub filter: Option<String>,
    #[param(schema_with = roster_domain::values::schema::query_text)]
    pub q: Option<String>,
    #[param(schema_with = roster_domain::values::schema::values)]
    pub email: Option<String>,
    #[param(schema_with = roster_domain::values::schema::query_text)]
    pub name: Option<String>,
    #[param(schema_with = roster_domain::user::statuses_schema)]
    pub status: Option<String>,
    #[param(schema_with = roster_domain::values::schema::values)]
    pub role: Option<String>,
    #[param(schema_with = roster_domain::values::schema::uuids)]
    pub org_id: Option<String>,
    #[param(schema_with = roster_domain::values::schema::uuids)]
    pub location_id: Option<String>,
}

/// One page of users (projected when `fields` is given).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserListResponse {
    #[schema(value_type = Vec<User>)]
    pub data: Vec<serde_json::Value>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// How many users match.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CountResponse {
    pub count: u64,
}

fn bool_param(errors: &mut ValidationErrors, name: &str, raw: Option<&str>) -> Option<bool> {
    match raw?.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => {
            errors.add(name, "must be true or false");
            None
        }
    }
}

impl ListParams {
    /// The domain's parameters; numbers that do not parse are reported together.
    pub(crate) fn into_domain(self) -> Result<DomainParams, ApiError> {
        let mut errors = ValidationErrors::new();
        let params = DomainParams {
            page: int_param(&mut errors, "page", self.page.as_deref()),
            per_page: int_param(&mut errors, "per_page", self.per_page.as_deref()),
            limit: int_param(&mut errors, "limit", self.limit.as_deref()),
            total: bool_param(&mut errors, "total", self.total.as_deref()),
            q: self.q,
            email: self.email,
            name: self.name,
            status: self.status,
            role: self.role,
            org_id: self.org_id,
            location_id: self.location_id,
            filter: self.filter,
            sort: self.sort,
            fields: self.fields,
            after: self.after,
        };
        if errors.is_empty() {
            Ok(params)
        } else {
            Err(ApiError::Domain(DomainError::InvalidQuery(errors)))
        }
    }
}

/// Links for a keyset page of the list at `path`: `next` carries the cursor.
fn cursor_links(path: &str, pairs: &[(String, String)], after: &str, per_page: u32, next: Option<&str>) -> PageLinks {
    let at = |cursor: &str| link(path, pairs, &[("after", cursor.to_string()), ("per_page", per_page.to_string())]);
    PageLinks { self_: at(after), first: at(""), prev: None, next: next.map(at), last: None }
}

/// Keeps the projected members of a serialized user.
fn project(user: &User, list: &UserList) -> Result<serde_json::Value, ApiError> {
    let value = serde_json::to_value(user).map_err(|e| ApiError::Domain(DomainError::Internal(e.to_string())))?;
    Ok(match (&list.projection, value) {
        (Some(p), serde_json::Value::Object(map)) => {
            serde_json::Value::Object(map.into_iter().filter(|(k, _)| p.includes(k)).collect())
        }
        (_, value) => value,
    })
}

/// List users: filtered, sorted, projected, offset or keyset paged. Needs
/// `users:read`. A session or API key of an organization sees its members,
/// each with their membership there (`role`, `role_name`, `location_id`,
/// `location_name`, `org_id`, `org_name`, `membership_active`, `managed`);
/// the platform's administrators see every user, with `managed_by`.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(ListParams),
    responses(
        (status = 200, description = "One page of users", body = UserListResponse),
        BadRequest,
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn list_users(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(req.query_string())?;
    let params = parse_query::<ListParams>(&pairs)?.into_domain()?;
    let list = state.services.users.list(&principal, &params).await?;
    list_response(&list, &pairs, USERS_PATH)
}

/// The `{data, meta, links}` answer of a directory page (`GET /users`, and
/// the members of an organization): projected users, with links to pages
/// of the list at `path` that keep the other query parameters.
pub(crate) fn list_response(list: &UserList, pairs: &[(String, String)], path: &str) -> Result<HttpResponse, ApiError> {
    let page = &list.page;
    let links = match (&list.query.paging, page.page) {
        (Paging::Offset { .. }, Some(n)) => {
            page_links(path, pairs, n, page.per_page, page.total_pages(), page.has_more)
        }
        _ => {
            // `parse_query` refused a repeated `after`, so there is at most one.
            let after = pairs.iter().find(|(k, _)| k == "after").map_or("", |(_, v)| v.as_str());
            cursor_links(path, pairs, after, page.per_page, list.next_cursor.as_deref())
        }
    };
    let meta =
        PageMeta { page: page.page, per_page: page.per_page, total: page.total, total_pages: page.total_pages() };
    let data = page.items.iter().map(|u| project(u, list)).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(UserListResponse { data, meta, links }))
}

/// Count the users matching the filters, among those the caller sees (as
/// `GET /users`). Needs `users:read`.
#[utoipa::path(
    get, path = "/api/v1/users/count", tag = "users", security(("bearer" = [])), params(CountParams),
    responses(
        (status = 200, description = "The number of matching users", body = CountResponse),
        BadRequest,
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn count_users(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p: CountParams = parse_query(&query_pairs(req.query_string())?)?;
    let params = DomainParams {
        filter: p.filter,
        q: p.q,
        email: p.email,
        name: p.name,
        status: p.status,
        role: p.role,
        org_id: p.org_id,
        location_id: p.location_id,
        ..DomainParams::default()
    };
    let count = state.services.users.count(&principal, &params).await?;
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
        let l = page_links(USERS_PATH, &pairs("q=ada+l%C3%B8v&page=2&limit=10&sort=-email"), 2, 10, Some(3), true);
        assert_eq!(l.self_, "/api/v1/users?q=ada%20l%C3%B8v&sort=-email&page=2&per_page=10");
        assert_eq!(l.prev.as_deref(), Some("/api/v1/users?q=ada%20l%C3%B8v&sort=-email&page=1&per_page=10"));
        assert_eq!(l.next.as_deref(), Some("/api/v1/users?q=ada%20l%C3%B8v&sort=-email&page=3&per_page=10"));
        assert_eq!(l.last.as_deref(), Some("/api/v1/users?q=ada%20l%C3%B8v&sort=-email&page=3&per_page=10"));
        let l = page_links(USERS_PATH, &[], 1, 20, Some(0), false);
        assert_eq!((l.prev, l.next), (None, None));
        assert_eq!(l.last.as_deref(), Some("/api/v1/users?page=1&per_page=20"));
        // Uncounted (total=false): next follows has_more, last is unknown.
        let l = page_links(USERS_PATH, &pairs("total=false"), 3, 20, None, true);
        assert_eq!(l.next.as_deref(), Some("/api/v1/users?total=false&page=4&per_page=20"));
        assert_eq!(l.last, None);
    }

    #[test]
    fn cursor_links_carry_the_cursor() {
        let l = cursor_links(USERS_PATH, &pairs("sort=email&after=abc&per_page=5"), "abc", 5, Some("next.tag"));
        assert_eq!(l.self_, "/api/v1/users?sort=email&after=abc&per_page=5");
        assert_eq!(l.first, "/api/v1/users?sort=email&after=&per_page=5");
        assert_eq!(l.next.as_deref(), Some("/api/v1/users?sort=email&after=next.tag&per_page=5"));
        assert_eq!((l.prev, l.last), (None, None));
    }

    #[test]
    fn unparsable_numbers_are_reported_together() {
        let err =
            parse_query::<ListParams>(&pairs("page=abc&per_page=x&total=maybe")).unwrap().into_domain().unwrap_err();
        match err {
            ApiError::Domain(DomainError::InvalidQuery(e)) => {
                assert_eq!(e.fields().collect::<Vec<_>>(), vec!["page", "per_page", "total"])
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
