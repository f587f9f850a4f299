//! `/users` administration.

use actix_web::test::TestRequest;
use mockall::predicate::*;
use roster_domain::{
    user::{Page, Paging, UserStatus},
    DEFAULT_ORG_ID,
};
use serde_json::json;

use crate::support::*;

fn admin_mocks() -> (Mocks, roster_domain::user::User) {
    let admin = user("admin@example.com", "admin");
    (Mocks::new().sign_in_as(&admin, admin_perms()), admin)
}

#[actix_web::test]
async fn list_has_data_meta_and_links() {
    let (mut m, _) = admin_mocks();
    m.users
        .expect_list()
        .withf(|q| {
            q.paging == Paging::Offset { page: 2 }
                && q.per_page == 2
                && q.filter.status == vec![UserStatus::Active]
                && q.filter.q.as_deref() == Some("ada")
        })
        .returning(|q| {
            Ok(Page {
                items: vec![user("a@example.com", "member"), user("b@example.com", "member")],
                total: Some(5),
                page: Some(2),
                per_page: q.per_page,
                has_more: true,
            })
        });
    let r = send(
        m.state(),
        TestRequest::get()
            .uri("/api/v1/users?q=ada&status=active&page=2&limit=2&sort=-created_at")
            .insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["meta"], json!({"page": 2, "per_page": 2, "total": 5, "total_pages": 3}));
    let base = "/api/v1/users?q=ada&status=active&sort=-created_at";
    assert_eq!(
        body["links"],
        json!({
            "self": format!("{base}&page=2&per_page=2"),
            "first": format!("{base}&page=1&per_page=2"),
            "prev": format!("{base}&page=1&per_page=2"),
            "next": format!("{base}&page=3&per_page=2"),
            "last": format!("{base}&page=3&per_page=2"),
        })
    );
}

#[actix_web::test]
async fn list_ends_have_null_links_and_members_are_forbidden() {
    let (mut m, _) = admin_mocks();
    m.users.expect_list().returning(|q| {
        Ok(Page { items: vec![], total: Some(0), page: Some(1), per_page: q.per_page, has_more: false })
    });
    let r = send(m.state(), TestRequest::get().uri("/api/v1/users").insert_header(bearer(GOOD_TOKEN))).await;
    let body = r.json();
    assert_eq!(body["links"]["prev"], json!(null));
    assert_eq!(body["links"]["next"], json!(null));
    assert_eq!(body["meta"]["per_page"], 20);

    let member = user("m@example.com", "member");
    let r = send(
        Mocks::new().sign_in_as(&member, vec![]).state(),
        TestRequest::get().uri("/api/v1/users").insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    let p = r.problem(403, "forbidden");
    assert!(p["detail"].as_str().unwrap().contains("users:read"));
}

#[actix_web::test]
async fn count_applies_the_filters() {
    let (mut m, _) = admin_mocks();
    m.users.expect_count().withf(|_, f| f.email == vec!["a@example.com".to_string()]).returning(|_, _| Ok(7));
    let r = send(
        m.state(),
        TestRequest::get().uri("/api/v1/users/count?email=a%40example.com").insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"count": 7}));
}

#[actix_web::test]
async fn create_answers_201_with_location() {
    let (mut m, _) = admin_mocks();
    // Granting `admin` takes the admin role's permissions, which the caller holds.
    m.roles.expect_role_by_name().returning(|org, name| {
        Ok(Some(roster_domain::org::Role {
            id: uuid::Uuid::now_v7(),
            org_id: org,
            name: name.into(),
            title: None,
            description: None,
            permissions: admin_perms(),
            builtin: true,
            requires_location: false,
            created_at: chrono::Utc::now(),
        }))
    });
    m.hasher.expect_hash().returning(|_| Ok("$hash".into()));
    m.users.expect_create().returning(|rec, _| {
        // A platform account: a member of the default organization.
        assert_eq!(rec.membership.managed_by(), DEFAULT_ORG_ID);
        let mut u = user(rec.email.as_str(), "admin");
        u.id = rec.id;
        Ok(u)
    });
    let body = json!({"email": "new@example.com", "password": "a long enough password", "role": "admin"});
    let r = send(
        m.state(),
        TestRequest::post()
            .uri("/api/v1/users")
            .insert_header(bearer(GOOD_TOKEN))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_string()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["role"], "admin");
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/users/{}", body["id"].as_str().unwrap()));
}

#[actix_web::test]
async fn get_patch_put_delete_one_user() {
    let (mut m, _) = admin_mocks();
    let target = user("t@example.com", "member");
    let id = target.id;
    let t = target.clone();
    m.users.expect_get().with(eq(id)).returning(move |_| Ok(Some(t.clone())));
    m.users.expect_get().returning(|_| Ok(None));
    let t = target.clone();
    m.users.expect_update().returning(move |_, c, _, _| {
        let mut u = t.clone();
        u.name = c.name.clone().apply(u.name);
        Ok(Some(u))
    });
    m.users.expect_delete().with(eq(id)).times(1).returning(|_| Ok(true));
    let state = m.state();
    let uri = format!("/api/v1/users/{id}");
    let json_req = |req: TestRequest, body: serde_json::Value| {
        req.uri(&uri)
            .insert_header(bearer(GOOD_TOKEN))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_string())
    };

    let r = send(state.clone(), TestRequest::get().uri(&uri).insert_header(bearer(GOOD_TOKEN))).await;
    assert_eq!(r.json()["email"], "t@example.com");
    let r = send(
        state.clone(),
        TestRequest::get().uri(&format!("/api/v1/users/{}", uuid::Uuid::now_v7())).insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    r.problem(404, "not_found");

    let r = send(state.clone(), json_req(TestRequest::patch(), json!({"name": "Renamed"}))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "Renamed");
    let r = send(state.clone(), json_req(TestRequest::put(), json!({"email": "t@example.com"}))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], json!(null));
    let r = send(state.clone(), json_req(TestRequest::put(), json!({"name": "no email"}))).await;
    assert!(r.problem(422, "validation_failed")["errors"]["email"].is_array());

    let r = send(state, TestRequest::delete().uri(&uri).insert_header(bearer(GOOD_TOKEN))).await;
    assert_eq!(r.status, 204, "{}", r.text());
}

#[actix_web::test]
async fn status_changes() {
    let (mut m, admin) = admin_mocks();
    let target = user("t@example.com", "member");
    let id = target.id;
    m.users.expect_get().returning(move |_| Ok(Some(target.clone())));
    m.users.expect_set_status().returning(|id, status, _| {
        let mut u = user("t@example.com", "member");
        u.id = id;
        u.status = status;
        Ok(Some(u))
    });
    let state = m.state();
    for (action, status) in [("deactivate", "inactive"), ("ban", "banned"), ("activate", "active")] {
        let r = send(
            state.clone(),
            TestRequest::post().uri(&format!("/api/v1/users/{id}/{action}")).insert_header(bearer(GOOD_TOKEN)),
        )
        .await;
        assert_eq!(r.status, 200, "{action}: {}", r.text());
        assert_eq!(r.json()["status"], status);
    }
    let r = send(
        state,
        TestRequest::post().uri(&format!("/api/v1/users/{}/ban", admin.id)).insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    r.problem(403, "forbidden");
}
