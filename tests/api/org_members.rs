//! Deactivating and activating members of an organization end to end: the
//! organization's decision alone, ending the member's sessions there at once
//! and keeping them out until reactivated, while their account, their
//! default-organization session and their other organizations carry on.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Logs `who` in, acting in `org`.
async fn login_in(app: &TestApp, who: &Session, org: &str) -> reqwest::Response {
    app.post("/api/v1/auth/login", None, json!({"email": who.email, "password": PASSWORD, "org": org})).await
}

/// A new user, added to `org` with `role` by the superadmin.
async fn new_member(app: &TestApp, root: &Session, org: &str, role: &str) -> Session {
    let user = app.register(&unique_email(role)).await;
    let body = json!({"user_id": user.id, "role": role});
    body_of(app.post(&format!("/api/v1/orgs/{org}/members"), Some(&root.access), body).await, StatusCode::CREATED)
        .await;
    user
}

async fn set(app: &TestApp, org: &str, user: &str, action: &str, token: &str) -> reqwest::Response {
    app.call(Method::POST, &format!("/api/v1/orgs/{org}/members/{user}/{action}"), Some(token), None).await
}

fn slugs(orgs: &Value) -> Vec<String> {
    orgs["data"].as_array().unwrap().iter().map(|o| o["slug"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_deactivated_member_cannot_act_in_the_organization_until_reactivated() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "venue").await;
    let (elsewhere, _) = org_with_owner(&app, &root, "elsewhere").await;
    let bob = new_member(&app, &root, &org, "member").await;
    // Bob also belongs to another organization, which is not this one's business.
    let r =
        app.post(&format!("/api/v1/orgs/{elsewhere}/members"), Some(&root.access), json!({"user_id": bob.id})).await;
    body_of(r, StatusCode::CREATED).await;
    let bob_here = session(body_of(login_in(&app, &bob, &org).await, StatusCode::OK).await);
    let bob_there = session(body_of(login_in(&app, &bob, &elsewhere).await, StatusCode::OK).await);
    assert_eq!(app.get(&format!("/api/v1/orgs/{org}"), Some(&bob_here.access)).await.status(), StatusCode::OK);

    let member_url = format!("/api/v1/orgs/{org}/members/{}", bob.id);
    let off = body_of(set(&app, &org, &bob.id, "deactivate", &owner.access).await, StatusCode::OK).await;
    assert_eq!((off["user_id"].as_str(), off["active"].as_bool()), (Some(bob.id.as_str()), Some(false)));
    assert_eq!(off["role"], "member");

    // His session in the organization is over at once; so is logging in or switching to it.
    let r = app.get("/api/v1/me", Some(&bob_here.access)).await;
    problem(r, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(login_in(&app, &bob, &org).await, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": bob.refresh, "org": org})).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    // To him the organization no longer exists.
    problem(app.get(&format!("/api/v1/orgs/{org}"), Some(&bob.access)).await, StatusCode::NOT_FOUND, "not_found").await;
    let mine = body_of(app.get("/api/v1/orgs", Some(&bob.access)).await, StatusCode::OK).await;
    assert_eq!(slugs(&mine), ["default", "elsewhere"]);
    // His account, his default-organization session and his other organization carry on.
    assert_eq!(app.get("/api/v1/me", Some(&bob.access)).await.status(), StatusCode::OK);
    assert_eq!(app.get("/api/v1/me", Some(&bob_there.access)).await.status(), StatusCode::OK);
    let profile =
        body_of(app.get(&format!("/api/v1/users/{}", bob.id), Some(&root.access)).await, StatusCode::OK).await;
    assert_eq!(profile["status"], "active");

    // The organization still lists him, as inactive; deactivating again changes nothing.
    let shown = body_of(app.get(&member_url, Some(&owner.access)).await, StatusCode::OK).await;
    assert_eq!(shown, off);
    let listed =
        body_of(app.get(&format!("/api/v1/orgs/{org}/members"), Some(&owner.access)).await, StatusCode::OK).await;
    assert!(listed["data"].as_array().unwrap().iter().any(|u| u["id"] == bob.id.as_str()), "{listed}");
    let again = body_of(set(&app, &org, &bob.id, "deactivate", &owner.access).await, StatusCode::OK).await;
    assert_eq!(again, off);

    // Reactivated, he logs in to the organization and acts there again.
    let on = body_of(set(&app, &org, &bob.id, "activate", &owner.access).await, StatusCode::OK).await;
    assert_eq!(on["active"], true);
    let bob_back = session(body_of(login_in(&app, &bob, &org).await, StatusCode::OK).await);
    assert_eq!(app.get(&format!("/api/v1/orgs/{org}"), Some(&bob_back.access)).await.status(), StatusCode::OK);
    let mine = body_of(app.get("/api/v1/orgs", Some(&bob.access)).await, StatusCode::OK).await;
    assert_eq!(slugs(&mine), ["default", "elsewhere", "venue"]);
    // The session that was ended stays ended.
    problem(app.get("/api/v1/me", Some(&bob_here.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

#[tokio::test]
async fn who_may_deactivate_whom() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "club").await;
    let (_, foreign_owner) = org_with_owner(&app, &root, "rival").await;
    let bob = new_member(&app, &root, &org, "member").await;
    let carol = new_member(&app, &root, &org, "admin").await;

    // A plain member may not; another tenant's owner does not see the organization.
    problem(set(&app, &org, &carol.id, "deactivate", &bob.access).await, StatusCode::FORBIDDEN, "forbidden").await;
    let r = set(&app, &org, &bob.id, "deactivate", &foreign_owner.access).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = set(&app, &org, &bob.id, "activate", &foreign_owner.access).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    // Nobody deactivates themselves, not even the owner.
    problem(set(&app, &org, &owner.id, "deactivate", &owner.access).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(set(&app, &org, &carol.id, "deactivate", &carol.access).await, StatusCode::FORBIDDEN, "forbidden").await;
    // An admin manages members but not owners.
    problem(set(&app, &org, &owner.id, "deactivate", &carol.access).await, StatusCode::FORBIDDEN, "forbidden").await;
    let off = body_of(set(&app, &org, &bob.id, "deactivate", &carol.access).await, StatusCode::OK).await;
    assert_eq!(off["active"], false);
    // A deactivated admin manages nothing: to her the organization is gone.
    body_of(set(&app, &org, &carol.id, "deactivate", &owner.access).await, StatusCode::OK).await;
    problem(set(&app, &org, &bob.id, "activate", &carol.access).await, StatusCode::NOT_FOUND, "not_found").await;
    // Unknown members are not found.
    let stranger = app.register(&unique_email("stranger")).await;
    problem(set(&app, &org, &stranger.id, "deactivate", &owner.access).await, StatusCode::NOT_FOUND, "not_found").await;

    // The last active owner stays, even for a superadmin.
    let body =
        problem(set(&app, &org, &owner.id, "deactivate", &root.access).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(body["detail"].as_str().unwrap().contains("owner"), "{body}");
    let member =
        body_of(app.get(&format!("/api/v1/orgs/{org}/members/{}", owner.id), Some(&root.access)).await, StatusCode::OK)
            .await;
    assert_eq!(member["active"], true);
    // The default organization's members are the platform's users: deactivate the user instead.
    let r = set(&app, &roster_domain::DEFAULT_ORG_ID.to_string(), &bob.id, "deactivate", &root.access).await;
    problem(r, StatusCode::CONFLICT, "invalid_state").await;
}
