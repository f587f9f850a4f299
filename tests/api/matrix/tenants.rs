//! The tenants' side of the matrix: every `/users` route called by the
//! administrators of organization A — its owner, a user manager (a custom
//! role holding only `users:*`), an API key holding only `users:*` — by a
//! plain member acting in A and by the owner of organization B acting in B,
//! each on four kinds of user: one A manages, a member of A the platform
//! manages, one B manages (a member of B only) and a platform user in no
//! organization but the default one.
//!
//! What it holds: an organization sees its members and nobody else (`404`,
//! as for an unknown id); it edits, deactivates, resets and deletes only
//! the accounts it manages (`403 not_managed` for its other members, whose
//! membership it still manages); nobody gives a role above their own
//! permissions. Every `/users` operation of the document needs rows here
//! too, or the test fails.

use super::table::Expect;

use Expect::{Allowed as A, Forbidden as F, Hidden as H};

/// Who calls, in the order of a row's `expect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantActor {
    /// A's owner, acting in A.
    OwnerOfA,
    /// A member of A whose custom role holds exactly `users:*`, acting in A.
    UserManagerOfA,
    /// An API key of A holding exactly `users:*`.
    UsersKeyOfA,
    /// A plain member of A, acting in A.
    MemberInA,
    /// B's owner, acting in B.
    OwnerOfB,
}

pub const TENANT_ACTORS: [TenantActor; 5] = [
    TenantActor::OwnerOfA,
    TenantActor::UserManagerOfA,
    TenantActor::UsersKeyOfA,
    TenantActor::MemberInA,
    TenantActor::OwnerOfB,
];

/// Whose user `{id}` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whom {
    /// The path names no user.
    Nobody,
    /// Created by A: A manages the account, a member of A only.
    Managed,
    /// A platform account that is also a member of A.
    Unmanaged,
    /// Created by B: a member of B only.
    OfB,
    /// A platform account in no organization but the default one.
    Platform,
}

pub struct TenantRow {
    pub method: &'static str,
    /// The path template, as the OpenAPI document spells it.
    pub path: &'static str,
    pub whom: Whom,
    /// With `{email}` a fresh address and `{target_email}` the target's.
    pub body: Option<&'static str>,
    /// Owner of A, user manager of A, users key of A, member in A, owner of B.
    pub expect: [Expect; 5],
}

const fn t(method: &'static str, path: &'static str, whom: Whom, body: &'static str, expect: [Expect; 5]) -> TenantRow {
    let body = if body.is_empty() { None } else { Some(body) };
    TenantRow { method, path, whom, body, expect }
}

use Whom::{Managed, Nobody, OfB, Platform, Unmanaged};

#[rustfmt::skip]
pub const TENANT_MATRIX: &[TenantRow] = &[
    //  method    path                                    whom       body                                                        owner-A manager key member owner-B
    // Each sees its own organization's members.
    t("GET",    "/api/v1/users",                        Nobody,    "",                                                           [A, A, A, F, A]),
    t("GET",    "/api/v1/users/count",                  Nobody,    "",                                                           [A, A, A, F, A]),
    // Creating makes an account the organization manages…
    t("POST",   "/api/v1/users",                        Nobody,    r#"{"email": "{email}", "password": "correct horse battery"}"#, [A, A, A, F, A]),
    // …with no role stronger than the creator: `admin` holds more than `users:*`.
    t("POST",   "/api/v1/users",                        Nobody,    r#"{"email": "{email}", "password": "correct horse battery", "role": "admin"}"#, [A, F, F, F, A]),
    t("GET",    "/api/v1/users/{id}",                   Managed,   "",                                                           [A, A, A, F, H]),
    t("GET",    "/api/v1/users/{id}",                   Unmanaged, "",                                                           [A, A, A, F, H]),
    t("GET",    "/api/v1/users/{id}",                   OfB,       "",                                                           [H, H, H, F, A]),
    t("GET",    "/api/v1/users/{id}",                   Platform,  "",                                                           [H, H, H, F, H]),
    // The account's fields: only where the organization manages it.
    t("PATCH",  "/api/v1/users/{id}",                   Managed,   r#"{"name": "Matrix"}"#,                                      [A, A, A, F, H]),
    t("PATCH",  "/api/v1/users/{id}",                   Unmanaged, r#"{"name": "Matrix"}"#,                                      [F, F, F, F, H]),
    t("PATCH",  "/api/v1/users/{id}",                   OfB,       r#"{"name": "Matrix"}"#,                                      [H, H, H, F, A]),
    t("PATCH",  "/api/v1/users/{id}",                   Platform,  r#"{"name": "Matrix"}"#,                                      [H, H, H, F, H]),
    // The membership: also of members it does not manage, never above one's own permissions.
    t("PATCH",  "/api/v1/users/{id}",                   Unmanaged, r#"{"role": "member"}"#,                                      [A, A, A, F, H]),
    t("PATCH",  "/api/v1/users/{id}",                   Managed,   r#"{"role": "admin"}"#,                                       [A, F, F, F, H]),
    t("PUT",    "/api/v1/users/{id}",                   Managed,   r#"{"email": "{target_email}"}"#,                             [A, A, A, F, H]),
    t("PUT",    "/api/v1/users/{id}",                   Unmanaged, r#"{"email": "{target_email}"}"#,                             [F, F, F, F, H]),
    t("PUT",    "/api/v1/users/{id}",                   OfB,       r#"{"email": "{target_email}"}"#,                             [H, H, H, F, A]),
    t("PUT",    "/api/v1/users/{id}",                   Platform,  r#"{"email": "{target_email}"}"#,                             [H, H, H, F, H]),
    t("DELETE", "/api/v1/users/{id}",                   Managed,   "",                                                           [A, A, A, F, H]),
    t("DELETE", "/api/v1/users/{id}",                   Unmanaged, "",                                                           [F, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}",                   OfB,       "",                                                           [H, H, H, F, A]),
    t("DELETE", "/api/v1/users/{id}",                   Platform,  "",                                                           [H, H, H, F, H]),
    t("POST",   "/api/v1/users/{id}/activate",          Managed,   "",                                                           [A, A, A, F, H]),
    t("POST",   "/api/v1/users/{id}/activate",          Unmanaged, "",                                                           [F, F, F, F, H]),
    t("POST",   "/api/v1/users/{id}/activate",          OfB,       "",                                                           [H, H, H, F, A]),
    t("POST",   "/api/v1/users/{id}/activate",          Platform,  "",                                                           [H, H, H, F, H]),
    t("POST",   "/api/v1/users/{id}/deactivate",        Managed,   "",                                                           [A, A, A, F, H]),
    t("POST",   "/api/v1/users/{id}/deactivate",        Unmanaged, "",                                                           [F, F, F, F, H]),
    t("POST",   "/api/v1/users/{id}/deactivate",        OfB,       "",                                                           [H, H, H, F, A]),
    t("POST",   "/api/v1/users/{id}/deactivate",        Platform,  "",                                                           [H, H, H, F, H]),
    t("POST",   "/api/v1/users/{id}/ban",               Managed,   "",                                                           [A, A, A, F, H]),
    t("POST",   "/api/v1/users/{id}/ban",               Unmanaged, "",                                                           [F, F, F, F, H]),
    t("POST",   "/api/v1/users/{id}/ban",               OfB,       "",                                                           [H, H, H, F, A]),
    t("POST",   "/api/v1/users/{id}/ban",               Platform,  "",                                                           [H, H, H, F, H]),
    t("GET",    "/api/v1/users/{id}/avatar",            Managed,   "",                                                           [A, A, A, F, H]),
    t("GET",    "/api/v1/users/{id}/avatar",            Unmanaged, "",                                                           [A, A, A, F, H]),
    t("GET",    "/api/v1/users/{id}/avatar",            OfB,       "",                                                           [H, H, H, F, A]),
    t("GET",    "/api/v1/users/{id}/avatar",            Platform,  "",                                                           [H, H, H, F, H]),
    t("PUT",    "/api/v1/users/{id}/avatar",            Managed,   "{}",                                                         [A, A, A, F, H]),
    t("PUT",    "/api/v1/users/{id}/avatar",            Unmanaged, "{}",                                                         [F, F, F, F, H]),
    t("PUT",    "/api/v1/users/{id}/avatar",            OfB,       "{}",                                                         [H, H, H, F, A]),
    t("PUT",    "/api/v1/users/{id}/avatar",            Platform,  "{}",                                                         [H, H, H, F, H]),
    t("DELETE", "/api/v1/users/{id}/avatar",            Managed,   "",                                                           [A, A, A, F, H]),
    t("DELETE", "/api/v1/users/{id}/avatar",            Unmanaged, "",                                                           [F, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/avatar",            OfB,       "",                                                           [H, H, H, F, A]),
    t("DELETE", "/api/v1/users/{id}/avatar",            Platform,  "",                                                           [H, H, H, F, H]),
    t("POST",   "/api/v1/users/{id}/password-reset",    Managed,   "",                                                           [A, A, A, F, H]),
    t("POST",   "/api/v1/users/{id}/password-reset",    Unmanaged, "",                                                           [F, F, F, F, H]),
    t("POST",   "/api/v1/users/{id}/password-reset",    OfB,       "",                                                           [H, H, H, F, A]),
    t("POST",   "/api/v1/users/{id}/password-reset",    Platform,  "",                                                           [H, H, H, F, H]),
    t("DELETE", "/api/v1/users/{id}/mfa",               Managed,   "",                                                           [A, A, A, F, H]),
    t("DELETE", "/api/v1/users/{id}/mfa",               Unmanaged, "",                                                           [F, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/mfa",               OfB,       "",                                                           [H, H, H, F, A]),
    t("DELETE", "/api/v1/users/{id}/mfa",               Platform,  "",                                                           [H, H, H, F, H]),
    t("POST",   "/api/v1/users/{id}/unlock",            Managed,   "",                                                           [A, A, A, F, H]),
    t("POST",   "/api/v1/users/{id}/unlock",            Unmanaged, "",                                                           [F, F, F, F, H]),
    t("POST",   "/api/v1/users/{id}/unlock",            OfB,       "",                                                           [H, H, H, F, A]),
    t("POST",   "/api/v1/users/{id}/unlock",            Platform,  "",                                                           [H, H, H, F, H]),
    // Settings: read like the user, changed like the account's fields.
    t("GET",    "/api/v1/users/{id}/settings",          Managed,   "",                                                           [A, A, A, F, H]),
    t("GET",    "/api/v1/users/{id}/settings",          Unmanaged, "",                                                           [A, A, A, F, H]),
    t("GET",    "/api/v1/users/{id}/settings",          OfB,       "",                                                           [H, H, H, F, A]),
    t("GET",    "/api/v1/users/{id}/settings",          Platform,  "",                                                           [H, H, H, F, H]),
    t("PATCH",  "/api/v1/users/{id}/settings",          Managed,   r#"{"app": {"tenant": true}}"#,                               [A, A, A, F, H]),
    t("PATCH",  "/api/v1/users/{id}/settings",          Unmanaged, r#"{"app": {"tenant": true}}"#,                               [F, F, F, F, H]),
    t("PATCH",  "/api/v1/users/{id}/settings",          OfB,       r#"{"app": {"tenant": true}}"#,                               [H, H, H, F, A]),
    t("PATCH",  "/api/v1/users/{id}/settings",          Platform,  r#"{"app": {"tenant": true}}"#,                               [H, H, H, F, H]),
    // Sessions: `sessions:revoke` (not in `users:*`), on the accounts the organization manages.
    t("GET",    "/api/v1/users/{id}/sessions",          Managed,   "",                                                           [A, F, F, F, H]),
    t("GET",    "/api/v1/users/{id}/sessions",          Unmanaged, "",                                                           [F, F, F, F, H]),
    t("GET",    "/api/v1/users/{id}/sessions",          OfB,       "",                                                           [H, F, F, F, A]),
    t("GET",    "/api/v1/users/{id}/sessions",          Platform,  "",                                                           [H, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/sessions",          Managed,   "",                                                           [A, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/sessions",          Unmanaged, "",                                                           [F, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/sessions",          OfB,       "",                                                           [H, F, F, F, A]),
    t("DELETE", "/api/v1/users/{id}/sessions",          Platform,  "",                                                           [H, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/sessions/{sid}",    Managed,   "",                                                           [A, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/sessions/{sid}",    Unmanaged, "",                                                           [F, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/sessions/{sid}",    OfB,       "",                                                           [H, F, F, F, A]),
    t("DELETE", "/api/v1/users/{id}/sessions/{sid}",    Platform,  "",                                                           [H, F, F, F, H]),
    // IP allowlists: read like the user, changed like the account.
    t("GET",    "/api/v1/users/{id}/allowed-ips",       Managed,   "",                                                           [A, A, A, F, H]),
    t("GET",    "/api/v1/users/{id}/allowed-ips",       Unmanaged, "",                                                           [A, A, A, F, H]),
    t("GET",    "/api/v1/users/{id}/allowed-ips",       OfB,       "",                                                           [H, H, H, F, A]),
    t("GET",    "/api/v1/users/{id}/allowed-ips",       Platform,  "",                                                           [H, H, H, F, H]),
    t("POST",   "/api/v1/users/{id}/allowed-ips",       Managed,   r#"{"cidr": "2001:db8::1"}"#,                                 [A, A, A, F, H]),
    t("POST",   "/api/v1/users/{id}/allowed-ips",       Unmanaged, r#"{"cidr": "2001:db8::1"}"#,                                 [F, F, F, F, H]),
    t("POST",   "/api/v1/users/{id}/allowed-ips",       OfB,       r#"{"cidr": "2001:db8::1"}"#,                                 [H, H, H, F, A]),
    t("POST",   "/api/v1/users/{id}/allowed-ips",       Platform,  r#"{"cidr": "2001:db8::1"}"#,                                 [H, H, H, F, H]),
    t("DELETE", "/api/v1/users/{id}/allowed-ips/{entry}", Managed,   "",                                                           [A, A, A, F, H]),
    t("DELETE", "/api/v1/users/{id}/allowed-ips/{entry}", Unmanaged, "",                                                           [F, F, F, F, H]),
    t("DELETE", "/api/v1/users/{id}/allowed-ips/{entry}", OfB,       "",                                                           [H, H, H, F, A]),
    t("DELETE", "/api/v1/users/{id}/allowed-ips/{entry}", Platform,  "",                                                           [H, H, H, F, H]),
    t("PATCH",  "/api/v1/users/{id}/security",          Managed,   r#"{"block_unknown_ips": false}"#,                            [A, A, A, F, H]),
    t("PATCH",  "/api/v1/users/{id}/security",          Unmanaged, r#"{"block_unknown_ips": false}"#,                            [F, F, F, F, H]),
    t("PATCH",  "/api/v1/users/{id}/security",          OfB,       r#"{"block_unknown_ips": false}"#,                            [H, H, H, F, A]),
    t("PATCH",  "/api/v1/users/{id}/security",          Platform,  r#"{"block_unknown_ips": false}"#,                            [H, H, H, F, H]),
    // The bulk forms: the organization's `users:write`, then per user (not
    // found, refused or applied in the answer).
    t("POST",   "/api/v1/users/security",               Managed,   r#"{"emails": ["{target_email}"], "block_unknown_ips": false}"#, [A, A, A, F, A]),
    t("POST",   "/api/v1/users/security",               Unmanaged, r#"{"emails": ["{target_email}"], "block_unknown_ips": false}"#, [A, A, A, F, A]),
    t("POST",   "/api/v1/users/security",               OfB,       r#"{"emails": ["{target_email}"], "block_unknown_ips": false}"#, [A, A, A, F, A]),
    t("POST",   "/api/v1/users/security",               Platform,  r#"{"emails": ["{target_email}"], "block_unknown_ips": false}"#, [A, A, A, F, A]),
    t("POST",   "/api/v1/allowed-ips",                  Managed,   r#"{"cidr": "192.0.2.7", "emails": ["{target_email}"]}"#,     [A, A, A, F, A]),
    t("POST",   "/api/v1/allowed-ips",                  Unmanaged, r#"{"cidr": "192.0.2.7", "emails": ["{target_email}"]}"#,     [A, A, A, F, A]),
    t("POST",   "/api/v1/allowed-ips",                  OfB,       r#"{"cidr": "192.0.2.7", "emails": ["{target_email}"]}"#,     [A, A, A, F, A]),
    t("POST",   "/api/v1/allowed-ips",                  Platform,  r#"{"cidr": "192.0.2.7", "emails": ["{target_email}"]}"#,     [A, A, A, F, A]),
    t("POST",   "/api/v1/allowed-ips/remove",           Managed,   r#"{"cidr": "192.0.2.7", "emails": ["{target_email}"]}"#,     [A, A, A, F, A]),
    t("POST",   "/api/v1/allowed-ips/remove",           Unmanaged, r#"{"cidr": "192.0.2.7", "emails": ["{target_email}"]}"#,     [A, A, A, F, A]),
    t("POST",   "/api/v1/allowed-ips/remove",           OfB,       r#"{"cidr": "192.0.2.7", "emails": ["{target_email}"]}"#,     [A, A, A, F, A]),
    t("POST",   "/api/v1/allowed-ips/remove",           Platform,  r#"{"cidr": "192.0.2.7", "emails": ["{target_email}"]}"#,     [A, A, A, F, A]),
];
