//! Mail end to end: the real app sends through the outbox worker to an SMTP
//! server on loopback; tests read the messages, follow their links, and
//! check tokens are single-use, expire and are superseded.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// Rows of `table` matching `condition` (counted by a no-op update).
async fn rows(app: &TestApp, table: &str, condition: &str) -> usize {
    app.db.execute(&format!("UPDATE {table} SET created_at = created_at WHERE {condition}")).await.unwrap()
}

#[tokio::test]
async fn registration_mails_a_localized_verification_link_that_works_once() {
    let app = TestApp::spawn().await;
    let email = unique_email("verify");
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "name": "Amélie", "locale": "fr-CA"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let s = session(r.json().await.unwrap());
    let mail = app.mail_to(&email, 1).await;
    assert_eq!(mail.to[0].name.as_deref(), Some("Amélie"));
    assert!(mail.message_id.as_deref().is_some_and(|id| id.ends_with("@127.0.0.1")), "{:?}", mail.message_id);
    assert!(mail.html.as_deref().unwrap().contains(r#"lang="fr""#));
    let token = token_in(&mail);
    // The outbox keeps the message sealed, and erases it once sent.
    assert_eq!(rows(&app, "outbox", &format!("position('{token}'::bytea in payload) > 0")).await, 0);
    assert_eq!(rows(&app, "outbox", "status = 'sent' AND payload IS NULL").await, 1);
    // The token is stored as a hash only.
    assert_eq!(rows(&app, "one_time_tokens", &format!("position('{token}'::bytea in token_hash) > 0")).await, 0);

    let me: Value = app.get("/api/v1/me", Some(&s.access)).await.json().await.unwrap();
    assert_eq!(me["email_verified"], false);
    let r = app.post("/api/v1/auth/email/verify", None, json!({"token": token})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let me: Value = app.get("/api/v1/me", Some(&s.access)).await.json().await.unwrap();
    assert_eq!(me["email_verified"], true);

    let again = app.post("/api/v1/auth/email/verify", None, json!({"token": token})).await;
    problem(again, StatusCode::GONE, "link_token_used").await;
    let garbage = app.post("/api/v1/auth/email/verify", None, json!({"token": "not-a-token"})).await;
    problem(garbage, StatusCode::BAD_REQUEST, "link_token_invalid").await;
    let unknown = app.post("/api/v1/auth/email/verify", None, json!({"token": "A".repeat(43)})).await;
    problem(unknown, StatusCode::BAD_REQUEST, "link_token_invalid").await;
}

#[tokio::test]
async fn required_verification_blocks_login_until_the_newest_link_is_followed() {
    let app = TestApp::spawn_with(|c| c.auth.require_verified_email = true).await;
    let email = unique_email("gate");
    let r = app.post("/api/v1/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["email_verification_required"], true);
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    problem(app.login(&email, PASSWORD).await, StatusCode::FORBIDDEN, "email_not_verified").await;
    // A wrong password still says only that.
    problem(app.login(&email, "wrong password!").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let first = token_in(&app.mail_to(&email, 1).await);
    let r = app.post("/api/v1/auth/email/resend", None, json!({"email": email})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let second = token_in(&app.mail_to(&email, 2).await);
    assert_ne!(first, second);
    let r = app.post("/api/v1/auth/email/verify", None, json!({"token": first})).await;
    problem(r, StatusCode::GONE, "link_token_superseded").await;
    let r = app.post("/api/v1/auth/email/verify", None, json!({"token": second})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    app.login_ok(&email).await;
    // Verified now: resending sends nothing, and answers the same.
    let r = app.post("/api/v1/auth/email/resend", None, json!({"email": email})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.smtp.messages().len(), 2);
}

#[tokio::test]
async fn forgot_password_answers_alike_and_the_reset_link_ends_every_session() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("forgot")).await;
    app.mails(1).await; // the verification link
    let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": unique_email("nobody")})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": s.email.to_uppercase()})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mail = app.mail_to(&s.email, 2).await;
    assert_eq!(app.smtp.messages().len(), 2, "nothing is sent for an unknown address");
    let token = token_in(&mail);
    assert!(mail.text.unwrap().contains("/reset-password?token="));

    let weak = app.post("/api/v1/auth/password/reset", None, json!({"token": token, "password": "short"})).await;
    let body = problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["password"].is_array());
    let new_password = "a brand new passphrase";
    let r = app.post("/api/v1/auth/password/reset", None, json!({"token": token, "password": new_password})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get("/api/v1/me", Some(&s.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": s.refresh})).await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    problem(app.login(&s.email, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(app.login(&s.email, new_password).await.status(), StatusCode::OK);
    // A notice follows, without a link; the link is spent.
    let notice = app.mail_to(&s.email, 3).await;
    assert!(!notice.text.unwrap().contains("token="));
    let again =
        app.post("/api/v1/auth/password/reset", None, json!({"token": token, "password": "yet another one!"})).await;
    problem(again, StatusCode::GONE, "link_token_used").await;
    // Resetting proved the mailbox.
    let me: Value = app
        .get("/api/v1/me", Some(&app.login_ok_with(&s.email, new_password).await.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], true);
}

#[tokio::test]
async fn expired_and_superseded_reset_links_are_gone() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("expire")).await;
    for _ in 0..2 {
        let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": s.email})).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let mails = app.mails(3).await;
    let (older, newer) = (token_in(&mails[1]), token_in(&mails[2]));
    let reset = |token: String| {
        app.post("/api/v1/auth/password/reset", None, json!({"token": token, "password": "fresh passphrase"}))
    };
    problem(reset(older).await, StatusCode::GONE, "link_token_superseded").await;
    app.db.execute("UPDATE one_time_tokens SET expires_at = now() - interval '1 second'").await.unwrap();
    problem(reset(newer).await, StatusCode::GONE, "link_token_expired").await;
    assert_eq!(app.login(&s.email, PASSWORD).await.status(), StatusCode::OK, "the password is unchanged");
}

#[tokio::test]
async fn forgot_and_resend_are_rate_limited_per_address_across_the_database() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.forgot_password.per_address = 2;
        c.rate_limits.resend_verification.per_ip = 1;
    })
    .await;
    let email = unique_email("limited");
    for _ in 0..2 {
        let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": email})).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": email.to_uppercase()})).await;
    let retry_after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after));
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another address is not limited by this one.
    let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": unique_email("other")})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    // Per client IP: one resend an hour from 127.0.0.1, whatever the address.
    let r = app.post("/api/v1/auth/email/resend", None, json!({"email": unique_email("a")})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app.post("/api/v1/auth/email/resend", None, json!({"email": unique_email("b")})).await;
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Malformed addresses are refused before counting.
    let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": "nope"})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn forgot_takes_the_same_floor_for_known_and_unknown_addresses() {
    let app = TestApp::spawn_with(|c| c.http.mail_request_floor_ms = 300).await;
    let s = app.register(&unique_email("floor")).await;
    for email in [s.email.clone(), unique_email("unknown")] {
        let started = Instant::now();
        let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": email})).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        assert!(started.elapsed() >= Duration::from_millis(300), "answered before the floor");
    }
}

#[tokio::test]
async fn changing_the_password_mails_a_notice() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("notice")).await;
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&s.access),
            json!({"current_password": PASSWORD, "new_password": "another passphrase"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let notice = app.mail_to(&s.email, 2).await;
    assert!(notice.subject.is_some());
    assert!(!notice.text.unwrap().contains("token="));
}

#[tokio::test]
async fn an_email_change_switches_only_when_the_new_address_confirms() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("old")).await;
    let new = unique_email("new");
    let wrong =
        app.post("/api/v1/me/email", Some(&s.access), json!({"email": new, "current_password": "wrong one!"})).await;
    let body = problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["current_password"].is_array());
    let r = app.post("/api/v1/me/email", Some(&s.access), json!({"email": new, "current_password": PASSWORD})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let confirm = app.mail_to(&new, 3).await;
    let notice = app.mail_to(&s.email, 3).await;
    assert!(notice.text.unwrap().contains(&new), "the old address is told the new one");
    let me: Value = app.get("/api/v1/me", Some(&s.access)).await.json().await.unwrap();
    assert_eq!(me["email"], s.email.as_str(), "unchanged until confirmed");

    let r = app.post("/api/v1/auth/email/verify", None, json!({"token": token_in(&confirm)})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let me: Value = app.get("/api/v1/me", Some(&s.access)).await.json().await.unwrap();
    assert_eq!((me["email"].as_str(), me["email_verified"].as_bool()), (Some(new.as_str()), Some(true)));
    app.login_ok(&new).await;
}

#[tokio::test]
async fn an_email_change_to_a_taken_address_tells_that_address_and_nobody_else() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("mover")).await;
    let other = app.register(&unique_email("owner")).await;
    let r = app
        .post("/api/v1/me/email", Some(&s.access), json!({"email": other.email, "current_password": PASSWORD}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "the same answer as for a free address");
    let warning = app.mail_to(&other.email, 3).await;
    assert!(!warning.text.unwrap().contains("token="));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.smtp.messages().len(), 3, "no notice to the requester's address, no link");
}

#[tokio::test]
async fn a_change_confirmed_after_the_address_was_taken_is_a_conflict() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("late")).await;
    let new = unique_email("contested");
    app.post("/api/v1/me/email", Some(&s.access), json!({"email": new, "current_password": PASSWORD})).await;
    let token = token_in(&app.mail_to(&new, 3).await);
    app.register(&new).await;
    let r = app.post("/api/v1/auth/email/verify", None, json!({"token": token})).await;
    problem(r, StatusCode::CONFLICT, "email_taken").await;
}

#[tokio::test]
async fn administrators_send_reset_links_to_the_users_they_manage() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member = app.member().await;
    let before = app.smtp.messages().len();
    let path = format!("/api/v1/users/{}/password-reset", member.id);
    let r = app.post(&path, Some(&admin.access), json!({})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mail = app.mail_to(&member.email, before + 1).await;
    let token = token_in(&mail);
    // The member's password still works until the link is used.
    assert_eq!(app.login(&member.email, PASSWORD).await.status(), StatusCode::OK);
    let r =
        app.post("/api/v1/auth/password/reset", None, json!({"token": token, "password": "chosen by member"})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // A member cannot, and nobody can for an unknown user.
    let r = app.post(&format!("/api/v1/users/{}/password-reset", admin.id), Some(&member.access), json!({})).await;
    problem(r, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let other = app.member().await;
    let r = app.post(&format!("/api/v1/users/{}/password-reset", admin.id), Some(&other.access), json!({})).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .post(&format!("/api/v1/users/{}/password-reset", uuid::Uuid::now_v7()), Some(&admin.access), json!({}))
        .await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn administrators_resets_share_the_forgot_limit_of_the_address_and_spare_their_own_account() {
    let app = TestApp::spawn_with(|c| c.rate_limits.forgot_password.per_address = 2).await;
    let admin = app.admin().await;
    let member = app.member().await;
    let path = format!("/api/v1/users/{}/password-reset", member.id);
    // One letter asked for by the member, one by the administrator: the
    // address's two an hour, whoever asks.
    let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": member.email})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app.post(&path, Some(&admin.access), json!({})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app.post(&path, Some(&admin.access), json!({})).await;
    let retry_after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after));
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let r = app.post("/api/v1/auth/password/forgot", None, json!({"email": member.email})).await;
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another user's address is not limited by this one.
    let other = app.member().await;
    let r = app.post(&format!("/api/v1/users/{}/password-reset", other.id), Some(&admin.access), json!({})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    // Nobody mails themselves a reset through the administrators' route.
    let root = app.superadmin().await;
    for s in [&admin, &root] {
        let r = app.post(&format!("/api/v1/users/{}/password-reset", s.id), Some(&s.access), json!({})).await;
        let body = problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(body["reason"], "not_yourself", "{body}");
    }
    app.letter_to(&other.email, "/reset-password?token=").await;
    let to_member = app.mails(0).await.into_iter().filter(|m| {
        m.to.iter().any(|a| a.address.eq_ignore_ascii_case(&member.email))
            && m.text.as_deref().is_some_and(|t| t.contains("/reset-password?token="))
    });
    assert!(to_member.count() <= 2, "no more than the limit reached the member");
}
