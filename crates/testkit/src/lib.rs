//! Throwaway servers on loopback for Roster's tests.
//!
//! PostgreSQL: one cluster per test process, started on first use, with a
//! migrated template database; every test takes its own copy with
//! [`fresh_database`] and runs in parallel with the others.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let db = roster_testkit::fresh_database().await?;
//! let pool = roster_postgres::build_pool(db.url(), &Default::default())?;
//! # Ok(()) }
//! ```

pub mod postgres;
pub mod smtp;

pub use postgres::{fresh_database, test_cluster, TestCluster, TestDatabase};
pub use smtp::{ParsedMail, ReceivedMail, TestSmtpServer};
