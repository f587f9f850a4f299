//! Opening sessions and signing their access tokens: the last step of login,
//! registration, accepting an invitation and refreshing — and where a
//! session lands: the default organization for the platform's users, the
//! managing organization for everyone else.

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{AccessClaims, RefreshToken, SessionSubject},
    error::Error,
    ports::{Clock, MemberRepository, NewSession, SessionRepository, TokenSigner},
    user::User,
    DEFAULT_ORG_ID,
};

use super::AuthPolicy;

/// Where a request came from, recorded on the session and counted by rate
/// limits.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// How a password sign-in was authenticated (RFC 8176 `amr` values).
pub const AMR_PASSWORD: &[&str] = &["pwd"];
/// A password and a one-time code (an authenticator's or a recovery code).
pub const AMR_PASSWORD_AND_OTP: &[&str] = &["pwd", "otp"];

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
    /// The role and permissions of a session acting in an organization.
    members: Arc<dyn MemberRepository>,
    signer: Arc<dyn TokenSigner>,
    clock: Arc<dyn Clock>,
    policy: Arc<AuthPolicy>,
}

impl SessionIssuer {
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        members: Arc<dyn MemberRepository>,
        signer: Arc<dyn TokenSigner>,
        clock: Arc<dyn Clock>,
        policy: Arc<AuthPolicy>,
    ) -> SessionIssuer {
        SessionIssuer { sessions, members, signer, clock, policy }
    }

    /// `subject` (as the store gives it: acting in the default
    /// organization) acting in `org`, where they must be an active member
    /// (`NotFound("organization")` otherwise: no existence leak).
    pub(super) async fn subject_in(&self, subject: SessionSubject, org: Uuid) -> Result<SessionSubject, Error> {
        if org == DEFAULT_ORG_ID && subject.org_id == DEFAULT_ORG_ID {
            return match subject.org_role {
                Some(_) => Ok(subject),
                None => Err(Error::NotFound("organization")),
            };
        }
        let membership = self.members.membership(org, subject.user.id).await?.ok_or(Error::NotFound("organization"))?;
        Ok(SessionSubject {
            user: subject.user,
            permissions: membership.permissions,
            org_id: org,
            org_role: Some(membership.role),
        })
    }

    /// Where a session lands when no organization is asked for: the default
    /// organization for its members (the platform's users), else the
    /// organization that manages the account (`NoOrganization` when the user
    /// is no active member there either).
    pub(super) async fn landing(&self, subject: SessionSubject) -> Result<SessionSubject, Error> {
        if subject.org_role.is_some() {
            return Ok(subject);
        }
        let home = subject.user.managed_by.unwrap_or(DEFAULT_ORG_ID);
        match self.subject_in(subject, home).await {
            Err(Error::NotFound(_)) => Err(Error::NoOrganization),
            landed => landed,
        }
    }

    /// Opens a password session for `subject` with its first refresh token
    /// and signs an access token for it.
    pub(super) async fn open(&self, subject: SessionSubject, meta: ClientMeta) -> Result<SignedIn, Error> {
        self.open_with(subject, meta, AMR_PASSWORD).await
    }

    /// Opens a session authenticated by `amr`, which its access tokens
    /// carry, refreshes included.
    pub(super) async fn open_with(
        &self,
        mut subject: SessionSubject,
        meta: ClientMeta,
        amr: &[&str],
    ) -> Result<SignedIn, Error> {
        let amr: Vec<String> = amr.iter().map(|m| (*m).to_string()).collect();
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
                amr: amr.clone(),
                now,
            })
            .await?;
        subject.user.last_login_at = Some(now);
        self.signed_in(session_id, subject, refresh, amr)
    }

    /// An access token for the session `session_id` of `subject`,
    /// authenticated by `amr`, handed out with `refresh_token`.
    pub(super) fn signed_in(
        &self,
        session_id: Uuid,
        subject: SessionSubject,
        refresh_token: RefreshToken,
        amr: Vec<String>,
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
            amr,
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
