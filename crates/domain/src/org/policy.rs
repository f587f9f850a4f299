//! The one authorization policy of organization-scoped use cases.

use uuid::Uuid;

use crate::{
    auth::{Permission, Principal, Refusal},
    error::Error,
};

use super::Membership;

/// What a use case asks of the caller in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading the organization, its roles, permissions and locations:
    /// any member.
    Read,
    /// Anything else: a member holding this permission.
    Permission(Permission),
    /// Platform administration (creating and deleting organizations).
    Superadmin,
}

/// Decides whether `principal` may do `access` in organization `org_id`,
/// given their membership there (`None` if they have none):
///
/// - a superadmin may do everything, everywhere;
/// - an API key acts in its own organization only, with its own permissions;
/// - for anyone else an organization they do not belong to does not exist:
///   `NotFound("organization")`, whatever they asked — so nobody learns the
///   ids of other tenants' organizations, roles or locations;
/// - members may read; anything else takes the permission (`Forbidden`).
pub fn authorize(
    principal: &Principal,
    org_id: Uuid,
    membership: Option<&Membership>,
    access: Access,
) -> Result<(), Error> {
    if principal.is_superadmin {
        return Ok(());
    }
    let holds = |p: &str| match principal.user_id() {
        Some(me) => membership.filter(|m| m.org_id == org_id && m.user_id == me).map(|m| m.has(p)),
        None => (principal.org_id == org_id).then(|| principal.has(p)),
    };
    // Reading takes no permission, only belonging: the empty name is held by nobody.
    let Some(held) = holds(match access {
        Access::Permission(p) => p.as_str(),
        Access::Read | Access::Superadmin => "",
    }) else {
        return Err(Error::NotFound("organization"));
    };
    match access {
        Access::Read => Ok(()),
        Access::Permission(_) if held => Ok(()),
        Access::Permission(p) => Err(Error::Forbidden(Refusal::MissingPermission(p))),
        Access::Superadmin => Err(Error::Forbidden(Refusal::SuperadminOnly)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::SessionSubject;

    fn principal(superadmin: bool) -> Principal {
        let mut user = crate::user::User {
            id: Uuid::now_v7(),
            email: "a@example.com".into(),
            email_verified: true,
            name: None,
            given_name: None,
            family_name: None,
            phone: None,
            locale: None,
            timezone: None,
            status: crate::user::UserStatus::Active,
            profile: Default::default(),
            attributes: Default::default(),
            role: None,
            is_superadmin: superadmin,
            mfa_enabled: false,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            last_login_at: None,
            managed_by: Some(crate::DEFAULT_ORG_ID),
            avatar: None,
            membership: None,
        };
        user.is_superadmin = superadmin;
        Principal::new(Uuid::now_v7(), SessionSubject::in_default_org(user, vec![]))
    }

    #[test]
    fn strangers_see_nothing_members_read_permissions_write() {
        let org = Uuid::now_v7();
        let p = principal(false);
        let member =
            Membership { org_id: org, user_id: p.user_id().unwrap(), role: "member".into(), permissions: vec![] };
        let admin = Membership { permissions: vec!["roles:manage".into()], ..member.clone() };
        let elsewhere = Membership { org_id: Uuid::now_v7(), ..admin.clone() };
        let manage = Access::Permission(Permission::RolesManage);
        assert!(matches!(authorize(&p, org, None, Access::Read), Err(Error::NotFound(_))));
        assert!(matches!(authorize(&p, org, Some(&elsewhere), manage), Err(Error::NotFound(_))));
        assert!(authorize(&p, org, Some(&member), Access::Read).is_ok());
        assert!(matches!(authorize(&p, org, Some(&member), manage), Err(Error::Forbidden(_))));
        assert!(authorize(&p, org, Some(&admin), manage).is_ok());
        assert!(matches!(authorize(&p, org, Some(&admin), Access::Superadmin), Err(Error::Forbidden(_))));
        assert!(authorize(&principal(true), org, None, Access::Superadmin).is_ok());
    }

    #[test]
    fn keys_act_in_their_own_organization_with_their_own_permissions() {
        let org = Uuid::now_v7();
        let key = crate::org::ApiKey {
            id: Uuid::now_v7(),
            org_id: org,
            name: "svc".into(),
            prefix: "rsk_abcdefgh".into(),
            permissions: vec!["users:write".into()],
            created_by: None,
            created_at: chrono::Utc::now(),
            last_used_at: None,
            expires_at: None,
        };
        let p = key.principal();
        // A membership handed in for a key is ignored: keys are not members.
        let m = Membership { org_id: org, user_id: key.id, role: "owner".into(), permissions: vec![] };
        assert!(authorize(&p, org, None, Access::Read).is_ok());
        assert!(authorize(&p, org, Some(&m), Access::Permission(Permission::UsersWrite)).is_ok());
        assert!(matches!(
            authorize(&p, org, None, Access::Permission(Permission::RolesManage)),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(authorize(&p, org, None, Access::Superadmin), Err(Error::Forbidden(_))));
        let other = Uuid::now_v7();
        assert!(matches!(authorize(&p, other, None, Access::Read), Err(Error::NotFound(_))));
    }
}
