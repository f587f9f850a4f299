//! API keys of an organization: created by a member holding
//! `api_keys:manage` with permissions they hold themselves, shown once,
//! listed by prefix, revoked. Every decision goes through [`authorize`] (via
//! [`authorized`]), so a key of another organization does not exist.
//!
//! [`authorize`]: crate::org::authorize

use uuid::Uuid;

use crate::{
    auth::Principal,
    error::Error,
    org::{Access, ApiKey, ApiKeySecret, NewApiKey, NewApiKeyInput},
    user::Page,
    validation::ValidationErrors,
};

use super::{
    merge_errors,
    orgs::{authorized, may_grant, unknown_permissions},
    Ports,
};

pub(super) const API_KEYS_MANAGE: &str = "api_keys:manage";

/// API key use cases.
#[derive(Clone)]
pub struct ApiKeyService {
    ports: Ports,
}

impl ApiKeyService {
    pub fn new(ports: Ports) -> ApiKeyService {
        ApiKeyService { ports }
    }

    /// Creates a key and returns it with its secret, which is never shown
    /// again. Needs `api_keys:manage`; the key may only hold permissions the
    /// caller holds (an owner or superadmin may give any). Errors: `NotFound`
    /// (not the caller's organization), `Forbidden`, `Validation`.
    pub async fn create(
        &self,
        principal: &Principal,
        org: Uuid,
        input: NewApiKeyInput,
    ) -> Result<(ApiKey, ApiKeySecret), Error> {
        let membership = authorized(&self.ports, principal, org, Access::Permission(API_KEYS_MANAGE)).await?;
        let now = self.ports.clock.now();
        // Every bad field at once: the shape, and permissions the organization does not have.
        let mut unknown = ValidationErrors::new();
        unknown_permissions(&self.ports, org, "permissions", &input.permissions, &mut unknown).await?;
        let input = merge_errors(unknown, input.validate(now))?;
        may_grant(principal, membership.as_ref(), &input.permissions)?;
        let secret = ApiKeySecret::generate();
        let key = NewApiKey {
            id: Uuid::now_v7(),
            org_id: org,
            name: input.name,
            prefix: secret.prefix().to_string(),
            hash: secret.hash(),
            permissions: input.permissions,
            created_by: principal.user_id(),
            expires_at: input.expires_at,
            now,
        };
        let key = self.ports.api_keys.create(&key).await?;
        tracing::info!(key_id = %key.id, org_id = %org, prefix = %key.prefix, "API key created");
        Ok((key, secret))
    }

    /// The organization's live keys, newest first. Needs `api_keys:manage`.
    pub async fn list(
        &self,
        principal: &Principal,
        org: Uuid,
        page: u32,
        per_page: u32,
    ) -> Result<Page<ApiKey>, Error> {
        authorized(&self.ports, principal, org, Access::Permission(API_KEYS_MANAGE)).await?;
        Ok(self.ports.api_keys.list(org, page, per_page).await?)
    }

    pub async fn get(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<ApiKey, Error> {
        authorized(&self.ports, principal, org, Access::Permission(API_KEYS_MANAGE)).await?;
        self.ports.api_keys.get(org, id).await?.ok_or(Error::NotFound("api key"))
    }

    /// Revokes a key at once: the next request with it is `401`. Needs
    /// `api_keys:manage`. Errors: `NotFound` (also an already revoked key).
    pub async fn revoke(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<(), Error> {
        authorized(&self.ports, principal, org, Access::Permission(API_KEYS_MANAGE)).await?;
        let now = self.ports.clock.now();
        if self.ports.api_keys.revoke(org, id, now).await? {
            tracing::info!(key_id = %id, org_id = %org, "API key revoked");
            Ok(())
        } else {
            Err(Error::NotFound("api key"))
        }
    }
}

#[cfg(test)]
#[path = "api_keys_tests.rs"]
mod tests;
