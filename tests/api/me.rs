use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn me_reads_and_patches_profile_fields() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("me")).await;
    let r = app.get("/api/v1/me", Some(&s.access)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .call(Method::PATCH, "/api/v1/me", Some(&s.access), Some(json!({"name": "Ada", "timezone": "Europe/Copenhagen", "profile": {"department": "R&D", "birthdate": "1990-12-10"}, "attributes": {"badge": 42}})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["name"], "Ada");
    assert_eq!(body["timezone"], "Europe/Copenhagen");
    assert_eq!(body["profile"]["department"], "R&D");
    assert_eq!(body["profile"]["birthdate"], "1990-12-10");
    assert_eq!(body["attributes"]["badge"], 42);
    // null clears, absent keeps.
    let r = app.call(Method::PATCH, "/api/v1/me", Some(&s.access), Some(json!({"name": null}))).await;
    let body: Value = r.json().await.unwrap();
    assert!(body["name"].is_null());
    assert_eq!(body["timezone"], "Europe/Copenhagen");
}

#[tokio::test]
async fn me_cannot_set_email_status_role_or_password() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("me2")).await;
    for (field, value) in [
        ("email", json!("x@example.com")),
        ("status", json!("active")),
        ("role", json!("admin")),
        ("password", json!("new password")),
        ("is_superadmin", json!(true)),
    ] {
        let r = app.call(Method::PATCH, "/api/v1/me", Some(&s.access), Some(json!({ field: value }))).await;
        let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    let me: Value = app.get("/api/v1/me", Some(&s.access)).await.json().await.unwrap();
    assert_eq!(me["role"], "member");
    assert_eq!(me["is_superadmin"], false);
}

#[tokio::test]
async fn future_birthdate_and_bad_locale_are_422() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("me3")).await;
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&s.access),
            Some(json!({"locale": "not a locale", "profile": {"birthdate": "2999-01-01"}, "phone": "call me"})),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    for f in ["locale", "profile.birthdate", "phone"] {
        assert!(body["errors"][f].is_array(), "{f}: {body}");
    }
}

#[tokio::test]
async fn change_password_needs_the_current_one_and_revokes_other_sessions() {
    let app = TestApp::spawn().await;
    let email = unique_email("pw");
    let first = app.register(&email).await;
    let second = app.login_ok(&email).await;
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&first.access),
            json!({"current_password": "wrong wrong", "new_password": "a brand new password"}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["current_password"].is_array());
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&first.access),
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // This session lives on; the other one is gone.
    assert_eq!(app.get("/api/v1/me", Some(&first.access)).await.status(), StatusCode::OK);
    problem(app.get("/api/v1/me", Some(&second.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(app.login(&email, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(app.login(&email, "a brand new password").await.status(), StatusCode::OK);
}
