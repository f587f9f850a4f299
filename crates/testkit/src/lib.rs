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
//!
//! SMTP: [`TestSmtpServer`] records what it receives and can be taken down.
//!
//! S3: [`TestS3Server`] is an S3-compatible server (s3s with SigV4 over
//! files in a temporary directory) with one bucket; it can be taken down
//! (connections refused) and brought back on the same port. Each test
//! starts its own.

pub mod postgres;
pub mod s3;
pub mod smtp;

pub use postgres::{fresh_database, test_cluster, TestCluster, TestDatabase};
pub use s3::TestS3Server;
pub use smtp::{ParsedMail, ReceivedMail, TestSmtpServer};
