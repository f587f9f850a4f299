//! The use cases. Services hold `Arc<dyn Port>`s and the policy; the binary
//! builds them with the real adapters, unit tests with mocks.

mod auth;
mod users;

pub use auth::{AuthService, ClientMeta, Credentials, RegisterInput, SignedIn};
pub use users::{UserList, UserService};

use std::sync::Arc;

use crate::{
    auth::AuthPolicy,
    ports::{Clock, PasswordHasher, SessionRepository, TokenSigner, UserRepository},
};

/// Every port the services need, built once by the binary.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub signer: Arc<dyn TokenSigner>,
    pub clock: Arc<dyn Clock>,
}

/// The services of one running Roster.
#[derive(Clone)]
pub struct Services {
    pub auth: AuthService,
    pub users: UserService,
}

impl Services {
    pub fn new(ports: Ports, policy: AuthPolicy, refresh_secret: crate::auth::RefreshSecret) -> Services {
        let policy = Arc::new(policy);
        let cursors = crate::user::CursorCodec::new(refresh_secret.derive("directory cursors"));
        Services {
            auth: AuthService::new(ports.clone(), policy.clone(), refresh_secret),
            users: UserService::new(ports, policy, cursors),
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
