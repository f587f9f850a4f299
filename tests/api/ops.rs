use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn health_endpoints() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health/live", None).await.status(), StatusCode::OK);
    assert_eq!(app.get("/health/ready", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_show_the_pool() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("metrics")).await;
    app.get(&format!("/api/v1/users/{}", s.id), Some(&s.access)).await;
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/users/{id}\""), "{text}");
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("roster_db_pool_max_size 8"), "{text}");
    assert!(!text.contains(&s.id), "ids must not become label values");
}

#[tokio::test]
async fn openapi_document_covers_every_endpoint() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json", None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/users",
        "/api/v1/users/count",
        "/api/v1/users/{id}",
        "/api/v1/users/{id}/activate",
        "/api/v1/users/{id}/deactivate",
        "/api/v1/users/{id}/ban",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn graceful_shutdown_drains_in_flight_requests() {
    // A slow hash keeps the login in flight while the server is told to stop.
    let app = TestApp::spawn_with(|c| c.auth.bcrypt_cost = 13).await;
    let email = unique_email("drain");
    app.register(&email).await;
    let (response, ()) = tokio::join!(app.login(&email, PASSWORD), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        app.handle.stop(true).await;
    });
    assert_eq!(response.status(), StatusCode::OK, "the in-flight login completes");
    assert!(app.client.get(app.url("/health/live")).send().await.is_err(), "no new requests after the stop");
}
