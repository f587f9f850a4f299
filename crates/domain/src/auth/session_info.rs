//! A user's sessions as they (or an administrator) see them listed, and
//! which of them a bulk revocation ends.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// Most sessions a list shows: the newest ones. A user has a handful (one
/// per device or browser); one with more (scripts that log in each time)
/// sees the newest 100, and `DELETE /me/sessions?scope=others` still ends
/// every one of them.
pub const MAX_LISTED_SESSIONS: usize = 100;

/// One live session (neither revoked nor expired) of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The session id (the access tokens' `sid`).
    pub id: Uuid,
    /// When the session was opened (the login).
    pub created_at: DateTime<Utc>,
    /// When its refresh token was last rotated (`POST /auth/refresh`), or
    /// the login; using an access token does not write it.
    pub last_used_at: DateTime<Utc>,
    /// When the session ends at the latest, refreshed or not.
    pub expires_at: DateTime<Utc>,
    /// The client's address at login, as `http.trusted_proxies` resolves it.
    pub ip: Option<String>,
    /// The `User-Agent` sent at login.
    pub user_agent: Option<String>,
    /// The organization the session acts in.
    pub org_id: Uuid,
    /// That organization's name.
    pub org_name: String,
    /// How the session was authenticated (RFC 8176 values: `pwd`, `otp`).
    pub amr: Vec<String>,
    /// Whether this is the caller's own session (the one of the token the
    /// list was asked with).
    pub current: bool,
}

/// Which of the caller's sessions `DELETE /me/sessions` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeScope {
    /// Every live session but the caller's own.
    Others,
    /// Every live session, the caller's own included (a logout everywhere).
    All,
}

impl RevokeScope {
    /// `others` or `all`; anything else is `None`.
    pub fn parse(raw: &str) -> Option<RevokeScope> {
        match raw {
            "others" => Some(RevokeScope::Others),
            "all" => Some(RevokeScope::All),
            _ => None,
        }
    }
}
