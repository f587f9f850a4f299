//! The organization-scoped mix: `GET /users`, `GET /users/count` and
//! `GET /users/{id}` answered in one organization, through an API key of it
//! with `users:read` (the query gets `Scope::Org`). Run for organization 1
//! (≈ 10 % of all users) and for a typical small organization.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    cluster::Psql,
    orgs::{typical_location, Orgs},
    queries::{problem, Client, Spec, Target},
    util::thousands,
    words::org_id,
};

/// An organization the mix runs in, with the values its queries use.
pub(crate) struct OrgPick {
    /// The label prefix: `org 1M` or `org small`.
    pub(crate) label: &'static str,
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) members: u64,
    pub(crate) managed: u64,
    pub(crate) locations: u64,
    /// A mid-sized location of it and its members, if it has locations.
    pub(crate) location: Option<(Uuid, u64)>,
    /// A member, for `GET /users/{id}`.
    pub(crate) member: Option<Uuid>,
}

impl OrgPick {
    /// What the report says about it.
    pub(crate) fn describe(&self) -> String {
        let location = match self.location {
            Some((id, members)) => format!("; location_id {id} has {} members", thousands(members)),
            None => String::new(),
        };
        format!(
            "{}: {} ({}) — {} members, {} of them managed by it; {} locations{location}",
            self.label,
            self.name,
            self.id,
            thousands(self.members),
            thousands(self.managed),
            self.locations,
        )
    }
}

/// Organization `k` as the seeded data has it.
fn pick_org(psql: &Psql, label: &'static str, k: usize) -> OrgPick {
    let id = org_id(k);
    let count = |sql: String| psql.value(&sql).parse::<u64>().expect("a count");
    let members = count(format!("SELECT count(*) FROM memberships WHERE org_id = '{id}'"));
    let location = typical_location(k).map(|location| {
        let at =
            count(format!("SELECT count(*) FROM memberships WHERE org_id = '{id}' AND location_id = '{location}'"));
        (location, at)
    });
    // The member in the middle of the organization's membership index.
    let member = psql.value(&format!(
        "SELECT user_id FROM memberships WHERE org_id = '{id}' ORDER BY user_id OFFSET {} LIMIT 1",
        members / 2
    ));
    OrgPick {
        label,
        id,
        name: Orgs::names(k).1,
        members,
        managed: count(format!("SELECT count(*) FROM users WHERE managed_by = '{id}'")),
        locations: count(format!("SELECT count(*) FROM locations WHERE org_id = '{id}'")),
        location,
        member: member.parse().ok(),
    }
}

/// Organization 1 and a typical small organization for `n` users.
pub(crate) fn pick_orgs(psql: &Psql, n: u64) -> Vec<OrgPick> {
    vec![pick_org(psql, "org 1M", 1), pick_org(psql, "org small", Orgs::new().typical_small(n))]
}

/// Creates an API key of `org` with `users:read` as the bench superadmin;
/// its secret.
pub(crate) async fn api_key(admin: &Client, org: Uuid) -> String {
    let response = admin
        .http
        .post(format!("{}/api/v1/orgs/{org}/api-keys", admin.base))
        .bearer_auth(&admin.token)
        .json(&json!({"name": "bench-directory", "permissions": ["users:read"]}))
        .send()
        .await
        .expect("POST /api-keys");
    let status = response.status();
    let body = response.bytes().await.expect("the API key answer");
    assert!(status.as_u16() == 201, "creating an API key of {org}: {}", problem(status, &body));
    let key: Value = serde_json::from_slice(&body).expect("the API key answer is JSON");
    key["secret"].as_str().expect("secret").to_owned()
}

/// The queries run in `org`: first pages with a filter and a sort, `q`,
/// keyset pages 10 deep, counts and one member by id.
pub(crate) fn org_specs(org: &OrgPick) -> Vec<Spec> {
    use Target::{FirstPage, Info, Search};
    let label = |l: &str| format!("{}: {l}", org.label);
    let mut specs = vec![
        Spec::new(label("sort -created_at"), FirstPage, &[("sort", "-created_at")]),
        Spec::new(label("status=active + sort email"), FirstPage, &[("status", "active"), ("sort", "email")]),
        Spec::new(
            label("name co + sort -created_at"),
            FirstPage,
            &[("filter", r#"name co "mart""#), ("sort", "-created_at")],
        ),
        Spec::new(
            label("role=admin + sort family_name,given_name"),
            FirstPage,
            &[("role", "admin"), ("sort", "family_name,given_name")],
        ),
        Spec::new(
            label("managed eq true + sort -last_login_at"),
            FirstPage,
            &[("filter", "managed eq true"), ("sort", "-last_login_at")],
        ),
        Spec::new(
            label("managed eq false and status eq"),
            FirstPage,
            &[("filter", r#"managed eq false and status eq "active""#)],
        ),
    ];
    if let Some((location, _)) = org.location {
        let location = location.to_string();
        specs.push(Spec::new(
            label("location_id= + sort family_name,given_name"),
            FirstPage,
            &[("location_id", &location), ("sort", "family_name,given_name")],
        ));
        specs.push(Spec::new(
            label("location_id eq and role eq + sort email"),
            FirstPage,
            &[("filter", &format!(r#"location_id eq "{location}" and role eq "member""#)), ("sort", "email")],
        ));
    }
    specs.extend([
        Spec::new(label("q common (ann)"), Search, &[("q", "ann")]),
        Spec::cursor(label("cursor: sort -created_at, 10 in"), 10, &[("sort", "-created_at")]),
        Spec::cursor(
            label("cursor: status=active + family_name, 10 in"),
            10,
            &[("status", "active"), ("sort", "family_name,given_name")],
        ),
        Spec::count(label("count status eq"), &[("filter", r#"status eq "active""#)]),
        Spec::count(label("count managed eq true"), &[("filter", "managed eq true")]),
        Spec { target: Info, ..Spec::count(label("count, no filter"), &[]) },
    ]);
    if let Some(member) = org.member {
        specs.push(Spec::get(label("GET /users/{id} (member)"), member));
    }
    specs
}
