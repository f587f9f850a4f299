//! [`OrgInvitationRepository`] on PostgreSQL: invitations into an
//! organization by email, their status computed in SQL as for the
//! platform's invitations ([`crate::invitations`]), and their acceptance
//! under a lock on the invitation.
//!
//! An invitation is *open* while neither accepted, revoked nor superseded;
//! *live* while open and unexpired. The unique index
//! `org_invitations_open_key` allows one open invitation per address
//! (lower-cased) and organization, expired or not, so [`create_tx`]
//! supersedes it first. Concurrent invitations of one address into one
//! organization are serialized by a transaction-level advisory lock on the
//! pair, so the later one supersedes the earlier instead of violating the
//! index.
//!
//! Deleting a role or location cascades to the invitations naming it. A
//! deletion racing an acceptance of such an invitation may deadlock (the
//! acceptance holds the invitation and waits on the role for its
//! membership; the deletion the reverse); [`Db::transaction`] reruns the
//! loser, which then finds the invitation gone or the role in use.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::TokenHash;
use roster_domain::mail::{Effects, InvitationStatus, RevokeOutcome};
use roster_domain::org::{AcceptOutcome, Acceptance, NewOrgInvitation, OrgInvitation, OrgInvitationTicket};
use roster_domain::ports::OrgInvitationRepository;
use roster_domain::user::{NewMembership, NewUserRecord, Page};
use roster_domain::{Conflict, RepoError};
use uuid::Uuid;

use crate::db::Db;
use crate::effects::write_effects;
use crate::error::DbError;
use crate::invitations::invitation_status_sql;
use crate::pool::PgPool;
use crate::rows::{limit_offset, lower, to_u64};
use crate::schema::{memberships, org_invitations as oi, users};
use crate::users::insert_user;

/// Organizations' invitations in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgOrgInvitationRepository {
    db: Db,
}

impl PgOrgInvitationRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// The condition "open" on `org_invitations`.
macro_rules! open {
    () => {
        oi::accepted_at.is_null().and(oi::revoked_at.is_null()).and(oi::superseded_at.is_null())
    };
}

/// The columns of an [`OrgInvitationRow`], with the role's name; binds `$1` (now).
macro_rules! select_sql {
    () => {
        concat!(
            "SELECT i.id, i.org_id, i.email, r.name AS role, i.location_id, i.invited_by, ",
            invitation_status_sql!(),
            " AS status, i.created_at, i.expires_at, i.accepted_at \
             FROM org_invitations i JOIN roles r ON r.id = i.role_id"
        )
    };
}

/// One page of an organization's invitations, newest first. Binds `$1`
/// now, `$2` the organization, `$3` the status or NULL, `$4` the limit,
/// `$5` the offset.
const LIST_SQL: &str = concat!(
    select_sql!(),
    " WHERE i.org_id = $2 AND ($3::text IS NULL OR ",
    invitation_status_sql!(),
    " = $3) ORDER BY i.created_at DESC, i.id DESC LIMIT $4 OFFSET $5"
);

/// How many match. Binds `$1` now, `$2` the organization, `$3` the status or NULL.
const COUNT_SQL: &str = concat!(
    "SELECT count(*) AS n FROM org_invitations i WHERE i.org_id = $2 AND ($3::text IS NULL OR ",
    invitation_status_sql!(),
    " = $3)"
);

/// One invitation. Binds `$1` now, `$2` its id.
const ONE_SQL: &str = concat!(select_sql!(), " WHERE i.id = $2");

/// Serializes the invitations of one address into one organization until
/// the transaction ends. Binds `$1` the organization, `$2` the address.
const LOCK_ADDRESS_SQL: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1::text || ' ' || lower($2), 0))";

/// An invitation as listed.
#[derive(QueryableByName)]
struct OrgInvitationRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    org_id: Uuid,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    location_id: Option<Uuid>,
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

impl OrgInvitationRow {
    fn into_invitation(self) -> Result<OrgInvitation, DbError> {
        let status = InvitationStatus::parse(&self.status)
            .ok_or_else(|| DbError::Corrupt(format!("org invitation {} has status {:?}", self.id, self.status)))?;
        Ok(OrgInvitation {
            id: self.id,
            org_id: self.org_id,
            email: self.email,
            role: self.role,
            location_id: self.location_id,
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

/// Where an invitation stands, and what accepting it grants.
#[derive(Queryable, Selectable)]
#[diesel(table_name = oi, check_for_backend(diesel::pg::Pg))]
struct InvitationState {
    id: Uuid,
    org_id: Uuid,
    email: String,
    role_id: Uuid,
    location_id: Option<Uuid>,
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    superseded_at: Option<DateTime<Utc>>,
}

impl InvitationState {
    fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.superseded_at.is_none() && self.expires_at > now
    }
}

impl From<InvitationState> for OrgInvitationTicket {
    fn from(s: InvitationState) -> Self {
        OrgInvitationTicket {
            id: s.id,
            org_id: s.org_id,
            email: s.email,
            role_id: s.role_id,
            location_id: s.location_id,
            used_at: s.accepted_at,
            closed_at: s.revoked_at.or(s.superseded_at),
            expires_at: s.expires_at,
        }
    }
}

async fn load_invitation(conn: &mut AsyncPgConnection, id: Uuid, now: DateTime<Utc>) -> Result<OrgInvitation, DbError> {
    let row: Option<OrgInvitationRow> = diesel::sql_query(ONE_SQL)
        .bind::<Timestamptz, _>(now)
        .bind::<diesel::sql_types::Uuid, _>(id)
        .get_result(conn)
        .await
        .optional()?;
    row.ok_or_else(|| DbError::Corrupt(format!("org invitation {id} vanished inside its transaction")))?
        .into_invitation()
}

/// The invitation, superseding the open one of its address, with its
/// letters, inside a transaction.
async fn create_tx(
    conn: &mut AsyncPgConnection,
    i: &NewOrgInvitation,
    effects: &Effects,
) -> Result<OrgInvitation, DbError> {
    let email = i.email.as_str();
    diesel::sql_query(LOCK_ADDRESS_SQL)
        .bind::<diesel::sql_types::Uuid, _>(i.org_id)
        .bind::<Text, _>(email)
        .execute(conn)
        .await?;
    diesel::update(oi::table)
        .filter(oi::org_id.eq(i.org_id).and(lower(oi::email).eq(lower(email))))
        .filter(open!())
        .set(oi::superseded_at.eq(i.now))
        .execute(conn)
        .await?;
    diesel::insert_into(oi::table)
        .values((
            oi::id.eq(i.id),
            oi::org_id.eq(i.org_id),
            oi::email.eq(email),
            oi::role_id.eq(i.role_id),
            oi::location_id.eq(i.location_id),
            oi::invited_by.eq(i.invited_by),
            oi::token_hash.eq(i.token_hash.as_slice()),
            oi::created_at.eq(i.now),
            oi::expires_at.eq(i.expires_at),
        ))
        .execute(conn)
        .await?;
    write_effects(conn, effects).await?;
    load_invitation(conn, i.id, i.now).await
}

/// One page of `org`'s invitations, newest first, and the total, read in
/// one read-only repeatable-read transaction so that they agree.
async fn list(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    status: Option<InvitationStatus>,
    page: u32,
    per_page: u32,
    now: DateTime<Utc>,
) -> Result<Page<OrgInvitation>, DbError> {
    let (limit, offset) = limit_offset(page, per_page)?;
    let status = status.map(InvitationStatus::as_str);
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|c| {
            async move {
                let mut rows: Vec<OrgInvitationRow> = diesel::sql_query(LIST_SQL)
                    .bind::<Timestamptz, _>(now)
                    .bind::<diesel::sql_types::Uuid, _>(org)
                    .bind::<Nullable<Text>, _>(status)
                    .bind::<BigInt, _>(limit)
                    .bind::<BigInt, _>(offset)
                    .load(c)
                    .await?;
                let has_more = rows.len() > per_page as usize;
                rows.truncate(per_page as usize);
                let total: Count = diesel::sql_query(COUNT_SQL)
                    .bind::<Timestamptz, _>(now)
                    .bind::<diesel::sql_types::Uuid, _>(org)
                    .bind::<Nullable<Text>, _>(status)
                    .get_result(c)
                    .await?;
                let items = rows.into_iter().map(OrgInvitationRow::into_invitation).collect::<Result<Vec<_>, _>>()?;
                Ok(Page { items, total: Some(to_u64(total.n)?), page: Some(page), per_page, has_more })
            }
            .scope_boxed()
        })
        .await
}

/// The revocation, inside a transaction; the lock makes it wait for a
/// concurrent acceptance, whose outcome it then reports.
async fn revoke_tx(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<RevokeOutcome, DbError> {
    let state: Option<InvitationState> = oi::table
        .filter(oi::org_id.eq(org).and(oi::id.eq(id)))
        .select(InvitationState::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(state) = state else {
        return Ok(RevokeOutcome::NotFound);
    };
    if state.accepted_at.is_some() {
        return Ok(RevokeOutcome::Accepted);
    }
    if !state.is_live(now) {
        return Ok(RevokeOutcome::AlreadyClosed);
    }
    diesel::update(oi::table.find(id)).set(oi::revoked_at.eq(now)).execute(conn).await?;
    Ok(RevokeOutcome::Revoked)
}

async fn find(conn: &mut AsyncPgConnection, token: &TokenHash) -> Result<Option<OrgInvitationTicket>, DbError> {
    let state: Option<InvitationState> = oi::table
        .filter(oi::token_hash.eq(token.as_slice()))
        .select(InvitationState::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(state.map(OrgInvitationTicket::from))
}

/// Makes `user` a member of the invitation's organization with its role
/// and location; an existing membership is left as it is.
async fn join(
    conn: &mut AsyncPgConnection,
    s: &InvitationState,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::org_id.eq(s.org_id),
            memberships::user_id.eq(user),
            memberships::role_id.eq(s.role_id),
            memberships::location_id.eq(s.location_id),
            memberships::created_at.eq(now),
        ))
        .on_conflict((memberships::org_id, memberships::user_id))
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// The acceptance, inside a transaction. Concurrent acceptances of one
/// invitation queue on its row lock, so exactly one of them sees it live.
async fn accept_tx(
    conn: &mut AsyncPgConnection,
    token: &TokenHash,
    acceptance: &Acceptance,
    now: DateTime<Utc>,
) -> Result<AcceptOutcome, DbError> {
    let state: Option<InvitationState> = oi::table
        .filter(oi::token_hash.eq(token.as_slice()))
        .select(InvitationState::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(s) = state.filter(|s| s.is_live(now)) else {
        return Ok(AcceptOutcome::Gone);
    };
    // Held until commit, so the account cannot be deleted under the
    // membership being written for it.
    let account: Option<Uuid> = users::table
        .filter(lower(users::email).eq(lower(&s.email)))
        .select(users::id)
        .for_key_share()
        .first(conn)
        .await
        .optional()?;
    let user_id = match (acceptance, account) {
        (Acceptance::Join, None) => return Ok(AcceptOutcome::NoAccount),
        (Acceptance::Join, Some(id)) => {
            join(conn, &s, id, now).await?;
            id
        }
        (Acceptance::Create(_), Some(_)) => return Err(DbError::Conflict(Conflict::EmailTaken)),
        (Acceptance::Create(record), None) => {
            // As an organization creates users: managed by it and a member
            // of it only, with the invitation's role and location (as locked
            // here). An account created meanwhile for the address is
            // `users_email_lower_key`, that is `Conflict(EmailTaken)` too.
            let membership = NewMembership::Org { org_id: s.org_id, role_id: s.role_id, location_id: s.location_id };
            insert_user(conn, &NewUserRecord { membership, ..(**record).clone() }).await?;
            record.id
        }
    };
    diesel::update(oi::table.find(s.id)).set(oi::accepted_at.eq(now)).execute(conn).await?;
    Ok(AcceptOutcome::Joined { user_id })
}

#[async_trait]
impl OrgInvitationRepository for PgOrgInvitationRepository {
    async fn create(&self, invitation: &NewOrgInvitation, effects: &Effects) -> Result<OrgInvitation, RepoError> {
        self.db.transaction(|c| create_tx(c, invitation, effects).scope_boxed()).await
    }

    async fn list(
        &self,
        org: Uuid,
        status: Option<InvitationStatus>,
        page: u32,
        per_page: u32,
        now: DateTime<Utc>,
    ) -> Result<Page<OrgInvitation>, RepoError> {
        self.db.run(|c| list(c, org, status, page, per_page, now).scope_boxed()).await
    }

    async fn revoke(&self, org: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<RevokeOutcome, RepoError> {
        self.db.transaction(|c| revoke_tx(c, org, id, now).scope_boxed()).await
    }

    async fn find(&self, token: &TokenHash) -> Result<Option<OrgInvitationTicket>, RepoError> {
        self.db.run(|c| find(c, token).scope_boxed()).await
    }

    async fn accept(
        &self,
        token: &TokenHash,
        acceptance: &Acceptance,
        now: DateTime<Utc>,
    ) -> Result<AcceptOutcome, RepoError> {
        self.db.transaction(|c| accept_tx(c, token, acceptance, now).scope_boxed()).await
    }
}
