//! The filter's two trees: as written, and as checked.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// SCIM comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    /// Contains (strings only).
    Co,
    /// Starts with (strings only).
    Sw,
    /// Ends with (strings only).
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub const ALL: [(&'static str, CompareOp); 9] = [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("co", CompareOp::Co),
        ("sw", CompareOp::Sw),
        ("ew", CompareOp::Ew),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// A literal as written in the filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A JSON string (`"..."` with JSON escapes).
    Str(String),
    /// A JSON number.
    Num(f64),
    Bool(bool),
    Null,
}

/// A filter as written, before the whitelist. `pos` is the byte offset of
/// the attribute path in the input, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterExpr {
    Compare { path: String, op: CompareOp, value: Literal, pos: usize },
    Present { path: String, pos: usize },
    And(Box<FilterExpr>, Box<FilterExpr>),
    Or(Box<FilterExpr>, Box<FilterExpr>),
    Not(Box<FilterExpr>),
}

/// A user column that can be filtered (and, for some, sorted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Id,
    Email,
    EmailVerified,
    Name,
    GivenName,
    FamilyName,
    Phone,
    Locale,
    Timezone,
    Status,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
    Birthdate,
    Gender,
    Pronouns,
    EmployeeId,
    Position,
    Department,
}

/// What kind of values a column holds, which decides the operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Compared case-insensitively (SCIM `caseExact: false`): eq ne co sw ew gt ge lt le pr.
    Text,
    /// `status`: eq ne pr with one of the status names.
    Status,
    /// eq ne pr.
    Bool,
    /// RFC 3339 date-time: eq ne gt ge lt le pr.
    Time,
    /// `YYYY-MM-DD`: eq ne gt ge lt le pr.
    Date,
    /// eq ne pr.
    Uuid,
}

impl Column {
    /// The filter name of each column (`profile.*` for the profile fields).
    pub const ALL: [(&'static str, Column); 19] = [
        ("id", Column::Id),
        ("email", Column::Email),
        ("email_verified", Column::EmailVerified),
        ("name", Column::Name),
        ("given_name", Column::GivenName),
        ("family_name", Column::FamilyName),
        ("phone", Column::Phone),
        ("locale", Column::Locale),
        ("timezone", Column::Timezone),
        ("status", Column::Status),
        ("created_at", Column::CreatedAt),
        ("updated_at", Column::UpdatedAt),
        ("last_login_at", Column::LastLoginAt),
        ("profile.birthdate", Column::Birthdate),
        ("profile.gender", Column::Gender),
        ("profile.pronouns", Column::Pronouns),
        ("profile.employee_id", Column::EmployeeId),
        ("profile.position", Column::Position),
        ("profile.department", Column::Department),
    ];

    pub fn kind(self) -> ValueKind {
        match self {
            Column::Id => ValueKind::Uuid,
            Column::EmailVerified => ValueKind::Bool,
            Column::Status => ValueKind::Status,
            Column::CreatedAt | Column::UpdatedAt | Column::LastLoginAt => ValueKind::Time,
            Column::Birthdate => ValueKind::Date,
            _ => ValueKind::Text,
        }
    }

    pub fn name(self) -> &'static str {
        Column::ALL.iter().find(|(_, c)| *c == self).map(|(n, _)| *n).unwrap_or("id")
    }

    /// Whether the column can be NULL (so `pr` is meaningful).
    pub fn nullable(self) -> bool {
        !matches!(
            self,
            Column::Id | Column::Email | Column::EmailVerified | Column::Status | Column::CreatedAt | Column::UpdatedAt
        )
    }
}

/// Facts about a user's memberships, reached through joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MembershipAttr {
    /// `org_id eq "<uuid>"`: the user is a member of that organization.
    OrgId,
    /// `role eq "admin"`: the user's role (by name) in the query's scope
    /// organization (the default organization for platform-wide queries).
    Role,
    /// `location_id eq "<uuid>"`: the user's location in the scope organization.
    LocationId,
    /// `managed eq true`: the scope organization manages the account.
    Managed,
}

/// A whitelisted attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attr {
    Column(Column),
    /// `attributes.<key>`: a top-level key of the JSON `attributes` object.
    /// Keys are 1–64 characters of `[A-Za-z0-9_-]`. The host application's
    /// data: its strings compare exactly (SCIM `caseExact: true`).
    Json(String),
    Membership(MembershipAttr),
}

/// A checked value, typed for its attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// For Text columns: as given (the adapter compares case-insensitively).
    Text(String),
    Status(crate::user::UserStatus),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Uuid(Uuid),
    /// Only for `attributes.<key>`: a JSON number.
    Number(f64),
}

/// A checked filter. `Present` is SCIM `pr`: the attribute is non-null
/// (for Text also non-empty; for Json the key exists with a non-null value).
/// `eq null` is checked into `Not(Present)`, `ne null` into `Present`.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    Compare { attr: Attr, op: CompareOp, value: Typed },
    Present(Attr),
    And(Box<Predicate>, Box<Predicate>),
    Or(Box<Predicate>, Box<Predicate>),
    Not(Box<Predicate>),
}

/// Why a filter was refused; answered as `400 invalid_filter`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct FilterError {
    /// Byte offset in the filter where the problem is.
    pub position: usize,
    /// What is wrong and what was expected, e.g. `expected a comparison
    /// operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr, found "xx"`, or
    /// `unknown attribute "pasword"; filterable: id, email, …`.
    pub message: String,
}
