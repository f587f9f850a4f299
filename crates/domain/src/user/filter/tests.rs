//! Display round trips and property tests over the whole filter pipeline.
//!
//! Round trips compare ASTs with every `pos` set to 0: positions are offsets
//! in the text that was parsed, and the canonical text differs from the
//! original. A separate property checks that each reparsed `pos` points at
//! its path in the canonical text.

use proptest::prelude::*;

use super::parser::{MAX_DEPTH, MAX_LEN};
use super::{check, parse, parse_expr, CompareOp, FilterExpr, Literal};

/// `expr` with every position set to 0.
fn normalized(expr: FilterExpr) -> FilterExpr {
    match expr {
        FilterExpr::Compare { path, op, value, .. } => FilterExpr::Compare { path, op, value, pos: 0 },
        FilterExpr::Present { path, .. } => FilterExpr::Present { path, pos: 0 },
        FilterExpr::And(l, r) => FilterExpr::And(Box::new(normalized(*l)), Box::new(normalized(*r))),
        FilterExpr::Or(l, r) => FilterExpr::Or(Box::new(normalized(*l)), Box::new(normalized(*r))),
        FilterExpr::Not(inner) => FilterExpr::Not(Box::new(normalized(*inner))),
    }
}

/// Every `(path, pos)` of the leaves.
fn leaves(expr: &FilterExpr, out: &mut Vec<(String, usize)>) {
    match expr {
        FilterExpr::Compare { path, pos, .. } | FilterExpr::Present { path, pos } => out.push((path.clone(), *pos)),
        FilterExpr::And(l, r) | FilterExpr::Or(l, r) => {
            leaves(l, out);
            leaves(r, out);
        }
        FilterExpr::Not(inner) => leaves(inner, out),
    }
}

fn canonical(input: &str) -> String {
    match parse_expr(input) {
        Ok(expr) => expr.to_string(),
        Err(e) => panic!("{input:?}: {e}"),
    }
}

fn parse_err(input: &str) -> (usize, String) {
    match parse_expr(input) {
        Err(e) => (e.position, e.message),
        Ok(expr) => panic!("{input:?} parsed as {expr:?}"),
    }
}

#[test]
fn long_words_are_shortened_in_messages() {
    let input = format!("a {} 1", "x".repeat(100));
    let expected = "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr, found";
    assert_eq!(parse_err(&input).1, format!("{expected} \"{}…\"", "x".repeat(32)));
}

#[test]
fn size_limit() {
    let fits = format!("a eq \"{}\"", "x".repeat(MAX_LEN - 7));
    assert_eq!(fits.len(), MAX_LEN);
    assert!(parse_expr(&fits).is_ok());
    let too_long = format!("a eq \"{}\"", "x".repeat(MAX_LEN - 6));
    assert_eq!(parse_err(&too_long), (MAX_LEN, "filter is longer than 4096 bytes".into()));
    // The longest chains stay well within the stack.
    let chain = vec!["a pr"; MAX_LEN / 8].join(" or ");
    assert!(parse_expr(&chain).is_ok());
    let chain = vec!["email pr"; MAX_LEN / 12].join(" or ");
    assert!(parse(&chain).is_ok());
}

#[test]
fn a_nul_character_is_refused_where_it_is_written() {
    // PostgreSQL's text cannot hold U+0000: no filter may carry one to it.
    let message = "a string cannot hold the NUL character (\\u0000)".to_owned();
    assert_eq!(parse_err(r#"name eq "a\u0000b""#), (10, message.clone()));
    assert_eq!(parse_err(r#"name co "\u0000""#), (9, message));
    // A raw one is a control character, refused as such.
    assert!(parse_err("name eq \"a\u{0}b\"").1.starts_with("control character in string"));
    assert!(parse_expr(r#"name eq "a\u0001b""#).is_ok());
}

#[test]
fn depth_limit() {
    let nested = |n: usize, open: &str| format!("{}a pr{}", open.repeat(n), ")".repeat(n));
    assert!(parse_expr(&nested(MAX_DEPTH, "(")).is_ok());
    assert!(parse_expr(&nested(MAX_DEPTH, "not (")).is_ok());
    let message = "filter nests parentheses deeper than 32 levels".to_owned();
    assert_eq!(parse_err(&nested(MAX_DEPTH + 1, "(")), (MAX_DEPTH, message.clone()));
    assert_eq!(parse_err(&nested(MAX_DEPTH + 1, "not (")), (MAX_DEPTH * 5 + 4, message.clone()));
    // Far deeper than any stack would take, within the size limit.
    assert_eq!(parse_err(&"(".repeat(MAX_LEN)), (MAX_DEPTH, message));
}

#[test]
fn display_is_canonical() {
    let cases = [
        ("A EQ 1 OR b Eq 2 AND c eq 3", "A eq 1 or b eq 2 and c eq 3"),
        ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
        ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
        ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
        ("(a pr and b pr) or c pr", "a pr and b pr or c pr"),
        ("((a pr))", "a pr"),
        ("NOT(a pr or b pr)", "not (a pr or b pr)"),
        ("a   eq\ttrue and b ne null", "a eq true and b ne null"),
        (r#"a eq "\u00e9\/\"\\\n\u0001""#, "a eq \"é/\\\"\\\\\\n\\u0001\""),
        ("a eq 1.50e2", "a eq 150"),
        ("a eq -0.000001", "a eq -0.000001"),
        ("a eq 1E300", "a eq 1e300"),
        ("a eq 1.5e-7", "a eq 1.5e-7"),
        ("a eq 123456789012345678901234", "a eq 1.2345678901234569e23"),
    ];
    for (input, expected) in cases {
        assert_eq!(canonical(input), expected, "{input:?}");
    }
}

#[test]
fn display_of_non_finite_numbers_is_null() {
    let expr = FilterExpr::Compare { path: "a".into(), op: CompareOp::Eq, value: Literal::Num(f64::NAN), pos: 0 };
    assert_eq!(expr.to_string(), "a eq null");
}

#[test]
fn parse_is_parse_expr_then_check() {
    assert!(parse(r#"email ew "@example.com" and (status eq "active" or not (last_login_at pr))"#).is_ok());
    assert_eq!(parse("").map_err(|e| e.to_string()), Err("empty filter at position 0".to_owned()));
    assert_eq!(parse("nope pr").map_err(|e| e.position), Err(0));
}

const PATHS: [&str; 12] = [
    "email",
    "EMAIL",
    "status",
    "email_verified",
    "created_at",
    "profile.birthdate",
    "Profile.Department",
    "id",
    "org_id",
    "role",
    "attributes.team",
    "attributes.level",
];

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(&PATHS[..]).prop_map(str::to_owned),
        2 => "[A-Za-z][A-Za-z0-9_-]{0,8}(\\.[A-Za-z0-9_-]{1,8}){0,2}".prop_filter("\"not\" starts a negation", |p| !p.eq_ignore_ascii_case("not")),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    proptest::sample::select(CompareOp::ALL.map(|(_, op)| op).to_vec())
}

fn literal() -> impl Strategy<Value = Literal> {
    let finite = proptest::num::f64::POSITIVE
        | proptest::num::f64::NEGATIVE
        | proptest::num::f64::NORMAL
        | proptest::num::f64::SUBNORMAL
        | proptest::num::f64::ZERO;
    prop_oneof![
        "[\"\\\\/a-zA-Z0-9 \\t\\n\\u{1}-\\u{1f}é€😀\\u{7f}\\u{2028}]{0,12}".prop_map(Literal::Str),
        any::<String>().prop_map(|s| Literal::Str(s.chars().filter(|c| *c != '\0').take(12).collect())),
        proptest::sample::select(vec![
            "active",
            "2024-01-31",
            "2024-01-31T12:00:00Z",
            "1990-05-17",
            "0191e4c4-7b3a-7c1e-9a57-3f4b8f2f1a01"
        ])
        .prop_map(|s| Literal::Str(s.to_owned())),
        finite.prop_map(Literal::Num),
        (-1000i32..1000).prop_map(|n| Literal::Num(f64::from(n))),
        any::<bool>().prop_map(Literal::Bool),
        Just(Literal::Null),
    ]
}

fn expr() -> impl Strategy<Value = FilterExpr> {
    let leaf = prop_oneof![
        (path(), op(), literal()).prop_map(|(path, op, value)| FilterExpr::Compare { path, op, value, pos: 0 }),
        path().prop_map(|path| FilterExpr::Present { path, pos: 0 }),
    ];
    leaf.prop_recursive(6, 40, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| FilterExpr::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| FilterExpr::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|e| FilterExpr::Not(Box::new(e))),
        ]
    })
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "", " ", "(", ")", "not", "NOT", "and", "Or", "pr", "eq", "ne", "co", "gt", "le", "true", "false", "null",
            "\"", "\\", "\\u", "\\ud83d", "\\udc00", "\\u00e9", "\"\\\"\"", ".", "-", "0", "01", "1e999", "-1.5e3",
            "é", "😀", "\u{0}", "\n",
        ])
        .prop_map(str::to_owned),
        path(),
        literal().prop_map(|l| l.to_string()),
    ]
}

/// Text made of filter tokens, valid or nearly so: random token sequences,
/// and canonical filters with a token spliced in somewhere.
fn filterish() -> impl Strategy<Value = String> {
    let separator = proptest::sample::select(vec!["", " ", "  ", "\t"]);
    let sequence = proptest::collection::vec((token(), separator), 0..24)
        .prop_map(|parts| parts.into_iter().map(|(t, s)| format!("{t}{s}")).collect());
    let spliced = (expr(), any::<proptest::sample::Index>(), token()).prop_map(|(expr, at, token)| {
        let text = expr.to_string();
        let mut cut = at.index(text.len() + 1);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}{token}{}", &text[..cut], &text[cut..])
    });
    prop_oneof![sequence, spliced]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_arbitrary_text(input in "\\PC{0,200}") {
        let _ = parse(&input);
    }

    #[test]
    fn parse_never_panics_on_filterish_text(input in filterish()) {
        if let Ok(expr) = parse_expr(&input) {
            // Whatever parses has a canonical text that parses to the same tree.
            let text = expr.to_string();
            prop_assert_eq!(parse_expr(&text).map(normalized), Ok(normalized(expr.clone())));
            let _ = check(expr);
        }
    }

    #[test]
    fn display_round_trips(expr in expr()) {
        let text = expr.to_string();
        prop_assume!(text.len() <= 4096);
        let reparsed = parse_expr(&text);
        prop_assert_eq!(reparsed.clone().map(normalized), Ok(expr), "{}", text);
        let mut found = Vec::new();
        if let Ok(reparsed) = &reparsed {
            leaves(reparsed, &mut found);
        }
        for (path, pos) in found {
            prop_assert!(text.get(pos..).is_some_and(|rest| rest.starts_with(&path)), "{} at {} in {}", path, pos, text);
        }
    }

    #[test]
    fn check_never_panics(expr in expr()) {
        let _ = check(expr);
    }
}
