//! Routing, request ids, query strings and the order of checks.

use actix_web::test::TestRequest;

use crate::support::*;

#[actix_web::test]
async fn unknown_route_is_404_problem() {
    for uri in ["/nope", "/api/v1/nope", "/api/v1/users/count/extra", "/docs/not-a-file.js"] {
        let r = send(Mocks::new().state(), TestRequest::get().uri(uri)).await;
        r.problem(404, "not_found");
    }
}

#[actix_web::test]
async fn wrong_method_is_405_with_allow() {
    let cases = [
        (TestRequest::delete().uri("/api/v1/auth/login"), "POST"),
        (TestRequest::put().uri("/api/v1/me"), "GET, HEAD, PATCH"),
        (TestRequest::post().uri(&format!("/api/v1/users/{}", uuid::Uuid::now_v7())), "GET, HEAD, PATCH, PUT, DELETE"),
        (TestRequest::delete().uri("/api/v1/users"), "GET, HEAD, POST"),
        (TestRequest::post().uri("/api/v1/users/count"), "GET, HEAD"),
        (TestRequest::get().uri(&format!("/api/v1/users/{}/ban", uuid::Uuid::now_v7())), "POST"),
        (TestRequest::post().uri("/health/live"), "GET, HEAD"),
        (TestRequest::post().uri("/metrics"), "GET, HEAD"),
    ];
    for (req, allow) in cases {
        let r = send(Mocks::new().state(), req).await;
        r.problem(405, "method_not_allowed");
        assert_eq!(r.header("allow"), Some(allow));
    }
}

#[actix_web::test]
async fn request_id_is_echoed_when_safe_and_generated_otherwise() {
    let r = send(
        Mocks::new().state(),
        TestRequest::get().uri("/health/live").insert_header(("X-Request-Id", "abc.DEF_123-x")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-request-id"), Some("abc.DEF_123-x"));

    let r = send(Mocks::new().state(), TestRequest::get().uri("/nope").insert_header(("X-Request-Id", "client-id-1")))
        .await;
    assert_eq!(r.problem(404, "not_found")["request_id"], "client-id-1");

    for bad in ["has space", "semi;colon", &"x".repeat(129)] {
        let r = send(Mocks::new().state(), TestRequest::get().uri("/nope").insert_header(("X-Request-Id", bad))).await;
        let body = r.problem(404, "not_found");
        let id = body["request_id"].as_str().unwrap();
        assert_ne!(id, bad);
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    }

    let r = send(Mocks::new().state(), TestRequest::get().uri("/health/live")).await;
    assert_eq!(uuid::Uuid::parse_str(r.header("x-request-id").unwrap()).unwrap().get_version_num(), 7);
}

#[actix_web::test]
async fn missing_or_foreign_bearer_is_401_with_challenge() {
    for auth in [None, Some("Basic dXNlcjpwdw=="), Some("Bearer")] {
        let mut req = TestRequest::get().uri("/api/v1/me");
        if let Some(a) = auth {
            req = req.insert_header(("Authorization", a));
        }
        let r = send(Mocks::new().state(), req).await;
        r.problem(401, "unauthenticated");
        assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="roster""#));
    }
}

#[actix_web::test]
async fn refused_tokens_are_401_with_their_reason() {
    let me = user("me@example.com", "member");
    for (token, code) in [("forged", "invalid_token"), (EXPIRED_TOKEN, "token_expired")] {
        let r = send(
            Mocks::new().sign_in_as(&me, vec![]).state(),
            TestRequest::get().uri("/api/v1/me").insert_header(bearer(token)),
        )
        .await;
        r.problem(401, code);
        assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="roster", error="invalid_token""#));
    }
    // Signed and unexpired, but the session is gone.
    let mut m = Mocks::new();
    m.signer.expect_verify().returning(move |_| Err(roster_domain::error::TokenRejection::Revoked));
    let r = send(m.state(), TestRequest::get().uri("/api/v1/me").insert_header(bearer(GOOD_TOKEN))).await;
    r.problem(401, "session_revoked");
}

#[actix_web::test]
async fn authentication_is_checked_before_path_and_body() {
    let r = send(
        Mocks::new().state(),
        TestRequest::patch()
            .uri("/api/v1/users/not-a-uuid")
            .insert_header(("Content-Type", "text/plain"))
            .set_payload("{"),
    )
    .await;
    r.problem(401, "unauthenticated");
    let r = send(Mocks::new().state(), TestRequest::get().uri("/api/v1/users?page=abc")).await;
    r.problem(401, "unauthenticated");
}

#[actix_web::test]
async fn malformed_id_is_404() {
    let admin = user("admin@example.com", "admin");
    let r = send(
        Mocks::new().sign_in_as(&admin, admin_perms()).state(),
        TestRequest::get().uri("/api/v1/users/not-a-uuid").insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    r.problem(404, "not_found");
}

#[actix_web::test]
async fn malformed_query_is_400_invalid_query_naming_the_parameter() {
    let admin = user("admin@example.com", "admin");
    let cases = [
        ("/api/v1/users?page=abc", "page"),
        ("/api/v1/users?per_page=1.5", "per_page"),
        ("/api/v1/users?per_page=1000", "per_page"),
        ("/api/v1/users?sort=password_hash", "sort"),
        ("/api/v1/users?status=zombie", "status"),
        ("/api/v1/users?filtr=email%20eq%20%22x%22", "filtr"),
        ("/api/v1/users?page=1&page=2", "page"),
        ("/api/v1/users/count?page=2", "page"),
    ];
    for (uri, param) in cases {
        let r = send(
            Mocks::new().sign_in_as(&admin, admin_perms()).state(),
            TestRequest::get().uri(uri).insert_header(bearer(GOOD_TOKEN)),
        )
        .await;
        let p = r.problem(400, "invalid_query");
        assert!(p["errors"][param].is_array(), "{uri}: {p}");
    }
}
