//! Roster's PostgreSQL adapter: the embedded cluster, the connection pool,
//! migrations and (later) the repository implementations of the domain ports.

pub mod embedded;
pub mod migrate;
pub mod pool;

mod db;
pub mod error;
mod filter_sql;
mod keyset;
mod rows;
pub mod schema;
pub mod sessions;
pub mod signing_keys;
pub mod users;
mod users_query;

pub use embedded::{EmbeddedError, EmbeddedOptions, EmbeddedPostgres};
pub use migrate::{revert_all, run_migrations, MigrateError, MIGRATIONS};
pub use pool::{build_pool, ping, pool_status, PgPool, PingError, PoolConfig};
pub use sessions::PgSessionRepository;
pub use signing_keys::{PgSigningKeyStore, StoredSigningKey};
pub use users::PgUserRepository;
