//! Checking connections out of the pool and running transactions that are
//! retried when the server aborts them for a serialization failure or a
//! deadlock.

use std::time::Duration;

use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::scoped_futures::ScopedBoxFuture;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::error::DbError;
use crate::pool::PgPool;

/// A connection checked out of the pool; derefs to [`AsyncPgConnection`].
pub(crate) type PooledConn = Object<AsyncPgConnection>;

/// How often a transaction is attempted before its conflict is reported
/// (as `Unavailable`).
const TRANSACTION_ATTEMPTS: u32 = 3;

/// A connection from the pool, waiting at most the pool's timeouts.
pub(crate) async fn conn(pool: &PgPool) -> Result<PooledConn, DbError> {
    Ok(pool.get().await?)
}

/// Runs `body` in a transaction: committed when it returns `Ok`, rolled
/// back on `Err`. A serialization failure or deadlock reruns the whole
/// transaction (a clone of `body`) on a fresh checkout, a few times.
pub(crate) async fn transaction<'a, R, F>(pool: &PgPool, body: F) -> Result<R, DbError>
where
    F: for<'r> FnOnce(&'r mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'r, Result<R, DbError>> + Clone + Send + 'a,
    R: Send + 'a,
{
    let mut attempt = 1;
    loop {
        let mut pooled = conn(pool).await?;
        let c: &mut AsyncPgConnection = &mut pooled;
        match c.transaction(body.clone()).await {
            Err(e) if e.is_retryable() && attempt < TRANSACTION_ATTEMPTS => {
                tracing::debug!(attempt, error = ?e, "retrying a conflicting transaction");
                drop(pooled);
                tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}
