use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "malformed_json").await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("email=a")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
}

#[tokio::test]
async fn oversize_body_is_413() {
    let app = TestApp::spawn().await;
    let big = json!({"email": "a@example.com", "password": "x".repeat(200 * 1024)});
    let r = app.post("/api/v1/auth/login", None, big).await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let r = app.post("/api/v1/auth/register", None, json!({"email": 42, "password": PASSWORD})).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["email"].is_array(), "{body}");
    let r = app
        .post("/api/v1/auth/register", None, json!({"email": unique_email("u"), "password": PASSWORD, "role": "admin"}))
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["role"].is_array(), "{body}");
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    problem(app.get("/api/v1/nothing-here", None).await, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.call(Method::DELETE, "/api/v1/auth/login", None, None).await;
    let allow = r.headers().get("allow").expect("Allow header").to_str().unwrap().to_string();
    assert!(allow.contains("POST"), "{allow}");
    problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/health/live")).header("x-request-id", "trace-abc.123").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-abc.123");
    let r = app.client.get(app.url("/health/live")).header("x-request-id", "bad id with spaces").send().await.unwrap();
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!generated.is_empty() && !generated.contains(' '));
    let r = app.client.get(app.url("/api/v1/me")).header("x-request-id", "req-42").send().await.unwrap();
    let body = problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(body["request_id"], "req-42");
}

#[tokio::test]
async fn a_database_that_goes_away_gives_503_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.database.acquire_timeout_ms = 500).await;
    let s = app.register(&unique_email("down")).await;
    app.db.take_down().await.unwrap();
    let r = app.get("/api/v1/me", Some(&s.access)).await;
    assert_eq!(r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()), Some("5".into()));
    problem(r, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    let r = app.get("/health/ready", None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    app.db.restore().await.unwrap();
    // Back again without a restart.
    let mut ok = false;
    for _ in 0..50 {
        if app.get("/api/v1/me", Some(&s.access)).await.status() == StatusCode::OK {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok, "recovers once the database is back");
}

#[tokio::test]
async fn a_refusal_names_its_rule_and_the_missing_permission() {
    let app = TestApp::spawn().await;
    let member = app.member().await;
    let r = app
        .post("/api/v1/users", Some(&member.access), json!({"email": unique_email("x"), "password": PASSWORD}))
        .await;
    let body = problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(body["reason"], "missing_permission", "{body}");
    assert_eq!(body["permission"], "users:write", "{body}");
    // A rule that is not a permission names only itself.
    let admin = app.admin().await;
    let r = app.call(Method::POST, &format!("/api/v1/users/{}/ban", admin.id), Some(&admin.access), None).await;
    let body = problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(body["reason"], "not_yourself", "{body}");
    assert!(body.get("permission").is_none(), "{body}");
    // An impossible state names its rule too.
    let root = app.superadmin().await;
    let default_org = roster_domain::DEFAULT_ORG_ID;
    let r = app.call(Method::DELETE, &format!("/api/v1/orgs/{default_org}"), Some(&root.access), None).await;
    let body = problem(r, StatusCode::CONFLICT, "invalid_state").await;
    assert_eq!(body["reason"], "default_org_permanent", "{body}");
}
