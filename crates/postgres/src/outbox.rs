//! [`OutboxRepository`] on PostgreSQL: the worker's side of the outbox that
//! the `effects` module fills.
//!
//! A claim counts the attempt and pushes `next_attempt_at` to the end of the
//! claimer's lease, so the row is invisible to other workers until then;
//! every later change of the row is guarded by that attempt number, so a
//! worker whose lease ran out (and whose message was claimed again) changes
//! nothing.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Integer, Nullable, Timestamptz};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::mail::{ClaimedMail, OutboxEntry, OutboxStats, OutboxStatus};
use roster_domain::ports::OutboxRepository;
use roster_domain::user::Page;
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::rows::{limit_offset, to_u64};
use crate::schema::outbox;

/// The longest `last_error` kept, in characters.
pub const MAX_ERROR_CHARS: usize = 1000;

/// Claims due messages in one statement. Binds `$1` now, `$2` the end of the
/// lease, `$3` the limit. The CTE locks the chosen rows exactly once, skipping
/// rows another worker is claiming.
const CLAIM_SQL: &str = "\
    WITH due AS MATERIALIZED ( \
        SELECT id FROM outbox \
        WHERE status = 'pending' AND next_attempt_at <= $1 \
        ORDER BY next_attempt_at \
        LIMIT $3 \
        FOR UPDATE SKIP LOCKED) \
    UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = $2 \
    FROM due WHERE o.id = due.id \
    RETURNING o.id, o.attempts, o.payload";

/// The figures of [`OutboxRepository::stats`] in one statement, each from a
/// partial index (`outbox_due_idx`, `outbox_dead_idx`): sent rows, the bulk
/// of the table, are never read. Binds `$1` now. Public so that tests can
/// check its plan.
pub const STATS_SQL: &str = "\
    SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') AS pending, \
           (SELECT count(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1) AS due, \
           (SELECT count(*) FROM outbox WHERE status = 'dead') AS dead, \
           (SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1) AS oldest_due";

/// The outbox in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgOutboxRepository {
    db: Db,
}

impl PgOutboxRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Nullable<Bytea>)]
    payload: Option<Vec<u8>>,
}

#[derive(QueryableByName)]
struct StatsRow {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    dead: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest_due: Option<DateTime<Utc>>,
}

/// A message as listed: everything but its content.
#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
struct EntryRow {
    id: Uuid,
    template: String,
    recipient: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

fn attempts(id: Uuid, n: i32) -> Result<u32, DbError> {
    u32::try_from(n).map_err(|_| DbError::Corrupt(format!("outbox message {id} has {n} attempts")))
}

fn attempt_bind(attempt: u32) -> i32 {
    // More attempts than `i32::MAX` match no row.
    i32::try_from(attempt).unwrap_or(-1)
}

impl EntryRow {
    fn into_entry(self) -> Result<OutboxEntry, DbError> {
        let status = OutboxStatus::parse(&self.status)
            .ok_or_else(|| DbError::Corrupt(format!("outbox message {} has status {:?}", self.id, self.status)))?;
        Ok(OutboxEntry {
            attempts: attempts(self.id, self.attempts)?,
            id: self.id,
            template: self.template,
            to: self.recipient,
            status,
            last_error: self.last_error,
            created_at: self.created_at,
            next_attempt_at: (status == OutboxStatus::Pending).then_some(self.next_attempt_at),
            sent_at: self.sent_at,
        })
    }
}

/// At most [`MAX_ERROR_CHARS`] characters of `error`.
fn truncated(error: &str) -> &str {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((end, _)) => &error[..end],
        None => error,
    }
}

/// Claims up to `limit` due messages for a lease ending at `lease_end`.
async fn claim(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: u32,
    lease_end: DateTime<Utc>,
) -> Result<Vec<ClaimedMail>, DbError> {
    let rows: Vec<ClaimedRow> = diesel::sql_query(CLAIM_SQL)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(lease_end)
        .bind::<BigInt, _>(i64::from(limit))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            let sealed =
                r.payload.ok_or_else(|| DbError::Corrupt(format!("pending outbox message {} has no content", r.id)))?;
            Ok(ClaimedMail { id: r.id, attempt: attempts(r.id, r.attempts)?, sealed })
        })
        .collect()
}

/// Marks attempt `attempt` of message `id` sent and erases its content;
/// `false` if the message is no longer pending at that attempt.
async fn mark_sent(conn: &mut AsyncPgConnection, id: Uuid, attempt: u32, now: DateTime<Utc>) -> Result<bool, DbError> {
    let n = diesel::update(outbox::table.find(id))
        .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
        .filter(outbox::attempts.eq(attempt_bind(attempt)))
        .set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::payload.eq(None::<Vec<u8>>),
            outbox::sent_at.eq(now),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Records the failure of attempt `attempt` of message `id`: due again at
/// `retry_at`, or dead without one; `false` if the message is no longer
/// pending at that attempt.
async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    attempt: u32,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, DbError> {
    let target = diesel::update(outbox::table.find(id))
        .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
        .filter(outbox::attempts.eq(attempt_bind(attempt)));
    let error = truncated(error);
    let n = match retry_at {
        Some(at) => target.set((outbox::next_attempt_at.eq(at), outbox::last_error.eq(error))).execute(conn).await?,
        None => {
            target
                .set((outbox::status.eq(OutboxStatus::Dead.as_str()), outbox::last_error.eq(error)))
                .execute(conn)
                .await?
        }
    };
    Ok(n > 0)
}

/// One page of messages, newest first, and the total, read in one
/// read-only repeatable-read transaction so that they agree.
async fn list(
    conn: &mut AsyncPgConnection,
    status: Option<OutboxStatus>,
    page: u32,
    per_page: u32,
) -> Result<Page<OutboxEntry>, DbError> {
    let (limit, offset) = limit_offset(page, per_page)?;
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|c| {
            async move {
                let mut q = outbox::table.select(EntryRow::as_select()).into_boxed();
                let mut count = outbox::table.count().into_boxed();
                if let Some(s) = status {
                    q = q.filter(outbox::status.eq(s.as_str()));
                    count = count.filter(outbox::status.eq(s.as_str()));
                }
                let mut rows: Vec<EntryRow> = q
                    .order_by((outbox::created_at.desc(), outbox::id.desc()))
                    .limit(limit)
                    .offset(offset)
                    .load(c)
                    .await?;
                let has_more = rows.len() > per_page as usize;
                rows.truncate(per_page as usize);
                let total: i64 = count.get_result(c).await?;
                let items = rows.into_iter().map(EntryRow::into_entry).collect::<Result<Vec<_>, _>>()?;
                Ok(Page { items, total: Some(to_u64(total)?), page: Some(page), per_page, has_more })
            }
            .scope_boxed()
        })
        .await
}

/// Makes dead message `id` pending again, due at `now`, with no attempts;
/// `false` if it is not dead.
async fn requeue(conn: &mut AsyncPgConnection, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbError> {
    let n = diesel::update(outbox::table.find(id))
        .filter(outbox::status.eq(OutboxStatus::Dead.as_str()))
        .set((
            outbox::status.eq(OutboxStatus::Pending.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// The figures of [`STATS_SQL`] as of `now`.
async fn stats(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> Result<OutboxStats, DbError> {
    let row: StatsRow = diesel::sql_query(STATS_SQL).bind::<Timestamptz, _>(now).get_result(conn).await?;
    // Since it fell due: how far delivery lags behind.
    let oldest_due_seconds = row.oldest_due.map_or(0.0, |t| ((now - t).num_milliseconds() as f64 / 1000.0).max(0.0));
    Ok(OutboxStats {
        pending: to_u64(row.pending)?,
        due: to_u64(row.due)?,
        dead: to_u64(row.dead)?,
        oldest_due_seconds,
    })
}

/// Deletes the messages sent before `before`; returns how many.
async fn prune_sent(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> Result<u64, DbError> {
    let n = diesel::delete(outbox::table)
        .filter(outbox::status.eq(OutboxStatus::Sent.as_str()))
        .filter(outbox::sent_at.lt(before))
        .execute(conn)
        .await?;
    Ok(n as u64)
}

#[async_trait]
impl OutboxRepository for PgOutboxRepository {
    async fn claim(&self, now: DateTime<Utc>, limit: u32, lease: Duration) -> Result<Vec<ClaimedMail>, RepoError> {
        self.db.run(|c| claim(c, now, limit, now + lease).scope_boxed()).await
    }

    async fn mark_sent(&self, id: Uuid, attempt: u32, now: DateTime<Utc>) -> Result<bool, RepoError> {
        self.db.run(|c| mark_sent(c, id, attempt, now).scope_boxed()).await
    }

    async fn mark_failed(
        &self,
        id: Uuid,
        attempt: u32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        _now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        self.db.run(|c| mark_failed(c, id, attempt, error, retry_at).scope_boxed()).await
    }

    async fn list(
        &self,
        status: Option<OutboxStatus>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<OutboxEntry>, RepoError> {
        self.db.run(|c| list(c, status, page, per_page).scope_boxed()).await
    }

    async fn requeue(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError> {
        self.db.run(|c| requeue(c, id, now).scope_boxed()).await
    }

    async fn stats(&self, now: DateTime<Utc>) -> Result<OutboxStats, RepoError> {
        self.db.run(|c| stats(c, now).scope_boxed()).await
    }

    async fn prune_sent(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        self.db.run(|c| prune_sent(c, before).scope_boxed()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_truncated_on_char_boundaries() {
        assert_eq!(truncated("short"), "short");
        let long = "é".repeat(MAX_ERROR_CHARS + 5);
        assert_eq!(truncated(&long).chars().count(), MAX_ERROR_CHARS);
        assert_eq!(attempt_bind(u32::MAX), -1);
    }
}
