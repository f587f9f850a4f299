//! What browsers get: CORS for the listed origins only, `HEAD` wherever
//! `GET` is served, and the security headers on every answer.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

const APP: &str = "https://app.example.com";

async fn cors_app() -> TestApp {
    TestApp::spawn_with(|c| c.http.cors.allowed_origins = vec![APP.into(), "http://localhost:5173".into()]).await
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_listed_origin_gets_its_preflight_and_its_answers() {
    let app = cors_app().await;
    let r = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/users"))
        .header("Origin", APP)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(header(&r, "access-control-allow-origin"), Some(APP));
    assert!(header(&r, "access-control-allow-methods").unwrap().contains("POST"));
    let allowed = header(&r, "access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    assert_eq!(header(&r, "access-control-max-age"), Some("600"));
    assert_eq!(header(&r, "access-control-allow-credentials"), None, "credentials stay off");

    // The real request: the origin is echoed, the useful headers exposed.
    let root = app.superadmin().await;
    let r = app.client.get(app.url("/api/v1/me")).header("Origin", APP).bearer_auth(&root.access).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(APP));
    let exposed = header(&r, "access-control-expose-headers").unwrap().to_ascii_lowercase();
    for h in ["x-request-id", "retry-after", "location"] {
        assert!(exposed.contains(h), "{exposed}");
    }
    // Errors carry them too, so a script can read the problem.
    let r = app.client.get(app.url("/api/v1/me")).header("Origin", APP).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(APP));
}

#[tokio::test]
async fn another_origin_gets_no_cors_and_no_cors_is_the_default() {
    let app = cors_app().await;
    let r = app.client.get(app.url("/health/live")).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "served, but the browser withholds it from the script");
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    let r = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/users"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    assert!(!r.status().is_success(), "{}", r.status());
    assert_eq!(header(&r, "content-type"), Some("application/problem+json"));

    let plain = TestApp::spawn().await;
    let r = plain
        .client
        .request(Method::OPTIONS, plain.url("/api/v1/users"))
        .header("Origin", APP)
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn head_is_answered_wherever_get_is() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    for path in ["/health/live", "/.well-known/jwks.json", "/api/v1/openapi.json", "/api/v1/me", "/api/v1/users"] {
        let get = app.client.get(app.url(path)).bearer_auth(&root.access).send().await.unwrap();
        let head = app.client.head(app.url(path)).bearer_auth(&root.access).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(header(&head, "content-type"), header(&get, "content-type"), "{path}");
        assert!(header(&head, "x-request-id").is_some());
        assert!(head.bytes().await.unwrap().is_empty(), "{path}: no body");
    }
    // Unauthenticated HEAD is refused like GET, and methods list HEAD.
    let r = app.client.head(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.call(Method::PUT, "/api/v1/me", None, None).await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header(&r, "allow").unwrap().contains("HEAD"));
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let answers = [
        app.get("/api/v1/me", Some(&root.access)).await,
        app.get("/api/v1/users", Some(&root.access)).await,
        app.get(&format!("/api/v1/orgs/{}/members", roster_domain::DEFAULT_ORG_ID), Some(&root.access)).await,
        app.get("/api/v1/me", None).await,
        app.get("/api/v1/nothing-here", None).await,
    ];
    for r in &answers {
        let url = r.url().path().to_string();
        assert_eq!(header(r, "x-content-type-options"), Some("nosniff"), "{url}");
        assert_eq!(header(r, "referrer-policy"), Some("no-referrer"), "{url}");
        assert!(header(r, "content-security-policy").unwrap().contains("frame-ancestors 'none'"), "{url}");
        assert_eq!(header(r, "cache-control"), Some("no-store"), "{url}: personal data is never stored");
    }
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let csp = header(&docs, "content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    let jwks = app.client.get(app.url("/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(header(&jwks, "x-content-type-options"), Some("nosniff"));
    assert_ne!(header(&jwks, "cache-control"), Some("no-store"), "public keys may be cached");
}
