//! [`SessionRepository`] on PostgreSQL: sessions and their chains of
//! hashed refresh tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::{SessionInfo, SessionSubject, TokenHash};
use roster_domain::ports::{NewSession, RotateOutcome, Rotation, SessionRepository};
use roster_domain::user::UserStatus;
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::rows::{into_subject, load_subject, subject_in_org, users_with_role, SubjectRow, UserRow};
use crate::schema::{memberships, organizations, refresh_tokens, roles, sessions, users};
use crate::users::revoke_sessions;

/// Why a session is revoked when a rotated refresh token comes back after
/// the grace window.
pub const REUSE_REVOKED_REASON: &str = "refresh_token_reuse";

/// Sessions in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgSessionRepository {
    db: Db,
}

impl PgSessionRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// The presented refresh token, locked.
#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg))]
struct TokenRow {
    session_id: Uuid,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    successor_hash: Option<Vec<u8>>,
}

/// The token's session, locked.
#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    org_id: Uuid,
    amr: Vec<String>,
}

async fn create_tx(conn: &mut AsyncPgConnection, s: &NewSession) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(s.id),
            sessions::user_id.eq(s.user_id),
            sessions::org_id.eq(s.org_id),
            sessions::created_at.eq(s.now),
            sessions::last_used_at.eq(s.now),
            sessions::expires_at.eq(s.expires_at),
            sessions::user_agent.eq(s.user_agent.as_deref()),
            sessions::ip.eq(s.ip.as_deref()),
            sessions::amr.eq(&s.amr),
        ))
        .execute(conn)
        .await?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(s.refresh_hash.as_slice()),
            refresh_tokens::session_id.eq(s.id),
            refresh_tokens::created_at.eq(s.now),
            refresh_tokens::expires_at.eq(s.refresh_expires_at.min(s.expires_at)),
        ))
        .execute(conn)
        .await?;
    diesel::update(users::table.find(s.user_id))
        .set((users::last_login_at.eq(s.now), users::last_login_ip.eq(s.ip.as_deref())))
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes one session if it is still live; whether it was.
async fn revoke_session(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = diesel::update(sessions::table.find(session_id))
        .filter(sessions::revoked_at.is_null())
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// The rotation, inside a transaction. Concurrent rotations of one token
/// queue on the row lock of the token, so exactly one of them sees it unused.
async fn rotate_tx(conn: &mut AsyncPgConnection, r: &Rotation) -> Result<RotateOutcome, DbError> {
    let token: Option<TokenRow> = refresh_tokens::table
        .find(r.presented.as_slice())
        .select(TokenRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(token) = token else {
        return Ok(RotateOutcome::Invalid);
    };
    if token.expires_at <= r.now {
        return Ok(RotateOutcome::Invalid);
    }
    let session: SessionRow =
        sessions::table.find(token.session_id).select(SessionRow::as_select()).for_no_key_update().first(conn).await?;
    if session.revoked_at.is_some() || session.expires_at <= r.now {
        return Ok(RotateOutcome::Invalid);
    }
    let Some(subject) = load_subject(conn, session.user_id).await? else {
        return Ok(RotateOutcome::Invalid);
    };
    if subject.user.status != UserStatus::Active {
        return Ok(RotateOutcome::Invalid);
    }
    // A replay hands back what the first rotation decided, switch included.
    let target = match token.used_at {
        None => r.switch_org.unwrap_or(session.org_id),
        Some(_) => session.org_id,
    };
    let subject = match subject_in_org(conn, subject, target).await? {
        Some(s) => s,
        None if target != session.org_id => return Ok(RotateOutcome::NotMember),
        // No longer a member of the session's organization: the session is over.
        None => return Ok(RotateOutcome::Invalid),
    };
    let session_id = session.id;
    match token.used_at {
        None => {
            if target != session.org_id {
                diesel::update(sessions::table.find(session_id)).set(sessions::org_id.eq(target)).execute(conn).await?;
            }
            diesel::update(refresh_tokens::table.find(r.presented.as_slice()))
                .set((refresh_tokens::used_at.eq(r.now), refresh_tokens::successor_hash.eq(r.successor.as_slice())))
                .execute(conn)
                .await?;
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::token_hash.eq(r.successor.as_slice()),
                    refresh_tokens::session_id.eq(session_id),
                    refresh_tokens::created_at.eq(r.now),
                    refresh_tokens::expires_at.eq(r.successor_expires_at.min(session.expires_at)),
                ))
                .execute(conn)
                .await?;
            diesel::update(sessions::table.find(session_id))
                .set(sessions::last_used_at.eq(r.now))
                .execute(conn)
                .await?;
            Ok(RotateOutcome::Rotated { session_id, subject, amr: session.amr })
        }
        Some(used_at)
            if r.now - used_at <= r.grace && token.successor_hash.as_deref() == Some(r.successor.as_slice()) =>
        {
            Ok(RotateOutcome::Replayed { session_id, subject, amr: session.amr })
        }
        Some(_) => {
            revoke_session(conn, session_id, REUSE_REVOKED_REASON, r.now).await?;
            Ok(RotateOutcome::Reused { session_id })
        }
    }
}

/// The live session's user, active, acting in the session's organization
/// (one query in the default organization; a second for another one).
async fn subject(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<SessionSubject>, DbError> {
    type SessionRow = (UserRow, Option<String>, Option<Vec<String>>, Option<Vec<String>>, Uuid);
    let row: Option<SessionRow> = users_with_role!()
        .inner_join(sessions::table.on(sessions::user_id.eq(users::id)))
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .select((
            UserRow::as_select(),
            roles::name.nullable(),
            roles::permissions.nullable(),
            memberships::permissions.nullable(),
            sessions::org_id,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((user, role, role_perms, extra, org)) = row else {
        return Ok(None);
    };
    let row: SubjectRow = (user, role, role_perms, extra);
    subject_in_org(conn, into_subject(row)?, org).await
}

/// A listed session, as read.
type InfoRow =
    (Uuid, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>, Option<String>, Option<String>, Uuid, String, Vec<String>);

/// The live sessions of `user_id`, newest first, at most `limit`, with
/// their organizations' names: one query on the partial index of live
/// sessions per user (`sessions_user_idx`).
async fn list_for_user(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<SessionInfo>, DbError> {
    let rows: Vec<InfoRow> = sessions::table
        .inner_join(organizations::table.on(organizations::id.eq(sessions::org_id)))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .select((
            sessions::id,
            sessions::created_at,
            sessions::last_used_at,
            sessions::expires_at,
            sessions::ip,
            sessions::user_agent,
            sessions::org_id,
            organizations::name,
            sessions::amr,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, created_at, last_used_at, expires_at, ip, user_agent, org_id, org_name, amr)| SessionInfo {
            id,
            created_at,
            last_used_at,
            expires_at,
            ip,
            user_agent,
            org_id,
            org_name,
            amr,
            current: false,
        })
        .collect())
}

/// Revokes the live session `session_id` of `user_id`; whether it was live
/// (neither revoked nor expired at `now`).
async fn revoke(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    user_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = diesel::update(sessions::table.find(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Revokes the live session the refresh token `hash` belongs to; whether
/// there was one.
async fn revoke_by_refresh(
    conn: &mut AsyncPgConnection,
    hash: &TokenHash,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let owner =
        refresh_tokens::table.filter(refresh_tokens::token_hash.eq(hash.as_slice())).select(refresh_tokens::session_id);
    let n = diesel::update(sessions::table)
        .filter(sessions::id.eq_any(owner))
        .filter(sessions::revoked_at.is_null())
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

#[async_trait]
impl SessionRepository for PgSessionRepository {
    async fn create(&self, session: &NewSession) -> Result<(), RepoError> {
        self.db.transaction(|c| create_tx(c, session).scope_boxed()).await
    }

    async fn subject(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionSubject>, RepoError> {
        self.db.run(|c| subject(c, session_id, user_id, now).scope_boxed()).await
    }

    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome, RepoError> {
        self.db.transaction(|c| rotate_tx(c, rotation).scope_boxed()).await
    }

    async fn list_for_user(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<SessionInfo>, RepoError> {
        self.db.run(|c| list_for_user(c, user_id, now, limit).scope_boxed()).await
    }

    async fn revoke(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        self.db.run(|c| revoke(c, session_id, user_id, reason, now).scope_boxed()).await
    }

    async fn revoke_by_refresh(&self, hash: &TokenHash, reason: &str, now: DateTime<Utc>) -> Result<bool, RepoError> {
        self.db.run(|c| revoke_by_refresh(c, hash, reason, now).scope_boxed()).await
    }

    async fn revoke_all_for_user(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, RepoError> {
        self.db.run(|c| revoke_sessions(c, user_id, except, reason, now).scope_boxed()).await
    }
}
