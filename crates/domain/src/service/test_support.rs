//! Fixtures shared by the service unit tests.

use std::sync::Arc;

use chrono::{DateTime, TimeZone as _, Utc};
use uuid::Uuid;

use crate::{
    auth::{Principal, RefreshSecret, SessionSubject},
    mail::{Letter, LetterBody, OutgoingMail},
    org::Membership,
    ports::{
        MockAccountRepository, MockAllowedIpRepository, MockApiKeyRepository, MockBlobStore, MockClock,
        MockImageProcessor, MockImageRepository, MockLocationRepository, MockLockoutStore, MockMailComposer,
        MockMailer, MockMemberRepository, MockMfaRepository, MockOrgInvitationRepository, MockOrganizationRepository,
        MockOutboxRepository, MockPasswordHasher, MockPushTokenRepository, MockRateLimitStore, MockRoleRepository,
        MockSealer, MockSessionRepository, MockSettingsRepository, MockTokenSigner, MockUserRepository,
    },
    user::{Profile, User, UserStatus},
};

use super::{Ports, Services};

pub use super::AuthPolicy;
pub use crate::auth::{Permission, Refusal};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

pub fn user(email: &str, role: &str) -> User {
    User {
        id: Uuid::now_v7(),
        email: email.into(),
        email_verified: false,
        name: None,
        given_name: None,
        family_name: None,
        phone: None,
        locale: None,
        timezone: None,
        status: UserStatus::Active,
        profile: Profile::default(),
        attributes: Default::default(),
        role: Some(role.into()),
        is_superadmin: false,
        mfa_enabled: false,
        created_at: now(),
        updated_at: now(),
        last_login_at: None,
        managed_by: Some(crate::DEFAULT_ORG_ID),
        avatar: None,
        membership: None,
    }
}

/// A client with an address, as the rate limits see it.
pub fn meta() -> super::ClientMeta {
    super::ClientMeta { user_agent: None, ip: Some("192.0.2.7".into()) }
}

pub fn admin_perms() -> Vec<String> {
    [Permission::UsersRead, Permission::UsersWrite, Permission::UsersDelete, Permission::UsersManageStatus]
        .map(|p| p.as_str().to_string())
        .to_vec()
}

pub fn principal(user: User, permissions: Vec<String>) -> Principal {
    Principal::new(Uuid::now_v7(), SessionSubject::in_default_org(user, permissions))
}

/// The token a letter carries, if any.
pub fn token_of(letter: &Letter) -> Option<&str> {
    match &letter.body {
        LetterBody::VerifyEmail { token, .. }
        | LetterBody::ConfirmEmailChange { token, .. }
        | LetterBody::PasswordReset { token, .. }
        | LetterBody::Invitation { token, .. }
        | LetterBody::OrgInvitation { token, .. } => Some(token.expose()),
        LetterBody::EmailChangeNotice { .. }
        | LetterBody::EmailInUse
        | LetterBody::PasswordChanged { .. }
        | LetterBody::MfaEnabled
        | LetterBody::MfaDisabled { .. }
        | LetterBody::RecoveryCodeUsed { .. }
        | LetterBody::MfaCodeReused
        | LetterBody::AccountLocked { .. }
        | LetterBody::LoginBlocked { .. } => None,
    }
}

/// What the fake composer writes: the template, then the token if any, as
/// the subject, so tests can read both back out of a sealed message.
pub fn composed(letter: &Letter) -> OutgoingMail {
    OutgoingMail {
        message_id: format!("<{}@test>", letter.id),
        to: letter.to.clone(),
        to_name: letter.to_name.clone(),
        subject: format!("{} {}", letter.body.template().as_str(), token_of(letter).unwrap_or("-")),
        text: "text".into(),
        html: "<p>html</p>".into(),
    }
}

/// The subject of a queued (sealed by the identity sealer) message.
pub fn subject_of(mail: &crate::mail::QueuedMail) -> String {
    serde_json::from_slice::<crate::mail::SealedMail>(&mail.sealed).unwrap().subject
}

/// A clock stopped at [`now`].
pub fn clock() -> Arc<dyn crate::ports::Clock> {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    Arc::new(clock)
}

/// Mocks with a fixed clock, a fake composer and an identity sealer; the
/// test sets expectations on the others.
pub struct Mocks {
    pub users: MockUserRepository,
    pub sessions: MockSessionRepository,
    pub accounts: MockAccountRepository,
    pub orgs: MockOrganizationRepository,
    pub roles: MockRoleRepository,
    pub locations: MockLocationRepository,
    pub members: MockMemberRepository,
    pub api_keys: MockApiKeyRepository,
    pub org_invitations: MockOrgInvitationRepository,
    pub settings: MockSettingsRepository,
    pub push_tokens: MockPushTokenRepository,
    pub allowed_ips: MockAllowedIpRepository,
    pub outbox: MockOutboxRepository,
    pub rate_limits: MockRateLimitStore,
    pub hasher: MockPasswordHasher,
    pub signer: MockTokenSigner,
    pub mailer: MockMailer,
    pub sealer: MockSealer,
    pub images: MockImageRepository,
    pub blobs: MockBlobStore,
    pub processor: MockImageProcessor,
    pub lockout: MockLockoutStore,
    /// Whether `services` lets every sign-in through the lockout (claims
    /// granted, failures counted without a lock); off for tests that set
    /// their own lockout expectations.
    pub lockout_defaults: bool,
    /// Whether `services` answers a sign-in's IP policy with "no such
    /// user" (nothing blocked); off for tests that set their own.
    pub ip_policy_defaults: bool,
    pub mfa: MockMfaRepository,
}

impl Mocks {
    pub fn new() -> Mocks {
        let mut signer = MockTokenSigner::new();
        signer.expect_sign().returning(|c| Ok(format!("token-for-{}", c.sub)));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_dummy_hash().returning(|| "$dummy".to_string());
        let mut sealer = MockSealer::new();
        sealer.expect_seal().returning(|b| Ok(b.to_vec()));
        sealer.expect_open().returning(|b| Ok(b.to_vec()));
        Mocks {
            users: MockUserRepository::new(),
            sessions: MockSessionRepository::new(),
            accounts: MockAccountRepository::new(),
            orgs: MockOrganizationRepository::new(),
            roles: MockRoleRepository::new(),
            locations: MockLocationRepository::new(),
            members: MockMemberRepository::new(),
            api_keys: MockApiKeyRepository::new(),
            org_invitations: MockOrgInvitationRepository::new(),
            settings: MockSettingsRepository::new(),
            push_tokens: MockPushTokenRepository::new(),
            allowed_ips: MockAllowedIpRepository::new(),
            outbox: MockOutboxRepository::new(),
            rate_limits: MockRateLimitStore::new(),
            hasher,
            signer,
            mailer: MockMailer::new(),
            sealer,
            images: MockImageRepository::new(),
            blobs: MockBlobStore::new(),
            processor: MockImageProcessor::new(),
            lockout: MockLockoutStore::new(),
            lockout_defaults: true,
            ip_policy_defaults: true,
            mfa: MockMfaRepository::new(),
        }
    }

    /// The default organization's built-in roles: `admin` with
    /// [`admin_perms`], `member` with none, `owner` with both.
    pub fn default_roles(mut self) -> Mocks {
        self.roles.expect_role_by_name().returning(|org, name| {
            let permissions = match name {
                "member" => vec![],
                _ => admin_perms(),
            };
            Ok(Some(crate::org::Role {
                id: Uuid::now_v7(),
                org_id: org,
                name: name.into(),
                title: None,
                description: None,
                permissions,
                builtin: true,
                requires_location: false,
                created_at: now(),
            }))
        });
        self
    }

    /// A client whose failed sign-ins are counted and never over the limit.
    pub fn unlimited_failures(&mut self) {
        self.rate_limits.expect_count().returning(|_, _| Ok(0));
        self.rate_limits.expect_hit().returning(|_, _| Ok(1));
    }

    /// Rate limits that never trip.
    pub fn unlimited(mut self) -> Mocks {
        self.rate_limits.expect_hit().returning(|_, _| Ok(1));
        self
    }

    pub fn services(mut self, policy: AuthPolicy) -> Services {
        if self.lockout_defaults {
            self.lockout.expect_claim().returning(|_, _, _| Ok(crate::auth::Claim::Granted));
            self.lockout.expect_fail().returning(|_, _, _| Ok(None));
            self.lockout.expect_release().returning(|_, _| Ok(()));
            self.lockout.expect_clear().returning(|_| Ok(false));
        }
        if self.ip_policy_defaults {
            self.allowed_ips.expect_ip_policy().returning(|_| Ok(None));
        }
        let mut mfa_sealer = MockSealer::new();
        mfa_sealer.expect_seal().returning(|b| Ok(b.to_vec()));
        mfa_sealer.expect_open().returning(|b| Ok(b.to_vec()));
        let mut composer = MockMailComposer::new();
        composer.expect_compose().returning(|l| Ok(composed(l)));
        let ports = Ports {
            users: Arc::new(self.users),
            sessions: Arc::new(self.sessions),
            accounts: Arc::new(self.accounts),
            orgs: Arc::new(self.orgs),
            roles: Arc::new(self.roles),
            locations: Arc::new(self.locations),
            members: Arc::new(self.members),
            api_keys: Arc::new(self.api_keys),
            org_invitations: Arc::new(self.org_invitations),
            settings: Arc::new(self.settings),
            push_tokens: Arc::new(self.push_tokens),
            allowed_ips: Arc::new(self.allowed_ips),
            outbox: Arc::new(self.outbox),
            rate_limits: Arc::new(self.rate_limits),
            lockout: Arc::new(self.lockout),
            mfa: Arc::new(self.mfa),
            mfa_sealer: Arc::new(mfa_sealer),
            images: Arc::new(self.images),
            blobs: Arc::new(self.blobs),
            processor: Arc::new(self.processor),
            hasher: Arc::new(self.hasher),
            signer: Arc::new(self.signer),
            composer: Arc::new(composer),
            sealer: Arc::new(self.sealer),
            mailer: Arc::new(self.mailer),
            clock: clock(),
        };
        Services::new(ports, policy, RefreshSecret::new([7; 32]))
    }
}

pub fn membership(org: Uuid, user: Uuid, role: &str, permissions: &[&str]) -> Membership {
    Membership {
        org_id: org,
        user_id: user,
        role: role.into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    }
}

/// A caller who is `role` in `org` with `permissions`, and the mocks to go with them.
pub fn caller(org: Uuid, role: &str, permissions: &'static [&'static str]) -> (Mocks, crate::auth::Principal) {
    caller_with(org, role, permissions, vec![])
}

/// The same, holding `platform` permissions in the default organization.
pub fn caller_with(
    org: Uuid,
    role: &str,
    permissions: &'static [&'static str],
    platform: Vec<String>,
) -> (Mocks, crate::auth::Principal) {
    let p = principal(user("actor@example.com", "member"), platform);
    let mut m = Mocks::new();
    let (uid, role) = (p.user_id().unwrap(), role.to_string());
    m.members
        .expect_membership()
        .returning(move |o, u| Ok((o == org && u == uid).then(|| membership(org, uid, &role, permissions))));
    m.roles.expect_list_permissions().returning(|_| Ok(vec![]));
    (m, p)
}
