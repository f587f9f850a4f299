//! The list envelope shared by every collection: `meta` and `links`, and
//! the offset paging parameters of the smaller lists.

use roster_domain::{
    user::Page,
    values::limits::{DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE},
    Error as DomainError, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{error::ApiError, extract::int_param};

/// Paging figures of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageMeta {
    /// The page number (offset paging); `null` for keyset pages.
    pub page: Option<u32>,
    pub per_page: u32,
    /// Every match (offset paging, or `total=true`); else `null`.
    pub total: Option<u64>,
    pub total_pages: Option<u64>,
}

/// Relative links to pages of the same list, other parameters preserved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageLinks {
    #[serde(rename = "self")]
    #[schema(rename = "self")]
    pub self_: String,
    pub first: String,
    /// `null` on the first page, and for keyset pages.
    pub prev: Option<String>,
    /// `null` on the last page.
    pub next: Option<String>,
    /// `null` for keyset pages.
    pub last: Option<String>,
}

/// Percent-encodes a query component (everything but RFC 3986 unreserved characters).
pub(crate) fn encode(s: &str) -> String {
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

/// A link to the list at `path` with the paging parameters replaced.
pub(crate) fn link(path: &str, pairs: &[(String, String)], paging: &[(&str, String)]) -> String {
    let mut parts: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "page" | "per_page" | "limit" | "after"))
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    parts.extend(paging.iter().map(|(k, v)| format!("{k}={}", encode(v))));
    format!("{path}?{}", parts.join("&"))
}

/// Links for offset `page` of a list; `total_pages` is unknown when the
/// client asked not to count (`total=false`), and then `last` is `null` and
/// `next` follows `has_more`.
pub(crate) fn page_links(
    path: &str,
    pairs: &[(String, String)],
    page: u32,
    per_page: u32,
    total_pages: Option<u64>,
    has_more: bool,
) -> PageLinks {
    let at = |p: u64| link(path, pairs, &[("page", p.to_string()), ("per_page", per_page.to_string())]);
    let page = u64::from(page);
    let last = total_pages.map(|t| t.max(1));
    PageLinks {
        self_: at(page),
        first: at(1),
        prev: (page > 1).then(|| at(last.map_or(page - 1, |l| (page - 1).min(l)))),
        next: last.map_or(has_more, |l| page < l).then(|| at(page + 1)),
        last: last.map(at),
    }
}

/// `page` and `per_page` (or its alias `limit`) of a small list: 1-based
/// page up to [`MAX_PAGE`], 1 to [`MAX_PER_PAGE`] per page (default
/// [`DEFAULT_PER_PAGE`]); `per_page` wins over `limit`. Every bad value is reported at once.
pub(crate) fn offset_paging(
    page: Option<&str>,
    per_page: Option<&str>,
    limit: Option<&str>,
    errors: &mut ValidationErrors,
) -> (u32, u32) {
    let page = int_param(errors, "page", page);
    let per_page = int_param(errors, "per_page", per_page);
    let limit = int_param(errors, "limit", limit);
    if limit.is_some_and(|n| !(1..=i64::from(MAX_PER_PAGE)).contains(&n)) && per_page.is_some() {
        // `per_page` wins when both are given, but a bad `limit` is still bad.
        errors.add("limit", format!("must be between 1 and {MAX_PER_PAGE}"));
    }
    let per_page = per_page.or(limit);
    let page = match page {
        Some(p) if !(1..=i64::from(MAX_PAGE)).contains(&p) => {
            errors.add("page", format!("must be between 1 and {MAX_PAGE}"));
            1
        }
        p => p.unwrap_or(1) as u32,
    };
    let per_page = match per_page {
        Some(n) if !(1..=i64::from(MAX_PER_PAGE)).contains(&n) => {
            errors.add("per_page", format!("must be between 1 and {MAX_PER_PAGE}"));
            DEFAULT_PER_PAGE
        }
        n => n.map_or(DEFAULT_PER_PAGE, |n| n as u32),
    };
    (page, per_page)
}

/// An optional `status=` parameter: absent is `None`; a value `parse`
/// refuses, blank included, is recorded with `expected` ("must be …").
pub(crate) fn status_param<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Option<T>,
    expected: &str,
    errors: &mut ValidationErrors,
) -> Option<T> {
    let parsed = parse(raw?.trim());
    if parsed.is_none() {
        errors.add("status", expected);
    }
    parsed
}

/// `Err(400 invalid_query)` listing every bad parameter, if any.
pub(crate) fn check_query(errors: ValidationErrors) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Domain(DomainError::InvalidQuery(errors)))
    }
}

/// The `meta` and `links` of an offset page of the list at `path`.
pub(crate) fn envelope<T>(path: &str, pairs: &[(String, String)], page: &Page<T>) -> (PageMeta, PageLinks) {
    let number = page.page.unwrap_or(1);
    let links = page_links(path, pairs, number, page.per_page, page.total_pages(), page.has_more);
    (PageMeta { page: page.page, per_page: page.per_page, total: page.total, total_pages: page.total_pages() }, links)
}
