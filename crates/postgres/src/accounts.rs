//! [`AccountRepository`] on PostgreSQL: issuing, finding and redeeming
//! one-time tokens; the invitations it writes, lists and revokes are in
//! the `invitations` module.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::TokenHash;
use roster_domain::mail::{
    Effects, Invitation, InvitationStatus, NewInvitation, RedeemAction, RedeemOutcome, Redemption, RevokeOutcome,
    TokenPurpose, TokenRecord,
};
use roster_domain::ports::AccountRepository;
use roster_domain::user::{Page, User, UserStatus};
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::effects::{supersede_tokens, write_effects};
use crate::error::DbError;
use crate::invitations;
use crate::pool::PgPool;
use crate::rows::{load_user, lower, users_with_role, UserRow};
use crate::schema::{invitations as inv, one_time_tokens as tokens, roles, users};
use crate::users::{revoke_sessions, upsert_password};

/// Why sessions are revoked when a password is reset through a mailed link.
pub const RESET_REVOKED_REASON: &str = "password_reset";

/// One-time tokens and invitations in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgAccountRepository {
    db: Db,
}

impl PgAccountRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// One row of `one_time_tokens`, without its hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens, check_for_backend(diesel::pg::Pg))]
struct TokenRow {
    purpose: String,
    user_id: Uuid,
    email: String,
    invitation_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    superseded_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    fn purpose(&self) -> Result<TokenPurpose, DbError> {
        TokenPurpose::parse(&self.purpose).ok_or_else(|| {
            DbError::Corrupt(format!("a token of user {} has unknown purpose {:?}", self.user_id, self.purpose))
        })
    }

    /// Neither used nor superseded, and not expired at `now`.
    fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.superseded_at.is_none() && self.expires_at > now
    }
}

/// The purpose of the tokens that `action` redeems.
fn purpose_of(action: &RedeemAction) -> TokenPurpose {
    match action {
        RedeemAction::VerifyEmail => TokenPurpose::VerifyEmail,
        RedeemAction::ChangeEmail => TokenPurpose::ChangeEmail,
        RedeemAction::ResetPassword { .. } => TokenPurpose::ResetPassword,
        RedeemAction::AcceptInvitation { .. } => TokenPurpose::Invitation,
    }
}

async fn find_token(conn: &mut AsyncPgConnection, hash: &TokenHash) -> Result<Option<TokenRecord>, DbError> {
    let row: Option<(TokenRow, UserRow, Option<String>)> = users_with_role!()
        .inner_join(tokens::table.on(tokens::user_id.eq(users::id)))
        .filter(tokens::token_hash.eq(hash.as_slice()))
        .select((TokenRow::as_select(), UserRow::as_select(), roles::name.nullable()))
        .first(conn)
        .await
        .optional()?;
    let Some((token, user, role)) = row else {
        return Ok(None);
    };
    Ok(Some(TokenRecord {
        purpose: token.purpose()?,
        user: user.into_user(role)?,
        email: token.email,
        invitation_id: token.invitation_id,
        created_at: token.created_at,
        expires_at: token.expires_at,
        used_at: token.used_at,
        superseded_at: token.superseded_at,
    }))
}

/// Marks the user's address verified if it is still the token's. When it
/// is not (changed since), the token is superseded and `false` returned.
async fn verify_email(
    conn: &mut AsyncPgConnection,
    hash: &TokenHash,
    token: &TokenRow,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = diesel::update(users::table.find(token.user_id))
        .filter(lower(users::email).eq(lower(&token.email)))
        .set((users::email_verified.eq(true), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
    if n == 0 {
        diesel::update(tokens::table.find(hash.as_slice())).set(tokens::superseded_at.eq(now)).execute(conn).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Moves the user to the token's address (a taken address fails the
/// statement with `users_email_lower_key`), and supersedes the user's other
/// change and verification tokens.
async fn change_email(
    conn: &mut AsyncPgConnection,
    hash: &TokenHash,
    token: &TokenRow,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = diesel::update(users::table.find(token.user_id))
        .set((users::email.eq(&token.email), users::email_verified.eq(true), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
    if n == 0 {
        return Ok(false);
    }
    // All but the redeemed token, which is marked used instead.
    let purposes = [TokenPurpose::ChangeEmail.as_str(), TokenPurpose::VerifyEmail.as_str()];
    supersede_tokens(conn, token.user_id, &purposes, Some(hash), now).await?;
    Ok(true)
}

/// Sets the password, marks the address verified (the mailbox was proven)
/// and revokes every session of the user.
async fn reset_password(
    conn: &mut AsyncPgConnection,
    token: &TokenRow,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    upsert_password(conn, token.user_id, password_hash, now).await?;
    diesel::update(users::table.find(token.user_id))
        .filter(users::email_verified.eq(false))
        .set((users::email_verified.eq(true), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
    revoke_sessions(conn, token.user_id, None, RESET_REVOKED_REASON, now).await?;
    Ok(true)
}

/// Activates the pending user with their password (and name), and marks the
/// invitation accepted. `false`, with nothing written, if the invitation is
/// no longer open or the user no longer pending.
async fn accept_invitation(
    conn: &mut AsyncPgConnection,
    token: &TokenRow,
    password_hash: &str,
    name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let invitation_id = token
        .invitation_id
        .ok_or_else(|| DbError::Corrupt(format!("an invitation token of user {} has no invitation", token.user_id)))?;
    let open = invitations::lock_open(conn, invitation_id, now).await?;
    if open != Some(token.user_id) {
        return Ok(false);
    }
    let n = diesel::update(users::table.find(token.user_id))
        .filter(users::status.eq(UserStatus::Pending.as_str()))
        .set((
            users::status.eq(UserStatus::Active.as_str()),
            users::email_verified.eq(true),
            users::updated_at.eq(now),
            name.map(|n| users::name.eq(n)),
        ))
        .execute(conn)
        .await?;
    if n == 0 {
        return Ok(false);
    }
    upsert_password(conn, token.user_id, password_hash, now).await?;
    diesel::update(inv::table.find(invitation_id)).set(inv::accepted_at.eq(now)).execute(conn).await?;
    Ok(true)
}

/// The redemption, inside a transaction. Concurrent redemptions of one token
/// queue on its row lock, so exactly one of them sees it live.
async fn redeem_tx(conn: &mut AsyncPgConnection, r: &Redemption, effects: &Effects) -> Result<RedeemOutcome, DbError> {
    let hash = r.hash.as_slice();
    let token: Option<TokenRow> =
        tokens::table.find(hash).select(TokenRow::as_select()).for_update().first(conn).await.optional()?;
    let Some(token) = token else {
        return Ok(RedeemOutcome::NotLive);
    };
    if !token.is_live(r.now) || token.purpose()? != purpose_of(&r.action) {
        return Ok(RedeemOutcome::NotLive);
    }
    let applied = match &r.action {
        RedeemAction::VerifyEmail => verify_email(conn, &r.hash, &token, r.now).await?,
        RedeemAction::ChangeEmail => change_email(conn, &r.hash, &token, r.now).await?,
        RedeemAction::ResetPassword { password_hash } => reset_password(conn, &token, password_hash, r.now).await?,
        RedeemAction::AcceptInvitation { password_hash, name } => {
            accept_invitation(conn, &token, password_hash, name.as_deref(), r.now).await?
        }
    };
    if !applied {
        return Ok(RedeemOutcome::NotLive);
    }
    diesel::update(tokens::table.find(hash)).set(tokens::used_at.eq(r.now)).execute(conn).await?;
    write_effects(conn, effects).await?;
    let user = load_user(conn, token.user_id)
        .await?
        .ok_or_else(|| DbError::Corrupt(format!("user {} vanished while redeeming their token", token.user_id)))?;
    Ok(RedeemOutcome::Redeemed(user))
}

#[async_trait]
impl AccountRepository for PgAccountRepository {
    async fn issue(&self, effects: &Effects) -> Result<(), RepoError> {
        self.db.transaction(|c| write_effects(c, effects).scope_boxed()).await
    }

    async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, RepoError> {
        self.db.run(|c| find_token(c, hash).scope_boxed()).await
    }

    async fn redeem(&self, redemption: &Redemption, effects: &Effects) -> Result<RedeemOutcome, RepoError> {
        self.db.transaction(|c| redeem_tx(c, redemption, effects).scope_boxed()).await
    }

    async fn invite(&self, invitation: &NewInvitation, effects: &Effects) -> Result<(Invitation, User), RepoError> {
        self.db.transaction(|c| invitations::invite_tx(c, invitation, effects).scope_boxed()).await
    }

    async fn list_invitations(
        &self,
        status: Option<InvitationStatus>,
        page: u32,
        per_page: u32,
        now: DateTime<Utc>,
    ) -> Result<Page<Invitation>, RepoError> {
        self.db.run(|c| invitations::list(c, status, page, per_page, now).scope_boxed()).await
    }

    async fn revoke_invitation(&self, id: Uuid, now: DateTime<Utc>) -> Result<RevokeOutcome, RepoError> {
        self.db.transaction(|c| invitations::revoke_tx(c, id, now).scope_boxed()).await
    }
}
