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
        BadRequest, Conflict, Forbidden, Gone, HeadersTooLarge, InternalError, NotFound, PayloadTooLarge, Problem,
        RequestTimeout, ServiceUnavailable, TooManyRequests, Unauthorized, UnprocessableEntity, UnsupportedMediaType,
        UriTooLong, EDGE_ANSWERS,
    },
    routes::{
        account, allowed_ips, api_keys, auth, images, invitations, me, mfa, ops, org_invitations, org_members, orgs,
        outbox, push_tokens, security, sessions, settings, user_list, users,
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

/// `GET /users?fields=…` (and the members list) return each user projected
/// to the members named: the list's items are a `UserProjection`, the
/// `User` schema with only `id` required.
struct Projections;

impl Projections {
    /// `schema` (JSON) with only `id` required, at its top and in its `allOf` parts.
    fn only_id_required(schema: &mut serde_json::Value) {
        if let Some(required) = schema.get_mut("required") {
            *required = serde_json::json!(["id"]);
        }
        for part in schema.get_mut("allOf").and_then(|a| a.as_array_mut()).into_iter().flatten() {
            if let Some(required) = part.get_mut("required") {
                *required = serde_json::json!(["id"]);
            }
        }
    }
}

impl Modify for Projections {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        let Some(mut user) = components.schemas.get("User").and_then(|u| serde_json::to_value(u).ok()) else {
            return;
        };
        Self::only_id_required(&mut user);
        user["description"] = "A user with the members that `fields` names (`id` always is), or all of them".into();
        let Some(list) = components.schemas.get("UserListResponse").and_then(|l| serde_json::to_value(l).ok()) else {
            return;
        };
        let mut list = list;
        list["properties"]["data"]["items"] = serde_json::json!({"$ref": "#/components/schemas/UserProjection"});
        if let (Ok(user), Ok(list)) = (serde_json::from_value(user), serde_json::from_value(list)) {
            components.schemas.insert("UserProjection".to_owned(), user);
            components.schemas.insert("UserListResponse".to_owned(), list);
        }
    }
}

/// The connection's guard answers some requests before any route sees them
/// ([`EDGE_ANSWERS`]): every operation lists those statuses, so a client
/// (and the documented-status checks) know every answer it can get.
struct EdgeAnswers;

impl Modify for EdgeAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Ref, RefOr};
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for op in operations.into_iter().flatten() {
                for (status, name) in EDGE_ANSWERS {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
            }
        }
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
        images::put_my_avatar, images::delete_my_avatar,
        images::get_user_avatar, images::put_user_avatar, images::delete_user_avatar, images::get_image,
        auth::verify_mfa,
        mfa::begin, mfa::confirm, mfa::turn_off, mfa::new_recovery_codes, mfa::reset,
        security::my_security, security::unlock,
        settings::get_my_settings, settings::patch_my_settings,
        settings::get_user_settings, settings::patch_user_settings,
        push_tokens::register_token, push_tokens::list_my_tokens, push_tokens::delete_token,
        push_tokens::member_tokens,
        sessions::list_my_sessions, sessions::revoke_my_sessions, sessions::revoke_my_session,
        sessions::list_user_sessions, sessions::revoke_user_sessions, sessions::revoke_user_session,
        allowed_ips::list_allowed_ips, allowed_ips::add_allowed_ip, allowed_ips::remove_allowed_ip,
        allowed_ips::patch_security, allowed_ips::bulk_security, allowed_ips::bulk_add, allowed_ips::bulk_remove,
        allowed_ips::my_ip,
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
        schemas(Problem, org_invitations::JoinedResponse, images::PictureSize, sessions::SessionScope),
        responses(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Gone, RequestTimeout, PayloadTooLarge, UriTooLong, UnsupportedMediaType, UnprocessableEntity, TooManyRequests, HeadersTooLarge, InternalError, ServiceUnavailable),
    ),
    modifiers(&BearerAuth, &Projections, &EdgeAnswers),
    tags(
        (name = "auth", description = "Registration, sign-in and tokens"),
        (name = "me", description = "The caller's own account"),
        (name = "users", description = "User administration"),
        (name = "invitations", description = "Inviting people by email"),
        (name = "images", description = "Users' pictures, served without a token"),
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

#[cfg(test)]
mod tests {
    use roster_domain::values::limits;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::to_value(super::document()).unwrap_or(Value::Null)
    }

    #[test]
    fn every_operation_lists_what_the_edge_may_answer() {
        let doc = doc();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                operations += 1;
                for (status, _) in super::EDGE_ANSWERS {
                    assert!(op["responses"].get(status).is_some(), "{method} {path} lacks {status}");
                }
            }
        }
        assert!(operations > 60, "{operations} operations");
        assert!(doc["components"]["responses"]["UriTooLong"].is_object());
    }

    /// The query parameter `name` of `method path`.
    fn param<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
        let params = doc["paths"][path][method]["parameters"].as_array();
        params.into_iter().flatten().find(|p| p["name"] == name).map_or(&Value::Null, |p| &p["schema"])
    }

    #[test]
    fn the_documented_limits_are_the_validators_constants() {
        let doc = doc();
        for (path, method) in [
            ("/api/v1/users", "get"),
            ("/api/v1/orgs", "get"),
            ("/api/v1/outbox", "get"),
            ("/api/v1/invitations", "get"),
            ("/api/v1/orgs/{id}/locations", "get"),
            ("/api/v1/orgs/{id}/members", "get"),
        ] {
            assert_eq!(param(&doc, path, method, "page")["maximum"], limits::MAX_PAGE, "{method} {path} page");
            assert_eq!(param(&doc, path, method, "per_page")["maximum"], limits::MAX_PER_PAGE, "{method} {path}");
            assert_eq!(param(&doc, path, method, "limit")["maximum"], limits::MAX_PER_PAGE, "{method} {path}");
        }
        assert_eq!(param(&doc, "/api/v1/users", "get", "q")["maxLength"], limits::QUERY_TEXT_MAX);
        let page = param(&doc, "/api/v1/users", "get", "page")["description"].as_str().unwrap_or_default();
        assert!(page.contains("`after`"), "{page}");

        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["Email"]["maxLength"], limits::EMAIL_MAX);
        let cidr = &schemas["AllowedIpInput"]["properties"]["cidr"];
        assert_eq!(cidr["maxLength"], roster_domain::user::MAX_CIDR_INPUT);
        assert_eq!(
            schemas["BulkAllowedIpInput"]["properties"]["cidr"]["maxLength"],
            roster_domain::user::MAX_CIDR_INPUT
        );
        let emails = &schemas["BulkSecurityInput"]["properties"]["emails"];
        assert_eq!(emails["maxItems"], roster_domain::user::MAX_BULK_EMAILS, "{emails}");
        let ids = &schemas["BulkAllowedIpInput"]["properties"]["user_ids"];
        assert_eq!(ids["maxItems"], roster_domain::user::MAX_BULK_TARGETS, "{ids}");
        assert!(schemas["IpPolicy"]["properties"]["items"].is_object(), "{}", schemas["IpPolicy"]);
        assert_eq!(schemas["Email"]["format"], "email");
        let org = &schemas["NewOrgInput"]["properties"];
        assert_eq!(org["slug"]["maxLength"], limits::IDENTIFIER_MAX);
        assert_eq!(org["slug"]["pattern"], limits::slug_pattern().as_str());
        assert_eq!(org["name"]["maxLength"], limits::NAME_MAX);
        let role = &schemas["NewRoleInput"]["properties"];
        assert_eq!(role["name"]["pattern"], limits::role_name_pattern().as_str());
        assert_eq!(role["description"]["maxLength"], limits::DESCRIPTION_MAX);
        assert_eq!(role["permissions"]["maxItems"], limits::MAX_ITEMS);
        assert_eq!(role["permissions"]["items"]["maxLength"], limits::PERMISSION_MAX);
        let statuses = param(&doc, "/api/v1/outbox", "get", "status");
        assert!(statuses.to_string().contains("#/components/schemas/OutboxStatus"), "{statuses}");
    }
}
