//! Push tokens end to end: a user's devices register, refresh, list and
//! remove their tokens; a token moves to whoever registers it last; a user
//! keeps 20; host services read their organization's members' tokens with
//! `push_tokens:read`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const MINE: &str = "/api/v1/me/push-tokens";

fn expo(tag: &str) -> Value {
    json!({"token": format!("ExponentPushToken[{tag}]"), "provider": "expo"})
}

async fn tokens_of(app: &TestApp, s: &Session) -> Vec<Value> {
    let body = body_of(app.get(MINE, Some(&s.access)).await, StatusCode::OK).await;
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_device_registers_refreshes_lists_and_removes_its_token() {
    let app = TestApp::spawn().await;
    let me = app.member().await;
    let first = created(app.post(MINE, Some(&me.access), expo("phone")).await).await;
    assert_eq!(first["provider"], "expo");
    assert!(first["device_name"].is_null() && first["created_at"].is_string() && first["last_seen_at"].is_string());

    let mut again = expo("phone");
    again["device_name"] = json!("Ana's phone");
    let refreshed = body_of(app.post(MINE, Some(&me.access), again).await, StatusCode::OK).await;
    assert_eq!(refreshed["id"], first["id"]);
    assert_eq!(refreshed["device_name"], "Ana's phone");

    let apns = "a1".repeat(32);
    created(app.post(MINE, Some(&me.access), json!({"token": apns, "provider": "apns"})).await).await;
    let listed = tokens_of(&app, &me).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["provider"], "apns", "most recently seen first");

    // Another user's token is not found; one's own goes.
    let other = app.member().await;
    let path = format!("{MINE}/{}", first["id"].as_str().unwrap());
    problem(app.call(Method::DELETE, &path, Some(&other.access), None).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.call(Method::DELETE, &path, Some(&me.access), None).await.status(), StatusCode::NO_CONTENT);
    problem(app.call(Method::DELETE, &path, Some(&me.access), None).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(tokens_of(&app, &me).await.len(), 1);
}

#[tokio::test]
async fn tokens_are_checked_against_their_provider() {
    let app = TestApp::spawn().await;
    let me = app.member().await;
    for body in [
        json!({"token": "ExponentPushToken[]", "provider": "expo"}),
        json!({"token": "short", "provider": "fcm"}),
        json!({"token": "abc", "provider": "apns"}),
        json!({"token": "http://push.example.com/x", "provider": "webpush"}),
    ] {
        let r = app.post(MINE, Some(&me.access), body.clone()).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(p["errors"].as_object().unwrap().keys().collect::<Vec<_>>(), ["token"], "{body}");
    }
    let r = app.post(MINE, Some(&me.access), json!({"token": "x", "provider": "pigeon"})).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(p["errors"]["provider"].is_array() && p["errors"]["token"].is_array(), "{p}");
    let fcm = format!("fcm:{}", "A-b_9".repeat(30));
    created(app.post(MINE, Some(&me.access), json!({"token": fcm, "provider": "fcm"})).await).await;
    let endpoint = "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA";
    created(app.post(MINE, Some(&me.access), json!({"token": endpoint, "provider": "webpush"})).await).await;
    assert!(tokens_of(&app, &me).await.iter().all(|t| t["token"] != "x"));
}

#[tokio::test]
async fn a_token_moves_to_its_new_holder_and_a_user_keeps_twenty() {
    let app = TestApp::spawn().await;
    let ana = app.member().await;
    let bob = app.member().await;
    created(app.post(MINE, Some(&ana.access), expo("shared")).await).await;
    // The device changed hands: new to Bob, gone from Ana.
    created(app.post(MINE, Some(&bob.access), expo("shared")).await).await;
    assert!(tokens_of(&app, &ana).await.is_empty());
    assert_eq!(tokens_of(&app, &bob).await.len(), 1);

    for i in 0..20 {
        created(app.post(MINE, Some(&bob.access), expo(&format!("device-{i}"))).await).await;
    }
    let listed = tokens_of(&app, &bob).await;
    assert_eq!(listed.len(), 20);
    assert!(listed.iter().all(|t| t["token"] != "ExponentPushToken[shared]"), "the least recently seen went");
    assert_eq!(listed[0]["token"], "ExponentPushToken[device-19]");
}

#[tokio::test]
async fn hosts_read_their_members_tokens_with_the_permission() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "acme").await;
    let keys = format!("/api/v1/orgs/{org}/api-keys");
    let key = created(
        app.post(&keys, Some(&owner.access), json!({"name": "notifier", "permissions": ["push_tokens:read"]})).await,
    )
    .await;
    let key = key["secret"].as_str().unwrap().to_string();
    let without =
        created(app.post(&keys, Some(&owner.access), json!({"name": "reader", "permissions": ["users:read"]})).await)
            .await;
    let without = without["secret"].as_str().unwrap().to_string();

    // A member of acme with two devices, and an outsider with one.
    let member = app.member().await;
    let r = app.post(&format!("/api/v1/orgs/{org}/members"), Some(&root.access), json!({"user_id": member.id})).await;
    created(r).await;
    created(app.post(MINE, Some(&member.access), expo("m1")).await).await;
    created(app.post(MINE, Some(&member.access), expo("m2")).await).await;
    let outsider = app.member().await;
    created(app.post(MINE, Some(&outsider.access), expo("o1")).await).await;

    let emails = format!("{},{},nobody@example.com", member.email.to_uppercase(), outsider.email);
    let path = format!("/api/v1/push-tokens?email={emails}");
    let got = body_of(app.get(&path, Some(&key)).await, StatusCode::OK).await;
    let items = got["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only acme's members: {got}");
    assert_eq!(items[0]["user_id"], json!(member.id));
    assert_eq!(items[0]["email"], json!(member.email));
    let tokens: Vec<&str> =
        items[0]["tokens"].as_array().unwrap().iter().map(|t| t["token"].as_str().unwrap()).collect();
    assert_eq!(tokens, ["ExponentPushToken[m2]", "ExponentPushToken[m1]"]);
    assert!(items[0]["tokens"][0].get("id").is_none());

    let path = format!("/api/v1/push-tokens?user_id={},{},{}", member.id, outsider.id, uuid::Uuid::now_v7());
    let got = body_of(app.get(&path, Some(&key)).await, StatusCode::OK).await;
    assert_eq!(got["items"].as_array().unwrap().len(), 1, "{got}");
    // The owner holds it too, acting in acme; the other key and a plain member do not.
    let r = app.post("/api/v1/auth/login", None, json!({"email": owner.email, "password": PASSWORD, "org": org})).await;
    let owner_in_acme = session(body_of(r, StatusCode::OK).await);
    let got = body_of(app.get(&path, Some(&owner_in_acme.access)).await, StatusCode::OK).await;
    assert_eq!(got["items"][0]["user_id"], json!(member.id));
    problem(app.get(&path, Some(&owner.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(app.get(&path, Some(&without)).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(app.get(&path, Some(&member.access)).await, StatusCode::FORBIDDEN, "forbidden").await;

    // Exactly one of the two lists.
    let both = format!("/api/v1/push-tokens?user_id={}&email={}", member.id, member.email);
    problem(app.get(&both, Some(&key)).await, StatusCode::BAD_REQUEST, "invalid_query").await;
    problem(app.get("/api/v1/push-tokens", Some(&key)).await, StatusCode::BAD_REQUEST, "invalid_query").await;
    problem(app.get("/api/v1/push-tokens?user_id=x", Some(&key)).await, StatusCode::BAD_REQUEST, "invalid_query").await;
}
