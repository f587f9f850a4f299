//! Adapters that are neither storage nor HTTP: bcrypt password hashing and
//! EdDSA access-token signing. They implement domain ports.

pub mod bcrypt;
pub mod jwt;
