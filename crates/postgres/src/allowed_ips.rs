//! [`AllowedIpRepository`] on PostgreSQL: `user_allowed_ips` (unique by
//! user and canonical CIDR text, removed with the user) and
//! `users.block_unknown_ips`. Additions lock the users' rows (`FOR NO KEY
//! UPDATE`, in id order), so the cap on a list holds under concurrent
//! additions and two bulk requests never deadlock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::ports::{AllowedIpAdded, AllowedIpRepository, BulkAdded};
use roster_domain::user::{AllowedIp, AllowedNet, IpPolicy};
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::rows::lower;
use crate::schema::{user_allowed_ips, users};

/// Users' IP allowlists in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgAllowedIpRepository {
    db: Db,
}

impl PgAllowedIpRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// One row of `user_allowed_ips`, without its user.
type EntryRow = (Uuid, String, DateTime<Utc>);

fn entry((id, cidr, created_at): EntryRow) -> Result<AllowedIp, DbError> {
    let net = AllowedNet::parse(&cidr)
        .map_err(|_| DbError::Corrupt(format!("allowed IP {id} holds {cidr:?}, which is no address or range")))?;
    Ok(AllowedIp { id, cidr: net, created_at })
}

const ENTRY_COLUMNS: (user_allowed_ips::id, user_allowed_ips::cidr, user_allowed_ips::created_at) =
    (user_allowed_ips::id, user_allowed_ips::cidr, user_allowed_ips::created_at);

/// The flag and the list in one query (a left join: a user without
/// entries is one row with none).
async fn ip_policy(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Option<IpPolicy>, DbError> {
    let rows: Vec<(bool, Option<EntryRow>)> = users::table
        .left_join(user_allowed_ips::table)
        .filter(users::id.eq(user))
        .select((users::block_unknown_ips, ENTRY_COLUMNS.nullable()))
        .order((user_allowed_ips::created_at.asc(), user_allowed_ips::id.asc()))
        .load(conn)
        .await?;
    let Some((block, _)) = rows.as_slice().first() else { return Ok(None) };
    let block_unknown_ips = *block;
    let entries = rows.into_iter().filter_map(|(_, e)| e).map(entry).collect::<Result<_, _>>()?;
    Ok(Some(IpPolicy { block_unknown_ips, entries }))
}

/// Locks the rows of those of `ids` that exist, in id order; answers them.
async fn lock_users(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<Uuid>, DbError> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(users::id)
        .order(users::id)
        .for_no_key_update()
        .load(conn)
        .await?)
}

async fn add_tx(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    id: Uuid,
    net: &AllowedNet,
    cap: usize,
    now: DateTime<Utc>,
) -> Result<AllowedIpAdded, DbError> {
    if lock_users(conn, &[user]).await?.is_empty() {
        return Ok(AllowedIpAdded::UserGone);
    }
    let cidr = net.as_text();
    let existing: Option<EntryRow> = user_allowed_ips::table
        .filter(user_allowed_ips::user_id.eq(user).and(user_allowed_ips::cidr.eq(&cidr)))
        .select(ENTRY_COLUMNS)
        .first(conn)
        .await
        .optional()?;
    if let Some(row) = existing {
        return Ok(AllowedIpAdded::Existing(entry(row)?));
    }
    let held: i64 = user_allowed_ips::table
        .filter(user_allowed_ips::user_id.eq(user))
        .select(count_star())
        .get_result(conn)
        .await?;
    if usize::try_from(held).unwrap_or(usize::MAX) >= cap {
        return Ok(AllowedIpAdded::Full);
    }
    let row: EntryRow = diesel::insert_into(user_allowed_ips::table)
        .values((
            user_allowed_ips::id.eq(id),
            user_allowed_ips::user_id.eq(user),
            user_allowed_ips::cidr.eq(&cidr),
            user_allowed_ips::created_at.eq(now),
        ))
        .returning(ENTRY_COLUMNS)
        .get_result(conn)
        .await?;
    Ok(AllowedIpAdded::Created(entry(row)?))
}

async fn add_for_tx(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    net: &AllowedNet,
    cap: usize,
    now: DateTime<Utc>,
) -> Result<BulkAdded, DbError> {
    let present = lock_users(conn, ids).await?;
    let cidr = net.as_text();
    let holding: Vec<Uuid> = user_allowed_ips::table
        .filter(user_allowed_ips::user_id.eq_any(&present).and(user_allowed_ips::cidr.eq(&cidr)))
        .select(user_allowed_ips::user_id)
        .load(conn)
        .await?;
    let lacking: Vec<Uuid> = present.iter().copied().filter(|u| !holding.contains(u)).collect();
    let counts: Vec<(Uuid, i64)> = user_allowed_ips::table
        .filter(user_allowed_ips::user_id.eq_any(&lacking))
        .group_by(user_allowed_ips::user_id)
        .select((user_allowed_ips::user_id, count_star()))
        .load(conn)
        .await?;
    let full: Vec<Uuid> =
        counts.into_iter().filter(|(_, n)| usize::try_from(*n).unwrap_or(usize::MAX) >= cap).map(|(u, _)| u).collect();
    if !full.is_empty() {
        let full = ids.iter().copied().filter(|u| full.contains(u)).collect();
        return Ok(BulkAdded::Full(full));
    }
    let rows: Vec<_> = lacking
        .iter()
        .map(|u| {
            (
                user_allowed_ips::id.eq(Uuid::now_v7()),
                user_allowed_ips::user_id.eq(*u),
                user_allowed_ips::cidr.eq(cidr.as_str()),
                user_allowed_ips::created_at.eq(now),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(user_allowed_ips::table).values(&rows).execute(conn).await?;
    }
    Ok(BulkAdded::Applied(ids.iter().copied().filter(|u| present.contains(u)).collect()))
}

#[async_trait]
impl AllowedIpRepository for PgAllowedIpRepository {
    async fn ip_policy(&self, user: Uuid) -> Result<Option<IpPolicy>, RepoError> {
        self.db.run(|c| ip_policy(c, user).scope_boxed()).await
    }

    async fn add_allowed_ip(
        &self,
        user: Uuid,
        id: Uuid,
        net: &AllowedNet,
        cap: usize,
        now: DateTime<Utc>,
    ) -> Result<AllowedIpAdded, RepoError> {
        self.db.transaction(|c| add_tx(c, user, id, net, cap, now).scope_boxed()).await
    }

    async fn remove_allowed_ip(&self, user: Uuid, entry: Uuid) -> Result<bool, RepoError> {
        self.db
            .run(|c| {
                async move {
                    let n = diesel::delete(
                        user_allowed_ips::table
                            .filter(user_allowed_ips::user_id.eq(user).and(user_allowed_ips::id.eq(entry))),
                    )
                    .execute(c)
                    .await?;
                    Ok(n > 0)
                }
                .scope_boxed()
            })
            .await
    }

    async fn set_block_unknown_ips(
        &self,
        ids: &[Uuid],
        block: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, RepoError> {
        self.db
            .run(|c| {
                async move {
                    let updated: Vec<Uuid> = diesel::update(users::table.filter(users::id.eq_any(ids)))
                        .set((users::block_unknown_ips.eq(block), users::updated_at.eq(now)))
                        .returning(users::id)
                        .get_results(c)
                        .await?;
                    Ok(ids.iter().copied().filter(|u| updated.contains(u)).collect())
                }
                .scope_boxed()
            })
            .await
    }

    async fn add_allowed_ip_for(
        &self,
        ids: &[Uuid],
        net: &AllowedNet,
        cap: usize,
        now: DateTime<Utc>,
    ) -> Result<BulkAdded, RepoError> {
        self.db.transaction(|c| add_for_tx(c, ids, net, cap, now).scope_boxed()).await
    }

    async fn remove_allowed_ip_for(&self, ids: &[Uuid], net: &AllowedNet) -> Result<(), RepoError> {
        let cidr = net.as_text();
        self.db
            .run(|c| {
                async move {
                    diesel::delete(
                        user_allowed_ips::table
                            .filter(user_allowed_ips::user_id.eq_any(ids).and(user_allowed_ips::cidr.eq(&cidr))),
                    )
                    .execute(c)
                    .await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }

    async fn user_ids_by_email(&self, emails: &[String]) -> Result<Vec<(String, Uuid)>, RepoError> {
        self.db
            .run(|c| {
                async move {
                    Ok(users::table
                        .filter(lower(users::email).eq_any(emails))
                        .select((lower(users::email), users::id))
                        .load(c)
                        .await?)
                }
                .scope_boxed()
            })
            .await
    }
}
