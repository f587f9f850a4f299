//! The one place where diesel, diesel-async and pool failures become the
//! domain's [`RepoError`].
//!
//! - a unique violation of `users_email_lower_key` is `Conflict(EmailTaken)`,
//!   and so is a conflict a transaction decided itself ([`DbError::Conflict`]);
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

/// An adapter failure not yet translated. Internal code returns this and
/// the port methods convert it with `?` / `From` exactly once.
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
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some(EMAIL_UNIQUE_INDEX) =>
        {
            RepoError::Conflict(Conflict::EmailTaken)
        }
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
