//! Which password policy applies to an account: the one its managing
//! organization set, else the platform's.

use std::sync::Arc;

use uuid::Uuid;

use crate::{error::Error, ports::OrganizationRepository, values::PasswordPolicy, DEFAULT_ORG_ID};

/// The password policies of the platform and its organizations.
#[derive(Clone)]
pub struct PasswordRules {
    orgs: Arc<dyn OrganizationRepository>,
    platform: PasswordPolicy,
}

impl PasswordRules {
    pub fn new(orgs: Arc<dyn OrganizationRepository>, platform: PasswordPolicy) -> PasswordRules {
        PasswordRules { orgs, platform }
    }

    /// The platform's policy, the floor of every organization's.
    pub(super) fn platform(&self) -> &PasswordPolicy {
        &self.platform
    }

    /// The policy of the accounts `org` manages.
    pub(super) async fn of(&self, org: Uuid) -> Result<PasswordPolicy, Error> {
        if org == DEFAULT_ORG_ID {
            return Ok(self.platform.clone());
        }
        let set = self.orgs.get_org(org).await?.and_then(|o| o.password_policy);
        Ok(set.unwrap_or_else(|| self.platform.clone()))
    }

    /// The policy of the account managed by `managed_by` (the platform's when unknown).
    pub(super) async fn for_account(&self, managed_by: Option<Uuid>) -> Result<PasswordPolicy, Error> {
        self.of(managed_by.unwrap_or(DEFAULT_ORG_ID)).await
    }
}
