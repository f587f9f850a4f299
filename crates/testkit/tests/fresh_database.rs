//! Fresh databases are migrated, independent, and dropped with their handle.

#![allow(clippy::expect_used)] // test helpers outside #[test] fns

use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

async fn users(url: &str) -> i64 {
    let mut conn = AsyncPgConnection::establish(url).await.expect("connect");
    let row: Count = diesel::sql_query("SELECT count(*) AS n FROM users").get_result(&mut conn).await.expect("count");
    row.n
}

#[tokio::test]
async fn fresh_databases_are_independent() {
    let a = roster_testkit::fresh_database().await.expect("a");
    let b = roster_testkit::fresh_database().await.expect("b");
    assert_ne!(a.name(), b.name());
    let mut conn = AsyncPgConnection::establish(a.url()).await.expect("connect a");
    diesel::sql_query("INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'a@example.com')")
        .execute(&mut conn)
        .await
        .expect("insert");
    assert_eq!(users(a.url()).await, 1);
    assert_eq!(users(b.url()).await, 0);
}

#[tokio::test]
async fn dropping_the_handle_drops_the_database() {
    let cluster = roster_testkit::test_cluster().await.expect("cluster");
    let db = roster_testkit::fresh_database().await.expect("db");
    let name = db.name().to_owned();
    // An open connection must not prevent the drop (WITH (FORCE)).
    let _open = AsyncPgConnection::establish(db.url()).await.expect("connect");
    drop(db);
    let mut admin = AsyncPgConnection::establish(cluster.admin_url()).await.expect("admin");
    let row: Flag = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS flag")
        .bind::<Text, _>(&name)
        .get_result(&mut admin)
        .await
        .expect("query");
    assert!(!row.flag, "{name} still exists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_in_parallel() {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(async {
                let db = roster_testkit::fresh_database().await.expect("fresh database");
                users(db.url()).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("join"), 0);
    }
}
