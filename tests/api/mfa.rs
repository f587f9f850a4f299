//! Two-step verification end to end: enrolment, the MFA step of login with
//! codes computed here, replay refused across requests, recovery codes,
//! turning it off, an administrator's reset, and the notices they mail.

use reqwest::{Method, StatusCode};
use roster_domain::auth::{totp, TotpSecret};
use serde_json::{json, Value};

use crate::helpers::*;

/// Waits (up to 10 s) for a message to `address` whose subject holds `needle`.
async fn notice(app: &TestApp, address: &str, needle: &str) {
    for _ in 0..200 {
        let found = app.mails(0).await.into_iter().any(|m| {
            m.to.iter().any(|a| a.address.eq_ignore_ascii_case(address))
                && m.subject.as_deref().is_some_and(|s| s.contains(needle))
        });
        if found {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no notice to {address} with {needle:?} in its subject");
}

fn now_step() -> i64 {
    totp::step_at(chrono::Utc::now().timestamp())
}

/// Enrols `who` and confirms with the current step's code: the secret, the
/// step spent and the recovery codes.
async fn enrol(app: &TestApp, who: &Session) -> (TotpSecret, i64, Vec<String>) {
    let r = app.post("/api/v1/me/mfa/totp", Some(&who.access), json!({"current_password": PASSWORD})).await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = body_of(r, StatusCode::OK).await;
    let secret = TotpSecret::from_base32(body["secret"].as_str().unwrap()).expect("a base32 secret");
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Roster:"), "{uri}");
    // SHA-1, 6 digits, 30 s: the defaults every app assumes, so the URI leaves them out.
    assert!(uri.contains("issuer=Roster") && !uri.contains("algorithm=") && !uri.contains("digits="), "{uri}");
    assert!(body["qr_svg"].as_str().unwrap().contains("<svg"), "the QR code is an SVG");
    let step = now_step();
    let r =
        app.post("/api/v1/me/mfa/totp/confirm", Some(&who.access), json!({"code": secret.code(step).unwrap()})).await;
    let body = body_of(r, StatusCode::OK).await;
    let codes: Vec<String> =
        body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_eq!(codes.len(), 10);
    (secret, step, codes)
}

/// A login that must stop at the MFA step: its challenge.
async fn challenge(app: &TestApp, email: &str) -> String {
    let body = body_of(app.login(email, PASSWORD).await, StatusCode::OK).await;
    assert_eq!(body["mfa_required"], true, "{body}");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert!(body.get("access_token").is_none(), "no tokens before the second factor: {body}");
    body["challenge"].as_str().unwrap().to_string()
}

async fn verify(app: &TestApp, body: Value) -> reqwest::Response {
    app.post("/api/v1/auth/mfa/verify", None, body).await
}

#[tokio::test]
async fn enrol_then_sign_in_with_a_code_once_and_a_recovery_code_once() {
    let app = TestApp::spawn().await;
    let ada = app.register(&unique_email("ada")).await;
    let me = body_of(app.get("/api/v1/me", Some(&ada.access)).await, StatusCode::OK).await;
    assert_eq!(me["mfa_enabled"], false);

    // A wrong confirmation changes nothing.
    let r = app.post("/api/v1/me/mfa/totp/confirm", Some(&ada.access), json!({"code": "000000"})).await;
    problem(r, StatusCode::CONFLICT, "invalid_state").await;
    let r = app.post("/api/v1/me/mfa/totp", Some(&ada.access), json!({"current_password": "wrong"})).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(p["errors"]["current_password"].is_array(), "{p}");

    let (secret, spent, codes) = enrol(&app, &ada).await;
    notice(&app, &ada.email, "Two-step verification is on").await;
    let me = body_of(app.get("/api/v1/me", Some(&ada.access)).await, StatusCode::OK).await;
    assert_eq!(me["mfa_enabled"], true);
    // Enrolling again while on is a conflict.
    let r = app.post("/api/v1/me/mfa/totp", Some(&ada.access), json!({"current_password": PASSWORD})).await;
    problem(r, StatusCode::CONFLICT, "invalid_state").await;

    // The code that confirmed the enrolment cannot sign in: its step is spent.
    let ch = challenge(&app, &ada.email).await;
    let r = verify(&app, json!({"challenge": ch, "code": secret.code(spent).unwrap()})).await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_code").await;
    notice(&app, &ada.email, "was used twice").await;

    // The next step's code does, once; the session says how it signed in.
    let next = secret.code(spent + 1).unwrap();
    let r = verify(&app, json!({"challenge": ch, "code": next})).await;
    let signed = body_of(r, StatusCode::OK).await;
    assert_eq!(claims(signed["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));
    // A challenge signs in once.
    let r = verify(&app, json!({"challenge": ch, "code": secret.code(spent + 1).unwrap()})).await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_challenge").await;
    // The same code on a new challenge: refused, in this or any process (the step is in PostgreSQL).
    let ch = challenge(&app, &ada.email).await;
    let r = verify(&app, json!({"challenge": ch, "code": next})).await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_code").await;

    // Refreshing keeps the methods.
    let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": signed["refresh_token"]})).await;
    let refreshed = body_of(r, StatusCode::OK).await;
    assert_eq!(claims(refreshed["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));

    // A recovery code works once, whatever its case and dashes.
    let ch = challenge(&app, &ada.email).await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    let r = verify(&app, json!({"challenge": ch, "recovery_code": typed})).await;
    body_of(r, StatusCode::OK).await;
    notice(&app, &ada.email, "recovery code was used").await;
    let ch = challenge(&app, &ada.email).await;
    let r = verify(&app, json!({"challenge": ch, "recovery_code": codes[0]})).await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_code").await;
    let security = body_of(app.get("/api/v1/me/security", Some(&ada.access)).await, StatusCode::OK).await;
    assert_eq!(security["mfa_enabled"], true);
    assert_eq!(security["recovery_codes_left"], 9);

    // Neither or both factors: a 422 naming `code`.
    let r = verify(&app, json!({"challenge": ch})).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(p["errors"]["code"].is_array(), "{p}");
}

#[tokio::test]
async fn a_challenge_lives_for_a_few_attempts_only() {
    // Lockout set high, to see the challenge's own limit.
    let app = TestApp::spawn_with(|c| c.auth.lockout.max_failures = 50).await;
    let ada = app.register(&unique_email("ada")).await;
    let (secret, spent, _) = enrol(&app, &ada).await;
    let ch = challenge(&app, &ada.email).await;
    for _ in 0..5 {
        let r = verify(&app, json!({"challenge": ch, "code": "000000"})).await;
        problem(r, StatusCode::UNAUTHORIZED, "invalid_code").await;
    }
    // The sixth try is refused whatever the code.
    let r = verify(&app, json!({"challenge": ch, "code": secret.code(spent + 1).unwrap()})).await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_challenge").await;
    let r = verify(&app, json!({"challenge": "rmc_garbage", "code": "123456"})).await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_challenge").await;
}

#[tokio::test]
async fn new_recovery_codes_replace_the_old_and_turning_off_needs_password_and_code() {
    let app = TestApp::spawn().await;
    let ada = app.register(&unique_email("ada")).await;
    let (secret, spent, old) = enrol(&app, &ada).await;

    let r = app.post("/api/v1/me/mfa/recovery-codes", Some(&ada.access), json!({"code": "000000"})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let r = app
        .post("/api/v1/me/mfa/recovery-codes", Some(&ada.access), json!({"code": secret.code(spent + 1).unwrap()}))
        .await;
    let fresh = body_of(r, StatusCode::OK).await["recovery_codes"].clone();
    assert_eq!(fresh.as_array().unwrap().len(), 10);
    let ch = challenge(&app, &ada.email).await;
    let r = verify(&app, json!({"challenge": ch, "recovery_code": old[1]})).await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_code").await;

    // Off: the password and a recovery code (the app's code of this step is spent).
    let off = |body: Value| app.call(Method::DELETE, "/api/v1/me/mfa/totp", Some(&ada.access), Some(body));
    let r = off(json!({"current_password": "wrong", "recovery_code": fresh[0]})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let r = off(json!({"current_password": PASSWORD, "recovery_code": fresh[0]})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    notice(&app, &ada.email, "Two-step verification is off").await;
    // Password alone signs in again.
    let body = body_of(app.login(&ada.email, PASSWORD).await, StatusCode::OK).await;
    assert!(body["access_token"].is_string(), "{body}");
    let r = off(json!({"current_password": PASSWORD, "code": "123456"})).await;
    problem(r, StatusCode::CONFLICT, "invalid_state").await;
}

#[tokio::test]
async fn an_administrator_resets_a_lost_phone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ada = app.register(&unique_email("ada")).await;
    enrol(&app, &ada).await;
    challenge(&app, &ada.email).await;

    // A plain member cannot; the admin can, and the user is told.
    let bob = app.member().await;
    let path = format!("/api/v1/users/{}/mfa", ada.id);
    let r = app.call(Method::DELETE, &path, Some(&bob.access), None).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.call(Method::DELETE, &path, Some(&admin.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    notice(&app, &ada.email, "Two-step verification is off").await;
    let body = body_of(app.login(&ada.email, PASSWORD).await, StatusCode::OK).await;
    assert_eq!(claims(body["access_token"].as_str().unwrap())["amr"], json!(["pwd"]));
    // Nobody resets their own through the admin route.
    let r = app.call(Method::DELETE, &format!("/api/v1/users/{}/mfa", admin.id), Some(&admin.access), None).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn a_stolen_session_cannot_try_every_code_through_the_self_service_routes() {
    let app = TestApp::spawn().await;
    let ada = app.register(&unique_email("ada")).await;
    enrol(&app, &ada).await;
    for _ in 0..5 {
        let r = app.post("/api/v1/me/mfa/recovery-codes", Some(&ada.access), json!({"code": "000000"})).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let r = app.post("/api/v1/me/mfa/recovery-codes", Some(&ada.access), json!({"code": "000000"})).await;
    assert!(r.headers().contains_key("retry-after"));
    problem(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    // The account is locked for sign-in too.
    problem(app.login(&ada.email, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}
