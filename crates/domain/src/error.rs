//! The domain's error vocabulary.
//!
//! Every use case returns [`Error`]; each method documents which variants it
//! can produce. Adapters translate their own failures into [`RepoError`]
//! exactly once, and the HTTP crate maps [`Error`] to status codes in one place.

use crate::{auth::Refusal, mail::TokenState, user::UserStatus, validation::ValidationErrors};

/// What a repository can fail with, independent of the storage technology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// A uniqueness rule enforced by the store was violated.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The store cannot be reached right now (down, pool exhausted, timeout).
    /// The caller may retry later; nothing was written.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken invariant. Logged, answered as 500.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Which uniqueness (or reference) rule was violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Another user already has this email (compared case-insensitively).
    EmailTaken,
    /// Another organization has this slug.
    SlugTaken,
    /// The organization already has a role with this name.
    RoleNameTaken,
    /// The organization already registered this permission.
    PermissionTaken,
    /// The user is already a member of the organization.
    AlreadyMember,
    /// Something still refers to it (members hold the role or the location,
    /// roles hold the permission).
    InUse,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conflict::EmailTaken => "email already in use",
            Conflict::SlugTaken => "slug already in use",
            Conflict::RoleNameTaken => "role name already in use",
            Conflict::PermissionTaken => "permission already registered",
            Conflict::AlreadyMember => "already a member",
            Conflict::InUse => "still in use",
        })
    }
}

/// Why the resource is not in a state that allows the request (a `409
/// invalid_state`): one variant per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateConflict {
    /// The invitation was accepted already: manage the member or the user it
    /// made instead.
    InvitationAccepted,
    /// The user has not accepted their invitation yet (no password to reset).
    UserPending,
    /// The user is banned.
    UserBanned,
    /// The default organization cannot be deleted.
    DefaultOrgPermanent,
    /// Members of the default organization are the platform's users: they
    /// are activated and deactivated as users, not as members.
    DefaultOrgMembership,
    /// Built-in roles keep their names and cannot be deleted.
    BuiltinRole,
    /// The owner role always holds every permission.
    OwnerRoleFixed,
    /// Two-step verification is on already: turn it off first to enrol a
    /// new authenticator.
    MfaEnabled,
    /// No enrolment waits for confirmation: start one first.
    MfaNotPending,
    /// Two-step verification is off.
    MfaNotEnabled,
}

/// Why an uploaded picture was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageRefusal {
    /// Not a JPEG, PNG or WebP by its bytes (`415 unsupported_image`).
    Unsupported,
    /// More pixels than allowed, per side or in all (`422 image_too_large`).
    TooLarge { width: u32, height: u32 },
    /// Truncated, corrupt, or past the decoder's limits (`422 invalid_image`).
    Invalid,
}

/// Why a bearer token was refused. All of these answer `401`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// No token, or not a bearer token.
    Missing,
    /// Bad signature, wrong algorithm, unknown key, wrong issuer or audience.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Well-formed and signed, but its session was revoked or its user can no
    /// longer sign in.
    Revoked,
}

/// Errors of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more fields of the input are invalid; every bad field is listed.
    #[error("validation failed")]
    Validation(ValidationErrors),
    /// A query parameter is invalid (unknown sort key, bad page number).
    #[error("invalid query")]
    InvalidQuery(ValidationErrors),
    /// The `filter=` expression is malformed or names what cannot be filtered.
    #[error("invalid filter: {0}")]
    InvalidFilter(crate::user::filter::FilterError),
    /// The `after=` cursor was not issued by this server for this sort.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// Email or password is wrong. Deliberately says nothing about which.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The refresh token is unknown, expired, reused or its session is gone.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// The access token was refused.
    #[error("unauthenticated")]
    Unauthenticated(TokenRejection),
    /// The account exists and the password was right, but it may not sign in.
    #[error("account is {0}")]
    AccountDisabled(UserStatus),
    /// Self-service registration is turned off.
    #[error("registration is closed")]
    RegistrationClosed,
    /// The caller is authenticated but not allowed to do this, by this rule.
    #[error("forbidden: {0:?}")]
    Forbidden(Refusal),
    /// The resource does not exist (or the caller may not know it exists).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was violated.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The resource is not in a state that allows this (an accepted
    /// invitation, a pending user's password reset).
    #[error("invalid state: {0:?}")]
    InvalidState(StateConflict),
    /// A mailed token that is malformed, unknown, or for another purpose.
    #[error("invalid token")]
    InvalidToken,
    /// A mailed token that was good once: used, expired or superseded.
    #[error("token no longer valid: {0:?}")]
    TokenGone(TokenState),
    /// Login needs a verified address and this account's is not.
    #[error("email address not verified")]
    EmailNotVerified,
    /// The password was right, but the account has no organization to act
    /// in: it is a member of neither the default organization nor (actively)
    /// its managing organization.
    #[error("no organization to sign in to")]
    NoOrganization,
    /// Too many requests for this address or client; retry after this many seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// The account is locked after failed sign-ins (or every attempt it
    /// allows is under way); nothing was checked. Retry after this many
    /// seconds.
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The MFA challenge is malformed, unknown, expired, used, or out of
    /// attempts: sign in again.
    #[error("invalid MFA challenge")]
    InvalidChallenge,
    /// The one-time code or recovery code is wrong (or already used).
    #[error("invalid MFA code")]
    InvalidMfaCode,
    /// The credentials were right, but the account may not sign in from
    /// this address (its IP allowlist).
    #[error("sign-in from this address is not allowed")]
    IpNotAllowed,
    /// The upload is not a picture Roster takes, by this rule.
    #[error("image refused: {0:?}")]
    ImageRefused(ImageRefusal),
    /// A dependency is down; retry later. Nothing was written.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or broken invariant. The message is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RepoError> for Error {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict(c) => Error::Conflict(c),
            RepoError::Unavailable(m) => Error::Unavailable(m),
            RepoError::Internal(m) => Error::Internal(m),
        }
    }
}

impl From<crate::user::ListQueryError> for Error {
    fn from(e: crate::user::ListQueryError) -> Self {
        match e {
            crate::user::ListQueryError::Query(v) => Error::InvalidQuery(v),
            crate::user::ListQueryError::Filter(f) => Error::InvalidFilter(f),
            crate::user::ListQueryError::Cursor(m) => Error::InvalidCursor(m),
        }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::Forbidden(r)
    }
}

impl From<ValidationErrors> for Error {
    fn from(e: ValidationErrors) -> Self {
        Error::Validation(e)
    }
}
