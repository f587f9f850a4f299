//! The directory query language over HTTP: filter operators and combinators,
//! projection, sorting, offset and keyset paging, `q`, and their errors.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// An admin and a small, varied directory.
async fn seeded() -> (TestApp, Session) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let people = [
        (
            "ada@corp.example",
            "Ada Lovelace",
            "Ada",
            "Lovelace",
            "en",
            "R&D",
            json!({"team": "core", "level": 3, "remote": true}),
        ),
        (
            "grace@corp.example",
            "Grace Hopper",
            "Grace",
            "Hopper",
            "en-US",
            "R&D",
            json!({"team": "compilers", "level": 5}),
        ),
        ("soren@corp.example", "Søren Kierkegaard", "Søren", "Kierkegaard", "da", "Philosophy", json!({"level": 2})),
        ("zoe@other.example", "Zoë Ångström", "Zoë", "Ångström", "fr", "Sales", json!({"team": "emea"})),
        ("nameless@other.example", "", "", "", "de", "", json!({})),
    ];
    for (email, name, given, family, locale, dept, attrs) in people {
        let mut body = json!({"email": email, "password": PASSWORD, "locale": locale, "attributes": attrs});
        if !name.is_empty() {
            body["name"] = json!(name);
            body["given_name"] = json!(given);
            body["family_name"] = json!(family);
            body["profile"] = json!({"department": dept, "birthdate": "1990-01-01"});
        }
        let r = app.post("/api/v1/users", Some(&admin.access), body).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{email}");
    }
    (app, admin)
}

async fn emails(app: &TestApp, admin: &Session, query: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/users?per_page=100&sort=email&{query}"), Some(&admin.access)).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    let body: Value = r.json().await.unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .filter(|e| e.ends_with(".example"))
        .collect()
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn filter(app: &TestApp, admin: &Session, f: &str) -> Vec<String> {
    emails(app, admin, &format!("filter={}", enc(f))).await
}

#[tokio::test]
async fn every_operator_and_combinator() {
    let (app, admin) = seeded().await;
    let a = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(filter(&app, &admin, r#"email eq "ADA@corp.example""#).await, a(&["ada@corp.example"]));
    assert_eq!(filter(&app, &admin, r#"email ne "ada@corp.example""#).await.len(), 4);
    assert_eq!(filter(&app, &admin, r#"name co "love""#).await, a(&["ada@corp.example"]));
    assert_eq!(filter(&app, &admin, r#"email sw "g""#).await, a(&["grace@corp.example"]));
    assert_eq!(
        filter(&app, &admin, r#"email ew "other.example""#).await,
        a(&["nameless@other.example", "zoe@other.example"])
    );
    // Orderings on ASCII names (non-ASCII order depends on the collation).
    let corp = r#"email ew "corp.example""#;
    assert_eq!(
        filter(&app, &admin, &format!(r#"family_name gt "kierkegaard" and {corp}"#)).await,
        a(&["ada@corp.example"])
    );
    assert_eq!(
        filter(&app, &admin, &format!(r#"family_name ge "LOVELACE" and {corp}"#)).await,
        a(&["ada@corp.example"])
    );
    assert_eq!(
        filter(&app, &admin, &format!(r#"family_name lt "kierkegaard" and {corp}"#)).await,
        a(&["grace@corp.example"])
    );
    assert_eq!(
        filter(&app, &admin, &format!(r#"family_name le "kierkegaard" and {corp}"#)).await,
        a(&["grace@corp.example", "soren@corp.example"])
    );
    assert_eq!(filter(&app, &admin, "name pr").await.len(), 4);
    assert_eq!(filter(&app, &admin, "not (name pr)").await, a(&["nameless@other.example"]));
    assert_eq!(filter(&app, &admin, "name eq null").await, a(&["nameless@other.example"]));
    assert_eq!(
        filter(&app, &admin, r#"profile.department eq "r&d" and locale sw "en""#).await,
        a(&["ada@corp.example", "grace@corp.example"])
    );
    assert_eq!(
        filter(&app, &admin, r#"locale eq "da" or locale eq "fr""#).await,
        a(&["soren@corp.example", "zoe@other.example"])
    );
    assert_eq!(
        filter(&app, &admin, r#"(locale eq "da" or locale eq "fr") and not (email ew "other.example")"#).await,
        a(&["soren@corp.example"])
    );
    assert_eq!(filter(&app, &admin, r#"attributes.team eq "core""#).await, a(&["ada@corp.example"]));
    assert_eq!(filter(&app, &admin, "attributes.level gt 2").await, a(&["ada@corp.example", "grace@corp.example"]));
    assert_eq!(filter(&app, &admin, "attributes.remote eq true").await, a(&["ada@corp.example"]));
    assert_eq!(filter(&app, &admin, "attributes.team pr").await.len(), 3);
    assert_eq!(filter(&app, &admin, r#"status eq "active" and email_verified eq false"#).await.len(), 5);
    assert_eq!(
        filter(&app, &admin, r#"created_at gt "2000-01-01" and profile.birthdate lt "1991-01-01""#).await.len(),
        4
    );
    assert_eq!(filter(&app, &admin, r#"role eq "member""#).await.len(), 5);
    assert!(filter(&app, &admin, r#"role eq "admin""#).await.is_empty());
    let org = roster_domain::DEFAULT_ORG_ID;
    assert_eq!(filter(&app, &admin, &format!(r#"org_id eq "{org}""#)).await.len(), 5);
    // Shortcuts: a comma list is "any of", and they AND with the filter.
    assert_eq!(
        emails(&app, &admin, "email=ada@corp.example,zoe@other.example").await,
        a(&["ada@corp.example", "zoe@other.example"])
    );
    assert_eq!(emails(&app, &admin, "status=active,banned&email=grace@corp.example").await, a(&["grace@corp.example"]));
    let r = app.get("/api/v1/users?locale=da", Some(&admin.access)).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
}

#[tokio::test]
async fn count_takes_the_same_filter() {
    let (app, admin) = seeded().await;
    let r = app
        .get(&format!("/api/v1/users/count?filter={}", enc(r#"email ew "corp.example""#)), Some(&admin.access))
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["count"], 3);
}

#[tokio::test]
async fn q_matches_non_ascii_names_case_insensitively() {
    let (app, admin) = seeded().await;
    assert_eq!(emails(&app, &admin, &format!("q={}", enc("ångström"))).await, vec!["zoe@other.example"]);
    assert_eq!(emails(&app, &admin, &format!("q={}", enc("SØREN"))).await, vec!["soren@corp.example"]);
    assert_eq!(emails(&app, &admin, "q=%25").await, Vec::<String>::new(), "% is literal, not a wildcard");
}

#[tokio::test]
async fn projection_keeps_id_and_the_named_fields() {
    let (app, admin) = seeded().await;
    let body: Value =
        app.get("/api/v1/users?fields=email,name&per_page=3", Some(&admin.access)).await.json().await.unwrap();
    for u in body["data"].as_array().unwrap() {
        let keys: HashSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, HashSet::from(["id", "email", "name"]));
    }
    problem(
        app.get("/api/v1/users?fields=email,password_hash", Some(&admin.access)).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn malformed_and_unknown_filters_are_400_with_position() {
    let (app, admin) = seeded().await;
    let cases = [
        (r#"email eq"#, "expected"),
        (r#"email xx "a""#, "comparison operator"),
        (r#"pasword eq "x""#, "email"),
        (r#"status gt "active""#, "eq"),
        (r#"(email eq "a""#, ")"),
    ];
    for (f, needle) in cases {
        let r = app.get(&format!("/api/v1/users?filter={}", enc(f)), Some(&admin.access)).await;
        let body = problem(r, StatusCode::BAD_REQUEST, "invalid_filter").await;
        let msg = body["errors"]["filter"][0].as_str().unwrap();
        assert!(msg.contains("position") && msg.contains(needle), "{f}: {msg}");
    }
    problem(
        app.get("/api/v1/users?after=forged.cursor", Some(&admin.access)).await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
    problem(
        app.get("/api/v1/users?sort=password", Some(&admin.access)).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

/// Follows `links.next` from `first` and returns the ids in order.
async fn walk(
    app: &TestApp,
    admin: &Session,
    first: &str,
    mut between: impl FnMut(usize) -> Option<Value>,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(path) = next {
        let r = app.get(&path, Some(&admin.access)).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let body: Value = r.json().await.unwrap();
        ids.extend(body["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()));
        next = body["links"]["next"].as_str().map(String::from);
        pages += 1;
        if let Some(new_user) = between(pages) {
            assert_eq!(app.post("/api/v1/users", Some(&admin.access), new_user).await.status(), StatusCode::CREATED);
        }
        assert!(pages < 100, "runaway paging");
    }
    ids
}

#[tokio::test]
async fn sorts_are_stable_across_offset_and_keyset_pages() {
    let (app, admin) = seeded().await;
    for i in 0..12 {
        let name = if i % 3 == 0 { json!(null) } else { json!(format!("Same {}", i % 2)) };
        let r = app
            .post(
                "/api/v1/users",
                Some(&admin.access),
                json!({"email": format!("bulk{i:02}@bulk.example"), "password": PASSWORD, "name": name}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    for sort in ["name", "-name,email", "-created_at", "status,-email", "last_login_at"] {
        let all: Value = app
            .get(&format!("/api/v1/users?per_page=100&sort={sort}"), Some(&admin.access))
            .await
            .json()
            .await
            .unwrap();
        let expected: Vec<String> =
            all["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
        let by_offset = walk(&app, &admin, &format!("/api/v1/users?per_page=4&sort={sort}"), |_| None).await;
        assert_eq!(by_offset, expected, "offset pages, sort={sort}");
        let by_cursor = walk(&app, &admin, &format!("/api/v1/users?per_page=4&sort={sort}&after="), |_| None).await;
        assert_eq!(by_cursor, expected, "keyset pages, sort={sort}");
    }
}

#[tokio::test]
async fn keyset_paging_neither_skips_nor_repeats_while_rows_are_inserted() {
    let (app, admin) = seeded().await;
    for i in 0..15 {
        app.post(
            "/api/v1/users",
            Some(&admin.access),
            json!({"email": format!("pre{i:02}@walk.example"), "password": PASSWORD}),
        )
        .await;
    }
    let before: Value =
        app.get("/api/v1/users?per_page=100&sort=email", Some(&admin.access)).await.json().await.unwrap();
    let existing: Vec<String> =
        before["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
    let seen = walk(&app, &admin, "/api/v1/users?per_page=3&sort=email&after=", |page| {
        // Rows that sort before, between and after the pages being read.
        Some(json!({"email": format!("{}{page:02}@walk.example", ["a", "pre05x", "zz"][page % 3]), "password": PASSWORD}))
    })
    .await;
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no row repeats");
    for id in &existing {
        assert!(unique.contains(id), "pre-existing row {id} was skipped");
    }
}

#[tokio::test]
async fn keyset_meta_and_total_on_request() {
    let (app, admin) = seeded().await;
    let body: Value = app.get("/api/v1/users?after=&per_page=2", Some(&admin.access)).await.json().await.unwrap();
    assert!(body["meta"]["page"].is_null() && body["meta"]["total"].is_null());
    assert!(body["links"]["next"].as_str().unwrap().contains("after="));
    let body: Value =
        app.get("/api/v1/users?after=&per_page=2&total=true", Some(&admin.access)).await.json().await.unwrap();
    assert_eq!(body["meta"]["total"], 7);
    // Offset pages can skip the count too.
    let uncounted: Value =
        app.get("/api/v1/users?per_page=2&total=false", Some(&admin.access)).await.json().await.unwrap();
    assert!(uncounted["meta"]["total"].is_null() && uncounted["links"]["last"].is_null());
    assert_eq!(uncounted["meta"]["page"], 1);
    assert!(uncounted["links"]["next"].as_str().unwrap().contains("page=2"));
    // A cursor is tied to its sort.
    let next = body["links"]["next"].as_str().unwrap().replace("per_page=2", "per_page=2&sort=-email");
    problem(app.get(&next, Some(&admin.access)).await, StatusCode::BAD_REQUEST, "invalid_cursor").await;
}
