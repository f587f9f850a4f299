//! A private PostgreSQL cluster run from the machine's installed server
//! binaries, for `cargo run` without a database URL and for tests.
//!
//! Layout of `data_dir` (mode 0700, owned by the `postgres` user when Roster
//! runs as root, else by the current user):
//!
//! ```text
//! <data_dir>/password     superuser password (0600), also initdb's --pwfile
//! <data_dir>/server.log   server log (rotated once past 10 MB at start)
//! <data_dir>/pgdata/      the cluster (PGDATA); pgdata/roster.conf holds
//!                         Roster's settings, including the persisted port
//! ```
//!
//! The server listens on 127.0.0.1 only, with scram-sha-256 password
//! authentication for the `postgres` superuser.

mod cluster;
mod process;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use nix::unistd::{Gid, Uid};

use self::cluster::Layout;
use self::process::Runner;

/// How to run the embedded cluster.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Directory holding the cluster and its password (e.g. `./data/postgres`).
    pub data_dir: PathBuf,
    /// PostgreSQL bin directory; found automatically when `None`.
    pub bin_dir: Option<PathBuf>,
    /// Database created on start if missing (default `roster`).
    pub database: String,
    /// Throwaway cluster for tests: no fsync, no full-page writes, more
    /// connections. Never use for data you want to keep.
    pub ephemeral: bool,
    /// How long `pg_ctl` may take to start or stop the server.
    pub timeout: Duration,
}

impl EmbeddedOptions {
    /// Options for a durable cluster in `data_dir` with database `roster`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            bin_dir: None,
            database: "roster".to_owned(),
            ephemeral: false,
            timeout: Duration::from_secs(60),
        }
    }
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self::new("./data/postgres")
    }
}

/// Why the embedded cluster could not be started, stopped or used.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No directory with `initdb`, `pg_ctl` and `postgres` was found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found \
         (searched: {searched}). Either install the PostgreSQL server package \
         (Debian/Ubuntu: `apt-get install postgresql`) or set ROSTER_DATABASE_URL \
         to an existing PostgreSQL server"
    )]
    BinariesNotFound {
        /// Where we looked.
        searched: String,
    },
    /// Roster runs as root but there is no `postgres` user to run the server.
    #[error(
        "Roster runs as root and PostgreSQL refuses to, but there is no `postgres` \
         system user to run it as. Install the PostgreSQL server package (it creates \
         the user), run Roster as an unprivileged user, or set ROSTER_DATABASE_URL \
         to an existing PostgreSQL server"
    )]
    NoPostgresUser,
    /// The `postgres` user cannot reach the data directory.
    #[error(
        "the `postgres` system user cannot access {path}; make its parent \
         directories searchable (chmod o+x) or choose a data directory elsewhere \
         (ROSTER_DATA_DIR)"
    )]
    Inaccessible {
        /// The data directory.
        path: PathBuf,
    },
    /// The data directory is in a state we will not touch.
    #[error("{0}")]
    InvalidCluster(String),
    /// The database name is not a plain identifier.
    #[error("invalid database name {0:?}: use letters, digits and _ (at most 63)")]
    InvalidDatabaseName(String),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A program could not be started.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A program did not finish in time.
    #[error("`{command}` did not finish within {after:?}")]
    Timeout {
        /// The command line.
        command: String,
        /// The time limit.
        after: Duration,
    },
    /// A program exited unsuccessfully.
    #[error("`{command}` failed ({status}):{detail}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// The tail of its output and of the server log.
        detail: String,
    },
    /// The started server did not accept a connection.
    #[error("could not connect to the embedded PostgreSQL on 127.0.0.1:{port}: {source}")]
    Connect {
        /// The server's port.
        port: u16,
        /// The cause.
        source: diesel::ConnectionError,
    },
    /// Creating the database failed.
    #[error("could not create database {database}: {source}")]
    CreateDatabase {
        /// The database name.
        database: String,
        /// The cause.
        source: diesel::result::Error,
    },
}

/// A running embedded PostgreSQL cluster. Dropping it stops the server
/// (blocking); prefer [`EmbeddedPostgres::stop`] in async code.
pub struct EmbeddedPostgres {
    layout: Layout,
    runner: Runner,
    password: String,
    port: u16,
    database: String,
    timeout: Duration,
    stopped: bool,
    /// Held while this process owns the cluster; `None` for a guest.
    _owner_lock: Option<nix::fcntl::Flock<std::fs::File>>,
}

impl std::fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedPostgres")
            .field("data_dir", &self.layout.data_dir)
            .field("bin_dir", &self.runner.bin_dir)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Takes `<data_dir>/roster.lock`; `None` when another process holds it.
fn owner_lock(data_dir: &Path) -> Result<Option<nix::fcntl::Flock<std::fs::File>>, EmbeddedError> {
    use nix::fcntl::{Flock, FlockArg};
    let path = data_dir.join("roster.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| EmbeddedError::Io { path: path.clone(), source })?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(lock)),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, errno)) => Err(EmbeddedError::Io { path, source: std::io::Error::from_raw_os_error(errno as i32) }),
    }
}

impl EmbeddedPostgres {
    /// Starts the cluster in `opts.data_dir`, creating it on first use, and
    /// creates `opts.database` if missing. A server already running on that
    /// directory is reused.
    ///
    /// The first process holds an exclusive lock on `<data_dir>/roster.lock`
    /// and owns the cluster: it stops it when done. A process that finds the
    /// lock taken (`roster admin create` next to a running `roster serve`) is
    /// a guest and never stops the server it shares. A cluster left running
    /// by a killed Roster has no lock holder, so the next Roster owns it.
    pub async fn start(opts: EmbeddedOptions) -> Result<Self, EmbeddedError> {
        if !valid_identifier(&opts.database) {
            return Err(EmbeddedError::InvalidDatabaseName(opts.database));
        }
        let owner = Runner::postgres_user_if_root()?;
        let layout = Layout::prepare(&opts.data_dir, owner)?;
        let version = layout.cluster_version()?;
        let bin_dir = process::find_bin_dir(opts.bin_dir.as_deref(), version.as_deref()).await?;
        let runner = Runner { bin_dir, as_postgres: owner };
        if owner.is_some() {
            layout.check_access(&runner).await?;
        }
        let password = match version {
            Some(_) => layout.read_password()?,
            None => layout.init(&runner, opts.ephemeral).await?,
        };
        let mut port = match layout.read_port()? {
            Some(port) => port,
            None => cluster::free_port()?,
        };
        if layout.is_running(&runner).await? {
            tracing::info!(data_dir = %layout.data_dir.display(), port, "reusing running embedded PostgreSQL");
        } else {
            layout.rotate_log()?;
            let mut attempt = 0;
            loop {
                layout.write_config(port, opts.ephemeral)?;
                match layout.start(&runner, opts.timeout).await {
                    Ok(()) => break,
                    Err(err) if attempt < 3 && layout.port_was_taken() => {
                        tracing::warn!(port, "port taken, moving embedded PostgreSQL to another: {err}");
                        port = cluster::free_port()?;
                        attempt += 1;
                    }
                    Err(err) => return Err(err),
                }
            }
            tracing::info!(data_dir = %layout.data_dir.display(), port, "started embedded PostgreSQL");
        }
        let owner_lock = owner_lock(&layout.data_dir)?;
        let guest = owner_lock.is_none();
        if guest {
            tracing::info!(data_dir = %layout.data_dir.display(), "another Roster owns this embedded PostgreSQL; sharing it");
        }
        let pg = Self {
            layout,
            runner,
            password,
            port,
            database: opts.database,
            timeout: opts.timeout,
            stopped: guest,
            _owner_lock: owner_lock,
        };
        pg.create_database(&pg.database).await?;
        Ok(pg)
    }

    /// URL of the database named in [`EmbeddedOptions::database`].
    pub fn database_url(&self) -> String {
        self.url_for(&self.database)
    }

    /// URL of database `db` on this cluster, as the `postgres` superuser.
    pub fn url_for(&self, db: &str) -> String {
        format!("postgres://postgres:{}@127.0.0.1:{}/{db}", self.password, self.port)
    }

    /// Whether this process owns the cluster and will stop it; `false` for a
    /// guest sharing a cluster another Roster process started.
    pub fn is_owner(&self) -> bool {
        self._owner_lock.is_some()
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory given as [`EmbeddedOptions::data_dir`], made absolute.
    pub fn data_dir(&self) -> &Path {
        &self.layout.data_dir
    }

    /// Command line (program first) that stops this cluster, `immediate`
    /// or fast, as the right user; for watchdogs that outlive this process.
    pub fn stop_command(&self, immediate: bool) -> Vec<OsString> {
        let args = self.layout.stop_args(immediate, self.timeout);
        self.runner.argv(&self.runner.bin_dir.join("pg_ctl"), &args)
    }

    /// The uid/gid owning the cluster when Roster runs as root.
    pub fn owner(&self) -> Option<(Uid, Gid)> {
        self.runner.as_postgres
    }

    /// Creates database `name` unless it exists.
    pub async fn create_database(&self, name: &str) -> Result<(), EmbeddedError> {
        if !valid_identifier(name) {
            return Err(EmbeddedError::InvalidDatabaseName(name.to_owned()));
        }
        let mut conn = self.connect_admin().await?;
        let err = |source| EmbeddedError::CreateDatabase { database: name.to_owned(), source };
        if database_exists(&mut conn, name).await.map_err(err)? {
            return Ok(());
        }
        let create = diesel::sql_query(format!("CREATE DATABASE \"{name}\""));
        match create.execute(&mut conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Fine if we lost a race with another process creating it.
                match database_exists(&mut conn, name).await {
                    Ok(true) => Ok(()),
                    _ => Err(err(e)),
                }
            }
        }
    }

    /// Connects to the `postgres` database, retrying while the server is
    /// still starting up.
    async fn connect_admin(&self) -> Result<AsyncPgConnection, EmbeddedError> {
        let url = self.url_for("postgres");
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match AsyncPgConnection::establish(&url).await {
                Ok(conn) => return Ok(conn),
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(source) => return Err(EmbeddedError::Connect { port: self.port, source }),
            }
        }
    }

    /// Stops the server (`pg_ctl stop -m fast`), waiting for it to exit.
    /// A guest (see [`EmbeddedPostgres::start`]) leaves the server running.
    pub async fn stop(mut self) -> Result<(), EmbeddedError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        self.layout.stop(&self.runner, self.timeout).await
    }

    /// Blocking variant of [`EmbeddedPostgres::stop`], usable outside a
    /// runtime. Idempotent.
    pub fn stop_blocking(&mut self) -> Result<(), EmbeddedError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        self.layout.stop_blocking(&self.runner, self.timeout)
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Err(err) = self.stop_blocking() {
            tracing::error!("stopping embedded PostgreSQL: {err}");
        }
    }
}

/// `name` is a plain identifier needing neither quoting nor URL-encoding.
fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> diesel::QueryResult<bool> {
    let row: Exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<Text, _>(name)
        .get_result(conn)
        .await?;
    Ok(row.exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(valid_identifier("roster"));
        assert!(valid_identifier("test_0190abcd"));
        assert!(!valid_identifier("1abc"));
        assert!(!valid_identifier("a-b"));
        assert!(!valid_identifier("a\"b"));
        assert!(!valid_identifier(""));
        assert!(!valid_identifier(&"a".repeat(64)));
    }

    #[test]
    fn not_found_message_is_actionable() {
        let msg = EmbeddedError::BinariesNotFound { searched: "/usr/lib/postgresql/*/bin".into() }.to_string();
        assert!(msg.contains("were not found"));
        assert!(msg.contains("apt-get install postgresql"));
        assert!(msg.contains("ROSTER_DATABASE_URL"));
    }
}
