//! [`MfaRepository`] on PostgreSQL: `mfa_totp`, `mfa_recovery_codes`,
//! `mfa_challenges`, and `users.mfa_enabled`, which mirrors whether an
//! authenticator is on and is written in the same transactions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::TokenHash;
use roster_domain::mail::Effects;
use roster_domain::ports::{ChallengeRecord, MfaRepository, NewChallenge, StoredTotp};
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::effects::write_effects;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::schema::{mfa_challenges, mfa_recovery_codes, mfa_totp, users};

/// Stores a pending enrolment unless one is enabled. Binds the user, the
/// sealed secret and the time.
const BEGIN_ENROLMENT_SQL: &str = "\
    INSERT INTO mfa_totp (user_id, secret, last_step, created_at) VALUES ($1, $2, 0, $3) \
    ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, last_step = 0, created_at = EXCLUDED.created_at \
    WHERE mfa_totp.enabled_at IS NULL";

/// Second factors in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgMfaRepository {
    db: Db,
}

impl PgMfaRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

async fn set_flag(conn: &mut AsyncPgConnection, user_id: Uuid, on: bool) -> Result<(), DbError> {
    diesel::update(users::table.find(user_id)).set(users::mfa_enabled.eq(on)).execute(conn).await?;
    Ok(())
}

async fn store_codes(conn: &mut AsyncPgConnection, user_id: Uuid, codes: &[TokenHash]) -> Result<(), DbError> {
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user_id))).execute(conn).await?;
    let rows: Vec<_> = codes
        .iter()
        .map(|h| (mfa_recovery_codes::user_id.eq(user_id), mfa_recovery_codes::code_hash.eq(h.as_slice())))
        .collect();
    diesel::insert_into(mfa_recovery_codes::table).values(rows).on_conflict_do_nothing().execute(conn).await?;
    Ok(())
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl MfaRepository for PgMfaRepository {
    async fn totp(&self, user_id: Uuid) -> Result<Option<StoredTotp>, RepoError> {
        self.db
            .run(move |c| {
                async move {
                    let row: Option<(Vec<u8>, Option<DateTime<Utc>>, i64)> = mfa_totp::table
                        .find(user_id)
                        .select((mfa_totp::secret, mfa_totp::enabled_at, mfa_totp::last_step))
                        .first(c)
                        .await
                        .optional()?;
                    Ok(row.map(|(sealed_secret, enabled_at, last_step)| StoredTotp {
                        sealed_secret,
                        enabled: enabled_at.is_some(),
                        last_step,
                    }))
                }
                .scope_boxed()
            })
            .await
    }

    async fn begin_enrolment(
        &self,
        user_id: Uuid,
        sealed_secret: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let sealed = sealed_secret.to_vec();
        self.db
            .run(move |c| {
                async move {
                    // A pending enrolment is replaced; an enabled one is left alone.
                    let n = diesel::sql_query(BEGIN_ENROLMENT_SQL)
                        .bind::<diesel::sql_types::Uuid, _>(user_id)
                        .bind::<diesel::sql_types::Bytea, _>(&sealed)
                        .bind::<diesel::sql_types::Timestamptz, _>(now)
                        .execute(c)
                        .await?;
                    Ok(n > 0)
                }
                .scope_boxed()
            })
            .await
    }

    async fn enable(
        &self,
        user_id: Uuid,
        step: i64,
        codes: &[TokenHash],
        now: DateTime<Utc>,
        effects: &Effects,
    ) -> Result<bool, RepoError> {
        let codes = codes.to_vec();
        let effects = effects.clone();
        self.db
            .transaction(move |c| {
                async move {
                    let n = diesel::update(mfa_totp::table.find(user_id))
                        .filter(mfa_totp::enabled_at.is_null())
                        .filter(mfa_totp::last_step.lt(step))
                        .set((mfa_totp::enabled_at.eq(now), mfa_totp::last_step.eq(step)))
                        .execute(c)
                        .await?;
                    if n == 0 {
                        return Ok(false);
                    }
                    store_codes(c, user_id, &codes).await?;
                    set_flag(c, user_id, true).await?;
                    write_effects(c, &effects).await?;
                    Ok(true)
                }
                .scope_boxed()
            })
            .await
    }

    async fn spend_step(&self, user_id: Uuid, step: i64) -> Result<bool, RepoError> {
        self.db
            .run(move |c| {
                async move {
                    let n = diesel::update(mfa_totp::table.find(user_id))
                        .filter(mfa_totp::enabled_at.is_not_null())
                        .filter(mfa_totp::last_step.lt(step))
                        .set(mfa_totp::last_step.eq(step))
                        .execute(c)
                        .await?;
                    Ok(n > 0)
                }
                .scope_boxed()
            })
            .await
    }

    async fn disable(&self, user_id: Uuid, effects: &Effects) -> Result<bool, RepoError> {
        let effects = effects.clone();
        self.db
            .transaction(move |c| {
                async move {
                    let was_on: Option<Option<DateTime<Utc>>> = diesel::delete(mfa_totp::table.find(user_id))
                        .returning(mfa_totp::enabled_at)
                        .get_result(c)
                        .await
                        .optional()?;
                    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user_id)))
                        .execute(c)
                        .await?;
                    if !matches!(was_on, Some(Some(_))) {
                        return Ok(false);
                    }
                    set_flag(c, user_id, false).await?;
                    write_effects(c, &effects).await?;
                    Ok(true)
                }
                .scope_boxed()
            })
            .await
    }

    async fn replace_recovery_codes(&self, user_id: Uuid, codes: &[TokenHash]) -> Result<bool, RepoError> {
        let codes = codes.to_vec();
        self.db
            .transaction(move |c| {
                async move {
                    let on: Option<Uuid> = mfa_totp::table
                        .find(user_id)
                        .filter(mfa_totp::enabled_at.is_not_null())
                        .select(mfa_totp::user_id)
                        .for_update()
                        .first(c)
                        .await
                        .optional()?;
                    if on.is_none() {
                        return Ok(false);
                    }
                    store_codes(c, user_id, &codes).await?;
                    Ok(true)
                }
                .scope_boxed()
            })
            .await
    }

    async fn use_recovery_code(
        &self,
        user_id: Uuid,
        code: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<u32>, RepoError> {
        let code = *code;
        self.db
            .transaction(move |c| {
                async move {
                    let n = diesel::update(mfa_recovery_codes::table.find((user_id, code.as_slice())))
                        .filter(mfa_recovery_codes::used_at.is_null())
                        .set(mfa_recovery_codes::used_at.eq(now))
                        .execute(c)
                        .await?;
                    if n == 0 {
                        return Ok(None);
                    }
                    let left: i64 = mfa_recovery_codes::table
                        .filter(mfa_recovery_codes::user_id.eq(user_id))
                        .filter(mfa_recovery_codes::used_at.is_null())
                        .count()
                        .get_result(c)
                        .await?;
                    Ok(Some(count(left)))
                }
                .scope_boxed()
            })
            .await
    }

    async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32, RepoError> {
        self.db
            .run(move |c| {
                async move {
                    let left: i64 = mfa_recovery_codes::table
                        .filter(mfa_recovery_codes::user_id.eq(user_id))
                        .filter(mfa_recovery_codes::used_at.is_null())
                        .count()
                        .get_result(c)
                        .await?;
                    Ok(count(left))
                }
                .scope_boxed()
            })
            .await
    }

    async fn create_challenge(&self, ch: &NewChallenge) -> Result<(), RepoError> {
        let ch = ch.clone();
        self.db
            .run(move |c| {
                async move {
                    diesel::insert_into(mfa_challenges::table)
                        .values((
                            mfa_challenges::token_hash.eq(ch.hash.as_slice()),
                            mfa_challenges::user_id.eq(ch.user_id),
                            mfa_challenges::org_id.eq(ch.org_id),
                            mfa_challenges::created_at.eq(ch.created_at),
                            mfa_challenges::expires_at.eq(ch.expires_at),
                            mfa_challenges::user_agent.eq(ch.user_agent.as_deref()),
                            mfa_challenges::ip.eq(ch.ip.as_deref()),
                        ))
                        .execute(c)
                        .await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }

    async fn attempt_challenge(
        &self,
        hash: &TokenHash,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<ChallengeRecord>, RepoError> {
        let hash = *hash;
        let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
        self.db
            .run(move |c| {
                async move {
                    type Found = (Uuid, Option<Uuid>, Option<String>, Option<String>);
                    let row: Option<Found> = diesel::update(mfa_challenges::table.find(hash.as_slice()))
                        .filter(mfa_challenges::used_at.is_null())
                        .filter(mfa_challenges::expires_at.gt(now))
                        .filter(mfa_challenges::attempts.lt(max))
                        .set(mfa_challenges::attempts.eq(mfa_challenges::attempts + 1))
                        .returning((
                            mfa_challenges::user_id,
                            mfa_challenges::org_id,
                            mfa_challenges::user_agent,
                            mfa_challenges::ip,
                        ))
                        .get_result(c)
                        .await
                        .optional()?;
                    Ok(row.map(|(user_id, org_id, user_agent, ip)| ChallengeRecord { user_id, org_id, user_agent, ip }))
                }
                .scope_boxed()
            })
            .await
    }

    async fn close_challenge(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let hash = *hash;
        self.db
            .run(move |c| {
                async move {
                    let n = diesel::update(mfa_challenges::table.find(hash.as_slice()))
                        .filter(mfa_challenges::used_at.is_null())
                        .set(mfa_challenges::used_at.eq(now))
                        .execute(c)
                        .await?;
                    Ok(n > 0)
                }
                .scope_boxed()
            })
            .await
    }

    async fn prune_challenges(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        self.db
            .run(move |c| {
                async move {
                    let n = diesel::delete(mfa_challenges::table.filter(mfa_challenges::expires_at.lt(before)))
                        .execute(c)
                        .await?;
                    Ok(n as u64)
                }
                .scope_boxed()
            })
            .await
    }
}
