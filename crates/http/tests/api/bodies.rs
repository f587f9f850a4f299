//! JSON bodies: media type, size, syntax and shape errors.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::*;

fn closed() -> roster_http::AppState {
    // With registration closed, a body that passes extraction answers 403.
    let mut m = Mocks::new();
    m.policy.open_registration = false;
    m.state()
}

fn register(body: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/register")
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

#[actix_web::test]
async fn malformed_json_is_400() {
    for body in [r#"{"email": "#, "", r#"{"email":"a@b.c","password":"p"} trailing"#, "{'single': 1}"] {
        let r = send(closed(), register(body)).await;
        let p = r.problem(400, "malformed_json");
        assert!(p.get("errors").is_none());
    }
}

#[actix_web::test]
async fn wrong_or_missing_content_type_is_415() {
    let body = r#"{"email":"a@b.c","password":"p"}"#;
    let r = send(
        closed(),
        TestRequest::post()
            .uri("/api/v1/auth/register")
            .insert_header(("Content-Type", "text/plain"))
            .set_payload(body),
    )
    .await;
    r.problem(415, "unsupported_media_type");
    let r = send(closed(), TestRequest::post().uri("/api/v1/auth/register").set_payload(body)).await;
    r.problem(415, "unsupported_media_type");
    let r = send(
        closed(),
        TestRequest::post()
            .uri("/api/v1/auth/register")
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Content-Encoding", "gzip"))
            .set_payload(body),
    )
    .await;
    r.problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn json_media_types_with_parameters_and_suffixes_are_accepted() {
    let body = r#"{"email":"a@b.c","password":"p"}"#;
    for ct in ["application/json; charset=utf-8", "Application/JSON", "application/vnd.roster+json"] {
        let r = send(
            closed(),
            TestRequest::post().uri("/api/v1/auth/register").insert_header(("Content-Type", ct)).set_payload(body),
        )
        .await;
        r.problem(403, "registration_closed");
    }
}

#[actix_web::test]
async fn oversize_body_is_413() {
    let big = json!({"email": "a@b.c", "password": "x".repeat(2000)}).to_string();
    let r = send(closed(), register(&big)).await;
    let p = r.problem(413, "payload_too_large");
    assert!(p["detail"].as_str().unwrap().contains("1024"));
}

#[actix_web::test]
async fn unknown_field_is_422_naming_the_field() {
    let r = send(closed(), register(r#"{"email":"a@b.c","password":"p","is_superadmin":true}"#)).await;
    let p = r.problem(422, "validation_failed");
    let msgs = p["errors"]["is_superadmin"].as_array().expect("errors.is_superadmin");
    assert!(msgs[0].as_str().unwrap().starts_with("is not a known field"));
}

#[actix_web::test]
async fn nested_unknown_field_is_named_with_its_path() {
    let admin = user("admin@example.com", "admin");
    let state = Mocks::new().sign_in_as(&admin, admin_perms()).state();
    let body = json!({"email": "n@example.com", "password": "a long enough password", "profile": {"shoe_size": 44}})
        .to_string();
    let r = send(
        state,
        TestRequest::post()
            .uri("/api/v1/users")
            .insert_header(bearer(GOOD_TOKEN))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body),
    )
    .await;
    let p = r.problem(422, "validation_failed");
    assert!(p["errors"]["profile.shoe_size"].is_array(), "{p}");
}

#[actix_web::test]
async fn unknown_field_in_a_flattened_patch_is_named() {
    let admin = user("admin@example.com", "admin");
    let state = Mocks::new().sign_in_as(&admin, admin_perms()).state();
    let r = send(
        state,
        TestRequest::patch()
            .uri(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()))
            .insert_header(bearer(GOOD_TOKEN))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"name":"x","password":"sneaky"}"#),
    )
    .await;
    let p = r.problem(422, "validation_failed");
    assert!(p["errors"]["password"].is_array(), "{p}");
}

#[actix_web::test]
async fn wrong_types_in_a_flattened_patch_are_named() {
    let admin = user("admin@example.com", "admin");
    let state = Mocks::new().sign_in_as(&admin, admin_perms()).state();
    let r = send(
        state,
        TestRequest::patch()
            .uri(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()))
            .insert_header(bearer(GOOD_TOKEN))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"email_verified":"yes","profile":{"birthdate":5}}"#),
    )
    .await;
    let p = r.problem(422, "validation_failed");
    assert!(p["errors"]["email_verified"].is_array(), "{p}");
    assert!(p["errors"]["profile.birthdate"].is_array(), "{p}");
}

#[actix_web::test]
async fn wrong_type_and_missing_field_are_422_with_the_path() {
    let r = send(closed(), register(r#"{"email": 5, "password": "p"}"#)).await;
    let p = r.problem(422, "validation_failed");
    assert_eq!(p["errors"]["email"][0], "invalid type: integer `5`, expected a string");
    let r = send(closed(), register(r#"{"email": "a@b.c"}"#)).await;
    let p = r.problem(422, "validation_failed");
    assert_eq!(p["errors"]["password"][0], "is required");
    let r = send(closed(), register("[1, 2]")).await;
    let p = r.problem(422, "validation_failed");
    assert!(p["errors"]["body"].is_array(), "{p}");
}
