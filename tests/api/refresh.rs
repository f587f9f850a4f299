use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": token})).await
}

#[tokio::test]
async fn refresh_rotates_and_the_new_pair_works() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("rot")).await;
    let r = refresh(&app, &s.refresh).await;
    assert_eq!(r.status(), StatusCode::OK);
    let next = session(r.json().await.unwrap());
    assert_ne!(next.refresh, s.refresh);
    assert_eq!(app.get("/api/v1/me", Some(&next.access)).await.status(), StatusCode::OK);
    // The successor rotates in turn.
    assert_eq!(refresh(&app, &next.refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn parallel_refreshes_of_one_token_all_get_the_same_successor() {
    let app = TestApp::spawn().await;
    let s = app.register(&unique_email("tabs")).await;
    let calls = (0..8).map(|_| refresh(&app, &s.refresh));
    let responses = futures_util::future::join_all(calls).await;
    let mut successors = Vec::new();
    for r in responses {
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        successors.push(body["refresh_token"].as_str().unwrap().to_string());
    }
    successors.dedup();
    assert_eq!(successors.len(), 1, "every tab holds the one live token");
    // The session survived and the shared successor is live.
    assert_eq!(refresh(&app, &successors[0]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_whole_session() {
    let app = TestApp::spawn_with(|c| c.auth.refresh_reuse_grace_secs = 1).await;
    let s = app.register(&unique_email("thief")).await;
    let next = session(refresh(&app, &s.refresh).await.json().await.unwrap());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    problem(refresh(&app, &s.refresh).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    // The legitimate holder's tokens died with the session.
    problem(refresh(&app, &next.refresh).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    problem(app.get("/api/v1/me", Some(&next.access)).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

#[tokio::test]
async fn garbage_refresh_tokens_are_401() {
    let app = TestApp::spawn().await;
    for t in ["", "garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        problem(refresh(&app, t).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    }
}
