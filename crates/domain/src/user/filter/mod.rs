//! The directory's filter language: SCIM filter syntax (RFC 7644 §3.4.2.2)
//! parsed into an untyped AST ([`FilterExpr`]), then checked against the
//! attribute whitelist into a typed [`Predicate`] that adapters compile into
//! parameterized queries. Input never becomes SQL text.
//!
//! ```text
//! email ew "@example.com" and (status eq "active" or not (last_login_at pr))
//! ```
//!
//! Filters are limited to 4096 bytes and 32 levels of parentheses.

mod ast;
mod check;
mod parser;
#[cfg(test)]
mod tests;

use std::fmt::{self, Write as _};

pub use ast::{Attr, Column, CompareOp, FilterError, FilterExpr, Literal, MembershipAttr, Predicate, Typed, ValueKind};

/// Parses SCIM filter syntax into the untyped AST.
///
/// Keywords and operators are case-insensitive, `and` binds tighter than
/// `or`, values are JSON literals. Never panics; errors carry the byte
/// offset of the problem and say what was expected and what was found.
pub fn parse_expr(input: &str) -> Result<FilterExpr, FilterError> {
    parser::parse_expr(input)
}

/// Checks an AST against the whitelist, typing every value.
///
/// Attribute paths resolve case-insensitively to a [`Column`], `org_id`,
/// `role` or `attributes.<key>`; each value must have the attribute's type
/// and each operator must suit it. `eq null` becomes `Not(Present)`, `ne
/// null` becomes `Present`.
pub fn check(expr: FilterExpr) -> Result<Predicate, FilterError> {
    check::check(expr)
}

/// [`parse_expr`] then [`check`].
pub fn parse(input: &str) -> Result<Predicate, FilterError> {
    check(parse_expr(input)?)
}

/// The canonical text of a filter, which [`parse_expr`] reads back into an
/// equal AST (except the `pos` fields, which become offsets in this text):
/// lowercase keywords, single spaces, parentheses only where precedence or
/// the tree's shape needs them (`and`/`or` chains are left-associative),
/// strings with JSON escapes and numbers in their shortest exact form.
/// Non-finite numbers, which the parser never produces, print as `null`.
impl fmt::Display for FilterExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterExpr::Compare { path, op, value, .. } => write!(f, "{path} {} {value}", op.as_str()),
            FilterExpr::Present { path, .. } => write!(f, "{path} pr"),
            FilterExpr::Not(inner) => write!(f, "not ({inner})"),
            FilterExpr::And(l, r) => {
                write_operand(f, l, precedence(l) < AND)?;
                f.write_str(" and ")?;
                write_operand(f, r, precedence(r) <= AND)
            }
            FilterExpr::Or(l, r) => {
                write_operand(f, l, false)?;
                f.write_str(" or ")?;
                write_operand(f, r, precedence(r) <= OR)
            }
        }
    }
}

const OR: u8 = 1;
const AND: u8 = 2;

fn precedence(expr: &FilterExpr) -> u8 {
    match expr {
        FilterExpr::Or(..) => OR,
        FilterExpr::And(..) => AND,
        _ => AND + 1,
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, expr: &FilterExpr, parenthesize: bool) -> fmt::Result {
    if parenthesize {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

/// JSON text: `"…"` with escapes, shortest round-tripping numbers.
impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => {
                f.write_char('"')?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        '\u{8}' => f.write_str("\\b")?,
                        '\u{c}' => f.write_str("\\f")?,
                        c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
                        c => f.write_char(c)?,
                    }
                }
                f.write_char('"')
            }
            Literal::Num(n) if !n.is_finite() => f.write_str("null"),
            // `{}` never uses an exponent: keep it for moderate magnitudes.
            Literal::Num(n) if *n == 0.0 || (1e-6..1e21).contains(&n.abs()) => write!(f, "{n}"),
            Literal::Num(n) => write!(f, "{n:e}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
        }
    }
}
