//! Invitations end to end: invite, mail, accept, supersede, revoke.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn invite(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/invitations", Some(token), body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn accept(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    let body = json!({"token": token, "password": password, "name": "Nia Jensen"});
    app.post("/api/v1/auth/invitations/accept", None, body).await
}

#[tokio::test]
async fn an_invited_person_accepts_sets_a_password_and_is_signed_in() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let email = unique_email("invitee");
    let inv = invite(&app, &root.access, json!({"email": email, "role": "admin", "name": "Nia", "locale": "de"})).await;
    assert_eq!((inv["status"].as_str(), inv["role"].as_str()), (Some("pending"), Some("admin")));
    let user: Value = app
        .get(&format!("/api/v1/users/{}", inv["user_id"].as_str().unwrap()), Some(&root.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((user["status"].as_str(), user["email_verified"].as_bool()), (Some("pending"), Some(false)));
    // A pending user has no password to sign in with.
    problem(app.login(&email, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let mail = app.mail_to(&email, 1).await;
    assert!(mail.html.as_deref().unwrap().contains(r#"lang="de""#));
    assert!(mail.text.as_deref().unwrap().contains(&root.email), "names who invited");
    let token = token_in(&mail);
    let weak = accept(&app, &token, "short").await;
    problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let r = accept(&app, &token, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let signed: Value = r.json().await.unwrap();
    assert_eq!(signed["user"]["status"], "active");
    assert_eq!(signed["user"]["email_verified"], true);
    assert_eq!(signed["user"]["name"], "Nia Jensen");
    assert_eq!(signed["user"]["role"], "admin");
    let access = signed["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/users", Some(access)).await.status(), StatusCode::OK, "an admin now");

    problem(accept(&app, &token, PASSWORD).await, StatusCode::GONE, "link_token_used").await;
    let list: Value = app.get("/api/v1/invitations?status=accepted", Some(&root.access)).await.json().await.unwrap();
    assert_eq!(list["meta"]["total"], 1);
    assert_eq!(list["data"][0]["id"], inv["id"]);
    assert!(list["data"][0]["accepted_at"].is_string());
}

#[tokio::test]
async fn inviting_again_supersedes_the_earlier_link() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let email = unique_email("twice");
    let first = invite(&app, &admin.access, json!({"email": email})).await;
    let second = invite(&app, &admin.access, json!({"email": email.to_uppercase(), "role": "admin"})).await;
    assert_eq!(first["user_id"], second["user_id"], "the same pending user");
    let mails = app.mails(2).await;
    let (old, new) = (token_in(&mails[0]), token_in(&mails[1]));
    problem(accept(&app, &old, PASSWORD).await, StatusCode::GONE, "link_token_superseded").await;
    let list: Value = app.get("/api/v1/invitations?per_page=1", Some(&admin.access)).await.json().await.unwrap();
    assert_eq!((list["meta"]["total"].as_u64(), list["meta"]["total_pages"].as_u64()), (Some(2), Some(2)));
    assert_eq!(list["data"][0]["id"], second["id"], "newest first");
    assert!(list["links"]["next"].as_str().unwrap().starts_with("/api/v1/invitations?"));
    let superseded: Value =
        app.get("/api/v1/invitations?status=superseded", Some(&admin.access)).await.json().await.unwrap();
    assert_eq!(superseded["data"][0]["id"], first["id"]);
    let r = accept(&app, &new, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin", "the newer invitation's role");
}

#[tokio::test]
async fn revoking_an_invitation_kills_its_link_and_its_pending_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let inv = invite(&app, &admin.access, json!({"email": unique_email("revoked")})).await;
    let token = token_in(&app.mails(1).await[0]);
    let path = format!("/api/v1/invitations/{}", inv["id"].as_str().unwrap());
    assert_eq!(app.call(Method::DELETE, &path, Some(&admin.access), None).await.status(), StatusCode::NO_CONTENT);
    // The pending user went with it, and with them their tokens: the link leads nowhere.
    problem(accept(&app, &token, PASSWORD).await, StatusCode::BAD_REQUEST, "link_token_invalid").await;
    let user = app.get(&format!("/api/v1/users/{}", inv["user_id"].as_str().unwrap()), Some(&admin.access)).await;
    problem(user, StatusCode::NOT_FOUND, "not_found").await;
    // Idempotent; unknown ids are not found.
    assert_eq!(app.call(Method::DELETE, &path, Some(&admin.access), None).await.status(), StatusCode::NO_CONTENT);
    let unknown = format!("/api/v1/invitations/{}", uuid::Uuid::now_v7());
    problem(app.call(Method::DELETE, &unknown, Some(&admin.access), None).await, StatusCode::NOT_FOUND, "not_found")
        .await;

    // An accepted invitation cannot be withdrawn.
    let inv = invite(&app, &admin.access, json!({"email": unique_email("kept")})).await;
    let token = token_in(&app.mails(2).await[1]);
    assert_eq!(accept(&app, &token, PASSWORD).await.status(), StatusCode::OK);
    let path = format!("/api/v1/invitations/{}", inv["id"].as_str().unwrap());
    problem(app.call(Method::DELETE, &path, Some(&admin.access), None).await, StatusCode::CONFLICT, "invalid_state")
        .await;
}

#[tokio::test]
async fn expired_invitations_are_gone_and_listed_as_expired() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    invite(&app, &admin.access, json!({"email": unique_email("late")})).await;
    let token = token_in(&app.mails(1).await[0]);
    app.db.execute("UPDATE one_time_tokens SET expires_at = now() - interval '1 second'").await.unwrap();
    app.db.execute("UPDATE invitations SET expires_at = now() - interval '1 second'").await.unwrap();
    problem(accept(&app, &token, PASSWORD).await, StatusCode::GONE, "link_token_expired").await;
    let list: Value = app.get("/api/v1/invitations?status=expired", Some(&admin.access)).await.json().await.unwrap();
    assert_eq!(list["meta"]["total"], 1);
}

#[tokio::test]
async fn creating_a_user_with_send_invite_mails_a_set_password_link() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let email = unique_email("door");
    let body = json!({"email": email, "send_invite": true, "name": "At The Door", "phone": "+4512345678", "attributes": {"ticket": "A-17"}});
    let r = app.post("/api/v1/users", Some(&admin.access), body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let user: Value = r.json().await.unwrap();
    assert_eq!(user["status"], "pending");
    assert_eq!(user["attributes"]["ticket"], "A-17");
    let token = token_in(&app.mail_to(&email, 1).await);
    let r = app.post("/api/v1/auth/invitations/accept", None, json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["user"]["id"].as_str(), body["user"]["name"].as_str()),
        (user["id"].as_str(), Some("At The Door"))
    );
    // The address is taken now, for users and invitations alike.
    let again = app.post("/api/v1/users", Some(&admin.access), json!({"email": email, "send_invite": true})).await;
    problem(again, StatusCode::CONFLICT, "email_taken").await;
    let again = app.post("/api/v1/invitations", Some(&admin.access), json!({"email": email})).await;
    problem(again, StatusCode::CONFLICT, "email_taken").await;
    // Both a password and send_invite is a mistake.
    let both = app
        .post(
            "/api/v1/users",
            Some(&admin.access),
            json!({"email": unique_email("x"), "send_invite": true, "password": PASSWORD}),
        )
        .await;
    let body = problem(both, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["password"].is_array());
}

#[tokio::test]
async fn only_user_administrators_invite_and_only_owners_invite_owners() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member = app.member().await;
    let r = app.post("/api/v1/invitations", Some(&member.access), json!({"email": unique_email("m")})).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    problem(app.get("/api/v1/invitations", Some(&member.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(app.get("/api/v1/invitations", None).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let r = app
        .post("/api/v1/invitations", Some(&admin.access), json!({"email": unique_email("o"), "role": "owner"}))
        .await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .post("/api/v1/invitations", Some(&admin.access), json!({"email": "bad", "name": "", "locale": "nope nope"}))
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"].as_object().unwrap().len(), 3, "{body}");
    let r = app.get("/api/v1/invitations?status=maybe&page=0&per_page=500", Some(&admin.access)).await;
    let body = problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert_eq!(body["errors"].as_object().unwrap().len(), 3, "{body}");
    // `per_page` wins over its alias `limit`, but a bad `limit` is still refused.
    let r = app.get("/api/v1/invitations?per_page=5&limit=-3", Some(&admin.access)).await;
    let body = problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert!(body["errors"]["limit"].is_array(), "{body}");
    let r = app.get("/api/v1/invitations?page=1000001", Some(&admin.access)).await;
    let body = problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert!(body["errors"]["page"].is_array(), "{body}");
    let r = app.post("/api/v1/invitations", Some(&admin.access), json!({"email": member.email})).await;
    problem(r, StatusCode::CONFLICT, "email_taken").await;
}
