//! Seed 001's story end to end: an account (an organization) with its users,
//! invited by email, listed and shown; per-user permissions of the host
//! application (account and user management, beacons, metrics) that reach
//! the users' tokens; users deactivated and reactivated by the account.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

fn perms_of(access: &str) -> Vec<String> {
    claims(access)["perms"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect()
}

async fn login_in(app: &TestApp, email: &str, org: &str) -> reqwest::Response {
    app.post("/api/v1/auth/login", None, json!({"email": email, "password": PASSWORD, "org": org})).await
}

/// `POST {base}/members/{user}/{action}` (activate, deactivate) as `who`.
async fn set(app: &TestApp, base: &str, who: &Session, user: &str, action: &str) -> reqwest::Response {
    app.call(Method::POST, &format!("{base}/members/{user}/{action}"), Some(&who.access), None).await
}

#[tokio::test]
async fn an_account_invites_its_users_grants_them_permissions_and_switches_them_off() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let manager = app.register(&unique_email("manager")).await;
    let body = json!({"name": "Beacon Co", "slug": "beacon-co", "owner_id": manager.id});
    let account = body_of(app.post("/api/v1/orgs", Some(&root.access), body).await, StatusCode::CREATED).await;
    let account = account["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/orgs/{account}");

    // The host application's permissions.
    for name in ["beacons:add", "beacons:toggle", "metrics:view"] {
        let r = app.post(&format!("{base}/permissions"), Some(&manager.access), json!({"name": name})).await;
        body_of(r, StatusCode::CREATED).await;
    }

    // Users invited by email: one new to the platform, one with an account.
    let (ann, ben) = (unique_email("ann"), app.register(&unique_email("ben")).await);
    for email in [ann.as_str(), ben.email.as_str()] {
        let r = app.post(&format!("{base}/invitations"), Some(&manager.access), json!({"email": email})).await;
        body_of(r, StatusCode::CREATED).await;
    }
    let accept = "/api/v1/auth/org-invitations/accept";
    let token = token_in(&invitation_to(&app, &ann, 1).await);
    let body = json!({"token": token, "password": PASSWORD, "name": "Ann Example"});
    let ann = session(body_of(app.post(accept, None, body).await, StatusCode::OK).await);
    let token = token_in(&invitation_to(&app, &ben.email, 1).await);
    body_of(app.post(accept, None, json!({"token": token})).await, StatusCode::OK).await;

    // All users of the account, and one of them.
    let users = body_of(
        app.get(&format!("{base}/members?sort=email&fields=id,email,name"), Some(&manager.access)).await,
        StatusCode::OK,
    )
    .await;
    let emails: Vec<&str> = users["data"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    let mut expected = vec![manager.email.as_str(), ann.email.as_str(), ben.email.as_str()];
    expected.sort();
    assert_eq!(emails, expected);
    let one =
        body_of(app.get(&format!("{base}/members/{}", ann.id), Some(&manager.access)).await, StatusCode::OK).await;
    assert_eq!((one["role"].as_str(), one["active"].as_bool()), (Some("member"), Some(true)));

    // Per-user permissions: Ann manages users and beacons, Ben only sees metrics.
    let perms = json!({"permissions": ["members:manage", "beacons:add", "beacons:toggle", "metrics:view"]});
    let url = format!("{base}/members/{}/permissions", ann.id);
    body_of(app.call(Method::PUT, &url, Some(&manager.access), Some(perms)).await, StatusCode::OK).await;
    let perms = json!({"permissions": ["metrics:view"]});
    let url = format!("{base}/members/{}/permissions", ben.id);
    body_of(app.call(Method::PUT, &url, Some(&manager.access), Some(perms)).await, StatusCode::OK).await;
    let ann_here = session(body_of(login_in(&app, &ann.email, &account).await, StatusCode::OK).await);
    let ben_here = session(body_of(login_in(&app, &ben.email, &account).await, StatusCode::OK).await);
    assert!(perms_of(&ann_here.access).iter().any(|p| p == "beacons:toggle"));
    let ben_perms = perms_of(&ben_here.access);
    assert!(ben_perms.contains(&"metrics:view".to_string()) && !ben_perms.contains(&"beacons:toggle".to_string()));

    // Ann, a user manager now, switches Ben off and on again; Ben cannot do it to her.
    problem(set(&app, &base, &ben_here, &ann.id, "deactivate").await, StatusCode::FORBIDDEN, "forbidden").await;
    let off = body_of(set(&app, &base, &ann_here, &ben.id, "deactivate").await, StatusCode::OK).await;
    assert_eq!(off["active"], false);
    problem(app.get(&base, Some(&ben_here.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(login_in(&app, &ben.email, &account).await, StatusCode::NOT_FOUND, "not_found").await;
    body_of(set(&app, &base, &ann_here, &ben.id, "activate").await, StatusCode::OK).await;
    body_of(login_in(&app, &ben.email, &account).await, StatusCode::OK).await;
}
