//! OpenAPI, Swagger UI, health, JWKS and metrics.

use actix_web::test::{self, TestRequest};
use roster_http::{HttpConfig, Metrics};

use crate::support::*;

const API_PATHS: [(&str, &[&str]); 40] = [
    ("/api/v1/auth/register", &["post"]),
    ("/api/v1/auth/login", &["post"]),
    ("/api/v1/auth/refresh", &["post"]),
    ("/api/v1/auth/logout", &["post"]),
    ("/api/v1/me", &["get", "patch"]),
    ("/api/v1/me/password", &["post"]),
    ("/api/v1/users", &["get", "post"]),
    ("/api/v1/users/count", &["get"]),
    ("/api/v1/users/{id}", &["get", "patch", "put", "delete"]),
    ("/api/v1/users/{id}/activate", &["post"]),
    ("/api/v1/users/{id}/deactivate", &["post"]),
    ("/api/v1/users/{id}/ban", &["post"]),
    ("/api/v1/users/{id}/password-reset", &["post"]),
    ("/api/v1/auth/password/forgot", &["post"]),
    ("/api/v1/auth/password/reset", &["post"]),
    ("/api/v1/auth/email/verify", &["post"]),
    ("/api/v1/auth/email/resend", &["post"]),
    ("/api/v1/auth/invitations/accept", &["post"]),
    ("/api/v1/me/email", &["post"]),
    ("/api/v1/invitations", &["get", "post"]),
    ("/api/v1/invitations/{id}", &["delete"]),
    ("/api/v1/outbox", &["get"]),
    ("/api/v1/outbox/{id}/retry", &["post"]),
    ("/api/v1/orgs", &["get", "post"]),
    ("/api/v1/orgs/{id}", &["get", "patch", "delete"]),
    ("/api/v1/orgs/{id}/roles", &["get", "post"]),
    ("/api/v1/orgs/{id}/roles/{role}", &["get", "patch", "delete"]),
    ("/api/v1/permissions", &["get"]),
    ("/api/v1/orgs/{id}/permissions", &["get", "post"]),
    ("/api/v1/orgs/{id}/permissions/{name}", &["delete"]),
    ("/api/v1/orgs/{id}/locations", &["get", "post"]),
    ("/api/v1/orgs/{id}/locations/{location}", &["get", "patch", "delete"]),
    ("/api/v1/orgs/{id}/members", &["get", "post"]),
    ("/api/v1/orgs/{id}/members/{user}", &["get", "patch", "delete"]),
    ("/api/v1/orgs/{id}/members/{user}/permissions", &["get", "put"]),
    ("/.well-known/jwks.json", &["get"]),
    ("/health/live", &["get"]),
    ("/health/ready", &["get"]),
    ("/metrics", &["get"]),
    ("/api/v1/openapi.json", &["get"]),
];

#[actix_web::test]
async fn openapi_is_3_1_and_documents_every_operation() {
    let r = send(Mocks::new().state(), TestRequest::get().uri("/api/v1/openapi.json")).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    for (path, methods) in API_PATHS {
        for method in methods {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not documented");
            assert!(op["tags"].is_array(), "{method} {path} has no tag");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
        }
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "code", "errors", "request_id"] {
        assert!(problem[field].is_object(), "Problem.{field}");
    }
    let unauthorized =
        &doc["components"]["responses"]["Unauthorized"]["content"]["application/problem+json"]["schema"]["$ref"];
    assert_eq!(unauthorized, "#/components/schemas/Problem");
    for schema in [
        "SignedInResponse",
        "RegisterResponse",
        "InvitationListResponse",
        "OutboxListResponse",
        "ResetPasswordInput",
        "AcceptInvitationInput",
        "ChangeEmailInput",
        "InviteInput",
        "UserListResponse",
        "CountResponse",
        "RefreshRequest",
        "ChangePasswordRequest",
        "User",
        "NewUserInput",
        "UserPatchInput",
        "UserReplaceInput",
        "MePatch",
        "RegisterInput",
        "Credentials",
        "Organization",
        "Role",
        "Location",
        "OrgPermission",
        "Member",
        "NewOrgInput",
        "OrgPatch",
        "NewRoleInput",
        "RolePatch",
        "PermissionInput",
        "LocationInput",
        "LocationPatch",
        "AddMemberInput",
        "MemberPatch",
        "MemberPermissionsInput",
        "OrgListResponse",
        "RoleListResponse",
        "PermissionListResponse",
        "LocationListResponse",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema}");
    }
    let create = &doc["paths"]["/api/v1/users"]["post"];
    assert!(create["requestBody"]["content"]["application/json"].is_object());
    assert_eq!(create["security"][0]["bearer"], serde_json::json!([]));
    for status in ["201", "400", "401", "403", "409", "413", "415", "422", "503"] {
        assert!(create["responses"][status].is_object(), "POST /users {status}");
    }
    let list = &doc["paths"]["/api/v1/users"]["get"]["parameters"];
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "filter",
            "q",
            "email",
            "name",
            "status",
            "role",
            "org_id",
            "location_id",
            "sort",
            "fields",
            "page",
            "per_page",
            "limit",
            "after",
            "total"
        ]
    );
}

#[actix_web::test]
async fn swagger_ui_is_served_at_docs() {
    let r = send(Mocks::new().state(), TestRequest::get().uri("/docs/")).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text().to_lowercase().contains("swagger"));
    let r = send(Mocks::new().state(), TestRequest::get().uri("/docs/swagger-initializer.js")).await;
    assert!(r.text().contains("/api/v1/openapi.json"));
    let r = send(Mocks::new().state(), TestRequest::get().uri("/docs")).await;
    assert_eq!(r.status, 308);
    assert_eq!(r.header("location"), Some("/docs/"));
}

#[actix_web::test]
async fn health_and_jwks() {
    let r = send(Mocks::new().state(), TestRequest::get().uri("/health/live")).await;
    assert_eq!((r.status.as_u16(), r.json()), (200, serde_json::json!({"status": "ok"})));
    let r = send(Mocks::new().state(), TestRequest::get().uri("/health/ready")).await;
    assert_eq!(r.status, 200);
    let mut m = Mocks::new();
    m.ready = false;
    let r = send(m.state(), TestRequest::get().uri("/health/ready")).await;
    r.problem(503, "service_unavailable");
    assert!(!r.text().contains("connection refused"));

    let r = send(Mocks::new().state(), TestRequest::get().uri("/.well-known/jwks.json")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(r.json()["keys"][0]["kid"], "k1");
}

#[actix_web::test]
async fn metrics_count_by_route_pattern_and_export_pool_gauges() {
    let metrics = Metrics::new().unwrap();
    let app = test::init_service(roster_http::app(Mocks::new().metrics_token().state(), metrics.clone())).await;
    for uri in [format!("/api/v1/users/{}", uuid::Uuid::now_v7()), "/nowhere".to_string(), "/health/live".to_string()] {
        test::call_service(&app, TestRequest::get().uri(&uri).to_request()).await;
    }
    let scrape = TestRequest::get().uri("/metrics").insert_header(bearer(METRICS_TOKEN));
    let res = test::call_service(&app, scrape.to_request()).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/plain"));
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(text.contains(r#"http_requests_total{method="GET",route="/api/v1/users/{id}",status="401"} 1"#), "{text}");
    assert!(text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#), "{text}");
    assert!(text.contains(r#"http_requests_total{method="GET",route="/health/live",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"http_request_duration_seconds_count{method="GET",route="/health/live"} 1"#), "{text}");
    for line in [
        "roster_db_pool_size 3",
        "roster_db_pool_available 2",
        "roster_db_pool_max_size 10",
        "roster_db_pool_waiting 1",
    ] {
        assert!(text.contains(line), "{line} missing from {text}");
    }
}

#[actix_web::test]
async fn each_app_has_its_own_registry() {
    let a = test::init_service(roster_http::app(Mocks::new().state(), Metrics::new().unwrap())).await;
    let b = test::init_service(roster_http::app(Mocks::new().metrics_token().state(), Metrics::new().unwrap())).await;
    test::call_service(&a, TestRequest::get().uri("/health/live").to_request()).await;
    let scrape = TestRequest::get().uri("/metrics").insert_header(bearer(METRICS_TOKEN));
    let body = test::call_and_read_body(&b, scrape.to_request()).await;
    assert!(String::from_utf8_lossy(&body).contains("roster_db_pool_size"));
    assert!(!String::from_utf8_lossy(&body).contains(r#"route="/health/live""#));
}

#[actix_web::test]
async fn serve_answers_on_a_real_socket() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = roster_http::serve(listener, Mocks::new().state(), Metrics::new().unwrap()).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.to_lowercase().contains("x-request-id:"));
    handle.stop(true).await;
}

#[actix_web::test]
async fn metrics_are_not_served_on_the_public_listener_by_default() {
    let r = send(Mocks::new().state(), TestRequest::get().uri("/metrics")).await;
    r.problem(404, "not_found");
    // Not even to a signed-in user or with some token.
    let admin = user("admin@example.com", "admin");
    let state = Mocks::new().sign_in_as(&admin, admin_perms()).state();
    send(state, TestRequest::get().uri("/metrics").insert_header(bearer(GOOD_TOKEN))).await.problem(404, "not_found");
}

#[actix_web::test]
async fn with_a_token_metrics_answer_only_its_bearer() {
    let admin = user("admin@example.com", "admin");
    let state = Mocks::new().sign_in_as(&admin, admin_perms()).metrics_token().state();
    let scrape = || TestRequest::get().uri("/metrics");
    let r = send(state.clone(), scrape()).await;
    assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="roster""#));
    r.problem(401, "unauthenticated");
    // A user's access token is no metrics token, nor is a near miss.
    let near = &METRICS_TOKEN[..METRICS_TOKEN.len() - 1];
    for token in [GOOD_TOKEN, near, &format!("{METRICS_TOKEN}x")] {
        let r = send(state.clone(), scrape().insert_header(bearer(token))).await;
        assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="roster", error="invalid_token""#));
        r.problem(401, "invalid_token");
    }
    let r = send(state.clone(), scrape().insert_header(("Authorization", format!("bearer {METRICS_TOKEN}")))).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("roster_db_pool_size"));
}

#[actix_web::test]
async fn with_a_listener_of_its_own_metrics_are_served_there_only() {
    let mut m = Mocks::new();
    m.config.metrics.own_listener = true;
    let state = m.state();
    let metrics = Metrics::new().unwrap();
    let public = test::init_service(roster_http::app(state.clone(), metrics.clone())).await;
    let own = test::init_service(roster_http::metrics_app(state, metrics)).await;
    test::call_service(&public, TestRequest::get().uri("/health/live").to_request()).await;
    let res = test::call_service(&public, TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status(), 404);
    // The same registry, open to whoever reaches the listener.
    let res = test::call_service(&own, TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status(), 200);
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(text.contains(r#"http_requests_total{method="GET",route="/health/live",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"route="/metrics",status="404"} 1"#), "the public listener's answer: {text}");
    let res = test::call_service(&own, TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(!text.contains(r#"route="/metrics",status="200""#), "scrapes of the own listener are not counted: {text}");
    // Nothing else is served there.
    for uri in ["/health/live", "/api/v1/openapi.json", "/docs/"] {
        let res = test::call_service(&own, TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), 404, "{uri}");
    }
}

#[actix_web::test]
async fn the_own_listener_asks_for_the_token_too_when_there_is_one() {
    let mut m = Mocks::new().metrics_token();
    m.config.metrics.own_listener = true;
    let state = m.state();
    let metrics = Metrics::new().unwrap();
    let public = test::init_service(roster_http::app(state.clone(), metrics.clone())).await;
    let own = test::init_service(roster_http::metrics_app(state, metrics)).await;
    let with_token = || TestRequest::get().uri("/metrics").insert_header(bearer(METRICS_TOKEN));
    assert_eq!(test::call_service(&public, with_token().to_request()).await.status(), 404);
    assert_eq!(test::call_service(&own, TestRequest::get().uri("/metrics").to_request()).await.status(), 401);
    assert_eq!(test::call_service(&own, with_token().to_request()).await.status(), 200);
}

#[actix_web::test]
async fn serve_metrics_answers_on_its_own_socket_from_the_shared_registry() {
    let mut m = Mocks::new();
    m.config.metrics.own_listener = true;
    let state = m.state();
    let metrics = Metrics::new().unwrap();
    let (public, own) =
        (std::net::TcpListener::bind("127.0.0.1:0").unwrap(), std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let (public_addr, own_addr) = (public.local_addr().unwrap(), own.local_addr().unwrap());
    let servers = [
        roster_http::serve(public, state.clone(), metrics.clone()).unwrap(),
        roster_http::serve_metrics(own, state, metrics).unwrap(),
    ];
    let handles: Vec<_> = servers.iter().map(|s| s.handle()).collect();
    for server in servers {
        actix_web::rt::spawn(server);
    }
    async fn get(addr: std::net::SocketAddr, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).await.unwrap();
        out
    }
    assert!(get(public_addr, "/health/live").await.starts_with("HTTP/1.1 200"));
    assert!(get(public_addr, "/metrics").await.starts_with("HTTP/1.1 404"));
    let out = get(own_addr, "/metrics").await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains(r#"route="/health/live""#), "{out}");
    for handle in handles {
        handle.stop(true).await;
    }
}

#[test]
fn the_metrics_token_never_prints() {
    let config = HttpConfig {
        metrics: roster_http::MetricsExposure {
            own_listener: false,
            token: Some(roster_http::MetricsToken::new("s3cret-metrics-token")),
        },
        ..HttpConfig::default()
    };
    assert!(!format!("{config:?}").contains("s3cret"));
}
