//! Roster's domain: entities, validated value types, port traits and the use
//! cases that drive them.
//!
//! Nothing here performs I/O. Adapters (PostgreSQL, HTTP, bcrypt, JWT) live in
//! other crates and talk to the domain only through the traits in [`ports`].
//! Other Rust services may depend on this crate to reuse the value types and
//! the token claims.

pub mod auth;
pub mod error;
pub mod image;
pub mod mail;
pub mod org;
pub mod ports;
pub mod service;
pub mod user;
pub mod validation;
pub mod values;

pub use error::{Conflict, Error, ImageRefusal, RepoError, StateConflict};
pub use validation::{Patch, ValidationErrors};

/// The fixed id of the default organization created by the first migration.
/// Single-tenant deployments live there and never need to name it.
pub const DEFAULT_ORG_ID: uuid::Uuid = uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);
