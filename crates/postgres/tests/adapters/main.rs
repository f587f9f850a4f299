//! The adapter's tests against real PostgreSQL, in one binary: one test
//! cluster (`roster-testkit`, started on first use) for all of them, and a
//! database of its own, cloned from the migrated template, for each test,
//! so they run in parallel. The embedded-cluster tests start clusters of
//! their own in temporary directories and leave the shared one alone.

mod common;

mod account_security;
mod allowed_ips;
mod api_keys;
mod directory;
mod embedded;
mod images;
mod invitations;
mod locations;
mod managed;
mod member_status;
mod members;
mod migrations;
mod org_invitations;
mod orgs;
mod outbox;
mod pool;
mod rate_limits;
mod sessions;
mod settings_push;
mod tokens;
mod user_effects;
mod users;
