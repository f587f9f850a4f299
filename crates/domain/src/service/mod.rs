//! The use cases. Each service names in its constructor only the ports it
//! calls (its `…Ports` struct, defined beside it), so its reach shows in its
//! signature and a unit test mocks only what it uses. The parts several
//! services share sit below them, each with its own few ports:
//!
//! - [`Letters`] renders and seals letters for the outbox (composer, sealer);
//! - [`Throttle`] counts requests against rate limits (rate-limit store);
//! - [`OrgGate`] loads the caller's membership and asks
//!   [`authorize`](crate::org::authorize) (organizations, members);
//! - [`SessionIssuer`] opens sessions and signs access tokens (sessions,
//!   signer, clock);
//! - [`Directory`] pages and counts users (users, cursor codec);
//! - [`Lockout`], [`SecondFactor`] and [`Notices`] guard sign-in: the
//!   lockout counters, one-time and recovery codes, security notices;
//! - [`PasswordRules`] says which password policy an account's password
//!   follows (organizations);
//! - `grants` holds the rules about handing out roles and permissions.
//!
//! [`Services::new`] is the one place that hands the adapters in [`Ports`] to
//! the services; the binary builds `Ports`, unit tests build it from mocks.

mod accounts;
mod allowed_ips;
mod api_keys;
mod auth;
mod directory;
mod gate;
mod grants;
mod guard;
mod images;
mod invitations;
mod issuer;
mod locations;
mod mail;
mod members;
mod mfa;
mod org_invitations;
mod orgs;
mod outbox;
mod passwords;
mod policy;
mod push_tokens;
mod roles;
mod security;
mod sessions;
mod settings;
mod throttle;
mod users;

pub use accounts::{AcceptInvitationInput, AccountPorts, AccountService, ChangeEmailInput, ResetPasswordInput};
pub use allowed_ips::{BulkReport, IpAllowlistPorts, IpAllowlistService, RefusedTarget};
pub use api_keys::{ApiKeyPorts, ApiKeyService};
pub use auth::{
    AuthPorts, AuthService, Credentials, LoginOutcome, MfaVerifyInput, RegisterInput, Registered, MFA_METHODS,
};
pub use directory::{Directory, UserList};
pub use gate::OrgGate;
pub use guard::{Lockout, Notices, SecondFactor};
pub use images::{etag_matches, DeletionReport, ImageBytes, ImagePorts, ImageService, Served};
pub use invitations::{InvitationPorts, InvitationService, InviteInput};
pub use issuer::{ClientMeta, SessionIssuer, SignedIn};
pub use locations::{LocationPorts, LocationService};
pub use mail::Letters;
pub use members::{MemberPorts, MemberService};
pub use mfa::{Enrolment, MfaPorts, MfaService, TurnOffInput};
pub use org_invitations::{AcceptOrgInvitationInput, OrgAccepted, OrgInvitationPorts, OrgInvitationService};
pub use orgs::{OrgPorts, OrgService};
pub use outbox::{DispatchReport, OutboxPorts, OutboxService};
pub use passwords::PasswordRules;
pub use policy::{AuthPolicy, LoginLimit, MfaPolicy};
pub use push_tokens::{PushTokenPorts, PushTokenService, RegisteredToken};
pub use roles::{RolePorts, RoleService};
pub use security::{SecurityPorts, SecurityService, SecurityView};
pub use sessions::{SessionPorts, SessionService, REVOKED_BY_ADMIN, REVOKED_BY_USER};
pub use settings::{SettingsPorts, SettingsService};
pub use throttle::Throttle;
pub use users::{UserPorts, UserService};

use std::sync::Arc;

use crate::{
    auth::{MfaHasher, Permission, Principal, RefreshSecret, Refusal},
    ports::{
        AccountRepository, AllowedIpRepository, ApiKeyRepository, BlobStore, Clock, ImageProcessor, ImageRepository,
        LocationRepository, LockoutStore, MailComposer, Mailer, MemberRepository, MfaRepository,
        OrgInvitationRepository, OrganizationRepository, OutboxRepository, PasswordHasher, PushTokenRepository,
        RateLimitStore, RoleRepository, Sealer, SessionRepository, SettingsRepository, TokenSigner, UserRepository,
    },
    user::CursorCodec,
    Error, ValidationErrors,
};

/// Every adapter, built once by the binary and handed out by [`Services::new`].
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub accounts: Arc<dyn AccountRepository>,
    pub orgs: Arc<dyn OrganizationRepository>,
    pub roles: Arc<dyn RoleRepository>,
    pub locations: Arc<dyn LocationRepository>,
    pub members: Arc<dyn MemberRepository>,
    pub api_keys: Arc<dyn ApiKeyRepository>,
    pub org_invitations: Arc<dyn OrgInvitationRepository>,
    pub settings: Arc<dyn SettingsRepository>,
    pub push_tokens: Arc<dyn PushTokenRepository>,
    /// Users' IP allowlists and whether they are enforced.
    pub allowed_ips: Arc<dyn AllowedIpRepository>,
    pub outbox: Arc<dyn OutboxRepository>,
    pub rate_limits: Arc<dyn RateLimitStore>,
    /// Failed sign-ins per address.
    pub lockout: Arc<dyn LockoutStore>,
    /// Authenticators, recovery codes, login challenges.
    pub mfa: Arc<dyn MfaRepository>,
    /// Seals TOTP secrets, under a key of its own.
    pub mfa_sealer: Arc<dyn Sealer>,
    /// The records of users' pictures and the queue of objects to delete.
    pub images: Arc<dyn ImageRepository>,
    /// Where pictures' bytes live.
    pub blobs: Arc<dyn BlobStore>,
    pub processor: Arc<dyn ImageProcessor>,
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
    pub roles: RoleService,
    pub locations: LocationService,
    pub members: MemberService,
    pub api_keys: ApiKeyService,
    pub org_invitations: OrgInvitationService,
    pub images: ImageService,
    pub settings: SettingsService,
    pub push_tokens: PushTokenService,
    pub mfa: MfaService,
    pub security: SecurityService,
    pub sessions: SessionService,
    pub allowed_ips: IpAllowlistService,
}

impl Services {
    /// Hands each service the ports it calls.
    pub fn new(ports: Ports, policy: AuthPolicy, refresh_secret: RefreshSecret) -> Services {
        let retry = policy.outbox;
        let policy = Arc::new(policy);
        let Ports {
            users,
            sessions,
            accounts,
            orgs,
            roles,
            locations,
            members,
            api_keys,
            org_invitations,
            settings,
            push_tokens,
            allowed_ips,
            outbox,
            rate_limits,
            lockout,
            mfa,
            mfa_sealer,
            images,
            blobs,
            processor,
            hasher,
            signer,
            composer,
            sealer,
            mailer,
            clock,
        } = ports;
        let letters = Letters::new(composer, sealer.clone());
        let throttle = Throttle::new(rate_limits.clone());
        let gate = OrgGate::new(orgs.clone(), members.clone());
        let passwords = PasswordRules::new(orgs.clone(), policy.password.clone());
        let issuer =
            SessionIssuer::new(sessions.clone(), members.clone(), signer.clone(), clock.clone(), policy.clone());
        let cursors = CursorCodec::new(refresh_secret.derive("directory cursors"));
        let lockout_store = lockout;
        let lockout = Lockout::new(lockout_store.clone(), policy.lockout, clock.clone());
        let second = SecondFactor::new(
            mfa.clone(),
            mfa_sealer,
            MfaHasher::new(refresh_secret.derive("mfa codes")),
            clock.clone(),
        );
        let notices = Notices::new(letters.clone(), accounts.clone(), clock.clone());
        let directory = Directory::new(users.clone(), cursors);
        let images = ImageService::new(ImagePorts { images, blobs, processor, clock: clock.clone() });
        let invitations = InvitationService::new(
            InvitationPorts {
                accounts: accounts.clone(),
                roles: roles.clone(),
                letters: letters.clone(),
                throttle: throttle.clone(),
                clock: clock.clone(),
            },
            policy.clone(),
        );
        let user_service = UserService::new(
            UserPorts {
                users: users.clone(),
                accounts: accounts.clone(),
                roles: roles.clone(),
                locations: locations.clone(),
                members: members.clone(),
                hasher: hasher.clone(),
                passwords: passwords.clone(),
                letters: letters.clone(),
                throttle: throttle.clone(),
                directory: directory.clone(),
                invitations: invitations.clone(),
                images: images.clone(),
                clock: clock.clone(),
            },
            policy.clone(),
        );
        Services {
            settings: SettingsService::new(SettingsPorts {
                settings,
                users: user_service.clone(),
                clock: clock.clone(),
            }),
            push_tokens: PushTokenService::new(PushTokenPorts { push_tokens, clock: clock.clone() }),
            allowed_ips: IpAllowlistService::new(IpAllowlistPorts {
                allowed_ips: allowed_ips.clone(),
                users: user_service.clone(),
                clock: clock.clone(),
            }),
            security: SecurityService::new(SecurityPorts {
                users: users.clone(),
                allowed_ips: allowed_ips.clone(),
                mfa: mfa.clone(),
                lockout: lockout.clone(),
                accounts: user_service.clone(),
                clock: clock.clone(),
            }),
            mfa: MfaService::new(
                MfaPorts {
                    users: users.clone(),
                    hasher: hasher.clone(),
                    mfa: mfa.clone(),
                    second: second.clone(),
                    lockout: lockout.clone(),
                    notices: notices.clone(),
                    accounts: user_service.clone(),
                    clock: clock.clone(),
                },
                policy.mfa.clone(),
            ),
            sessions: SessionService::new(SessionPorts {
                sessions: sessions.clone(),
                users: user_service.clone(),
                clock: clock.clone(),
            }),
            users: user_service,
            auth: AuthService::new(
                AuthPorts {
                    users: users.clone(),
                    api_keys: api_keys.clone(),
                    sessions,
                    hasher: hasher.clone(),
                    passwords: passwords.clone(),
                    signer,
                    letters: letters.clone(),
                    issuer: issuer.clone(),
                    lockout,
                    throttle: throttle.clone(),
                    mfa: mfa.clone(),
                    second,
                    notices,
                    allowed_ips: allowed_ips.clone(),
                    clock: clock.clone(),
                },
                policy.clone(),
                refresh_secret,
            ),
            accounts: AccountService::new(
                AccountPorts {
                    users: users.clone(),
                    accounts,
                    hasher: hasher.clone(),
                    passwords: passwords.clone(),
                    letters: letters.clone(),
                    throttle: throttle.clone(),
                    issuer: issuer.clone(),
                    clock: clock.clone(),
                },
                policy.clone(),
            ),
            outbox: OutboxService::new(
                OutboxPorts {
                    outbox,
                    rate_limits,
                    lockout: lockout_store,
                    mfa: mfa.clone(),
                    sealer,
                    mailer,
                    clock: clock.clone(),
                },
                retry,
            ),
            orgs: OrgService::new(OrgPorts {
                gate: gate.clone(),
                orgs: orgs.clone(),
                users: users.clone(),
                passwords: passwords.clone(),
                clock: clock.clone(),
            }),
            roles: RoleService::new(RolePorts { gate: gate.clone(), roles: roles.clone(), clock: clock.clone() }),
            locations: LocationService::new(LocationPorts {
                gate: gate.clone(),
                locations: locations.clone(),
                clock: clock.clone(),
            }),
            members: MemberService::new(MemberPorts {
                gate: gate.clone(),
                members,
                roles: roles.clone(),
                locations: locations.clone(),
                users: users.clone(),
                directory,
                clock: clock.clone(),
            }),
            api_keys: ApiKeyService::new(ApiKeyPorts {
                gate: gate.clone(),
                roles: roles.clone(),
                api_keys,
                clock: clock.clone(),
            }),
            org_invitations: OrgInvitationService::new(
                OrgInvitationPorts {
                    gate,
                    orgs,
                    roles,
                    locations,
                    users,
                    org_invitations,
                    hasher,
                    passwords,
                    letters,
                    throttle,
                    issuer,
                    clock,
                },
                policy,
            ),
            invitations,
            images,
        }
    }
}

/// Refused unless the caller holds `permission` for the platform's user
/// administration: in the default organization (a session switched to
/// another organization carries that organization's permissions, which say
/// nothing about the platform's users), or as a superadmin.
fn require(principal: &Principal, permission: Permission) -> Result<(), Error> {
    if !principal.is_superadmin && !principal.in_default_org() {
        return Err(Error::Forbidden(Refusal::DefaultOrgSessionRequired));
    }
    if principal.holds(permission) {
        Ok(())
    } else {
        Err(Error::Forbidden(Refusal::MissingPermission(permission)))
    }
}

/// `result`'s errors added to those already found; `Validation` unless both are clean.
fn merge_errors<T>(mut refused: ValidationErrors, result: Result<T, ValidationErrors>) -> Result<T, Error> {
    match result {
        Ok(v) if refused.is_empty() => Ok(v),
        Ok(_) => Err(Error::Validation(refused)),
        Err(e) => {
            refused.absorb(e);
            Err(Error::Validation(refused))
        }
    }
}

fn hash_error(e: crate::ports::HashError) -> Error {
    match e {
        crate::ports::HashError::Unavailable(m) => Error::Unavailable(m),
        crate::ports::HashError::Internal(m) => Error::Internal(m),
    }
}

#[cfg(test)]
mod test_support;
