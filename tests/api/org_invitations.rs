//! Inviting into an organization end to end: a host service with its
//! organization's API key invites people, new and existing alike, and gets
//! nothing anywhere else; the inviter never learns which addresses have an
//! account.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// The invitation's fields that do not depend on the address.
fn shape(invitation: &Value) -> Value {
    let mut v = invitation.clone();
    for k in ["id", "email", "created_at", "expires_at"] {
        v[k] = Value::Null;
    }
    v
}

#[tokio::test]
async fn a_host_service_invites_people_into_its_organization_and_nowhere_else() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "venues").await;
    let (other, _) = org_with_owner(&app, &root, "rivals").await;
    let key = created(
        app.post(
            &format!("/api/v1/orgs/{org}/api-keys"),
            Some(&owner.access),
            json!({"name": "booking", "permissions": ["members:manage", "users:read"]}),
        )
        .await,
    )
    .await;
    let key = key["secret"].as_str().unwrap().to_string();
    let invitations = format!("/api/v1/orgs/{org}/invitations");

    // One address has an account, one has not: the service cannot tell.
    let existing = app.register(&unique_email("existing")).await;
    let newcomer = unique_email("newcomer");
    let a = created(app.post(&invitations, Some(&key), json!({"email": existing.email})).await).await;
    let b = created(app.post(&invitations, Some(&key), json!({"email": newcomer, "locale": "fr"})).await).await;
    assert_eq!(shape(&a), shape(&b));
    assert_eq!(
        (a["status"].as_str(), a["role"].as_str(), &a["invited_by"]),
        (Some("pending"), Some("member"), &Value::Null)
    );

    // And nowhere else.
    let r =
        app.post(&format!("/api/v1/orgs/{other}/invitations"), Some(&key), json!({"email": unique_email("x")})).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;

    // The newcomer chooses a password: a verified account, a member, signed in.
    let mail = invitation_to(&app, &newcomer, 1).await;
    let subject = mail.subject.clone().unwrap_or_default();
    assert!(subject.contains("VENUES"), "{subject}");
    let token = token_in(&mail);
    let accept = "/api/v1/auth/org-invitations/accept";
    let r = app.post(accept, None, json!({"token": token})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let r = app.post(accept, None, json!({"token": token, "password": PASSWORD, "name": "Nora New"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let signed: Value = r.json().await.unwrap();
    assert_eq!(
        (signed["user"]["email_verified"].as_bool(), signed["user"]["status"].as_str()),
        (Some(true), Some("active"))
    );
    problem(
        app.post(accept, None, json!({"token": token, "password": PASSWORD})).await,
        StatusCode::GONE,
        "link_token_used",
    )
    .await;
    let r = app.post("/api/v1/auth/login", None, json!({"email": newcomer, "password": PASSWORD, "org": org})).await;
    assert_eq!(r.status(), StatusCode::OK);

    // The existing account joins with the link alone; its password stays.
    let token = token_in(&invitation_to(&app, &existing.email, 1).await);
    let r = app.post(accept, None, json!({"token": token, "password": "an attempt to change it"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let joined: Value = r.json().await.unwrap();
    assert_eq!(
        (joined["org_id"].as_str(), joined["user_id"].as_str()),
        (Some(org.as_str()), Some(existing.id.as_str()))
    );
    app.login_ok_with(&existing.email, PASSWORD).await;

    // Both are members now, as the service sees them.
    let members: Value =
        app.get(&format!("/api/v1/orgs/{org}/members?sort=email"), Some(&key)).await.json().await.unwrap();
    let emails: Vec<&str> = members["data"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert!(emails.contains(&existing.email.as_str()) && emails.contains(&newcomer.as_str()), "{emails:?}");
    let listed: Value = app.get(&format!("{invitations}?status=accepted"), Some(&key)).await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn reinviting_supersedes_revoking_closes_and_other_tenants_see_nothing() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "acme").await;
    let (_, foreign) = org_with_owner(&app, &root, "globex").await;
    let invitations = format!("/api/v1/orgs/{org}/invitations");
    let email = unique_email("twice");
    let venue = created(
        app.post(
            &format!("/api/v1/orgs/{org}/locations"),
            Some(&owner.access),
            json!({"name": "Hall", "timezone": "Europe/Paris"}),
        )
        .await,
    )
    .await;
    let desk = json!({"name": "desk", "requires_location": true});
    created(app.post(&format!("/api/v1/orgs/{org}/roles"), Some(&owner.access), desk).await).await;

    // A role that needs a location, without one: every bad field at once.
    let body = json!({"email": "not an address", "role": "desk"});
    let errors = problem(
        app.post(&invitations, Some(&owner.access), body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(errors["errors"]["email"].is_array() && errors["errors"]["location_id"].is_array(), "{errors}");

    let body = json!({"email": email, "role": "desk", "location_id": venue["id"]});
    created(app.post(&invitations, Some(&owner.access), body.clone()).await).await;
    let first = token_in(&invitation_to(&app, &email, 1).await);
    let second = created(app.post(&invitations, Some(&owner.access), body).await).await;
    let token = token_in(&invitation_to(&app, &email, 2).await);
    let accept = "/api/v1/auth/org-invitations/accept";
    let r = app.post(accept, None, json!({"token": first, "password": PASSWORD})).await;
    problem(r, StatusCode::GONE, "link_token_superseded").await;

    // Another tenant's owner can neither see nor withdraw it.
    let one = format!("{invitations}/{}", second["id"].as_str().unwrap());
    problem(app.get(&invitations, Some(&foreign.access)).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(app.call(Method::DELETE, &one, Some(&foreign.access), None).await, StatusCode::NOT_FOUND, "not_found")
        .await;

    // Withdrawn: the link is closed.
    assert_eq!(app.call(Method::DELETE, &one, Some(&owner.access), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.call(Method::DELETE, &one, Some(&owner.access), None).await.status(), StatusCode::NO_CONTENT);
    let r = app.post(accept, None, json!({"token": token, "password": PASSWORD})).await;
    problem(r, StatusCode::GONE, "link_token_superseded").await;
    let listed: Value =
        app.get(&format!("{invitations}?status=revoked"), Some(&owner.access)).await.json().await.unwrap();
    assert_eq!(listed["data"][0]["id"], second["id"]);
    problem(app.post(accept, None, json!({"token": "garbage"})).await, StatusCode::BAD_REQUEST, "link_token_invalid")
        .await;
}
