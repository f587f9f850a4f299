//! Tenants administer their own users through `/users`, in their own
//! organization's session or with its API key: seed 002's venue Wi-Fi
//! tenant, seed 001's beacon account, seed 004's door staff — and another
//! tenant who sees none of it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Seed 002's password rules: 8–30 characters with a digit, a symbol, an
/// upper- and a lower-case letter.
const VENUE_PASSWORD: &str = "Fr0nt-Desk!";

/// A tenant: an organization whose owner is signed in to it.
struct Tenant {
    id: String,
    owner: Session,
}

async fn tenant(app: &TestApp, root: &Session, slug: &str) -> Tenant {
    let (id, owner) = org_with_owner(app, root, slug).await;
    let body = json!({"email": owner.email, "password": PASSWORD, "org": id});
    let owner = session(body_of(app.post("/api/v1/auth/login", None, body).await, StatusCode::OK).await);
    Tenant { id, owner }
}

async fn put(app: &TestApp, path: &str, who: &Session, body: Value) -> reqwest::Response {
    app.call(Method::PUT, path, Some(&who.access), Some(body)).await
}

async fn patch(app: &TestApp, path: &str, who: &Session, body: Value) -> reqwest::Response {
    app.call(Method::PATCH, path, Some(&who.access), Some(body)).await
}

async fn post_empty(app: &TestApp, path: &str, who: &str) -> reqwest::Response {
    app.call(Method::POST, path, Some(who), None).await
}

fn ids(list: &Value) -> Vec<&str> {
    list["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_venue_tenant_administers_its_front_desk_users() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let venue = tenant(&app, &root, "iperawifi").await;
    let admin = &venue.owner;
    let base = format!("/api/v1/orgs/{}", venue.id);

    // The tenant's rules: its password policy, its roles, its venues.
    let policy = json!({"password_policy": {"min_length": 8, "max_length": 30, "require_digit": true,
        "require_symbol": true, "require_upper": true, "require_lower": true}});
    body_of(patch(&app, &base, admin, policy).await, StatusCode::OK).await;
    let weaker = json!({"password_policy": {"min_length": 4}});
    let r =
        problem(patch(&app, &base, admin, weaker).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(r["errors"]["password_policy.min_length"].is_array(), "{r}");
    for (name, title, requires_location) in
        [("tenant", "Tenant Admin", false), ("venue", "Venue Admin", true), ("front-desk", "Front Desk", true)]
    {
        let body = json!({"name": name, "title": title, "requires_location": requires_location});
        body_of(app.post(&format!("{base}/roles"), Some(&admin.access), body).await, StatusCode::CREATED).await;
    }
    let body = json!({"name": "Concert Venue", "timezone": "Europe/Istanbul"});
    let hall =
        body_of(app.post(&format!("{base}/locations"), Some(&admin.access), body).await, StatusCode::CREATED).await;
    let hall = hall["id"].as_str().unwrap().to_string();

    // Every bad field of a new user in one 422.
    let body = json!({"name": "John", "email": "not-an-address", "role": "front-desk",
        "password": "weakpass", "password_confirmation": "weakpas"});
    let r = problem(
        app.post("/api/v1/users", Some(&admin.access), body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut fields: Vec<&str> = r["errors"].as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "location_id", "password", "password_confirmation"], "{r}");
    let body = json!({"email": unique_email("x"), "password": VENUE_PASSWORD, "role": "bartender"});
    let r = problem(
        app.post("/api/v1/users", Some(&admin.access), body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(r["errors"]["role"].is_array(), "{r}");

    // Front-desk users at the venue: managed by the tenant, in 002's shape.
    let mut desk = Vec::new();
    for (i, status) in ["active", "active", "inactive"].into_iter().enumerate() {
        let email = unique_email(&format!("desk{i}"));
        let body = json!({"name": format!("John Doe {i}"), "email": email, "role": "front-desk", "status": status,
            "location_id": hall, "password": VENUE_PASSWORD, "password_confirmation": VENUE_PASSWORD});
        let user = created(app.post("/api/v1/users", Some(&admin.access), body).await).await;
        assert_eq!(
            (user["role"].as_str(), user["role_name"].as_str(), user["org_name"].as_str()),
            (Some("front-desk"), Some("Front Desk"), Some("IPERAWIFI"))
        );
        assert_eq!(
            (user["location_id"].as_str(), user["location_name"].as_str()),
            (Some(hall.as_str()), Some("Concert Venue"))
        );
        assert_eq!((user["status"].as_str(), user["managed"].as_bool()), (Some(status), Some(true)));
        assert!(user.get("managed_by").is_none(), "a tenant sees `managed`, not who manages: {user}");
        desk.push((user["id"].as_str().unwrap().to_string(), email));
    }

    // Its users: searched by name or email, at most 100 a page, counted.
    let list =
        body_of(app.get("/api/v1/users?name=john%20doe&per_page=100", Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3, "{list}");
    assert_eq!(list["meta"]["total"], 3);
    problem(app.get("/api/v1/users?per_page=101", Some(&admin.access)).await, StatusCode::BAD_REQUEST, "invalid_query")
        .await;
    let by_email = format!("/api/v1/users?email={}", desk[1].1);
    assert_eq!(
        ids(&body_of(app.get(&by_email, Some(&admin.access)).await, StatusCode::OK).await),
        [desk[1].0.as_str()]
    );
    let count = body_of(
        app.get("/api/v1/users/count?status=active&role=front-desk", Some(&admin.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(count["count"], 2);
    let at_hall = format!("/api/v1/users/count?location_id={hall}");
    assert_eq!(body_of(app.get(&at_hall, Some(&admin.access)).await, StatusCode::OK).await["count"], 3);

    // A front-desk user signs in to the venue without naming it.
    let r = app.post("/api/v1/auth/login", None, json!({"email": desk[0].1, "password": VENUE_PASSWORD})).await;
    let signed_in = body_of(r, StatusCode::OK).await;
    let c = claims(signed_in["access_token"].as_str().unwrap());
    assert_eq!((c["org"].as_str(), c["role"].as_str()), (Some(venue.id.as_str()), Some("front-desk")));

    // Updated with PUT: the account's fields, its role; a venue role keeps its venue.
    let url = format!("/api/v1/users/{}", desk[0].0);
    let body = json!({"name": "Jane Doe", "email": desk[0].1, "role": "venue"});
    let updated = body_of(put(&app, &url, admin, body).await, StatusCode::OK).await;
    assert_eq!(
        (updated["name"].as_str(), updated["role"].as_str(), updated["role_name"].as_str()),
        (Some("Jane Doe"), Some("venue"), Some("Venue Admin"))
    );
    assert_eq!(updated["location_id"].as_str(), Some(hall.as_str()));
    let r = patch(&app, &url, admin, json!({"role": "front-desk", "location_id": null})).await;
    let r = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(r["errors"]["location_id"].is_array(), "{r}");

    // Banned: signed out and refused at the door.
    let url = format!("/api/v1/users/{}/ban", desk[1].0);
    let banned = body_of(post_empty(&app, &url, &admin.access).await, StatusCode::OK).await;
    assert_eq!(banned["status"], "banned");
    let r = app.post("/api/v1/auth/login", None, json!({"email": desk[1].1, "password": VENUE_PASSWORD})).await;
    problem(r, StatusCode::FORBIDDEN, "account_disabled").await;
    let url = format!("/api/v1/users/{}/deactivate", desk[0].0);
    assert_eq!(body_of(post_empty(&app, &url, &admin.access).await, StatusCode::OK).await["status"], "inactive");
}

#[tokio::test]
async fn a_beacon_account_updates_its_users_and_switches_them_off() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let account = tenant(&app, &root, "beacon-co").await;
    let admin = &account.owner;
    let base = format!("/api/v1/orgs/{}", account.id);

    // One user new to the platform (the account manages them), one who has an account already.
    let (ann, ben) = (unique_email("ann"), app.register(&unique_email("ben")).await);
    for email in [ann.as_str(), ben.email.as_str()] {
        let r = app.post(&format!("{base}/invitations"), Some(&admin.access), json!({"email": email})).await;
        body_of(r, StatusCode::CREATED).await;
    }
    let accept = "/api/v1/auth/org-invitations/accept";
    let token = token_in(&invitation_to(&app, &ann, 1).await);
    let ann = session(
        body_of(app.post(accept, None, json!({"token": token, "password": PASSWORD})).await, StatusCode::OK).await,
    );
    // A new address becomes the account's own, signed in to it.
    assert_eq!(claims(&ann.access)["org"].as_str(), Some(account.id.as_str()));
    let token = token_in(&invitation_to(&app, &ben.email, 1).await);
    body_of(app.post(accept, None, json!({"token": token})).await, StatusCode::OK).await;

    // The account's users, in 001's shape.
    let users = body_of(app.get("/api/v1/users?sort=email", Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(users["meta"]["total"], 3, "{users}");
    // Names, email, locale and time zone of a user it manages.
    let url = format!("/api/v1/users/{}", ann.id);
    let body = json!({"given_name": "Ann", "family_name": "Example", "locale": "da", "timezone": "Europe/Copenhagen"});
    let ann_now = body_of(patch(&app, &url, admin, body).await, StatusCode::OK).await;
    assert_eq!((ann_now["locale"].as_str(), ann_now["timezone"].as_str()), (Some("da"), Some("Europe/Copenhagen")));
    assert_eq!(ann_now["managed"], true);
    let new_address = unique_email("ann-new");
    let ann_now = body_of(patch(&app, &url, admin, json!({"email": new_address})).await, StatusCode::OK).await;
    assert_eq!(
        (ann_now["email"].as_str(), ann_now["email_verified"].as_bool()),
        (Some(new_address.as_str()), Some(false))
    );
    app.letter_to(&new_address, "/verify-email?token=").await;
    // Not its account: the membership is the account's to manage, not the profile.
    let url = format!("/api/v1/users/{}", ben.id);
    let r = problem(patch(&app, &url, admin, json!({"locale": "fr"})).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(r["reason"], "not_managed");
    let r = problem(
        post_empty(&app, &format!("{url}/deactivate"), &admin.access).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(r["reason"], "not_managed");
    body_of(post_empty(&app, &format!("{base}/members/{}/deactivate", ben.id), &admin.access).await, StatusCode::OK)
        .await;

    // Deactivated, then activated again.
    let url = format!("/api/v1/users/{}/deactivate", ann.id);
    body_of(post_empty(&app, &url, &admin.access).await, StatusCode::OK).await;
    let r = app.post("/api/v1/auth/login", None, json!({"email": new_address, "password": PASSWORD})).await;
    problem(r, StatusCode::FORBIDDEN, "account_disabled").await;
    let url = format!("/api/v1/users/{}/activate", ann.id);
    body_of(post_empty(&app, &url, &admin.access).await, StatusCode::OK).await;
    // Ann is the account's own: she lands in it.
    let signed_in = body_of(
        app.post("/api/v1/auth/login", None, json!({"email": new_address, "password": PASSWORD})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(claims(signed_in["access_token"].as_str().unwrap())["org"].as_str(), Some(account.id.as_str()));
}

#[tokio::test]
async fn door_staff_create_attendees_with_the_organizations_key_and_other_tenants_see_none_of_it() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let event = tenant(&app, &root, "hackathon").await;
    let other = tenant(&app, &root, "elsewhere").await;

    // The door app holds a key of the event with users:* only.
    let body = json!({"name": "door", "permissions": ["users:read", "users:write"]});
    let key = body_of(
        app.post(&format!("/api/v1/orgs/{}/api-keys", event.id), Some(&event.owner.access), body).await,
        StatusCode::CREATED,
    )
    .await;
    let key = key["secret"].as_str().unwrap().to_string();
    let email = unique_email("attendee");
    let body = json!({"email": email, "name": "At The Door", "phone": "+4512345678", "send_invite": true,
        "attributes": {"ticket": "A-17", "team": "rustaceans"}});
    let attendee = created(app.post("/api/v1/users", Some(&key), body).await).await;
    assert_eq!((attendee["status"].as_str(), attendee["managed"].as_bool()), (Some("pending"), Some(true)));
    let id = attendee["id"].as_str().unwrap().to_string();
    // A second time: an answer the event is given sparingly.
    let r = app.post("/api/v1/users", Some(&key), json!({"email": email, "send_invite": true})).await;
    problem(r, StatusCode::CONFLICT, "email_taken").await;

    // The attendee accepts and lands in the event.
    let token = token_in(&app.letter_to(&email, "/accept-invitation?token=").await);
    let accepted =
        app.post("/api/v1/auth/invitations/accept", None, json!({"token": token, "password": PASSWORD})).await;
    let accepted = body_of(accepted, StatusCode::OK).await;
    let c = claims(accepted["access_token"].as_str().unwrap());
    assert_eq!((c["org"].as_str(), c["role"].as_str()), (Some(event.id.as_str()), Some("member")));

    // The event sees its attendee; another tenant sees nothing of it.
    let seen = body_of(app.get(&format!("/api/v1/users/{id}"), Some(&key)).await, StatusCode::OK).await;
    assert_eq!(seen["attributes"]["ticket"], "A-17");
    let theirs = body_of(app.get("/api/v1/users", Some(&other.owner.access)).await, StatusCode::OK).await;
    assert_eq!(ids(&theirs), [other.owner.id.as_str()]);
    let url = format!("/api/v1/users/{id}");
    problem(app.get(&url, Some(&other.owner.access)).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(patch(&app, &url, &other.owner, json!({"name": "Mine"})).await, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.call(Method::DELETE, &url, Some(&other.owner.access), None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let count = body_of(
        app.get(&format!("/api/v1/users/count?email={email}"), Some(&other.owner.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(count["count"], 0);
    // The platform sees who manages the account.
    let platform = body_of(app.get(&url, Some(&root.access)).await, StatusCode::OK).await;
    assert_eq!(platform["managed_by"].as_str(), Some(event.id.as_str()));

    // Deleting it there removes the account everywhere.
    let r = app.call(Method::DELETE, &url, Some(&event.owner.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get(&url, Some(&root.access)).await, StatusCode::NOT_FOUND, "not_found").await;
}
