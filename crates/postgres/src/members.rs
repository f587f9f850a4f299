//! [`MemberRepository`] on PostgreSQL: the members of an organization.
//!
//! Changing or removing a member first locks the organization's owner
//! memberships, in the order of their user ids, so that of two concurrent
//! changes that would each remove one of the last two owners the second
//! waits for the first and then sees a single owner left. Only active
//! owners count: an organization keeps at least one owner who can act in
//! it. A member's role and location are kept in their organization by the
//! composite foreign keys `memberships_role_fkey` and
//! `memberships_location_fkey`.
//!
//! A deactivated membership (`deactivated_at` set) is listed and managed
//! like any other but is no membership to
//! [`MemberRepository::membership`]: no permission there, no session there.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::org::{Member, MemberChange, MemberOutcome, Membership};
use roster_domain::ports::MemberRepository;
use roster_domain::RepoError;
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::schema::{memberships, roles, sessions};

/// Why a member's sessions in an organization are revoked when they are
/// deactivated there.
pub(crate) const MEMBER_DEACTIVATED_REASON: &str = "member_deactivated";

/// Organizations' members in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgMemberRepository {
    db: Db,
}

impl PgMemberRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// Locks the owner memberships of `$1` (the built-in role `owner`), active
/// or not, in a fixed order; returns their users and whether each is
/// active. A membership demoted by a transaction this one waited for no
/// longer joins the owner role when PostgreSQL re-checks the row, so it is
/// not returned; one (de)activated meanwhile is returned as it is now.
const LOCK_OWNERS_SQL: &str = "\
    SELECT m.user_id, m.deactivated_at IS NULL AS active \
    FROM memberships m JOIN roles r ON r.id = m.role_id \
    WHERE m.org_id = $1 AND r.org_id = m.org_id AND r.name = 'owner' AND r.builtin \
    ORDER BY m.user_id \
    FOR UPDATE OF m";

#[derive(QueryableByName)]
struct OwnerRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    user_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    active: bool,
}

/// A membership with its role's name.
#[derive(Queryable)]
struct MemberRow {
    org_id: Uuid,
    user_id: Uuid,
    role: String,
    location_id: Option<Uuid>,
    extra_permissions: Vec<String>,
    created_at: DateTime<Utc>,
    deactivated_at: Option<DateTime<Utc>>,
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Self {
        Member {
            org_id: r.org_id,
            user_id: r.user_id,
            role: r.role,
            location_id: r.location_id,
            extra_permissions: r.extra_permissions,
            active: r.deactivated_at.is_none(),
            created_at: r.created_at,
        }
    }
}

/// Changes to a membership: `None` leaves a column alone, `Some(None)` sets NULL.
#[derive(AsChangeset)]
#[diesel(table_name = memberships)]
struct MemberChangeset<'a> {
    role_id: Option<Uuid>,
    location_id: Option<Option<Uuid>>,
    permissions: Option<&'a Vec<String>>,
}

/// The user's role and the union of its permissions and the membership's
/// extra ones, sorted and without duplicates; `None` if deactivated.
async fn membership(conn: &mut AsyncPgConnection, org: Uuid, user: Uuid) -> Result<Option<Membership>, DbError> {
    let row: Option<(String, Vec<String>, Vec<String>)> = memberships::table
        .inner_join(roles::table)
        .filter(memberships::org_id.eq(org).and(memberships::user_id.eq(user)))
        .filter(memberships::deactivated_at.is_null())
        .select((roles::name, roles::permissions, memberships::permissions))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(role, role_perms, extra)| {
        let permissions: BTreeSet<String> = role_perms.into_iter().chain(extra).collect();
        Membership { org_id: org, user_id: user, role, permissions: permissions.into_iter().collect() }
    }))
}

/// The user's membership of `org` as administrators see it.
async fn get_member(conn: &mut AsyncPgConnection, org: Uuid, user: Uuid) -> Result<Option<Member>, DbError> {
    let row: Option<MemberRow> = memberships::table
        .inner_join(roles::table)
        .filter(memberships::org_id.eq(org).and(memberships::user_id.eq(user)))
        .select((
            memberships::org_id,
            memberships::user_id,
            roles::name,
            memberships::location_id,
            memberships::permissions,
            memberships::created_at,
            memberships::deactivated_at,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Member::from))
}

async fn load_member(conn: &mut AsyncPgConnection, org: Uuid, user: Uuid) -> Result<Member, DbError> {
    get_member(conn, org, user)
        .await?
        .ok_or_else(|| DbError::Corrupt(format!("membership of {user} in {org} vanished inside its transaction")))
}

/// Makes the user a member, inside a transaction.
async fn add_member_tx(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    user: Uuid,
    role_id: Uuid,
    location_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Member, DbError> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::org_id.eq(org),
            memberships::user_id.eq(user),
            memberships::role_id.eq(role_id),
            memberships::location_id.eq(location_id),
            memberships::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    load_member(conn, org, user).await
}

/// The active owners of `org` (every owner row locked); and the member's
/// role, locked, or `None` if they are no member. A change that takes
/// `user` away from the active owners is refused when these are `[user]`.
async fn lock_for_change(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    user: Uuid,
) -> Result<(Vec<Uuid>, Option<Uuid>), DbError> {
    let owners: Vec<OwnerRow> =
        diesel::sql_query(LOCK_OWNERS_SQL).bind::<diesel::sql_types::Uuid, _>(org).load(conn).await?;
    let role: Option<Uuid> =
        memberships::table.find((org, user)).select(memberships::role_id).for_update().first(conn).await.optional()?;
    Ok((owners.into_iter().filter(|o| o.active).map(|o| o.user_id).collect(), role))
}

/// Applies the change unless it moves the last owner to another role,
/// inside a transaction.
pub(crate) async fn update_member_tx(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    user: Uuid,
    change: &MemberChange,
) -> Result<MemberOutcome<Member>, DbError> {
    let (owners, role) = lock_for_change(conn, org, user).await?;
    let Some(role) = role else {
        return Ok(MemberOutcome::NotFound);
    };
    let demoted = change.role_id.is_some_and(|r| r != role);
    if demoted && owners == [user] {
        return Ok(MemberOutcome::LastOwner);
    }
    let changes = MemberChangeset {
        role_id: change.role_id,
        location_id: change.location_id,
        permissions: change.extra_permissions.as_ref(),
    };
    if changes.role_id.is_some() || changes.location_id.is_some() || changes.permissions.is_some() {
        diesel::update(memberships::table.find((org, user))).set(changes).execute(conn).await?;
    }
    Ok(MemberOutcome::Done(load_member(conn, org, user).await?))
}

/// Removes the membership unless it is the last owner's, inside a transaction.
async fn remove_member_tx(conn: &mut AsyncPgConnection, org: Uuid, user: Uuid) -> Result<MemberOutcome<()>, DbError> {
    let (owners, role) = lock_for_change(conn, org, user).await?;
    if role.is_none() {
        return Ok(MemberOutcome::NotFound);
    }
    if owners == [user] {
        return Ok(MemberOutcome::LastOwner);
    }
    diesel::delete(memberships::table.find((org, user))).execute(conn).await?;
    Ok(MemberOutcome::Done(()))
}

/// Activates or deactivates the membership, inside a transaction.
/// Deactivating refuses the last active owner and revokes the user's
/// sessions acting in `org`; an unchanged state keeps its timestamp.
async fn set_member_active_tx(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    user: Uuid,
    active: bool,
    now: DateTime<Utc>,
) -> Result<MemberOutcome<Member>, DbError> {
    let (owners, role) = lock_for_change(conn, org, user).await?;
    if role.is_none() {
        return Ok(MemberOutcome::NotFound);
    }
    let row = memberships::table.find((org, user));
    if active {
        diesel::update(row.filter(memberships::deactivated_at.is_not_null()))
            .set(memberships::deactivated_at.eq(None::<DateTime<Utc>>))
            .execute(conn)
            .await?;
    } else {
        if owners == [user] {
            return Ok(MemberOutcome::LastOwner);
        }
        diesel::update(row.filter(memberships::deactivated_at.is_null()))
            .set(memberships::deactivated_at.eq(now))
            .execute(conn)
            .await?;
        diesel::update(sessions::table)
            .filter(sessions::user_id.eq(user))
            .filter(sessions::org_id.eq(org))
            .filter(sessions::revoked_at.is_null())
            .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(MEMBER_DEACTIVATED_REASON)))
            .execute(conn)
            .await?;
    }
    Ok(MemberOutcome::Done(load_member(conn, org, user).await?))
}

#[async_trait]
impl MemberRepository for PgMemberRepository {
    async fn membership(&self, org: Uuid, user: Uuid) -> Result<Option<Membership>, RepoError> {
        self.db.run(|c| membership(c, org, user).scope_boxed()).await
    }

    async fn get_member(&self, org: Uuid, user: Uuid) -> Result<Option<Member>, RepoError> {
        self.db.run(|c| get_member(c, org, user).scope_boxed()).await
    }

    async fn add_member(
        &self,
        org: Uuid,
        user: Uuid,
        role_id: Uuid,
        location_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Member, RepoError> {
        self.db.transaction(|c| add_member_tx(c, org, user, role_id, location_id, now).scope_boxed()).await
    }

    async fn update_member(
        &self,
        org: Uuid,
        user: Uuid,
        change: &MemberChange,
    ) -> Result<MemberOutcome<Member>, RepoError> {
        self.db.transaction(|c| update_member_tx(c, org, user, change).scope_boxed()).await
    }

    async fn remove_member(&self, org: Uuid, user: Uuid) -> Result<MemberOutcome<()>, RepoError> {
        self.db.transaction(|c| remove_member_tx(c, org, user).scope_boxed()).await
    }

    async fn set_member_active(
        &self,
        org: Uuid,
        user: Uuid,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<MemberOutcome<Member>, RepoError> {
        self.db.transaction(|c| set_member_active_tx(c, org, user, active, now).scope_boxed()).await
    }
}
