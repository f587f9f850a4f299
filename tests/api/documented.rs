//! The documented statuses are the statuses: every answer an end-to-end test
//! gets from a documented operation must carry a status that the
//! operation's OpenAPI entry lists. [`TestApp::call`](crate::helpers::TestApp::call)
//! checks every request it sends, so each test here doubles as a probe of
//! the document, and the authorization matrix reports what it finds among
//! its own failures.
//!
//! The document is the app's own (`roster_http::openapi::document`, the one
//! served at `/api/v1/openapi.json`). A request to a path or method the
//! document does not have is not checked: routing answers those (`404`,
//! `405`) the same way everywhere.

use std::{collections::BTreeSet, sync::OnceLock};

use reqwest::{Method, StatusCode};

/// One documented operation: its method, path template and statuses.
struct Operation {
    method: String,
    template: Vec<String>,
    statuses: BTreeSet<String>,
}

fn operations() -> &'static [Operation] {
    static OPERATIONS: OnceLock<Vec<Operation>> = OnceLock::new();
    OPERATIONS.get_or_init(|| {
        let doc = serde_json::to_value(roster_http::openapi::document()).expect("the document serializes");
        let paths = doc["paths"].as_object().expect("the document has paths");
        let mut ops = Vec::new();
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(responses) = op.get("responses").and_then(|r| r.as_object()) else { continue };
                ops.push(Operation {
                    method: method.to_uppercase(),
                    template: segments(path).map(str::to_owned).collect(),
                    statuses: responses.keys().cloned().collect(),
                });
            }
        }
        ops
    })
}

/// The segments of a path; a trailing `/` is a segment of its own, so
/// `/docs/` is not `/docs`.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// How well `template` matches the concrete `path`: `None` if it does not,
/// else the number of literal segments (so `/users/count` beats `/users/{id}`).
fn fit(template: &[String], path: &[&str]) -> Option<usize> {
    if template.len() != path.len() {
        return None;
    }
    let mut literal = 0;
    for (t, p) in template.iter().zip(path) {
        if t.starts_with('{') && t.ends_with('}') {
            continue;
        }
        if t != p {
            return None;
        }
        literal += 1;
    }
    Some(literal)
}

/// `Err` describing the mismatch when `status`, answered to `method` on
/// `url` (a path, with or without a query), is not one the matching
/// operation documents.
pub fn check(method: &Method, url: &str, status: StatusCode) -> Result<(), String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path: Vec<&str> = segments(path).collect();
    let best = operations()
        .iter()
        .filter(|op| op.method == method.as_str())
        .filter_map(|op| fit(&op.template, &path).map(|score| (score, op)))
        .max_by_key(|(score, _)| *score);
    let Some((_, op)) = best else { return Ok(()) };
    let code = status.as_u16().to_string();
    if op.statuses.contains(&code) || op.statuses.contains("default") {
        return Ok(());
    }
    Err(format!(
        "{method} /{} answered {status}, which its OpenAPI entry does not list (it lists {})",
        op.template.join("/"),
        op.statuses.iter().cloned().collect::<Vec<_>>().join(", ")
    ))
}

#[test]
fn the_most_literal_template_wins_and_undocumented_statuses_are_caught() {
    assert!(check(&Method::GET, "/api/v1/users/count?status=active", StatusCode::OK).is_ok());
    let err = check(&Method::GET, "/api/v1/users/0190?x=1", StatusCode::IM_A_TEAPOT).unwrap_err();
    assert!(err.starts_with("GET /api/v1/users/{id} answered 418"), "{err}");
    // Paths and methods the document does not have are routing's, not checked.
    assert!(check(&Method::GET, "/api/v1/nowhere", StatusCode::NOT_FOUND).is_ok());
    assert!(check(&Method::GET, "/docs/", StatusCode::OK).is_ok());
    assert!(check(&Method::GET, "/docs", StatusCode::OK).is_err());
    assert!(check(&Method::PUT, "/api/v1/me", StatusCode::METHOD_NOT_ALLOWED).is_ok());
}
