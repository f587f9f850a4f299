//! `/orgs`, its roles, permissions, locations and members, and `/permissions`.

use actix_web::test::TestRequest;
use mockall::predicate::*;
use roster_domain::{
    org::{Location, Member, MemberOutcome, Membership, OrgPermission, Organization, Role},
    user::{Page, Paging, Scope, User},
    Conflict, RepoError,
};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::*;

fn org(id: Uuid) -> Organization {
    Organization {
        id,
        slug: "acme".into(),
        name: "Acme".into(),
        is_default: false,
        password_policy: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn role(org_id: Uuid, name: &str, permissions: &[&str]) -> Role {
    Role {
        id: Uuid::now_v7(),
        org_id,
        name: name.into(),
        title: None,
        description: None,
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        builtin: true,
        requires_location: false,
        created_at: now(),
    }
}

fn member(org_id: Uuid, user_id: Uuid, role: &str) -> Member {
    Member {
        org_id,
        user_id,
        role: role.into(),
        location_id: None,
        extra_permissions: vec![],
        active: true,
        created_at: now(),
    }
}

fn location(org_id: Uuid, name: &str) -> Location {
    Location {
        id: Uuid::now_v7(),
        org_id,
        name: name.into(),
        timezone: "Europe/Copenhagen".into(),
        keywords: vec!["waterfront".into()],
        created_at: now(),
        updated_at: now(),
    }
}

fn superadmin() -> User {
    let mut u = user("root@example.com", "owner");
    u.is_superadmin = true;
    u
}

/// Signed in as a non-superadmin whose membership in `org` (and nowhere
/// else) is `role` with `permissions`; `None` for a stranger.
fn member_mocks(org: Uuid, role: Option<(&str, &[&str])>) -> (Mocks, User) {
    let me = user("m@example.com", "member");
    let mut m = Mocks::new().sign_in_as(&me, vec![]);
    let membership = role.map(|(role, permissions)| Membership {
        org_id: org,
        user_id: me.id,
        role: role.into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    });
    m.members.expect_membership().with(eq(org), eq(me.id)).returning(move |_, _| Ok(membership.clone()));
    (m, me)
}

fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri).insert_header(bearer(GOOD_TOKEN))
}

fn with_json(req: TestRequest, uri: &str, body: Value) -> TestRequest {
    req.uri(uri)
        .insert_header(bearer(GOOD_TOKEN))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

#[actix_web::test]
async fn superadmins_create_organizations_others_are_forbidden() {
    let mut m = Mocks::new().sign_in_as(&superadmin(), vec![]);
    m.orgs
        .expect_create_org()
        .withf(|_, name, slug, owner, _| name == "Acme" && slug == "acme" && owner.is_none())
        .times(1)
        .returning(|id, _, _, _, _| Ok(org(id)));
    let r = send(m.state(), with_json(TestRequest::post(), "/api/v1/orgs", json!({"name": " Acme ", "slug": "acme"})))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["slug"], "acme");
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/orgs/{}", body["id"].as_str().unwrap()));

    let mut m = Mocks::new().sign_in_as(&superadmin(), vec![]);
    m.orgs.expect_create_org().returning(|_, _, _, _, _| Err(RepoError::Conflict(Conflict::SlugTaken)));
    let r =
        send(m.state(), with_json(TestRequest::post(), "/api/v1/orgs", json!({"name": "Acme", "slug": "acme"}))).await;
    r.problem(409, "slug_taken");

    // No `create_org` expectation: the repository is never asked.
    let someone = user("a@example.com", "owner");
    let m = Mocks::new().sign_in_as(&someone, admin_perms());
    let r =
        send(m.state(), with_json(TestRequest::post(), "/api/v1/orgs", json!({"name": "Acme", "slug": "acme"}))).await;
    r.problem(403, "forbidden");

    // Authentication comes before the body.
    let r = send(Mocks::new().state(), TestRequest::post().uri("/api/v1/orgs").set_payload("{not json")).await;
    r.problem(401, "unauthenticated");
}

#[actix_web::test]
async fn strangers_are_told_the_organization_does_not_exist() {
    let id = Uuid::now_v7();
    let (m, _) = member_mocks(id, None);
    let state = m.state();
    let other = Uuid::now_v7();
    let base = format!("/api/v1/orgs/{id}");
    for uri in [
        base.clone(),
        format!("{base}/roles"),
        format!("{base}/roles/{other}"),
        format!("{base}/permissions"),
        format!("{base}/locations"),
        format!("{base}/locations/{other}"),
        format!("{base}/members"),
        format!("{base}/members/{other}"),
        format!("{base}/members/{other}/permissions"),
        format!("/api/v1/permissions?org_id={id}"),
    ] {
        let r = send(state.clone(), get(&uri)).await;
        let p = r.problem(404, "not_found");
        assert!(p["detail"].as_str().unwrap().contains("organization"), "{uri}: {p}");
    }
    for (req, uri, body) in [
        (TestRequest::patch(), base.clone(), json!({"name": "Mine now"})),
        (TestRequest::post(), format!("{base}/roles"), json!({"name": "boss"})),
        (TestRequest::post(), format!("{base}/locations"), json!({"name": "HQ", "timezone": "UTC"})),
        (TestRequest::post(), format!("{base}/members"), json!({"user_id": other, "role": "owner"})),
        (TestRequest::put(), format!("{base}/members/{other}/permissions"), json!({"permissions": []})),
    ] {
        let r = send(state.clone(), with_json(req, &uri, body)).await;
        r.problem(404, "not_found");
    }
    for uri in [base.clone(), format!("{base}/roles/{other}"), format!("{base}/locations/{other}")] {
        let r = send(state.clone(), TestRequest::delete().uri(&uri).insert_header(bearer(GOOD_TOKEN))).await;
        r.problem(404, "not_found");
    }
}

#[actix_web::test]
async fn managing_roles_takes_roles_manage() {
    let id = Uuid::now_v7();
    let (m, _) = member_mocks(id, Some(("member", &["users:read"])));
    let r = send(
        m.state(),
        with_json(TestRequest::post(), &format!("/api/v1/orgs/{id}/roles"), json!({"name": "boss", "permissions": []})),
    )
    .await;
    let p = r.problem(403, "forbidden");
    assert!(p["detail"].as_str().unwrap().contains("roles:manage"), "{p}");
}

#[actix_web::test]
async fn members_read_roles_and_managers_create_them() {
    let id = Uuid::now_v7();
    let (mut m, _) = member_mocks(id, Some(("owner", &["roles:manage"])));
    m.roles
        .expect_list_roles()
        .with(eq(id))
        .returning(move |o| Ok(vec![role(o, "owner", &[]), role(o, "member", &[])]));
    m.roles.expect_list_permissions().returning(|_| Ok(vec![]));
    m.roles
        .expect_create_role()
        .withf(|r| r.name == "front-desk" && r.permissions == ["users:read"])
        .returning(|r| Ok(Role { id: r.id, builtin: false, ..role(r.org_id, &r.name, &["users:read"]) }));
    let state = m.state();
    let r = send(state.clone(), get(&format!("/api/v1/orgs/{id}/roles"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let names: Vec<Value> = r.json()["data"].as_array().unwrap().iter().map(|r| r["name"].clone()).collect();
    assert_eq!(names, [json!("owner"), json!("member")]);
    assert!(r.json().get("meta").is_none());

    let body = json!({"name": "front-desk", "permissions": ["users:read", "users:read"]});
    let r = send(state, with_json(TestRequest::post(), &format!("/api/v1/orgs/{id}/roles"), body)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["builtin"], false);
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/orgs/{id}/roles/{}", body["id"].as_str().unwrap()));
}

#[actix_web::test]
async fn a_role_input_lists_every_bad_field() {
    let id = Uuid::now_v7();
    let (m, _) = member_mocks(id, Some(("owner", &["roles:manage"])));
    let body = json!({"name": "Front Desk", "description": " ", "permissions": ["ok:yes", "nope"]});
    let r = send(m.state(), with_json(TestRequest::post(), &format!("/api/v1/orgs/{id}/roles"), body)).await;
    let p = r.problem(422, "validation_failed");
    let mut fields: Vec<&str> = p["errors"].as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["description", "name", "permissions[1]"]);
}

#[actix_web::test]
async fn malformed_ids_are_not_found_after_authentication() {
    let id = Uuid::now_v7();
    // No repository expectations: nothing is looked up.
    let me = user("m@example.com", "member");
    let state = Mocks::new().sign_in_as(&me, vec![]).state();
    for (uri, what) in [
        ("/api/v1/orgs/nope".to_string(), "organization"),
        ("/api/v1/orgs/nope/members".to_string(), "organization"),
        (format!("/api/v1/orgs/{id}/roles/nope"), "role"),
        (format!("/api/v1/orgs/{id}/locations/12345"), "location"),
        (format!("/api/v1/orgs/{id}/members/nope"), "member"),
        (format!("/api/v1/orgs/{id}/members/nope/permissions"), "member"),
    ] {
        let r = send(state.clone(), get(&uri)).await;
        let p = r.problem(404, "not_found");
        assert!(p["detail"].as_str().unwrap().contains(what), "{uri}: {p}");
    }
    let r = send(state.clone(), with_json(TestRequest::patch(), "/api/v1/orgs/nope", json!({"name": "x"}))).await;
    r.problem(404, "not_found");
    let r = send(state, TestRequest::get().uri("/api/v1/orgs/nope")).await;
    r.problem(401, "unauthenticated");
}

#[actix_web::test]
async fn unsupported_methods_are_405_with_allow() {
    let id = Uuid::now_v7();
    for (req, uri, allow) in [
        (TestRequest::put(), format!("/api/v1/orgs/{id}"), "GET, HEAD, PATCH, DELETE"),
        (TestRequest::delete(), "/api/v1/orgs".to_string(), "GET, HEAD, POST"),
        (TestRequest::post(), "/api/v1/permissions".to_string(), "GET, HEAD"),
        (TestRequest::get(), format!("/api/v1/orgs/{id}/permissions/beacons:toggle"), "DELETE"),
        (TestRequest::post(), format!("/api/v1/orgs/{id}/members/{id}/permissions"), "GET, HEAD, PUT"),
    ] {
        let r = send(Mocks::new().state(), req.uri(&uri)).await;
        r.problem(405, "method_not_allowed");
        assert_eq!(r.header("allow"), Some(allow), "{uri}");
    }
}

#[actix_web::test]
async fn members_are_listed_like_users_with_links_under_the_organization() {
    let id = Uuid::now_v7();
    let (mut m, _) = member_mocks(id, Some(("admin", &["users:read"])));
    m.users
        .expect_list()
        .withf(move |q| {
            q.scope == Scope::Org(id)
                && q.paging == Paging::Offset { page: 2 }
                && q.per_page == 2
                && q.filter.role == ["venue"]
        })
        .returning(|q| {
            Ok(Page {
                items: vec![user("a@example.com", "venue"), user("b@example.com", "venue")],
                total: Some(5),
                page: Some(2),
                per_page: q.per_page,
                has_more: true,
            })
        });
    let r = send(m.state(), get(&format!("/api/v1/orgs/{id}/members?role=venue&fields=id,role&page=2&limit=2"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["data"][0].as_object().unwrap().len(), 2, "projected: {body}");
    assert_eq!(body["data"][0]["role"], "venue");
    assert_eq!(body["meta"], json!({"page": 2, "per_page": 2, "total": 5, "total_pages": 3}));
    let base = format!("/api/v1/orgs/{id}/members?role=venue&fields=id%2Crole");
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
async fn members_keyset_pages_link_under_the_organization() {
    let id = Uuid::now_v7();
    let (mut m, _) = member_mocks(id, Some(("admin", &["users:read"])));
    m.users.expect_list().withf(|q| q.paging == Paging::Keyset(None)).returning(|q| {
        Ok(Page {
            items: vec![user("a@example.com", "member")],
            total: None,
            page: None,
            per_page: q.per_page,
            has_more: true,
        })
    });
    let r = send(m.state(), get(&format!("/api/v1/orgs/{id}/members?sort=email&after=&per_page=1"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let links = &r.json()["links"];
    let base = format!("/api/v1/orgs/{id}/members?sort=email");
    assert_eq!(links["self"], format!("{base}&after=&per_page=1"));
    assert_eq!(links["first"], format!("{base}&after=&per_page=1"));
    assert!(links["next"].as_str().unwrap().starts_with(&format!("{base}&after=")), "{links}");
    assert_eq!((&links["prev"], &links["last"]), (&json!(null), &json!(null)));
}

#[actix_web::test]
async fn members_list_needs_users_read_and_a_good_query() {
    let id = Uuid::now_v7();
    let (m, _) = member_mocks(id, Some(("member", &[])));
    let state = m.state();
    let r = send(state.clone(), get(&format!("/api/v1/orgs/{id}/members"))).await;
    assert!(r.problem(403, "forbidden")["detail"].as_str().unwrap().contains("users:read"));
    let r = send(state, get(&format!("/api/v1/orgs/{id}/members?page=x&bogus=1"))).await;
    r.problem(400, "invalid_query");
}

#[actix_web::test]
async fn adding_a_member_answers_201_with_location() {
    let id = Uuid::now_v7();
    // The organization's own owner may not pull in users by id …
    let (m, _) = member_mocks(id, Some(("owner", &["members:manage"])));
    let body = json!({"user_id": Uuid::now_v7()});
    let r = send(m.state(), with_json(TestRequest::post(), &format!("/api/v1/orgs/{id}/members"), body)).await;
    r.problem(403, "forbidden");
    // … a platform user administrator (default-org `users:write`) who manages members there may.
    let me = user("m@example.com", "admin");
    let mut m = Mocks::new().sign_in_as(&me, vec!["users:write".into()]);
    let membership =
        Membership { org_id: id, user_id: me.id, role: "owner".into(), permissions: vec!["members:manage".into()] };
    m.members.expect_membership().returning(move |_, _| Ok(Some(membership.clone())));
    let newcomer = user("new@example.com", "member");
    let uid = newcomer.id;
    m.users.expect_get().with(eq(uid)).returning(move |_| Ok(Some(newcomer.clone())));
    m.roles.expect_role_by_name().withf(|_, name| name == "member").returning(|o, n| Ok(Some(role(o, n, &[]))));
    m.members.expect_add_member().returning(|o, u, _, _, _| Ok(member(o, u, "member")));
    let r =
        send(m.state(), with_json(TestRequest::post(), &format!("/api/v1/orgs/{id}/members"), json!({"user_id": uid})))
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["role"], "member");
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/orgs/{id}/members/{uid}"));
}

#[actix_web::test]
async fn member_permissions_are_read_and_replaced() {
    let id = Uuid::now_v7();
    let (mut m, _) = member_mocks(id, Some(("owner", &["members:manage"])));
    let uid = Uuid::now_v7();
    m.members.expect_get_member().with(eq(id), eq(uid)).returning(|o, u| Ok(Some(member(o, u, "member"))));
    m.roles
        .expect_list_permissions()
        .returning(|o| Ok(vec![OrgPermission { name: "beacons:toggle".into(), description: None, org_id: Some(o) }]));
    m.members
        .expect_update_member()
        .withf(|_, _, c| c.extra_permissions.as_deref() == Some(&["beacons:toggle".to_string()][..]))
        .returning(|o, u, c| {
            Ok(MemberOutcome::Done(Member {
                extra_permissions: c.extra_permissions.clone().unwrap(),
                ..member(o, u, "member")
            }))
        });
    let state = m.state();
    let uri = format!("/api/v1/orgs/{id}/members/{uid}/permissions");
    let r = send(state.clone(), get(&uri)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["extra_permissions"], json!([]));
    let r = send(state.clone(), with_json(TestRequest::put(), &uri, json!({"permissions": ["beacons:toggle"]}))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["extra_permissions"], json!(["beacons:toggle"]));
    let r = send(state, with_json(TestRequest::put(), &uri, json!({"permissions": ["beacons:toggle", "nope"]}))).await;
    assert!(r.problem(422, "validation_failed")["errors"]["permissions[1]"].is_array());
}

#[actix_web::test]
async fn the_permission_catalogue_and_an_organizations_own() {
    let id = Uuid::now_v7();
    let (mut m, _) = member_mocks(id, Some(("member", &[])));
    m.roles
        .expect_list_permissions()
        .with(eq(id))
        .returning(|o| Ok(vec![OrgPermission { name: "beacons:toggle".into(), description: None, org_id: Some(o) }]));
    let state = m.state();
    let r = send(state.clone(), get("/api/v1/permissions")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let data = r.json()["data"].as_array().unwrap().clone();
    assert!(data.iter().any(|p| p["name"] == "users:read" && p["org_id"].is_null()), "{data:?}");
    assert!(data.iter().all(|p| p["org_id"].is_null()));

    for uri in [format!("/api/v1/permissions?org_id={id}"), format!("/api/v1/orgs/{id}/permissions")] {
        let r = send(state.clone(), get(&uri)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let data = r.json()["data"].as_array().unwrap().clone();
        assert!(data.iter().any(|p| p["name"] == "users:read"), "{uri}");
        assert!(data.iter().any(|p| p["name"] == "beacons:toggle" && p["org_id"] == id.to_string()), "{uri}");
    }

    let r = send(state.clone(), get("/api/v1/permissions?org_id=nope")).await;
    assert!(r.problem(400, "invalid_query")["errors"]["org_id"].is_array());
    let r = send(state, get("/api/v1/permissions?org=x")).await;
    r.problem(400, "invalid_query");
}

#[actix_web::test]
async fn permissions_are_registered_and_dropped() {
    let id = Uuid::now_v7();
    let (mut m, _) = member_mocks(id, Some(("admin", &["roles:manage"])));
    m.roles
        .expect_register_permission()
        .withf(|_, name, _, _| name == "beacons:toggle")
        .returning(|o, n, d, _| Ok(OrgPermission { name: n.into(), description: d, org_id: Some(o) }));
    m.roles.expect_delete_permission().withf(|_, n| n == "beacons:toggle").returning(|_, _| Ok(true));
    m.roles.expect_delete_permission().returning(|_, _| Err(RepoError::Conflict(Conflict::InUse)));
    let state = m.state();
    let base = format!("/api/v1/orgs/{id}/permissions");
    let r = send(state.clone(), with_json(TestRequest::post(), &base, json!({"name": "beacons:toggle"}))).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["org_id"], id.to_string());
    let r = send(state.clone(), with_json(TestRequest::post(), &base, json!({"name": "users:read"}))).await;
    assert!(r.problem(422, "validation_failed")["errors"]["name"].is_array());
    let delete = |uri: String| TestRequest::delete().uri(&uri).insert_header(bearer(GOOD_TOKEN));
    let r = send(state.clone(), delete(format!("{base}/beacons:toggle"))).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = send(state, delete(format!("{base}/metrics:view"))).await;
    r.problem(409, "in_use");
}

#[actix_web::test]
async fn locations_search_is_passed_through_and_paged() {
    let id = Uuid::now_v7();
    let (mut m, _) = member_mocks(id, Some(("member", &[])));
    m.locations
        .expect_list_locations()
        .withf(move |o, q, page, per_page| {
            *o == id && q.as_deref() == Some("water front") && *page == 1 && *per_page == 5
        })
        .returning(|o, _, _, per_page| {
            Ok(Page {
                items: vec![location(o, "Harbour Hall")],
                total: Some(1),
                page: Some(1),
                per_page,
                has_more: false,
            })
        });
    let state = m.state();
    let r = send(state.clone(), get(&format!("/api/v1/orgs/{id}/locations?q=water+front&per_page=5"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["data"][0]["name"], "Harbour Hall");
    assert_eq!(body["meta"], json!({"page": 1, "per_page": 5, "total": 1, "total_pages": 1}));
    assert_eq!(body["links"]["self"], format!("/api/v1/orgs/{id}/locations?q=water%20front&page=1&per_page=5"));
    assert_eq!(body["links"]["next"], json!(null));
    let r = send(state, get(&format!("/api/v1/orgs/{id}/locations?per_page=500&page=0"))).await;
    let p = r.problem(400, "invalid_query");
    assert!(p["errors"]["page"].is_array() && p["errors"]["per_page"].is_array(), "{p}");
}

#[actix_web::test]
async fn locations_are_created_with_location_and_validated() {
    let id = Uuid::now_v7();
    let (mut m, _) = member_mocks(id, Some(("admin", &["locations:manage"])));
    m.locations.expect_create_location().returning(|l| Ok(l.clone()));
    let state = m.state();
    let uri = format!("/api/v1/orgs/{id}/locations");
    let body = json!({"name": "HQ", "timezone": "Europe/Copenhagen", "keywords": ["main"]});
    let r = send(state.clone(), with_json(TestRequest::post(), &uri, body)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(r.header("location").unwrap(), format!("{uri}/{}", body["id"].as_str().unwrap()));
    let r = send(state, with_json(TestRequest::post(), &uri, json!({"name": "", "timezone": "Mars/Base"}))).await;
    assert_eq!(r.problem(422, "validation_failed")["errors"].as_object().unwrap().len(), 2);
}

#[actix_web::test]
async fn superadmins_delete_organizations_but_not_the_default() {
    let id = Uuid::now_v7();
    let root = superadmin();
    let mut m = Mocks::new().sign_in_as(&root, vec![]);
    m.members.expect_membership().returning(|_, _| Ok(None));
    m.orgs.expect_get_org().returning(|id| Ok(Some(org(id))));
    m.orgs.expect_delete_org().with(eq(id)).times(1).returning(|_| Ok(true));
    let state = m.state();
    let delete = |uri: String| TestRequest::delete().uri(&uri).insert_header(bearer(GOOD_TOKEN));
    let r = send(state.clone(), delete(format!("/api/v1/orgs/{id}"))).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = send(state, delete(format!("/api/v1/orgs/{}", roster_domain::DEFAULT_ORG_ID))).await;
    r.problem(409, "invalid_state");
}

#[actix_web::test]
async fn organizations_are_listed_paged_and_patched() {
    let id = Uuid::now_v7();
    let (mut m, me) = member_mocks(id, Some(("admin", &["org:manage"])));
    let uid = me.id;
    m.orgs
        .expect_list_orgs()
        .withf(move |member, page, per_page| *member == Some(uid) && *page == 1 && *per_page == 1)
        .returning(move |_, _, per_page| {
            Ok(Page { items: vec![org(id)], total: Some(2), page: Some(1), per_page, has_more: true })
        });
    m.orgs
        .expect_update_org()
        .withf(|_, p, _| p.name.as_deref() == Some("Renamed"))
        .returning(|id, p, _| Ok(Some(Organization { name: p.name.clone().unwrap(), ..org(id) })));
    let state = m.state();
    let r = send(state.clone(), get("/api/v1/orgs?limit=1")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["data"][0]["id"], id.to_string());
    assert_eq!(body["links"]["next"], "/api/v1/orgs?page=2&per_page=1");
    assert_eq!(body["links"]["last"], "/api/v1/orgs?page=2&per_page=1");
    let r =
        send(state.clone(), with_json(TestRequest::patch(), &format!("/api/v1/orgs/{id}"), json!({"name": "Renamed"})))
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "Renamed");
    let r =
        send(state, with_json(TestRequest::patch(), &format!("/api/v1/orgs/{id}"), json!({"slug": "-bad", "x": 1})))
            .await;
    assert!(r.problem(422, "validation_failed")["errors"]["x"].is_array());
}
