//! Hostile input at the readers: every string a request can carry, in a
//! body or a query, is refused with U+0000 in it before the domain sees it
//! (PostgreSQL's text cannot hold one), and a JSON array never fills an
//! object-typed member.
//!
//! The strings are found in the app's own OpenAPI document, so a new
//! operation or field is covered the day it is documented.

use std::collections::BTreeSet;

use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::TestRunner,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::helpers::*;

/// A place a string goes: a query parameter, or a member of the JSON body
/// (`a.b[0].c`, with `[0]` for an array item and `.k` for a map's value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Query(String),
    Body(String),
}

#[derive(Debug, Clone)]
struct Case {
    method: Method,
    path: String,
    place: Place,
}

fn document() -> Value {
    serde_json::to_value(roster_http::openapi::document()).unwrap()
}

/// `#/components/schemas/X` resolved, anything else as it is.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/components/schemas/")
            .and_then(|name| doc["components"]["schemas"].get(name))
            .unwrap_or(schema),
        None => schema,
    }
}

fn has_type(schema: &Value, ty: &str) -> bool {
    match &schema["type"] {
        Value::String(t) => t == ty,
        Value::Array(ts) => ts.iter().any(|t| t == ty),
        _ => false,
    }
}

/// Every place under `schema` (at `path`) that takes a string.
fn strings(doc: &Value, schema: &Value, path: &str, depth: usize, out: &mut BTreeSet<String>) {
    if depth > 8 {
        return;
    }
    let schema = resolve(doc, schema);
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in schema[key].as_array().into_iter().flatten() {
            strings(doc, part, path, depth + 1, out);
        }
    }
    if has_type(schema, "string") && !path.is_empty() {
        out.insert(path.to_string());
    }
    for (name, member) in schema["properties"].as_object().into_iter().flatten() {
        let inner = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
        strings(doc, member, &inner, depth + 1, out);
    }
    match &schema["additionalProperties"] {
        Value::Bool(true) => {
            out.insert(format!("{path}.k"));
        }
        extra @ Value::Object(o) => {
            if o.is_empty() {
                out.insert(format!("{path}.k"));
            } else {
                strings(doc, extra, &format!("{path}.k"), depth + 1, out);
            }
        }
        // A free-form object (`attributes`): any member, any value.
        Value::Null if has_type(schema, "object") && schema.get("properties").is_none() => {
            out.insert(format!("{path}.k"));
        }
        _ => {}
    }
    if has_type(schema, "array") {
        if let Some(items) = schema.get("items") {
            strings(doc, items, &format!("{path}[0]"), depth + 1, out);
        }
    }
}

/// Every (operation, string place) of the document.
fn cases(doc: &Value) -> Vec<Case> {
    let mut cases = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let mut places = BTreeSet::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = resolve(doc, p);
                if p["in"] == "query" && has_type(resolve(doc, &p["schema"]), "string") {
                    places.insert(Place::Query(p["name"].as_str().unwrap().to_string()));
                }
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                let mut found = BTreeSet::new();
                strings(doc, schema, "", 0, &mut found);
                places.extend(found.into_iter().map(Place::Body));
            }
            cases.extend(places.into_iter().map(|place| Case { method: method.clone(), path: path.clone(), place }));
        }
    }
    cases
}

/// A JSON object with `value` at `path` (`a.b[0].c`).
fn body_with(path: &str, value: Value) -> Value {
    let mut segments = Vec::new();
    for part in path.split('.') {
        match part.strip_suffix("[0]") {
            Some(name) => {
                segments.push(Some(name.to_string()));
                segments.push(None);
            }
            None => segments.push(Some(part.to_string())),
        }
    }
    segments.into_iter().rev().fold(value, |inner, segment| match segment {
        Some(name) => Value::Object(Map::from_iter([(name, inner)])),
        None => Value::Array(vec![inner]),
    })
}

/// Percent-encodes a query value (every byte outside the unreserved set).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn the_document_has_strings_in_bodies_and_queries() {
    let doc = document();
    let cases = cases(&doc);
    let body = cases.iter().filter(|c| matches!(c.place, Place::Body(_))).count();
    let query = cases.iter().filter(|c| matches!(c.place, Place::Query(_))).count();
    // Enough that a broken walk of the document cannot pass unnoticed.
    assert!(body > 60 && query > 20, "{body} body strings, {query} query strings");
    let has = |m: Method, p: &str, place: Place| cases.iter().any(|c| c.method == m && c.path == p && c.place == place);
    assert!(has(Method::POST, "/api/v1/users", Place::Body("attributes.k".into())));
    assert!(has(Method::PATCH, "/api/v1/me", Place::Body("profile.gender".into())));
    assert!(has(Method::GET, "/api/v1/users", Place::Query("filter".into())));
    assert!(has(Method::GET, "/api/v1/users/count", Place::Query("q".into())));
}

/// Property: for every string place of every documented operation, and any
/// text around a NUL, the answer is 422 (body) or 400 (query) naming the place.
#[tokio::test]
async fn a_nul_anywhere_is_refused_naming_its_place() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let doc = document();
    let mut runner = TestRunner::default();
    let around = "[^\u{0}]{0,6}";
    let mut failures = Vec::new();
    for case in cases(&doc) {
        let (before, after) = ((around, around).new_tree(&mut runner).unwrap()).current();
        let text = format!("{before}\u{0}{after}");
        let path = case.path.split('/').map(|s| if s.starts_with('{') { DEFAULT_ORG } else { s }).collect::<Vec<_>>();
        let mut path = path.join("/");
        // Logging out with a valid token would end the session the sweep runs on.
        let token = (case.path != "/api/v1/auth/logout").then_some(root.access.as_str());
        let (body, field, want, code) = match &case.place {
            Place::Query(name) => {
                path = format!("{path}?{name}={}", encode(&text));
                (None, name.clone(), StatusCode::BAD_REQUEST, "invalid_query")
            }
            Place::Body(member) => (
                Some(body_with(member, Value::String(text.clone()))),
                member.clone(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
        };
        let r = app.call(case.method.clone(), &path, token, body).await;
        let status = r.status();
        let answer: Value = r.json().await.unwrap_or(Value::Null);
        if status != want || answer["code"] != code || answer["errors"][&field].is_null() {
            failures.push(format!("{} {path} {:?} with {text:?}: {status} {answer}", case.method, case.place));
        }
    }
    assert!(failures.is_empty(), "{} refused wrongly:\n{}", failures.len(), failures.join("\n"));
}

const DEFAULT_ORG: &str = "00000000-0000-7000-8000-000000000001";

#[tokio::test]
async fn a_nul_in_a_member_name_is_refused_too() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let r =
        app.call(Method::PATCH, "/api/v1/me", Some(&root.access), Some(json!({"attributes": {"a\u{0}b": 1}}))).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["attributes.a\\u{0}b"].is_array(), "{body}");
    let r = app.get("/api/v1/users?na%00me=x", Some(&root.access)).await;
    let body = problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert!(body["errors"]["na\\u{0}me"].is_array(), "{body}");
}

#[tokio::test]
async fn arrays_never_fill_objects() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&root.access),
            Some(json!({"profile": ["1990-01-02", "nonbinary", "they/them"]})),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["profile"].is_array(), "{body}");
    // Nothing was written.
    let me: Value = app.get("/api/v1/me", Some(&root.access)).await.json().await.unwrap();
    assert!(me["profile"]["gender"].is_null(), "{me}");
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{DEFAULT_ORG}"),
            Some(&root.access),
            Some(json!({"password_policy": [12, 64]})),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["password_policy"].is_array(), "{body}");
}

#[tokio::test]
async fn an_empty_list_filter_is_not_an_absent_one() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    for param in ["org_id", "location_id", "status", "role", "email"] {
        for path in ["/api/v1/users", "/api/v1/users/count"] {
            let r = app.get(&format!("{path}?{param}="), Some(&root.access)).await;
            let body = problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
            assert!(body["errors"][param].is_array(), "{path} {param}: {body}");
        }
    }
    for (path, param) in [
        ("/api/v1/permissions", "org_id"),
        ("/api/v1/users", "page"),
        ("/api/v1/users", "total"),
        ("/api/v1/orgs", "per_page"),
        ("/api/v1/outbox", "status"),
        ("/api/v1/invitations", "status"),
    ] {
        let r = app.get(&format!("{path}?{param}=%20"), Some(&root.access)).await;
        let body = problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
        assert!(body["errors"][param].is_array(), "{path} {param}: {body}");
    }
}

#[tokio::test]
async fn a_null_logout_body_is_an_absent_one() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::POST, "/api/v1/auth/logout", None, Some(Value::Null)).await;
    problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let r = app.call(Method::POST, "/api/v1/auth/logout", Some("not-a-token"), Some(Value::Null)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
