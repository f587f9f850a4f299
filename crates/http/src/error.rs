//! The one place where errors become HTTP responses: RFC 9457
//! `application/problem+json` with a stable snake_case `code`.
//!
//! [`ApiError`] wraps the domain's [`roster_domain::Error`] and the failures of
//! the HTTP layer itself (body, media type, routing). Internal and
//! unavailable causes are logged here with the request id and never shown.
//! [`ensure_problem`] turns any other error response (from actix or a
//! third-party service) into a problem as well.

use std::collections::BTreeMap;

use actix_web::{
    body::BoxBody,
    dev::ServiceResponse,
    http::{
        header::{self, HeaderMap},
        StatusCode,
    },
    HttpResponse, ResponseError,
};
use roster_domain::{error::TokenRejection, mail::TokenState, Conflict, Error as DomainError, ValidationErrors};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `WWW-Authenticate` of a `401` without a usable token.
const BEARER_CHALLENGE: &str = r#"Bearer realm="roster""#;
/// `WWW-Authenticate` of a `401` for a token that was refused.
const BEARER_INVALID: &str = r#"Bearer realm="roster", error="invalid_token""#;

/// An RFC 9457 problem document, as every error response carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:roster:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:roster:problem:validation_failed")]
    pub type_: String,
    /// A short summary of the kind of problem.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong in this occurrence, for humans.
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `email_taken`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Field (or query parameter) → messages; on `422` and `400 invalid_query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = json!({"email": ["must be a valid email address"]}))]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// Equals the `X-Request-Id` response header; quote it when reporting a problem.
    pub request_id: String,
}

/// Every error a handler or extractor can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A use case failed.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The body is not syntactically valid JSON (the parser's message).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body could not be read (connection dropped, bad chunking).
    #[error("unreadable body: {0}")]
    UnreadableBody(String),
    /// The body is not JSON (`Content-Type`) or is encoded (`Content-Encoding`).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(&'static str),
    /// The body is larger than the configured limit (bytes).
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// No route matches the path.
    #[error("no route for this path")]
    RouteNotFound,
    /// The path exists but not with this method; the value lists the allowed ones.
    #[error("method not allowed; allowed: {0}")]
    MethodNotAllowed(&'static str),
    /// An error response produced outside this crate, re-rendered as a problem.
    #[error("HTTP {0}")]
    Status(StatusCode),
}

/// The parts of a problem before the request id is added.
struct Parts {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Option<BTreeMap<String, Vec<String>>>,
    www_authenticate: Option<&'static str>,
    /// Seconds for `Retry-After`.
    retry_after: Option<u64>,
    allow: Option<&'static str>,
}

impl Parts {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Parts {
        Parts {
            status,
            code,
            title,
            detail: detail.into(),
            errors: None,
            www_authenticate: None,
            retry_after: None,
            allow: None,
        }
    }

    fn errors(mut self, errors: &ValidationErrors) -> Parts {
        self.errors = Some(errors.as_map().clone());
        self
    }
}

fn domain_parts(e: &DomainError) -> Parts {
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
        DomainError::Forbidden(reason) => Parts::new(S::FORBIDDEN, "forbidden", "Forbidden", forbidden_detail(reason)),
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
        DomainError::InvalidState(why) => {
            Parts::new(S::CONFLICT, "invalid_state", "Not possible in this state", forbidden_detail(why))
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

/// A permission name becomes a sentence; the domain's sentences are kept.
fn forbidden_detail(reason: &str) -> String {
    if reason.contains(':') && !reason.contains(' ') {
        format!("This requires the `{reason}` permission.")
    } else {
        let mut chars = reason.chars();
        match chars.next() {
            Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
            None => "You may not do this.".into(),
        }
    }
}

/// A problem for a bare status code (responses built outside this crate).
fn status_parts(status: StatusCode) -> Parts {
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
    fn parts(&self) -> Parts {
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
            ApiError::PayloadTooLarge { limit } => Parts::new(
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
                format!("The request body must be at most {limit} bytes."),
            ),
            ApiError::RouteNotFound => status_parts(S::NOT_FOUND),
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
        }
    }

    /// Logs what the caller will not see. Called once, when the response is built.
    fn log(&self, request_id: &str) {
        match self {
            ApiError::Domain(DomainError::Internal(msg)) => tracing::error!(request_id, error = %msg, "internal error"),
            ApiError::Domain(DomainError::Unavailable(msg)) => {
                tracing::warn!(request_id, error = %msg, "dependency unavailable")
            }
            ApiError::UnreadableBody(msg) => tracing::debug!(request_id, error = %msg, "request body unreadable"),
            _ => {}
        }
    }

    /// The problem document this error renders to, for a given request id.
    pub fn problem(&self, request_id: &str) -> Problem {
        let p = self.parts();
        Problem {
            type_: format!("urn:roster:problem:{}", p.code),
            title: p.title.into(),
            status: p.status.as_u16(),
            detail: p.detail,
            code: p.code.into(),
            errors: p.errors,
            request_id: request_id.into(),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::Domain(DomainError::Validation(e))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        self.response_with_id(crate::request_id::current_or_new().as_str())
    }
}

impl ApiError {
    /// The problem response for a given request id (`error_response` uses
    /// the current request's).
    pub fn response_with_id(&self, request_id: &str) -> HttpResponse<BoxBody> {
        self.log(request_id);
        let parts = self.parts();
        let problem = self.problem(request_id);
        let mut res = HttpResponse::build(parts.status);
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON)).insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(challenge) = parts.www_authenticate {
            res.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if let Some(secs) = parts.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = parts.allow {
            res.insert_header((header::ALLOW, allow));
        }
        match serde_json::to_vec(&problem) {
            Ok(body) => res.body(body),
            // Serializing strings and maps cannot fail; answer something anyway.
            Err(_) => res.body(r#"{"status":500,"code":"internal_error"}"#),
        }
    }
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// Re-renders an error response that is not already a problem (actix's own
/// plain-text errors, Swagger UI's empty `404`) as one, keeping its headers.
pub fn ensure_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(res.headers()) {
        return res;
    }
    let (req, old) = res.into_parts();
    if status.is_server_error() {
        let cause = old.error().map(|e| e.to_string()).unwrap_or_default();
        tracing::error!(request_id = %crate::request_id::current_or_new(), status = status.as_u16(), error = %cause, "error response from outside the problem mapping");
    }
    let mut new = ApiError::Status(status).error_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !new.headers().contains_key(name) {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}
