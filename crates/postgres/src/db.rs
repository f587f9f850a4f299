//! [`Db`], the pool as every repository uses it: a query on one pooled
//! connection, or a transaction that is retried when the server aborts it
//! for a serialization failure or a deadlock. Both translate the
//! [`DbError`] of the work into the domain's [`RepoError`] on the way out,
//! so the repositories' methods never do.

use std::time::Duration;

use diesel_async::scoped_futures::ScopedBoxFuture;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use roster_domain::RepoError;

use crate::error::DbError;
use crate::pool::PgPool;

/// How often a transaction is attempted before its conflict is reported
/// (as `Unavailable`).
const TRANSACTION_ATTEMPTS: u32 = 3;

/// The pool a repository takes its connections from. Its `Debug` shows
/// nothing of the pool, whose manager holds the database URL with its
/// password.
#[derive(Clone)]
pub(crate) struct Db(PgPool);

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    /// Connections from `pool`.
    pub(crate) fn new(pool: PgPool) -> Self {
        Self(pool)
    }

    /// Runs `body` on one connection from the pool, outside a transaction
    /// (a statement alone is atomic; `body` may open its own). Waits at
    /// most the pool's timeouts for the connection.
    pub(crate) async fn run<'a, R, F>(&self, body: F) -> Result<R, RepoError>
    where
        F: for<'r> FnOnce(&'r mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'r, Result<R, DbError>> + Send + 'a,
        R: Send + 'a,
    {
        let mut pooled = self.0.get().await.map_err(DbError::from)?;
        let c: &mut AsyncPgConnection = &mut pooled;
        Ok(body(c).await?)
    }

    /// Runs `body` in a transaction: committed when it returns `Ok`, rolled
    /// back on `Err`. A serialization failure or deadlock reruns the whole
    /// transaction (a clone of `body`) on a fresh checkout, a few times.
    pub(crate) async fn transaction<'a, R, F>(&self, body: F) -> Result<R, RepoError>
    where
        F: for<'r> FnOnce(&'r mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'r, Result<R, DbError>> + Clone + Send + 'a,
        R: Send + 'a,
    {
        let mut attempt = 1;
        loop {
            let mut pooled = self.0.get().await.map_err(DbError::from)?;
            let c: &mut AsyncPgConnection = &mut pooled;
            match c.transaction(body.clone()).await {
                Err(e) if e.is_retryable() && attempt < TRANSACTION_ATTEMPTS => {
                    tracing::debug!(attempt, error = ?e, "retrying a conflicting transaction");
                    drop(pooled);
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                    attempt += 1;
                }
                other => return Ok(other?),
            }
        }
    }
}
