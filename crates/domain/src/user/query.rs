//! Listing users: paging, sorting over a whitelist, and the shortcut filters.

use serde::Serialize;

use crate::validation::ValidationErrors;

use super::UserStatus;

/// Largest page size.
pub const MAX_PER_PAGE: u32 = 100;
const DEFAULT_PER_PAGE: u32 = 20;

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

/// The shortcut filters shared by `GET /users` and `GET /users/count`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Case-insensitive substring over email and the names.
    pub q: Option<String>,
    /// Case-insensitive exact email.
    pub email: Option<String>,
    /// Case-insensitive substring over the names.
    pub name: Option<String>,
    pub status: Option<UserStatus>,
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListQuery {
    pub filter: UserFilter,
    pub page: u32,
    pub per_page: u32,
    /// Never empty; ties are always broken by id.
    pub sort: Vec<SortKey>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    pub fn total_pages(&self) -> u64 {
        if self.per_page == 0 {
            0
        } else {
            self.total.div_ceil(u64::from(self.per_page))
        }
    }
}

fn trimmed(v: Option<String>, field: &str, errors: &mut ValidationErrors) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())?;
    if v.chars().count() > 254 {
        errors.add(field, "must be at most 254 characters");
        return None;
    }
    Some(v)
}

impl UserFilter {
    /// Builds the filter from raw query values.
    pub fn parse(
        q: Option<String>,
        email: Option<String>,
        name: Option<String>,
        status: Option<String>,
    ) -> Result<UserFilter, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let status = match status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match UserStatus::parse(s) {
                Some(st) => Some(st),
                None => {
                    errors.add("status", "must be one of pending, active, inactive, banned");
                    None
                }
            },
        };
        let filter = UserFilter {
            q: trimmed(q, "q", &mut errors),
            email: trimmed(email, "email", &mut errors),
            name: trimmed(name, "name", &mut errors),
            status,
        };
        errors.finish(|| filter)
    }
}

impl UserListQuery {
    /// Validates paging and sorting. `per_page` and `limit` are aliases.
    pub fn parse(
        filter: UserFilter,
        page: Option<i64>,
        per_page: Option<i64>,
        limit: Option<i64>,
        sort: Option<&str>,
    ) -> Result<UserListQuery, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let page = match page {
            None => 1,
            Some(p) if (1..=i64::from(u32::MAX)).contains(&p) => p as u32,
            Some(_) => {
                errors.add("page", "must be a whole number from 1");
                1
            }
        };
        let per_page = match (per_page, limit) {
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
                    errors.add("sort", format!("cannot sort by '{name}'; allowed: {}", allowed.join(", ")));
                }
            }
        }
        if keys.is_empty() {
            keys.push(SortKey { field: UserSortField::CreatedAt, descending: false });
        }
        errors.finish(|| UserListQuery { filter, page, per_page, sort: keys })
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let q = UserListQuery::parse(UserFilter::default(), None, None, None, None).unwrap();
        assert_eq!((q.page, q.per_page, q.offset()), (1, 20, 0));
        assert_eq!(q.sort, vec![SortKey { field: UserSortField::CreatedAt, descending: false }]);
    }

    #[test]
    fn sort_whitelist_and_direction() {
        let q =
            UserListQuery::parse(UserFilter::default(), Some(3), None, Some(10), Some("-created_at,email")).unwrap();
        assert_eq!(q.offset(), 20);
        assert_eq!(q.sort.len(), 2);
        assert!(q.sort[0].descending);
        let e =
            UserListQuery::parse(UserFilter::default(), Some(0), Some(101), None, Some("password_hash")).unwrap_err();
        assert_eq!(e.fields().collect::<Vec<_>>(), vec!["page", "per_page", "sort"]);
    }

    #[test]
    fn filter_status() {
        assert!(UserFilter::parse(None, None, None, Some("zombie".into())).is_err());
        let f = UserFilter::parse(Some("  ada ".into()), None, Some("".into()), Some("banned".into())).unwrap();
        assert_eq!(f.q.as_deref(), Some("ada"));
        assert_eq!(f.name, None);
        assert_eq!(f.status, Some(UserStatus::Banned));
    }
}
