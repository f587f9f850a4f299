//! The fixtures every row is called against: the actors, their sessions,
//! org A with a role, a location and members, org B, and fresh targets for
//! the calls that destroy theirs.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{
    table::{Actor, Row, Target},
    tenants::{TenantActor, TenantRow, Whom},
};
use crate::helpers::*;

/// One way an actor calls: a session (none for anonymous) and the
/// organization it was switched to, if any; or an API key.
pub struct Caller {
    pub label: &'static str,
    pub session: Option<Session>,
    pub org: Option<String>,
    pub key: Option<String>,
}

impl Caller {
    pub fn token(&self) -> Option<&str> {
        self.key.as_deref().or(self.session.as_ref().map(|s| s.access.as_str()))
    }
}

/// API keys of the organizations, with every built-in permission and with none.
#[derive(Default)]
struct Keys {
    a: String,
    a_without: String,
    b: String,
    default: String,
    default_without: String,
    /// The id of one of org A's keys, for the rows on a key.
    fixture: String,
    /// Org A's key holding exactly `users:*`.
    a_users: String,
}

/// Exactly what a user administrator holds.
const USERS_STAR: [&str; 4] = ["users:read", "users:write", "users:delete", "users:manage_status"];

pub struct World {
    pub app: TestApp,
    root: Session,
    member: Session,
    member_in_a: Session,
    admin: Session,
    admin_in_a: Session,
    foreign: Session,
    foreign_in_b: Session,
    /// An ordinary user, plain member of org A: the `Other` target.
    victim: Session,
    /// A user in no organization but the default one, for `POST /members`.
    candidate: String,
    /// A member of org A whose role there holds exactly `users:*`, acting in A.
    user_manager_in_a: Session,
    /// A user org A manages, one org B manages, and a platform user in no
    /// organization but the default one (the tenants' targets).
    managed_by_a: (String, String),
    managed_by_b: (String, String),
    platform_user: (String, String),
    pub org_a: String,
    org_b: String,
    role: String,
    location: String,
    /// A queued message (the worker is off), made dead before each retry.
    message: String,
    keys: Keys,
}

async fn created(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "fixture {what}: {body}");
    body
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The id of a session (its access token's `sid`).
fn session_id(s: &Session) -> String {
    claims(&s.access)["sid"].as_str().unwrap().to_string()
}

fn fresh() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

impl World {
    pub async fn build() -> World {
        // No mail goes out: messages stay queued, so one can be made dead at will.
        let app = TestApp::spawn_with(|c| c.mail.worker.enabled = false).await;
        let root = app.superadmin().await;
        let admin = app.admin().await;
        let member = app.member().await;
        let foreign = app.register(&unique_email("foreign")).await;
        let victim = app.register(&unique_email("victim")).await;
        let candidate = app.register(&unique_email("candidate")).await.id;
        let mut world = World {
            member_in_a: member.clone(),
            admin_in_a: admin.clone(),
            foreign_in_b: foreign.clone(),
            app,
            root,
            member,
            admin,
            foreign,
            victim,
            candidate,
            user_manager_in_a: Session::default(),
            managed_by_a: Default::default(),
            managed_by_b: Default::default(),
            platform_user: Default::default(),
            org_a: String::new(),
            org_b: String::new(),
            role: String::new(),
            location: String::new(),
            message: String::new(),
            keys: Keys::default(),
        };
        world.org_a = world.org_owned_by(&world.admin.id, "a").await;
        world.org_b = world.org_owned_by(&world.foreign.id, "b").await;
        world.add_member(&world.org_a, &world.member.id).await;
        world.add_member(&world.org_a, &world.victim.id).await;
        world.role = world.fresh_role().await;
        world.location = world.fresh_location().await;
        world.member_in_a = world.login(&world.member, Some(&world.org_a)).await;
        world.admin_in_a = world.login(&world.admin, Some(&world.org_a)).await;
        world.foreign_in_b = world.login(&world.foreign, Some(&world.org_b)).await;
        world.keys = world.make_keys().await;
        world.user_manager_in_a = world.user_manager().await;
        world.managed_by_a = world.fresh_managed(&world.admin_in_a).await;
        world.managed_by_b = world.fresh_managed(&world.foreign_in_b).await;
        world.platform_user = world.fresh_user().await;
        world.fresh_invitation().await;
        let queued: Value = world.app.get("/api/v1/outbox", Some(&world.root.access)).await.json().await.unwrap();
        world.message = id_of(&queued["data"][0]);
        world
    }

    /// The sessions `actor` is tried with. Member and foreign admin: their
    /// default-organization session and the one switched to their
    /// organization (A, B), which must not change the outcome (but on
    /// `/users`, which answers in the caller's organization: the foreign
    /// admin acting in B is in the tenants' table). The admin's org-A session
    /// only on organization routes: on `/users` it is A's owner, in the
    /// tenants' table.
    pub fn callers(&self, actor: Actor, org_route: bool, users_route: bool) -> Vec<Caller> {
        let c = |label, s: &Session, org: Option<&str>| Caller {
            label,
            session: Some(s.clone()),
            org: org.map(str::to_owned),
            key: None,
        };
        let k = |label, key: &str| Caller { label, session: None, org: None, key: Some(key.to_owned()) };
        let keys = &self.keys;
        match actor {
            Actor::Anonymous => vec![Caller { label: "", session: None, org: None, key: None }],
            Actor::Member => {
                vec![c("", &self.member, None), c(" (session in org A)", &self.member_in_a, Some(&self.org_a))]
            }
            Actor::Admin if org_route => {
                vec![c("", &self.admin, None), c(" (session in org A)", &self.admin_in_a, Some(&self.org_a))]
            }
            Actor::Admin => vec![c("", &self.admin, None)],
            Actor::ForeignAdmin if org_route => vec![
                c("", &self.foreign, None),
                c(" (session in org B)", &self.foreign_in_b, Some(&self.org_b)),
                k(" (org B's API key)", &keys.b),
            ],
            // Acting in B, `/users` is B's users: the tenants' table.
            Actor::ForeignAdmin if users_route => vec![c("", &self.foreign, None)],
            Actor::ForeignAdmin => {
                vec![c("", &self.foreign, None), c(" (session in org B)", &self.foreign_in_b, Some(&self.org_b))]
            }
            Actor::Superadmin => vec![c("", &self.root, None)],
            Actor::Key if org_route => vec![k(" (org A's)", &keys.a)],
            Actor::Key => vec![k(" (the default organization's)", &keys.default)],
            Actor::KeyWithout if org_route => vec![k(" (org A's)", &keys.a_without)],
            Actor::KeyWithout => vec![k(" (the default organization's)", &keys.default_without)],
        }
    }

    /// New sessions for every actor, after a row that ended every session
    /// of its callers' users.
    pub async fn renew_sessions(&mut self) {
        let root = self.login(&self.root, None).await;
        let member = self.login(&self.member, None).await;
        let member_in_a = self.login(&self.member, Some(&self.org_a)).await;
        let admin = self.login(&self.admin, None).await;
        let admin_in_a = self.login(&self.admin, Some(&self.org_a)).await;
        let foreign = self.login(&self.foreign, None).await;
        let foreign_in_b = self.login(&self.foreign, Some(&self.org_b)).await;
        (self.root, self.member, self.member_in_a, self.admin) = (root, member, member_in_a, admin);
        (self.admin_in_a, self.foreign, self.foreign_in_b) = (admin_in_a, foreign, foreign_in_b);
    }

    /// A new session of the same user in the same organization.
    pub async fn relogin(&self, caller: &Caller) -> Option<Session> {
        match &caller.session {
            Some(s) => Some(self.login(s, caller.org.as_deref()).await),
            None => None,
        }
    }

    async fn login(&self, s: &Session, org: Option<&str>) -> Session {
        let mut body = json!({"email": s.email, "password": PASSWORD});
        if let Some(org) = org {
            body["org"] = json!(org);
        }
        let r = self.app.post("/api/v1/auth/login", None, body).await;
        assert_eq!(r.status(), StatusCode::OK, "fixture: login {} in {org:?}", s.email);
        session(r.json().await.unwrap())
    }

    /// The request `row` makes as `caller`: its URL and body, every
    /// placeholder filled, fresh targets made for destructive calls.
    pub async fn request(&self, row: &Row, caller: &Caller) -> (String, Option<Value>) {
        let destructive = row.method == "DELETE" || row.path.ends_with("/deactivate") || row.path.ends_with("/ban");
        let me = caller.session.as_ref().unwrap_or(&self.victim);
        let mut path = row.path.to_string();
        let mut target_email = String::new();
        if path.starts_with("/api/v1/users/{id}") {
            let (id, email) = match row.target {
                Target::Own => (me.id.clone(), me.email.clone()),
                Target::Other if destructive => self.fresh_user().await,
                Target::Other => (self.victim.id.clone(), self.victim.email.clone()),
                Target::Nobody => panic!("{} {} needs a target", row.method, row.path),
            };
            path = path.replace("{id}", &id);
            if path.contains("{sid}") {
                // A session of the target's: the caller's own (fresh), or a new one of the other user's.
                let sid = match row.target {
                    Target::Own => session_id(me),
                    _ => session_id(&self.app.login_ok(&email).await),
                };
                path = path.replace("{sid}", &sid);
            }
            target_email = email;
            if path.contains("{entry}") {
                path = path.replace("{entry}", &self.fresh_allowed_ip(&id).await);
            }
        } else if path == "/api/v1/me/sessions/{id}" {
            // The caller's own (fresh) session; a key has none.
            let id = caller.session.as_ref().map_or_else(|| uuid::Uuid::now_v7().to_string(), session_id);
            path = path.replace("{id}", &id);
        } else if path == "/api/v1/images/{id}" {
            path = path.replace("{id}", "null");
        } else if path.starts_with("/api/v1/me/push-tokens/{id}") {
            path = path.replace("{id}", &self.fresh_push_token(caller.session.as_ref()).await);
        } else if path.starts_with("/api/v1/invitations/{id}") {
            path = path.replace("{id}", &self.fresh_invitation().await);
        } else if path.starts_with("/api/v1/outbox/{id}") {
            let sql = format!("UPDATE outbox SET status = 'dead' WHERE id = '{}'", self.message);
            assert_eq!(self.app.db.execute(&sql).await.unwrap(), 1, "fixture: a dead message");
            path = path.replace("{id}", &self.message);
        } else if path.starts_with("/api/v1/orgs/{id}") {
            let org =
                if path == "/api/v1/orgs/{id}" && destructive { self.fresh_org().await } else { self.org_a.clone() };
            path = path.replace("{id}", &org);
            if path.contains("{role}") {
                let role = if destructive { self.fresh_role().await } else { self.role.clone() };
                path = path.replace("{role}", &role);
            }
            if path.contains("{location}") {
                let location = if destructive { self.fresh_location().await } else { self.location.clone() };
                path = path.replace("{location}", &location);
            }
            if path.contains("{invitation}") {
                path = path.replace("{invitation}", &self.fresh_org_invitation().await);
            }
            if path.contains("{key}") {
                let key =
                    if destructive { self.fresh_key(&self.org_a, &[]).await.0 } else { self.keys.fixture.clone() };
                path = path.replace("{key}", &key);
            }
            if path.contains("{name}") {
                path = path.replace("{name}", &self.fresh_permission().await);
            }
            if path.contains("{user}") {
                let user = match row.target {
                    Target::Own => me.id.clone(),
                    Target::Other if destructive => self.fresh_member().await,
                    Target::Other => self.victim.id.clone(),
                    Target::Nobody => panic!("{} {} needs a target", row.method, row.path),
                };
                path = path.replace("{user}", &user);
            }
        }
        assert!(!path.contains('{'), "the matrix cannot fill in {path}");
        let url = format!("{path}{}", row.query.replace("{org}", &self.org_a));
        let body = row.body.map(|b| {
            let b = b
                .replace("{email}", &unique_email("matrix"))
                .replace("{slug}", &format!("m-{}", fresh()))
                .replace("{perm}", &format!("matrix:p{}", fresh()))
                .replace("{target_email}", &target_email)
                .replace("{candidate}", &self.candidate);
            serde_json::from_str(&b).unwrap_or_else(|e| panic!("body of {} {}: {e}", row.method, row.path))
        });
        (url, body)
    }

    async fn root_post(&self, path: &str, body: Value) -> Value {
        created(self.app.post(path, Some(&self.root.access), body).await, path).await
    }

    async fn org_owned_by(&self, owner: &str, name: &str) -> String {
        let body = json!({"name": format!("Org {name}"), "slug": format!("{name}-{}", fresh()), "owner_id": owner});
        id_of(&self.root_post("/api/v1/orgs", body).await)
    }

    async fn add_member(&self, org: &str, user: &str) {
        self.root_post(&format!("/api/v1/orgs/{org}/members"), json!({"user_id": user})).await;
    }

    /// A user of the default organization, verified, with a password.
    async fn fresh_user(&self) -> (String, String) {
        let email = unique_email("target");
        let body = json!({"email": email, "password": PASSWORD, "email_verified": true});
        (id_of(&self.root_post("/api/v1/users", body).await), email)
    }

    async fn fresh_member(&self) -> String {
        let (id, _) = self.fresh_user().await;
        self.add_member(&self.org_a, &id).await;
        id
    }

    /// An organization like A: owned by the admin, with the member in it.
    async fn fresh_org(&self) -> String {
        let org = self.org_owned_by(&self.admin.id, "doomed").await;
        self.add_member(&org, &self.member.id).await;
        org
    }

    async fn fresh_role(&self) -> String {
        let body = json!({"name": format!("r-{}", fresh())});
        id_of(&self.root_post(&format!("/api/v1/orgs/{}/roles", self.org_a), body).await)
    }

    async fn fresh_location(&self) -> String {
        let body = json!({"name": "Venue", "timezone": "Europe/Copenhagen"});
        id_of(&self.root_post(&format!("/api/v1/orgs/{}/locations", self.org_a), body).await)
    }

    async fn fresh_permission(&self) -> String {
        let name = format!("fixture:p{}", fresh());
        self.root_post(&format!("/api/v1/orgs/{}/permissions", self.org_a), json!({"name": name})).await;
        name
    }

    /// A key of `org` made by the superadmin: its id and secret.
    async fn fresh_key(&self, org: &str, permissions: &[&str]) -> (String, String) {
        let body = json!({"name": format!("k-{}", fresh()), "permissions": permissions});
        let key = self.root_post(&format!("/api/v1/orgs/{org}/api-keys"), body).await;
        (id_of(&key), key["secret"].as_str().unwrap().to_string())
    }

    async fn make_keys(&self) -> Keys {
        let every: Vec<&str> = roster_domain::auth::Permission::ALL.iter().map(|p| p.as_str()).collect();
        let default = roster_domain::DEFAULT_ORG_ID.to_string();
        let (fixture, a) = self.fresh_key(&self.org_a, &every).await;
        Keys {
            a,
            fixture,
            a_without: self.fresh_key(&self.org_a, &[]).await.1,
            b: self.fresh_key(&self.org_b, &every).await.1,
            a_users: self.fresh_key(&self.org_a, &USERS_STAR).await.1,
            default: self.fresh_key(&default, &every).await.1,
            default_without: self.fresh_key(&default, &[]).await.1,
        }
    }

    async fn fresh_org_invitation(&self) -> String {
        let body = json!({"email": unique_email("joiner")});
        id_of(&self.root_post(&format!("/api/v1/orgs/{}/invitations", self.org_a), body).await)
    }

    /// A push token of the session's user, or (for callers without an
    /// account, refused before any lookup) some id.
    async fn fresh_push_token(&self, session: Option<&Session>) -> String {
        let Some(s) = session else { return uuid::Uuid::now_v7().to_string() };
        let body = json!({"token": format!("ExponentPushToken[{}]", fresh()), "provider": "expo"});
        let r = self.app.post("/api/v1/me/push-tokens", Some(&s.access), body).await;
        assert_eq!(r.status(), StatusCode::CREATED, "fixture: a push token");
        id_of(&r.json().await.unwrap())
    }

    /// An entry (a fresh IPv6 address) of user `id`'s IP allowlist, added by the superadmin.
    async fn fresh_allowed_ip(&self, id: &str) -> String {
        let hex = fresh();
        let groups: Vec<&str> = (0..8).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        let body = json!({"cidr": groups.join(":")});
        id_of(&self.root_post(&format!("/api/v1/users/{id}/allowed-ips"), body).await)
    }

    async fn fresh_invitation(&self) -> String {
        id_of(&self.root_post("/api/v1/invitations", json!({"email": unique_email("invitee")})).await)
    }

    /// How `actor` of the tenants' table calls.
    pub fn tenant_caller(&self, actor: TenantActor) -> Caller {
        let c = |label, s: &Session, org: &str| Caller {
            label,
            session: Some(s.clone()),
            org: Some(org.to_owned()),
            key: None,
        };
        match actor {
            TenantActor::OwnerOfA => c("owner of A", &self.admin_in_a, &self.org_a),
            TenantActor::UserManagerOfA => c("user manager of A", &self.user_manager_in_a, &self.org_a),
            TenantActor::UsersKeyOfA => {
                Caller { label: "A's users:* key", session: None, org: None, key: Some(self.keys.a_users.clone()) }
            }
            TenantActor::MemberInA => c("member acting in A", &self.member_in_a, &self.org_a),
            TenantActor::OwnerOfB => c("owner of B acting in B", &self.foreign_in_b, &self.org_b),
        }
    }

    /// The request a tenants' row makes: its URL and body, with a fresh
    /// target for the calls that destroy theirs or change its role.
    pub async fn tenant_request(&self, row: &TenantRow) -> (String, Option<Value>) {
        let fresh = row.method == "DELETE"
            || row.path.ends_with("/deactivate")
            || row.path.ends_with("/ban")
            || row.body.is_some_and(|b| b.contains("\"role\""));
        let (id, email) = match (row.whom, fresh) {
            (Whom::Nobody, _) => (String::new(), String::new()),
            (Whom::Managed, false) => self.managed_by_a.clone(),
            (Whom::Managed, true) => self.fresh_managed(&self.admin_in_a).await,
            (Whom::Unmanaged, false) => (self.victim.id.clone(), self.victim.email.clone()),
            (Whom::Unmanaged, true) => {
                let (id, email) = self.fresh_user().await;
                self.add_member(&self.org_a, &id).await;
                (id, email)
            }
            (Whom::OfB, false) => self.managed_by_b.clone(),
            (Whom::OfB, true) => self.fresh_managed(&self.foreign_in_b).await,
            (Whom::Platform, false) => self.platform_user.clone(),
            (Whom::Platform, true) => self.fresh_user().await,
        };
        let mut path = row.path.replace("{id}", &id);
        if path.contains("{sid}") {
            path = path.replace("{sid}", &session_id(&self.app.login_ok(&email).await));
        }
        if path.contains("{entry}") {
            path = path.replace("{entry}", &self.fresh_allowed_ip(&id).await);
        }
        assert!(!path.contains('{'), "the tenants' matrix cannot fill in {path}");
        let body = row.body.map(|b| {
            let b = b.replace("{email}", &unique_email("tenant")).replace("{target_email}", &email);
            serde_json::from_str(&b).unwrap_or_else(|e| panic!("body of {} {}: {e}", row.method, row.path))
        });
        (path, body)
    }

    /// A user the organization `creator` acts in manages: created there.
    async fn fresh_managed(&self, creator: &Session) -> (String, String) {
        let email = unique_email("managed");
        let body = json!({"email": email, "password": PASSWORD});
        (
            id_of(&created(self.app.post("/api/v1/users", Some(&creator.access), body).await, "managed user").await),
            email,
        )
    }

    /// A member of org A holding exactly `users:*` there, signed in to A.
    async fn user_manager(&self) -> Session {
        let role = json!({"name": "user-manager", "permissions": USERS_STAR});
        self.root_post(&format!("/api/v1/orgs/{}/roles", self.org_a), role).await;
        let manager = self.app.register(&unique_email("manager")).await;
        let body = json!({"user_id": manager.id, "role": "user-manager"});
        self.root_post(&format!("/api/v1/orgs/{}/members", self.org_a), body).await;
        self.login(&manager, Some(&self.org_a)).await
    }

    pub async fn call(&self, method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
        self.app.call_unchecked(Method::from_bytes(method.as_bytes()).unwrap(), url, token, body).await
    }
}
