//! Compiling the directory's filters — the scope, the shortcuts of a
//! [`UserFilter`] and the checked SCIM [`Predicate`] — into one boolean SQL
//! condition over `users`.
//!
//! A [`Cond`] is written only from `&'static str` SQL pieces (whitelisted
//! column names, operators, keywords) and bound values: nothing a client
//! sends ever becomes SQL text, not even a JSON key.
//!
//! Semantics, all two-valued (a condition is never SQL `NULL`, so `not` is
//! the exact complement of what it wraps):
//!
//! - Text columns compare case-insensitively: `eq` is `lower(col) =
//!   lower($v)`, `gt`/`ge`/`lt`/`le` compare `lower(…)` the same way, and
//!   `co`/`sw`/`ew` are `ILIKE` with `%`, `_` and `\` escaped.
//! - `ne` is true when the value differs **or is absent** (NULL column,
//!   missing JSON key, no membership): it is exactly `not (… eq …)`. Every
//!   other comparison is false on an absent value.
//! - `pr` is `IS NOT NULL`, and for text also non-empty; for
//!   `attributes.<key>` the key exists with a non-null JSON value.
//! - `attributes.<key>` comparisons are typed: a string literal only matches
//!   JSON strings (case-insensitively), a number only JSON numbers
//!   (numerically), a boolean only JSON booleans.
//! - `org_id eq X` is membership in X; `role` is the user's role name in the
//!   scope's role organization ([`Scope::role_org`]).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Date, Double, Text, Timestamptz};
use diesel::QueryResult;
use roster_domain::user::filter::{Attr, Column, CompareOp, MembershipAttr, Predicate, Typed, ValueKind};
use roster_domain::user::{Scope, UserFilter};
use uuid::Uuid;

use crate::error::DbError;
use crate::rows::contains_pattern;

/// A value bound as a query parameter.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Texts(Vec<String>),
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Bool(bool),
    Number(f64),
}

#[derive(Debug, Clone)]
enum Piece {
    Sql(&'static str),
    Bind(Bind),
}

/// A boolean SQL expression made of static SQL text and bound values. It is
/// a diesel expression usable in `.filter()` on `users` (alone or joined);
/// it refers to the outer table as `"users"`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cond {
    pieces: Vec<Piece>,
    /// Set when the SQL text depends on a client-written predicate, so that
    /// the per-connection prepared-statement cache cannot be grown at will;
    /// and where a value's selectivity varies by orders of magnitude (see
    /// [`Cond::planned_for_its_values`]).
    uncacheable: bool,
}

impl Cond {
    /// The statement is planned for the values it runs with, every time,
    /// rather than cached: a cached statement turns to PostgreSQL's generic
    /// plan after five runs, which assumes an average organization (a few
    /// thousand members) and reads all of a 1M-member one twice — 0.8–2 s
    /// where the plan made for it takes 70 ms (docs/PERFORMANCE.md). The
    /// cost is the planning, under a millisecond.
    pub(crate) fn planned_for_its_values(mut self) -> Cond {
        self.uncacheable = true;
        self
    }

    /// Appends SQL text.
    pub(crate) fn sql(&mut self, s: &'static str) -> &mut Self {
        self.pieces.push(Piece::Sql(s));
        self
    }

    /// Appends a bound parameter.
    pub(crate) fn bind(&mut self, b: Bind) -> &mut Self {
        self.pieces.push(Piece::Bind(b));
        self
    }

    /// Appends `other` wrapped in parentheses.
    pub(crate) fn group(&mut self, other: Cond) -> &mut Self {
        self.uncacheable |= other.uncacheable;
        self.sql("(");
        self.pieces.extend(other.pieces);
        self.sql(")")
    }

    /// `(a) AND (b) AND …`, or `TRUE` for none.
    pub(crate) fn all(parts: Vec<Cond>) -> Cond {
        Cond::join(parts, " AND ", "TRUE")
    }

    fn join(parts: Vec<Cond>, sep: &'static str, empty: &'static str) -> Cond {
        let mut out = Cond::default();
        if parts.is_empty() {
            out.sql(empty);
        }
        for (i, p) in parts.into_iter().enumerate() {
            if i > 0 {
                out.sql(sep);
            }
            out.group(p);
        }
        out
    }

    /// `NOT COALESCE((c), false)`: the complement, with NULL counted as false.
    fn not(c: Cond) -> Cond {
        let mut out = Cond::default();
        out.sql("NOT COALESCE(").group(c).sql(", false)");
        out
    }
}

impl Expression for Cond {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for Cond {}

impl<QS> SelectableExpression<QS> for Cond {}

impl ValidGrouping<()> for Cond {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for Cond {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Cond {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if self.uncacheable {
            out.unsafe_to_cache_prepared();
        }
        for piece in &self.pieces {
            match piece {
                Piece::Sql(s) => out.push_sql(s),
                Piece::Bind(Bind::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                Piece::Bind(Bind::Texts(v)) => out.push_bind_param::<Array<Text>, _>(v)?,
                Piece::Bind(Bind::Uuid(v)) => out.push_bind_param::<diesel::sql_types::Uuid, _>(v)?,
                Piece::Bind(Bind::Uuids(v)) => out.push_bind_param::<Array<diesel::sql_types::Uuid>, _>(v)?,
                Piece::Bind(Bind::Time(v)) => out.push_bind_param::<Timestamptz, _>(v)?,
                Piece::Bind(Bind::Date(v)) => out.push_bind_param::<Date, _>(v)?,
                Piece::Bind(Bind::Bool(v)) => out.push_bind_param::<Bool, _>(v)?,
                Piece::Bind(Bind::Number(v)) => out.push_bind_param::<Double, _>(v)?,
            }
        }
        Ok(())
    }
}

/// The SQL name of a whitelisted column, qualified with `"users"`.
pub(crate) fn column_sql(c: Column) -> &'static str {
    match c {
        Column::Id => r#""users"."id""#,
        Column::Email => r#""users"."email""#,
        Column::EmailVerified => r#""users"."email_verified""#,
        Column::Name => r#""users"."name""#,
        Column::GivenName => r#""users"."given_name""#,
        Column::FamilyName => r#""users"."family_name""#,
        Column::Phone => r#""users"."phone""#,
        Column::Locale => r#""users"."locale""#,
        Column::Timezone => r#""users"."timezone""#,
        Column::Status => r#""users"."status""#,
        Column::CreatedAt => r#""users"."created_at""#,
        Column::UpdatedAt => r#""users"."updated_at""#,
        Column::LastLoginAt => r#""users"."last_login_at""#,
        Column::Birthdate => r#""users"."birthdate""#,
        Column::Gender => r#""users"."gender""#,
        Column::Pronouns => r#""users"."pronouns""#,
        Column::EmployeeId => r#""users"."employee_id""#,
        Column::Position => r#""users"."position""#,
        Column::Department => r#""users"."department""#,
    }
}

/// An `ILIKE` pattern for `s` (wildcards and `\` escaped), with `%` before
/// and/or after.
fn like_pattern(op: CompareOp, s: &str) -> String {
    let mut p = contains_pattern(s);
    if op == CompareOp::Sw {
        p.remove(0);
    }
    if op == CompareOp::Ew {
        p.pop();
    }
    p
}

/// The SQL operator of an ordering comparison or `eq`.
fn ordering_sql(op: CompareOp) -> Option<&'static str> {
    match op {
        CompareOp::Eq => Some(" = "),
        CompareOp::Gt => Some(" > "),
        CompareOp::Ge => Some(" >= "),
        CompareOp::Lt => Some(" < "),
        CompareOp::Le => Some(" <= "),
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => None,
    }
}

fn unsupported(what: impl std::fmt::Debug, op: CompareOp, value: &Typed) -> DbError {
    DbError::Corrupt(format!("unchecked filter: {what:?} {} {value:?}", op.as_str()))
}

/// What a text comparison is applied to: pushes the SQL expression.
type Target<'a> = &'a dyn Fn(&mut Cond);

/// A case-insensitive text comparison other than `ne` (`None` for `ne` and
/// operators text does not take).
fn text_compare(target: Target<'_>, op: CompareOp, v: &str) -> Option<Cond> {
    let mut c = Cond::default();
    match op {
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
            target(&mut c);
            c.sql(" ILIKE ").bind(Bind::Text(like_pattern(op, v)));
        }
        _ => {
            let sql_op = ordering_sql(op)?;
            c.sql("lower(");
            target(&mut c);
            c.sql(")").sql(sql_op).sql("lower(").bind(Bind::Text(v.to_owned())).sql(")");
        }
    }
    Some(c)
}

/// Compiles checked filters; `role_org` is the organization `role` refers to.
pub(crate) struct Compiler {
    pub role_org: Uuid,
}

impl Compiler {
    /// The whole WHERE condition of a directory query: scope, shortcuts and
    /// predicate, ANDed.
    pub(crate) fn filter(&self, scope: Scope, f: &UserFilter) -> Result<Vec<Cond>, DbError> {
        let mut parts = Vec::new();
        if let Scope::Org(org) = scope {
            parts.push(member_of(Bind::Uuid(org), " = ").planned_for_its_values());
        }
        if let Some(q) = &f.q {
            parts.push(any_ilike(&[Column::Email, Column::Name, Column::GivenName, Column::FamilyName], q));
        }
        if !f.email.is_empty() {
            let mut c = Cond::default();
            c.sql(r#"lower("users"."email") = ANY(ARRAY(SELECT lower(v) FROM unnest("#)
                .bind(Bind::Texts(f.email.clone()))
                .sql(") AS v))");
            parts.push(c);
        }
        if let Some(name) = &f.name {
            parts.push(any_ilike(&[Column::Name, Column::GivenName, Column::FamilyName], name));
        }
        if !f.status.is_empty() {
            let mut c = Cond::default();
            let statuses = f.status.iter().map(|s| s.as_str().to_owned()).collect();
            c.sql(r#""users"."status" = ANY("#).bind(Bind::Texts(statuses)).sql(")");
            parts.push(c);
        }
        if !f.role.is_empty() {
            let mut c = Cond::default();
            c.sql("lower(fr.name) = ANY(ARRAY(SELECT lower(v) FROM unnest(")
                .bind(Bind::Texts(f.role.clone()))
                .sql(") AS v))");
            parts.push(self.has_role(c));
        }
        if !f.org_id.is_empty() {
            parts.push(member_of(Bind::Uuids(f.org_id.clone()), " = ANY").planned_for_its_values());
        }
        if !f.location_id.is_empty() {
            let ids = f.location_id.clone();
            let at = self.at_location(|c| {
                c.sql("fm.location_id = ANY(").bind(Bind::Uuids(ids)).sql(")");
            });
            parts.push(at.planned_for_its_values());
        }
        if let Some(p) = &f.predicate {
            let mut c = self.predicate(p)?;
            c.uncacheable = true;
            parts.push(c);
        }
        Ok(parts)
    }

    /// A checked SCIM predicate.
    pub(crate) fn predicate(&self, p: &Predicate) -> Result<Cond, DbError> {
        Ok(match p {
            Predicate::And(a, b) => Cond::join(vec![self.predicate(a)?, self.predicate(b)?], " AND ", "TRUE"),
            Predicate::Or(a, b) => Cond::join(vec![self.predicate(a)?, self.predicate(b)?], " OR ", "FALSE"),
            Predicate::Not(a) => Cond::not(self.predicate(a)?),
            Predicate::Present(attr) => self.present(attr),
            Predicate::Compare { attr, op: CompareOp::Ne, value } => {
                match attr {
                    // `IS DISTINCT FROM` is `not eq` with NULL counted as different.
                    Attr::Column(col) => self.column_ne(*col, value)?,
                    _ => Cond::not(self.compare(attr, CompareOp::Eq, value)?),
                }
            }
            Predicate::Compare { attr, op, value } => self.compare(attr, *op, value)?,
        })
    }

    fn present(&self, attr: &Attr) -> Cond {
        let mut c = Cond::default();
        match attr {
            Attr::Column(col) if col.kind() == ValueKind::Text => {
                let s = column_sql(*col);
                c.sql(s).sql(" IS NOT NULL AND ").sql(s).sql(" <> ''");
            }
            Attr::Column(col) => {
                c.sql(column_sql(*col)).sql(" IS NOT NULL");
            }
            Attr::Json(key) => {
                c.sql(r#""users"."attributes" ? "#)
                    .bind(Bind::Text(key.clone()))
                    .sql(r#" AND jsonb_typeof("users"."attributes" -> "#)
                    .bind(Bind::Text(key.clone()))
                    .sql(") <> 'null'");
            }
            Attr::Membership(MembershipAttr::OrgId) => {
                c.sql(r#"EXISTS (SELECT 1 FROM memberships fm WHERE fm.user_id = "users"."id")"#);
            }
            Attr::Membership(MembershipAttr::Role) => {
                c = self.has_role(Cond::all(Vec::new()));
            }
            Attr::Membership(MembershipAttr::LocationId) => {
                c = self.at_location(|c| {
                    c.sql("fm.location_id IS NOT NULL");
                });
            }
            // Never null.
            Attr::Membership(MembershipAttr::Managed) => c = Cond::all(Vec::new()),
        }
        c
    }

    fn column_ne(&self, col: Column, value: &Typed) -> Result<Cond, DbError> {
        let s = column_sql(col);
        let mut c = Cond::default();
        match (col.kind(), value) {
            (ValueKind::Text, Typed::Text(v)) => {
                c.sql("lower(").sql(s).sql(") IS DISTINCT FROM lower(").bind(Bind::Text(v.clone())).sql(")");
            }
            _ => {
                c.sql(s).sql(" IS DISTINCT FROM ").bind(typed_bind(col, CompareOp::Ne, value)?);
            }
        }
        Ok(c)
    }

    fn compare(&self, attr: &Attr, op: CompareOp, value: &Typed) -> Result<Cond, DbError> {
        match attr {
            Attr::Column(col) => column_compare(*col, op, value),
            Attr::Json(key) => json_compare(key, op, value),
            Attr::Membership(MembershipAttr::OrgId) => match (op, value) {
                (CompareOp::Eq, Typed::Uuid(org)) => Ok(member_of(Bind::Uuid(*org), " = ")),
                _ => Err(unsupported(attr, op, value)),
            },
            Attr::Membership(MembershipAttr::Role) => match value {
                Typed::Text(v) => {
                    let name = |c: &mut Cond| {
                        c.sql("fr.name");
                    };
                    let cmp = text_compare(&name, op, v).ok_or_else(|| unsupported(attr, op, value))?;
                    Ok(self.has_role(cmp))
                }
                _ => Err(unsupported(attr, op, value)),
            },
            Attr::Membership(MembershipAttr::LocationId) => match (op, value) {
                (CompareOp::Eq, Typed::Uuid(location)) => Ok(self.at_location(|c| {
                    c.sql("fm.location_id = ").bind(Bind::Uuid(*location));
                })),
                _ => Err(unsupported(attr, op, value)),
            },
            Attr::Membership(MembershipAttr::Managed) => match (op, value) {
                (CompareOp::Eq, Typed::Bool(managed)) => Ok(self.managed(*managed)),
                _ => Err(unsupported(attr, op, value)),
            },
        }
    }

    /// `EXISTS` a membership in the role organization meeting `location_cond`
    /// (on `fm`, the membership).
    fn at_location(&self, location_cond: impl FnOnce(&mut Cond)) -> Cond {
        let mut inner = Cond::default();
        location_cond(&mut inner);
        let mut c = Cond::default();
        c.sql(r#"EXISTS (SELECT 1 FROM memberships fm WHERE fm.user_id = "users"."id" AND fm.org_id = "#)
            .bind(Bind::Uuid(self.role_org))
            .sql(" AND ")
            .group(inner)
            .sql(")");
        c
    }

    /// Whether the role organization manages the account (or not).
    fn managed(&self, managed: bool) -> Cond {
        let mut c = Cond::default();
        c.sql(r#""users"."managed_by""#).sql(if managed { " = " } else { " <> " }).bind(Bind::Uuid(self.role_org));
        c
    }

    /// `EXISTS` a membership in the role organization whose role `fr` meets `role_cond`.
    fn has_role(&self, role_cond: Cond) -> Cond {
        let mut c = Cond::default();
        c.sql("EXISTS (SELECT 1 FROM memberships fm JOIN roles fr ON fr.id = fm.role_id")
            .sql(r#" WHERE fm.user_id = "users"."id" AND fm.org_id = "#)
            .bind(Bind::Uuid(self.role_org))
            .sql(" AND ")
            .group(role_cond)
            .sql(")");
        c
    }
}

/// `EXISTS` a membership whose `org_id` is `op` `orgs` (`" = "` with one
/// uuid, `" = ANY"` with an array).
fn member_of(orgs: Bind, op: &'static str) -> Cond {
    let mut c = Cond::default();
    c.sql(r#"EXISTS (SELECT 1 FROM memberships fm WHERE fm.user_id = "users"."id" AND fm.org_id"#)
        .sql(op)
        .sql("(")
        .bind(orgs)
        .sql("))");
    c
}

/// Case-insensitive substring `s` in any of `columns`.
fn any_ilike(columns: &[Column], s: &str) -> Cond {
    let pattern = contains_pattern(s);
    let parts = columns
        .iter()
        .map(|col| {
            let mut c = Cond::default();
            c.sql(column_sql(*col)).sql(" ILIKE ").bind(Bind::Text(pattern.clone()));
            c
        })
        .collect();
    Cond::join(parts, " OR ", "FALSE")
}

/// The bound value of a typed (non-text) comparison on `col`, checked
/// against the column's kind and the operators that kind takes.
fn typed_bind(col: Column, op: CompareOp, value: &Typed) -> Result<Bind, DbError> {
    let ordered =
        matches!(op, CompareOp::Eq | CompareOp::Ne | CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le);
    let equality = matches!(op, CompareOp::Eq | CompareOp::Ne);
    match (col.kind(), value) {
        (ValueKind::Status, Typed::Status(s)) if equality => Ok(Bind::Text(s.as_str().to_owned())),
        (ValueKind::Bool, Typed::Bool(b)) if equality => Ok(Bind::Bool(*b)),
        (ValueKind::Uuid, Typed::Uuid(u)) if equality => Ok(Bind::Uuid(*u)),
        (ValueKind::Time, Typed::Time(t)) if ordered => Ok(Bind::Time(*t)),
        (ValueKind::Date, Typed::Date(d)) if ordered => Ok(Bind::Date(*d)),
        _ => Err(unsupported(col, op, value)),
    }
}

fn column_compare(col: Column, op: CompareOp, value: &Typed) -> Result<Cond, DbError> {
    let s = column_sql(col);
    if let (Column::Email, CompareOp::Sw, Typed::Text(v)) = (col, op, value) {
        // A prefix of the email: `lower(email) LIKE 'prefix%'` is a range of
        // the unique index on lower(email), whose statistics (migration
        // 000004) let the planner estimate how many rows match — ILIKE's
        // guess is off by 50x and leads to sorting tens of thousands of rows.
        let mut c = Cond::default();
        c.sql(r#"lower("users"."email") LIKE lower("#).bind(Bind::Text(like_pattern(op, v))).sql(")");
        return Ok(c);
    }
    if let (ValueKind::Text, Typed::Text(v)) = (col.kind(), value) {
        let target = |c: &mut Cond| {
            c.sql(s);
        };
        return text_compare(&target, op, v).ok_or_else(|| unsupported(col, op, value));
    }
    let bind = typed_bind(col, op, value)?;
    let sql_op = ordering_sql(op).ok_or_else(|| unsupported(col, op, value))?;
    let mut c = Cond::default();
    c.sql(s).sql(sql_op).bind(bind);
    Ok(c)
}

/// `attributes.<key> op value`, only true for a JSON value of the literal's
/// type. Host-application attributes compare exactly (SCIM `caseExact`), so
/// `eq` is a containment test (`@>`) that the GIN index on `attributes`
/// answers; `ne` is its negation.
fn json_compare(key: &str, op: CompareOp, value: &Typed) -> Result<Cond, DbError> {
    let attr = || Attr::Json(key.to_owned());
    let bind = match value {
        Typed::Text(v) => Bind::Text(v.clone()),
        Typed::Number(n) => Bind::Number(*n),
        Typed::Bool(b) => Bind::Bool(*b),
        _ => return Err(unsupported(attr(), op, value)),
    };
    let mut c = Cond::default();
    if matches!(op, CompareOp::Eq | CompareOp::Ne) {
        if op == CompareOp::Ne {
            c.sql("NOT ");
        }
        c.sql(r#"("users"."attributes" @> jsonb_build_object("#)
            .bind(Bind::Text(key.to_owned()))
            .sql("::text, ")
            .bind(bind)
            .sql("))");
        return Ok(c);
    }
    c.sql(r#"jsonb_typeof("users"."attributes" -> "#).bind(Bind::Text(key.to_owned())).sql(") = ");
    match value {
        Typed::Text(v) => {
            c.sql(r#"'string' AND ("users"."attributes" ->> "#).bind(Bind::Text(key.to_owned())).sql(")");
            match op {
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                    c.sql(" LIKE ").bind(Bind::Text(like_pattern(op, v)));
                }
                _ => {
                    let sql_op = ordering_sql(op).ok_or_else(|| unsupported(attr(), op, value))?;
                    c.sql(sql_op).bind(Bind::Text(v.clone()));
                }
            }
        }
        Typed::Number(n) => {
            let sql_op = ordering_sql(op).ok_or_else(|| unsupported(attr(), op, value))?;
            c.sql(r#"'number' AND ("users"."attributes" -> "#)
                .bind(Bind::Text(key.to_owned()))
                .sql(")")
                .sql(sql_op)
                .sql("to_jsonb(")
                .bind(Bind::Number(*n))
                .sql(")");
        }
        _ => return Err(unsupported(attr(), op, value)),
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_per_operator() {
        assert_eq!(like_pattern(CompareOp::Co, "a_b"), r"%a\_b%");
        assert_eq!(like_pattern(CompareOp::Sw, "a%"), r"a\%%");
        assert_eq!(like_pattern(CompareOp::Ew, r"a\"), r"%a\\");
    }

    #[test]
    fn client_text_is_only_ever_bound() {
        let evil = "x'); DROP TABLE users; --";
        let c = Compiler { role_org: Uuid::nil() }
            .predicate(&Predicate::Compare {
                attr: Attr::Json(evil.to_owned()),
                op: CompareOp::Co,
                value: Typed::Text(evil.to_owned()),
            })
            .unwrap();
        for piece in &c.pieces {
            if let Piece::Sql(s) = piece {
                assert!(!s.contains("DROP"), "{s}");
            }
        }
        assert!(c.pieces.iter().any(|p| matches!(p, Piece::Bind(Bind::Text(t)) if t.contains("DROP"))));
    }
}
