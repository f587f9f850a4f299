//! API keys end to end: a host service acting in its organization with the
//! key's permissions, and nowhere else.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_key_is_shown_once_works_in_its_organization_only_and_stops_when_revoked() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "acme").await;
    let (other, _) = org_with_owner(&app, &root, "globex").await;
    let keys = format!("/api/v1/orgs/{org}/api-keys");

    let body = json!({"name": "booking-service", "permissions": ["users:read", "roles:manage"]});
    let r = app.post(&keys, Some(&owner.access), body).await;
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_string();
    let key = created(r).await;
    let secret = key["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("rsk_") && secret.starts_with(key["prefix"].as_str().unwrap()));
    assert_eq!(key["created_by"], json!(owner.id));
    assert!(key["last_used_at"].is_null());

    // Listings and reads never show the secret again.
    let listed = app.get(&keys, Some(&owner.access)).await.text().await.unwrap();
    assert!(!listed.contains(&secret) && listed.contains(key["prefix"].as_str().unwrap()));

    // The key reads its organization, with exactly its permissions.
    let r = app.get(&format!("/api/v1/orgs/{org}/members"), Some(&secret)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.post(&format!("/api/v1/orgs/{org}/roles"), Some(&secret), json!({"name": "host"})).await;
    created(r).await;
    let body = json!({"name": "X", "timezone": "UTC"});
    let r = app.post(&format!("/api/v1/orgs/{org}/locations"), Some(&secret), body).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let orgs: Value = app.get("/api/v1/orgs", Some(&secret)).await.json().await.unwrap();
    assert_eq!(orgs["data"].as_array().unwrap().len(), 1);
    assert_eq!(orgs["data"][0]["id"], json!(org));
    let used: Value = app.get(&location, Some(&owner.access)).await.json().await.unwrap();
    assert!(used["last_used_at"].is_string(), "{used}");

    // Another organization does not exist for it, nor a self; its users are
    // its organization's members, not the platform's.
    problem(app.get(&format!("/api/v1/orgs/{other}/members"), Some(&secret)).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    let users: Value = app.get("/api/v1/users", Some(&secret)).await.json().await.unwrap();
    let ids: Vec<&str> = users["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [owner.id.as_str()], "{users}");
    problem(app.get("/api/v1/me", Some(&secret)).await, StatusCode::FORBIDDEN, "forbidden").await;

    // Revoked: refused at once, gone from the list.
    let r = app.call(Method::DELETE, &location, Some(&owner.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get(&format!("/api/v1/orgs/{org}"), Some(&secret)).await, StatusCode::UNAUTHORIZED, "invalid_token")
        .await;
    let r = app.call(Method::DELETE, &location, Some(&owner.access), None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let listed: Value = app.get(&keys, Some(&owner.access)).await.json().await.unwrap();
    assert_eq!(listed["data"], json!([]));
}

#[tokio::test]
async fn keys_hold_no_more_than_their_maker_and_other_tenants_cannot_see_them() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "acme").await;
    let (_, foreign) = org_with_owner(&app, &root, "globex").await;
    let keys = format!("/api/v1/orgs/{org}/api-keys");

    // A key that may make keys may only make weaker ones.
    let body = json!({"name": "provisioner", "permissions": ["api_keys:manage", "users:read"]});
    let maker = created(app.post(&keys, Some(&owner.access), body).await).await;
    let maker_secret = maker["secret"].as_str().unwrap();
    let r = app.post(&keys, Some(maker_secret), json!({"name": "wider", "permissions": ["users:write"]})).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.post(&keys, Some(maker_secret), json!({"name": "narrower", "permissions": ["users:read"]})).await;
    assert!(created(r).await["created_by"].is_null());

    // Unknown permissions, empty names and past expiries are listed together.
    let body = json!({"name": " ", "permissions": ["beacons:toggle"], "expires_at": "2001-01-01T00:00:00Z"});
    let errors = problem(
        app.post(&keys, Some(&owner.access), body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    for field in ["name", "permissions[0]", "expires_at"] {
        assert!(errors["errors"][field].is_array(), "{field}: {errors}");
    }

    // Another tenant's owner sees nothing, whatever the method.
    let key = format!("{keys}/{}", maker["id"].as_str().unwrap());
    problem(app.get(&keys, Some(&foreign.access)).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(app.get(&key, Some(&foreign.access)).await, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.call(Method::DELETE, &key, Some(&foreign.access), None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    // A garbage key is a 401 like any bad token, not a 500.
    problem(app.get("/api/v1/orgs", Some("rsk_not-a-key")).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn a_default_organization_key_administers_the_platform_users() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let default = format!("/api/v1/orgs/{}/api-keys", roster_domain::DEFAULT_ORG_ID);
    let body = json!({"name": "door-app", "permissions": ["users:read", "users:write"]});
    let key = created(app.post(&default, Some(&root.access), body).await).await;
    let secret = key["secret"].as_str().unwrap();
    let email = unique_email("door");
    let body = json!({"email": email, "name": "At The Door", "send_invite": true, "attributes": {"ticket": "A-17"}});
    let user = created(app.post("/api/v1/users", Some(secret), body).await).await;
    assert_eq!(user["status"], "pending");
    // The invitation went out, from nobody in particular.
    let mail = app.mail_to(&email, 1).await;
    assert!(!token_in(&mail).is_empty());
    // It cannot mint an administrator stronger than itself.
    let body = json!({"email": unique_email("boss"), "password": PASSWORD, "role": "admin"});
    problem(app.post("/api/v1/users", Some(secret), body).await, StatusCode::FORBIDDEN, "forbidden").await;
    let id = user["id"].as_str().unwrap();
    let r = app.call(Method::DELETE, &format!("/api/v1/users/{id}"), Some(secret), None).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
}
