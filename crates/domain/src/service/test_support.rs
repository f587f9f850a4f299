//! Fixtures shared by the service unit tests.

use std::sync::Arc;

use chrono::{DateTime, TimeZone as _, Utc};
use uuid::Uuid;

use crate::{
    auth::{perms, AuthPolicy, Principal, RefreshSecret, SessionSubject},
    ports::{MockClock, MockPasswordHasher, MockSessionRepository, MockTokenSigner, MockUserRepository},
    user::{Profile, User, UserStatus},
};

use super::{Ports, Services};

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
        created_at: now(),
        updated_at: now(),
        last_login_at: None,
    }
}

pub fn admin_perms() -> Vec<String> {
    [perms::USERS_READ, perms::USERS_WRITE, perms::USERS_DELETE, perms::USERS_MANAGE_STATUS].map(String::from).to_vec()
}

pub fn principal(user: User, permissions: Vec<String>) -> Principal {
    Principal::new(Uuid::now_v7(), SessionSubject { user, permissions })
}

/// Mocks with a fixed clock; the test sets expectations on the others.
pub struct Mocks {
    pub users: MockUserRepository,
    pub sessions: MockSessionRepository,
    pub hasher: MockPasswordHasher,
    pub signer: MockTokenSigner,
}

impl Mocks {
    pub fn new() -> Mocks {
        let mut signer = MockTokenSigner::new();
        signer.expect_sign().returning(|c| Ok(format!("token-for-{}", c.sub)));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_dummy_hash().returning(|| "$dummy".to_string());
        Mocks { users: MockUserRepository::new(), sessions: MockSessionRepository::new(), hasher, signer }
    }

    pub fn services(self, policy: AuthPolicy) -> Services {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let ports = Ports {
            users: Arc::new(self.users),
            sessions: Arc::new(self.sessions),
            hasher: Arc::new(self.hasher),
            signer: Arc::new(self.signer),
            clock: Arc::new(clock),
        };
        Services::new(ports, policy, RefreshSecret::new([7; 32]))
    }
}
