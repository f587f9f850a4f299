//! The door of every organization-scoped use case: the caller's membership,
//! loaded per request, put to [`authorize`].

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::Principal,
    error::Error,
    org::{authorize, Access, Membership},
    ports::{MemberRepository, OrganizationRepository},
};

/// Loads the caller's membership and asks the one policy function.
#[derive(Clone)]
pub struct OrgGate {
    orgs: Arc<dyn OrganizationRepository>,
    members: Arc<dyn MemberRepository>,
}

impl OrgGate {
    pub fn new(orgs: Arc<dyn OrganizationRepository>, members: Arc<dyn MemberRepository>) -> OrgGate {
        OrgGate { orgs, members }
    }

    /// The caller's membership of `org` if the policy lets them `access` it
    /// (`None` for a superadmin who is not a member, and for an API key).
    /// Errors: `NotFound("organization")` for strangers and unknown
    /// organizations, `Forbidden`, `Unavailable`.
    pub(super) async fn authorized(
        &self,
        principal: &Principal,
        org: Uuid,
        access: Access,
    ) -> Result<Option<Membership>, Error> {
        let membership = match principal.user_id() {
            Some(me) => self.members.membership(org, me).await?,
            None => None,
        };
        authorize(principal, org, membership.as_ref(), access)?;
        if principal.is_superadmin && self.orgs.get_org(org).await?.is_none() {
            return Err(Error::NotFound("organization"));
        }
        Ok(membership)
    }
}
