//! A user's sessions: the signed-in user lists and ends their own
//! (`/me/sessions`); an administrator holding `sessions:revoke` lists and
//! ends another user's (`/users/{id}/sessions`), on the accounts the
//! organization they act in manages, as for any account-level action
//! ([`UserService::sessions_of`]). An ended session's access tokens are
//! refused at once: every request asks the store whether its session is
//! live (`SessionRepository::subject`).

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Principal, RevokeScope, SessionInfo, MAX_LISTED_SESSIONS},
    error::Error,
    ports::{Clock, SessionRepository},
    validation::ValidationErrors,
};

use super::UserService;

/// Why a session ended by its own user is revoked.
pub const REVOKED_BY_USER: &str = "revoked_by_user";
/// Why a session ended by an administrator is revoked.
pub const REVOKED_BY_ADMIN: &str = "revoked_by_admin";

/// What [`SessionService`] calls.
#[derive(Clone)]
pub struct SessionPorts {
    pub sessions: Arc<dyn SessionRepository>,
    /// Decides whose sessions an administrator may list and end.
    pub users: UserService,
    pub clock: Arc<dyn Clock>,
}

/// Session listing and revocation use cases.
#[derive(Clone)]
pub struct SessionService {
    ports: SessionPorts,
}

impl SessionService {
    pub fn new(ports: SessionPorts) -> SessionService {
        SessionService { ports }
    }

    /// User `user_id`'s live sessions, newest first (at most
    /// [`MAX_LISTED_SESSIONS`]), the caller's own marked `current`.
    async fn list(&self, principal: &Principal, user_id: Uuid) -> Result<Vec<SessionInfo>, Error> {
        let now = self.ports.clock.now();
        let mut sessions = self.ports.sessions.list_for_user(user_id, now, MAX_LISTED_SESSIONS).await?;
        let mine = principal.signed_in().ok().map(|(_, sid)| sid);
        for s in &mut sessions {
            s.current = Some(s.id) == mine;
        }
        Ok(sessions)
    }

    /// The signed-in caller's live sessions, newest first, their own marked
    /// `current`. Errors: `Forbidden` (an API key), `Unavailable`.
    pub async fn list_mine(&self, principal: &Principal) -> Result<Vec<SessionInfo>, Error> {
        let (me, _) = principal.signed_in()?;
        self.list(principal, me.id).await
    }

    /// Ends one of the signed-in caller's live sessions — their current one
    /// too (a logout). Unknown, another user's, revoked or expired is
    /// `NotFound`. Errors also: `Forbidden` (an API key), `Unavailable`.
    pub async fn revoke_mine(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        let (me, _) = principal.signed_in()?;
        let now = self.ports.clock.now();
        if self.ports.sessions.revoke(id, me.id, REVOKED_BY_USER, now).await? {
            Ok(())
        } else {
            Err(Error::NotFound("session"))
        }
    }

    /// Ends the signed-in caller's live sessions in `scope` (`others`:
    /// all but the current one; `all`: the current one too) and answers
    /// how many ended. A missing or other scope is `InvalidQuery` naming
    /// `scope`. Errors also: `Forbidden` (an API key, before the scope is
    /// read), `Unavailable`.
    pub async fn revoke_my_sessions(&self, principal: &Principal, scope: Option<&str>) -> Result<u64, Error> {
        let (me, current) = principal.signed_in()?;
        let scope = match scope.map(RevokeScope::parse) {
            Some(Some(scope)) => scope,
            given => {
                let mut errors = ValidationErrors::new();
                let message =
                    if given.is_none() { "is required: `others` or `all`" } else { "must be `others` or `all`" };
                errors.add("scope", message);
                return Err(Error::InvalidQuery(errors));
            }
        };
        let keep = match scope {
            RevokeScope::Others => Some(current),
            RevokeScope::All => None,
        };
        let now = self.ports.clock.now();
        Ok(self.ports.sessions.revoke_all_for_user(me.id, keep, REVOKED_BY_USER, now).await?)
    }

    /// User `id`'s live sessions, newest first, for an administrator with
    /// `sessions:revoke` on that account ([`UserService::sessions_of`]);
    /// the caller's own session, if listed, is `current`. Errors:
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn list_of(&self, principal: &Principal, id: Uuid) -> Result<Vec<SessionInfo>, Error> {
        self.ports.users.sessions_of(principal, id).await?;
        self.list(principal, id).await
    }

    /// Ends every live session of user `id` (the caller's own too, when it
    /// is theirs) and answers how many ended. Errors: `Forbidden`,
    /// `NotFound`, `Unavailable`.
    pub async fn revoke_all_of(&self, principal: &Principal, id: Uuid) -> Result<u64, Error> {
        self.ports.users.sessions_of(principal, id).await?;
        let now = self.ports.clock.now();
        Ok(self.ports.sessions.revoke_all_for_user(id, None, REVOKED_BY_ADMIN, now).await?)
    }

    /// Ends session `session_id` of user `id`. A session that is not a live
    /// one of that user is `NotFound("session")`. Errors also: `Forbidden`,
    /// `NotFound("user")`, `Unavailable`.
    pub async fn revoke_of(&self, principal: &Principal, id: Uuid, session_id: Uuid) -> Result<(), Error> {
        self.ports.users.sessions_of(principal, id).await?;
        let now = self.ports.clock.now();
        if self.ports.sessions.revoke(session_id, id, REVOKED_BY_ADMIN, now).await? {
            Ok(())
        } else {
            Err(Error::NotFound("session"))
        }
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
