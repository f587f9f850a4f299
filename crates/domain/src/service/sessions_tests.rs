use mockall::predicate::*;

use super::*;
use crate::{
    auth::{Permission, Refusal},
    service::test_support::*,
    user::User,
};

fn info(id: Uuid) -> SessionInfo {
    SessionInfo {
        id,
        created_at: now(),
        last_used_at: now(),
        expires_at: now() + chrono::Duration::days(30),
        ip: Some("192.0.2.7".into()),
        user_agent: Some("Phone".into()),
        org_id: crate::DEFAULT_ORG_ID,
        org_name: "Default".into(),
        amr: vec!["pwd".into()],
        current: false,
    }
}

fn my_session(p: &Principal) -> Uuid {
    p.signed_in().unwrap().1
}

fn api_key() -> Principal {
    let every: Vec<String> = Permission::ALL.iter().map(|p| p.as_str().to_string()).collect();
    Principal::api_key(Uuid::now_v7(), "host".into(), crate::DEFAULT_ORG_ID, &every)
}

fn revoker() -> Vec<String> {
    vec![Permission::SessionsRevoke.as_str().to_string()]
}

/// The directory knows `users` (as the platform sees them).
fn knows(m: &mut Mocks, users: Vec<User>) {
    m.users.expect_get().returning(move |id| Ok(users.iter().find(|u| u.id == id).cloned()));
}

#[tokio::test]
async fn the_list_is_the_callers_live_sessions_with_their_own_marked_current() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let (mine, other) = (my_session(&p), Uuid::now_v7());
    let mut m = Mocks::new();
    m.sessions
        .expect_list_for_user()
        .with(eq(me.id), eq(now()), eq(MAX_LISTED_SESSIONS))
        .times(1)
        .returning(move |_, _, _| Ok(vec![info(other), info(mine)]));
    let s = m.services(AuthPolicy::default());
    let listed = s.sessions.list_mine(&p).await.unwrap();
    assert_eq!(listed.iter().map(|i| (i.id, i.current)).collect::<Vec<_>>(), [(other, false), (mine, true)]);
}

#[tokio::test]
async fn an_api_key_has_no_sessions_of_its_own() {
    let p = api_key();
    let mut m = Mocks::new();
    m.sessions.expect_list_for_user().never();
    m.sessions.expect_revoke().never();
    m.sessions.expect_revoke_all_for_user().never();
    let s = m.services(AuthPolicy::default());
    let refused = |r: Result<_, Error>| matches!(r, Err(Error::Forbidden(Refusal::SignedInUserOnly)));
    assert!(refused(s.sessions.list_mine(&p).await.map(|_| ())));
    assert!(refused(s.sessions.revoke_mine(&p, Uuid::now_v7()).await));
    // Refused before the scope is read: a key learns nothing from it.
    assert!(refused(s.sessions.revoke_my_sessions(&p, Some("bogus")).await.map(|_| ())));
}

#[tokio::test]
async fn revoking_one_of_ones_sessions_asks_for_it_as_the_callers_and_a_miss_is_not_found() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let (live, gone) = (Uuid::now_v7(), Uuid::now_v7());
    let mut m = Mocks::new();
    m.sessions
        .expect_revoke()
        .with(always(), eq(me.id), eq(REVOKED_BY_USER), eq(now()))
        .times(2)
        .returning(move |id, _, _, _| Ok(id == live));
    let s = m.services(AuthPolicy::default());
    s.sessions.revoke_mine(&p, live).await.unwrap();
    assert!(matches!(s.sessions.revoke_mine(&p, gone).await, Err(Error::NotFound("session"))));
}

#[tokio::test]
async fn scope_others_keeps_the_current_session_and_all_does_not() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mine = my_session(&p);
    let mut m = Mocks::new();
    m.sessions
        .expect_revoke_all_for_user()
        .with(eq(me.id), eq(Some(mine)), eq(REVOKED_BY_USER), eq(now()))
        .times(1)
        .returning(|_, _, _, _| Ok(3));
    m.sessions
        .expect_revoke_all_for_user()
        .with(eq(me.id), eq(None), eq(REVOKED_BY_USER), eq(now()))
        .times(1)
        .returning(|_, _, _, _| Ok(4));
    let s = m.services(AuthPolicy::default());
    assert_eq!(s.sessions.revoke_my_sessions(&p, Some("others")).await.unwrap(), 3);
    assert_eq!(s.sessions.revoke_my_sessions(&p, Some("all")).await.unwrap(), 4);
}

#[tokio::test]
async fn a_missing_or_unknown_scope_is_refused_naming_it_and_nothing_is_revoked() {
    let p = principal(user("me@example.com", "member"), vec![]);
    let mut m = Mocks::new();
    m.sessions.expect_revoke_all_for_user().never();
    let s = m.services(AuthPolicy::default());
    for scope in [None, Some(""), Some("mine"), Some("Others"), Some("all ")] {
        let Err(Error::InvalidQuery(e)) = s.sessions.revoke_my_sessions(&p, scope).await else {
            panic!("{scope:?} was not refused")
        };
        assert_eq!(e.fields().collect::<Vec<_>>(), ["scope"], "{scope:?}");
    }
}

#[tokio::test]
async fn an_administrator_needs_sessions_revoke_to_list_or_end_anothers_sessions() {
    let target = user("target@example.com", "member");
    let member = principal(user("member@example.com", "member"), admin_perms());
    let mut m = Mocks::new();
    m.users.expect_get().never();
    m.sessions.expect_list_for_user().never();
    m.sessions.expect_revoke().never();
    m.sessions.expect_revoke_all_for_user().never();
    let s = m.services(AuthPolicy::default());
    let missing = |r: Result<(), Error>| {
        matches!(r, Err(Error::Forbidden(Refusal::MissingPermission(Permission::SessionsRevoke))))
    };
    assert!(missing(s.sessions.list_of(&member, target.id).await.map(|_| ())));
    assert!(missing(s.sessions.revoke_all_of(&member, target.id).await.map(|_| ())));
    assert!(missing(s.sessions.revoke_of(&member, target.id, Uuid::now_v7()).await));
}

#[tokio::test]
async fn an_administrator_lists_and_ends_a_users_sessions() {
    let target = user("target@example.com", "member");
    let admin = principal(user("admin@example.com", "admin"), revoker());
    let (live, gone) = (Uuid::now_v7(), Uuid::now_v7());
    let mut m = Mocks::new();
    knows(&mut m, vec![target.clone()]);
    m.sessions
        .expect_list_for_user()
        .with(eq(target.id), eq(now()), eq(MAX_LISTED_SESSIONS))
        .returning(move |_, _, _| Ok(vec![info(live)]));
    m.sessions
        .expect_revoke()
        .with(always(), eq(target.id), eq(REVOKED_BY_ADMIN), eq(now()))
        .returning(move |id, _, _, _| Ok(id == live));
    m.sessions
        .expect_revoke_all_for_user()
        .with(eq(target.id), eq(None), eq(REVOKED_BY_ADMIN), eq(now()))
        .times(1)
        .returning(|_, _, _, _| Ok(2));
    let s = m.services(AuthPolicy::default());
    let listed = s.sessions.list_of(&admin, target.id).await.unwrap();
    // Not the administrator's own session.
    assert_eq!(listed.iter().map(|i| (i.id, i.current)).collect::<Vec<_>>(), [(live, false)]);
    s.sessions.revoke_of(&admin, target.id, live).await.unwrap();
    assert!(matches!(s.sessions.revoke_of(&admin, target.id, gone).await, Err(Error::NotFound("session"))));
    assert_eq!(s.sessions.revoke_all_of(&admin, target.id).await.unwrap(), 2);
    // An unknown user is not found, before any session is looked at.
    assert!(matches!(s.sessions.list_of(&admin, Uuid::now_v7()).await, Err(Error::NotFound("user"))));
}

#[tokio::test]
async fn an_administrator_may_use_them_on_themselves_and_sees_their_own_session_as_current() {
    let me = user("admin@example.com", "admin");
    let p = principal(me.clone(), revoker());
    let mine = my_session(&p);
    let mut m = Mocks::new();
    knows(&mut m, vec![me.clone()]);
    m.sessions.expect_list_for_user().returning(move |_, _, _| Ok(vec![info(mine)]));
    let s = m.services(AuthPolicy::default());
    assert!(s.sessions.list_of(&p, me.id).await.unwrap()[0].current);
}

#[tokio::test]
async fn a_tenant_ends_only_the_sessions_of_accounts_it_manages() {
    let org = Uuid::now_v7();
    let mut admin = principal(user("venue-admin@example.com", "member"), revoker());
    admin.org_id = org;
    admin.role = Some("admin".into());
    let mut managed = user("managed@example.com", "member");
    managed.managed_by = Some(org);
    let unmanaged = user("platform@example.com", "member");
    let mut m = Mocks::new();
    let known = [managed.clone(), unmanaged.clone()];
    m.users
        .expect_get_in()
        .with(eq(org), always())
        .returning(move |_, id| Ok(known.iter().find(|u| u.id == id).cloned()));
    m.users.expect_get().never();
    m.sessions
        .expect_revoke_all_for_user()
        .with(eq(managed.id), eq(None), eq(REVOKED_BY_ADMIN), eq(now()))
        .times(1)
        .returning(|_, _, _, _| Ok(1));
    let s = m.services(AuthPolicy::default());
    assert_eq!(s.sessions.revoke_all_of(&admin, managed.id).await.unwrap(), 1);
    assert!(matches!(s.sessions.revoke_all_of(&admin, unmanaged.id).await, Err(Error::Forbidden(Refusal::NotManaged))));
    // Someone who is no member of the organization does not exist for it.
    assert!(matches!(s.sessions.revoke_all_of(&admin, Uuid::now_v7()).await, Err(Error::NotFound("user"))));
}
