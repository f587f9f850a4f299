//! `/auth/*` and `/me`.

use actix_web::test::TestRequest;
use mockall::predicate::*;
use roster_domain::{auth::SessionSubject, ports::LoginRecord, ports::RotateOutcome, user::UserStatus};
use serde_json::json;

use crate::support::*;

fn post_json(uri: &str, body: serde_json::Value) -> TestRequest {
    TestRequest::post().uri(uri).insert_header(("Content-Type", "application/json")).set_payload(body.to_string())
}

fn assert_signed_in(body: &serde_json::Value, email: &str) {
    assert_eq!(body["user"]["email"], email);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["access_token"].as_str().unwrap().starts_with("access-for-"));
    assert_eq!(body["refresh_token"].as_str().unwrap().len(), 43);
    assert!(body["user"].get("password_hash").is_none());
}

#[actix_web::test]
async fn register_creates_a_session_with_client_meta() {
    let mut m = Mocks::new();
    m.hasher.expect_hash().returning(|_| Ok("$hash".into()));
    m.users.expect_create().times(1).returning(|rec, _| {
        let mut u = user(rec.email.as_str(), "member");
        u.id = rec.id;
        Ok(u)
    });
    m.sessions
        .expect_create()
        .withf(|s| s.user_agent.as_deref() == Some("roster-test/1.0") && s.ip.as_deref() == Some("203.0.113.7"))
        .times(1)
        .returning(|_| Ok(()));
    let req =
        post_json("/api/v1/auth/register", json!({"email": "new@example.com", "password": "correct horse battery"}))
            .insert_header(("User-Agent", "roster-test/1.0"))
            .peer_addr("203.0.113.7:5555".parse().unwrap());
    let r = send(m.state(), req).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_signed_in(&body, "new@example.com");
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/users/{}", body["user"]["id"].as_str().unwrap()));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn register_reports_every_bad_field_and_a_taken_email() {
    let r = send(
        Mocks::new().state(),
        post_json(
            "/api/v1/auth/register",
            json!({"email": "nope", "password": "short", "locale": "xx-not-a-tag-really"}),
        ),
    )
    .await;
    let p = r.problem(422, "validation_failed");
    assert!(p["errors"]["email"].is_array() && p["errors"]["password"].is_array(), "{p}");

    let mut m = Mocks::new();
    m.hasher.expect_hash().returning(|_| Ok("$hash".into()));
    m.users
        .expect_create()
        .returning(|_, _| Err(roster_domain::RepoError::Conflict(roster_domain::Conflict::EmailTaken)));
    let r = send(
        m.state(),
        post_json("/api/v1/auth/register", json!({"email": "taken@example.com", "password": "correct horse battery"})),
    )
    .await;
    r.problem(409, "email_taken");
}

fn login_mocks(status: UserStatus, password_ok: bool) -> Mocks {
    let mut m = Mocks::new();
    let mut u = user("ada@example.com", "member");
    u.status = status;
    m.users.expect_find_login().returning(move |_| {
        Ok(Some(LoginRecord {
            subject: SessionSubject::in_default_org(u.clone(), vec![]),
            password_hash: Some("$real".into()),
        }))
    });
    m.hasher.expect_verify().returning(move |_, _| Ok(password_ok));
    m.sessions.expect_create().returning(|_| Ok(()));
    m
}

#[actix_web::test]
async fn login_answers_tokens_or_the_reason() {
    let creds = json!({"email": "ada@example.com", "password": "correct horse battery"});
    let r = send(login_mocks(UserStatus::Active, true).state(), post_json("/api/v1/auth/login", creds.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_signed_in(&r.json(), "ada@example.com");

    let r = send(login_mocks(UserStatus::Active, false).state(), post_json("/api/v1/auth/login", creds.clone())).await;
    r.problem(401, "invalid_credentials");
    let r = send(login_mocks(UserStatus::Banned, true).state(), post_json("/api/v1/auth/login", creds)).await;
    r.problem(403, "account_disabled");
}

#[actix_web::test]
async fn refresh_rotates_or_refuses() {
    let mut m = Mocks::new();
    let u = user("ada@example.com", "member");
    m.sessions.expect_rotate().returning(move |_| {
        Ok(RotateOutcome::Rotated {
            session_id: uuid::Uuid::now_v7(),
            subject: SessionSubject::in_default_org(u.clone(), vec![]),
            amr: vec!["pwd".into()],
        })
    });
    let token = "A".repeat(43);
    let r = send(m.state(), post_json("/api/v1/auth/refresh", json!({"refresh_token": token}))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_signed_in(&body, "ada@example.com");
    assert_ne!(body["refresh_token"], token);

    let r = send(Mocks::new().state(), post_json("/api/v1/auth/refresh", json!({"refresh_token": "garbage"}))).await;
    r.problem(401, "invalid_refresh_token");
}

#[actix_web::test]
async fn logout_with_bearer_revokes_that_session() {
    let me = user("me@example.com", "member");
    let mut m = Mocks::new().sign_in_as(&me, vec![]);
    m.sessions
        .expect_revoke()
        .with(always(), eq(me.id), eq("logout"), always())
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    let r = send(m.state(), TestRequest::post().uri("/api/v1/auth/logout").insert_header(bearer(GOOD_TOKEN))).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty());
}

#[actix_web::test]
async fn logout_with_refresh_token_in_the_body() {
    let me = user("me@example.com", "member");
    let mut m = Mocks::new().sign_in_as(&me, vec![]);
    m.sessions.expect_revoke_by_refresh().times(1).returning(|_, _, _| Ok(true));
    // An expired access token falls back to the body.
    let req =
        post_json("/api/v1/auth/logout", json!({"refresh_token": "A".repeat(43)})).insert_header(bearer(EXPIRED_TOKEN));
    let r = send(m.state(), req).await;
    assert_eq!(r.status, 204, "{}", r.text());

    let mut m = Mocks::new();
    m.sessions.expect_revoke_by_refresh().returning(|_, _, _| Ok(false));
    let r = send(m.state(), post_json("/api/v1/auth/logout", json!({"refresh_token": "A".repeat(43)}))).await;
    r.problem(401, "invalid_refresh_token");
}

#[actix_web::test]
async fn logout_without_anything_is_401() {
    let r = send(Mocks::new().state(), TestRequest::post().uri("/api/v1/auth/logout")).await;
    r.problem(401, "unauthenticated");
    assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="roster""#));
    let me = user("me@example.com", "member");
    let r = send(
        Mocks::new().sign_in_as(&me, vec![]).state(),
        TestRequest::post().uri("/api/v1/auth/logout").insert_header(bearer(EXPIRED_TOKEN)),
    )
    .await;
    r.problem(401, "token_expired");
    let r = send(Mocks::new().state(), post_json("/api/v1/auth/logout", json!({"token": "x"}))).await;
    r.problem(422, "validation_failed");
}

#[actix_web::test]
async fn me_is_the_principal_without_a_second_query() {
    let me = user("me@example.com", "member");
    let mut m = Mocks::new().sign_in_as(&me, vec![]);
    m.users.expect_get().never();
    let r = send(m.state(), TestRequest::get().uri("/api/v1/me").insert_header(bearer(GOOD_TOKEN))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], me.id.to_string());
}

#[actix_web::test]
async fn patch_me_and_change_password() {
    let me = user("me@example.com", "member");
    let mut m = Mocks::new().sign_in_as(&me, vec![]);
    let updated = {
        let mut u = me.clone();
        u.name = Some("Countess".into());
        u
    };
    m.users
        .expect_update()
        .withf(move |id, c, _, _| *id == me.id && c.name == roster_domain::Patch::Set("Countess".into()))
        .times(1)
        .returning(move |_, _, _, _| Ok(Some(updated.clone())));
    m.users.expect_password_hash().returning(|_| Ok(Some("$real".into())));
    m.hasher.expect_verify().returning(|pw, _| Ok(pw == "the old password"));
    m.hasher.expect_hash().returning(|_| Ok("$new".into()));
    m.users.expect_set_password().times(1).returning(|_, _, _, _, _| Ok(()));
    let state = m.state();

    let r = send(
        state.clone(),
        TestRequest::patch()
            .uri("/api/v1/me")
            .insert_header(bearer(GOOD_TOKEN))
            .insert_header(("Content-Type", "application/merge-patch+json"))
            .set_payload(r#"{"name":"Countess"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "Countess");

    let r = send(
        state.clone(),
        TestRequest::patch()
            .uri("/api/v1/me")
            .insert_header(bearer(GOOD_TOKEN))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"email":"x@example.com"}"#),
    )
    .await;
    assert!(r.problem(422, "validation_failed")["errors"]["email"].is_array());

    let pw = |current: &str| {
        post_json("/api/v1/me/password", json!({"current_password": current, "new_password": "a brand new passphrase"}))
            .insert_header(bearer(GOOD_TOKEN))
    };
    let r = send(state.clone(), pw("wrong")).await;
    assert!(r.problem(422, "validation_failed")["errors"]["current_password"].is_array());
    let r = send(state, pw("the old password")).await;
    assert_eq!(r.status, 204, "{}", r.text());
}
