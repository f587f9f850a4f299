//! The OpenAPI 3.1 document: every route, its bodies, its problem responses
//! (one shared [`Problem`] schema) and the bearer security scheme.

use std::collections::BTreeMap;

use actix_web::web::Bytes;
use utoipa::{
    openapi::{
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        Ref, RefOr, Response,
    },
    IntoResponses, Modify, OpenApi, ToResponse,
};

use crate::{
    error::Problem,
    routes::{
        account, api_keys, auth, invitations, me, ops, org_invitations, org_members, orgs, outbox, user_list, users,
    },
};

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

/// Not allowed: `forbidden`, `account_disabled`, `email_not_verified` or `registration_closed`.
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
/// resource is not in a state that allows this (`invalid_state`).
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

/// The body is not `application/json` (`unsupported_media_type`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// The body is JSON but invalid (`validation_failed`): `errors` lists every bad field.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnprocessableEntity(#[allow(dead_code)] Problem);

/// An unexpected error (`internal_error`); the detail is generic, quote the request id.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InternalError(#[allow(dead_code)] Problem);

/// A dependency is down (`service_unavailable`); retry later.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = String, description = "Seconds to wait before retrying"))
)]
pub struct ServiceUnavailable(#[allow(dead_code)] Problem);

/// The references to `components.responses` entries, by status.
fn refs(pairs: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    pairs.iter().map(|(status, name)| (status.to_string(), RefOr::Ref(Ref::from_response_name(*name)))).collect()
}

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

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT or API key (rsk_…)").build(),
            ),
        );
    }
}

/// The document, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster",
        description = "Self-hosted user management. Errors are RFC 9457 `application/problem+json` \
                       with a stable `code`; every response carries `X-Request-Id`."
    ),
    paths(
        auth::register, auth::login, auth::refresh, auth::logout,
        account::forgot_password, account::reset_password, account::verify_email, account::resend_verification,
        account::accept_invitation,
        me::get_me, me::patch_me, me::change_password, me::change_email,
        user_list::list_users, users::create_user, user_list::count_users,
        users::get_user, users::patch_user, users::replace_user, users::delete_user,
        users::activate_user, users::deactivate_user, users::ban_user, users::send_password_reset,
        invitations::invite, invitations::list, invitations::revoke,
        outbox::list, outbox::retry,
        orgs::list_orgs, orgs::create_org, orgs::get_org, orgs::update_org, orgs::delete_org,
        orgs::list_roles, orgs::create_role, orgs::get_role, orgs::update_role, orgs::delete_role,
        orgs::list_permissions, orgs::org_permissions, orgs::register_permission, orgs::delete_permission,
        org_members::list_locations, org_members::create_location, org_members::get_location,
        org_members::update_location, org_members::delete_location,
        org_members::list_members, org_members::add_member, org_members::get_member, org_members::update_member,
        org_members::remove_member, org_members::member_permissions, org_members::set_member_permissions,
        org_members::activate_member, org_members::deactivate_member,
        api_keys::list, api_keys::create, api_keys::get, api_keys::revoke,
        org_invitations::invite, org_invitations::list, org_invitations::revoke, org_invitations::accept,
        ops::jwks, ops::live, ops::ready, ops::metrics, ops::openapi_json, ops::docs,
    ),
    components(
        schemas(Problem, org_invitations::JoinedResponse),
        responses(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, UnprocessableEntity, TooManyRequests, InternalError, ServiceUnavailable),
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Registration, sign-in and tokens"),
        (name = "me", description = "The caller's own account"),
        (name = "users", description = "User administration"),
        (name = "invitations", description = "Inviting people by email"),
        (name = "outbox", description = "Mail delivery, for superadmins"),
        (name = "orgs", description = "Organizations: their roles, permissions, locations and members"),
        (name = "ops", description = "Health, metrics, keys and this document"),
    )
)]
pub struct ApiDoc;

/// The serialized document, built once per app and served as is.
pub struct OpenApiJson(Bytes);

impl OpenApiJson {
    pub fn build() -> OpenApiJson {
        // Serializing the generated document cannot fail; an empty object keeps the route alive if it did.
        let json = ApiDoc::openapi().to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialize the OpenAPI document");
            "{}".into()
        });
        OpenApiJson(Bytes::from(json))
    }

    pub fn bytes(&self) -> Bytes {
        self.0.clone()
    }
}
