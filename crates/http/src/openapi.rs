//! The OpenAPI 3.1 document: every route, its bodies, its problem responses
//! (one shared [`Problem`] schema, the response types of
//! [`crate::error`]) and the bearer security scheme. The app serves it as
//! built once at start-up ([`document`]).

use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::{
    error::{
        BadRequest, Conflict, Forbidden, Gone, InternalError, NotFound, PayloadTooLarge, Problem, ServiceUnavailable,
        TooManyRequests, Unauthorized, UnprocessableEntity, UnsupportedMediaType,
    },
    routes::{
        account, api_keys, auth, invitations, me, ops, org_invitations, org_members, orgs, outbox, user_list, users,
    },
};

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

/// The document, generated from the handlers' annotations.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
