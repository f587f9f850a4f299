//! All migrations up → down → up against real PostgreSQL, and concurrent
//! runners serialized by the advisory lock.

#![allow(clippy::expect_used)] // test helpers outside #[test] fns

use diesel::migration::MigrationSource;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use roster_postgres::{revert_all, run_migrations, MIGRATIONS};

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

fn migration_count() -> usize {
    MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).expect("embedded migrations").len()
}

async fn has_users_table(url: &str) -> bool {
    let mut conn = AsyncPgConnection::establish(url).await.expect("connect");
    let row: Flag = diesel::sql_query("SELECT to_regclass('public.users') IS NOT NULL AS flag")
        .get_result(&mut conn)
        .await
        .expect("query");
    row.flag
}

#[tokio::test(flavor = "multi_thread")]
async fn up_down_up() {
    let db = roster_testkit::fresh_database().await.expect("test database");
    let n = migration_count();
    assert!(n > 0);
    assert!(has_users_table(db.url()).await, "template is migrated");
    assert_eq!(run_migrations(db.url()).await.expect("up"), 0);

    assert_eq!(revert_all(db.url()).await.expect("down"), n);
    assert!(!has_users_table(db.url()).await);

    assert_eq!(run_migrations(db.url()).await.expect("up again"), n);
    assert!(has_users_table(db.url()).await);
    assert_eq!(run_migrations(db.url()).await.expect("nothing pending"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_runs_are_serialized() {
    let db = roster_testkit::fresh_database().await.expect("test database");
    let n = revert_all(db.url()).await.expect("down");
    let (a, b, c) = tokio::join!(run_migrations(db.url()), run_migrations(db.url()), run_migrations(db.url()));
    let mut applied = [a.expect("first"), b.expect("second"), c.expect("third")];
    applied.sort_unstable();
    assert_eq!(applied, [0, 0, n], "exactly one runner applies the migrations");
    assert!(has_users_table(db.url()).await);
}

#[tokio::test]
async fn runs_on_a_current_thread_runtime() {
    // #[tokio::test] defaults to a current-thread runtime; the blocking
    // migration task must still be able to drive its connection.
    let db = roster_testkit::fresh_database().await.expect("test database");
    let n = revert_all(db.url()).await.expect("down");
    assert_eq!(run_migrations(db.url()).await.expect("up"), n);
}

#[tokio::test]
async fn unreachable_database_is_an_error() {
    let err = run_migrations("postgres://postgres:x@127.0.0.1:1/nope").await.expect_err("nothing listens on port 1");
    assert!(err.to_string().contains("could not connect"), "{err}");
}
