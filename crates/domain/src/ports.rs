//! The ports: traits the use cases need from the outside world, one file per
//! port. Adapters implement them; unit tests use the mockall mocks (feature
//! `mock`), and each service names in its constructor only the ports it
//! calls (see [`crate::service`]).
//!
//! Every port is `Send + Sync + 'static` and says which errors each method
//! returns. Repositories translate their storage failures into
//! [`RepoError`](crate::RepoError) once: a lost connection or exhausted pool
//! is `Unavailable`, never "not found".

mod accounts;
mod allowed_ips;
mod api_keys;
mod blobs;
mod clock;
mod hasher;
mod image_records;
mod images;
mod locations;
mod lockout;
mod mail;
mod members;
mod mfa;
mod org_invitations;
mod orgs;
mod outbox;
mod push_tokens;
mod rate_limits;
mod roles;
mod sessions;
mod settings;
mod signer;
mod users;

pub use accounts::*;
pub use allowed_ips::*;
pub use api_keys::*;
pub use blobs::*;
pub use clock::*;
pub use hasher::*;
pub use image_records::*;
pub use images::*;
pub use locations::*;
pub use lockout::*;
pub use mail::*;
pub use members::*;
pub use mfa::*;
pub use org_invitations::*;
pub use orgs::*;
pub use outbox::*;
pub use push_tokens::*;
pub use rate_limits::*;
pub use roles::*;
pub use sessions::*;
pub use settings::*;
pub use signer::*;
pub use users::*;
