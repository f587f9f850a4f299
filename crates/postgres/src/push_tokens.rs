//! [`PushTokenRepository`] on PostgreSQL: `push_tokens`, unique by
//! `(provider, token)`, each row held by one user (removed with them).
//! Registering locks the user's row (`FOR NO KEY UPDATE`, which foreign-key
//! checks do not wait for), so one user's registrations run one at a time
//! and the cap on their tokens holds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::ports::{PushTokenRepository, TokenRegistration};
use roster_domain::user::{DeviceToken, NewPushToken, PushProvider, PushToken, PushTokenLookup, UserPushTokens};
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::rows::lower;
use crate::schema::{memberships, push_tokens, users};

/// Push tokens in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgPushTokenRepository {
    db: Db,
}

impl PgPushTokenRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// One row of `push_tokens`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = push_tokens, check_for_backend(diesel::pg::Pg))]
struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    provider: String,
    token: String,
    device_name: Option<String>,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

impl TokenRow {
    fn provider(&self) -> Result<PushProvider, DbError> {
        PushProvider::parse(&self.provider)
            .ok_or_else(|| DbError::Corrupt(format!("push token {} has provider {:?}", self.id, self.provider)))
    }

    fn into_token(self) -> Result<PushToken, DbError> {
        Ok(PushToken {
            provider: self.provider()?,
            id: self.id,
            token: self.token,
            device_name: self.device_name,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
        })
    }
}

/// What [`claim_token`] did.
pub(crate) enum Claimed {
    New(PushToken),
    Again(PushToken),
}

/// Gives `token` to `user`: inserted, taken from whoever held it (the
/// device changed hands: a new registration, `created_at` now), or
/// refreshed if `user` held it already. Decided under the lock of the
/// token's row, or by the unique index when two insert it at once.
pub(crate) async fn claim_token(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    token: &NewPushToken,
    now: DateTime<Utc>,
) -> Result<Claimed, DbError> {
    let provider = token.provider.as_str();
    let held: Option<Uuid> = push_tokens::table
        .filter(push_tokens::provider.eq(provider).and(push_tokens::token.eq(&token.token)))
        .select(push_tokens::user_id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let again = held == Some(user);
    let row: TokenRow = diesel::insert_into(push_tokens::table)
        .values((
            push_tokens::id.eq(Uuid::now_v7()),
            push_tokens::user_id.eq(user),
            push_tokens::provider.eq(provider),
            push_tokens::token.eq(&token.token),
            push_tokens::device_name.eq(token.device_name.as_deref()),
            push_tokens::created_at.eq(now),
            push_tokens::last_seen_at.eq(now),
        ))
        .on_conflict((push_tokens::provider, push_tokens::token))
        .do_update()
        .set((
            push_tokens::user_id.eq(user),
            push_tokens::device_name.eq(token.device_name.as_deref()),
            push_tokens::last_seen_at.eq(now),
            // A token that changes hands is a new registration of its new holder.
            push_tokens::created_at.eq(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
                "CASE WHEN push_tokens.user_id = excluded.user_id THEN push_tokens.created_at ELSE excluded.created_at END",
            )),
        ))
        .returning(TokenRow::as_returning())
        .get_result(conn)
        .await?;
    let token = row.into_token()?;
    Ok(if again { Claimed::Again(token) } else { Claimed::New(token) })
}

/// Drops `user`'s tokens beyond the `keep` most recently seen.
async fn trim(conn: &mut AsyncPgConnection, user: Uuid, keep: usize) -> Result<(), DbError> {
    let keep = i64::try_from(keep).map_err(|_| DbError::Corrupt("token cap out of range".into()))?;
    diesel::sql_query(
        "DELETE FROM push_tokens WHERE user_id = $1 AND id NOT IN \
         (SELECT id FROM push_tokens WHERE user_id = $1 ORDER BY last_seen_at DESC, id DESC LIMIT $2)",
    )
    .bind::<diesel::sql_types::Uuid, _>(user)
    .bind::<BigInt, _>(keep)
    .execute(conn)
    .await?;
    Ok(())
}

/// The registration, inside a transaction.
async fn register_tx(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    token: &NewPushToken,
    keep: usize,
    now: DateTime<Utc>,
) -> Result<TokenRegistration, DbError> {
    let found: Option<Uuid> =
        users::table.filter(users::id.eq(user)).select(users::id).for_no_key_update().first(conn).await.optional()?;
    if found.is_none() {
        return Ok(TokenRegistration::UserGone);
    }
    let claimed = claim_token(conn, user, token, now).await?;
    trim(conn, user, keep).await?;
    Ok(match claimed {
        Claimed::New(t) => TokenRegistration::Created(t),
        Claimed::Again(t) => TokenRegistration::Refreshed(t),
    })
}

async fn list(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Vec<PushToken>, DbError> {
    let rows: Vec<TokenRow> = push_tokens::table
        .filter(push_tokens::user_id.eq(user))
        .order((push_tokens::last_seen_at.desc(), push_tokens::id.desc()))
        .select(TokenRow::as_select())
        .load(conn)
        .await?;
    rows.into_iter().map(TokenRow::into_token).collect()
}

async fn delete(conn: &mut AsyncPgConnection, user: Uuid, id: Uuid) -> Result<bool, DbError> {
    let n = diesel::delete(push_tokens::table.filter(push_tokens::user_id.eq(user).and(push_tokens::id.eq(id))))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// The active members of `org` named by `lookup`, then their tokens.
async fn member_tokens(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    lookup: &PushTokenLookup,
) -> Result<Vec<UserPushTokens>, DbError> {
    let members = users::table
        .inner_join(memberships::table.on(memberships::user_id.eq(users::id)))
        .filter(memberships::org_id.eq(org))
        .filter(memberships::deactivated_at.is_null())
        .select((users::id, users::email))
        .order((users::email, users::id))
        .into_boxed();
    let members: Vec<(Uuid, String)> = match lookup {
        PushTokenLookup::UserIds(ids) => members.filter(users::id.eq_any(ids)).load(conn).await?,
        PushTokenLookup::Emails(emails) => members.filter(lower(users::email).eq_any(emails)).load(conn).await?,
    };
    let ids: Vec<Uuid> = members.iter().map(|(id, _)| *id).collect();
    let rows: Vec<TokenRow> = push_tokens::table
        .filter(push_tokens::user_id.eq_any(&ids))
        .order((push_tokens::last_seen_at.desc(), push_tokens::id.desc()))
        .select(TokenRow::as_select())
        .load(conn)
        .await?;
    let mut out: Vec<UserPushTokens> =
        members.into_iter().map(|(user_id, email)| UserPushTokens { user_id, email, tokens: Vec::new() }).collect();
    for row in rows {
        let Some(entry) = out.iter_mut().find(|u| u.user_id == row.user_id) else { continue };
        entry.tokens.push(DeviceToken {
            provider: row.provider()?,
            token: row.token,
            device_name: row.device_name,
            last_seen_at: row.last_seen_at,
        });
    }
    Ok(out)
}

#[async_trait]
impl PushTokenRepository for PgPushTokenRepository {
    async fn register(
        &self,
        user: Uuid,
        token: &NewPushToken,
        keep: usize,
        now: DateTime<Utc>,
    ) -> Result<TokenRegistration, RepoError> {
        self.db.transaction(|c| register_tx(c, user, token, keep, now).scope_boxed()).await
    }

    async fn list_tokens(&self, user: Uuid) -> Result<Vec<PushToken>, RepoError> {
        self.db.run(|c| list(c, user).scope_boxed()).await
    }

    async fn delete_token(&self, user: Uuid, id: Uuid) -> Result<bool, RepoError> {
        self.db.run(|c| delete(c, user, id).scope_boxed()).await
    }

    async fn member_tokens(&self, org: Uuid, lookup: &PushTokenLookup) -> Result<Vec<UserPushTokens>, RepoError> {
        self.db.run(|c| member_tokens(c, org, lookup).scope_boxed()).await
    }
}
