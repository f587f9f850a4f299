//! Opening sessions and signing their access tokens: the last step of login,
//! registration, accepting an invitation and refreshing.

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{AccessClaims, RefreshToken, SessionSubject},
    error::Error,
    ports::{Clock, NewSession, SessionRepository, TokenSigner},
    user::User,
};

use super::AuthPolicy;

/// Where a request came from, recorded on the session and counted by rate
/// limits.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// The outcome of register, login, refresh and accepting an invitation.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: RefreshToken,
}

/// Opens sessions and signs access tokens.
#[derive(Clone)]
pub struct SessionIssuer {
    sessions: Arc<dyn SessionRepository>,
    signer: Arc<dyn TokenSigner>,
    clock: Arc<dyn Clock>,
    policy: Arc<AuthPolicy>,
}

impl SessionIssuer {
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        signer: Arc<dyn TokenSigner>,
        clock: Arc<dyn Clock>,
        policy: Arc<AuthPolicy>,
    ) -> SessionIssuer {
        SessionIssuer { sessions, signer, clock, policy }
    }

    /// Opens a session for `subject` with its first refresh token and signs
    /// an access token for it.
    pub(super) async fn open(&self, mut subject: SessionSubject, meta: ClientMeta) -> Result<SignedIn, Error> {
        let now = self.clock.now();
        let session_id = Uuid::now_v7();
        let refresh = RefreshToken::generate();
        let expires_at = now + self.policy.session_ttl;
        self.sessions
            .create(&NewSession {
                id: session_id,
                user_id: subject.user.id,
                org_id: subject.org_id,
                refresh_hash: refresh.hash(),
                refresh_expires_at: (now + self.policy.refresh_ttl).min(expires_at),
                expires_at,
                user_agent: meta.user_agent.map(|s| s.chars().take(512).collect()),
                ip: meta.ip,
                now,
            })
            .await?;
        subject.user.last_login_at = Some(now);
        self.signed_in(session_id, subject, refresh)
    }

    /// An access token for the session `session_id` of `subject`, handed out
    /// with `refresh_token`.
    pub(super) fn signed_in(
        &self,
        session_id: Uuid,
        subject: SessionSubject,
        refresh_token: RefreshToken,
    ) -> Result<SignedIn, Error> {
        let now = self.clock.now();
        let exp = now + self.policy.access_ttl;
        let claims = AccessClaims {
            sub: subject.user.id,
            sid: session_id,
            iss: self.policy.issuer.clone(),
            aud: self.policy.audience.clone(),
            exp: exp.timestamp(),
            iat: now.timestamp(),
            email: subject.user.email.clone(),
            org: subject.org_id,
            role: subject.org_role.clone(),
            perms: subject.permissions,
            amr: vec!["pwd".into()],
        };
        let access_token = self.signer.sign(&claims).map_err(Error::Internal)?;
        Ok(SignedIn {
            user: subject.user,
            access_token,
            expires_in: self.policy.access_ttl.num_seconds(),
            refresh_token,
        })
    }
}
