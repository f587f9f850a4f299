use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn register_returns_user_and_tokens() {
    let app = TestApp::spawn().await;
    let email = unique_email("Ada");
    let r = app.post("/api/v1/auth/register", None, json!({"email": email.replace("@example.com", "@EXAMPLE.com"), "password": PASSWORD, "name": "Ada Lovelace", "locale": "en-gb"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], email.as_str());
    assert_eq!(body["user"]["locale"], "en-GB");
    assert_eq!(body["user"]["status"], "active");
    assert_eq!(body["user"]["role"], "member");
    assert!(body["user"].get("password").is_none() && body["user"].get("password_hash").is_none());
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
}

#[tokio::test]
async fn duplicate_email_in_any_case_is_409() {
    let app = TestApp::spawn().await;
    let email = unique_email("dup");
    app.register(&email).await;
    let r = app.post("/api/v1/auth/register", None, json!({"email": email.to_uppercase(), "password": PASSWORD})).await;
    problem(r, StatusCode::CONFLICT, "email_taken").await;
}

#[tokio::test]
async fn invalid_registration_lists_every_bad_field() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/api/v1/auth/register", None, json!({"email": "nope", "password": "short", "timezone": "Mars/Olympus"}))
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    for field in ["email", "password", "timezone"] {
        assert!(body["errors"][field].is_array(), "{field} missing in {body}");
    }
}

#[tokio::test]
async fn weak_and_overlong_passwords_are_refused() {
    let app = TestApp::spawn_with(|c| {
        c.auth.password.require_digit = true;
        c.auth.password.require_symbol = true;
    })
    .await;
    let weak =
        app.post("/api/v1/auth/register", None, json!({"email": unique_email("w"), "password": "abcdefgh"})).await;
    let body = problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"]["password"].as_array().unwrap().len(), 2, "{body}");
    let long = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": unique_email("l"), "password": format!("1!{}", "a".repeat(71))}),
        )
        .await;
    let body = problem(long, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["password"][0].as_str().unwrap().contains("72"), "{body}");
    let email = unique_email("same");
    let same = app.post("/api/v1/auth/register", None, json!({"email": email, "password": email})).await;
    problem(same, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn closed_registration_is_403() {
    let app = TestApp::spawn_with(|c| c.auth.open_registration = false).await;
    let r = app.post("/api/v1/auth/register", None, json!({"email": unique_email("x"), "password": PASSWORD})).await;
    problem(r, StatusCode::FORBIDDEN, "registration_closed").await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let email = unique_email("known");
    app.register(&email).await;
    let wrong =
        problem(app.login(&email, "not the password").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = problem(
        app.login(&unique_email("ghost"), "not the password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["title"], unknown["title"]);
}

#[tokio::test]
async fn login_is_case_insensitive_on_email() {
    let app = TestApp::spawn().await;
    let email = unique_email("case");
    app.register(&email).await;
    let r = app.login(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert!(body["user"]["last_login_at"].is_string());
}

#[tokio::test]
async fn disabled_accounts_cannot_log_in_or_refresh() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for action in ["deactivate", "ban"] {
        let victim = app.register(&unique_email(action)).await;
        let r = app.post(&format!("/api/v1/users/{}/{action}", victim.id), Some(&admin.access), json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        problem(app.login(&victim.email, PASSWORD).await, StatusCode::FORBIDDEN, "account_disabled").await;
        problem(
            app.post("/api/v1/auth/refresh", None, json!({"refresh_token": victim.refresh})).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
        problem(app.get("/api/v1/me", Some(&victim.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    }
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("bye")).await;
    // A body, when sent, is checked even with a valid bearer token.
    let r = app.post("/api/v1/auth/logout", Some(&s.access), json!({"refresh_token": s.refresh, "x": 1})).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["x"].is_array() || body["errors"]["body"].is_array(), "{body}");
    let r = app.post("/api/v1/auth/logout", Some(&s.access), json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get("/api/v1/me", Some(&s.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": s.refresh})).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

#[tokio::test]
async fn logout_with_only_a_refresh_token() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("bye2")).await;
    let r = app.post("/api/v1/auth/logout", None, json!({"refresh_token": s.refresh})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get("/api/v1/me", Some(&s.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    // Neither a bearer token nor a body: nothing says which session to end.
    problem(
        app.call(reqwest::Method::POST, "/api/v1/auth/logout", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // A body without the token is a validation error naming the field.
    let body = problem(
        app.post("/api/v1/auth/logout", None, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(body["errors"]["refresh_token"].is_array(), "{body}");
}
