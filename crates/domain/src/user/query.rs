//! Listing users: paging, sorting over a whitelist, and the shortcut filters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    validation::ValidationErrors,
    values::limits::{DEFAULT_PER_PAGE, MAX_PAGE, QUERY_LIST_MAX, QUERY_TEXT_MAX},
};

use super::{filter::Predicate, UserStatus};

pub use crate::values::limits::MAX_PER_PAGE;

/// Fields a list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSortField {
    CreatedAt,
    UpdatedAt,
    Email,
    Name,
    GivenName,
    FamilyName,
    Status,
    LastLoginAt,
}

impl UserSortField {
    pub const ALL: [(&'static str, UserSortField); 8] = [
        ("created_at", UserSortField::CreatedAt),
        ("updated_at", UserSortField::UpdatedAt),
        ("email", UserSortField::Email),
        ("name", UserSortField::Name),
        ("given_name", UserSortField::GivenName),
        ("family_name", UserSortField::FamilyName),
        ("status", UserSortField::Status),
        ("last_login_at", UserSortField::LastLoginAt),
    ];
}

/// One sort key; `descending` when written with a leading `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: UserSortField,
    pub descending: bool,
}

/// Whose users a query may see. Mandatory on every directory query, so
/// tenant scoping cannot be forgotten: `Platform` for superadmins (and, until
/// organizations have their own admins, the default organization's admins),
/// `Org(id)` for an organization's admins (members of that organization only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Platform,
    Org(Uuid),
}

impl Scope {
    /// The organization whose role `role` filters and the `role` field refer to.
    pub fn role_org(self) -> Uuid {
        match self {
            Scope::Platform => crate::DEFAULT_ORG_ID,
            Scope::Org(id) => id,
        }
    }
}

/// The filters shared by `GET /users` and `GET /users/count`: the shortcuts
/// (a comma list means "any of") and the SCIM `filter=` predicate, all ANDed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFilter {
    /// Case-insensitive substring over email and the names.
    pub q: Option<String>,
    /// Case-insensitive exact emails (any of).
    pub email: Vec<String>,
    /// Case-insensitive substring over the names.
    pub name: Option<String>,
    /// Any of these statuses.
    pub status: Vec<UserStatus>,
    /// Any of these role names in the scope organization.
    pub role: Vec<String>,
    /// Member of any of these organizations.
    pub org_id: Vec<Uuid>,
    /// At any of these locations of the scope organization.
    pub location_id: Vec<Uuid>,
    /// The checked `filter=` expression.
    pub predicate: Option<Predicate>,
}

/// A sort key's value in one row, for keyset paging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Time(Option<DateTime<Utc>>),
    Text(Option<String>),
}

/// Where a keyset page starts: strictly after the row with these sort values
/// (one per sort key, in order) and this id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub values: Vec<SortValue>,
    pub id: Uuid,
}

/// Offset paging (`page`) or keyset paging (`after`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// Rows `(page - 1) * per_page ..`.
    Offset { page: u32 },
    /// The first keyset page (`None`) or the one after a position.
    Keyset(Option<Keyset>),
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq)]
pub struct UserListQuery {
    pub scope: Scope,
    pub filter: UserFilter,
    pub per_page: u32,
    /// Never empty; ties are always broken by id, in the direction of the
    /// last key (so one index on (key, id) serves both directions).
    pub sort: Vec<SortKey>,
    pub paging: Paging,
    /// Whether to count every matching row (always for offset paging).
    pub with_total: bool,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Every matching row, when it was asked for.
    pub total: Option<u64>,
    /// 1-based page number for offset paging.
    pub page: Option<u32>,
    pub per_page: u32,
    /// Whether rows follow this page.
    pub has_more: bool,
}

impl<T> Page<T> {
    pub fn total_pages(&self) -> Option<u64> {
        let total = self.total?;
        Some(if self.per_page == 0 { 0 } else { total.div_ceil(u64::from(self.per_page)) })
    }
}

impl UserSortField {
    /// This field's value in `user`, for building the next cursor.
    pub fn value_of(self, user: &super::User) -> SortValue {
        match self {
            UserSortField::CreatedAt => SortValue::Time(Some(user.created_at)),
            UserSortField::UpdatedAt => SortValue::Time(Some(user.updated_at)),
            UserSortField::LastLoginAt => SortValue::Time(user.last_login_at),
            UserSortField::Email => SortValue::Text(Some(user.email.clone())),
            UserSortField::Name => SortValue::Text(user.name.clone()),
            UserSortField::GivenName => SortValue::Text(user.given_name.clone()),
            UserSortField::FamilyName => SortValue::Text(user.family_name.clone()),
            UserSortField::Status => SortValue::Text(Some(user.status.as_str().to_string())),
        }
    }

    pub fn name(self) -> &'static str {
        UserSortField::ALL.iter().find(|(_, f)| *f == self).map(|(n, _)| *n).unwrap_or("created_at")
    }
}

/// The raw list parameters, as they come from a query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    pub q: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub role: Option<String>,
    pub org_id: Option<String>,
    pub location_id: Option<String>,
    /// SCIM filter expression.
    pub filter: Option<String>,
    /// `-created_at,email`.
    pub sort: Option<String>,
    /// Projection: `id,email,name`.
    pub fields: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Alias of `per_page`.
    pub limit: Option<i64>,
    /// Keyset paging: empty for the first page, else a cursor from `links.next`.
    pub after: Option<String>,
    /// Whether to count every match: offset pages do unless `total=false`,
    /// keyset pages only with `total=true`.
    pub total: Option<bool>,
}

/// Why list parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListParamsError {
    /// `400 invalid_query`: per_page, page, sort or a shortcut; every bad one listed.
    Query(ValidationErrors),
    /// `400 invalid_filter`.
    Filter(super::filter::FilterError),
}

fn trimmed(v: Option<&str>, field: &str, errors: &mut ValidationErrors) -> Option<String> {
    let raw = v?;
    if raw.chars().count() > QUERY_TEXT_MAX {
        errors.add(field, format!("must be at most {QUERY_TEXT_MAX} characters"));
        return None;
    }
    Some(raw.trim()).filter(|s| !s.is_empty()).map(String::from)
}

/// A comma list of values ("any of"), each trimmed, empty ones skipped. A
/// parameter given with no value at all (`?org_id=`) is refused rather than
/// read as absent: it would otherwise widen the answer to everything.
fn any_of(v: Option<&str>, field: &str, errors: &mut ValidationErrors) -> Vec<String> {
    any_of_at_most(v, field, QUERY_LIST_MAX, errors)
}

/// [`any_of`] with its own limit on the number of values.
pub(super) fn any_of_at_most(v: Option<&str>, field: &str, max: usize, errors: &mut ValidationErrors) -> Vec<String> {
    let Some(v) = v else { return Vec::new() };
    let items: Vec<String> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    if items.is_empty() {
        errors.add(field, "must list at least one value; leave the parameter out to match any");
    }
    if items.len() > max {
        errors.add(field, format!("lists at most {max} values"));
    }
    if items.iter().any(|s| s.chars().count() > QUERY_TEXT_MAX) {
        errors.add(field, format!("values must be at most {QUERY_TEXT_MAX} characters"));
    }
    items
}

impl UserFilter {
    /// Builds the filter from the shortcuts and `filter=`.
    pub fn from_params(p: &ListParams) -> Result<UserFilter, ListParamsError> {
        let mut errors = ValidationErrors::new();
        let mut status = Vec::new();
        for s in any_of(p.status.as_deref(), "status", &mut errors) {
            match UserStatus::parse(&s.to_ascii_lowercase()) {
                Some(st) if !status.contains(&st) => status.push(st),
                Some(_) => {}
                None => errors.add("status", format!("'{s}' is not one of pending, active, inactive, banned")),
            }
        }
        let mut uuids = |raw: Option<&str>, field: &str| {
            let mut ids = Vec::new();
            for s in any_of(raw, field, &mut errors) {
                match Uuid::parse_str(&s) {
                    Ok(id) => ids.push(id),
                    Err(_) => errors.add(field, format!("'{s}' is not a UUID")),
                }
            }
            ids
        };
        let org_id = uuids(p.org_id.as_deref(), "org_id");
        let location_id = uuids(p.location_id.as_deref(), "location_id");
        let filter = UserFilter {
            q: trimmed(p.q.as_deref(), "q", &mut errors),
            email: any_of(p.email.as_deref(), "email", &mut errors),
            name: trimmed(p.name.as_deref(), "name", &mut errors),
            status,
            role: any_of(p.role.as_deref(), "role", &mut errors),
            org_id,
            location_id,
            predicate: None,
        };
        if !errors.is_empty() {
            return Err(ListParamsError::Query(errors));
        }
        let predicate = match p.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(super::filter::parse(f).map_err(ListParamsError::Filter)?),
            None => None,
        };
        Ok(UserFilter { predicate, ..filter })
    }
}

/// Parses `-created_at,email` against the whitelist.
pub fn parse_sort(sort: Option<&str>, errors: &mut ValidationErrors) -> Vec<SortKey> {
    let mut keys = Vec::new();
    for part in sort.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (descending, name) = match part.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        match UserSortField::ALL.iter().find(|(n, _)| *n == name) {
            Some((_, field)) if keys.iter().all(|k: &SortKey| k.field != *field) => {
                keys.push(SortKey { field: *field, descending })
            }
            Some(_) => errors.add("sort", format!("'{name}' is given twice")),
            None => {
                let allowed: Vec<&str> = UserSortField::ALL.iter().map(|(n, _)| *n).collect();
                errors.add("sort", format!("cannot sort by '{name}'; sortable: {}", allowed.join(", ")));
            }
        }
    }
    if keys.is_empty() {
        keys.push(SortKey { field: UserSortField::CreatedAt, descending: false });
    }
    keys
}

/// The canonical text of a sort, as `sort=` takes it.
pub fn sort_spec(keys: &[SortKey]) -> String {
    keys.iter()
        .map(|k| format!("{}{}", if k.descending { "-" } else { "" }, k.field.name()))
        .collect::<Vec<_>>()
        .join(",")
}

impl UserListQuery {
    /// Validates paging and sorting (`per_page` and `limit` are aliases) and
    /// the filters. `decode_cursor` turns a non-empty `after` into a position
    /// for the parsed sort, or reports it as invalid (`Err(message)`).
    pub fn from_params(
        p: &ListParams,
        scope: Scope,
        decode_cursor: impl FnOnce(&str, &[SortKey]) -> Result<Keyset, String>,
    ) -> Result<UserListQuery, ListQueryError> {
        let filter = UserFilter::from_params(p).map_err(ListQueryError::from)?;
        let mut errors = ValidationErrors::new();
        let page = match p.page {
            None => None,
            Some(n) if (1..=i64::from(MAX_PAGE)).contains(&n) => Some(n as u32),
            Some(_) => {
                errors.add("page", format!("must be between 1 and {MAX_PAGE}"));
                None
            }
        };
        let per_page = match (p.per_page, p.limit) {
            (Some(a), Some(b)) if a != b => {
                errors.add("per_page", "per_page and limit are aliases; give one");
                DEFAULT_PER_PAGE
            }
            (Some(n), _) | (None, Some(n)) => {
                if (1..=i64::from(MAX_PER_PAGE)).contains(&n) {
                    n as u32
                } else {
                    errors.add("per_page", format!("must be between 1 and {MAX_PER_PAGE}"));
                    DEFAULT_PER_PAGE
                }
            }
            (None, None) => DEFAULT_PER_PAGE,
        };
        let sort = parse_sort(p.sort.as_deref(), &mut errors);
        if page.is_some() && p.after.is_some() {
            errors.add("after", "page and after are two ways of paging; give one");
        }
        if !errors.is_empty() {
            return Err(ListQueryError::Query(errors));
        }
        let paging = match p.after.as_deref().map(str::trim) {
            None => Paging::Offset { page: page.unwrap_or(1) },
            Some("") => Paging::Keyset(None),
            Some(token) => Paging::Keyset(Some(decode_cursor(token, &sort).map_err(ListQueryError::Cursor)?)),
        };
        // Offset pages count by default (the SPEC's meta.total); `total=false`
        // skips the count, which is what keeps a first page fast on a large
        // directory. Keyset pages count only when asked.
        let with_total = p.total.unwrap_or(matches!(paging, Paging::Offset { .. }));
        Ok(UserListQuery { scope, filter, per_page, sort, paging, with_total })
    }

    /// Rows to skip (offset paging).
    pub fn offset(&self) -> u64 {
        match self.paging {
            Paging::Offset { page } => u64::from(page.saturating_sub(1)) * u64::from(self.per_page),
            Paging::Keyset(_) => 0,
        }
    }
}

/// Why a list request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListQueryError {
    /// `400 invalid_query`.
    Query(ValidationErrors),
    /// `400 invalid_filter`.
    Filter(super::filter::FilterError),
    /// `400 invalid_cursor`.
    Cursor(String),
}

impl From<ListParamsError> for ListQueryError {
    fn from(e: ListParamsError) -> Self {
        match e {
            ListParamsError::Query(v) => ListQueryError::Query(v),
            ListParamsError::Filter(f) => ListQueryError::Filter(f),
        }
    }
}

/// The schema of `status=` of the user lists: statuses in any case, a comma
/// list meaning any of them.
#[cfg(feature = "openapi")]
pub fn statuses_schema() -> utoipa::openapi::schema::Schema {
    let names: Vec<String> = UserStatus::ALL.iter().map(|s| crate::values::limits::any_case(s.as_str())).collect();
    let listed: Vec<&str> = UserStatus::ALL.iter().map(|s| s.as_str()).collect();
    crate::values::schema::comma_list(
        &names.join("|"),
        format!("Statuses ({}); a comma list means any of them, at most {QUERY_LIST_MAX} values.", listed.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_cursor(_: &str, _: &[SortKey]) -> Result<Keyset, String> {
        Err("no cursors here".into())
    }

    fn params() -> ListParams {
        ListParams::default()
    }

    #[test]
    fn defaults() {
        let q = UserListQuery::from_params(&params(), Scope::Platform, no_cursor).unwrap();
        assert_eq!((q.paging.clone(), q.per_page, q.offset(), q.with_total), (Paging::Offset { page: 1 }, 20, 0, true));
        assert_eq!(q.sort, vec![SortKey { field: UserSortField::CreatedAt, descending: false }]);
    }

    #[test]
    fn sort_whitelist_and_direction() {
        let p = ListParams { page: Some(3), limit: Some(10), sort: Some("-created_at,email".into()), ..params() };
        let q = UserListQuery::from_params(&p, Scope::Platform, no_cursor).unwrap();
        assert_eq!(q.offset(), 20);
        assert_eq!(sort_spec(&q.sort), "-created_at,email");
        let p = ListParams { page: Some(0), per_page: Some(101), sort: Some("password_hash".into()), ..params() };
        match UserListQuery::from_params(&p, Scope::Platform, no_cursor) {
            Err(ListQueryError::Query(e)) => {
                assert_eq!(e.fields().collect::<Vec<_>>(), vec!["page", "per_page", "sort"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn any_of_shortcuts() {
        let p = ListParams {
            status: Some("active, inactive,active".into()),
            email: Some("a@x.io,b@x.io".into()),
            ..params()
        };
        let f = UserFilter::from_params(&p).unwrap();
        assert_eq!(f.status, vec![UserStatus::Active, UserStatus::Inactive]);
        assert_eq!(f.email.len(), 2);
        let bad = ListParams { status: Some("zombie".into()), org_id: Some("nope".into()), ..params() };
        match UserFilter::from_params(&bad) {
            Err(ListParamsError::Query(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), vec!["org_id", "status"]),
            other => panic!("{other:?}"),
        }
        // Given but empty is not absent: `?org_id=` would list everyone.
        let empty = ListParams { org_id: Some(String::new()), role: Some(" , ".into()), ..params() };
        match UserFilter::from_params(&empty) {
            Err(ListParamsError::Query(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), vec!["org_id", "role"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cursor_paging() {
        let first = ListParams { after: Some(String::new()), ..params() };
        let q = UserListQuery::from_params(&first, Scope::Platform, no_cursor).unwrap();
        assert_eq!(q.paging, Paging::Keyset(None));
        assert!(!q.with_total);
        let bad = ListParams { after: Some("garbage".into()), ..params() };
        assert!(matches!(UserListQuery::from_params(&bad, Scope::Platform, no_cursor), Err(ListQueryError::Cursor(_))));
        let both = ListParams { after: Some(String::new()), page: Some(2), ..params() };
        assert!(matches!(UserListQuery::from_params(&both, Scope::Platform, no_cursor), Err(ListQueryError::Query(_))));
        let uncounted = ListParams { page: Some(2), total: Some(false), ..params() };
        assert!(!UserListQuery::from_params(&uncounted, Scope::Platform, no_cursor).unwrap().with_total);
    }
}
