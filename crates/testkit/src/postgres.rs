//! The test PostgreSQL cluster and per-test databases.
//!
//! Set `ROSTER_TEST_DATABASE_URL` to an admin URL (a superuser, or a role
//! with CREATEDB) of an existing server to use it instead of starting a
//! cluster from the installed PostgreSQL binaries.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use roster_postgres::{EmbeddedOptions, EmbeddedPostgres};
use tokio::sync::{Mutex, OnceCell};
use uuid::Uuid;

/// Environment variable naming an existing server to test against.
pub const TEST_DATABASE_URL_ENV: &str = "ROSTER_TEST_DATABASE_URL";

static CLUSTER: OnceCell<TestCluster> = OnceCell::const_new();
/// Serializes `CREATE DATABASE … TEMPLATE` within the process.
static CREATE_LOCK: Mutex<()> = Mutex::const_new(());

/// The server the tests of this process use, with its migrated template.
#[derive(Debug)]
pub struct TestCluster {
    admin_url: String,
    template: String,
    /// Kept so the cluster is described in `Debug`; statics are never
    /// dropped, the watchdog stops the server when the process exits.
    embedded: Option<EmbeddedPostgres>,
}

impl TestCluster {
    /// URL of the maintenance database, as a user that can create databases.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// URL of database `db` on this server.
    pub fn url_for(&self, db: &str) -> String {
        with_database(&self.admin_url, db)
    }

    /// Name of the migrated template database.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Whether this process started the server (rather than using
    /// `ROSTER_TEST_DATABASE_URL`).
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Creates a new database copied from the migrated template.
    pub async fn create_database(&self) -> anyhow::Result<TestDatabase> {
        let name = format!("test_{}", Uuid::now_v7().simple());
        let mut conn =
            AsyncPgConnection::establish(&self.admin_url).await.context("connecting to the test PostgreSQL")?;
        let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{}\"", self.template);
        let _guard = CREATE_LOCK.lock().await;
        let mut attempt = 0;
        loop {
            match diesel::sql_query(&sql).execute(&mut conn).await {
                Ok(_) => break,
                Err(e) if attempt < 5 && e.to_string().contains("accessed by other users") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(e) => return Err(e).context(format!("creating test database {name}")),
            }
        }
        Ok(TestDatabase { url: self.url_for(&name), admin_url: self.admin_url.clone(), name })
    }
}

/// A database of its own for one test, dropped (`WITH (FORCE)`) on `Drop`.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDatabase {
    /// Connection URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Name of this database.
    pub fn name(&self) -> &str {
        &self.name
    }

    async fn admin(&self, sql: String) -> anyhow::Result<()> {
        let mut conn = AsyncPgConnection::establish(&self.admin_url).await.context("connecting as admin")?;
        diesel::sql_query(sql).execute(&mut conn).await.context("admin statement")?;
        Ok(())
    }

    /// Runs one SQL statement in this database (e.g. to age a token past
    /// its expiry); returns the rows it affected.
    pub async fn execute(&self, sql: &str) -> anyhow::Result<usize> {
        let mut conn = AsyncPgConnection::establish(&self.url).await.context("connecting")?;
        diesel::sql_query(sql).execute(&mut conn).await.context("statement")
    }

    /// Simulates the database going away: refuses new connections and
    /// terminates the open ones. [`TestDatabase::restore`] undoes it.
    pub async fn take_down(&self) -> anyhow::Result<()> {
        self.admin(format!("ALTER DATABASE \"{}\" ALLOW_CONNECTIONS false", self.name)).await?;
        self.admin(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            self.name
        ))
        .await
    }

    /// Accepts connections again after [`TestDatabase::take_down`].
    pub async fn restore(&self) -> anyhow::Result<()> {
        self.admin(format!("ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true", self.name)).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Own thread and runtime: works inside or outside a tokio runtime.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut conn = AsyncPgConnection::establish(&admin_url).await?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                Ok(())
            })
        });
        match dropper.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("dropping test database {}: {e:#}", self.name),
            Err(_) => tracing::warn!("dropping test database {}: thread panicked", self.name),
        }
    }
}

/// The test server of this process, started and migrated on first call.
pub async fn test_cluster() -> anyhow::Result<&'static TestCluster> {
    CLUSTER.get_or_try_init(init_in_own_runtime).await
}

/// A new migrated database for one test.
pub async fn fresh_database() -> anyhow::Result<TestDatabase> {
    test_cluster().await?.create_database().await
}

/// Each `#[tokio::test]` has its own runtime, which dies with the test, so
/// the one-time set-up runs on a thread and runtime of its own.
async fn init_in_own_runtime() -> anyhow::Result<TestCluster> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(init()));
        let _ = tx.send(result);
    });
    rx.await.context("test cluster set-up thread died")?
}

async fn init() -> anyhow::Result<TestCluster> {
    let (admin_url, embedded) = match std::env::var(TEST_DATABASE_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => (url, None),
        _ => {
            let pg = start_embedded().await?;
            (pg.url_for("postgres"), Some(pg))
        }
    };
    let template = format!("roster_template_{}", Uuid::now_v7().simple());
    if embedded.is_none() {
        // Our template on a shared server goes when this process does.
        let cleanup = format!(
            "psql \"$ROSTER_TESTKIT_ADMIN_URL\" -q \
             -c 'ALTER DATABASE \"{template}\" IS_TEMPLATE false' \
             -c 'DROP DATABASE IF EXISTS \"{template}\" WITH (FORCE)'"
        );
        spawn_watchdog(&cleanup, Some(&admin_url))?;
    }
    create_template(&admin_url, &template).await?;
    tracing::info!(template, "test PostgreSQL ready");
    Ok(TestCluster { admin_url, template, embedded })
}

async fn start_embedded() -> anyhow::Result<EmbeddedPostgres> {
    let tmp = tempfile::Builder::new()
        .prefix("roster-test-pg-")
        .tempdir()
        .context("creating the test cluster's temporary directory")?
        .keep();
    // When root, the server runs as `postgres`, which must traverse it.
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o711))?;
    let mut opts = EmbeddedOptions::new(tmp.join("cluster"));
    opts.database = "postgres".to_owned();
    opts.ephemeral = true;
    let pg = match EmbeddedPostgres::start(opts).await {
        Ok(pg) => pg,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e).context("starting the test PostgreSQL cluster");
        }
    };
    let stop = pg.stop_command(true).iter().map(|arg| sh_quote(arg)).collect::<Vec<_>>().join(" ");
    let cleanup = format!("{stop}; rm -rf {}", sh_quote(tmp.as_os_str()));
    spawn_watchdog(&cleanup, None)?;
    tracing::info!(port = pg.port(), dir = %tmp.display(), "started test PostgreSQL");
    Ok(pg)
}

/// Creates `template`, migrates it, and closes it to connections so it can
/// be copied.
async fn create_template(admin_url: &str, template: &str) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(admin_url).await.context("connecting to the test PostgreSQL")?;
    diesel::sql_query(format!("CREATE DATABASE \"{template}\""))
        .execute(&mut conn)
        .await
        .context("creating the template database")?;
    roster_postgres::run_migrations(&with_database(admin_url, template))
        .await
        .context("migrating the template database")?;
    diesel::sql_query(format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"))
        .execute(&mut conn)
        .await?;
    // The migration connection may still be closing; copying needs it gone.
    let mut attempt = 0;
    loop {
        let row: Count = diesel::sql_query(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(template)
        .get_result(&mut conn)
        .await?;
        if row.n == 0 || attempt >= 50 {
            break;
        }
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Starts a detached shell that waits for this process to exit, then runs
/// `cleanup`. Statics are never dropped, so this is how the cluster and its
/// directory go away after `cargo test`. Its output goes to /dev/null so
/// the test harness never waits on it.
fn spawn_watchdog(cleanup: &str, admin_url: Option<&str>) -> anyhow::Result<()> {
    let script = format!("while kill -0 {} 2>/dev/null; do sleep 1; done; {cleanup}", std::process::id());
    let setsid = ["/usr/bin/setsid", "/bin/setsid"].iter().map(PathBuf::from).find(|p| p.is_file());
    let mut cmd = match &setsid {
        Some(setsid) => {
            let mut cmd = Command::new(setsid);
            cmd.arg("sh");
            cmd
        }
        None => Command::new("sh"),
    };
    cmd.arg("-c").arg(script).current_dir("/").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(url) = admin_url {
        // In the environment rather than the command line, out of `ps`.
        cmd.env("ROSTER_TESTKIT_ADMIN_URL", url);
    }
    // Deliberately not waited for: it outlives this process.
    cmd.spawn().context("starting the test cluster watchdog")?;
    Ok(())
}

fn sh_quote(arg: &std::ffi::OsStr) -> String {
    format!("'{}'", arg.to_string_lossy().replace('\'', r"'\''"))
}

/// `url` with its database path replaced by `db`, keeping any query string.
pub fn with_database(url: &str, db: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url[authority_start..].find('?') {
        Some(i) => url.split_at(authority_start + i),
        None => (url, ""),
    };
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_database_in_urls() {
        assert_eq!(with_database("postgres://u:p@h:5432/postgres", "t1"), "postgres://u:p@h:5432/t1");
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "t1"), "postgres://h:1/t1");
        assert_eq!(with_database("postgres://h?x=1", "t1"), "postgres://h/t1?x=1");
    }

    #[test]
    fn quotes_for_sh() {
        assert_eq!(sh_quote("a b'c".as_ref()), r"'a b'\''c'");
    }
}
