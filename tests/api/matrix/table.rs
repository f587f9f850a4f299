//! The matrix itself: one row per documented operation (more for operations
//! on a user, once per [`Target`]), with the expected outcome for each actor.

/// What an actor must be answered. `Allowed` and `Public` pass on any status
/// but 401, 403, 404, 405 and 5xx: a `400`, `409` or `422` from a minimal
/// body got past authorization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Authorized.
    Allowed,
    /// The route needs no authentication: anonymous callers are let through.
    Public,
    /// `401`: no token.
    Unauthenticated,
    /// `403`: authenticated, not permitted.
    Forbidden,
    /// `404`: another tenant's resource, which does not exist for the caller.
    Hidden,
    /// Not tried: an API key has no account of its own, so rows on the
    /// caller's own user are for users only (the row's other-user twin
    /// covers keys).
    NoSelf,
}

/// The callers, in the order of a row's `expect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    Member,
    Admin,
    ForeignAdmin,
    Superadmin,
    /// An API key with every built-in permission: org A's on organization
    /// routes, the default organization's on the platform's.
    Key,
    /// The same organizations' keys with no permission at all.
    KeyWithout,
}

pub const ACTORS: [Actor; 7] = [
    Actor::Anonymous,
    Actor::Member,
    Actor::Admin,
    Actor::ForeignAdmin,
    Actor::Superadmin,
    Actor::Key,
    Actor::KeyWithout,
];

/// Whose user a `{id}` of `/users/{id}…` or a `{user}` of
/// `/orgs/{id}/members/{user}…` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The path names no user.
    Nobody,
    /// The caller (anonymous: another user).
    Own,
    /// An ordinary user of the default organization, a plain member of org A.
    Other,
}

pub struct Row {
    /// Upper-case, as sent.
    pub method: &'static str,
    /// The path template, exactly as the OpenAPI document spells it.
    pub path: &'static str,
    /// Appended to the filled-in path.
    pub query: &'static str,
    pub target: Target,
    /// A JSON body that passes deserialization (so the request reaches the
    /// authorization decision), with placeholders: `{email}`, `{slug}` and
    /// `{perm}` become fresh values, `{target_email}` the target's address,
    /// `{candidate}` the id of a user who is in no organization but the default.
    pub body: Option<&'static str>,
    /// Anonymous, member, admin, foreign admin, superadmin, key, key without permissions.
    pub expect: [Expect; 7],
    /// The admin's session switched to org A, where it differs from the
    /// admin's (organization routes only): there they are only A's owner.
    pub admin_in_a: Option<Expect>,
}

use Expect::{Allowed as A, Forbidden as F, Hidden as H, NoSelf as X, Public as P, Unauthenticated as U};
use Target::{Nobody, Other, Own};

const fn r(method: &'static str, path: &'static str, target: Target, body: &'static str, expect: [Expect; 7]) -> Row {
    let body = if body.is_empty() { None } else { Some(body) };
    Row { method, path, query: "", target, body, expect, admin_in_a: None }
}

const fn q(method: &'static str, path: &'static str, query: &'static str, expect: [Expect; 7]) -> Row {
    Row { method, path, query, target: Nobody, body: None, expect, admin_in_a: None }
}

impl Row {
    const fn admin_in_a(self, expect: Expect) -> Row {
        Row { admin_in_a: Some(expect), ..self }
    }
}

/// A superadmin belongs to no organization, so "their own membership" in
/// org A does not exist: `404`, like any unknown member.
const NOT_A_MEMBER: Expect = H;

/// The public `/auth/*` routes get `{}`: a `422` shows they parsed the body
/// without asking for a token (a parsable body would risk a `401
/// invalid_credentials` that says nothing about authorization).
#[rustfmt::skip]
pub const MATRIX: &[Row] = &[
    //  method    path                                             target  body                                               anon member admin foreign super key key-without
    r("POST",   "/api/v1/auth/register",                         Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    r("POST",   "/api/v1/auth/login",                            Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    r("POST",   "/api/v1/auth/refresh",                          Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    r("POST",   "/api/v1/auth/mfa/verify",                       Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    // Ends the bearer's session (callers get a fresh one), or the body's.
    // An API key has no session to end (it is revoked instead).
    r("POST",   "/api/v1/auth/logout",                           Nobody, "{}",                                               [P, P, P, P, P, F, F]),
    r("POST",   "/api/v1/auth/password/forgot",                  Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    r("POST",   "/api/v1/auth/password/reset",                   Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    r("POST",   "/api/v1/auth/email/verify",                     Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    r("POST",   "/api/v1/auth/email/resend",                     Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    r("POST",   "/api/v1/auth/invitations/accept",               Nobody, "{}",                                               [P, P, P, P, P, P, P]),
    r("POST",   "/api/v1/auth/org-invitations/accept",           Nobody, "{}",                                               [P, P, P, P, P, P, P]),

    r("GET",    "/api/v1/me",                                    Nobody, "",                                                 [U, A, A, A, A, F, F]),
    r("PATCH",  "/api/v1/me",                                    Nobody, "{}",                                               [U, A, A, A, A, F, F]),
    r("POST",   "/api/v1/me/password",                           Nobody, "{}",                                               [U, A, A, A, A, F, F]),
    r("POST",   "/api/v1/me/email",                              Nobody, "{}",                                               [U, A, A, A, A, F, F]),
    r("GET",    "/api/v1/me/security",                           Nobody, "",                                                 [U, A, A, A, A, F, F]),
    r("POST",   "/api/v1/me/mfa/totp",                           Nobody, "{}",                                               [U, A, A, A, A, F, F]),
    r("DELETE", "/api/v1/me/mfa/totp",                           Nobody, "{}",                                               [U, A, A, A, A, F, F]),
    r("POST",   "/api/v1/me/mfa/totp/confirm",                   Nobody, "{}",                                               [U, A, A, A, A, F, F]),
    r("POST",   "/api/v1/me/mfa/recovery-codes",                 Nobody, "{}",                                               [U, A, A, A, A, F, F]),
    // The body is JSON, not a picture: an authorized caller gets `415`.
    r("PUT",    "/api/v1/me/avatar",                             Nobody, "{}",                                               [U, A, A, A, A, F, F]),
    r("DELETE", "/api/v1/me/avatar",                             Nobody, "",                                                 [U, A, A, A, A, F, F]),
    // Pictures are public: their ids are unguessable (`{id}` is `null` here, the default image).
    r("GET",    "/api/v1/images/{id}",                           Nobody, "",                                                 [P, P, P, P, P, P, P]),
    r("GET",    "/api/v1/me/settings",                           Nobody, "",                                                 [U, A, A, A, A, F, F]),
    r("PATCH",  "/api/v1/me/settings",                           Nobody, r#"{"notifications": {"invites": true}}"#,          [U, A, A, A, A, F, F]),
    r("GET",    "/api/v1/me/push-tokens",                        Nobody, "",                                                 [U, A, A, A, A, F, F]),
    r("POST",   "/api/v1/me/push-tokens",                        Nobody, r#"{"token": "ExponentPushToken[{slug}]", "provider": "expo"}"#, [U, A, A, A, A, F, F]),
    // Each caller deletes a token of their own, registered for the call.
    r("DELETE", "/api/v1/me/push-tokens/{id}",                   Nobody, "",                                                 [U, A, A, A, A, F, F]),
    // One's own sessions. Ending them spends fresh sessions of the callers;
    // `scope=others` ends the actors' other sessions too, renewed after the row.
    r("GET",    "/api/v1/me/sessions",                           Nobody, "",                                                 [U, A, A, A, A, F, F]),
    q("DELETE", "/api/v1/me/sessions", "?scope=others",                                                                     [U, A, A, A, A, F, F]),
    r("DELETE", "/api/v1/me/sessions/{id}",                      Nobody, "",                                                 [U, A, A, A, A, F, F]),
    // Host services: `push_tokens:read` in the caller's organization, which
    // owners (and so the superadmin) hold, and admins and members do not.
    q("GET",    "/api/v1/push-tokens", "?email=nobody@example.com",                                                          [U, F, F, F, A, A, F]),
    // The address Roster sees, and whether the caller may sign in from it.
    r("GET",    "/api/v1/me/ip",                                 Nobody, "",                                                 [U, A, A, A, A, F, F]),

    // The platform's users: default-organization permissions. A foreign
    // organization's owner is a plain member of the default organization.
    r("GET",    "/api/v1/users",                                 Nobody, "",                                                 [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/users",                                 Nobody, r#"{"email": "{email}", "password": "correct horse battery"}"#, [U, F, A, F, A, A, F]),
    r("GET",    "/api/v1/users/count",                           Nobody, "",                                                 [U, F, A, F, A, A, F]),
    r("GET",    "/api/v1/users/{id}",                            Own,    "",                                                 [U, A, A, A, A, X, X]),
    r("GET",    "/api/v1/users/{id}",                            Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("PATCH",  "/api/v1/users/{id}",                            Own,    "{}",                                               [U, A, A, A, A, X, X]),
    r("PATCH",  "/api/v1/users/{id}",                            Other,  "{}",                                               [U, F, A, F, A, A, F]),
    r("PUT",    "/api/v1/users/{id}",                            Own,    r#"{"email": "{target_email}"}"#,                   [U, A, A, A, A, X, X]),
    r("PUT",    "/api/v1/users/{id}",                            Other,  r#"{"email": "{target_email}"}"#,                   [U, F, A, F, A, A, F]),
    // Nobody deletes, (de)activates or bans their own account, not even a superadmin.
    r("DELETE", "/api/v1/users/{id}",                            Own,    "",                                                 [U, F, F, F, F, X, X]),
    r("DELETE", "/api/v1/users/{id}",                            Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/users/{id}/activate",                   Own,    "",                                                 [U, F, F, F, F, X, X]),
    r("POST",   "/api/v1/users/{id}/activate",                   Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/users/{id}/deactivate",                 Own,    "",                                                 [U, F, F, F, F, X, X]),
    r("POST",   "/api/v1/users/{id}/deactivate",                 Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/users/{id}/ban",                        Own,    "",                                                 [U, F, F, F, F, X, X]),
    r("POST",   "/api/v1/users/{id}/ban",                        Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/users/{id}/password-reset",             Own,    "",                                                 [U, F, F, F, F, X, X]),
    r("POST",   "/api/v1/users/{id}/password-reset",             Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("DELETE", "/api/v1/users/{id}/mfa",                        Own,    "",                                                 [U, F, F, F, F, X, X]),
    r("DELETE", "/api/v1/users/{id}/mfa",                        Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/users/{id}/unlock",                     Own,    "",                                                 [U, F, F, F, F, X, X]),
    r("POST",   "/api/v1/users/{id}/unlock",                     Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("GET",    "/api/v1/users/{id}/avatar",                     Own,    "",                                                 [U, A, A, A, A, X, X]),
    r("GET",    "/api/v1/users/{id}/avatar",                     Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("PUT",    "/api/v1/users/{id}/avatar",                     Own,    "{}",                                               [U, A, A, A, A, X, X]),
    r("PUT",    "/api/v1/users/{id}/avatar",                     Other,  "{}",                                               [U, F, A, F, A, A, F]),
    r("DELETE", "/api/v1/users/{id}/avatar",                     Own,    "",                                                 [U, A, A, A, A, X, X]),
    r("DELETE", "/api/v1/users/{id}/avatar",                     Other,  "",                                                 [U, F, A, F, A, A, F]),
    // Settings: read as GET /users/{id}, changed as PATCH /users/{id}.
    r("GET",    "/api/v1/users/{id}/settings",                   Own,    "",                                                 [U, A, A, A, A, X, X]),
    r("GET",    "/api/v1/users/{id}/settings",                   Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("PATCH",  "/api/v1/users/{id}/settings",                   Own,    "{}",                                               [U, A, A, A, A, X, X]),
    r("PATCH",  "/api/v1/users/{id}/settings",                   Other,  r#"{"app": {"matrix": true}}"#,                     [U, F, A, F, A, A, F]),
    // IP allowlists: read as GET /users/{id}; changed with `users:write`,
    // one's own too (it is an administrator's policy, not the user's).
    r("GET",    "/api/v1/users/{id}/allowed-ips",                Own,    "",                                                 [U, A, A, A, A, X, X]),
    r("GET",    "/api/v1/users/{id}/allowed-ips",                Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/users/{id}/allowed-ips",                Own,    r#"{"cidr": "192.0.2.7"}"#,                         [U, F, A, F, A, X, X]),
    r("POST",   "/api/v1/users/{id}/allowed-ips",                Other,  r#"{"cidr": "192.0.2.7"}"#,                         [U, F, A, F, A, A, F]),
    r("DELETE", "/api/v1/users/{id}/allowed-ips/{entry}",        Own,    "",                                                 [U, F, A, F, A, X, X]),
    r("DELETE", "/api/v1/users/{id}/allowed-ips/{entry}",        Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("PATCH",  "/api/v1/users/{id}/security",                   Own,    r#"{"block_unknown_ips": false}"#,                  [U, F, A, F, A, X, X]),
    r("PATCH",  "/api/v1/users/{id}/security",                   Other,  r#"{"block_unknown_ips": false}"#,                  [U, F, A, F, A, A, F]),
    // The bulk forms: `users:write` where the caller acts, then per user (a report).
    r("POST",   "/api/v1/users/security",                        Nobody, r#"{"emails": ["nobody@example.com"], "block_unknown_ips": false}"#, [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/allowed-ips",                           Nobody, r#"{"cidr": "192.0.2.7", "emails": ["nobody@example.com"]}"#, [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/allowed-ips/remove",                    Nobody, r#"{"cidr": "192.0.2.7", "emails": ["nobody@example.com"]}"#, [U, F, A, F, A, A, F]),

    // A user's sessions: `sessions:revoke` where the caller acts, on
    // themselves too. Ending all of one's own (a fresh session of each
    // caller's) ends the actors' other sessions, renewed after the row.
    r("GET",    "/api/v1/users/{id}/sessions",                   Own,    "",                                                 [U, F, A, F, A, X, X]),
    r("GET",    "/api/v1/users/{id}/sessions",                   Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("DELETE", "/api/v1/users/{id}/sessions",                   Own,    "",                                                 [U, F, A, F, A, X, X]),
    r("DELETE", "/api/v1/users/{id}/sessions",                   Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("DELETE", "/api/v1/users/{id}/sessions/{sid}",             Own,    "",                                                 [U, F, A, F, A, X, X]),
    r("DELETE", "/api/v1/users/{id}/sessions/{sid}",             Other,  "",                                                 [U, F, A, F, A, A, F]),
    r("GET",    "/api/v1/invitations",                           Nobody, "",                                                 [U, F, A, F, A, A, F]),
    r("POST",   "/api/v1/invitations",                           Nobody, r#"{"email": "{email}"}"#,                          [U, F, A, F, A, A, F]),
    r("DELETE", "/api/v1/invitations/{id}",                      Nobody, "",                                                 [U, F, A, F, A, A, F]),

    r("GET",    "/api/v1/outbox",                                Nobody, "",                                                 [U, F, F, F, A, F, F]),
    r("POST",   "/api/v1/outbox/{id}/retry",                     Nobody, "{}",                                               [U, F, F, F, A, F, F]),

    // Organizations: "admin" is org A's owner, the foreign admin owns org B.
    r("GET",    "/api/v1/orgs",                                  Nobody, "",                                                 [U, A, A, A, A, A, A]),
    r("POST",   "/api/v1/orgs",                                  Nobody, r#"{"name": "Matrix", "slug": "{slug}"}"#,          [U, F, F, F, A, F, F]),
    r("GET",    "/api/v1/orgs/{id}",                             Nobody, "",                                                 [U, A, A, H, A, A, A]),
    r("PATCH",  "/api/v1/orgs/{id}",                             Nobody, "{}",                                               [U, F, A, H, A, A, F]),
    r("DELETE", "/api/v1/orgs/{id}",                             Nobody, "",                                                 [U, F, F, H, A, H, H]),
    r("GET",    "/api/v1/orgs/{id}/roles",                       Nobody, "",                                                 [U, A, A, H, A, A, A]),
    r("POST",   "/api/v1/orgs/{id}/roles",                       Nobody, r#"{"name": "{slug}"}"#,                            [U, F, A, H, A, A, F]),
    r("GET",    "/api/v1/orgs/{id}/roles/{role}",                Nobody, "",                                                 [U, A, A, H, A, A, A]),
    r("PATCH",  "/api/v1/orgs/{id}/roles/{role}",                Nobody, "{}",                                               [U, F, A, H, A, A, F]),
    r("DELETE", "/api/v1/orgs/{id}/roles/{role}",                Nobody, "",                                                 [U, F, A, H, A, A, F]),
    r("GET",    "/api/v1/permissions",                           Nobody, "",                                                 [U, A, A, A, A, A, A]),
    q("GET",    "/api/v1/permissions", "?org_id={org}",                                                                      [U, A, A, H, A, A, A]),
    r("GET",    "/api/v1/orgs/{id}/permissions",                 Nobody, "",                                                 [U, A, A, H, A, A, A]),
    r("POST",   "/api/v1/orgs/{id}/permissions",                 Nobody, r#"{"name": "{perm}"}"#,                            [U, F, A, H, A, A, F]),
    r("DELETE", "/api/v1/orgs/{id}/permissions/{name}",          Nobody, "",                                                 [U, F, A, H, A, A, F]),
    r("GET",    "/api/v1/orgs/{id}/locations",                   Nobody, "",                                                 [U, A, A, H, A, A, A]),
    r("POST",   "/api/v1/orgs/{id}/locations",                   Nobody, r#"{"name": "Hall", "timezone": "UTC"}"#,           [U, F, A, H, A, A, F]),
    r("GET",    "/api/v1/orgs/{id}/locations/{location}",        Nobody, "",                                                 [U, A, A, H, A, A, A]),
    r("PATCH",  "/api/v1/orgs/{id}/locations/{location}",        Nobody, "{}",                                               [U, F, A, H, A, A, F]),
    r("DELETE", "/api/v1/orgs/{id}/locations/{location}",        Nobody, "",                                                 [U, F, A, H, A, A, F]),
    // The member list is the directory: it takes users:read, which a plain member lacks.
    r("GET",    "/api/v1/orgs/{id}/members",                     Nobody, "",                                                 [U, F, A, H, A, A, F]),
    // Adding an existing user by id also takes a platform user administrator:
    // users:write in a default-organization session (or a superadmin).
    r("POST",   "/api/v1/orgs/{id}/members",                     Nobody, r#"{"user_id": "{candidate}"}"#,                    [U, F, A, H, A, F, F]).admin_in_a(F),
    r("GET",    "/api/v1/orgs/{id}/members/{user}",              Own,    "",                                                 [U, A, A, H, NOT_A_MEMBER, X, X]),
    r("GET",    "/api/v1/orgs/{id}/members/{user}",              Other,  "",                                                 [U, A, A, H, A, A, A]),
    // Changing nothing about oneself is fine for the owner; a plain member may not manage members.
    r("PATCH",  "/api/v1/orgs/{id}/members/{user}",              Own,    "{}",                                               [U, F, A, H, NOT_A_MEMBER, X, X]),
    r("PATCH",  "/api/v1/orgs/{id}/members/{user}",              Other,  "{}",                                               [U, F, A, H, A, A, F]),
    // The owner is org A's only owner, whom nobody removes.
    r("DELETE", "/api/v1/orgs/{id}/members/{user}",              Own,    "",                                                 [U, F, F, H, NOT_A_MEMBER, X, X]),
    r("DELETE", "/api/v1/orgs/{id}/members/{user}",              Other,  "",                                                 [U, F, A, H, A, A, F]),
    r("GET",    "/api/v1/orgs/{id}/members/{user}/permissions",  Own,    "",                                                 [U, A, A, H, NOT_A_MEMBER, X, X]),
    r("GET",    "/api/v1/orgs/{id}/members/{user}/permissions",  Other,  "",                                                 [U, A, A, H, A, A, A]),
    r("PUT",    "/api/v1/orgs/{id}/members/{user}/permissions",  Own,    r#"{"permissions": []}"#,                           [U, F, A, H, NOT_A_MEMBER, X, X]),
    r("PUT",    "/api/v1/orgs/{id}/members/{user}/permissions",  Other,  r#"{"permissions": []}"#,                           [U, F, A, H, A, A, F]),
    // Nobody (de)activates themselves in an organization (the owner is also A's last active owner).
    r("POST",   "/api/v1/orgs/{id}/members/{user}/activate",     Own,    "",                                                 [U, F, F, H, NOT_A_MEMBER, X, X]),
    r("POST",   "/api/v1/orgs/{id}/members/{user}/activate",     Other,  "",                                                 [U, F, A, H, A, A, F]),
    r("POST",   "/api/v1/orgs/{id}/members/{user}/deactivate",   Own,    "",                                                 [U, F, F, H, NOT_A_MEMBER, X, X]),
    r("POST",   "/api/v1/orgs/{id}/members/{user}/deactivate",   Other,  "",                                                 [U, F, A, H, A, A, F]),
    r("GET",    "/api/v1/orgs/{id}/invitations",                 Nobody, "",                                                 [U, F, A, H, A, A, F]),
    r("POST",   "/api/v1/orgs/{id}/invitations",                 Nobody, r#"{"email": "{email}"}"#,                          [U, F, A, H, A, A, F]),
    r("DELETE", "/api/v1/orgs/{id}/invitations/{invitation}",    Nobody, "",                                                 [U, F, A, H, A, A, F]),
    r("GET",    "/api/v1/orgs/{id}/api-keys",                    Nobody, "",                                                 [U, F, A, H, A, A, F]),
    r("POST",   "/api/v1/orgs/{id}/api-keys",                    Nobody, r#"{"name": "matrix"}"#,                            [U, F, A, H, A, A, F]),
    r("GET",    "/api/v1/orgs/{id}/api-keys/{key}",              Nobody, "",                                                 [U, F, A, H, A, A, F]),
    r("DELETE", "/api/v1/orgs/{id}/api-keys/{key}",              Nobody, "",                                                 [U, F, A, H, A, A, F]),

    r("GET",    "/.well-known/jwks.json",                        Nobody, "",                                                 [P, P, P, P, P, P, P]),
    r("GET",    "/health/live",                                  Nobody, "",                                                 [P, P, P, P, P, P, P]),
    r("GET",    "/health/ready",                                 Nobody, "",                                                 [P, P, P, P, P, P, P]),
    // Only the bearer of `metrics.token` (set in every test app), which no actor holds.
    r("GET",    "/metrics",                                      Nobody, "",                                                 [U, U, U, U, U, U, U]),
    r("GET",    "/api/v1/openapi.json",                          Nobody, "",                                                 [P, P, P, P, P, P, P]),
    r("GET",    "/docs",                                         Nobody, "",                                                 [P, P, P, P, P, P, P]),
];

/// Served but not operations of the document (Swagger UI's files under
/// `/docs/`): public, checked as such.
pub const UNDOCUMENTED_PUBLIC: &[&str] = &["/docs/", "/docs/swagger-initializer.js"];
