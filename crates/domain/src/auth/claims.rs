use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims of a Roster access token (SPEC §4). Host applications verify
/// them offline through the JWKS; Roster itself also checks that `sid` is
/// still live on every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// The session id.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    pub email: String,
    /// The organization the role and permissions below belong to.
    pub org: Uuid,
    /// Role in `org`, if a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Permissions in `org` at issue time.
    #[serde(default)]
    pub perms: Vec<String>,
    /// Authentication methods used (`pwd`).
    #[serde(default)]
    pub amr: Vec<String>,
}
