//! `PgAllowedIpRepository`: the policy in one read, idempotent additions,
//! the cap under concurrency, the bulk forms' one transaction, lookups by
//! address, `block_unknown_ips` at creation, and deletion with the user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster_domain::mail::Effects;
use roster_domain::ports::{AllowedIpAdded, AllowedIpRepository, BulkAdded, UserRepository};
use roster_domain::user::{AllowedNet, BuiltinRole};
use roster_postgres::PgAllowedIpRepository;
use uuid::Uuid;

use crate::common::*;

fn net(s: &str) -> AllowedNet {
    AllowedNet::parse(s).unwrap()
}

fn cidrs(policy: &roster_domain::user::IpPolicy) -> Vec<String> {
    policy.entries.iter().map(|e| e.cidr.to_string()).collect()
}

#[tokio::test]
async fn a_list_is_added_to_idempotently_read_with_its_flag_and_removed_from() {
    let ctx = setup().await;
    let ips = PgAllowedIpRepository::new(ctx.pool.clone());
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let policy = ips.ip_policy(ada.id).await.unwrap().unwrap();
    assert!(!policy.block_unknown_ips);
    assert!(policy.entries.is_empty());
    assert_eq!(ips.ip_policy(Uuid::now_v7()).await.unwrap(), None);

    let first = match ips.add_allowed_ip(ada.id, Uuid::now_v7(), &net("192.0.2.0/24"), 10, at(1)).await.unwrap() {
        AllowedIpAdded::Created(e) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(first.created_at, at(1));
    // The same range again: the entry it has.
    match ips.add_allowed_ip(ada.id, Uuid::now_v7(), &net("192.0.2.9/24"), 10, at(2)).await.unwrap() {
        AllowedIpAdded::Existing(e) => assert_eq!(e, first),
        other => panic!("{other:?}"),
    }
    // Short IPv6 forms fit the column's check.
    for short in ["::1", "::/0", "2001:db8::/32"] {
        let r = ips.add_allowed_ip(ada.id, Uuid::now_v7(), &net(short), 10, at(3)).await.unwrap();
        assert!(matches!(r, AllowedIpAdded::Created(_)), "{short}: {r:?}");
    }
    let longest = net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    assert!(matches!(
        ips.add_allowed_ip(ada.id, Uuid::now_v7(), &longest, 10, at(4)).await.unwrap(),
        AllowedIpAdded::Created(_)
    ));
    assert_eq!(ips.set_block_unknown_ips(&[ada.id, Uuid::now_v7()], true, at(5)).await.unwrap(), vec![ada.id]);
    let policy = ips.ip_policy(ada.id).await.unwrap().unwrap();
    assert!(policy.block_unknown_ips);
    assert_eq!(
        cidrs(&policy),
        ["192.0.2.0/24", "::1/128", "::/0", "2001:db8::/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128"]
    );
    assert_eq!(ctx.users.get(ada.id).await.unwrap().unwrap().updated_at, at(5));

    // Another user's entry is not theirs to remove.
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;
    assert!(!ips.remove_allowed_ip(bob.id, first.id).await.unwrap());
    assert!(ips.remove_allowed_ip(ada.id, first.id).await.unwrap());
    assert!(!ips.remove_allowed_ip(ada.id, first.id).await.unwrap());
    assert_eq!(ips.ip_policy(ada.id).await.unwrap().unwrap().entries.len(), 4);

    assert!(matches!(
        ips.add_allowed_ip(Uuid::now_v7(), Uuid::now_v7(), &net("192.0.2.1"), 10, at(6)).await.unwrap(),
        AllowedIpAdded::UserGone
    ));
    // Deleting the user deletes the list.
    assert!(ctx.users.delete(ada.id).await.unwrap());
    let left: i64 = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let mut c = ctx.pool.get().await.unwrap();
        roster_postgres::schema::user_allowed_ips::table.count().get_result(&mut c).await.unwrap()
    };
    assert_eq!(left, 0);
}

#[tokio::test]
async fn the_cap_holds_under_concurrent_additions() {
    let ctx = setup().await;
    let ips = PgAllowedIpRepository::new(ctx.pool.clone());
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let ips = ips.clone();
            tokio::spawn(async move {
                ips.add_allowed_ip(ada.id, Uuid::now_v7(), &net(&format!("10.0.0.{i}")), 5, at(1)).await.unwrap()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            AllowedIpAdded::Created(_) => created += 1,
            AllowedIpAdded::Full => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 5);
    assert_eq!(ips.ip_policy(ada.id).await.unwrap().unwrap().entries.len(), 5);
}

#[tokio::test]
async fn bulk_additions_are_all_or_nothing_and_removals_touch_only_the_range() {
    let ctx = setup().await;
    let ips = PgAllowedIpRepository::new(ctx.pool.clone());
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;
    let ghost = Uuid::now_v7();
    ips.add_allowed_ip(ada.id, Uuid::now_v7(), &net("10.0.0.4"), 2, at(1)).await.unwrap();
    ips.add_allowed_ip(bob.id, Uuid::now_v7(), &net("10.0.0.5"), 2, at(1)).await.unwrap();
    ips.add_allowed_ip(bob.id, Uuid::now_v7(), &net("10.0.0.6"), 2, at(1)).await.unwrap();

    // Bob's list is full and lacks it: nothing is written for Ada either.
    let r = ips.add_allowed_ip_for(&[ada.id, bob.id, ghost], &net("192.0.2.0/24"), 2, at(2)).await.unwrap();
    assert_eq!(r, BulkAdded::Full(vec![bob.id]));
    assert_eq!(cidrs(&ips.ip_policy(ada.id).await.unwrap().unwrap()), ["10.0.0.4/32"]);

    // A range a full list holds already is no reason to refuse.
    let r = ips.add_allowed_ip_for(&[bob.id, ghost, ada.id], &net("10.0.0.5"), 2, at(3)).await.unwrap();
    assert_eq!(r, BulkAdded::Applied(vec![bob.id, ada.id]));
    assert_eq!(cidrs(&ips.ip_policy(ada.id).await.unwrap().unwrap()), ["10.0.0.4/32", "10.0.0.5/32"]);
    assert_eq!(ips.ip_policy(bob.id).await.unwrap().unwrap().entries.len(), 2);

    ips.remove_allowed_ip_for(&[ada.id, bob.id, ghost], &net("10.0.0.5")).await.unwrap();
    assert_eq!(cidrs(&ips.ip_policy(ada.id).await.unwrap().unwrap()), ["10.0.0.4/32"]);
    assert_eq!(cidrs(&ips.ip_policy(bob.id).await.unwrap().unwrap()), ["10.0.0.6/32"]);
}

#[tokio::test]
async fn users_are_found_by_address_case_insensitively() {
    let ctx = setup().await;
    let ips = PgAllowedIpRepository::new(ctx.pool.clone());
    let ada = member(&ctx, "Ada@Example.com", None, at(0)).await;
    let mut found = ips.user_ids_by_email(&["ada@example.com".into(), "nobody@example.com".into()]).await.unwrap();
    found.sort();
    assert_eq!(found, vec![("ada@example.com".to_string(), ada.id)]);
}

#[tokio::test]
async fn a_new_user_may_start_with_blocking_on() {
    let ctx = setup().await;
    let ips = PgAllowedIpRepository::new(ctx.pool.clone());
    let mut record = new_user("ada@example.com", BuiltinRole::Member, at(0));
    record.extras.block_unknown_ips = true;
    let ada = ctx.users.create(&record, &Effects::none()).await.unwrap();
    assert!(ips.ip_policy(ada.id).await.unwrap().unwrap().block_unknown_ips);
    let bob =
        ctx.users.create(&new_user("bob@example.com", BuiltinRole::Member, at(0)), &Effects::none()).await.unwrap();
    assert!(!ips.ip_policy(bob.id).await.unwrap().unwrap().block_unknown_ips);
}
