//! Invitations: writing them with their pending user, listing them with a
//! status computed in SQL, and revoking them. The account repository's
//! invitation methods run these.
//!
//! An invitation is *open* at `now` when it is neither accepted, revoked nor
//! superseded, and has not expired: the `pending` status.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::mail::{Effects, Invitation, InvitationStatus, NewInvitation, RevokeOutcome, TokenPurpose};
use roster_domain::user::{Page, User, UserStatus};
use roster_domain::Conflict;
use uuid::Uuid;

use crate::effects::{supersede_tokens, write_effects};
use crate::error::DbError;
use crate::rows::{limit_offset, load_user, lower, to_u64};
use crate::schema::{invitations as inv, one_time_tokens as tokens, users};
use crate::users::{insert_user, membership_role, upsert_membership};

/// The condition "open at `$now`" on `invitations`.
macro_rules! open_at {
    ($now:expr) => {
        inv::accepted_at
            .is_null()
            .and(inv::revoked_at.is_null())
            .and(inv::superseded_at.is_null())
            .and(inv::expires_at.gt($now))
    };
}

/// The status of invitation `i` as of `$1`: closed first by acceptance,
/// then revocation, then being superseded; open ones expire.
macro_rules! invitation_status_sql {
    () => {
        "CASE WHEN i.accepted_at IS NOT NULL THEN 'accepted' \
              WHEN i.revoked_at IS NOT NULL THEN 'revoked' \
              WHEN i.superseded_at IS NOT NULL THEN 'superseded' \
              WHEN i.expires_at <= $1 THEN 'expired' \
              ELSE 'pending' END"
    };
}
pub(crate) use invitation_status_sql;

/// The columns of an [`InvitationRow`], with the role's name; binds `$1` (now).
macro_rules! select_sql {
    () => {
        concat!(
            "SELECT i.id, i.user_id, i.email, r.name AS role, i.invited_by, ",
            invitation_status_sql!(),
            " AS status, i.created_at, i.expires_at, i.accepted_at \
             FROM invitations i JOIN roles r ON r.id = i.role_id"
        )
    };
}

/// One page, newest first. Binds `$1` now, `$2` the status or NULL, `$3`
/// the limit, `$4` the offset.
const LIST_SQL: &str = concat!(
    select_sql!(),
    " WHERE ($2::text IS NULL OR ",
    invitation_status_sql!(),
    " = $2) ORDER BY i.created_at DESC, i.id DESC LIMIT $3 OFFSET $4"
);

/// How many match. Binds `$1` now, `$2` the status or NULL.
const COUNT_SQL: &str =
    concat!("SELECT count(*) AS n FROM invitations i WHERE ($2::text IS NULL OR ", invitation_status_sql!(), " = $2)");

/// One invitation. Binds `$1` now, `$2` its id.
const ONE_SQL: &str = concat!(select_sql!(), " WHERE i.id = $2");

/// An invitation as listed.
#[derive(QueryableByName)]
struct InvitationRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    invited_by: Option<Uuid>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    accepted_at: Option<DateTime<Utc>>,
}

impl InvitationRow {
    fn into_invitation(self) -> Result<Invitation, DbError> {
        let status = InvitationStatus::parse(&self.status)
            .ok_or_else(|| DbError::Corrupt(format!("invitation {} has status {:?}", self.id, self.status)))?;
        Ok(Invitation {
            id: self.id,
            user_id: self.user_id,
            email: self.email,
            role: self.role,
            invited_by: self.invited_by,
            status,
            created_at: self.created_at,
            expires_at: self.expires_at,
            accepted_at: self.accepted_at,
        })
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Where a locked invitation stands.
#[derive(Queryable, Selectable)]
#[diesel(table_name = inv, check_for_backend(diesel::pg::Pg))]
struct InvitationState {
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    superseded_at: Option<DateTime<Utc>>,
}

impl InvitationState {
    fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.superseded_at.is_none() && self.expires_at > now
    }
}

async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<InvitationState>, DbError> {
    Ok(inv::table.find(id).select(InvitationState::as_select()).for_update().first(conn).await.optional()?)
}

/// Locks the invitation; its user's id if it is open at `now`.
pub(crate) async fn lock_open(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbError> {
    Ok(lock(conn, id).await?.filter(|s| s.is_open(now)).map(|s| s.user_id))
}

async fn load_invitation(conn: &mut AsyncPgConnection, id: Uuid, now: DateTime<Utc>) -> Result<Invitation, DbError> {
    let row: Option<InvitationRow> = diesel::sql_query(ONE_SQL)
        .bind::<Timestamptz, _>(now)
        .bind::<diesel::sql_types::Uuid, _>(id)
        .get_result(conn)
        .await
        .optional()?;
    row.ok_or_else(|| DbError::Corrupt(format!("invitation {id} vanished inside its transaction")))?.into_invitation()
}

/// Finds or makes the invited user: a new pending user, or with `reinvite`
/// the pending user who has the address (their open invitations and
/// invitation tokens superseded, their role replaced). Returns their id and
/// stored address.
async fn invited_user(conn: &mut AsyncPgConnection, i: &NewInvitation) -> Result<(Uuid, String), DbError> {
    let now = i.user.now;
    let existing: Option<(Uuid, String, String)> = users::table
        .filter(lower(users::email).eq(lower(i.user.email.as_str())))
        .select((users::id, users::email, users::status))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match existing {
        None => {
            let user = insert_user(conn, &i.user).await?;
            Ok((user.id, user.email))
        }
        Some((id, email, status)) if i.reinvite && status == UserStatus::Pending.as_str() => {
            diesel::update(inv::table)
                .filter(inv::user_id.eq(id))
                .filter(open_at!(now))
                .set(inv::superseded_at.eq(now))
                .execute(conn)
                .await?;
            supersede_tokens(conn, id, &[TokenPurpose::Invitation.as_str()], None, now).await?;
            upsert_membership(conn, id, &i.user.membership, now).await?;
            Ok((id, email))
        }
        Some(_) => Err(DbError::Conflict(Conflict::EmailTaken)),
    }
}

/// The invitation, inside a transaction.
pub(crate) async fn invite_tx(
    conn: &mut AsyncPgConnection,
    i: &NewInvitation,
    effects: &Effects,
) -> Result<(Invitation, User), DbError> {
    let now = i.user.now;
    let (user_id, email) = invited_user(conn, i).await?;
    let (_, role_id, _) = membership_role(conn, &i.user.membership).await?;
    diesel::insert_into(inv::table)
        .values((
            inv::id.eq(i.id),
            inv::user_id.eq(user_id),
            inv::email.eq(&email),
            inv::role_id.eq(role_id),
            inv::invited_by.eq(i.invited_by),
            inv::created_at.eq(now),
            inv::expires_at.eq(i.expires_at),
        ))
        .execute(conn)
        .await?;
    // The token was made for the user the domain meant to create; a reused
    // pending user has another id.
    let effects = match &effects.token {
        Some(t) if t.user_id != user_id => {
            let mut e = effects.clone();
            if let Some(t) = e.token.as_mut() {
                t.user_id = user_id;
            }
            Cow::Owned(e)
        }
        _ => Cow::Borrowed(effects),
    };
    write_effects(conn, &effects).await?;
    let invitation = load_invitation(conn, i.id, now).await?;
    let user = load_user(conn, user_id)
        .await?
        .ok_or_else(|| DbError::Corrupt(format!("invited user {user_id} vanished inside its transaction")))?;
    Ok((invitation, user))
}

/// One page of invitations, newest first, and the total, read in one
/// read-only repeatable-read transaction so that they agree.
pub(crate) async fn list(
    conn: &mut AsyncPgConnection,
    status: Option<InvitationStatus>,
    page: u32,
    per_page: u32,
    now: DateTime<Utc>,
) -> Result<Page<Invitation>, DbError> {
    let (limit, offset) = limit_offset(page, per_page)?;
    let status = status.map(InvitationStatus::as_str);
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|c| {
            async move {
                let mut rows: Vec<InvitationRow> = diesel::sql_query(LIST_SQL)
                    .bind::<Timestamptz, _>(now)
                    .bind::<Nullable<Text>, _>(status)
                    .bind::<BigInt, _>(limit)
                    .bind::<BigInt, _>(offset)
                    .load(c)
                    .await?;
                let has_more = rows.len() > per_page as usize;
                rows.truncate(per_page as usize);
                let total: Count = diesel::sql_query(COUNT_SQL)
                    .bind::<Timestamptz, _>(now)
                    .bind::<Nullable<Text>, _>(status)
                    .get_result(c)
                    .await?;
                let items = rows.into_iter().map(InvitationRow::into_invitation).collect::<Result<Vec<_>, _>>()?;
                Ok(Page { items, total: Some(to_u64(total.n)?), page: Some(page), per_page, has_more })
            }
            .scope_boxed()
        })
        .await
}

/// The revocation, inside a transaction.
pub(crate) async fn revoke_tx(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<RevokeOutcome, DbError> {
    // Lock order token → invitation → user, as when redeeming the token, so
    // a concurrent acceptance queues instead of deadlocking.
    let _: Vec<Vec<u8>> =
        tokens::table.filter(tokens::invitation_id.eq(id)).select(tokens::token_hash).for_update().load(conn).await?;
    let Some(state) = lock(conn, id).await? else {
        return Ok(RevokeOutcome::NotFound);
    };
    if state.accepted_at.is_some() {
        return Ok(RevokeOutcome::Accepted);
    }
    if !state.is_open(now) {
        return Ok(RevokeOutcome::AlreadyClosed);
    }
    diesel::update(inv::table.find(id)).set(inv::revoked_at.eq(now)).execute(conn).await?;
    diesel::update(tokens::table)
        .filter(tokens::invitation_id.eq(id))
        .filter(tokens::used_at.is_null())
        .filter(tokens::superseded_at.is_null())
        .set(tokens::superseded_at.eq(now))
        .execute(conn)
        .await?;
    let user_status: Option<String> =
        users::table.find(state.user_id).select(users::status).for_update().first(conn).await.optional()?;
    if user_status.as_deref() == Some(UserStatus::Pending.as_str()) {
        let others: i64 =
            inv::table.filter(inv::user_id.eq(state.user_id)).filter(open_at!(now)).count().get_result(conn).await?;
        if others == 0 {
            // Frees the address; the user's tokens go with them, the
            // invitation stays, revoked.
            diesel::delete(users::table.find(state.user_id)).execute(conn).await?;
        }
    }
    Ok(RevokeOutcome::Revoked)
}
