//! The one place where diesel, diesel-async and pool failures become the
//! domain's [`RepoError`].
//!
//! - a unique violation of `users_email_lower_key` is `Conflict(EmailTaken)`,
//!   of `organizations_slug_key` `SlugTaken`, of `roles_org_id_name_key`
//!   `RoleNameTaken`, of `org_permissions_pkey` `PermissionTaken` and of
//!   `memberships_pkey` `AlreadyMember`; a conflict a transaction decided
//!   itself ([`DbError::Conflict`]) is that conflict;
//! - deleting a role or a location that memberships (or, for a role,
//!   invitations) still refer to violates a `RESTRICT` foreign key:
//!   `Conflict(InUse)`. Writing a membership that names a role or location
//!   of another organization (or none) violates the same composite foreign
//!   keys from the other side: that is a broken invariant (the domain checks
//!   both exist in the organization first), so `Internal`;
//! - an exhausted or closed pool, a database that cannot be reached, a lost
//!   connection, a statement timeout, and a serialization failure or deadlock
//!   that persisted through the retries are `Unavailable`;
//! - everything else is `Internal`.
//!
//! A failure is never turned into "not found".

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;
use diesel_async::pooled_connection::PoolError as ManagerError;
use roster_domain::{Conflict, RepoError};

/// The unique index deciding that emails are unique case-insensitively.
pub const EMAIL_UNIQUE_INDEX: &str = "users_email_lower_key";

/// Organization slugs are unique.
pub const SLUG_UNIQUE: &str = "organizations_slug_key";

/// Role names are unique in their organization.
pub const ROLE_NAME_UNIQUE: &str = "roles_org_id_name_key";

/// An organization registers a permission once.
pub const PERMISSION_PKEY: &str = "org_permissions_pkey";

/// A user is a member of an organization once.
pub const MEMBERSHIP_PKEY: &str = "memberships_pkey";

/// A membership's role is one of its organization's (`RESTRICT`).
pub const MEMBERSHIP_ROLE_FKEY: &str = "memberships_role_fkey";

/// A membership's location is one of its organization's (`RESTRICT`).
pub const MEMBERSHIP_LOCATION_FKEY: &str = "memberships_location_fkey";

/// An invitation's role (`RESTRICT`).
pub const INVITATION_ROLE_FKEY: &str = "invitations_role_id_fkey";

/// The unique constraints and the conflicts their violations are.
const UNIQUE_CONFLICTS: [(&str, Conflict); 5] = [
    (EMAIL_UNIQUE_INDEX, Conflict::EmailTaken),
    (SLUG_UNIQUE, Conflict::SlugTaken),
    (ROLE_NAME_UNIQUE, Conflict::RoleNameTaken),
    (PERMISSION_PKEY, Conflict::PermissionTaken),
    (MEMBERSHIP_PKEY, Conflict::AlreadyMember),
];

/// The `RESTRICT` foreign keys whose violation by a delete is `InUse`.
const IN_USE_FKEYS: [&str; 3] = [MEMBERSHIP_ROLE_FKEY, MEMBERSHIP_LOCATION_FKEY, INVITATION_ROLE_FKEY];

/// How PostgreSQL's message for a foreign key violated by deleting (or
/// updating) the referenced row begins; one violated by inserting or
/// updating the referencing row begins "insert or update on table".
const REFERENCED_ROW_MESSAGE: &str = "update or delete on table";

/// The conflict a violated constraint means, if it means one.
fn conflict(kind: &DatabaseErrorKind, info: &(dyn DatabaseErrorInformation + Send + Sync)) -> Option<Conflict> {
    let constraint = info.constraint_name()?;
    match kind {
        DatabaseErrorKind::UniqueViolation => {
            UNIQUE_CONFLICTS.iter().find(|(name, _)| *name == constraint).map(|(_, c)| *c)
        }
        DatabaseErrorKind::ForeignKeyViolation
            if IN_USE_FKEYS.contains(&constraint) && info.message().starts_with(REFERENCED_ROW_MESSAGE) =>
        {
            Some(Conflict::InUse)
        }
        _ => None,
    }
}

/// An adapter failure not yet translated. Internal code returns this; the
/// repositories' `Db` converts it with `From`, once, as a port method returns.
#[derive(Debug)]
pub enum DbError {
    /// A query (or the transaction around it) failed.
    Query(DieselError),
    /// No connection could be checked out of the pool.
    Pool(PoolError),
    /// A stored value broke an invariant of the domain (unknown status, …).
    Corrupt(String),
    /// A uniqueness rule decided by a transaction itself after reading under
    /// a lock (an invitation to an address whose user cannot be invited).
    /// Returning it rolls the transaction back.
    Conflict(Conflict),
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        DbError::Query(e)
    }
}

impl From<PoolError> for DbError {
    fn from(e: PoolError) -> Self {
        DbError::Pool(e)
    }
}

impl DbError {
    /// Whether running the whole transaction again may succeed: the server
    /// aborted it for a serialization failure or a deadlock.
    pub fn is_retryable(&self) -> bool {
        match self {
            DbError::Query(DieselError::DatabaseError(kind, info)) => {
                matches!(kind, DatabaseErrorKind::SerializationFailure)
                    || info.message().starts_with("deadlock detected")
            }
            _ => false,
        }
    }
}

impl From<DbError> for RepoError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(e) => from_diesel(e),
            DbError::Pool(e) => from_pool(e),
            DbError::Corrupt(m) => RepoError::Internal(m),
            DbError::Conflict(c) => RepoError::Conflict(c),
        }
    }
}

/// Messages of server errors (which diesel reports as `Unknown`) meaning the
/// server is shutting down, overloaded or cut the statement short.
const UNAVAILABLE_MESSAGES: [&str; 6] = [
    "terminating connection",
    "the database system is",
    "canceling statement due to statement timeout",
    "sorry, too many clients",
    "remaining connection slots are reserved",
    "server closed the connection",
];

fn describe(info: &(dyn DatabaseErrorInformation + Send + Sync)) -> String {
    match info.constraint_name() {
        Some(c) => format!("{} (constraint {c})", info.message()),
        None => info.message().to_owned(),
    }
}

fn from_diesel(e: DieselError) -> RepoError {
    if let DieselError::DatabaseError(kind, info) = &e {
        if let Some(c) = conflict(kind, info.as_ref()) {
            return RepoError::Conflict(c);
        }
    }
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => RepoError::Unavailable(format!("database connection lost: {}", info.message())),
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
            RepoError::Unavailable(format!("transaction kept conflicting: {}", info.message()))
        }
        DieselError::DatabaseError(_, info) if info.message().starts_with("deadlock detected") => {
            RepoError::Unavailable(format!("transaction kept conflicting: {}", info.message()))
        }
        DieselError::DatabaseError(_, info) if UNAVAILABLE_MESSAGES.iter().any(|m| info.message().starts_with(m)) => {
            RepoError::Unavailable(format!("database unavailable: {}", info.message()))
        }
        DieselError::DatabaseError(kind, info) => {
            RepoError::Internal(format!("database error ({kind:?}): {}", describe(info.as_ref())))
        }
        other => RepoError::Internal(format!("database error: {other}")),
    }
}

fn from_pool(e: PoolError) -> RepoError {
    match e {
        PoolError::Timeout(kind) => {
            RepoError::Unavailable(format!("no database connection within the timeout ({kind:?})"))
        }
        PoolError::Closed => RepoError::Unavailable("the connection pool is closed".to_owned()),
        PoolError::Backend(ManagerError::ConnectionError(e)) => {
            RepoError::Unavailable(format!("cannot connect to the database: {e}"))
        }
        PoolError::Backend(ManagerError::QueryError(e)) => {
            RepoError::Unavailable(format!("database connection check failed: {e}"))
        }
        PoolError::PostCreateHook(e) => RepoError::Unavailable(format!("cannot set up a database connection: {e}")),
        PoolError::NoRuntimeSpecified => {
            RepoError::Internal("connection pool has no runtime for its timeouts".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Info(&'static str, Option<&'static str>);

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.1
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn db(kind: DatabaseErrorKind, message: &'static str, constraint: Option<&'static str>) -> RepoError {
        DbError::Query(DieselError::DatabaseError(kind, Box::new(Info(message, constraint)))).into()
    }

    #[test]
    fn email_unique_violation_is_a_conflict() {
        assert_eq!(
            db(DatabaseErrorKind::UniqueViolation, "duplicate key", Some(EMAIL_UNIQUE_INDEX)),
            RepoError::Conflict(Conflict::EmailTaken)
        );
        assert!(matches!(
            db(DatabaseErrorKind::UniqueViolation, "duplicate key", Some("users_pkey")),
            RepoError::Internal(_)
        ));
    }

    #[test]
    fn organization_unique_violations_are_conflicts() {
        let unique = |c| db(DatabaseErrorKind::UniqueViolation, "duplicate key", Some(c));
        assert_eq!(unique(SLUG_UNIQUE), RepoError::Conflict(Conflict::SlugTaken));
        assert_eq!(unique(ROLE_NAME_UNIQUE), RepoError::Conflict(Conflict::RoleNameTaken));
        assert_eq!(unique(PERMISSION_PKEY), RepoError::Conflict(Conflict::PermissionTaken));
        assert_eq!(unique(MEMBERSHIP_PKEY), RepoError::Conflict(Conflict::AlreadyMember));
        assert!(matches!(unique("roles_pkey"), RepoError::Internal(_)));
    }

    #[test]
    fn deleting_what_members_hold_is_in_use_but_naming_a_missing_row_is_internal() {
        let fk = DatabaseErrorKind::ForeignKeyViolation;
        let deleting = "update or delete on table \"roles\" violates foreign key constraint \"memberships_role_fkey\" on table \"memberships\"";
        let inserting =
            "insert or update on table \"memberships\" violates foreign key constraint \"memberships_role_fkey\"";
        for c in [MEMBERSHIP_ROLE_FKEY, MEMBERSHIP_LOCATION_FKEY, INVITATION_ROLE_FKEY] {
            assert_eq!(db(fk, deleting, Some(c)), RepoError::Conflict(Conflict::InUse), "{c}");
            assert!(matches!(db(fk, inserting, Some(c)), RepoError::Internal(_)), "{c}");
        }
        assert!(matches!(db(fk, deleting, Some("sessions_user_id_fkey")), RepoError::Internal(_)));
        assert!(matches!(
            db(DatabaseErrorKind::CheckViolation, deleting, Some(MEMBERSHIP_ROLE_FKEY)),
            RepoError::Internal(_)
        ));
    }

    #[test]
    fn lost_connections_and_conflicts_are_unavailable() {
        assert!(matches!(
            db(DatabaseErrorKind::UnableToSendCommand, "connection closed", None),
            RepoError::Unavailable(_)
        ));
        assert!(matches!(db(DatabaseErrorKind::ClosedConnection, "closed", None), RepoError::Unavailable(_)));
        assert!(matches!(
            db(DatabaseErrorKind::SerializationFailure, "could not serialize", None),
            RepoError::Unavailable(_)
        ));
        assert!(matches!(db(DatabaseErrorKind::Unknown, "deadlock detected", None), RepoError::Unavailable(_)));
        assert!(matches!(
            db(DatabaseErrorKind::Unknown, "terminating connection due to administrator command", None),
            RepoError::Unavailable(_)
        ));
        assert!(matches!(
            db(DatabaseErrorKind::Unknown, "canceling statement due to statement timeout", None),
            RepoError::Unavailable(_)
        ));
    }

    #[test]
    fn everything_else_is_internal() {
        assert!(matches!(
            db(DatabaseErrorKind::CheckViolation, "violates check", Some("users_status_check")),
            RepoError::Internal(_)
        ));
        assert!(matches!(RepoError::from(DbError::Query(DieselError::NotFound)), RepoError::Internal(_)));
        assert!(matches!(RepoError::from(DbError::Corrupt("bad".into())), RepoError::Internal(_)));
        assert!(matches!(RepoError::from(DbError::Pool(PoolError::Closed)), RepoError::Unavailable(_)));
    }

    #[test]
    fn decided_conflicts_stay_conflicts() {
        assert_eq!(RepoError::from(DbError::Conflict(Conflict::EmailTaken)), RepoError::Conflict(Conflict::EmailTaken));
        assert!(!DbError::Conflict(Conflict::EmailTaken).is_retryable());
    }

    #[test]
    fn retryable_errors() {
        let e = |k, m| DbError::Query(DieselError::DatabaseError(k, Box::new(Info(m, None))));
        assert!(e(DatabaseErrorKind::SerializationFailure, "could not serialize").is_retryable());
        assert!(e(DatabaseErrorKind::Unknown, "deadlock detected").is_retryable());
        assert!(!e(DatabaseErrorKind::UniqueViolation, "duplicate").is_retryable());
    }
}
