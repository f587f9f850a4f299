//! Authentication and authorization vocabulary: who is calling, what they may
//! do, the access-token claims and the refresh-token scheme.

mod claims;
mod opaque;
mod policy;
mod principal;
mod refresh;

pub use claims::AccessClaims;
pub use opaque::{OneTimeToken, TokenHash};
pub use policy::AuthPolicy;
pub use principal::{perms, Actor, Principal, SessionSubject};
pub use refresh::{RefreshSecret, RefreshToken};
