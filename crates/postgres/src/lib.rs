//! Roster's PostgreSQL adapter: the embedded cluster, the connection pool,
//! migrations and the repository implementations of the domain ports.

pub mod embedded;
pub mod migrate;
pub mod pool;

pub mod accounts;
mod api_keys;
mod db;
mod effects;
pub mod error;
mod filter_sql;
mod invitations;
mod keyset;
mod locations;
mod members;
mod org_invitations;
mod org_roles;
pub mod orgs;
pub mod outbox;
pub mod rate_limits;
mod rows;
pub mod schema;
pub mod sessions;
pub mod signing_keys;
pub mod users;
mod users_query;

pub use accounts::PgAccountRepository;
pub use api_keys::PgApiKeyRepository;
pub use embedded::{EmbeddedError, EmbeddedOptions, EmbeddedPostgres};
pub use migrate::{revert_all, run_migrations, MigrateError, MIGRATIONS};
pub use org_invitations::PgOrgInvitationRepository;
pub use orgs::{builtin_roles, owner_permissions, PgOrgRepository, ADMIN_PERMISSIONS};
pub use outbox::PgOutboxRepository;
pub use pool::{build_pool, ping, pool_status, PgPool, PingError, PoolConfig};
pub use rate_limits::PgRateLimits;
pub use sessions::PgSessionRepository;
pub use signing_keys::{PgSigningKeyStore, StoredSigningKey};
pub use users::PgUserRepository;
