//! Organizations end to end: tenants with their own roles, permissions,
//! locations and members, and nobody seeing into another tenant.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_tenant_with_venues_and_location_bound_roles() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "tenant").await;
    let base = format!("/api/v1/orgs/{org}");
    // Only superadmins create organizations.
    let r = app.post("/api/v1/orgs", Some(&owner.access), json!({"name": "Mine", "slug": "mine"})).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let dup = app.post("/api/v1/orgs", Some(&root.access), json!({"name": "Again", "slug": "tenant"})).await;
    problem(dup, StatusCode::CONFLICT, "slug_taken").await;

    // The owner sees their organizations, builds venues and roles.
    let mine: Value = app.get("/api/v1/orgs", Some(&owner.access)).await.json().await.unwrap();
    let slugs: Vec<&str> = mine["data"].as_array().unwrap().iter().map(|o| o["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, vec!["default", "tenant"]);
    let venue = created(
        app.post(
            &format!("{base}/locations"),
            Some(&owner.access),
            json!({"name": "Harbour Hall", "timezone": "Europe/Copenhagen", "keywords": ["waterfront", "hall B"]}),
        )
        .await,
    )
    .await;
    created(
        app.post(
            &format!("{base}/locations"),
            Some(&owner.access),
            json!({"name": "Uptown", "timezone": "Europe/Paris"}),
        )
        .await,
    )
    .await;
    let found: Value = app.get(&format!("{base}/locations?q=WATER"), Some(&owner.access)).await.json().await.unwrap();
    assert_eq!(found["meta"]["total"], 1);
    assert_eq!(found["data"][0]["name"], "Harbour Hall");
    let bad =
        app.post(&format!("{base}/locations"), Some(&owner.access), json!({"name": "", "timezone": "Mars/Base"})).await;
    let body = problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"].as_object().unwrap().len(), 2);

    created(
        app.post(
            &format!("{base}/roles"),
            Some(&owner.access),
            json!({"name": "venue", "permissions": ["users:read"], "requires_location": true}),
        )
        .await,
    )
    .await;
    created(
        app.post(
            &format!("{base}/permissions"),
            Some(&owner.access),
            json!({"name": "guests:check_in", "description": "Check guests in"}),
        )
        .await,
    )
    .await;
    created(
        app.post(
            &format!("{base}/roles"),
            Some(&owner.access),
            json!({"name": "front-desk", "permissions": ["guests:check_in"]}),
        )
        .await,
    )
    .await;
    let unknown = app
        .post(&format!("{base}/roles"), Some(&owner.access), json!({"name": "x", "permissions": ["beacons:toggle"]}))
        .await;
    problem(unknown, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // The tenant's owner cannot pull in users by id: that takes a platform administrator.
    let staff = app.register(&unique_email("venue-staff")).await;
    let r = app.post(&format!("{base}/members"), Some(&owner.access), json!({"user_id": staff.id})).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    // A venue role needs a venue.
    let r =
        app.post(&format!("{base}/members"), Some(&root.access), json!({"user_id": staff.id, "role": "venue"})).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["location_id"].is_array());
    let m = created(
        app.post(
            &format!("{base}/members"),
            Some(&root.access),
            json!({"user_id": staff.id, "role": "venue", "location_id": venue["id"]}),
        )
        .await,
    )
    .await;
    assert_eq!((m["role"].as_str(), m["location_id"].as_str()), (Some("venue"), venue["id"].as_str()));
    let again = app.post(&format!("{base}/members"), Some(&root.access), json!({"user_id": staff.id})).await;
    problem(again, StatusCode::CONFLICT, "already_member").await;
    let desk = app.register(&unique_email("front-desk")).await;
    created(
        app.post(&format!("{base}/members"), Some(&root.access), json!({"user_id": desk.id, "role": "front-desk"}))
            .await,
    )
    .await;

    // Members are listed like the directory, with their role here.
    let members: Value = app
        .get(&format!("{base}/members?sort=email&fields=id,email,role"), Some(&staff.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["meta"]["total"], 3, "{members}");
    let roles: Vec<&str> = members["data"].as_array().unwrap().iter().map(|u| u["role"].as_str().unwrap()).collect();
    assert!(roles.contains(&"owner") && roles.contains(&"venue") && roles.contains(&"front-desk"), "{roles:?}");
    let venues: Value = app.get(&format!("{base}/members?role=venue"), Some(&staff.access)).await.json().await.unwrap();
    assert_eq!(venues["meta"]["total"], 1);
    // The front desk may not read users (no users:read) nor manage anything.
    problem(app.get(&format!("{base}/members"), Some(&desk.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.post(&format!("{base}/roles"), Some(&desk.access), json!({"name": "boss", "permissions": []})).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    // In use: the venue and its role cannot go while someone has them.
    let del = app
        .call(Method::DELETE, &format!("{base}/locations/{}", venue["id"].as_str().unwrap()), Some(&owner.access), None)
        .await;
    problem(del, StatusCode::CONFLICT, "in_use").await;
}

#[tokio::test]
async fn nobody_sees_into_another_tenant() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (acme, acme_owner) = org_with_owner(&app, &root, "acme").await;
    let (_globex, globex_owner) = org_with_owner(&app, &root, "globex").await;
    let loc = created(
        app.post(
            &format!("/api/v1/orgs/{acme}/locations"),
            Some(&acme_owner.access),
            json!({"name": "HQ", "timezone": "UTC"}),
        )
        .await,
    )
    .await;
    let roles: Value =
        app.get(&format!("/api/v1/orgs/{acme}/roles"), Some(&acme_owner.access)).await.json().await.unwrap();
    let role_id = roles["data"][0]["id"].as_str().unwrap().to_string();
    let loc_path = format!("/api/v1/orgs/{acme}/locations/{}", loc["id"].as_str().unwrap());
    let t = Some(globex_owner.access.as_str());
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/orgs/{acme}"), None),
        (Method::PATCH, format!("/api/v1/orgs/{acme}"), Some(json!({"name": "Mine now"}))),
        (Method::GET, format!("/api/v1/orgs/{acme}/roles"), None),
        (Method::DELETE, format!("/api/v1/orgs/{acme}/roles/{role_id}"), None),
        (Method::GET, loc_path.clone(), None),
        (Method::DELETE, loc_path.clone(), None),
        (Method::GET, format!("/api/v1/orgs/{acme}/members"), None),
        (
            Method::POST,
            format!("/api/v1/orgs/{acme}/members"),
            Some(json!({"user_id": globex_owner.id, "role": "owner"})),
        ),
        (Method::GET, format!("/api/v1/orgs/{acme}/permissions"), None),
    ] {
        let r = app.call(method.clone(), &path, t, body).await;
        problem(r, StatusCode::NOT_FOUND, "not_found").await;
    }
    let r = app.get(&format!("/api/v1/permissions?org_id={acme}"), t).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    // Still there, unchanged, for its own owner.
    assert_eq!(app.get(&loc_path, Some(&acme_owner.access)).await.status(), StatusCode::OK);
    let acme_doc: Value =
        app.get(&format!("/api/v1/orgs/{acme}"), Some(&acme_owner.access)).await.json().await.unwrap();
    assert_eq!(acme_doc["name"], "ACME");
}

#[tokio::test]
async fn roles_change_and_an_organization_keeps_an_owner() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "events").await;
    let base = format!("/api/v1/orgs/{org}");
    for (name, perms) in [("attendee", json!([])), ("staff", json!(["users:read"]))] {
        created(
            app.post(&format!("{base}/roles"), Some(&owner.access), json!({"name": name, "permissions": perms})).await,
        )
        .await;
    }
    let guest = app.register(&unique_email("guest")).await;
    created(
        app.post(&format!("{base}/members"), Some(&root.access), json!({"user_id": guest.id, "role": "attendee"}))
            .await,
    )
    .await;
    let path = format!("{base}/members/{}", guest.id);
    for role in ["staff", "admin"] {
        let r = app.call(Method::PATCH, &path, Some(&owner.access), Some(json!({"role": role}))).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["role"], role);
    }
    // An admin now: manages members, but makes no owners and cannot touch the owner.
    let r = app
        .call(
            Method::PATCH,
            &format!("{base}/members/{}", owner.id),
            Some(&guest.access),
            Some(json!({"role": "member"})),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let newcomer = app.register(&unique_email("newcomer")).await;
    let r = app
        .post(&format!("{base}/members"), Some(&guest.access), json!({"user_id": newcomer.id, "role": "owner"}))
        .await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.call(Method::PATCH, &path, Some(&guest.access), Some(json!({"role": "owner"}))).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;

    // The only owner can be neither demoted nor removed, even by a superadmin.
    let owner_path = format!("{base}/members/{}", owner.id);
    let r = app.call(Method::PATCH, &owner_path, Some(&root.access), Some(json!({"role": "admin"}))).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    problem(app.call(Method::DELETE, &owner_path, Some(&root.access), None).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    // With a second owner, the first may go.
    let r = app.call(Method::PATCH, &path, Some(&owner.access), Some(json!({"role": "owner"}))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.call(Method::DELETE, &owner_path, Some(&guest.access), None).await.status(), StatusCode::NO_CONTENT);
    // The built-in roles stay; a custom role in use cannot go.
    let roles: Value = app.get(&format!("{base}/roles"), Some(&guest.access)).await.json().await.unwrap();
    let id_of = |name: &str| {
        roles["data"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let r = app.call(Method::DELETE, &format!("{base}/roles/{}", id_of("member")), Some(&guest.access), None).await;
    problem(r, StatusCode::CONFLICT, "invalid_state").await;
    let staff_id = id_of("staff");
    assert_eq!(
        app.call(Method::DELETE, &format!("{base}/roles/{staff_id}"), Some(&guest.access), None).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn per_member_permissions_for_a_host_application() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "beacons").await;
    let base = format!("/api/v1/orgs/{org}");
    for name in ["beacons:toggle", "metrics:view"] {
        created(app.post(&format!("{base}/permissions"), Some(&owner.access), json!({"name": name})).await).await;
    }
    let catalogue: Value =
        app.get(&format!("/api/v1/permissions?org_id={org}"), Some(&owner.access)).await.json().await.unwrap();
    let names: Vec<&str> = catalogue["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"users:read") && names.contains(&"beacons:toggle"));
    let u = app.register(&unique_email("tech")).await;
    created(app.post(&format!("{base}/members"), Some(&root.access), json!({"user_id": u.id})).await).await;
    let perms = format!("{base}/members/{}/permissions", u.id);
    let r = app
        .call(Method::PUT, &perms, Some(&owner.access), Some(json!({"permissions": ["beacons:toggle", "nope"]})))
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let r = app.call(Method::PUT, &perms, Some(&owner.access), Some(json!({"permissions": ["beacons:toggle"]}))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let m: Value = app.get(&perms, Some(&owner.access)).await.json().await.unwrap();
    assert_eq!(m["extra_permissions"], json!(["beacons:toggle"]));
    // A registered permission in use cannot be dropped; the member cannot grant themselves more.
    let r = app.call(Method::DELETE, &format!("{base}/permissions/beacons:toggle"), Some(&owner.access), None).await;
    problem(r, StatusCode::CONFLICT, "in_use").await;
    let r = app.call(Method::PUT, &perms, Some(&u.access), Some(json!({"permissions": ["metrics:view"]}))).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;

    // Deleting the organization keeps its users.
    assert_eq!(app.call(Method::DELETE, &base, Some(&root.access), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me", Some(&u.access)).await.status(), StatusCode::OK);
    problem(app.get(&base, Some(&root.access)).await, StatusCode::NOT_FOUND, "not_found").await;
    let default = format!("/api/v1/orgs/{}", roster_domain::DEFAULT_ORG_ID);
    problem(app.call(Method::DELETE, &default, Some(&root.access), None).await, StatusCode::CONFLICT, "invalid_state")
        .await;
}

#[tokio::test]
async fn tokens_carry_the_active_organization_only() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "switch").await;
    let (other, _) = org_with_owner(&app, &root, "elsewhere").await;
    // Default organization first: a plain member there.
    let c = claims(&owner.access);
    assert_eq!(
        (c["org"].as_str(), c["role"].as_str()),
        (Some(roster_domain::DEFAULT_ORG_ID.to_string().as_str()), Some("member"))
    );

    let r = app.post("/api/v1/auth/login", None, json!({"email": owner.email, "password": PASSWORD, "org": org})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!((c["org"].as_str(), c["role"].as_str()), (Some(org.as_str()), Some("owner")));
    assert!(c["perms"].as_array().unwrap().iter().any(|p| p == "roles:manage"));
    let in_org = session(body);
    // Its users are the organization's members, not the platform's.
    let users: Value = app.get("/api/v1/users", Some(&in_org.access)).await.json().await.unwrap();
    let ids: Vec<&str> = users["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [owner.id.as_str()], "{users}");
    assert_eq!(
        (users["data"][0]["org_id"].as_str(), users["data"][0]["role"].as_str()),
        (Some(org.as_str()), Some("owner"))
    );
    assert_eq!(app.get("/api/v1/me", Some(&in_org.access)).await.status(), StatusCode::OK);

    // Not a member: 404, whether logging in or switching.
    let r =
        app.post("/api/v1/auth/login", None, json!({"email": owner.email, "password": PASSWORD, "org": other})).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": in_org.refresh, "org": other})).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    // The refused switch spent nothing: the same token switches back to the default organization.
    let r = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": in_org.refresh, "org": roster_domain::DEFAULT_ORG_ID}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let back = session(r.json().await.unwrap());
    assert_eq!(claims(&back.access)["org"], roster_domain::DEFAULT_ORG_ID.to_string());

    // A session in an organization ends with the membership.
    let colleague = app.register(&unique_email("colleague")).await;
    let base = format!("/api/v1/orgs/{org}");
    created(
        app.post(&format!("{base}/members"), Some(&root.access), json!({"user_id": colleague.id, "role": "admin"}))
            .await,
    )
    .await;
    let r =
        app.post("/api/v1/auth/login", None, json!({"email": colleague.email, "password": PASSWORD, "org": org})).await;
    let theirs = session(r.json().await.unwrap());
    assert_eq!(app.get("/api/v1/me", Some(&theirs.access)).await.status(), StatusCode::OK);
    let r = app.call(Method::DELETE, &format!("{base}/members/{}", colleague.id), Some(&root.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get("/api/v1/me", Some(&theirs.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    // Their default-organization session is untouched.
    assert_eq!(app.get("/api/v1/me", Some(&colleague.access)).await.status(), StatusCode::OK);
}
