//! Settings end to end: JSON merge patches on `/me/settings` and
//! `/users/{id}/settings`, defaults, every bad key at once, the default
//! location of one's organizations, the size cap, and settings and a push
//! token given at creation.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const ME: &str = "/api/v1/me/settings";

/// `PATCH path` with a merge-patch body.
async fn merge(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    let r = app
        .client
        .patch(app.url(path))
        .bearer_auth(token)
        .header(header::CONTENT_TYPE, "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    crate::documented::check(&Method::PATCH, path, r.status()).unwrap();
    r
}

#[tokio::test]
async fn a_merge_patch_round_trip_with_defaults_restored_by_null() {
    let app = TestApp::spawn().await;
    let me = app.member().await;
    let defaults = json!({"notifications": {}, "reminder_advance": null, "default_location_id": null, "app": {}});
    assert_eq!(body_of(app.get(ME, Some(&me.access)).await, StatusCode::OK).await, defaults);

    let patch = json!({
        "notifications": {"invites": true, "booking_reminder": false, "email": true},
        "reminder_advance": "1_WEEK",
        "app": {"theme": "dark", "layout": {"sidebar": true}}
    });
    let got = body_of(merge(&app, ME, &me.access, patch).await, StatusCode::OK).await;
    assert_eq!(got["reminder_advance"], "P1W", "seed 003's 1_WEEK");
    assert_eq!(got["notifications"], json!({"invites": true, "booking_reminder": false, "email": true}));

    // Nested objects merge; null removes a key and restores its default.
    let patch = json!({
        "notifications": {"email": null, "invites": false},
        "reminder_advance": "P1DT12H",
        "app": {"layout": {"density": "compact"}, "theme": null}
    });
    let got = body_of(merge(&app, ME, &me.access, patch).await, StatusCode::OK).await;
    assert_eq!(
        got,
        json!({
            "notifications": {"invites": false, "booking_reminder": false},
            "reminder_advance": "P1DT12H",
            "default_location_id": null,
            "app": {"layout": {"sidebar": true, "density": "compact"}}
        })
    );
    // Plain JSON works too; what is stored is what is read.
    let r = app.call(Method::PATCH, ME, Some(&me.access), Some(json!({"reminder_advance": null, "app": null}))).await;
    let got = body_of(r, StatusCode::OK).await;
    assert_eq!(got["reminder_advance"], Value::Null);
    assert_eq!(got["app"], json!({}));
    assert_eq!(body_of(app.get(ME, Some(&me.access)).await, StatusCode::OK).await, got);
}

#[tokio::test]
async fn bad_patches_name_every_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let me = app.member().await;
    merge(&app, ME, &me.access, json!({"notifications": {"invites": true}})).await;

    let r =
        merge(&app, ME, &me.access, json!({"colour": "red", "language": null, "notifications": {"email": 1}})).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&String> = body["errors"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["colour", "language", "notifications.email"], "{body}");
    assert_eq!(body["errors"]["colour"].as_array().unwrap().len(), 1, "told once: {body}");

    let bad = json!({
        "notifications": {"bookingReminder": true, "sms": "yes"},
        "reminder_advance": "next week",
        "default_location_id": "HQ",
        "app": [1, 2]
    });
    let body =
        problem(merge(&app, ME, &me.access, bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&String> = body["errors"].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["app", "default_location_id", "notifications.bookingReminder", "notifications.sms", "reminder_advance"],
        "{body}"
    );

    // The 8 KiB cap of `app`.
    let big = json!({"app": {"blob": "x".repeat(8 * 1024)}});
    let body =
        problem(merge(&app, ME, &me.access, big).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["app"].is_array(), "{body}");
    let fits = json!({"app": {"blob": "x".repeat(8 * 1024 - 20)}});
    assert_eq!(merge(&app, ME, &me.access, fits).await.status(), StatusCode::OK);

    // Nothing of the refused patches was written.
    let got = body_of(app.get(ME, Some(&me.access)).await, StatusCode::OK).await;
    assert_eq!(got["notifications"], json!({"invites": true}));
    assert_eq!(got["reminder_advance"], Value::Null);
    // Not an object at all.
    let r = app.call(Method::PATCH, ME, Some(&me.access), Some(json!([1]))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_default_location_is_one_of_the_users_organizations() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "acme").await;
    let hq = body_of(
        app.post(
            &format!("/api/v1/orgs/{org}/locations"),
            Some(&owner.access),
            json!({"name": "HQ", "timezone": "UTC"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let hq = hq["id"].as_str().unwrap();

    let got = body_of(merge(&app, ME, &owner.access, json!({"default_location_id": hq})).await, StatusCode::OK).await;
    assert_eq!(got["default_location_id"], hq);

    let stranger = app.member().await;
    let r = merge(&app, ME, &stranger.access, json!({"default_location_id": hq})).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["default_location_id"].is_array(), "{body}");
    let unknown = uuid::Uuid::now_v7().to_string();
    let r = merge(&app, ME, &stranger.access, json!({"default_location_id": unknown})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn administrators_read_and_change_users_settings() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member = app.member().await;
    let other = app.member().await;
    let path = format!("/api/v1/users/{}/settings", member.id);

    let got =
        body_of(merge(&app, &path, &admin.access, json!({"notifications": {"invites": true}})).await, StatusCode::OK)
            .await;
    assert_eq!(got["notifications"]["invites"], true);
    let mine = body_of(app.get(ME, Some(&member.access)).await, StatusCode::OK).await;
    assert_eq!(mine, got);
    // The user through the same path; another member is refused.
    assert_eq!(body_of(app.get(&path, Some(&member.access)).await, StatusCode::OK).await, got);
    problem(app.get(&path, Some(&other.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(merge(&app, &path, &other.access, json!({})).await, StatusCode::FORBIDDEN, "forbidden").await;
    let unknown = format!("/api/v1/users/{}/settings", uuid::Uuid::now_v7());
    problem(app.get(&unknown, Some(&admin.access)).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_user_is_created_with_settings_and_a_push_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let email = unique_email("seeded");
    // Seed 000's `bookingReminder` is `booking_reminder` here.
    let body = json!({
        "email": email, "password": PASSWORD, "email_verified": true,
        "settings": {"notifications": {"invites": true, "bookingReminder": true}, "colour": "red"},
        "push_token": {"token": "nope", "provider": "expo"}
    });
    let r = app.post("/api/v1/users", Some(&admin.access), body).await;
    let problem_body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&String> = problem_body["errors"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["push_token.token", "settings.colour", "settings.notifications.bookingReminder"]);
    assert_eq!(problem_body["errors"]["settings.colour"].as_array().unwrap().len(), 1, "told once");

    let token = "ExponentPushToken[seed-000-device]";
    let body = json!({
        "email": email, "password": PASSWORD, "email_verified": true,
        "settings": {"notifications": {"invites": true, "booking_reminder": false}, "reminder_advance": "P7D"},
        "push_token": {"token": token, "provider": "expo"}
    });
    let user = created(app.post("/api/v1/users", Some(&admin.access), body).await).await;
    let path = format!("/api/v1/users/{}/settings", user["id"].as_str().unwrap());
    let got = body_of(app.get(&path, Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(got["notifications"], json!({"invites": true, "booking_reminder": false}));
    assert_eq!(got["reminder_advance"], "P1W");

    let session = app.login_ok(&email).await;
    let tokens = body_of(app.get("/api/v1/me/push-tokens", Some(&session.access)).await, StatusCode::OK).await;
    assert_eq!(tokens["items"][0]["token"], token, "{tokens}");
    assert_eq!(tokens["items"][0]["provider"], "expo");

    // A default location must be one of the organization the user joins.
    let body = json!({
        "email": unique_email("located"), "password": PASSWORD,
        "settings": {"default_location_id": uuid::Uuid::now_v7()}
    });
    let r = app.post("/api/v1/users", Some(&admin.access), body).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["settings.default_location_id"].is_array(), "{body}");
}
