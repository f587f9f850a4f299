//! The pool's limits and timeouts against real PostgreSQL.

#![allow(clippy::expect_used)] // test helpers outside #[test] fns

use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use roster_postgres::{build_pool, ping, pool_status, PoolConfig};

fn small(max_size: usize) -> PoolConfig {
    PoolConfig {
        max_size,
        wait_timeout: Duration::from_millis(300),
        create_timeout: Duration::from_secs(2),
        recycle_timeout: Duration::from_secs(2),
        statement_timeout: None,
    }
}

#[tokio::test]
async fn ping_and_status() {
    let db = roster_testkit::fresh_database().await.expect("test database");
    let pool = build_pool(db.url(), &small(4)).expect("pool");
    assert_eq!(pool_status(&pool), (0, 0, 4));
    ping(&pool).await.expect("ping");
    assert_eq!(pool_status(&pool), (1, 1, 4));
}

#[tokio::test]
async fn exhausted_pool_fails_fast() {
    let db = roster_testkit::fresh_database().await.expect("test database");
    let pool = build_pool(db.url(), &small(1)).expect("pool");
    let held = pool.get().await.expect("first connection");
    let started = Instant::now();
    assert!(pool.get().await.is_err(), "second checkout must time out");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(ping(&pool).await.is_err());
    drop(held);
    ping(&pool).await.expect("free again");
}

#[tokio::test]
async fn database_down_fails_fast() {
    // Bind a port and accept nothing, so connecting hangs until create_timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut cfg = small(2);
    cfg.create_timeout = Duration::from_millis(500);
    let pool = build_pool(&format!("postgres://u:p@127.0.0.1:{port}/db"), &cfg).expect("pool");
    let started = Instant::now();
    assert!(ping(&pool).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn statement_timeout_is_applied() {
    let db = roster_testkit::fresh_database().await.expect("test database");
    let mut cfg = small(2);
    cfg.statement_timeout = Some(Duration::from_millis(200));
    let pool = build_pool(db.url(), &cfg).expect("pool");
    let mut conn = pool.get().await.expect("connection");
    let err =
        diesel::sql_query("SELECT pg_sleep(2)").execute(&mut conn).await.expect_err("cancelled by statement_timeout");
    assert!(err.to_string().contains("statement timeout"), "{err}");
}
