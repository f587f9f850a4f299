//! The embedded cluster: first start, restart on the same port, reuse of a
//! server left running, stop.

#![allow(clippy::expect_used)] // test helpers outside #[test] fns

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use roster_postgres::{EmbeddedOptions, EmbeddedPostgres};

async fn select_one(url: &str) {
    let mut conn = AsyncPgConnection::establish(url).await.expect("connect");
    diesel::sql_query("SELECT 1").execute(&mut conn).await.expect("select");
}

#[tokio::test(flavor = "multi_thread")]
async fn start_restart_reuse_stop() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // When root, the server runs as `postgres`, which must traverse the dir.
    std::fs::set_permissions(tmp.path(), <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o711))
        .expect("chmod");
    let mut opts = EmbeddedOptions::new(tmp.path().join("postgres"));
    opts.ephemeral = true;
    opts.database = "roster_it".into();

    let first = EmbeddedPostgres::start(opts.clone()).await.expect("first start");
    let url = first.database_url();
    assert!(url.ends_with("/roster_it"));
    select_one(&url).await;
    let password = std::fs::read_to_string(first.data_dir().join("password")).expect("password");
    assert!(password.trim().len() >= 32);
    let mode = std::fs::metadata(first.data_dir().join("password")).expect("meta");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600);

    // A second start while it runs (`roster admin create` beside a running
    // server) shares it as a guest, and stopping the guest leaves it running.
    assert!(first.is_owner());
    let second = EmbeddedPostgres::start(opts.clone()).await.expect("reuse");
    assert_eq!(second.database_url(), url);
    assert!(!second.is_owner());
    second.stop().await.expect("guest stop");
    select_one(&url).await;

    first.stop().await.expect("stop");
    assert!(AsyncPgConnection::establish(&url).await.is_err(), "stopped");

    // Restart: same port, same password, data kept.
    let again = EmbeddedPostgres::start(opts).await.expect("restart");
    assert_eq!(again.database_url(), url);
    select_one(&url).await;
    again.stop().await.expect("stop again");
}

#[tokio::test]
async fn missing_binaries_are_explained() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut opts = EmbeddedOptions::new(tmp.path().join("postgres"));
    opts.bin_dir = Some(tmp.path().join("no-such-bin"));
    let err = EmbeddedPostgres::start(opts).await.expect_err("no binaries");
    let msg = err.to_string();
    assert!(msg.contains("were not found") && msg.contains("ROSTER_DATABASE_URL"), "{msg}");
}

#[tokio::test]
async fn invalid_database_name_is_rejected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut opts = EmbeddedOptions::new(tmp.path().join("postgres"));
    opts.database = "bad;name".into();
    assert!(EmbeddedPostgres::start(opts).await.is_err());
}
