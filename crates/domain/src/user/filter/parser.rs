//! Hand-written recursive-descent parser for SCIM filter syntax.
//!
//! ```text
//! filter  := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" "(" filter ")" | "(" filter ")"
//!          | attrPath SP "pr" | attrPath SP compareOp SP compValue
//! ```
//!
//! Words (attribute paths, keywords, operators, `true`/`false`/`null` and
//! numbers) run until a space, a tab, `(`, `)` or `"`, so they must be
//! separated by whitespace; around parentheses and strings whitespace is
//! optional. Keywords and operators are case-insensitive, `true`, `false`
//! and `null` are lowercase as in JSON. The delimiters are ASCII, so every
//! offset the scanner stops at is a char boundary.
//!
//! A `not` in operand position always starts a negation (so no attribute
//! path can be `not`), and sub-attribute segments may start with a digit
//! (`attributes.1st`), unlike RFC 7644's ATTRNAME.

use super::ast::{CompareOp, FilterError, FilterExpr, Literal};

/// Longest filter accepted, in bytes.
pub(super) const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses (`(...)` and `not (...)`) accepted.
pub(super) const MAX_DEPTH: usize = 32;

const EXPECTED_OPERATOR: &str = "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr";
const EXPECTED_VALUE: &str = "a value (a JSON string, number, true, false or null)";
const EXPECTED_OPERAND: &str = "an attribute name, \"not\" or \"(\"";

/// Parses `input` into the untyped AST; see the module docs for the grammar.
pub(super) fn parse_expr(input: &str) -> Result<FilterExpr, FilterError> {
    if input.len() > MAX_LEN {
        return Err(error(MAX_LEN, format!("filter is longer than {MAX_LEN} bytes")));
    }
    let mut parser = Parser { src: input, pos: 0, depth: 0 };
    parser.skip_ws();
    if parser.peek().is_none() {
        return Err(error(0, "empty filter"));
    }
    let expr = parser.or()?;
    parser.skip_ws();
    if parser.peek().is_some() {
        return Err(error(parser.pos, format!("unexpected {} after the end of the filter", parser.found())));
    }
    Ok(expr)
}

fn error(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { position, message: message.into() }
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'(' | b')' | b'"')
}

/// `[A-Za-z][A-Za-z0-9_-]*` then `.segment`s of `[A-Za-z0-9_-]+` (sub-attribute
/// segments may start with a digit, like the keys of `attributes`).
fn is_attr_path(word: &str) -> bool {
    let mut segments = word.split('.');
    let name_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let first_ok = segments.next().is_some_and(|first| {
        first.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && first.bytes().all(name_char)
    });
    first_ok && segments.all(|s| !s.is_empty() && s.bytes().all(name_char))
}

/// JSON number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(word: &str) -> bool {
    let b = word.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// A word quoted for a message, shortened when long.
fn quote(word: &str) -> String {
    const MAX_CHARS: usize = 32;
    if word.chars().count() > MAX_CHARS {
        format!("{:?}", format!("{}…", word.chars().take(MAX_CHARS).collect::<String>()))
    } else {
        format!("{word:?}")
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The word at the cursor; empty at a delimiter or the end.
    fn word(&self) -> &'a str {
        let rest = self.src.get(self.pos..).unwrap_or("");
        let end = rest.bytes().position(is_delimiter).unwrap_or(rest.len());
        rest.get(..end).unwrap_or("")
    }

    /// Consumes the word at the cursor if it is `keyword` (any case).
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let word = self.word();
        let hit = word.eq_ignore_ascii_case(keyword);
        if hit {
            self.pos += word.len();
        }
        hit
    }

    /// What is at the cursor, for "found ..." in messages.
    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the filter".to_owned(),
            Some(b'"') => "a string".to_owned(),
            Some(b'(') => "\"(\"".to_owned(),
            Some(b')') => "\")\"".to_owned(),
            Some(_) => quote(self.word()),
        }
    }

    fn expected(&self, what: &str) -> FilterError {
        error(self.pos, format!("expected {what}, found {}", self.found()))
    }

    fn or(&mut self) -> Result<FilterExpr, FilterError> {
        let mut left = self.and()?;
        loop {
            self.skip_ws();
            if !self.eat_keyword("or") {
                return Ok(left);
            }
            left = FilterExpr::Or(Box::new(left), Box::new(self.and()?));
        }
    }

    fn and(&mut self) -> Result<FilterExpr, FilterError> {
        let mut left = self.unary()?;
        loop {
            self.skip_ws();
            if !self.eat_keyword("and") {
                return Ok(left);
            }
            left = FilterExpr::And(Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<FilterExpr, FilterError> {
        self.skip_ws();
        if self.peek() == Some(b'(') {
            return self.group();
        }
        if self.eat_keyword("not") {
            self.skip_ws();
            if self.peek() != Some(b'(') {
                return Err(self.expected("\"(\" after \"not\""));
            }
            return Ok(FilterExpr::Not(Box::new(self.group()?)));
        }
        self.comparison()
    }

    /// `"(" filter ")"`, with the cursor on the `(`.
    fn group(&mut self) -> Result<FilterExpr, FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(error(self.pos, format!("filter nests parentheses deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        self.pos += 1;
        let inner = self.or()?;
        self.skip_ws();
        if self.peek() != Some(b')') {
            return Err(self.expected("\")\""));
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(inner)
    }

    /// `attrPath SP "pr"` or `attrPath SP compareOp SP compValue`.
    fn comparison(&mut self) -> Result<FilterExpr, FilterError> {
        let pos = self.pos;
        let path = self.word();
        if !is_attr_path(path) {
            return Err(self.expected(EXPECTED_OPERAND));
        }
        self.pos += path.len();
        let path = path.to_owned();
        self.skip_ws();
        if self.eat_keyword("pr") {
            return Ok(FilterExpr::Present { path, pos });
        }
        let word = self.word();
        let Some(op) = CompareOp::ALL.iter().find(|(name, _)| word.eq_ignore_ascii_case(name)).map(|(_, op)| *op)
        else {
            return Err(self.expected(EXPECTED_OPERATOR));
        };
        self.pos += word.len();
        self.skip_ws();
        let value = self.value()?;
        Ok(FilterExpr::Compare { path, op, value, pos })
    }

    fn value(&mut self) -> Result<Literal, FilterError> {
        if self.peek() == Some(b'"') {
            return self.string().map(Literal::Str);
        }
        let word = self.word();
        let literal = match word {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            "null" => Literal::Null,
            _ if word.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
                if !is_json_number(word) {
                    return Err(self.expected("a JSON number"));
                }
                match word.parse::<f64>() {
                    Ok(n) if n.is_finite() => Literal::Num(n),
                    _ => return Err(error(self.pos, format!("number {} is out of range", quote(word)))),
                }
            }
            _ => return Err(self.expected(EXPECTED_VALUE)),
        };
        self.pos += word.len();
        Ok(literal)
    }

    /// A JSON string, with the cursor on the opening quote.
    fn string(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        let mut out = String::new();
        let mut i = open + 1;
        loop {
            let Some(c) = self.src.get(i..).and_then(|rest| rest.chars().next()) else {
                return Err(error(open, "unterminated string"));
            };
            match c {
                '"' => {
                    self.pos = i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let (decoded, len) = self.escape(open, i)?;
                    if decoded == '\0' {
                        return Err(error(i, "a string cannot hold the NUL character (\\u0000)"));
                    }
                    out.push(decoded);
                    i += len;
                }
                c if u32::from(c) < 0x20 => {
                    return Err(error(i, "control character in string; write it as an escape such as \\n or \\u0000"))
                }
                c => {
                    out.push(c);
                    i += c.len_utf8();
                }
            }
        }
    }

    /// The escape starting with the backslash at `at`: its char and length.
    fn escape(&self, open: usize, at: usize) -> Result<(char, usize), FilterError> {
        let Some(kind) = self.src.get(at + 1..).and_then(|rest| rest.chars().next()) else {
            return Err(error(open, "unterminated string"));
        };
        let simple = match kind {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.unicode_escape(at),
            other => return Err(error(at, format!("invalid escape \"\\{}\" in string", other.escape_debug()))),
        };
        Ok((simple, 2))
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, at `at`.
    fn unicode_escape(&self, at: usize) -> Result<(char, usize), FilterError> {
        let high = self.hex4(at)?;
        if (0xDC00..0xE000).contains(&high) {
            return Err(error(at, "unpaired low surrogate in \\u escape"));
        }
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).map(|c| (c, 6)).ok_or_else(|| error(at, "invalid \\u escape"));
        }
        let low_at = at + 6;
        if self.src.get(low_at..low_at + 2) != Some("\\u") {
            return Err(error(at, "unpaired high surrogate in \\u escape; expected a \\uDC00-\\uDFFF escape after it"));
        }
        let low = self.hex4(low_at)?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(error(low_at, "expected a low surrogate (\\uDC00-\\uDFFF) after a high surrogate"));
        }
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(code).map(|c| (c, 12)).ok_or_else(|| error(at, "invalid \\u escape"))
    }

    /// The four hex digits after the `\u` at `at`.
    fn hex4(&self, at: usize) -> Result<u32, FilterError> {
        self.src
            .get(at + 2..at + 6)
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|digits| u32::from_str_radix(digits, 16).ok())
            .ok_or_else(|| error(at, "invalid \\u escape; expected four hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FilterExpr::{And, Not, Or};

    fn cmp(path: &str, op: CompareOp, value: Literal, pos: usize) -> FilterExpr {
        FilterExpr::Compare { path: path.to_owned(), op, value, pos }
    }

    fn pr(path: &str, pos: usize) -> FilterExpr {
        FilterExpr::Present { path: path.to_owned(), pos }
    }

    fn b(e: FilterExpr) -> Box<FilterExpr> {
        Box::new(e)
    }

    fn parse_err(input: &str) -> (usize, String) {
        match parse_expr(input) {
            Err(e) => (e.position, e.message),
            Ok(expr) => panic!("{input:?} parsed as {expr:?}"),
        }
    }

    fn value_of(input: &str) -> Literal {
        match parse_expr(input) {
            Ok(FilterExpr::Compare { value, .. }) => value,
            other => panic!("{input:?}: {other:?}"),
        }
    }

    #[test]
    fn every_operator_in_any_case() {
        for (name, op) in CompareOp::ALL {
            for written in
                [name.to_owned(), name.to_uppercase(), format!("{}{}", &name[..1].to_uppercase(), &name[1..])]
            {
                let input = format!("email {written} \"x\"");
                assert_eq!(parse_expr(&input), Ok(cmp("email", op, Literal::Str("x".into()), 0)), "{input}");
            }
        }
        assert_eq!(parse_expr("phone pr"), Ok(pr("phone", 0)));
        assert_eq!(parse_expr("phone PR"), Ok(pr("phone", 0)));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let expected = Or(
            b(cmp("a", CompareOp::Eq, Literal::Num(1.0), 0)),
            b(And(
                b(cmp("b", CompareOp::Eq, Literal::Num(2.0), 10)),
                b(cmp("c", CompareOp::Eq, Literal::Num(3.0), 21)),
            )),
        );
        assert_eq!(parse_expr("a eq 1 or b eq 2 and c eq 3"), Ok(expected));
        let expected = Or(b(And(b(pr("a", 0)), b(pr("b", 9)))), b(pr("c", 17)));
        assert_eq!(parse_expr("a pr and b pr or c pr"), Ok(expected));
    }

    #[test]
    fn chains_are_left_associative() {
        assert_eq!(parse_expr("a pr and b pr and c pr"), Ok(And(b(And(b(pr("a", 0)), b(pr("b", 9)))), b(pr("c", 18)))));
        assert_eq!(parse_expr("a pr or b pr or c pr"), Ok(Or(b(Or(b(pr("a", 0)), b(pr("b", 8)))), b(pr("c", 16)))));
    }

    #[test]
    fn parentheses_and_not() {
        let expected = And(b(Or(b(pr("a", 1)), b(pr("b", 9)))), b(pr("c", 19)));
        assert_eq!(parse_expr("(a pr or b pr) and c pr"), Ok(expected));
        assert_eq!(parse_expr("not (a pr)"), Ok(Not(b(pr("a", 5)))));
        assert_eq!(parse_expr("NOT(a pr)"), Ok(Not(b(pr("a", 4)))));
        assert_eq!(parse_expr("((a pr))"), Ok(pr("a", 2)));
        let expected = Or(b(Not(b(And(b(pr("a", 6)), b(pr("b", 15)))))), b(pr("c", 24)));
        assert_eq!(parse_expr("Not ( a pr AND b pr) Or c pr"), Ok(expected));
    }

    #[test]
    fn whitespace_is_spaces_and_tabs() {
        assert_eq!(parse_expr(" \t a \t eq\t\t1  "), Ok(cmp("a", CompareOp::Eq, Literal::Num(1.0), 3)));
        assert_eq!(parse_expr("(a pr)and(b pr)"), Ok(And(b(pr("a", 1)), b(pr("b", 10)))));
    }

    #[test]
    fn paths_are_kept_as_written() {
        assert_eq!(parse_expr("Profile.Department pr"), Ok(pr("Profile.Department", 0)));
        assert_eq!(parse_expr("attributes.team-1_x pr"), Ok(pr("attributes.team-1_x", 0)));
        assert_eq!(parse_expr("attributes.1st pr"), Ok(pr("attributes.1st", 0)));
    }

    #[test]
    fn json_literals() {
        assert_eq!(value_of("a eq true"), Literal::Bool(true));
        assert_eq!(value_of("a eq false"), Literal::Bool(false));
        assert_eq!(value_of("a eq null"), Literal::Null);
        for (text, n) in [("0", 0.0), ("-0", 0.0), ("42", 42.0), ("-12.5", -12.5), ("1.5e3", 1500.0), ("2E-2", 0.02)] {
            assert_eq!(value_of(&format!("a eq {text}")), Literal::Num(n), "{text}");
        }
        assert_eq!(value_of(r#"a eq """#), Literal::Str(String::new()));
        assert_eq!(value_of(r#"a eq "ünï cödé 😀""#), Literal::Str("ünï cödé 😀".into()));
    }

    #[test]
    fn string_escapes() {
        let input = r#"a eq "q\" b\\ s\/ \b\f\n\r\t \u00e9\u00E9 \ud83d\ude00 \u0001""#;
        assert_eq!(value_of(input), Literal::Str("q\" b\\ s/ \u{8}\u{c}\n\r\t éé 😀 \u{1}".into()));
    }

    #[test]
    fn syntax_errors_say_what_and_where() {
        let op = "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr";
        let value = "expected a value (a JSON string, number, true, false or null)";
        let operand = r#"expected an attribute name, "not" or "(""#;
        let cases: Vec<(&str, usize, String)> = vec![
            ("", 0, "empty filter".into()),
            (" \t ", 0, "empty filter".into()),
            (r#"email xx "a""#, 6, format!(r#"{op}, found "xx""#)),
            ("email", 5, format!("{op}, found the end of the filter")),
            (r#"email "a""#, 6, format!("{op}, found a string")),
            ("email eq", 8, format!("{value}, found the end of the filter")),
            ("email eq True", 9, format!(r#"{value}, found "True""#)),
            ("email eq (", 9, format!(r#"{value}, found "(""#)),
            (r#"email eq "abc"#, 9, "unterminated string".into()),
            (r#"email eq "abc\"#, 9, "unterminated string".into()),
            ("(email pr", 9, r#"expected ")", found the end of the filter"#.into()),
            ("(email pr foo)", 10, r#"expected ")", found "foo""#.into()),
            ("email pr foo", 9, r#"unexpected "foo" after the end of the filter"#.into()),
            ("email pr)", 8, r#"unexpected ")" after the end of the filter"#.into()),
            ("not email pr", 4, r#"expected "(" after "not", found "email""#.into()),
            ("1abc eq 1", 0, format!(r#"{operand}, found "1abc""#)),
            ("a..b pr", 0, format!(r#"{operand}, found "a..b""#)),
            ("a pr and", 8, format!("{operand}, found the end of the filter")),
            ("()", 1, format!(r#"{operand}, found ")""#)),
            (r#""a" eq 1"#, 0, format!("{operand}, found a string")),
            ("a eq 01", 5, r#"expected a JSON number, found "01""#.into()),
            ("a eq 1.", 5, r#"expected a JSON number, found "1.""#.into()),
            ("a eq -", 5, r#"expected a JSON number, found "-""#.into()),
            ("a eq 1and b pr", 5, r#"expected a JSON number, found "1and""#.into()),
            ("a eq 1e999", 5, r#"number "1e999" is out of range"#.into()),
            (r#"a eq "x\qy""#, 7, r#"invalid escape "\q" in string"#.into()),
            (r#"a eq "\u12""#, 6, "invalid \\u escape; expected four hex digits".into()),
            (r#"a eq "\u+123""#, 6, "invalid \\u escape; expected four hex digits".into()),
            (r#"a eq "\udc00""#, 6, "unpaired low surrogate in \\u escape".into()),
            (
                r#"a eq "\ud83dx""#,
                6,
                "unpaired high surrogate in \\u escape; expected a \\uDC00-\\uDFFF escape after it".into(),
            ),
            (r#"a eq "\ud83d\u0041""#, 12, "expected a low surrogate (\\uDC00-\\uDFFF) after a high surrogate".into()),
            ("a eq \"x\ty\"", 7, "control character in string; write it as an escape such as \\n or \\u0000".into()),
            ("é eq 1", 0, format!(r#"{operand}, found "é""#)),
            ("a eq é", 5, format!(r#"{value}, found "é""#)),
            ("a\neq 1", 0, format!(r#"{operand}, found "a\neq""#)),
        ];
        for (input, position, message) in cases {
            assert_eq!(parse_err(input), (position, message), "{input:?}");
        }
    }
}
