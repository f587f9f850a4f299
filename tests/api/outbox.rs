//! Delivery: a relay that is down loses nothing, two workers never send a
//! message twice, refused mail is parked as dead and can be queued again.

use std::{collections::HashSet, time::Duration};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn create_unverified(app: &TestApp, token: &str, n: usize) {
    for i in 0..n {
        let body = json!({"email": unique_email(&format!("bulk{i}")), "password": PASSWORD});
        assert_eq!(app.post("/api/v1/users", Some(token), body).await.status(), StatusCode::CREATED);
    }
}

fn message_ids(app: &TestApp) -> Vec<String> {
    app.smtp.messages().iter().map(|m| roster_testkit::smtp::parse(&m.data).message_id.unwrap()).collect()
}

#[tokio::test]
async fn a_relay_that_is_down_loses_nothing_and_sends_nothing_twice() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    app.smtp.set_down(true);
    create_unverified(&app, &root.access, 5).await; // each is mailed a verification link
                                                    // The requests succeeded; the worker keeps failing and retrying.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app.smtp.messages().is_empty());
    let pending: Value = app.get("/api/v1/outbox?status=pending", Some(&root.access)).await.json().await.unwrap();
    assert_eq!(pending["meta"]["total"], 5);
    assert!(pending["data"][0]["attempts"].as_u64().unwrap() >= 1);
    assert!(pending["data"][0]["last_error"].as_str().unwrap().contains("421"), "{pending}");
    assert!(pending["data"][0].get("payload").is_none() && pending["data"][0].get("text").is_none());

    app.smtp.set_down(false);
    app.mails(5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids = message_ids(&app);
    assert_eq!(ids.len(), 5, "each once");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5);
    let sent: Value = app.get("/api/v1/outbox?status=sent", Some(&root.access)).await.json().await.unwrap();
    assert_eq!(sent["meta"]["total"], 5);
}

#[tokio::test]
async fn two_workers_on_one_database_deliver_each_message_exactly_once() {
    let app = TestApp::spawn_with(|c| {
        c.mail.worker.batch = 2;
        c.mail.worker.poll_interval_ms = 10;
    })
    .await;
    let _second = app.second_worker().await;
    let root = app.superadmin().await;
    create_unverified(&app, &root.access, 30).await;
    app.mails(30).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let ids = message_ids(&app);
    assert_eq!(ids.len(), 30, "no message sent twice");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 30);
}

#[tokio::test]
async fn refused_mail_is_dead_listed_counted_and_can_be_queued_again() {
    let app = TestApp::spawn().await;
    let root = app.superadmin().await;
    let admin = app.admin().await;
    app.smtp.set_rcpt_reply(Some("550 5.1.1 no such user"));
    create_unverified(&app, &root.access, 1).await;
    let mut dead = Value::Null;
    for _ in 0..100 {
        dead = app.get("/api/v1/outbox?status=dead", Some(&root.access)).await.json().await.unwrap();
        if dead["meta"]["total"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead["meta"]["total"], 1, "{dead}");
    let entry = &dead["data"][0];
    assert_eq!((entry["template"].as_str(), entry["attempts"].as_u64()), (Some("verify_email"), Some(1)));
    assert!(entry["last_error"].as_str().unwrap().contains("550"));
    let metrics = app.metrics().await;
    assert!(metrics.contains(r#"roster_outbox_messages{status="dead"} 1"#), "{metrics}");

    // Only superadmins see or touch the outbox.
    problem(app.get("/api/v1/outbox", Some(&admin.access)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let retry = format!("/api/v1/outbox/{}/retry", entry["id"].as_str().unwrap());
    problem(app.post(&retry, Some(&admin.access), json!({})).await, StatusCode::FORBIDDEN, "forbidden").await;

    app.smtp.set_rcpt_reply(None);
    assert_eq!(app.post(&retry, Some(&root.access), json!({})).await.status(), StatusCode::ACCEPTED);
    app.mails(1).await;
    problem(app.post(&retry, Some(&root.access), json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
    let bad = app.get("/api/v1/outbox?status=lost", Some(&root.access)).await;
    problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
}
