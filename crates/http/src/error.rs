//! The one place where errors become HTTP responses: RFC 9457
//! `application/problem+json` with a stable snake_case `code`.
//!
//! [`ApiError`] wraps the domain's [`roster_domain::Error`] and the failures of
//! the HTTP layer itself (body, media type, routing); `parts` decides what
//! each renders to, and a refusal (`403`) or an impossible state (`409
//! invalid_state`) adds its typed [`Reason`]. Internal and unavailable causes
//! are logged here with the request id and never shown. The problem types
//! the OpenAPI document refers to, each with its status, are in `responses`.
//! Error responses made outside this crate are re-rendered as problems by
//! the request middleware (`crate::middleware::ensure_problem`).

mod parts;
mod responses;

pub(crate) use parts::refusal_reason;

pub use responses::{
    BadRequest, BodyErrors, Conflict, Forbidden, Gone, HeadersTooLarge, InternalError, NotFound, PayloadTooLarge,
    RequestTimeout, ServerErrors, ServiceUnavailable, TooManyRequests, Unauthorized, UnprocessableEntity,
    UnsupportedMediaType, UriTooLong, EDGE_ANSWERS,
};

use std::collections::BTreeMap;

use actix_web::{body::BoxBody, http::header, http::StatusCode, HttpResponse, ResponseError};
use roster_domain::{auth::Refusal, Error as DomainError, ValidationErrors};
use serde::{Deserialize, Serialize};

use crate::request_id;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document, as every error response carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Which rule refused the caller (`403 forbidden`) or makes the request
    /// impossible in the resource's state (`409 invalid_state`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The permission the caller lacks, with `reason: missing_permission`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "users:write")]
    pub permission: Option<String>,
    /// Equals the `X-Request-Id` response header; quote it when reporting a problem.
    pub request_id: String,
}

/// The machine-readable reason of a `403 forbidden` or `409 invalid_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// `403`: the caller lacks the permission named in `permission`.
    MissingPermission,
    /// `403`: only owners grant the owner role and act on owners.
    OwnerOnly,
    /// `403`: only superadmins may do this.
    SuperadminOnly,
    /// `403`: nobody does this to their own account or membership.
    NotYourself,
    /// `403`: the platform's users are administered from a session in the default organization.
    DefaultOrgSessionRequired,
    /// `403`: only a signed-in user can do this, not an API key.
    SignedInUserOnly,
    /// `403`: a role or permission is granted only by one who holds it.
    GrantBeyondOwn,
    /// `403`: adding an existing user by id takes a platform user administrator.
    PlatformAdminOnly,
    /// `403`: the organization would be left without an active owner.
    LastOwner,
    /// `403`: another organization (or the platform) manages the account;
    /// here only the membership can change.
    NotManaged,
    /// `409`: the invitation was accepted already.
    InvitationAccepted,
    /// `409`: the user has not accepted their invitation yet.
    UserPending,
    /// `409`: the user is banned.
    UserBanned,
    /// `409`: the default organization cannot be deleted.
    DefaultOrgPermanent,
    /// `409`: default-organization members are (de)activated as users.
    DefaultOrgMembership,
    /// `409`: built-in roles keep their names and cannot be deleted.
    BuiltinRole,
    /// `409`: the owner role always holds every permission.
    OwnerRoleFixed,
    /// `409`: two-step verification is on already.
    MfaEnabled,
    /// `409`: no authenticator enrolment waits for confirmation.
    MfaNotPending,
    /// `409`: two-step verification is off.
    MfaNotEnabled,
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
    /// `/metrics` needs the metrics token: none was presented, or another.
    #[error("metrics token missing or wrong")]
    MetricsToken { presented: bool },
    /// The path exists but not with this method; the value lists the allowed ones.
    #[error("method not allowed; allowed: {0}")]
    MethodNotAllowed(&'static str),
    /// An error response produced outside this crate, re-rendered as a problem.
    #[error("HTTP {0}")]
    Status(StatusCode),
    /// The request line is longer than `limit` bytes (answered at the edge).
    #[error("request line longer than {limit} bytes")]
    UriTooLong { limit: usize },
    /// The request head is over `bytes` or has more than `fields` header
    /// fields (answered at the edge).
    #[error("request head over {bytes} bytes or {fields} fields")]
    HeadTooLarge { bytes: usize, fields: usize },
    /// The request head is malformed (answered at the edge); why.
    #[error("malformed request: {0}")]
    MalformedRequest(&'static str),
    /// The request head or body did not arrive in time; the connection closes.
    #[error("request not received in time")]
    RequestTimeout,
    /// The peer address has too many open connections (answered at the edge).
    #[error("too many connections from this address")]
    TooManyConnections { retry_after: u64 },
}

impl ApiError {
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
            reason: p.reason,
            permission: p.permission.map(str::to_owned),
            request_id: request_id.into(),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Domain(DomainError::Forbidden(r))
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
        self.response_with_id(request_id::current_or_new().as_str())
    }
}

impl ApiError {
    /// The stable `code` of the problem this error renders to.
    pub fn code(&self) -> &'static str {
        self.parts().code
    }

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
        if parts.close {
            res.force_close();
        }
        match serde_json::to_vec(&problem) {
            Ok(body) => res.body(body),
            // Serializing strings and maps cannot fail; answer something anyway.
            Err(_) => res.body(r#"{"status":500,"code":"internal_error"}"#),
        }
    }
}
