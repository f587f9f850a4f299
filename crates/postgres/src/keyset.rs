//! Keyset paging: the condition "strictly after this row" in a sort order of
//! whitelisted keys followed by `id`, in the direction of the last key.
//!
//! Ascending keys put NULLs last and descending keys put them first
//! (PostgreSQL's defaults, which `ORDER BY` uses too). Comparisons are on the
//! columns as stored, so they use the same collation as the `ORDER BY`.

use roster_domain::user::filter::Column;
use roster_domain::user::{Keyset, SortKey, SortValue, UserSortField};

use crate::error::DbError;
use crate::filter_sql::{column_sql, Bind, Cond};

/// The filter column a sort field orders by.
pub(crate) fn sort_column(field: UserSortField) -> Column {
    match field {
        UserSortField::CreatedAt => Column::CreatedAt,
        UserSortField::UpdatedAt => Column::UpdatedAt,
        UserSortField::Email => Column::Email,
        UserSortField::Name => Column::Name,
        UserSortField::GivenName => Column::GivenName,
        UserSortField::FamilyName => Column::FamilyName,
        UserSortField::Status => Column::Status,
        UserSortField::LastLoginAt => Column::LastLoginAt,
    }
}

fn is_time(field: UserSortField) -> bool {
    matches!(field, UserSortField::CreatedAt | UserSortField::UpdatedAt | UserSortField::LastLoginAt)
}

/// One key's cursor value, checked against the field's type.
fn key_value(key: &SortKey, value: &SortValue) -> Result<Option<Bind>, DbError> {
    match (is_time(key.field), value) {
        (true, SortValue::Time(t)) => Ok(t.map(Bind::Time)),
        (false, SortValue::Text(s)) => Ok(s.clone().map(Bind::Text)),
        _ => Err(DbError::Corrupt(format!("cursor value {value:?} does not fit the sort key {}", key.field.name()))),
    }
}

/// Whether the final `id` tie-breaker runs descending: it follows the last
/// sort key, so an index on (key, id) serves the order in either direction.
pub(crate) fn id_descending(sort: &[SortKey]) -> bool {
    sort.last().is_some_and(|k| k.descending)
}

/// Rows strictly after `after` in the order `sort` then `id`.
pub(crate) fn after(sort: &[SortKey], after: &Keyset) -> Result<Cond, DbError> {
    if after.values.len() != sort.len() {
        return Err(DbError::Corrupt(format!("cursor has {} values for {} sort keys", after.values.len(), sort.len())));
    }
    let mut values = Vec::with_capacity(sort.len());
    for (key, value) in sort.iter().zip(&after.values) {
        values.push(key_value(key, value)?);
    }
    // Every key in one direction and non-null: a row comparison, which an
    // index on (keys…, id) answers with a single range scan.
    let descending = id_descending(sort);
    let plain = sort
        .iter()
        .zip(&values)
        .all(|(k, v)| k.descending == descending && v.is_some() && !sort_column(k.field).nullable());
    if plain {
        let mut c = Cond::default();
        c.sql("(");
        for k in sort {
            c.sql(column_sql(sort_column(k.field))).sql(", ");
        }
        c.sql(if descending { r#""users"."id") < ("# } else { r#""users"."id") > ("# });
        for v in values.into_iter().flatten() {
            c.bind(v).sql(", ");
        }
        c.bind(Bind::Uuid(after.id)).sql(")");
        return Ok(c);
    }
    let mut rest = Cond::default();
    rest.sql(if descending { r#""users"."id" < "# } else { r#""users"."id" > "# }).bind(Bind::Uuid(after.id));
    for (key, value) in sort.iter().zip(values).rev() {
        rest = after_key(key, value, rest);
    }
    Ok(rest)
}

/// After `value` on one key, or equal to it and after on the following
/// keys (`rest`).
fn after_key(key: &SortKey, value: Option<Bind>, rest: Cond) -> Cond {
    let column = sort_column(key.field);
    let col = column_sql(column);
    let mut c = Cond::default();
    match (key.descending, value) {
        // Ascending, NULLS LAST: greater values, then the NULLs.
        (false, Some(v)) => {
            if !column.nullable() {
                // Redundant bound that an index can use as a range.
                c.sql(col).sql(" >= ").bind(v.clone()).sql(" AND ");
            }
            c.sql("(").sql(col).sql(" > ").bind(v.clone());
            if column.nullable() {
                c.sql(" OR ").sql(col).sql(" IS NULL");
            }
            c.sql(" OR (").sql(col).sql(" = ").bind(v).sql(" AND ").group(rest).sql("))");
        }
        // Ascending, at the NULLs: only later NULLs.
        (false, None) => {
            c.sql(col).sql(" IS NULL AND ").group(rest);
        }
        // Descending, NULLS FIRST: smaller values; NULLs came before.
        (true, Some(v)) => {
            c.sql(col).sql(" <= ").bind(v.clone()).sql(" AND (").sql(col).sql(" < ").bind(v.clone());
            c.sql(" OR (").sql(col).sql(" = ").bind(v).sql(" AND ").group(rest).sql("))");
        }
        // Descending, at the NULLs: later NULLs, then every value.
        (true, None) => {
            c.sql(col).sql(" IS NOT NULL OR (").sql(col).sql(" IS NULL AND ").group(rest).sql(")");
        }
    }
    c
}
