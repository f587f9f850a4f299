use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn admin_creates_reads_updates_and_deletes_a_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let email = unique_email("new");
    let r = app
        .post("/api/v1/users", Some(&admin.access), json!({"email": email, "password": PASSWORD, "name": "New Hire", "phone": "+45 12 34 56 78", "profile": {"employee_id": "E-7", "position": "Engineer"}, "attributes": {"team": "core"}, "email_verified": true}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers().get("location").unwrap().to_str().unwrap().to_string();
    let user: Value = r.json().await.unwrap();
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/users/{id}"));
    assert_eq!(user["profile"]["employee_id"], "E-7");
    assert_eq!(user["email_verified"], true);

    let got: Value = app.get(&location, Some(&admin.access)).await.json().await.unwrap();
    assert_eq!(got, user);

    // PATCH merges; a changed email becomes unverified.
    let r = app
        .call(
            Method::PATCH,
            &location,
            Some(&admin.access),
            Some(json!({"email": unique_email("moved"), "profile": {"position": "Lead"}})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let patched: Value = r.json().await.unwrap();
    assert_eq!(patched["email_verified"], false);
    assert_eq!(patched["profile"]["position"], "Lead");
    assert_eq!(patched["profile"]["employee_id"], "E-7");
    assert_eq!(patched["name"], "New Hire");

    // PUT replaces: what is left out is cleared.
    let r = app
        .call(
            Method::PUT,
            &location,
            Some(&admin.access),
            Some(json!({"email": patched["email"], "name": "Only Name"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let replaced: Value = r.json().await.unwrap();
    assert_eq!(replaced["name"], "Only Name");
    assert!(replaced["phone"].is_null());
    assert!(replaced["profile"]["employee_id"].is_null());
    assert_eq!(replaced["attributes"], json!({}));

    let r = app.call(Method::DELETE, &location, Some(&admin.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get(&location, Some(&admin.access)).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(app.call(Method::DELETE, &location, Some(&admin.access), None).await, StatusCode::NOT_FOUND, "not_found")
        .await;
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let victim = app.register(&unique_email("gone")).await;
    let r = app.call(Method::DELETE, &format!("/api/v1/users/{}", victim.id), Some(&admin.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get("/api/v1/me", Some(&victim.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(app.login(&victim.email, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn status_actions_are_idempotent() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let u = app.register(&unique_email("st")).await;
    for (action, status) in [
        ("deactivate", "inactive"),
        ("deactivate", "inactive"),
        ("activate", "active"),
        ("activate", "active"),
        ("ban", "banned"),
        ("ban", "banned"),
    ] {
        let r = app.post(&format!("/api/v1/users/{}/{action}", u.id), Some(&admin.access), json!({})).await;
        assert_eq!(r.status(), StatusCode::OK, "{action}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], status);
    }
    // Re-activated users sign in again.
    app.post(&format!("/api/v1/users/{}/activate", u.id), Some(&admin.access), json!({})).await;
    assert_eq!(app.login(&u.email, PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn list_pages_sorts_and_filters() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for i in 0..5 {
        let r = app.post("/api/v1/users", Some(&admin.access), json!({"email": format!("list{i}@corp.example.com"), "password": PASSWORD, "name": format!("Lister {i}")})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = app.get("/api/v1/users?q=corp.example&per_page=2&page=2&sort=-email", Some(&admin.access)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["meta"]["total"], 5);
    assert_eq!(body["meta"]["total_pages"], 3);
    assert_eq!(body["meta"]["page"], 2);
    let emails: Vec<&str> = body["data"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, vec!["list2@corp.example.com", "list1@corp.example.com"]);
    assert!(body["links"]["next"].as_str().unwrap().contains("page=3"));
    assert!(body["links"]["prev"].as_str().unwrap().contains("page=1"));
    // limit is an alias of per_page; email is exact and case-insensitive.
    let body: Value =
        app.get("/api/v1/users?email=LIST3@corp.example.com&limit=10", Some(&admin.access)).await.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let body: Value =
        app.get("/api/v1/users/count?name=lister&status=active", Some(&admin.access)).await.json().await.unwrap();
    assert_eq!(body["count"], 5);
    problem(
        app.get("/api/v1/users?sort=password", Some(&admin.access)).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    problem(app.get("/api/v1/users?per_page=101", Some(&admin.access)).await, StatusCode::BAD_REQUEST, "invalid_query")
        .await;
    problem(app.get("/api/v1/users?page=abc", Some(&admin.access)).await, StatusCode::BAD_REQUEST, "invalid_query")
        .await;
}

/// Every endpoint as anonymous, member, another member, admin and superadmin.
#[tokio::test]
async fn authorization_matrix() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let admin = app.admin().await;
    let member = app.member().await;
    let other = app.member().await;
    let target = format!("/api/v1/users/{}", other.id);
    let root_path = format!("/api/v1/users/{}", root.id);

    // Anonymous: 401 everywhere.
    for (m, p) in [
        (Method::GET, "/api/v1/users".to_string()),
        (Method::GET, "/api/v1/users/count".into()),
        (Method::GET, target.clone()),
        (Method::DELETE, target.clone()),
        (Method::GET, "/api/v1/me".into()),
    ] {
        problem(app.call(m, &p, None, None).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    // A member: own record yes, others and admin endpoints no.
    assert_eq!(app.get(&format!("/api/v1/users/{}", member.id), Some(&member.access)).await.status(), StatusCode::OK);
    let own = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{}", member.id),
            Some(&member.access),
            Some(json!({"name": "Me Myself"})),
        )
        .await;
    assert_eq!(own.status(), StatusCode::OK);
    problem(
        app.call(
            Method::PATCH,
            &format!("/api/v1/users/{}", member.id),
            Some(&member.access),
            Some(json!({"email": unique_email("sneaky")})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    problem(app.get(&target, Some(&member.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(
        app.call(Method::PATCH, &target, Some(&member.access), Some(json!({"name": "Hacked"}))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(
        app.call(Method::PUT, &target, Some(&member.access), Some(json!({"email": other.email}))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(app.call(Method::DELETE, &target, Some(&member.access), None).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    problem(
        app.post(&format!("{target}/ban"), Some(&member.access), json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(app.get("/api/v1/users", Some(&member.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(app.get("/api/v1/users/count", Some(&member.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(
        app.post("/api/v1/users", Some(&member.access), json!({"email": unique_email("m"), "password": PASSWORD}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let untouched: Value = app.get(&target, Some(&admin.access)).await.json().await.unwrap();
    assert!(untouched["name"].is_null());

    // An admin manages members, but not superadmins, and cannot grant owner.
    assert_eq!(app.get(&target, Some(&admin.access)).await.status(), StatusCode::OK);
    assert_eq!(
        app.call(Method::PATCH, &target, Some(&admin.access), Some(json!({"name": "Renamed"}))).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get("/api/v1/users", Some(&admin.access)).await.status(), StatusCode::OK);
    problem(
        app.post(&format!("{root_path}/ban"), Some(&admin.access), json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(
        app.call(Method::PATCH, &root_path, Some(&admin.access), Some(json!({"name": "x"}))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(app.call(Method::DELETE, &root_path, Some(&admin.access), None).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    problem(
        app.post(
            "/api/v1/users",
            Some(&admin.access),
            json!({"email": unique_email("o"), "password": PASSWORD, "role": "owner"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(
        app.post(&format!("/api/v1/users/{}/ban", admin.id), Some(&admin.access), json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The superadmin does everything.
    assert_eq!(
        app.post(&format!("/api/v1/users/{}/deactivate", admin.id), Some(&root.access), json!({})).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.call(Method::DELETE, &target, Some(&root.access), None).await.status(), StatusCode::NO_CONTENT);
    let r = app
        .post(
            "/api/v1/users",
            Some(&root.access),
            json!({"email": unique_email("owner"), "password": PASSWORD, "role": "owner"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    problem(
        app.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()), Some(&admin.access)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    problem(app.get("/api/v1/users/not-a-uuid", Some(&admin.access)).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn mass_assignment_is_blocked() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin.access),
            json!({"email": unique_email("mass"), "password": PASSWORD, "is_superadmin": true}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["is_superadmin"].is_array(), "{body}");
}
