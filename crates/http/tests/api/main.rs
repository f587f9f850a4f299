//! Tests of the HTTP layer against mocked domain ports, with the app built
//! exactly as `roster_http::serve` builds it.

// Helpers outside `#[test]` functions panic on purpose too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod bodies;
mod errors;
mod mail;
mod ops;
mod orgs;
mod routing;
mod support;
mod users;
