//! The authorization matrix: every operation of the API, called as every kind
//! of actor, answers the expected authorization outcome.
//!
//! The route table is the running app's own OpenAPI document
//! (`GET /api/v1/openapi.json`, every method of every path): an operation
//! there without a row in [`table::MATRIX`], or a row naming an operation
//! that is not there, fails the test, so a new route cannot ship without
//! deciding who may call it.
//!
//! The tenants' side of `/users` — organization A's administrators and a
//! member, and organization B's owner, acting in their organizations on
//! users A manages, A's other members, B's users and platform users — is
//! its own table ([`tenants`]), run here too.
//!
//! Actors:
//! - `anonymous`: no token;
//! - `member`: a plain `member` of the default organization and of org A;
//! - `admin`: one user who is the default organization's `admin` and org A's
//!   `owner`, so "admin" means, per route family, the default-organization
//!   administrator for the platform's users (`/users`, `/invitations`) and
//!   org A's owner for `/orgs/{id}…` (always org A);
//! - `foreign_admin`: the owner of another organization, B, acting on org A
//!   and on the default organization's users, in which they are a plain member;
//! - `superadmin`: the platform's.
//!
//! Member and foreign admin call with both their default-organization session
//! and a session switched to their organization (A, B); both must get the
//! row's outcome. The admin's org-A session is tried on organization routes,
//! where it changes nothing but what takes platform user administration
//! (`Row::admin_in_a`); elsewhere it holds no user administration, by design.
//! - `key`: an API key holding every built-in permission, org A's on
//!   organization routes and the default organization's on the platform's;
//! - `key_without`: the same organizations' keys holding no permission.
//!
//! The foreign admin also calls organization routes with org B's key, which
//! holds every permission there. Keys have no account of their own, so rows
//! on the caller's own user are not tried with a key (`Expect::NoSelf`).
//!
//! Outcomes are classes ([`table::Expect`]): `Allowed`/`Public` is anything
//! but 401, 403, 404 (and never 405 or 5xx), so a `409` or `422` from a
//! minimal body counts; `Unauthenticated` 401, `Forbidden` 403, `Hidden` 404
//! (another tenant's resources do not exist for the caller). Rows on a user
//! (`/users/{id}…`, `/orgs/{id}/members/{user}…`) come twice: on the caller
//! themselves and on another user. Destructive calls (deletes, deactivate,
//! ban, logout, ending sessions) each get a fresh target, or a fresh
//! session, so that no call decides another's outcome; after a row that ends
//! every session of its callers' users, the actors sign in again. Every
//! answer's status must also be one the operation's OpenAPI entry lists
//! ([`crate::documented`]). Every mismatch is listed before the test fails.

mod table;
mod tenants;
mod world;

use std::{collections::BTreeSet, time::Instant};

use reqwest::StatusCode;
use serde_json::Value;

use table::{Actor, Expect, Row, Target, ACTORS, MATRIX, UNDOCUMENTED_PUBLIC};
use tenants::{TENANT_ACTORS, TENANT_MATRIX};
use world::{Caller, World};

const HTTP_METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every (METHOD, path) of the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut ops = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
            if HTTP_METHODS.contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// What is documented but has no row, and what has a row but is not documented.
fn coverage(documented: &BTreeSet<(String, String)>) -> Vec<String> {
    let rows: BTreeSet<(String, String)> = MATRIX.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    let missing = documented.difference(&rows).map(|(m, p)| {
        format!(
            "{m} {p} is in the OpenAPI document but has no row in the authorization matrix (tests/api/matrix/table.rs)"
        )
    });
    let stale = rows
        .difference(documented)
        .map(|(m, p)| format!("{m} {p} has a row in the authorization matrix but is not in the OpenAPI document"));
    let tenant_rows: BTreeSet<(String, String)> =
        TENANT_MATRIX.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    let users_ops = documented.iter().filter(|(_, p)| p == "/api/v1/users" || p.starts_with("/api/v1/users/"));
    let missing_tenant = users_ops.filter(|op| !tenant_rows.contains(op)).map(|(m, p)| {
        format!("{m} {p} answers in the caller's organization but has no row in tests/api/matrix/tenants.rs")
    });
    let stale_tenant = tenant_rows
        .difference(documented)
        .map(|(m, p)| format!("{m} {p} has a row in the tenants' matrix but is not in the OpenAPI document"));
    missing.chain(stale).chain(missing_tenant).chain(stale_tenant).collect()
}

/// Whether the call ends the bearer's session (or, with it, every session
/// of its user), so that the caller spends a fresh one.
fn spends_session(row: &Row) -> bool {
    row.path == "/api/v1/auth/logout"
        || (row.method == "DELETE" && row.path.starts_with("/api/v1/me/sessions"))
        || (row.method == "DELETE" && row.path.starts_with("/api/v1/users/{id}/sessions") && row.target == Target::Own)
}

/// Whether the call ends every other session of the caller's user too —
/// the actors' own, which they sign in again for after the row.
fn ends_every_session(row: &Row) -> bool {
    row.method == "DELETE"
        && (row.path == "/api/v1/me/sessions"
            || (row.path == "/api/v1/users/{id}/sessions" && row.target == Target::Own))
}

fn passes(expect: Expect, status: StatusCode) -> bool {
    match status.as_u16() {
        401 => expect == Expect::Unauthenticated,
        403 => expect == Expect::Forbidden,
        404 => expect == Expect::Hidden,
        405 | 500..=599 => false,
        _ if expect == Expect::NoSelf => false,
        _ => matches!(expect, Expect::Allowed | Expect::Public),
    }
}

fn actor_name(actor: Actor) -> &'static str {
    match actor {
        Actor::Anonymous => "anonymous",
        Actor::Member => "member",
        Actor::Admin => "admin",
        Actor::ForeignAdmin => "foreign_admin",
        Actor::Superadmin => "superadmin",
        Actor::Key => "key",
        Actor::KeyWithout => "key_without",
    }
}

fn route_name(row: &Row) -> String {
    let target = match row.target {
        Target::Nobody => "",
        Target::Own => " [own]",
        Target::Other => " [other user]",
    };
    format!("{} {}{}{target}", row.method, row.path, row.query)
}

async fn mismatch(route: &str, who: String, expect: Expect, url: &str, r: reqwest::Response) -> String {
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    let problem = serde_json::from_str::<Value>(&text).unwrap_or_default();
    let (code, detail) = (problem["code"].as_str().unwrap_or(""), problem["detail"].as_str().unwrap_or(""));
    format!("{route} as {who}: expected {expect:?}, got {status} {code} \"{detail}\" ({url})")
}

#[tokio::test]
async fn every_documented_operation_answers_every_actor_as_the_matrix_says() {
    let started = Instant::now();
    let mut world = World::build().await;
    let r = world.app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    let operations = documented(&doc);
    let mut failures = coverage(&operations);
    let (mut cases, mut requests) = (0, 0);
    // Rows the document does not know were reported above.
    for row in MATRIX.iter().filter(|r| operations.contains(&(r.method.to_string(), r.path.to_string()))) {
        let org_route = row.path.starts_with("/api/v1/orgs") || row.path == "/api/v1/permissions";
        // Like `/users`, host reads of push tokens and the bulk allowlist
        // forms answer in the caller's organization.
        let users_route = row.path.starts_with("/api/v1/users")
            || row.path == "/api/v1/push-tokens"
            || row.path.starts_with("/api/v1/allowed-ips");
        let route = route_name(row);
        for (&actor, expect) in ACTORS.iter().zip(row.expect) {
            cases += 1;
            for caller in world.callers(actor, org_route, users_route) {
                // A key has no account of its own (`NoSelf`; any other
                // actor marked so fails in `passes`).
                if caller.key.is_some() && row.target == Target::Own {
                    continue;
                }
                let expect = match row.admin_in_a {
                    Some(e) if actor == Actor::Admin && caller.org.is_some() => e,
                    _ => expect,
                };
                // Logging out, or ending one's own sessions, ends the
                // bearer's session: spend a fresh one.
                let caller = if spends_session(row) {
                    Caller { session: world.relogin(&caller).await, ..caller }
                } else {
                    caller
                };
                let (url, body) = world.request(row, &caller).await;
                let token = caller.token();
                let r = world.call(row.method, &url, token, body).await;
                requests += 1;
                let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
                if let Err(undocumented) = crate::documented::check(&method, &url, r.status()) {
                    failures.push(format!("{undocumented} (as {}{})", actor_name(actor), caller.label));
                }
                if !passes(expect, r.status()) {
                    let who = format!("{}{}", actor_name(actor), caller.label);
                    failures.push(mismatch(&route, who, expect, &url, r).await);
                }
            }
        }
        // Every session of the callers' users ended: the actors sign in again.
        if ends_every_session(row) {
            world.renew_sessions().await;
        }
    }
    // The tenants' side of `/users`.
    for row in TENANT_MATRIX.iter().filter(|r| operations.contains(&(r.method.to_string(), r.path.to_string()))) {
        let route = format!(
            "{} {} [{:?}]{}",
            row.method,
            row.path,
            row.whom,
            row.body.map(|b| format!(" {b}")).unwrap_or_default()
        );
        for (&actor, expect) in TENANT_ACTORS.iter().zip(row.expect) {
            cases += 1;
            let caller = world.tenant_caller(actor);
            let (url, body) = world.tenant_request(row).await;
            let r = world.call(row.method, &url, caller.token(), body).await;
            requests += 1;
            let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
            if let Err(undocumented) = crate::documented::check(&method, &url, r.status()) {
                failures.push(format!("{undocumented} (as {})", caller.label));
            }
            if !passes(expect, r.status()) {
                failures.push(mismatch(&route, caller.label.to_string(), expect, &url, r).await);
            }
        }
    }
    for path in UNDOCUMENTED_PUBLIC {
        for actor in ACTORS {
            cases += 1;
            for caller in world.callers(actor, false, false) {
                let r = world.call("GET", path, caller.token(), None).await;
                requests += 1;
                if !passes(Expect::Public, r.status()) {
                    let who = format!("{}{}", actor_name(actor), caller.label);
                    failures.push(mismatch(&format!("GET {path}"), who, Expect::Public, path, r).await);
                }
            }
        }
    }
    eprintln!(
        "authorization matrix: {} rows and {} tenants' rows, {cases} (route, actor) cases, {requests} requests, {:.1?}",
        MATRIX.len(),
        TENANT_MATRIX.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{} authorization matrix failure(s):\n  {}", failures.len(), failures.join("\n  "));
}
