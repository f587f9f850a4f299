//! Schema migrations: the SQL in the top-level `migrations/` embedded in the
//! binary, applied under a PostgreSQL advisory lock so several Roster
//! processes may start at once.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// All migrations, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Key of the session advisory lock held while migrating
/// (`'roster_m'` as ASCII bytes).
pub const MIGRATION_LOCK_KEY: i64 = 0x726f_7374_6572_5f6d;

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The database could not be reached.
    #[error("could not connect to the database to migrate it: {0}")]
    Connect(#[from] diesel::ConnectionError),
    /// Taking or releasing the advisory lock failed.
    #[error("migration lock: {0}")]
    Lock(#[source] diesel::result::Error),
    /// A migration failed; it was rolled back.
    #[error("migration failed: {0}")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The blocking migration task panicked or was cancelled.
    #[error("migration task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

type SyncPg = AsyncConnectionWrapper<AsyncPgConnection>;

/// Applies all pending migrations to the database at `url` and returns how
/// many were applied (0 when another process already did).
pub async fn run_migrations(url: &str) -> Result<usize, MigrateError> {
    let applied = with_lock(url, |conn| conn.run_pending_migrations(MIGRATIONS).map(|versions| versions.len())).await?;
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    Ok(applied)
}

/// Reverts every applied migration, newest first, and returns how many were
/// reverted. Destroys all data; for tests and `roster migrate --revert-all`.
pub async fn revert_all(url: &str) -> Result<usize, MigrateError> {
    with_lock(url, |conn| conn.revert_all_migrations(MIGRATIONS).map(|versions| versions.len())).await
}

/// Versions of the migrations not yet applied to the database at `url`.
pub async fn pending_migrations(url: &str) -> Result<Vec<String>, MigrateError> {
    with_lock(url, |conn| {
        conn.pending_migrations(MIGRATIONS)
            .map(|pending| pending.iter().map(|m| m.name().version().to_string()).collect())
    })
    .await
}

/// Runs `f` on a dedicated synchronous connection holding the migration lock.
///
/// `AsyncConnectionWrapper` blocks on the async connection, so, as its docs
/// prescribe inside a runtime, everything runs in `spawn_blocking`; the
/// wrapper drives its futures through the current runtime's handle.
async fn with_lock<T, F>(url: &str, f: F) -> Result<T, MigrateError>
where
    T: Send + 'static,
    F: FnOnce(&mut SyncPg) -> diesel::migration::Result<T> + Send + 'static,
{
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncPg::establish(&url)?;
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).map_err(MigrateError::Lock)?;
        let result = f(&mut conn).map_err(MigrateError::Migration);
        // Closing the session would release the lock too; unlock explicitly
        // so a failure to do so is at least logged.
        if let Err(e) = conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")) {
            tracing::warn!("releasing the migration lock: {e}");
        }
        result
    })
    .await?
}
