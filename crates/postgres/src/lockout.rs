//! [`LockoutStore`] on PostgreSQL: one row per address hash in
//! `login_failures`. Each step locks the row (an upsert takes the lock even
//! for a first attempt), applies the domain's [`LockoutPolicy`] step to it
//! and writes the result back in the same transaction, so attempts spread
//! over any number of processes are counted exactly.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::{Claim, LockoutKey, LockoutPolicy, LockoutState};
use roster_domain::ports::LockoutStore;
use roster_domain::RepoError;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::schema::login_failures;

/// Lockout counters in PostgreSQL, shared by every process.
#[derive(Clone, Debug)]
pub struct PgLockout {
    db: Db,
}

impl PgLockout {
    /// A store taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = login_failures, check_for_backend(diesel::pg::Pg))]
struct Row {
    failures: i32,
    window_start: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    locks: i32,
    last_failure_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_state(self) -> LockoutState {
        LockoutState {
            failures: u32::try_from(self.failures).unwrap_or(0),
            window_start: self.window_start,
            locked_until: self.locked_until,
            locks: u32::try_from(self.locks).unwrap_or(0),
            last_failure_at: self.last_failure_at,
        }
    }
}

/// The counter's row, created empty if missing, locked for the rest of the
/// transaction (`ON CONFLICT DO UPDATE` locks the row it meets; a fresh row
/// is ours until commit). A fresh row is the policy's fresh state.
async fn lock_row(
    conn: &mut AsyncPgConnection,
    key: &LockoutKey,
    now: DateTime<Utc>,
) -> Result<Option<LockoutState>, DbError> {
    let row: Row = diesel::insert_into(login_failures::table)
        .values((
            login_failures::key_hash.eq(key.as_bytes().as_slice()),
            login_failures::failures.eq(0),
            login_failures::window_start.eq(now),
            login_failures::locks.eq(0),
        ))
        .on_conflict(login_failures::key_hash)
        .do_update()
        .set(login_failures::key_hash.eq(excluded(login_failures::key_hash)))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    Ok(Some(row.into_state()))
}

async fn write_row(conn: &mut AsyncPgConnection, key: &LockoutKey, s: &LockoutState) -> Result<(), DbError> {
    diesel::update(login_failures::table.find(key.as_bytes().as_slice()))
        .set((
            login_failures::failures.eq(i32::try_from(s.failures).unwrap_or(i32::MAX)),
            login_failures::window_start.eq(s.window_start),
            login_failures::locked_until.eq(s.locked_until),
            login_failures::locks.eq(i32::try_from(s.locks).unwrap_or(i32::MAX)),
            login_failures::last_failure_at.eq(s.last_failure_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl LockoutStore for PgLockout {
    async fn claim(&self, key: &LockoutKey, policy: &LockoutPolicy, now: DateTime<Utc>) -> Result<Claim, RepoError> {
        let (key, policy) = (*key, *policy);
        self.db
            .transaction(move |c| {
                async move {
                    let before = lock_row(c, &key, now).await?;
                    let (after, claim) = policy.claim(before.clone(), now);
                    if before.as_ref() != Some(&after) {
                        write_row(c, &key, &after).await?;
                    }
                    Ok(claim)
                }
                .scope_boxed()
            })
            .await
    }

    async fn fail(
        &self,
        key: &LockoutKey,
        policy: &LockoutPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, RepoError> {
        let (key, policy) = (*key, *policy);
        self.db
            .transaction(move |c| {
                async move {
                    let before = lock_row(c, &key, now).await?;
                    let (after, locked) = policy.fail(before, now);
                    write_row(c, &key, &after).await?;
                    Ok(locked)
                }
                .scope_boxed()
            })
            .await
    }

    async fn release(&self, key: &LockoutKey, policy: &LockoutPolicy) -> Result<(), RepoError> {
        let (key, policy) = (*key, *policy);
        self.db
            .transaction(move |c| {
                async move {
                    let before = login_failures::table
                        .find(key.as_bytes().as_slice())
                        .select(Row::as_select())
                        .for_update()
                        .first(c)
                        .await
                        .optional()?
                        .map(Row::into_state);
                    if let Some(after) = policy.release(before) {
                        write_row(c, &key, &after).await?;
                    }
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }

    async fn clear(&self, key: &LockoutKey) -> Result<bool, RepoError> {
        let key = *key;
        self.db
            .run(move |c| {
                async move {
                    let n = diesel::delete(login_failures::table.find(key.as_bytes().as_slice())).execute(c).await?;
                    Ok(n > 0)
                }
                .scope_boxed()
            })
            .await
    }

    async fn state(&self, key: &LockoutKey) -> Result<Option<LockoutState>, RepoError> {
        let key = *key;
        self.db
            .run(move |c| {
                async move {
                    let row: Option<Row> = login_failures::table
                        .find(key.as_bytes().as_slice())
                        .select(Row::as_select())
                        .first(c)
                        .await
                        .optional()?;
                    Ok(row.map(Row::into_state))
                }
                .scope_boxed()
            })
            .await
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        self.db
            .run(move |c| {
                async move {
                    let n = diesel::delete(login_failures::table)
                        .filter(login_failures::window_start.lt(before))
                        .filter(
                            login_failures::last_failure_at.is_null().or(login_failures::last_failure_at.lt(before)),
                        )
                        .filter(login_failures::locked_until.is_null().or(login_failures::locked_until.lt(before)))
                        .execute(c)
                        .await?;
                    Ok(n as u64)
                }
                .scope_boxed()
            })
            .await
    }
}
