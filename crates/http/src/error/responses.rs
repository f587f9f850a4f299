//! The problem responses the OpenAPI document refers to. Each type is one
//! status with its own description (and headers), registered once under
//! `components.responses`; a route lists the types it can answer, e.g.
//! `responses((status = 200, …), Unauthorized, Forbidden, NotFound,
//! ServerErrors)`. [`ServerErrors`] and [`BodyErrors`] are the groups nearly
//! every route shares.

use std::collections::BTreeMap;

use utoipa::{
    openapi::{Ref, RefOr, Response},
    IntoResponses, ToResponse,
};

use super::Problem;

/// The request is malformed: bad JSON (`malformed_json`), an unreadable body
/// (`bad_request`), a bad query string (`invalid_query`, with `errors`), a
/// link token that is malformed or unknown (`link_token_invalid`), a bad
/// `filter=` (`invalid_filter`: position and what was expected, in
/// `errors.filter`) or a cursor this server did not issue for this sort
/// (`invalid_cursor`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// No usable credentials: `unauthenticated`, `invalid_token`, `token_expired`,
/// `session_revoked`, `invalid_credentials` or `invalid_refresh_token`.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"roster\"`, with `error=\"invalid_token\"` for a refused token"))
)]
pub struct Unauthorized(#[allow(dead_code)] Problem);

/// Not allowed: `forbidden` (with the rule in `reason`, and the missing
/// `permission` for `missing_permission`), `account_disabled`,
/// `email_not_verified`, `no_organization` or `registration_closed`.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// No such resource (`not_found`); a malformed id is not found either.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(#[allow(dead_code)] Problem);

/// A clash with what exists: the email address is in use (`email_taken`),
/// the slug is taken (`slug_taken`), the organization already has a role of
/// that name (`role_name_taken`) or registered that permission
/// (`permission_taken`), the user is already a member (`already_member`),
/// members or roles still refer to what is being deleted (`in_use`), or the
/// resource is not in a state that allows this (`invalid_state`, with the
/// rule in `reason`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(#[allow(dead_code)] Problem);

/// The link's token was good once and is not any more: `link_token_used`,
/// `link_token_expired` or `link_token_superseded` (a newer link was sent).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Gone(#[allow(dead_code)] Problem);

/// Too many requests for this address or from this client (`rate_limited`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = String, description = "Seconds until the limit resets"))
)]
pub struct TooManyRequests(#[allow(dead_code)] Problem);

/// The body is larger than the configured limit (`payload_too_large`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

/// The body is not of a type the operation takes (`unsupported_media_type`:
/// JSON for most; a form or an image type for a picture), or a picture is
/// not a JPEG, PNG or WebP by its bytes (`unsupported_image`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// The body is JSON but invalid (`validation_failed`): `errors` lists every
/// bad field (a picture's form: `image`); or a picture is larger than the
/// server takes (`image_too_large`) or truncated or corrupt (`invalid_image`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnprocessableEntity(#[allow(dead_code)] Problem);

/// An unexpected error (`internal_error`); the detail is generic, quote the request id.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InternalError(#[allow(dead_code)] Problem);

/// A dependency (the database, the object store) is down
/// (`service_unavailable`); retry later. Nothing was written.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = String, description = "Seconds to wait before retrying"))
)]
pub struct ServiceUnavailable(#[allow(dead_code)] Problem);

/// The request's head or body did not arrive in time (`request_timeout`,
/// answered at the connection, which then closes).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct RequestTimeout(#[allow(dead_code)] Problem);

/// The request line is longer than the server reads (`uri_too_long`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UriTooLong(#[allow(dead_code)] Problem);

/// The request's header fields are too large or too many (`headers_too_large`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct HeadersTooLarge(#[allow(dead_code)] Problem);

/// What the connection's guard (`crate::edge`) may answer to any request,
/// before routing: a malformed head (`400`), a head or body too slow
/// (`408`), a request line or head too large (`414`, `431`), and a client
/// past its connection cap (`503 too_many_connections`). The document adds
/// these to every operation that does not already list the status.
pub const EDGE_ANSWERS: [(&str, &str); 5] = [
    ("400", "BadRequest"),
    ("408", "RequestTimeout"),
    ("414", "UriTooLong"),
    ("431", "HeadersTooLarge"),
    ("503", "ServiceUnavailable"),
];

/// The references to `components.responses` entries, by status.
fn refs(pairs: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    pairs.iter().map(|(status, name)| (status.to_string(), RefOr::Ref(Ref::from_response_name(*name)))).collect()
}

/// Lists each problem type under its status, so a route names it once.
macro_rules! at_status {
    ($($name:ident = $status:literal),* $(,)?) => {$(
        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                refs(&[($status, stringify!($name))])
            }
        }
    )*};
}

at_status!(
    BadRequest = "400",
    Unauthorized = "401",
    Forbidden = "403",
    NotFound = "404",
    Conflict = "409",
    Gone = "410",
    RequestTimeout = "408",
    PayloadTooLarge = "413",
    UriTooLong = "414",
    HeadersTooLarge = "431",
    UnsupportedMediaType = "415",
    UnprocessableEntity = "422",
    TooManyRequests = "429",
    InternalError = "500",
    ServiceUnavailable = "503",
);

/// What any route can answer when the server or a dependency fails: `500`
/// ([`InternalError`]) and `503` ([`ServiceUnavailable`]).
pub struct ServerErrors;

impl IntoResponses for ServerErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&[("500", "InternalError"), ("503", "ServiceUnavailable")])
    }
}

/// What any route with a JSON body can answer about the body: `413`
/// ([`PayloadTooLarge`]), `415` ([`UnsupportedMediaType`]) and `422`
/// ([`UnprocessableEntity`]).
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&[("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType"), ("422", "UnprocessableEntity")])
    }
}
