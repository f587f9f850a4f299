//! API keys of an organization: created by a member holding
//! `api_keys:manage` with permissions they hold themselves, shown once,
//! listed by prefix, revoked. Every decision goes through [`authorize`] (via
//! the [`OrgGate`]), so a key of another organization does not exist.
//!
//! [`authorize`]: crate::org::authorize

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Permission, Principal},
    error::Error,
    org::{Access, ApiKey, ApiKeySecret, NewApiKey, NewApiKeyInput},
    ports::{ApiKeyRepository, Clock, RoleRepository},
    user::Page,
    validation::ValidationErrors,
};

use super::{
    grants::{may_grant, unknown_permissions},
    merge_errors, OrgGate,
};

const API_KEYS_MANAGE: Access = Access::Permission(Permission::ApiKeysManage);

/// What [`ApiKeyService`] calls.
#[derive(Clone)]
pub struct ApiKeyPorts {
    pub gate: OrgGate,
    /// The permissions the organization registered, which a key may hold.
    pub roles: Arc<dyn RoleRepository>,
    pub api_keys: Arc<dyn ApiKeyRepository>,
    pub clock: Arc<dyn Clock>,
}

/// API key use cases.
#[derive(Clone)]
pub struct ApiKeyService {
    ports: ApiKeyPorts,
}

impl ApiKeyService {
    pub fn new(ports: ApiKeyPorts) -> ApiKeyService {
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
        let membership = self.ports.gate.authorized(principal, org, API_KEYS_MANAGE).await?;
        let now = self.ports.clock.now();
        // Every bad field at once: the shape, and permissions the organization does not have.
        let mut unknown = ValidationErrors::new();
        unknown_permissions(&*self.ports.roles, org, "permissions", &input.permissions, &mut unknown).await?;
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
        self.ports.gate.authorized(principal, org, API_KEYS_MANAGE).await?;
        Ok(self.ports.api_keys.list(org, page, per_page).await?)
    }

    pub async fn get(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<ApiKey, Error> {
        self.ports.gate.authorized(principal, org, API_KEYS_MANAGE).await?;
        self.ports.api_keys.get(org, id).await?.ok_or(Error::NotFound("api key"))
    }

    /// Revokes a key at once: the next request with it is `401`. Needs
    /// `api_keys:manage`. Errors: `NotFound` (also an already revoked key).
    pub async fn revoke(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<(), Error> {
        self.ports.gate.authorized(principal, org, API_KEYS_MANAGE).await?;
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
