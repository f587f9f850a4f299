//! Roster's PostgreSQL adapter: the embedded cluster, the connection pool,
//! migrations and the repository implementations of the domain ports.
//!
//! There is one repository per port, in the module that holds its queries
//! ([`PgOrgRepository`] in `orgs`, [`PgRoleRepository`] in `roles`,
//! [`PgLocationRepository`] in `locations`, [`PgMemberRepository`] in
//! `members`, and so on), each made with `new(pool)` from a [`PgPool`].
//! Below the repositories sit what they share: `db` (checking connections
//! out, retrying conflicting transactions, and translating failures into
//! the domain's `RepoError` through [`error`]), `rows` (row types and
//! common reads), `effects` (the tokens and letters a change writes in its
//! own transaction) and `schema`. Modules import each other in one
//! direction only: a repository that writes what another owns (an
//! invitation writes its user) calls that module's helpers, which never
//! call back.

pub mod embedded;
pub mod migrate;
pub mod pool;

pub mod accounts;
mod allowed_ips;
mod api_keys;
mod db;
mod effects;
pub mod error;
mod filter_sql;
mod images;
mod invitations;
mod keyset;
mod locations;
mod lockout;
mod members;
mod mfa;
mod org_invitations;
pub mod orgs;
pub mod outbox;
mod push_tokens;
pub mod rate_limits;
mod roles;
mod rows;
pub mod schema;
pub mod sessions;
mod settings;
pub mod signing_keys;
pub mod users;
mod users_query;

pub use accounts::PgAccountRepository;
pub use allowed_ips::PgAllowedIpRepository;
pub use api_keys::PgApiKeyRepository;
pub use embedded::{EmbeddedError, EmbeddedOptions, EmbeddedPostgres};
pub use images::PgImageRepository;
pub use locations::PgLocationRepository;
pub use lockout::PgLockout;
pub use members::PgMemberRepository;
pub use mfa::PgMfaRepository;
pub use migrate::{revert_all, run_migrations, MigrateError, MIGRATIONS};
pub use org_invitations::PgOrgInvitationRepository;
pub use orgs::{builtin_roles, owner_permissions, PgOrgRepository, ADMIN_PERMISSIONS};
pub use outbox::PgOutboxRepository;
pub use pool::{build_pool, ping, pool_status, PgPool, PingError, PoolConfig};
pub use push_tokens::PgPushTokenRepository;
pub use rate_limits::PgRateLimits;
pub use roles::PgRoleRepository;
pub use sessions::PgSessionRepository;
pub use settings::PgSettingsRepository;
pub use signing_keys::{PgSigningKeyStore, StoredSigningKey};
pub use users::PgUserRepository;
