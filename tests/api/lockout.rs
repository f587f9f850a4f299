//! Lockout after failed sign-ins, end to end: `Retry-After`, no password
//! check while locked, the notice, unknown addresses alike, the
//! administrator's unlock — and three real `roster` processes on one
//! database, where concurrent attempts are counted exactly.

use std::{process::Stdio, time::Duration};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn five_failures_lock_an_account_with_retry_after_until_unlocked() {
    let app = TestApp::spawn().await;
    let ada = app.register(&unique_email("ada")).await;
    for _ in 0..5 {
        problem(app.login(&ada.email, "wrong password").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    // Locked: even the right password is refused, unchecked.
    let r = app.login(&ada.email, PASSWORD).await;
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    problem(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    let security = body_of(app.get("/api/v1/me/security", Some(&ada.access)).await, StatusCode::OK).await;
    assert!(security["locked_until"].is_string(), "{security}");
    assert_eq!(security["recent_failures"], 5);

    // The owner is told.
    for _ in 0..200 {
        let told = app.mails(0).await.into_iter().any(|m| {
            m.to.iter().any(|a| a.address == ada.email) && m.subject.as_deref().is_some_and(|s| s.contains("locked"))
        });
        if told {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A plain member cannot unlock; an administrator can.
    let bob = app.member().await;
    let path = format!("/api/v1/users/{}/unlock", ada.id);
    problem(app.post(&path, Some(&bob.access), json!({})).await, StatusCode::FORBIDDEN, "forbidden").await;
    let admin = app.admin().await;
    let view = body_of(app.post(&path, Some(&admin.access), json!({})).await, StatusCode::OK).await;
    assert!(view["locked_until"].is_null() && view["recent_failures"] == 0, "{view}");
    let body = body_of(app.login(&ada.email, PASSWORD).await, StatusCode::OK).await;
    assert!(body["access_token"].is_string());
    let security = body_of(app.get("/api/v1/me/security", Some(&ada.access)).await, StatusCode::OK).await;
    assert_eq!(security["last_login_ip"], "127.0.0.1");
}

#[tokio::test]
async fn a_success_resets_the_count_and_an_unknown_address_locks_alike() {
    let app = TestApp::spawn().await;
    let ada = app.register(&unique_email("ada")).await;
    for _ in 0..4 {
        problem(app.login(&ada.email, "wrong password").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    app.login_ok(&ada.email).await;
    for _ in 0..4 {
        problem(app.login(&ada.email, "wrong password").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    app.login_ok(&ada.email).await;

    // An address nobody has answers exactly as a real one: 401 five times, then 429.
    let ghost = unique_email("ghost");
    for _ in 0..5 {
        problem(app.login(&ghost, "anything").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let r = app.login(&ghost, "anything").await;
    assert!(r.headers().contains_key("retry-after"));
    problem(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}

#[tokio::test]
async fn one_client_address_cannot_spray_many_accounts() {
    let app = TestApp::spawn_with(|c| c.rate_limits.login.per_ip = 3).await;
    for i in 0..3 {
        let r = app.login(&unique_email(&format!("spray{i}")), "guess").await;
        problem(r, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let r = app.login(&unique_email("spray"), "guess").await;
    assert!(r.headers().contains_key("retry-after"));
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

/// `roster serve` processes, killed when dropped.
struct Processes(Vec<std::process::Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// 3 processes of the real binary on one PostgreSQL; 50 wrong passwords
/// for one account at once, spread over them: exactly `max_failures` (5)
/// reach the password hash (`401`), every other is refused unchecked (`429`).
#[tokio::test]
async fn three_processes_check_exactly_max_failures_passwords() {
    let db = roster_testkit::fresh_database().await.expect("test database");
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let data = tempfile::tempdir().unwrap();
    let mut children = Processes(Vec::new());
    let mut bases = Vec::new();
    for i in 0..3 {
        let port = free_port();
        let dir = data.path().join(format!("p{i}"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ROSTER_DATABASE_URL", db.url())
            .env("ROSTER_KEY_ENCRYPTION_SECRET", &secret)
            .env("ROSTER_DATA_DIR", &dir)
            .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"))
            .env("ROSTER_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("ROSTER_SMTP_URL", format!("file://{}", dir.join("mail").display()))
            .env("ROSTER_AUTH__BCRYPT_COST", "10")
            .env("ROSTER_HTTP__WORKERS", "2")
            .env("ROSTER_LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("roster starts");
        children.0.push(child);
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let client = reqwest::Client::new();
    for base in &bases {
        let mut ready = false;
        for _ in 0..300 {
            if let Ok(r) = client.get(format!("{base}/health/ready")).send().await {
                if r.status() == StatusCode::OK {
                    ready = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "{base} never got ready");
    }
    let email = unique_email("race");
    let r = client
        .post(format!("{}/api/v1/auth/register", bases[0]))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let attempts = (0..50).map(|i| {
        let (client, url, email) = (client.clone(), format!("{}/api/v1/auth/login", bases[i % 3]), email.clone());
        tokio::spawn(async move {
            let r = client.post(url).json(&json!({"email": email, "password": "wrong password"})).send().await;
            r.unwrap().status()
        })
    });
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (5, 45), "{statuses:?}");
    // And the account is locked in every process.
    for base in &bases {
        let r = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    drop(children);
}
