//! Push tokens: a signed-in user registers, lists and removes their
//! devices' tokens (`/me/push-tokens`); a host service holding
//! `push_tokens:read` in an organization reads its members' tokens to
//! notify them (`GET /push-tokens`).

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Permission, Principal, Refusal},
    error::Error,
    ports::{Clock, PushTokenRepository, TokenRegistration},
    user::{PushToken, PushTokenInput, PushTokenLookup, UserPushTokens, MAX_PUSH_TOKENS},
};

/// What [`PushTokenService`] calls.
#[derive(Clone)]
pub struct PushTokenPorts {
    pub push_tokens: Arc<dyn PushTokenRepository>,
    pub clock: Arc<dyn Clock>,
}

/// Push-token use cases.
#[derive(Clone)]
pub struct PushTokenService {
    ports: PushTokenPorts,
}

/// A registration's outcome: the token, and whether it is new to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredToken {
    pub token: PushToken,
    pub created: bool,
}

impl PushTokenService {
    pub fn new(ports: PushTokenPorts) -> PushTokenService {
        PushTokenService { ports }
    }

    /// Registers a device's token to the signed-in caller: new to them
    /// (`created`, also when it moves from another user — the device
    /// changed hands), or refreshed (`last_seen_at`, device name). Past
    /// [`MAX_PUSH_TOKENS`] the least recently seen is dropped. Errors:
    /// `Forbidden` (not a user), `Validation`, `Unavailable`.
    pub async fn register(&self, principal: &Principal, input: PushTokenInput) -> Result<RegisteredToken, Error> {
        let (me, _) = principal.signed_in()?;
        let token = input.validate("")?;
        let now = self.ports.clock.now();
        match self.ports.push_tokens.register(me.id, &token, MAX_PUSH_TOKENS, now).await? {
            TokenRegistration::Created(token) => Ok(RegisteredToken { token, created: true }),
            TokenRegistration::Refreshed(token) => Ok(RegisteredToken { token, created: false }),
            TokenRegistration::UserGone => Err(Error::NotFound("user")),
        }
    }

    /// The signed-in caller's tokens, most recently seen first.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<PushToken>, Error> {
        let (me, _) = principal.signed_in()?;
        Ok(self.ports.push_tokens.list_tokens(me.id).await?)
    }

    /// Removes one of the signed-in caller's tokens; another user's is `NotFound`.
    pub async fn delete(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        let (me, _) = principal.signed_in()?;
        if self.ports.push_tokens.delete_token(me.id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("push token"))
        }
    }

    /// The tokens of the members of the caller's organization named by
    /// `user_id=` or `email=` (exactly one, a comma list). Needs
    /// `push_tokens:read` there; unknown ids and addresses, and anyone who
    /// is no (active) member, are absent. Errors: `InvalidQuery`,
    /// `Forbidden`, `Unavailable`.
    pub async fn for_members(
        &self,
        principal: &Principal,
        user_id: Option<&str>,
        email: Option<&str>,
    ) -> Result<Vec<UserPushTokens>, Error> {
        if !principal.holds(Permission::PushTokensRead) {
            return Err(Error::Forbidden(Refusal::MissingPermission(Permission::PushTokensRead)));
        }
        let lookup = PushTokenLookup::from_params(user_id, email).map_err(Error::InvalidQuery)?;
        Ok(self.ports.push_tokens.member_tokens(principal.org_id, &lookup).await?)
    }
}

#[cfg(test)]
#[path = "push_tokens_tests.rs"]
mod tests;
