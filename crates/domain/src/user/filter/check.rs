//! The whitelist: resolves attribute paths and types every value.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use super::ast::{
    Attr, Column, CompareOp, FilterError, FilterExpr, Literal, MembershipAttr, Predicate, Typed, ValueKind,
};
use crate::user::UserStatus;

use CompareOp::{Co, Eq, Ew, Ge, Gt, Le, Lt, Ne, Sw};

const ALL_OPS: &[CompareOp] = &[Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le];
const EQUALITY: &[CompareOp] = &[Eq, Ne];
const ORDERED: &[CompareOp] = &[Eq, Ne, Gt, Ge, Lt, Le];
const STRING_MATCH: &[CompareOp] = &[Eq, Ne, Co, Sw, Ew];

const JSON_PREFIX: &str = "attributes.";
const MAX_KEY_CHARS: usize = 64;
const STATUSES: [UserStatus; 4] = UserStatus::ALL;

/// Checks `expr` against the whitelist, typing every value; And/Or/Not map
/// structurally. Errors point at the attribute path of the offending term.
pub(super) fn check(expr: FilterExpr) -> Result<Predicate, FilterError> {
    Ok(match expr {
        FilterExpr::And(l, r) => Predicate::And(Box::new(check(*l)?), Box::new(check(*r)?)),
        FilterExpr::Or(l, r) => Predicate::Or(Box::new(check(*l)?), Box::new(check(*r)?)),
        FilterExpr::Not(inner) => Predicate::Not(Box::new(check(*inner)?)),
        FilterExpr::Present { path, pos } => Predicate::Present(resolve(&path, pos)?),
        FilterExpr::Compare { path, op, value, pos } => compare(resolve(&path, pos)?, op, value, pos)?,
    })
}

fn error(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { position, message: message.into() }
}

/// Resolves a path, case-insensitively, to a whitelisted attribute.
fn resolve(path: &str, pos: usize) -> Result<Attr, FilterError> {
    if let Some((_, column)) = Column::ALL.iter().find(|(name, _)| path.eq_ignore_ascii_case(name)) {
        return Ok(Attr::Column(*column));
    }
    if path.eq_ignore_ascii_case("org_id") {
        return Ok(Attr::Membership(MembershipAttr::OrgId));
    }
    if path.eq_ignore_ascii_case("role") {
        return Ok(Attr::Membership(MembershipAttr::Role));
    }
    if path.eq_ignore_ascii_case("location_id") {
        return Ok(Attr::Membership(MembershipAttr::LocationId));
    }
    if path.eq_ignore_ascii_case("managed") {
        return Ok(Attr::Membership(MembershipAttr::Managed));
    }
    let prefix = path.get(..JSON_PREFIX.len()).filter(|p| p.eq_ignore_ascii_case(JSON_PREFIX));
    if let Some(key) = prefix.and_then(|p| path.get(p.len()..)) {
        let valid = (1..=MAX_KEY_CHARS).contains(&key.len())
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(error(
                pos,
                format!(
                    "invalid attribute key {key:?}; keys are 1-{MAX_KEY_CHARS} characters of A-Z, a-z, 0-9, _ and -"
                ),
            ));
        }
        return Ok(Attr::Json(key.to_owned()));
    }
    let names: Vec<&str> = Column::ALL.iter().map(|(name, _)| *name).collect();
    Err(error(
        pos,
        format!(
            "unknown attribute {path:?}; filterable attributes: {}, org_id, role, location_id, managed, \
             attributes.<key>",
            names.join(", ")
        ),
    ))
}

/// The attribute's name as the filter writes it.
fn attr_name(attr: &Attr) -> String {
    match attr {
        Attr::Column(column) => column.name().to_owned(),
        Attr::Json(key) => format!("{JSON_PREFIX}{key}"),
        Attr::Membership(MembershipAttr::OrgId) => "org_id".to_owned(),
        Attr::Membership(MembershipAttr::Role) => "role".to_owned(),
        Attr::Membership(MembershipAttr::LocationId) => "location_id".to_owned(),
        Attr::Membership(MembershipAttr::Managed) => "managed".to_owned(),
    }
}

/// The operators `attr` takes with `value` (a non-null literal), and for
/// `attributes.<key>` the kind of value they depend on.
fn allowed_ops(attr: &Attr, value: &Literal) -> (&'static [CompareOp], Option<&'static str>) {
    match attr {
        Attr::Column(column) => match column.kind() {
            ValueKind::Text => (ALL_OPS, None),
            ValueKind::Status | ValueKind::Bool | ValueKind::Uuid => (EQUALITY, None),
            ValueKind::Time | ValueKind::Date => (ORDERED, None),
        },
        Attr::Membership(MembershipAttr::OrgId | MembershipAttr::LocationId | MembershipAttr::Managed) => {
            (EQUALITY, None)
        }
        Attr::Membership(MembershipAttr::Role) => (STRING_MATCH, None),
        Attr::Json(_) => match value {
            Literal::Num(_) => (ORDERED, Some("a number")),
            Literal::Bool(_) => (EQUALITY, Some("true or false")),
            Literal::Str(_) | Literal::Null => (ALL_OPS, Some("a string")),
        },
    }
}

fn compare(attr: Attr, op: CompareOp, value: Literal, pos: usize) -> Result<Predicate, FilterError> {
    let name = attr_name(&attr);
    if value == Literal::Null {
        return match op {
            Eq => Ok(Predicate::Not(Box::new(Predicate::Present(attr)))),
            Ne => Ok(Predicate::Present(attr)),
            _ => Err(error(pos, format!("{name:?} can be compared with null only by eq or ne"))),
        };
    }
    let (ops, with) = allowed_ops(&attr, &value);
    if !ops.contains(&op) {
        let list: Vec<&str> = ops.iter().map(|op| op.as_str()).collect();
        let with = with.map(|w| format!(" with {w}")).unwrap_or_default();
        return Err(error(pos, format!("{name:?} supports {}, pr{with}", list.join(", "))));
    }
    let typed = typed_value(&attr, value).map_err(|expected| error(pos, format!("{name:?} takes {expected}")))?;
    Ok(Predicate::Compare { attr, op, value: typed })
}

/// Types `value` for `attr`, or says what the attribute takes.
fn typed_value(attr: &Attr, value: Literal) -> Result<Typed, String> {
    let kind = match attr {
        Attr::Column(column) => column.kind(),
        Attr::Membership(MembershipAttr::OrgId | MembershipAttr::LocationId) => ValueKind::Uuid,
        Attr::Membership(MembershipAttr::Managed) => ValueKind::Bool,
        Attr::Membership(MembershipAttr::Role) => ValueKind::Text,
        Attr::Json(_) => {
            return match value {
                Literal::Str(s) => Ok(Typed::Text(s)),
                Literal::Num(n) => Ok(Typed::Number(n)),
                Literal::Bool(b) => Ok(Typed::Bool(b)),
                Literal::Null => Err("a string, a number, true or false".to_owned()),
            };
        }
    };
    match (kind, value) {
        (ValueKind::Text, Literal::Str(s)) => Ok(Typed::Text(s)),
        (ValueKind::Text, _) => Err("a string".to_owned()),
        (ValueKind::Bool, Literal::Bool(b)) => Ok(Typed::Bool(b)),
        (ValueKind::Bool, _) => Err("true or false".to_owned()),
        (ValueKind::Status, Literal::Str(s)) => {
            UserStatus::parse(&s.to_ascii_lowercase()).map(Typed::Status).ok_or_else(status_names)
        }
        (ValueKind::Status, _) => Err(status_names()),
        (ValueKind::Time, Literal::Str(s)) => parse_time(&s)
            .map(Typed::Time)
            .ok_or_else(|| "an RFC 3339 date-time (2024-01-31T12:00:00Z) or a date (2024-01-31)".to_owned()),
        (ValueKind::Date, Literal::Str(s)) => {
            parse_date(&s).map(Typed::Date).ok_or_else(|| "a date (YYYY-MM-DD)".to_owned())
        }
        (ValueKind::Time | ValueKind::Date, _) => Err("a date as a string".to_owned()),
        (ValueKind::Uuid, Literal::Str(s)) => {
            Uuid::parse_str(&s).map(Typed::Uuid).map_err(|_| "a UUID (as a string)".to_owned())
        }
        (ValueKind::Uuid, _) => Err("a UUID (as a string)".to_owned()),
    }
}

fn status_names() -> String {
    let names: Vec<String> = STATUSES.iter().map(|s| format!("{:?}", s.as_str())).collect();
    format!("one of {}", names.join(", "))
}

/// Strict `YYYY-MM-DD`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let year = s.get(0..4)?.parse().ok()?;
    let month = s.get(5..7)?.parse().ok()?;
    let day = s.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// RFC 3339, or a bare date as midnight UTC.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    parse_date(s).map(|d| d.and_time(NaiveTime::MIN).and_utc())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::user::filter::parse;

    const UUID: &str = "0191e4c4-7b3a-7c1e-9a57-3f4b8f2f1a01";

    fn ok(input: &str) -> Predicate {
        match parse(input) {
            Ok(p) => p,
            Err(e) => panic!("{input:?}: {e}"),
        }
    }

    fn err(input: &str) -> (usize, String) {
        match parse(input) {
            Err(e) => (e.position, e.message),
            Ok(p) => panic!("{input:?} checked as {p:?}"),
        }
    }

    fn compare(attr: Attr, op: CompareOp, value: Typed) -> Predicate {
        Predicate::Compare { attr, op, value }
    }

    fn col(column: Column) -> Attr {
        Attr::Column(column)
    }

    #[test]
    fn resolves_every_column_case_insensitively() {
        for (name, column) in Column::ALL {
            assert_eq!(ok(&format!("{name} pr")), Predicate::Present(col(column)));
            assert_eq!(ok(&format!("{} pr", name.to_uppercase())), Predicate::Present(col(column)));
        }
        assert_eq!(ok("Profile.Department pr"), Predicate::Present(col(Column::Department)));
        assert_eq!(ok("ORG_ID pr"), Predicate::Present(Attr::Membership(MembershipAttr::OrgId)));
        assert_eq!(ok("Role pr"), Predicate::Present(Attr::Membership(MembershipAttr::Role)));
        assert_eq!(ok("Attributes.Team_1-x pr"), Predicate::Present(Attr::Json("Team_1-x".into())));
        assert_eq!(ok("attributes.0 pr"), Predicate::Present(Attr::Json("0".into())));
    }

    #[test]
    fn membership_attributes_of_the_scope_organization() {
        let location = Uuid::parse_str(UUID).unwrap();
        assert_eq!(
            ok(&format!(r#"location_id eq "{UUID}""#)),
            Predicate::Compare {
                attr: Attr::Membership(MembershipAttr::LocationId),
                op: Eq,
                value: Typed::Uuid(location)
            }
        );
        assert_eq!(
            ok("managed eq false"),
            Predicate::Compare { attr: Attr::Membership(MembershipAttr::Managed), op: Eq, value: Typed::Bool(false) }
        );
        assert!(err(r#"managed eq "yes""#).1.contains("true or false"));
        assert!(err(r#"location_id co "x""#).1.contains("supports eq, ne"));
    }

    #[test]
    fn unknown_attributes_and_keys() {
        let list = "id, email, email_verified, name, given_name, family_name, phone, locale, timezone, status, \
                    created_at, updated_at, last_login_at, profile.birthdate, profile.gender, profile.pronouns, \
                    profile.employee_id, profile.position, profile.department, org_id, role, location_id, managed, \
                    attributes.<key>";
        let expected = (9, format!("unknown attribute \"pasword\"; filterable attributes: {list}"));
        assert_eq!(err(r#"id pr or pasword eq "x""#), expected);
        assert_eq!(err("profile pr").1, format!("unknown attribute \"profile\"; filterable attributes: {list}"));
        assert_eq!(err("profile.email pr").0, 0);
        let key = "k".repeat(65);
        let expected = format!("invalid attribute key \"{key}\"; keys are 1-64 characters of A-Z, a-z, 0-9, _ and -");
        assert_eq!(err(&format!("attributes.{key} pr")), (0, expected));
        assert!(parse(&format!("attributes.{} pr", "k".repeat(64))).is_ok());
        assert_eq!(
            err("attributes.a.b pr").1,
            r#"invalid attribute key "a.b"; keys are 1-64 characters of A-Z, a-z, 0-9, _ and -"#
        );
    }

    #[test]
    fn text_columns_take_strings_with_every_operator() {
        for (name, op) in CompareOp::ALL {
            let expected = compare(col(Column::Email), op, Typed::Text("Ann@Example.com".into()));
            assert_eq!(ok(&format!(r#"email {name} "Ann@Example.com""#)), expected);
        }
        assert_eq!(err("id pr or email eq 1"), (9, r#""email" takes a string"#.into()));
        assert_eq!(err("profile.gender eq true").1, r#""profile.gender" takes a string"#);
    }

    #[test]
    fn status() {
        assert_eq!(
            ok(r#"status eq "Active""#),
            compare(col(Column::Status), CompareOp::Eq, Typed::Status(UserStatus::Active))
        );
        assert_eq!(
            ok(r#"status ne "banned""#),
            compare(col(Column::Status), CompareOp::Ne, Typed::Status(UserStatus::Banned))
        );
        let one_of = r#""status" takes one of "pending", "active", "inactive", "banned""#;
        assert_eq!(err(r#"status eq "gone""#).1, one_of);
        assert_eq!(err("status eq 1").1, one_of);
        for op in ["co", "sw", "ew", "gt", "ge", "lt", "le"] {
            assert_eq!(err(&format!(r#"status {op} "active""#)), (0, r#""status" supports eq, ne, pr"#.into()));
        }
    }

    #[test]
    fn booleans() {
        assert_eq!(ok("email_verified eq true"), compare(col(Column::EmailVerified), CompareOp::Eq, Typed::Bool(true)));
        assert_eq!(
            ok("email_verified ne false"),
            compare(col(Column::EmailVerified), CompareOp::Ne, Typed::Bool(false))
        );
        assert_eq!(err(r#"email_verified eq "true""#).1, r#""email_verified" takes true or false"#);
        assert_eq!(err("email_verified gt true").1, r#""email_verified" supports eq, ne, pr"#);
    }

    #[test]
    fn times() {
        let noon = Utc.with_ymd_and_hms(2024, 1, 31, 12, 0, 0).single();
        let midnight = Utc.with_ymd_and_hms(2024, 1, 31, 0, 0, 0).single();
        for (name, op) in CompareOp::ALL.into_iter().filter(|(_, op)| ORDERED.contains(op)) {
            let p = ok(&format!(r#"created_at {name} "2024-01-31T12:00:00Z""#));
            assert_eq!(Some(p), noon.map(|t| compare(col(Column::CreatedAt), op, Typed::Time(t))));
        }
        let p = ok(r#"last_login_at ge "2024-01-31T14:00:00+02:00""#);
        assert_eq!(Some(p), noon.map(|t| compare(col(Column::LastLoginAt), CompareOp::Ge, Typed::Time(t))));
        let p = ok(r#"updated_at lt "2024-01-31""#);
        assert_eq!(Some(p), midnight.map(|t| compare(col(Column::UpdatedAt), CompareOp::Lt, Typed::Time(t))));
        let takes = r#""created_at" takes an RFC 3339 date-time (2024-01-31T12:00:00Z) or a date (2024-01-31)"#;
        for bad in ["yesterday", "2024-1-31", "2024-02-30", "2024-01-31T12:00:00", "+2024-01-31"] {
            assert_eq!(err(&format!(r#"created_at eq "{bad}""#)).1, takes, "{bad}");
        }
        assert_eq!(err("created_at gt 1706702400").1, r#""created_at" takes a date as a string"#);
        assert_eq!(err(r#"created_at co "2024""#).1, r#""created_at" supports eq, ne, gt, ge, lt, le, pr"#);
    }

    #[test]
    fn dates() {
        let date = NaiveDate::from_ymd_opt(1990, 5, 17);
        let p = ok(r#"profile.birthdate le "1990-05-17""#);
        assert_eq!(Some(p), date.map(|d| compare(col(Column::Birthdate), CompareOp::Le, Typed::Date(d))));
        for bad in ["1990-5-17", "1990-02-30", "1990-05-17T00:00:00Z", "17.05.1990", "１９９０-05-17"] {
            assert_eq!(
                err(&format!(r#"profile.birthdate eq "{bad}""#)).1,
                r#""profile.birthdate" takes a date (YYYY-MM-DD)"#
            );
        }
        assert_eq!(
            err(r#"profile.birthdate sw "1990""#).1,
            r#""profile.birthdate" supports eq, ne, gt, ge, lt, le, pr"#
        );
    }

    #[test]
    fn uuids() {
        let id = Uuid::parse_str(UUID).ok();
        assert_eq!(
            Some(ok(&format!(r#"id eq "{UUID}""#))),
            id.map(|u| compare(col(Column::Id), CompareOp::Eq, Typed::Uuid(u)))
        );
        let org = Attr::Membership(MembershipAttr::OrgId);
        assert_eq!(
            Some(ok(&format!(r#"org_id ne "{UUID}""#))),
            id.map(|u| compare(org, CompareOp::Ne, Typed::Uuid(u)))
        );
        assert_eq!(err(r#"id eq "nope""#).1, r#""id" takes a UUID (as a string)"#);
        assert_eq!(err("org_id eq 7").1, r#""org_id" takes a UUID (as a string)"#);
        assert_eq!(err(&format!(r#"org_id gt "{UUID}""#)).1, r#""org_id" supports eq, ne, pr"#);
    }

    #[test]
    fn roles() {
        let role = Attr::Membership(MembershipAttr::Role);
        for (name, op) in CompareOp::ALL.into_iter().filter(|(_, op)| STRING_MATCH.contains(op)) {
            assert_eq!(ok(&format!(r#"role {name} "Admin""#)), compare(role.clone(), op, Typed::Text("Admin".into())));
        }
        assert_eq!(err(r#"role gt "a""#).1, r#""role" supports eq, ne, co, sw, ew, pr"#);
        assert_eq!(err("role eq true").1, r#""role" takes a string"#);
    }

    #[test]
    fn json_attributes() {
        let team = || Attr::Json("team".into());
        for (name, op) in CompareOp::ALL {
            assert_eq!(ok(&format!(r#"attributes.team {name} "x""#)), compare(team(), op, Typed::Text("x".into())));
            let number = format!("attributes.team {name} 2.5");
            if ORDERED.contains(&op) {
                assert_eq!(ok(&number), compare(team(), op, Typed::Number(2.5)));
            } else {
                assert_eq!(err(&number).1, r#""attributes.team" supports eq, ne, gt, ge, lt, le, pr with a number"#);
            }
            let boolean = format!("attributes.team {name} true");
            if EQUALITY.contains(&op) {
                assert_eq!(ok(&boolean), compare(team(), op, Typed::Bool(true)));
            } else {
                assert_eq!(err(&boolean).1, r#""attributes.team" supports eq, ne, pr with true or false"#);
            }
        }
    }

    #[test]
    fn null_means_absent() {
        for (name, column) in Column::ALL {
            let attr = col(column);
            assert_eq!(ok(&format!("{name} eq null")), Predicate::Not(Box::new(Predicate::Present(attr.clone()))));
            assert_eq!(ok(&format!("{name} ne null")), Predicate::Present(attr));
        }
        assert_eq!(ok("attributes.x NE null"), Predicate::Present(Attr::Json("x".into())));
        assert_eq!(err("phone gt null"), (0, r#""phone" can be compared with null only by eq or ne"#.into()));
        assert_eq!(err("attributes.x co null").1, r#""attributes.x" can be compared with null only by eq or ne"#);
    }

    #[test]
    fn structure_is_kept() {
        let p = ok(r#"not (phone pr) and (email_verified eq true or role eq "admin")"#);
        let expected = Predicate::And(
            Box::new(Predicate::Not(Box::new(Predicate::Present(col(Column::Phone))))),
            Box::new(Predicate::Or(
                Box::new(compare(col(Column::EmailVerified), CompareOp::Eq, Typed::Bool(true))),
                Box::new(compare(Attr::Membership(MembershipAttr::Role), CompareOp::Eq, Typed::Text("admin".into()))),
            )),
        );
        assert_eq!(p, expected);
        assert_eq!(err(r#"email pr and not (phone pr or status eq "x")"#).0, 30);
    }
}
