//! What each error renders to: status, `code`, title, detail, and the
//! headers that go with it. One match per kind of error, so a new domain
//! error does not compile until it has its answer here.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use roster_domain::{
    auth::Refusal, error::TokenRejection, mail::TokenState, Conflict, Error as DomainError, ImageRefusal,
    StateConflict, ValidationErrors,
};

use super::{ApiError, Reason};

/// `WWW-Authenticate` of a `401` without a usable token.
const BEARER_CHALLENGE: &str = r#"Bearer realm="roster""#;
/// `WWW-Authenticate` of a `401` for a token that was refused.
const BEARER_INVALID: &str = r#"Bearer realm="roster", error="invalid_token""#;

/// The parts of a problem before the request id is added.
pub(super) struct Parts {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// Why a `403` was refused or a `409 invalid_state` is not possible.
    pub reason: Option<Reason>,
    /// The missing permission, with [`Reason::MissingPermission`].
    pub permission: Option<&'static str>,
    pub www_authenticate: Option<&'static str>,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u64>,
    pub allow: Option<&'static str>,
    /// Whether the connection closes after the response.
    pub close: bool,
}

impl Parts {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Parts {
        Parts {
            status,
            code,
            title,
            detail: detail.into(),
            errors: None,
            reason: None,
            permission: None,
            www_authenticate: None,
            retry_after: None,
            allow: None,
            close: false,
        }
    }

    fn errors(mut self, errors: &ValidationErrors) -> Parts {
        self.errors = Some(errors.as_map().clone());
        self
    }
}

pub(super) fn domain_parts(e: &DomainError) -> Parts {
    use StatusCode as S;
    match e {
        DomainError::Validation(errs) => Parts::new(
            S::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Validation failed",
            "One or more fields are invalid; see `errors`.",
        )
        .errors(errs),
        DomainError::InvalidQuery(errs) => Parts::new(
            S::BAD_REQUEST,
            "invalid_query",
            "Invalid query",
            "One or more query parameters are invalid; see `errors`.",
        )
        .errors(errs),
        DomainError::InvalidFilter(f) => {
            let mut errs = ValidationErrors::new();
            errs.add("filter", f.to_string());
            Parts::new(S::BAD_REQUEST, "invalid_filter", "Invalid filter", format!("The filter is invalid: {f}."))
                .errors(&errs)
        }
        DomainError::InvalidCursor(m) => {
            let mut errs = ValidationErrors::new();
            errs.add("after", m.clone());
            Parts::new(S::BAD_REQUEST, "invalid_cursor", "Invalid cursor", format!("The cursor {m}.")).errors(&errs)
        }
        DomainError::InvalidCredentials => Parts::new(
            S::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid credentials",
            "The email address or password is incorrect.",
        ),
        DomainError::InvalidRefreshToken => Parts::new(
            S::UNAUTHORIZED,
            "invalid_refresh_token",
            "Invalid refresh token",
            "The refresh token is unknown, expired or revoked; sign in again.",
        ),
        DomainError::Unauthenticated(rejection) => {
            let (code, title, detail) = match rejection {
                TokenRejection::Missing => (
                    "unauthenticated",
                    "Authentication required",
                    "Send an access token as `Authorization: Bearer <token>`.",
                ),
                TokenRejection::Invalid => (
                    "invalid_token",
                    "Invalid access token",
                    "The access token is malformed or its signature, issuer or audience is wrong; or the API key is \
                     unknown, revoked or expired.",
                ),
                TokenRejection::Expired => {
                    ("token_expired", "Access token expired", "The access token has expired; refresh it.")
                }
                TokenRejection::Revoked => {
                    ("session_revoked", "Session revoked", "The session of this access token has ended; sign in again.")
                }
            };
            let mut p = Parts::new(S::UNAUTHORIZED, code, title, detail);
            p.www_authenticate =
                Some(if *rejection == TokenRejection::Missing { BEARER_CHALLENGE } else { BEARER_INVALID });
            p
        }
        DomainError::AccountDisabled(status) => Parts::new(
            S::FORBIDDEN,
            "account_disabled",
            "Account disabled",
            format!("The account is {status} and cannot sign in."),
        ),
        DomainError::RegistrationClosed => Parts::new(
            S::FORBIDDEN,
            "registration_closed",
            "Registration closed",
            "Self-service registration is turned off; ask an administrator for an account.",
        ),
        DomainError::Forbidden(refusal) => {
            let (reason, detail) = refusal_reason(*refusal);
            let mut p = Parts::new(S::FORBIDDEN, "forbidden", "Forbidden", detail);
            p.reason = Some(reason);
            if let Refusal::MissingPermission(permission) = refusal {
                p.permission = Some(permission.as_str());
            }
            p
        }
        DomainError::NotFound(what) => {
            Parts::new(S::NOT_FOUND, "not_found", "Not found", format!("The {what} does not exist."))
        }
        DomainError::Conflict(c) => {
            let (code, title, detail) = match c {
                Conflict::EmailTaken => {
                    ("email_taken", "Email already in use", "Another account already uses this email address.")
                }
                Conflict::SlugTaken => {
                    ("slug_taken", "Slug already in use", "Another organization already has this slug.")
                }
                Conflict::RoleNameTaken => (
                    "role_name_taken",
                    "Role name already in use",
                    "The organization already has a role with this name.",
                ),
                Conflict::PermissionTaken => (
                    "permission_taken",
                    "Permission already registered",
                    "The organization already registered this permission.",
                ),
                Conflict::AlreadyMember => {
                    ("already_member", "Already a member", "The user is already a member of the organization.")
                }
                Conflict::InUse => {
                    ("in_use", "Still in use", "Members or roles still refer to it; reassign them first.")
                }
            };
            Parts::new(S::CONFLICT, code, title, detail)
        }
        DomainError::InvalidState(conflict) => {
            let (reason, detail) = state_reason(*conflict);
            let mut p = Parts::new(S::CONFLICT, "invalid_state", "Not possible in this state", detail);
            p.reason = Some(reason);
            p
        }
        DomainError::InvalidToken => Parts::new(
            S::BAD_REQUEST,
            "link_token_invalid",
            "Invalid link",
            "This link is not valid. Check that it was copied whole, or ask for a new one.",
        ),
        DomainError::TokenGone(state) => {
            let (code, title, detail) = match state {
                TokenState::Used => {
                    ("link_token_used", "Link already used", "This link has been used already; ask for a new one.")
                }
                TokenState::Expired => {
                    ("link_token_expired", "Link expired", "This link has expired; ask for a new one.")
                }
                TokenState::Superseded | TokenState::Live => (
                    "link_token_superseded",
                    "Link replaced",
                    "A newer link was sent, or what this link was for has changed; use the newest one.",
                ),
            };
            Parts::new(S::GONE, code, title, detail)
        }
        DomainError::NoOrganization => Parts::new(
            S::FORBIDDEN,
            "no_organization",
            "No organization",
            "The account belongs to no organization it can sign in to; ask an administrator.",
        ),
        DomainError::EmailNotVerified => Parts::new(
            S::FORBIDDEN,
            "email_not_verified",
            "Email address not verified",
            "Confirm your email address with the link we sent before signing in; you can ask for a new link.",
        ),
        DomainError::RateLimited { retry_after_secs } => {
            let mut p = Parts::new(
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                "Too many requests for this address or from this client; retry later.",
            );
            p.retry_after = Some(*retry_after_secs);
            p
        }
        DomainError::TooManyAttempts { retry_after_secs } => {
            let mut p = Parts::new(
                S::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many attempts",
                "Too many failed sign-ins for this account; it is locked for a while. Retry after the time given.",
            );
            p.retry_after = Some(*retry_after_secs);
            p
        }
        DomainError::InvalidChallenge => Parts::new(
            S::UNAUTHORIZED,
            "invalid_challenge",
            "Invalid challenge",
            "The sign-in challenge is unknown, expired, used or out of attempts; sign in again.",
        ),
        DomainError::InvalidMfaCode => Parts::new(
            S::UNAUTHORIZED,
            "invalid_code",
            "Invalid code",
            "The code is wrong or was used already; enter the current code from your authenticator app, or a recovery code.",
        ),
        DomainError::IpNotAllowed => Parts::new(
            S::FORBIDDEN,
            "ip_not_allowed",
            "Sign-in not allowed from this address",
            "This account may sign in only from the addresses its administrator allowed.",
        ),
        DomainError::ImageRefused(refusal) => match refusal {
            ImageRefusal::Unsupported => Parts::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_image",
                "Unsupported image",
                "The file is not a JPEG, PNG or WebP picture (judged by its content, not its name or declared type).",
            ),
            ImageRefusal::TooLarge { width, height } => Parts::new(
                S::UNPROCESSABLE_ENTITY,
                "image_too_large",
                "Image too large",
                format!("The picture is {width}×{height} pixels, more than this server takes; send a smaller one."),
            ),
            ImageRefusal::Invalid => Parts::new(
                S::UNPROCESSABLE_ENTITY,
                "invalid_image",
                "Invalid image",
                "The picture is truncated or corrupt and cannot be read.",
            ),
        },
        DomainError::Unavailable(_) => {
            let mut p = Parts::new(
                S::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service unavailable",
                "A dependency is temporarily unavailable; retry later.",
            );
            p.retry_after = Some(5);
            p
        }
        DomainError::Internal(_) => internal(),
    }
}

fn internal() -> Parts {
    Parts::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Internal server error",
        "An unexpected error occurred; quote the request id when reporting it.",
    )
}

/// The `reason` and detail of a `403 forbidden`.
pub(crate) fn refusal_reason(refusal: Refusal) -> (Reason, String) {
    let (reason, detail) = match refusal {
        Refusal::MissingPermission(p) => {
            return (Reason::MissingPermission, format!("This requires the `{p}` permission."))
        }
        Refusal::OwnerOnly => (Reason::OwnerOnly, "Only an owner grants the owner role or acts on an owner."),
        Refusal::SuperadminOnly => (Reason::SuperadminOnly, "Only a superadmin may do this."),
        Refusal::NotYourself => {
            (Reason::NotYourself, "Nobody can do this to their own account or membership; ask another administrator.")
        }
        Refusal::DefaultOrgSessionRequired => (
            Reason::DefaultOrgSessionRequired,
            "User administration happens in the default organization; switch your session to it.",
        ),
        Refusal::SignedInUserOnly => {
            (Reason::SignedInUserOnly, "Only a signed-in user can do this; an API key acts for a service.")
        }
        Refusal::GrantBeyondOwn => {
            (Reason::GrantBeyondOwn, "You can only grant a role or permissions that you hold yourself.")
        }
        Refusal::PlatformAdminOnly => (
            Reason::PlatformAdminOnly,
            "Adding an existing user by id takes a platform user administrator; invite them by email instead.",
        ),
        Refusal::LastOwner => (Reason::LastOwner, "An organization keeps at least one active owner."),
        Refusal::NotManaged => (
            Reason::NotManaged,
            "Another organization manages this account: here only the membership can change — role and \
             location with this request, or under /api/v1/orgs/{id}/members/{user} (permissions, activate, \
             deactivate, remove).",
        ),
    };
    (reason, detail.to_string())
}

/// The `reason` and detail of a `409 invalid_state`.
fn state_reason(conflict: StateConflict) -> (Reason, &'static str) {
    match conflict {
        StateConflict::InvitationAccepted => (
            Reason::InvitationAccepted,
            "The invitation was accepted already; manage the member or the user it made instead.",
        ),
        StateConflict::UserPending => (Reason::UserPending, "The user has not accepted their invitation yet."),
        StateConflict::UserBanned => (Reason::UserBanned, "The user is banned."),
        StateConflict::DefaultOrgPermanent => {
            (Reason::DefaultOrgPermanent, "The default organization cannot be deleted.")
        }
        StateConflict::DefaultOrgMembership => (
            Reason::DefaultOrgMembership,
            "Members of the default organization are the platform's users: activate or deactivate the user instead.",
        ),
        StateConflict::BuiltinRole => (Reason::BuiltinRole, "Built-in roles cannot be renamed or deleted."),
        StateConflict::OwnerRoleFixed => (Reason::OwnerRoleFixed, "The owner role always holds every permission."),
        StateConflict::MfaEnabled => (
            Reason::MfaEnabled,
            "Two-step verification is on already; turn it off first to enrol another authenticator.",
        ),
        StateConflict::MfaNotPending => {
            (Reason::MfaNotPending, "No enrolment waits for confirmation; start one with POST /me/mfa/totp.")
        }
        StateConflict::MfaNotEnabled => (Reason::MfaNotEnabled, "Two-step verification is off."),
    }
}

/// A problem for a bare status code (responses built outside this crate).
pub(super) fn status_parts(status: StatusCode) -> Parts {
    use StatusCode as S;
    match status {
        S::BAD_REQUEST => Parts::new(status, "bad_request", "Bad request", "The request could not be understood."),
        S::UNAUTHORIZED => {
            let mut p =
                Parts::new(status, "unauthenticated", "Authentication required", "This resource needs authentication.");
            p.www_authenticate = Some(BEARER_CHALLENGE);
            p
        }
        S::FORBIDDEN => Parts::new(status, "forbidden", "Forbidden", "You may not do this."),
        S::NOT_FOUND => Parts::new(status, "not_found", "Not found", "No resource at this path."),
        S::METHOD_NOT_ALLOWED => {
            Parts::new(status, "method_not_allowed", "Method not allowed", "This resource does not support the method.")
        }
        S::PAYLOAD_TOO_LARGE => {
            Parts::new(status, "payload_too_large", "Payload too large", "The request body is too large.")
        }
        S::UNSUPPORTED_MEDIA_TYPE => Parts::new(
            status,
            "unsupported_media_type",
            "Unsupported media type",
            "The request body has an unsupported media type.",
        ),
        S::SERVICE_UNAVAILABLE => {
            let mut p = Parts::new(
                status,
                "service_unavailable",
                "Service unavailable",
                "The service is temporarily unavailable; retry later.",
            );
            p.retry_after = Some(5);
            p
        }
        s if s.is_server_error() => internal(),
        s => {
            Parts::new(s, "http_error", "HTTP error", s.canonical_reason().unwrap_or("The request failed.").to_string())
        }
    }
}

impl ApiError {
    pub(super) fn parts(&self) -> Parts {
        use StatusCode as S;
        match self {
            ApiError::Domain(e) => domain_parts(e),
            ApiError::MalformedJson(msg) => Parts::new(
                S::BAD_REQUEST,
                "malformed_json",
                "Malformed JSON",
                format!("The body is not valid JSON: {msg}."),
            ),
            ApiError::UnreadableBody(_) => {
                Parts::new(S::BAD_REQUEST, "bad_request", "Bad request", "The request body could not be read.")
            }
            ApiError::UnsupportedMediaType(detail) => {
                Parts::new(S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type", *detail)
            }
            ApiError::PayloadTooLarge { limit } => {
                let mut p = Parts::new(
                    S::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Payload too large",
                    format!("The request body must be at most {limit} bytes."),
                );
                // The rest of the body is not read: the connection cannot carry another request.
                p.close = true;
                p
            }
            ApiError::RouteNotFound => status_parts(S::NOT_FOUND),
            ApiError::MetricsToken { presented } => {
                let (code, title, challenge) = if *presented {
                    ("invalid_token", "Invalid metrics token", BEARER_INVALID)
                } else {
                    ("unauthenticated", "Authentication required", BEARER_CHALLENGE)
                };
                let mut p = Parts::new(
                    S::UNAUTHORIZED,
                    code,
                    title,
                    "Metrics are read with the metrics token (`metrics.token`) as `Authorization: Bearer <token>`.",
                );
                p.www_authenticate = Some(challenge);
                p
            }
            ApiError::MethodNotAllowed(allow) => {
                let mut p = Parts::new(
                    S::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "Method not allowed",
                    format!("This resource supports only {allow}."),
                );
                p.allow = Some(allow);
                p
            }
            ApiError::Status(status) => status_parts(*status),
            ApiError::UriTooLong { limit } => Parts::new(
                S::URI_TOO_LONG,
                "uri_too_long",
                "URI too long",
                format!("The request line must be at most {limit} bytes; send long input in a request body."),
            ),
            ApiError::HeadTooLarge { bytes, fields } => Parts::new(
                S::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers_too_large",
                "Request header fields too large",
                format!("The request head must be at most {bytes} bytes, in at most {fields} header fields."),
            ),
            ApiError::MalformedRequest(why) => Parts::new(S::BAD_REQUEST, "bad_request", "Bad request", *why),
            ApiError::RequestTimeout => {
                let mut p = Parts::new(
                    S::REQUEST_TIMEOUT,
                    "request_timeout",
                    "Request timeout",
                    "The request did not arrive in time; the connection is closed.",
                );
                p.close = true;
                p
            }
            ApiError::TooManyConnections { retry_after } => {
                let mut p = Parts::new(
                    S::SERVICE_UNAVAILABLE,
                    "too_many_connections",
                    "Too many connections",
                    "This address has too many open connections; close some or retry later.",
                );
                p.retry_after = Some(*retry_after);
                p.close = true;
                p
            }
        }
    }
}
