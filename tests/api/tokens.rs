use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::StatusCode;
use roster_domain::{auth::AccessClaims, ports::TokenSigner};
use serde_json::{json, Value};

use crate::helpers::*;

fn claims_of(token: &str) -> AccessClaims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn refused(app: &TestApp, token: &str, code: &str) {
    let r = app.get("/api/v1/me", Some(token)).await;
    let www = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(www.starts_with("Bearer"), "WWW-Authenticate: {www}");
    problem(r, StatusCode::UNAUTHORIZED, code).await;
}

#[tokio::test]
async fn access_tokens_carry_the_spec_claims_and_verify_offline_with_the_jwks() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("jwt")).await;
    let header = jsonwebtoken::decode_header(&s.access).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwks: Value = app.get("/.well-known/jwks.json", None).await.json().await.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header.kid.clone().unwrap().as_str())
        .expect("kid in JWKS");
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert!(jwk.get("d").is_none(), "no private material in the JWKS");
    // Verify the way a host application would.
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_audience(&["roster"]);
    v.set_issuer(&["http://127.0.0.1:8080"]);
    let data = jsonwebtoken::decode::<AccessClaims>(&s.access, &key, &v).unwrap();
    let c = data.claims;
    assert_eq!(c.sub.to_string(), s.id);
    assert_eq!(c.email, s.email);
    assert_eq!(c.role.as_deref(), Some("member"));
    assert_eq!(c.amr, vec!["pwd".to_string()]);
    assert_eq!(c.exp - c.iat, 900);
    assert_eq!(c.org, roster_domain::DEFAULT_ORG_ID);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("none")).await;
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid_of(&s.access)}).to_string());
    let payload = s.access.split('.').nth(1).unwrap();
    refused(&app, &format!("{header}.{payload}."), "invalid_token").await;
}

#[tokio::test]
async fn symmetric_algorithm_with_the_public_key_is_refused() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("hs")).await;
    let jwks: Value = app.get("/.well-known/jwks.json", None).await.json().await.unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap().to_string();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid_of(&s.access));
    let forged = jsonwebtoken::encode(&header, &claims_of(&s.access), &EncodingKey::from_secret(x.as_bytes())).unwrap();
    refused(&app, &forged, "invalid_token").await;
}

#[tokio::test]
async fn forged_signature_and_foreign_keys_are_refused() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("forge")).await;
    // Flip the subject without re-signing.
    let mut parts: Vec<String> = s.access.split('.').map(String::from).collect();
    let mut c = claims_of(&s.access);
    c.role = Some("owner".into());
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
    refused(&app, &parts.join("."), "invalid_token").await;
    // Signed by a key Roster never issued, under Roster's kid and under an unknown kid.
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    for kid in [kid_of(&s.access), "someone-else".to_string()] {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid);
        let foreign =
            jsonwebtoken::encode(&header, &claims_of(&s.access), &EncodingKey::from_ed_der(pkcs8.as_ref())).unwrap();
        refused(&app, &foreign, "invalid_token").await;
    }
    refused(&app, "not.a.jwt", "invalid_token").await;
}

#[tokio::test]
async fn expired_wrong_issuer_and_wrong_audience_are_refused() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("exp")).await;
    let signer = app.signer().await;
    let mut expired = claims_of(&s.access);
    expired.iat -= 3600;
    expired.exp = expired.iat + 900;
    refused(&app, &signer.sign(&expired).unwrap(), "token_expired").await;
    let mut issuer = claims_of(&s.access);
    issuer.iss = "https://evil.example".into();
    refused(&app, &signer.sign(&issuer).unwrap(), "invalid_token").await;
    let mut audience = claims_of(&s.access);
    audience.aud = "another-app".into();
    refused(&app, &signer.sign(&audience).unwrap(), "invalid_token").await;
    // The same signer with the right claims is accepted: the refusals above are about the claims.
    assert_eq!(
        app.get("/api/v1/me", Some(&signer.sign(&claims_of(&s.access)).unwrap())).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_token_for_a_deleted_users_session_is_refused() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let s = app.register(&unique_email("del")).await;
    let r = app.call(reqwest::Method::DELETE, &format!("/api/v1/users/{}", s.id), Some(&root.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    refused(&app, &s.access, "session_revoked").await;
}
