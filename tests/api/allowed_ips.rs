//! Users' IP allowlists: the list, `block_unknown_ips`, the bulk forms with
//! seed 000's lists of emails, `GET /me/ip` behind a trusted proxy, and who
//! may do what (administrators, not the user; an organization only for the
//! accounts it manages).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn list(id: &str) -> String {
    format!("/api/v1/users/{id}/allowed-ips")
}

fn cidrs(policy: &Value) -> Vec<String> {
    policy["items"].as_array().unwrap().iter().map(|e| e["cidr"].as_str().unwrap().to_string()).collect()
}

async fn add(app: &TestApp, token: &str, user: &str, cidr: &str) -> reqwest::Response {
    app.post(&list(user), Some(token), json!({"cidr": cidr})).await
}

/// `GET /me/ip`, as sent through a proxy that says the client is `forwarded`.
async fn my_ip(app: &TestApp, token: &str, forwarded: Option<&str>) -> Value {
    let mut req = app.client.get(app.url("/api/v1/me/ip")).bearer_auth(token);
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let r = req.send().await.unwrap();
    crate::documented::check(&Method::GET, "/api/v1/me/ip", r.status()).unwrap();
    body_of(r, StatusCode::OK).await
}

#[tokio::test]
async fn an_administrator_keeps_a_users_allowlist() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user = app.member().await;

    let first = created(add(&app, &admin.access, &user.id, "192.0.2.77/24").await).await;
    assert_eq!(first["cidr"], "192.0.2.0/24");
    assert!(first["created_at"].is_string());
    // The same range, written otherwise: the entry it has, `200`.
    let again = body_of(add(&app, &admin.access, &user.id, " 192.0.2.1/24 ").await, StatusCode::OK).await;
    assert_eq!(again, first);
    let single = created(add(&app, &admin.access, &user.id, "198.51.100.7").await).await;
    assert_eq!(single["cidr"], "198.51.100.7/32");
    let v6 = created(add(&app, &admin.access, &user.id, "2001:DB8:0:0:1::5/64").await).await;
    assert_eq!(v6["cidr"], "2001:db8::/64");
    let mapped = created(add(&app, &admin.access, &user.id, "::ffff:203.0.113.9").await).await;
    assert_eq!(mapped["cidr"], "203.0.113.9/32");
    created(add(&app, &admin.access, &user.id, "::1").await).await;

    let policy = body_of(app.get(&list(&user.id), Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(policy["block_unknown_ips"], false);
    assert_eq!(cidrs(&policy), ["192.0.2.0/24", "198.51.100.7/32", "2001:db8::/64", "203.0.113.9/32", "::1/128"]);
    assert_eq!(policy["items"][0], first);
    // The user reads their own list.
    assert_eq!(body_of(app.get(&list(&user.id), Some(&user.access)).await, StatusCode::OK).await, policy);

    // Malformed: `422` naming the field, nothing written.
    for bad in ["192.0.2.256", "192.0.2.0/33", "2001:db8::/129", "fe80::1%eth0", "example.com", "", "10.0.0.1/x"] {
        let r = add(&app, &admin.access, &user.id, bad).await;
        let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(body["errors"]["cidr"].is_array(), "{bad}: {body}");
    }
    let r = app.post(&list(&user.id), Some(&admin.access), json!({"cidr": "10.0.0.1", "note": "x"})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let r = app.post(&list(&user.id), Some(&admin.access), json!({})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let policy = body_of(app.get(&list(&user.id), Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(policy["items"].as_array().unwrap().len(), 5);

    // Removing: `204`, then `404`; another user's entry is not under this user.
    let other = app.member().await;
    let theirs = created(add(&app, &admin.access, &other.id, "10.0.0.1").await).await;
    let entry = |user: &str, e: &Value| format!("{}/{}", list(user), e["id"].as_str().unwrap());
    let r = app.call(Method::DELETE, &entry(&user.id, &theirs), Some(&admin.access), None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.call(Method::DELETE, &entry(&user.id, &single), Some(&admin.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.call(Method::DELETE, &entry(&user.id, &single), Some(&admin.access), None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.call(Method::DELETE, &format!("{}/not-an-id", list(&user.id)), Some(&admin.access), None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let policy = body_of(app.get(&list(&user.id), Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(cidrs(&policy), ["192.0.2.0/24", "2001:db8::/64", "203.0.113.9/32", "::1/128"]);

    // An unknown user.
    let nobody = uuid::Uuid::now_v7().to_string();
    problem(app.get(&list(&nobody), Some(&admin.access)).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(add(&app, &admin.access, &nobody, "10.0.0.1").await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_list_holds_at_most_one_hundred_entries() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user = app.member().await;
    for i in 0..100 {
        created(add(&app, &admin.access, &user.id, &format!("10.0.{}.{}", i / 256, i % 256)).await).await;
    }
    let body = problem(
        add(&app, &admin.access, &user.id, "10.1.0.0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(body["errors"]["cidr"][0].as_str().unwrap().contains("100"), "{body}");
    // One it has is still answered.
    body_of(add(&app, &admin.access, &user.id, "10.0.0.0").await, StatusCode::OK).await;
    // The bulk form writes nothing when one list would overflow.
    let other = app.member().await;
    let r = app
        .post("/api/v1/allowed-ips", Some(&admin.access), json!({"cidr": "10.9.9.9", "user_ids": [other.id, user.id]}))
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["user_ids"][0].as_str().unwrap().contains(&user.id), "{body}");
    let theirs = body_of(app.get(&list(&other.id), Some(&admin.access)).await, StatusCode::OK).await;
    assert!(cidrs(&theirs).is_empty());
}

#[tokio::test]
async fn a_member_reads_their_own_policy_but_changes_nothing() {
    let app = TestApp::spawn().await;
    let member = app.member().await;
    let other = app.member().await;
    body_of(app.get(&list(&member.id), Some(&member.access)).await, StatusCode::OK).await;
    let refused = |r| async move {
        let body = problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(body["reason"], "missing_permission", "{body}");
        assert_eq!(body["permission"], "users:write", "{body}");
    };
    refused(add(&app, &member.access, &member.id, "192.0.2.7").await).await;
    let security = format!("/api/v1/users/{}/security", member.id);
    let r = app.call(Method::PATCH, &security, Some(&member.access), Some(json!({"block_unknown_ips": false}))).await;
    refused(r).await;
    let bulk = json!({"cidr": "192.0.2.7", "user_ids": [member.id]});
    refused(app.post("/api/v1/allowed-ips", Some(&member.access), bulk.clone()).await).await;
    refused(app.post("/api/v1/allowed-ips/remove", Some(&member.access), bulk).await).await;
    let toggle = json!({"block_unknown_ips": false, "emails": [member.email]});
    refused(app.post("/api/v1/users/security", Some(&member.access), toggle).await).await;
    // Another user's list is not theirs to read either.
    problem(app.get(&list(&other.id), Some(&member.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(app.get(&list(&member.id), None).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn blocking_is_set_at_creation_and_toggled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let email = unique_email("blocked");
    // Seed 000's `blockAnonymousIPAddress`.
    let body = json!({"email": email, "password": PASSWORD, "email_verified": true, "block_unknown_ips": true});
    let user = created(app.post("/api/v1/users", Some(&admin.access), body).await).await;
    let id = user["id"].as_str().unwrap();
    let policy = body_of(app.get(&list(id), Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(policy, json!({"block_unknown_ips": true, "items": []}));
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin.access),
            json!({"email": unique_email("x"), "password": PASSWORD, "block_unknown_ips": "yes"}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let security = format!("/api/v1/users/{id}/security");
    created(add(&app, &admin.access, id, "2001:db8::/32").await).await;
    let r = app.call(Method::PATCH, &security, Some(&admin.access), Some(json!({"block_unknown_ips": false}))).await;
    let policy = body_of(r, StatusCode::OK).await;
    assert_eq!(policy["block_unknown_ips"], false);
    assert_eq!(cidrs(&policy), ["2001:db8::/32"]);
    let r = app.call(Method::PATCH, &security, Some(&admin.access), Some(json!({}))).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    // An administrator's own policy takes `users:write`, which they hold.
    let mine = format!("/api/v1/users/{}/security", admin.id);
    let r = app.call(Method::PATCH, &mine, Some(&admin.access), Some(json!({"block_unknown_ips": false}))).await;
    body_of(r, StatusCode::OK).await;
    // An owner's takes an owner.
    let owner = app.user_with_role("owner").await;
    let r = add(&app, &admin.access, &owner.id, "192.0.2.7").await;
    let body = problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(body["reason"], "owner_only");
}

#[tokio::test]
async fn the_bulk_forms_take_seed_000s_lists_of_emails_and_report_per_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ada = app.member().await;
    let bob = app.member().await;
    let owner = app.user_with_role("owner").await;
    let unknown = unique_email("nobody");

    let body = json!({"cidr": "10.0.0.4", "emails": [ada.email, bob.email.to_uppercase(), unknown, owner.email]});
    let report =
        body_of(app.post("/api/v1/allowed-ips", Some(&admin.access), body.clone()).await, StatusCode::OK).await;
    assert_eq!(report["applied"], json!([ada.id, bob.id]));
    assert_eq!(report["not_found"], json!([unknown]));
    assert_eq!(report["refused"], json!([{"user": owner.email, "reason": "owner_only"}]));
    for u in [&ada, &bob] {
        let policy = body_of(app.get(&list(&u.id), Some(&admin.access)).await, StatusCode::OK).await;
        assert_eq!(cidrs(&policy), ["10.0.0.4/32"]);
    }
    // Again: nothing new, the same report.
    let again = body_of(app.post("/api/v1/allowed-ips", Some(&admin.access), body.clone()).await, StatusCode::OK).await;
    assert_eq!(again, report);
    let policy = body_of(app.get(&list(&ada.id), Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(policy["items"].as_array().unwrap().len(), 1);

    // Seed 000's "toggle allow anonymous IP", by id this time.
    let ghost = uuid::Uuid::now_v7().to_string();
    let toggle = json!({"block_unknown_ips": true, "user_ids": [ada.id, ghost]});
    let report = body_of(app.post("/api/v1/users/security", Some(&admin.access), toggle).await, StatusCode::OK).await;
    assert_eq!(report, json!({"applied": [ada.id], "not_found": [ghost], "refused": []}));
    let policy = body_of(app.get(&list(&ada.id), Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(policy["block_unknown_ips"], true);
    let policy = body_of(app.get(&list(&bob.id), Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(policy["block_unknown_ips"], false);

    let report = body_of(app.post("/api/v1/allowed-ips/remove", Some(&admin.access), body).await, StatusCode::OK).await;
    assert_eq!(report["applied"], json!([ada.id, bob.id]));
    for u in [&ada, &bob] {
        let policy = body_of(app.get(&list(&u.id), Some(&admin.access)).await, StatusCode::OK).await;
        assert!(cidrs(&policy).is_empty());
    }

    // Exactly one list, not empty, every address valid, at most 1000 ids or 200 addresses.
    for bad in [
        json!({"cidr": "10.0.0.4", "emails": [ada.email], "user_ids": [ada.id]}),
        json!({"cidr": "10.0.0.4"}),
        json!({"cidr": "10.0.0.4", "emails": []}),
        json!({"cidr": "10.0.0.4", "emails": ["not an address"]}),
        json!({"cidr": "10.0.0.4", "user_ids": ["not-a-uuid"]}),
        json!({"cidr": "10.0.0.4", "emails": (0..=200).map(|i| format!("u{i}@example.com")).collect::<Vec<_>>()}),
        json!({"cidr": "10.0.0.4", "user_ids": vec![ada.id.clone(); 1001]}),
        json!({"cidr": "10.0.0.400", "emails": [ada.email]}),
    ] {
        let r = app.post("/api/v1/allowed-ips", Some(&admin.access), bad.clone()).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let r = app.post("/api/v1/users/security", Some(&admin.access), json!({"emails": [ada.email]})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn me_ip_is_the_address_the_trusted_proxy_names() {
    let app = TestApp::spawn_with(|c| c.http.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let admin = app.admin().await;
    let user = app.member().await;

    let seen = my_ip(&app, &user.access, Some("203.0.113.9")).await;
    assert_eq!(seen, json!({"ip": "203.0.113.9", "allowed": true}));
    // Hops further left could be the client's own invention.
    let seen = my_ip(&app, &user.access, Some("6.6.6.6, 2001:db8::7")).await;
    assert_eq!(seen, json!({"ip": "2001:db8::7", "allowed": true}));

    let security = format!("/api/v1/users/{}/security", user.id);
    let r = app.call(Method::PATCH, &security, Some(&admin.access), Some(json!({"block_unknown_ips": true}))).await;
    body_of(r, StatusCode::OK).await;
    // Blocking with an empty list: no address is allowed.
    assert_eq!(my_ip(&app, &user.access, Some("203.0.113.9")).await["allowed"], false);
    created(add(&app, &admin.access, &user.id, "203.0.113.0/24").await).await;
    created(add(&app, &admin.access, &user.id, "2001:db8::/48").await).await;
    assert_eq!(my_ip(&app, &user.access, Some("203.0.113.9")).await["allowed"], true);
    assert_eq!(my_ip(&app, &user.access, Some("2001:db8:0:1::1")).await["allowed"], true);
    assert_eq!(my_ip(&app, &user.access, Some("198.51.100.1")).await, json!({"ip": "198.51.100.1", "allowed": false}));
    // Without the header the peer is the client.
    assert_eq!(my_ip(&app, &user.access, None).await, json!({"ip": "127.0.0.1", "allowed": false}));
}

#[tokio::test]
async fn without_trusted_proxies_the_header_is_ignored() {
    let app = TestApp::spawn().await;
    let user = app.member().await;
    assert_eq!(my_ip(&app, &user.access, Some("203.0.113.9")).await, json!({"ip": "127.0.0.1", "allowed": true}));
}

#[tokio::test]
async fn an_organization_sets_the_policy_of_the_accounts_it_manages() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let (org, owner) = org_with_owner(&app, &root, "acme").await;
    let login = json!({"email": owner.email, "password": PASSWORD, "org": org});
    let tenant = session(body_of(app.post("/api/v1/auth/login", None, login).await, StatusCode::OK).await);

    let managed_email = unique_email("managed");
    let managed = created(
        app.post("/api/v1/users", Some(&tenant.access), json!({"email": managed_email, "password": PASSWORD})).await,
    )
    .await;
    let managed = managed["id"].as_str().unwrap().to_string();
    let shared = app.member().await;
    created(app.post(&format!("/api/v1/orgs/{org}/members"), Some(&root.access), json!({"user_id": shared.id})).await)
        .await;
    let outsider = app.member().await;

    created(add(&app, &tenant.access, &managed, "192.0.2.0/24").await).await;
    let body =
        problem(add(&app, &tenant.access, &shared.id, "192.0.2.0/24").await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(body["reason"], "not_managed");
    problem(add(&app, &tenant.access, &outsider.id, "192.0.2.0/24").await, StatusCode::NOT_FOUND, "not_found").await;
    // It reads the lists of its members, and nobody else's.
    body_of(app.get(&list(&shared.id), Some(&tenant.access)).await, StatusCode::OK).await;
    problem(app.get(&list(&outsider.id), Some(&tenant.access)).await, StatusCode::NOT_FOUND, "not_found").await;

    let body = json!({"block_unknown_ips": true, "emails": [managed_email, shared.email, outsider.email]});
    let report = body_of(app.post("/api/v1/users/security", Some(&tenant.access), body).await, StatusCode::OK).await;
    assert_eq!(report["applied"], json!([managed]));
    assert_eq!(report["not_found"], json!([outsider.email]));
    assert_eq!(report["refused"], json!([{"user": shared.email, "reason": "not_managed"}]));
    for (id, blocked) in [(&managed, true), (&shared.id, false), (&outsider.id, false)] {
        let policy = body_of(app.get(&list(id), Some(&root.access)).await, StatusCode::OK).await;
        assert_eq!(policy["block_unknown_ips"], blocked, "{id}");
    }
}

/// A login sent through the trusted proxy, which says the client is `from`.
async fn login_from(app: &TestApp, email: &str, password: &str, from: &str) -> reqwest::Response {
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", from)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    crate::documented::check(&Method::POST, "/api/v1/auth/login", r.status()).unwrap();
    r
}

#[tokio::test]
async fn the_allowlist_refuses_a_right_login_from_elsewhere_and_tells_the_owner() {
    let app = TestApp::spawn_with(|c| c.http.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let admin = app.admin().await;
    let email = unique_email("listed");
    let body = json!({"email": email, "password": PASSWORD, "email_verified": true, "block_unknown_ips": true});
    let user = created(app.post("/api/v1/users", Some(&admin.access), body).await).await;
    let id = user["id"].as_str().unwrap();
    created(add(&app, &admin.access, id, "198.51.100.0/24").await).await;

    // From inside the range: signed in.
    let ok = body_of(login_from(&app, &email, PASSWORD, "198.51.100.23").await, StatusCode::OK).await;
    let token = ok["access_token"].as_str().unwrap().to_string();
    assert_eq!(my_ip(&app, &token, Some("198.51.100.23")).await, json!({"ip": "198.51.100.23", "allowed": true}));
    // From elsewhere, the right password: 403, and a notice naming the address.
    problem(login_from(&app, &email, PASSWORD, "203.0.113.9").await, StatusCode::FORBIDDEN, "ip_not_allowed").await;
    let notice = app.letter_to(&email, "203.0.113.9").await;
    assert!(notice.subject.unwrap().contains("blocked"));
    // A wrong password from there is an ordinary 401: the list is no password oracle.
    let r = login_from(&app, &email, "wrong password", "203.0.113.9").await;
    problem(r, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // Refused right passwords are no failures: four of them do not lock the account.
    for _ in 0..4 {
        problem(login_from(&app, &email, PASSWORD, "203.0.113.9").await, StatusCode::FORBIDDEN, "ip_not_allowed").await;
    }
    body_of(login_from(&app, &email, PASSWORD, "198.51.100.24").await, StatusCode::OK).await;
    let security = body_of(app.get("/api/v1/me/security", Some(&token)).await, StatusCode::OK).await;
    assert_eq!(security["block_unknown_ips"], true);
    assert_eq!(security["allowed_ips"][0]["cidr"], "198.51.100.0/24");
    assert_eq!(security["last_login_ip"], "198.51.100.24");

    // Blocking off: the list blocks nothing.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{id}/security"),
            Some(&admin.access),
            Some(json!({"block_unknown_ips": false})),
        )
        .await;
    body_of(r, StatusCode::OK).await;
    body_of(login_from(&app, &email, PASSWORD, "203.0.113.9").await, StatusCode::OK).await;
}
