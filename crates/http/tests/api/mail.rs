//! The mail flows' HTTP surface with mocked ports: status codes, headers,
//! query validation and who may call what.

use actix_web::test::TestRequest;
use roster_domain::{mail::OutboxStats, ports::LoginRecord, user::Page};
use serde_json::json;

use crate::support::*;

fn post(uri: &str, body: serde_json::Value) -> TestRequest {
    TestRequest::post().uri(uri).set_json(body)
}

#[actix_web::test]
async fn forgot_answers_202_for_unknown_addresses_and_429_with_retry_after() {
    let mut m = Mocks::new();
    m.rate_limits.expect_hit().returning(|_, _| Ok(1));
    m.users.expect_find_login().returning(|_| Ok(None));
    m.accounts.expect_issue().never();
    let r = send(m.state(), post("/api/v1/auth/password/forgot", json!({"email": "nobody@example.com"}))).await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());

    let mut m = Mocks::new();
    m.rate_limits.expect_hit().returning(|_, _| Ok(99));
    m.users.expect_find_login().never();
    let r = send(m.state(), post("/api/v1/auth/password/forgot", json!({"email": "a@example.com"}))).await;
    r.problem(429, "rate_limited");
    // The fixed clock is on the hour: the whole window is left.
    assert_eq!(r.header("retry-after"), Some("3600"));

    let r = send(Mocks::new().state(), post("/api/v1/auth/password/forgot", json!({"email": "a@example.com", "x": 1})))
        .await;
    let body = r.problem(422, "validation_failed");
    assert!(body["errors"]["x"].is_array(), "{body}");
}

#[actix_web::test]
async fn link_tokens_are_checked_before_anything_is_written() {
    let mut m = Mocks::new();
    m.accounts.expect_find_token().returning(|_| Ok(None));
    m.accounts.expect_redeem().never();
    let state = m.state();
    for (uri, body) in [
        ("/api/v1/auth/password/reset", json!({"token": "x", "password": "long enough"})),
        ("/api/v1/auth/email/verify", json!({"token": "A".repeat(43)})),
        ("/api/v1/auth/invitations/accept", json!({"token": "", "password": "long enough"})),
    ] {
        send(state.clone(), post(uri, body)).await.problem(400, "link_token_invalid");
    }
}

#[actix_web::test]
async fn me_email_needs_a_session_and_answers_202() {
    let me = user("ada@example.com", "member");
    let mut m = Mocks::new().sign_in_as(&me, vec![]);
    m.users.expect_password_hash().returning(|_| Ok(Some("$h".into())));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.users.expect_find_login().returning(|_| Ok(None::<LoginRecord>));
    m.accounts.expect_issue().times(1).returning(|_| Ok(()));
    let state = m.state();
    let body = json!({"email": "new@example.com", "current_password": "right"});
    send(state.clone(), post("/api/v1/me/email", body.clone())).await.problem(401, "unauthenticated");
    let r = send(state, post("/api/v1/me/email", body).insert_header(bearer(GOOD_TOKEN))).await;
    assert_eq!(r.status, 202, "{}", r.text());
}

#[actix_web::test]
async fn invitation_lists_validate_their_query_and_page_like_users() {
    let admin = user("admin@example.com", "admin");
    let mut m = Mocks::new().sign_in_as(&admin, admin_perms());
    m.accounts.expect_list_invitations().returning(|_, page, per_page, _| {
        Ok(Page { items: vec![], total: Some(45), page: Some(page), per_page, has_more: true })
    });
    let state = m.state();
    let r = send(
        state.clone(),
        TestRequest::get().uri("/api/v1/invitations?status=pending&page=2&limit=20").insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["meta"], json!({"page": 2, "per_page": 20, "total": 45, "total_pages": 3}));
    assert_eq!(body["links"]["next"], "/api/v1/invitations?status=pending&page=3&per_page=20");
    let r = send(
        state,
        TestRequest::get().uri("/api/v1/invitations?status=nope&per_page=0&sort=x").insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    r.problem(400, "invalid_query");
}

#[actix_web::test]
async fn the_outbox_is_for_superadmins_and_its_figures_are_in_metrics() {
    let admin = user("admin@example.com", "admin");
    let mut m = Mocks::new().sign_in_as(&admin, admin_perms());
    m.outbox_stats = OutboxStats { pending: 4, due: 3, dead: 2, oldest_due_seconds: 12.5 };
    let state = m.metrics_token().state();
    let r = send(state.clone(), TestRequest::get().uri("/api/v1/outbox").insert_header(bearer(GOOD_TOKEN))).await;
    r.problem(403, "forbidden");
    let r = send(state, TestRequest::get().uri("/metrics").insert_header(bearer(METRICS_TOKEN))).await;
    let text = r.text();
    for line in [
        r#"roster_outbox_messages{status="pending"} 4"#,
        r#"roster_outbox_messages{status="due"} 3"#,
        r#"roster_outbox_messages{status="dead"} 2"#,
        "roster_outbox_oldest_due_seconds 12.5",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_counted() {
    let mut m = Mocks::new();
    m.config.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    m.rate_limits.expect_hit().withf(|k, _| k.starts_with("forgot:addr:")).returning(|_, _| Ok(1));
    m.rate_limits.expect_hit().withf(|k, _| k == "forgot:ip:198.51.100.1").times(1).returning(|_, _| Ok(1));
    m.rate_limits.expect_hit().withf(|k, _| k == "forgot:ip:203.0.113.9").times(1).returning(|_, _| Ok(1));
    m.users.expect_find_login().returning(|_| Ok(None));
    let state = m.state();
    let body = json!({"email": "a@example.com"});
    let via_proxy = post("/api/v1/auth/password/forgot", body.clone())
        .peer_addr("10.0.0.2:4000".parse().unwrap())
        .insert_header(("x-forwarded-for", "6.6.6.6, 198.51.100.1"));
    assert_eq!(send(state.clone(), via_proxy).await.status, 202);
    // A client that is not a trusted proxy cannot choose its address.
    let direct = post("/api/v1/auth/password/forgot", body)
        .peer_addr("203.0.113.9:4000".parse().unwrap())
        .insert_header(("x-forwarded-for", "198.51.100.1"));
    assert_eq!(send(state, direct).await.status, 202);
}
