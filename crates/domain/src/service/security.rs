//! An account's security at a glance — two-step verification, lockout,
//! the last sign-in — for its owner (`GET /me/security`) and its
//! administrators, and the administrators' unlock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    auth::{LockoutKey, Permission, Principal},
    error::Error,
    ports::{AllowedIpRepository, Clock, MfaRepository, UserRepository},
    user::{AllowedIp, User},
};

use super::{guard::Lockout, UserService};

/// What [`SecurityService`] calls.
#[derive(Clone)]
pub struct SecurityPorts {
    pub users: Arc<dyn UserRepository>,
    /// The account's IP policy.
    pub allowed_ips: Arc<dyn AllowedIpRepository>,
    pub mfa: Arc<dyn MfaRepository>,
    pub lockout: Lockout,
    /// Who may see and unlock whom.
    pub accounts: UserService,
    pub clock: Arc<dyn Clock>,
}

/// An account's security state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecurityView {
    /// Whether sign-in asks for a code from an authenticator app.
    pub mfa_enabled: bool,
    /// Unused recovery codes (0 with MFA off).
    pub recovery_codes_left: u32,
    /// Until when sign-in is refused after failed attempts; `null` when not locked.
    pub locked_until: Option<DateTime<Utc>>,
    /// Failed sign-ins counted in the current lockout window.
    pub recent_failures: u32,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The address of the last sign-in, as Roster saw it.
    pub last_login_ip: Option<String>,
    /// Whether sign-ins from addresses outside `allowed_ips` are refused.
    pub block_unknown_ips: bool,
    /// The addresses and ranges the account may sign in from (with
    /// `block_unknown_ips`), oldest first.
    pub allowed_ips: Vec<AllowedIp>,
}

/// Security views and the unlock.
#[derive(Clone)]
pub struct SecurityService {
    ports: SecurityPorts,
}

impl SecurityService {
    pub fn new(ports: SecurityPorts) -> SecurityService {
        SecurityService { ports }
    }

    async fn view(&self, user: &User) -> Result<SecurityView, Error> {
        let now = self.ports.clock.now();
        let lock = self.ports.lockout.state(&LockoutKey::for_address(&user.email)).await?;
        let window = self.ports.lockout.policy().window;
        let recovery_codes_left = if user.mfa_enabled { self.ports.mfa.recovery_codes_left(user.id).await? } else { 0 };
        let last = self.ports.users.last_login(user.id).await?;
        let ip_policy = self.ports.allowed_ips.ip_policy(user.id).await?;
        Ok(SecurityView {
            mfa_enabled: user.mfa_enabled,
            recovery_codes_left,
            locked_until: lock.as_ref().and_then(|s| s.locked_at(now)),
            recent_failures: lock.filter(|s| s.window_start + window > now).map_or(0, |s| s.failures),
            last_login_at: last.as_ref().map(|l| l.at),
            last_login_ip: last.and_then(|l| l.ip),
            block_unknown_ips: ip_policy.as_ref().is_some_and(|p| p.block_unknown_ips),
            allowed_ips: ip_policy.map(|p| p.entries).unwrap_or_default(),
        })
    }

    /// The caller's own security state. Errors: `Forbidden` (API keys),
    /// `Unavailable`.
    pub async fn mine(&self, principal: &Principal) -> Result<SecurityView, Error> {
        let (user, _) = principal.signed_in()?;
        self.view(user).await
    }

    /// Lifts a lock after failed sign-ins (and forgets the failures).
    /// Needs `users:manage_status` on an account the caller may change (an
    /// organization: one it manages), not one's own. Idempotent. Errors:
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn unlock(&self, principal: &Principal, id: Uuid) -> Result<SecurityView, Error> {
        let target = self.ports.accounts.security_target(principal, id, Permission::UsersManageStatus, false).await?;
        if self.ports.lockout.clear(&LockoutKey::for_address(&target.email)).await? {
            tracing::info!(user_id = %target.id, "sign-in lock lifted by an administrator");
        }
        self.view(&target).await
    }
}
