//! The use cases. Services hold `Arc<dyn Port>`s and the policy; the binary
//! builds them with the real adapters, unit tests with mocks.

mod accounts;
mod api_keys;
mod auth;
mod invitations;
mod mail;
mod members;
mod org_invitations;
mod orgs;
mod outbox;
mod users;

pub use accounts::{AcceptInvitationInput, AccountService, ChangeEmailInput, ResetPasswordInput};
pub use api_keys::ApiKeyService;
pub use auth::{AuthService, ClientMeta, Credentials, RegisterInput, Registered, SignedIn};
pub use invitations::{InvitationService, InviteInput};
pub use members::MemberService;
pub use org_invitations::{AcceptOrgInvitationInput, OrgAccepted, OrgInvitationService};
pub use orgs::OrgService;
pub use outbox::{DispatchReport, OutboxService};
pub use users::{UserList, UserService};

use std::sync::Arc;

use crate::{
    auth::{AuthPolicy, Principal},
    ports::{
        AccountRepository, ApiKeyRepository, Clock, MailComposer, Mailer, OrgInvitationRepository, OrgRepository,
        OutboxRepository, PasswordHasher, RateLimitStore, Sealer, SessionRepository, TokenSigner, UserRepository,
    },
    Error, ValidationErrors,
};

/// Every port the services need, built once by the binary.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub accounts: Arc<dyn AccountRepository>,
    pub orgs: Arc<dyn OrgRepository>,
    pub api_keys: Arc<dyn ApiKeyRepository>,
    pub org_invitations: Arc<dyn OrgInvitationRepository>,
    pub outbox: Arc<dyn OutboxRepository>,
    pub rate_limits: Arc<dyn RateLimitStore>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub signer: Arc<dyn TokenSigner>,
    pub composer: Arc<dyn MailComposer>,
    pub sealer: Arc<dyn Sealer>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

/// The services of one running Roster.
#[derive(Clone)]
pub struct Services {
    pub auth: AuthService,
    pub users: UserService,
    pub accounts: AccountService,
    pub invitations: InvitationService,
    pub outbox: OutboxService,
    pub orgs: OrgService,
    pub members: MemberService,
    pub api_keys: ApiKeyService,
    pub org_invitations: OrgInvitationService,
}

impl Services {
    pub fn new(ports: Ports, policy: AuthPolicy, refresh_secret: crate::auth::RefreshSecret) -> Services {
        let retry = policy.outbox;
        let policy = Arc::new(policy);
        let cursors = crate::user::CursorCodec::new(refresh_secret.derive("directory cursors"));
        let auth = AuthService::new(ports.clone(), policy.clone(), refresh_secret);
        let invitations = InvitationService::new(ports.clone(), policy.clone());
        let users = UserService::new(ports.clone(), policy.clone(), cursors, invitations.clone());
        Services {
            accounts: AccountService::new(ports.clone(), policy.clone(), auth.clone()),
            members: MemberService::new(ports.clone(), users.clone()),
            orgs: OrgService::new(ports.clone()),
            api_keys: ApiKeyService::new(ports.clone()),
            org_invitations: OrgInvitationService::new(ports.clone(), policy.clone(), auth.clone()),
            outbox: OutboxService::new(ports, retry),
            users,
            invitations,
            auth,
        }
    }
}

/// `Forbidden` unless the caller holds `permission` for the platform's user
/// administration: in the default organization (a session switched to
/// another organization carries that organization's permissions, which say
/// nothing about the platform's users), or as a superadmin.
fn require(principal: &Principal, permission: &'static str) -> Result<(), Error> {
    if !principal.is_superadmin && !principal.in_default_org() {
        return Err(Error::Forbidden("user administration happens in the default organization; switch to it"));
    }
    if principal.has(permission) {
        Ok(())
    } else {
        Err(Error::Forbidden(permission))
    }
}

/// `result`'s errors added to those already found; `Validation` unless both are clean.
pub(super) fn merge_errors<T>(mut refused: ValidationErrors, result: Result<T, ValidationErrors>) -> Result<T, Error> {
    match result {
        Ok(v) if refused.is_empty() => Ok(v),
        Ok(_) => Err(Error::Validation(refused)),
        Err(e) => {
            refused.absorb(e);
            Err(Error::Validation(refused))
        }
    }
}

fn hash_error(e: crate::ports::HashError) -> crate::Error {
    match e {
        crate::ports::HashError::Unavailable(m) => crate::Error::Unavailable(m),
        crate::ports::HashError::Internal(m) => crate::Error::Internal(m),
    }
}

#[cfg(test)]
mod test_support;
