use std::sync::{Arc, Mutex};

use mockall::predicate::*;

use super::*;
use crate::{
    service::test_support::*,
    user::{AllowedNet, MembershipView, User},
};

fn entry(cidr: &str) -> AllowedIp {
    AllowedIp { id: Uuid::now_v7(), cidr: AllowedNet::parse(cidr).unwrap(), created_at: now() }
}

/// The directory knows `users` (by id, for the platform).
fn directory(m: &mut Mocks, users: Vec<User>) {
    m.users.expect_get().returning(move |id| Ok(users.iter().find(|u| u.id == id).cloned()));
}

fn admin() -> Principal {
    principal(user("admin@example.com", "admin"), admin_perms())
}

fn add_input(cidr: &str) -> AllowedIpInput {
    AllowedIpInput { cidr: cidr.into() }
}

#[tokio::test]
async fn a_member_reads_their_own_policy_but_not_anothers() {
    let me = user("me@example.com", "member");
    let other = user("other@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mut m = Mocks::new();
    directory(&mut m, vec![me.clone(), other.clone()]);
    let policy = IpPolicy { block_unknown_ips: true, entries: vec![entry("192.0.2.0/24")] };
    let answer = policy.clone();
    m.ip_policy_defaults = false;
    m.allowed_ips.expect_ip_policy().with(eq(me.id)).returning(move |_| Ok(Some(answer.clone())));
    let s = m.services(AuthPolicy::default());
    assert_eq!(s.allowed_ips.policy(&p, me.id).await.unwrap(), policy);
    let refused = s.allowed_ips.policy(&p, other.id).await;
    assert!(matches!(refused, Err(Error::Forbidden(Refusal::MissingPermission(Permission::UsersRead)))), "{refused:?}");
}

#[tokio::test]
async fn a_member_cannot_change_their_own_policy() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![Permission::UsersRead.as_str().into()]);
    let mut m = Mocks::new();
    directory(&mut m, vec![me.clone()]);
    // No expectation on the allowlist store: nothing may be written.
    let s = m.services(AuthPolicy::default());
    let missing =
        |r: &Result<_, Error>| matches!(r, Err(Error::Forbidden(Refusal::MissingPermission(Permission::UsersWrite))));
    assert!(missing(&s.allowed_ips.add(&p, me.id, add_input("192.0.2.7")).await.map(|_| ())));
    assert!(missing(&s.allowed_ips.remove(&p, me.id, Uuid::now_v7()).await));
    let patch = SecurityPatch { block_unknown_ips: false };
    assert!(missing(&s.allowed_ips.set_blocking(&p, me.id, patch).await.map(|_| ())));
    let bulk = BulkSecurityInput { block_unknown_ips: false, user_ids: Some(vec![me.id]), emails: None };
    assert!(missing(&s.allowed_ips.bulk_set_blocking(&p, bulk).await.map(|_| ())));
}

#[tokio::test]
async fn an_administrator_adds_new_and_existing_entries_and_a_full_list_is_a_422() {
    let target = user("t@example.com", "member");
    let mut m = Mocks::new();
    directory(&mut m, vec![target.clone()]);
    let stored = Arc::new(Mutex::new(Vec::<AllowedIp>::new()));
    let st = stored.clone();
    m.allowed_ips.expect_add_allowed_ip().returning(move |user, id, net, cap, at| {
        assert_eq!(cap, MAX_ALLOWED_IPS);
        let mut list = st.lock().unwrap();
        if let Some(e) = list.iter().find(|e| e.cidr == *net) {
            return Ok(AllowedIpAdded::Existing(e.clone()));
        }
        if list.len() >= 2 {
            return Ok(AllowedIpAdded::Full);
        }
        assert_ne!(user, Uuid::nil());
        let e = AllowedIp { id, cidr: *net, created_at: at };
        list.push(e.clone());
        Ok(AllowedIpAdded::Created(e))
    });
    let s = m.services(AuthPolicy::default());
    let p = admin();
    let (first, created) = s.allowed_ips.add(&p, target.id, add_input("192.0.2.77/24")).await.unwrap();
    assert!(created);
    assert_eq!(first.cidr.to_string(), "192.0.2.0/24");
    let (again, created) = s.allowed_ips.add(&p, target.id, add_input("192.0.2.0/24")).await.unwrap();
    assert!(!created);
    assert_eq!(again, first);
    s.allowed_ips.add(&p, target.id, add_input("2001:db8::1")).await.unwrap();
    match s.allowed_ips.add(&p, target.id, add_input("198.51.100.1")).await {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), ["cidr"]),
        other => panic!("{other:?}"),
    }
    // Malformed: 422 on `cidr`, and the store is not asked.
    match s.allowed_ips.add(&p, target.id, add_input("192.0.2.300")).await {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), ["cidr"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(stored.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn owners_and_superadmins_are_guarded_and_unknown_users_are_not_found() {
    let owner = user("owner@example.com", "owner");
    let mut root = user("root@example.com", "member");
    root.is_superadmin = true;
    let mut m = Mocks::new();
    directory(&mut m, vec![owner.clone(), root.clone()]);
    let s = m.services(AuthPolicy::default());
    let p = admin();
    let r = s.allowed_ips.add(&p, owner.id, add_input("192.0.2.7")).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::OwnerOnly))), "{r:?}");
    let r = s.allowed_ips.set_blocking(&p, root.id, SecurityPatch { block_unknown_ips: true }).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::SuperadminOnly))), "{r:?}");
    let r = s.allowed_ips.remove(&p, Uuid::now_v7(), Uuid::now_v7()).await;
    assert!(matches!(r, Err(Error::NotFound("user"))), "{r:?}");
}

#[tokio::test]
async fn removing_an_entry_the_user_lacks_is_not_found() {
    let target = user("t@example.com", "member");
    let present = Uuid::now_v7();
    let mut m = Mocks::new();
    directory(&mut m, vec![target.clone()]);
    m.allowed_ips.expect_remove_allowed_ip().returning(move |_, entry| Ok(entry == present));
    let s = m.services(AuthPolicy::default());
    s.allowed_ips.remove(&admin(), target.id, present).await.unwrap();
    let r = s.allowed_ips.remove(&admin(), target.id, Uuid::now_v7()).await;
    assert!(matches!(r, Err(Error::NotFound("allowed IP"))), "{r:?}");
}

#[tokio::test]
async fn an_administrator_toggles_blocking_and_gets_the_policy() {
    let target = user("t@example.com", "member");
    let mut m = Mocks::new();
    directory(&mut m, vec![target.clone()]);
    let id = target.id;
    m.allowed_ips
        .expect_set_block_unknown_ips()
        .withf(move |users, block, _| users == [id] && *block)
        .times(1)
        .returning(|users, _, _| Ok(users.to_vec()));
    m.ip_policy_defaults = false;
    m.allowed_ips.expect_ip_policy().returning(|_| Ok(Some(IpPolicy { block_unknown_ips: true, entries: vec![] })));
    let s = m.services(AuthPolicy::default());
    let policy = s.allowed_ips.set_blocking(&admin(), id, SecurityPatch { block_unknown_ips: true }).await.unwrap();
    assert!(policy.block_unknown_ips);
}

/// An administrator of organization `org`.
fn tenant_admin(org: Uuid) -> Principal {
    let mut p = principal(user("venue-admin@example.com", "member"), admin_perms());
    p.org_id = org;
    p.role = Some("admin".into());
    p
}

fn member_of(org: Uuid, managed_by: Uuid) -> User {
    let mut u = user("m@example.com", "member");
    u.managed_by = Some(managed_by);
    u.membership = Some(MembershipView {
        org_id: org,
        org_name: "Venue Co".into(),
        role_name: "Member".into(),
        location_id: None,
        location_name: None,
        membership_active: true,
        managed: managed_by == org,
    });
    u
}

#[tokio::test]
async fn an_organization_changes_only_the_accounts_it_manages_and_sees_only_its_members() {
    let org = Uuid::now_v7();
    let managed = member_of(org, org);
    let shared = member_of(org, crate::DEFAULT_ORG_ID);
    let mut m = Mocks::new();
    let known = [managed.clone(), shared.clone()];
    m.users.expect_get_in().returning(move |o, id| Ok(known.iter().find(|u| o == org && u.id == id).cloned()));
    m.allowed_ips
        .expect_add_allowed_ip()
        .times(1)
        .returning(|_, id, net, _, at| Ok(AllowedIpAdded::Created(AllowedIp { id, cidr: *net, created_at: at })));
    let s = m.services(AuthPolicy::default());
    let p = tenant_admin(org);
    s.allowed_ips.add(&p, managed.id, add_input("192.0.2.7")).await.unwrap();
    let r = s.allowed_ips.add(&p, shared.id, add_input("192.0.2.7")).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::NotManaged))), "{r:?}");
    let r = s.allowed_ips.add(&p, Uuid::now_v7(), add_input("192.0.2.7")).await;
    assert!(matches!(r, Err(Error::NotFound(_))), "{r:?}");
}

#[tokio::test]
async fn a_bulk_toggle_by_email_reports_unknown_and_refused_users_and_writes_the_rest_once() {
    let a = user("a@example.com", "member");
    let b = user("b@example.com", "member");
    let owner = user("owner@example.com", "owner");
    let mut m = Mocks::new();
    directory(&mut m, vec![a.clone(), b.clone(), owner.clone()]);
    let found =
        [("a@example.com".to_string(), a.id), ("b@example.com".into(), b.id), ("owner@example.com".into(), owner.id)];
    m.allowed_ips
        .expect_user_ids_by_email()
        .times(1)
        .returning(move |emails| Ok(found.iter().filter(|(e, _)| emails.contains(e)).cloned().collect()));
    let (ia, ib) = (a.id, b.id);
    // `b` vanishes between the check and the write: not found.
    m.allowed_ips
        .expect_set_block_unknown_ips()
        .withf(move |users, block, _| users == [ia, ib] && *block)
        .times(1)
        .returning(move |_, _, _| Ok(vec![ia]));
    let s = m.services(AuthPolicy::default());
    let input = BulkSecurityInput {
        block_unknown_ips: true,
        user_ids: None,
        emails: Some(vec![
            "A@example.com".into(),
            "nobody@example.com".into(),
            "owner@example.com".into(),
            "b@example.com".into(),
        ]),
    };
    let report = s.allowed_ips.bulk_set_blocking(&admin(), input).await.unwrap();
    assert_eq!(report.applied, vec![a.id]);
    assert_eq!(report.not_found, vec!["nobody@example.com".to_string(), "b@example.com".into()]);
    assert_eq!(report.refused, vec![RefusedTarget { target: "owner@example.com".into(), refusal: Refusal::OwnerOnly }]);
}

#[tokio::test]
async fn a_bulk_request_needs_users_write_before_its_body_is_looked_at() {
    let p = principal(user("reader@example.com", "member"), vec![Permission::UsersRead.as_str().into()]);
    let s = Mocks::new().services(AuthPolicy::default());
    let bad = BulkAllowedIpInput { cidr: "nope".into(), user_ids: None, emails: None };
    let r = s.allowed_ips.bulk_add(&p, bad.clone()).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::MissingPermission(Permission::UsersWrite)))), "{r:?}");
    let r = s.allowed_ips.bulk_remove(&p, bad).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::MissingPermission(Permission::UsersWrite)))), "{r:?}");
    let r = s
        .allowed_ips
        .bulk_add(&admin(), BulkAllowedIpInput { cidr: "nope".into(), user_ids: None, emails: None })
        .await;
    match r {
        Err(Error::Validation(e)) => assert_eq!(e.fields().collect::<Vec<_>>(), ["cidr", "user_ids"]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_bulk_add_that_would_overfill_a_list_names_the_users_and_writes_nothing() {
    let a = user("a@example.com", "member");
    let b = user("b@example.com", "member");
    let mut m = Mocks::new();
    directory(&mut m, vec![a.clone(), b.clone()]);
    let ib = b.id;
    m.allowed_ips.expect_add_allowed_ip_for().times(1).returning(move |_, _, _, _| Ok(BulkAdded::Full(vec![ib])));
    let s = m.services(AuthPolicy::default());
    let input = BulkAllowedIpInput { cidr: "10.0.0.4".into(), user_ids: Some(vec![a.id, b.id]), emails: None };
    match s.allowed_ips.bulk_add(&admin(), input).await {
        Err(Error::Validation(e)) => {
            let msg = &e.get("user_ids").unwrap()[0];
            assert!(msg.contains(&b.id.to_string()) && !msg.contains(&a.id.to_string()), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_bulk_remove_by_id_reports_users_it_cannot_see_as_not_found() {
    let a = user("a@example.com", "member");
    let mut m = Mocks::new();
    directory(&mut m, vec![a.clone()]);
    let ia = a.id;
    m.allowed_ips
        .expect_remove_allowed_ip_for()
        .withf(move |users, net| users == [ia] && net.to_string() == "2001:db8::/48")
        .times(1)
        .returning(|_, _| Ok(()));
    let s = m.services(AuthPolicy::default());
    let ghost = Uuid::now_v7();
    let input = BulkAllowedIpInput { cidr: "2001:db8::/48".into(), user_ids: Some(vec![a.id, ghost]), emails: None };
    let report = s.allowed_ips.bulk_remove(&admin(), input).await.unwrap();
    assert_eq!(report.applied, vec![a.id]);
    assert_eq!(report.not_found, vec![ghost.to_string()]);
}

#[tokio::test]
async fn my_ip_says_whether_the_caller_may_sign_in_from_it() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mut m = Mocks::new();
    m.ip_policy_defaults = false;
    m.allowed_ips
        .expect_ip_policy()
        .with(eq(me.id))
        .returning(|_| Ok(Some(IpPolicy { block_unknown_ips: true, entries: vec![entry("192.0.2.0/24")] })));
    let s = m.services(AuthPolicy::default());
    let inside = s.allowed_ips.my_ip(&p, Some("::ffff:192.0.2.9")).await.unwrap();
    assert_eq!(inside, IpCheck { ip: Some("192.0.2.9".into()), allowed: true });
    let outside = s.allowed_ips.my_ip(&p, Some("203.0.113.5")).await.unwrap();
    assert_eq!(outside, IpCheck { ip: Some("203.0.113.5".into()), allowed: false });
    let key = Principal::api_key(Uuid::now_v7(), "host".into(), Uuid::now_v7(), &[]);
    let r = s.allowed_ips.my_ip(&key, Some("192.0.2.9")).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::SignedInUserOnly))), "{r:?}");
}
