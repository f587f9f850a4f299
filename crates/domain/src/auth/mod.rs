//! Authentication and authorization vocabulary: who is calling, what they may
//! do and why they may not, the permissions, the access-token claims and the
//! refresh-token scheme.

mod claims;
pub mod lockout;
mod opaque;
mod permission;
mod principal;
mod refresh;
mod refusal;
mod session_info;
pub mod totp;

pub use claims::AccessClaims;
pub use lockout::{Claim, LockoutKey, LockoutPolicy, LockoutState};
pub use opaque::{OneTimeToken, TokenHash};
pub use permission::{Permission, PermissionName};
pub use principal::{Actor, Principal, SessionSubject};
pub use refresh::{RefreshSecret, RefreshToken};
pub use refusal::Refusal;
pub use session_info::{RevokeScope, SessionInfo, MAX_LISTED_SESSIONS};
pub use totp::{CodeCheck, MfaChallengeToken, MfaHasher, TotpSecret};
