//! Sessions end to end: a user lists their sessions (where and with what
//! each was opened, which one is theirs), ends one, or all but the current
//! one; an administrator with `sessions:revoke` lists and ends a user's; a
//! tenant only those of the accounts it manages. An ended session's access
//! token is refused at once, and its refresh token with it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const MINE: &str = "/api/v1/me/sessions";

/// An app that believes the loopback proxy's `X-Forwarded-For`.
async fn app_behind_proxy() -> TestApp {
    TestApp::spawn_with(|c| c.http.trusted_proxies = vec!["127.0.0.1".into()]).await
}

/// Signs `email` in from a client sending `user_agent`, whose address the
/// (trusted) proxy forwards as `ip`.
async fn login_from(app: &TestApp, email: &str, user_agent: &str, ip: &str) -> Session {
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("user-agent", user_agent)
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    session(body_of(r, StatusCode::OK).await)
}

fn sid(s: &Session) -> String {
    claims(&s.access)["sid"].as_str().unwrap().to_string()
}

async fn delete(app: &TestApp, path: &str, who: &str) -> reqwest::Response {
    app.call(Method::DELETE, path, Some(who), None).await
}

async fn listed(app: &TestApp, path: &str, who: &Session) -> Vec<Value> {
    let body = body_of(app.get(path, Some(&who.access)).await, StatusCode::OK).await;
    body["items"].as_array().unwrap().clone()
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().map(|s| s["id"].as_str().unwrap()).collect()
}

/// Whether the session's access token still works.
async fn works(app: &TestApp, s: &Session) -> bool {
    let r = app.get("/api/v1/me", Some(&s.access)).await;
    match r.status() {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => {
            assert_eq!(r.json::<Value>().await.unwrap()["code"], "session_revoked");
            false
        }
        other => panic!("GET /me answered {other}"),
    }
}

async fn refresh(app: &TestApp, s: &Session) -> reqwest::Response {
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": s.refresh})).await
}

#[tokio::test]
async fn a_user_sees_where_each_session_was_opened_and_which_is_theirs() {
    let app = app_behind_proxy().await;
    let email = unique_email("traveller");
    let registered = app.register(&email).await;
    let phone = login_from(&app, &email, "Phone/1.0", "198.51.100.7").await;
    let laptop = login_from(&app, &email, "Laptop/2.0", "203.0.113.9").await;

    let items = listed(&app, MINE, &laptop).await;
    let expected = [sid(&laptop), sid(&phone), sid(&registered)];
    assert_eq!(ids(&items), expected.iter().map(String::as_str).collect::<Vec<_>>(), "newest first");
    assert_eq!(items.iter().map(|s| s["current"].as_bool().unwrap()).collect::<Vec<_>>(), [true, false, false]);
    let p = &items[1];
    assert_eq!((p["user_agent"].as_str(), p["ip"].as_str()), (Some("Phone/1.0"), Some("198.51.100.7")), "{p}");
    assert_eq!(p["org_id"], roster_domain::DEFAULT_ORG_ID.to_string());
    assert!(p["org_name"].is_string(), "{p}");
    assert_eq!(p["amr"], json!(["pwd"]));
    assert_eq!(p["last_used_at"], p["created_at"], "not refreshed yet");
    assert!(p["expires_at"].as_str().unwrap() > p["created_at"].as_str().unwrap());
    // The phone sees the same sessions, with itself as the current one.
    let from_phone = listed(&app, MINE, &phone).await;
    assert_eq!(from_phone.iter().filter(|s| s["current"] == true).map(|s| &s["id"]).collect::<Vec<_>>(), [&p["id"]]);

    // A refresh is a use; a request with the access token is not.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    body_of(refresh(&app, &phone).await, StatusCode::OK).await;
    let p = listed(&app, MINE, &laptop).await.into_iter().find(|s| s["id"] == sid(&phone).as_str()).unwrap();
    assert!(p["last_used_at"].as_str().unwrap() > p["created_at"].as_str().unwrap(), "{p}");
    let l = listed(&app, MINE, &laptop).await.into_iter().find(|s| s["id"] == sid(&laptop).as_str()).unwrap();
    assert_eq!(l["last_used_at"], l["created_at"], "{l}");

    // A host service's key has no sessions of its own.
    let root = app.superadmin().await;
    let keys = format!("/api/v1/orgs/{}/api-keys", roster_domain::DEFAULT_ORG_ID);
    let key = created(app.post(&keys, Some(&root.access), json!({"name": "host", "permissions": []})).await).await;
    let key = key["secret"].as_str().unwrap();
    let r = problem(app.get(MINE, Some(key)).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(r["reason"], "signed_in_user_only");
    let r = problem(delete(&app, &format!("{MINE}?scope=others"), key).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(r["reason"], "signed_in_user_only");
}

#[tokio::test]
async fn an_ended_session_is_refused_at_once_and_so_is_its_refresh_token() {
    let app = TestApp::spawn().await;
    let me = app.member().await;
    let phone = app.login_ok(&me.email).await;
    let someone = app.member().await;

    assert_eq!(delete(&app, &format!("{MINE}/{}", sid(&phone)), &me.access).await.status(), StatusCode::NO_CONTENT);
    assert!(!works(&app, &phone).await);
    problem(refresh(&app, &phone).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    assert!(!ids(&listed(&app, MINE, &me).await).contains(&sid(&phone).as_str()));
    // Already ended, unknown, or another user's: not found, and nothing happens.
    for id in [sid(&phone), uuid::Uuid::now_v7().to_string(), sid(&someone)] {
        problem(delete(&app, &format!("{MINE}/{id}"), &me.access).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    problem(delete(&app, &format!("{MINE}/not-a-uuid"), &me.access).await, StatusCode::NOT_FOUND, "not_found").await;
    assert!(works(&app, &someone).await);
    // Ending one's own current session is a logout.
    assert_eq!(delete(&app, &format!("{MINE}/{}", sid(&me)), &me.access).await.status(), StatusCode::NO_CONTENT);
    assert!(!works(&app, &me).await);
}

#[tokio::test]
async fn scope_others_keeps_only_the_current_session_and_all_ends_it_too() {
    let app = TestApp::spawn().await;
    let me = app.member().await;
    let (a, b, here) = (app.login_ok(&me.email).await, app.login_ok(&me.email).await, app.login_ok(&me.email).await);

    // The scope is required, and one of two.
    for query in ["", "?scope=", "?scope=everything", "?scope=others&scope=all", "?what=others"] {
        let r = delete(&app, &format!("{MINE}{query}"), &here.access).await;
        problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
    let r = problem(delete(&app, MINE, &here.access).await, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert!(r["errors"]["scope"].is_array(), "{r}");
    assert!(works(&app, &a).await, "nothing was ended");

    let r = body_of(delete(&app, &format!("{MINE}?scope=others"), &here.access).await, StatusCode::OK).await;
    assert_eq!(r, json!({"revoked": 3}), "a, b and the session of the fixture's login");
    for s in [&me, &a, &b] {
        assert!(!works(&app, s).await);
        problem(refresh(&app, s).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    }
    assert!(works(&app, &here).await);
    assert_eq!(ids(&listed(&app, MINE, &here).await), [sid(&here)]);
    let r = body_of(delete(&app, &format!("{MINE}?scope=others"), &here.access).await, StatusCode::OK).await;
    assert_eq!(r, json!({"revoked": 0}));

    let other = app.login_ok(&me.email).await;
    let r = body_of(delete(&app, &format!("{MINE}?scope=all"), &here.access).await, StatusCode::OK).await;
    assert_eq!(r, json!({"revoked": 2}));
    assert!(!works(&app, &here).await && !works(&app, &other).await);
}

#[tokio::test]
async fn an_administrator_lists_and_ends_a_users_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member = app.member().await;
    let target = app.register(&unique_email("target")).await;
    let phone = app.login_ok(&target.email).await;
    let url = format!("/api/v1/users/{}/sessions", target.id);

    let items = listed(&app, &url, &admin).await;
    assert_eq!(ids(&items), [sid(&phone), sid(&target)]);
    assert!(items.iter().all(|s| s["current"] == false), "none is the administrator's");

    // One session: its tokens stop working at once; the others carry on.
    assert_eq!(delete(&app, &format!("{url}/{}", sid(&phone)), &admin.access).await.status(), StatusCode::NO_CONTENT);
    assert!(!works(&app, &phone).await);
    problem(refresh(&app, &phone).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    assert!(works(&app, &target).await);
    // Ended already, or not this user's: not found.
    for id in [sid(&phone), sid(&member)] {
        problem(delete(&app, &format!("{url}/{id}"), &admin.access).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert!(works(&app, &member).await);

    // Every session.
    let again = app.login_ok(&target.email).await;
    assert_eq!(body_of(delete(&app, &url, &admin.access).await, StatusCode::OK).await, json!({"revoked": 2}));
    assert!(!works(&app, &target).await && !works(&app, &again).await);
    assert!(listed(&app, &url, &admin).await.is_empty());

    // Without `sessions:revoke`: refused, whoever the target.
    let fresh = app.login_ok(&target.email).await;
    for (method, path) in
        [(Method::GET, url.clone()), (Method::DELETE, url.clone()), (Method::DELETE, format!("{url}/{}", sid(&fresh)))]
    {
        let r = app.call(method, &path, Some(&member.access), None).await;
        let r = problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(
            (r["reason"].as_str(), r["permission"].as_str()),
            (Some("missing_permission"), Some("sessions:revoke"))
        );
    }
    assert!(works(&app, &fresh).await);
    let nobody = format!("/api/v1/users/{}/sessions", uuid::Uuid::now_v7());
    problem(app.get(&nobody, Some(&admin.access)).await, StatusCode::NOT_FOUND, "not_found").await;

    // Administrators may use them on themselves.
    let own = format!("/api/v1/users/{}/sessions", admin.id);
    let mine = listed(&app, &own, &admin).await;
    assert_eq!(mine.iter().find(|s| s["current"] == true).unwrap()["id"], sid(&admin).as_str());
}

#[tokio::test]
async fn a_tenant_ends_the_sessions_of_the_accounts_it_manages_only() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "venue").await;
    let owner = session(
        body_of(
            app.post("/api/v1/auth/login", None, json!({"email": owner.email, "password": PASSWORD, "org": org})).await,
            StatusCode::OK,
        )
        .await,
    );
    let email = unique_email("front-desk");
    created(app.post("/api/v1/users", Some(&owner.access), json!({"email": email, "password": PASSWORD})).await).await;
    let managed = app.login_ok(&email).await;
    // A platform account that is also a member, and one that is not.
    let member = app.register(&unique_email("guest")).await;
    created(app.post(&format!("/api/v1/orgs/{org}/members"), Some(&root.access), json!({"user_id": member.id})).await)
        .await;
    let stranger = app.register(&unique_email("stranger")).await;

    let url = format!("/api/v1/users/{}/sessions", managed.id);
    let items = listed(&app, &url, &owner).await;
    assert_eq!(ids(&items), [sid(&managed)]);
    assert_eq!(body_of(delete(&app, &url, &owner.access).await, StatusCode::OK).await, json!({"revoked": 1}));
    assert!(!works(&app, &managed).await);

    let url = format!("/api/v1/users/{}/sessions", member.id);
    let r = problem(delete(&app, &url, &owner.access).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(r["reason"], "not_managed");
    let r = problem(app.get(&url, Some(&owner.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(r["reason"], "not_managed");
    assert!(works(&app, &member).await);
    let url = format!("/api/v1/users/{}/sessions/{}", stranger.id, sid(&stranger));
    problem(delete(&app, &url, &owner.access).await, StatusCode::NOT_FOUND, "not_found").await;
    assert!(works(&app, &stranger).await);
}
