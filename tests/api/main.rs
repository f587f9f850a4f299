//! End-to-end tests: the real app (the same `Roster::build` the binary runs)
//! on a loopback port, each test with its own database cloned from a
//! migrated template.

// Test code: a failed expectation should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::field_reassign_with_default)]

mod documented;
mod helpers;

mod account_users;
mod allowed_ips;
mod api_keys;
mod auth;
mod avatars;
mod browser;
mod directory;
mod edge_conn;
mod edge_input;
mod errors;
mod invitations;
mod lockout;
mod mail;
mod matrix;
mod me;
mod mfa;
mod ops;
mod org_invitations;
mod org_members;
mod orgs;
mod outbox;
mod pictures;
mod push_tokens;
mod refresh;
mod sessions;
mod settings;
mod tenants;
mod tokens;
mod users;
