//! `PgSessionRepository` against a real PostgreSQL.

#![allow(clippy::unwrap_used)]

use crate::common::{self, at, hash, member, new_session, new_user, setup, Ctx};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use roster_domain::auth::TokenHash;
use roster_domain::mail::Effects;
use roster_domain::ports::{RotateOutcome, Rotation, SessionRepository, UserRepository};
use roster_domain::user::{BuiltinRole, UserStatus};
use roster_postgres::schema::{refresh_tokens, sessions};
use uuid::Uuid;

fn rotation(presented: TokenHash, successor: TokenHash, now: DateTime<Utc>) -> Rotation {
    Rotation {
        presented,
        successor,
        successor_expires_at: now + Duration::minutes(30),
        now,
        grace: Duration::seconds(10),
        switch_org: None,
    }
}

async fn revoked_reason(ctx: &Ctx, session_id: Uuid) -> Option<String> {
    let mut c = ctx.pool.get().await.unwrap();
    sessions::table.find(session_id).select(sessions::revoked_reason).first(&mut c).await.unwrap()
}

#[tokio::test]
async fn create_records_the_login() {
    let ctx = setup().await;
    let u = member(&ctx, "login@example.com", None, at(0)).await;
    let s = new_session(u.id, 1, at(10));
    ctx.sessions.create(&s).await.unwrap();
    assert_eq!(ctx.users.get(u.id).await.unwrap().unwrap().last_login_at, Some(at(10)));
    let mut c = ctx.pool.get().await.unwrap();
    let (sid, expires): (Uuid, DateTime<Utc>) = refresh_tokens::table
        .find(hash(1).as_slice())
        .select((refresh_tokens::session_id, refresh_tokens::expires_at))
        .first(&mut c)
        .await
        .unwrap();
    assert_eq!((sid, expires), (s.id, s.refresh_expires_at));
}

#[tokio::test]
async fn subject_only_for_live_sessions_of_active_users() {
    let ctx = setup().await;
    let admin =
        ctx.users.create(&new_user("admin@example.com", BuiltinRole::Admin, at(0)), &Effects::none()).await.unwrap();
    let s = new_session(admin.id, 1, at(0));
    ctx.sessions.create(&s).await.unwrap();

    let subject = ctx.sessions.subject(s.id, admin.id, at(60)).await.unwrap().unwrap();
    assert_eq!(subject.user.id, admin.id);
    assert_eq!(subject.user.role.as_deref(), Some("admin"));
    assert!(subject.permissions.iter().any(|p| p == "users:read"));
    // Another user's id, or past expiry: nothing.
    assert_eq!(ctx.sessions.subject(s.id, Uuid::now_v7(), at(60)).await.unwrap(), None);
    assert_eq!(ctx.sessions.subject(s.id, admin.id, s.expires_at).await.unwrap(), None);
    assert_eq!(ctx.sessions.subject(Uuid::now_v7(), admin.id, at(60)).await.unwrap(), None);

    // A user who may not sign in has no live sessions, even unrevoked ones.
    let u = member(&ctx, "inactive@example.com", None, at(0)).await;
    let s2 = new_session(u.id, 2, at(0));
    ctx.sessions.create(&s2).await.unwrap();
    let mut c = ctx.pool.get().await.unwrap();
    diesel::update(roster_postgres::schema::users::table.find(u.id))
        .set(roster_postgres::schema::users::status.eq("banned"))
        .execute(&mut c)
        .await
        .unwrap();
    assert_eq!(ctx.sessions.subject(s2.id, u.id, at(60)).await.unwrap(), None);

    assert!(ctx.sessions.revoke(s.id, admin.id, "logout", at(70)).await.unwrap());
    assert_eq!(ctx.sessions.subject(s.id, admin.id, at(71)).await.unwrap(), None);
    assert_eq!(revoked_reason(&ctx, s.id).await.as_deref(), Some("logout"));
}

#[tokio::test]
async fn rotate_then_replay_then_reuse() {
    let ctx = setup().await;
    let u = member(&ctx, "rot@example.com", None, at(0)).await;
    let mut s = new_session(u.id, 1, at(0));
    s.amr = vec!["pwd".to_owned(), "otp".to_owned()];
    ctx.sessions.create(&s).await.unwrap();

    let r = ctx.sessions.rotate(&rotation(hash(1), hash(2), at(100))).await.unwrap();
    let RotateOutcome::Rotated { session_id, subject, amr } = r else { panic!("expected Rotated, got {r:?}") };
    assert_eq!((session_id, subject.user.id), (s.id, u.id));
    // The session's authentication methods outlive every rotation.
    assert_eq!(amr, ["pwd", "otp"]);

    // Within the grace window, with the same successor: handed out again.
    let r = ctx.sessions.rotate(&rotation(hash(1), hash(2), at(110))).await.unwrap();
    assert!(matches!(r, RotateOutcome::Replayed { session_id, .. } if session_id == s.id), "{r:?}");
    // A different successor within the window is not a replay.
    let mut c = ctx.pool.get().await.unwrap();
    let successor_expiry: DateTime<Utc> =
        refresh_tokens::table.find(hash(2).as_slice()).select(refresh_tokens::expires_at).first(&mut c).await.unwrap();
    assert_eq!(successor_expiry, at(100) + Duration::minutes(30));

    // The successor rotates normally, and the chain continues.
    let r = ctx.sessions.rotate(&rotation(hash(2), hash(3), at(200))).await.unwrap();
    assert!(matches!(r, RotateOutcome::Rotated { .. }), "{r:?}");

    // The first token again, long after: theft. The session is revoked.
    let r = ctx.sessions.rotate(&rotation(hash(1), hash(2), at(300))).await.unwrap();
    assert_eq!(r, RotateOutcome::Reused { session_id: s.id });
    assert_eq!(revoked_reason(&ctx, s.id).await.as_deref(), Some("refresh_token_reuse"));
    assert_eq!(ctx.sessions.subject(s.id, u.id, at(301)).await.unwrap(), None);
    // Every token of the session is now worthless.
    assert_eq!(ctx.sessions.rotate(&rotation(hash(3), hash(4), at(302))).await.unwrap(), RotateOutcome::Invalid);
    assert_eq!(ctx.sessions.rotate(&rotation(hash(1), hash(2), at(303))).await.unwrap(), RotateOutcome::Invalid);
}

#[tokio::test]
async fn replay_with_another_successor_is_reuse() {
    let ctx = setup().await;
    let u = member(&ctx, "mismatch@example.com", None, at(0)).await;
    let s = new_session(u.id, 1, at(0));
    ctx.sessions.create(&s).await.unwrap();
    assert!(matches!(
        ctx.sessions.rotate(&rotation(hash(1), hash(2), at(1))).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
    let r = ctx.sessions.rotate(&rotation(hash(1), hash(9), at(2))).await.unwrap();
    assert_eq!(r, RotateOutcome::Reused { session_id: s.id });
}

#[tokio::test]
async fn rotate_refuses_invalid_tokens() {
    let ctx = setup().await;
    let u = member(&ctx, "inv@example.com", None, at(0)).await;
    // Unknown token.
    assert_eq!(ctx.sessions.rotate(&rotation(hash(42), hash(43), at(1))).await.unwrap(), RotateOutcome::Invalid);

    // Expired token (30 min), session still live (1 h).
    let s = new_session(u.id, 1, at(0));
    ctx.sessions.create(&s).await.unwrap();
    assert_eq!(ctx.sessions.rotate(&rotation(hash(1), hash(2), at(31 * 60))).await.unwrap(), RotateOutcome::Invalid);

    // The successor never outlives its session.
    let s2 = new_session(u.id, 5, at(0));
    ctx.sessions.create(&s2).await.unwrap();
    let mut late = rotation(hash(5), hash(6), at(29 * 60));
    late.successor_expires_at = at(0) + Duration::days(30);
    assert!(matches!(ctx.sessions.rotate(&late).await.unwrap(), RotateOutcome::Rotated { .. }));
    let mut c = ctx.pool.get().await.unwrap();
    let exp: DateTime<Utc> =
        refresh_tokens::table.find(hash(6).as_slice()).select(refresh_tokens::expires_at).first(&mut c).await.unwrap();
    assert_eq!(exp, s2.expires_at);
    // Expired session.
    assert_eq!(ctx.sessions.rotate(&rotation(hash(6), hash(7), s2.expires_at)).await.unwrap(), RotateOutcome::Invalid);

    // A user who may no longer sign in.
    let s3 = new_session(u.id, 8, at(0));
    ctx.sessions.create(&s3).await.unwrap();
    diesel::update(roster_postgres::schema::users::table.find(u.id))
        .set(roster_postgres::schema::users::status.eq(UserStatus::Inactive.as_str()))
        .execute(&mut c)
        .await
        .unwrap();
    assert_eq!(ctx.sessions.rotate(&rotation(hash(8), hash(9), at(5))).await.unwrap(), RotateOutcome::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_of_one_token() {
    let ctx = setup().await;
    let u = member(&ctx, "tabs@example.com", None, at(0)).await;
    let s = new_session(u.id, 1, at(0));
    ctx.sessions.create(&s).await.unwrap();

    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let repo = ctx.sessions.clone();
            tokio::spawn(
                async move { repo.rotate(&rotation(hash(1), hash(2), at(100) + Duration::milliseconds(i))).await },
            )
        })
        .collect();
    let (mut rotated, mut replayed) = (0, 0);
    for t in tasks {
        match t.await.unwrap().unwrap() {
            RotateOutcome::Rotated { session_id, .. } if session_id == s.id => rotated += 1,
            RotateOutcome::Replayed { session_id, .. } if session_id == s.id => replayed += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((rotated, replayed), (1, 7));
    assert!(ctx.sessions.subject(s.id, u.id, at(101)).await.unwrap().is_some());
    let mut c = ctx.pool.get().await.unwrap();
    let tokens: i64 =
        refresh_tokens::table.filter(refresh_tokens::session_id.eq(s.id)).count().get_result(&mut c).await.unwrap();
    assert_eq!(tokens, 2);
    assert!(matches!(
        ctx.sessions.rotate(&rotation(hash(2), hash(3), at(102))).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

#[tokio::test]
async fn revocations() {
    let ctx = setup().await;
    let u = member(&ctx, "rev@example.com", None, at(0)).await;
    let other = member(&ctx, "other@example.com", None, at(0)).await;
    let ss: Vec<_> = (1..=4).map(|i| new_session(u.id, i, at(0))).collect();
    for s in &ss {
        ctx.sessions.create(s).await.unwrap();
    }
    let theirs = new_session(other.id, 9, at(0));
    ctx.sessions.create(&theirs).await.unwrap();

    // revoke: only the owner's live session.
    assert!(!ctx.sessions.revoke(ss[0].id, other.id, "logout", at(1)).await.unwrap());
    assert!(ctx.sessions.revoke(ss[0].id, u.id, "logout", at(1)).await.unwrap());
    assert!(!ctx.sessions.revoke(ss[0].id, u.id, "logout", at(2)).await.unwrap());

    // revoke_by_refresh: by any token of the chain.
    assert!(ctx.sessions.revoke_by_refresh(&hash(2), "logout", at(3)).await.unwrap());
    assert!(!ctx.sessions.revoke_by_refresh(&hash(2), "logout", at(4)).await.unwrap());
    assert!(!ctx.sessions.revoke_by_refresh(&hash(77), "logout", at(4)).await.unwrap());
    assert_eq!(revoked_reason(&ctx, ss[1].id).await.as_deref(), Some("logout"));

    // revoke_all_for_user: the live ones but `except`.
    assert_eq!(ctx.sessions.revoke_all_for_user(u.id, Some(ss[3].id), "admin", at(5)).await.unwrap(), 1);
    assert_eq!(revoked_reason(&ctx, ss[2].id).await.as_deref(), Some("admin"));
    assert!(ctx.sessions.subject(ss[3].id, u.id, at(6)).await.unwrap().is_some());
    assert_eq!(ctx.sessions.revoke_all_for_user(u.id, None, "admin", at(7)).await.unwrap(), 1);
    assert_eq!(ctx.sessions.revoke_all_for_user(u.id, None, "admin", at(8)).await.unwrap(), 0);
    assert!(ctx.sessions.subject(theirs.id, other.id, at(9)).await.unwrap().is_some());
}

#[tokio::test]
async fn a_session_in_an_organization_carries_that_role_and_ends_with_the_membership() {
    use roster_domain::ports::MemberRepository;
    let ctx = setup().await;
    let u = member(&ctx, "tenant-owner@example.com", None, at(0)).await;
    let acme = common::org(&ctx, "acme", Some(u.id)).await;
    let other = common::org(&ctx, "other", None).await;
    let mut s = new_session(u.id, 1, at(0));
    s.org_id = acme.id;
    ctx.sessions.create(&s).await.unwrap();
    let subject = ctx.sessions.subject(s.id, u.id, at(1)).await.unwrap().unwrap();
    assert_eq!((subject.org_id, subject.org_role.as_deref()), (acme.id, Some("owner")));
    assert!(subject.permissions.contains(&"roles:manage".to_string()));
    assert_eq!(subject.user.role.as_deref(), Some("member"), "the user's own role stays the default organization's");

    // Switching to an organization they are not in changes nothing.
    let mut r = rotation(hash(1), hash(2), at(2));
    r.switch_org = Some(other.id);
    assert_eq!(ctx.sessions.rotate(&r).await.unwrap(), RotateOutcome::NotMember);
    // Switching back to the default organization rotates and moves the session.
    r.switch_org = Some(roster_domain::DEFAULT_ORG_ID);
    match ctx.sessions.rotate(&r).await.unwrap() {
        RotateOutcome::Rotated { subject, .. } => assert_eq!(subject.org_id, roster_domain::DEFAULT_ORG_ID),
        other => panic!("unexpected {other:?}"),
    }
    let subject = ctx.sessions.subject(s.id, u.id, at(3)).await.unwrap().unwrap();
    assert_eq!((subject.org_id, subject.org_role.as_deref()), (roster_domain::DEFAULT_ORG_ID, Some("member")));

    // A session in an organization ends when the membership does.
    let mut s2 = new_session(u.id, 3, at(4));
    s2.org_id = acme.id;
    ctx.sessions.create(&s2).await.unwrap();
    let co_owner = member(&ctx, "co-owner@example.com", None, at(4)).await;
    let owner_role = common::role(&ctx, acme.id, "owner").await;
    ctx.members.add_member(acme.id, co_owner.id, owner_role.id, None, at(4)).await.unwrap();
    ctx.members.remove_member(acme.id, u.id).await.unwrap();
    assert!(ctx.sessions.subject(s2.id, u.id, at(5)).await.unwrap().is_none());
    assert_eq!(ctx.sessions.rotate(&rotation(hash(3), hash(4), at(5))).await.unwrap(), RotateOutcome::Invalid);
}

#[tokio::test]
async fn listing_shows_the_live_sessions_newest_first_with_their_organizations() {
    let ctx = setup().await;
    let u = member(&ctx, "lister@example.com", None, at(0)).await;
    let other = member(&ctx, "someone-else@example.com", None, at(0)).await;
    let acme = common::org(&ctx, "acme", Some(u.id)).await;
    let first = new_session(u.id, 1, at(0));
    let mut in_acme = new_session(u.id, 2, at(10));
    in_acme.org_id = acme.id;
    in_acme.user_agent = Some("Firefox".to_owned());
    in_acme.ip = Some("198.51.100.4".to_owned());
    let newest = new_session(u.id, 3, at(20));
    let revoked = new_session(u.id, 4, at(30));
    let mut expired = new_session(u.id, 5, at(40));
    expired.expires_at = at(50);
    let theirs = new_session(other.id, 6, at(60));
    for s in [&first, &in_acme, &newest, &revoked, &expired, &theirs] {
        ctx.sessions.create(s).await.unwrap();
    }
    assert!(ctx.sessions.revoke(revoked.id, u.id, "logout", at(31)).await.unwrap());
    // A rotation is a use; the MFA flow writes other methods.
    let r = ctx.sessions.rotate(&rotation(hash(1), hash(7), at(90))).await.unwrap();
    assert!(matches!(r, RotateOutcome::Rotated { .. }), "{r:?}");
    let mut c = ctx.pool.get().await.unwrap();
    diesel::update(sessions::table.find(newest.id))
        .set(sessions::amr.eq(vec!["pwd".to_owned(), "otp".to_owned()]))
        .execute(&mut c)
        .await
        .unwrap();

    let listed = ctx.sessions.list_for_user(u.id, at(100), 100).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), [newest.id, in_acme.id, first.id]);
    let acme_row = &listed[1];
    assert_eq!((acme_row.org_id, acme_row.org_name.as_str()), (acme.id, "ACME"));
    assert_eq!((acme_row.ip.as_deref(), acme_row.user_agent.as_deref()), (Some("198.51.100.4"), Some("Firefox")));
    assert_eq!((acme_row.created_at, acme_row.last_used_at, acme_row.expires_at), (at(10), at(10), at(10 + 3600)));
    assert_eq!(acme_row.amr, ["pwd"], "a password session");
    assert_eq!(listed[0].amr, ["pwd", "otp"]);
    assert_eq!(listed[0].org_id, roster_domain::DEFAULT_ORG_ID);
    assert_eq!((listed[2].created_at, listed[2].last_used_at), (at(0), at(90)), "rotated at 90");
    assert!(listed.iter().all(|s| !s.current), "the store does not know the caller");

    // The cap keeps the newest.
    let capped = ctx.sessions.list_for_user(u.id, at(100), 2).await.unwrap();
    assert_eq!(capped.iter().map(|s| s.id).collect::<Vec<_>>(), [newest.id, in_acme.id]);
    // Expiry is judged at `now`.
    assert_eq!(ctx.sessions.list_for_user(u.id, at(45), 100).await.unwrap().len(), 4);
    assert!(ctx.sessions.list_for_user(Uuid::now_v7(), at(100), 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_expired_session_is_not_revoked_again() {
    let ctx = setup().await;
    let u = member(&ctx, "expiring@example.com", None, at(0)).await;
    let s = new_session(u.id, 1, at(0));
    ctx.sessions.create(&s).await.unwrap();
    assert!(!ctx.sessions.revoke(s.id, u.id, "revoked_by_user", s.expires_at).await.unwrap());
    assert_eq!(revoked_reason(&ctx, s.id).await, None);
    assert!(ctx.sessions.revoke(s.id, u.id, "revoked_by_user", s.expires_at - Duration::seconds(1)).await.unwrap());
}
