//! Invitations of `PgAccountRepository`: inviting, accepting, listing,
//! revoking.

#![allow(clippy::unwrap_used)]

use crate::common::{at, hash, letter, member, new_user, outbox_rows, setup, token, Ctx};
use chrono::Duration;
use roster_domain::mail::{
    Effects, Invitation, InvitationStatus, MailTemplate, NewInvitation, RedeemAction, RedeemOutcome, Redemption,
    RevokeOutcome, TokenPurpose, TokenState,
};
use roster_domain::ports::{AccountRepository, UserRepository};
use roster_domain::user::{BuiltinRole, UserStatus};
use roster_domain::{Conflict, RepoError};
use uuid::Uuid;

/// An invitation of a new pending user at `secs`, open for a week.
fn invitation(address: &str, role: BuiltinRole, secs: i64, reinvite: bool) -> NewInvitation {
    let mut user = new_user(address, role, at(secs));
    user.password_hash = None;
    user.status = UserStatus::Pending;
    NewInvitation { id: Uuid::now_v7(), user, invited_by: None, expires_at: at(secs) + Duration::days(7), reinvite }
}

/// Its token `hash(tag)` (made, as the domain does, for the new user) and letter.
fn effects(i: &NewInvitation, tag: u8) -> Effects {
    let address = i.user.email.as_str();
    let mut t = token(tag, TokenPurpose::Invitation, i.user.id, address, i.user.now);
    t.invitation_id = Some(i.id);
    t.expires_at = i.expires_at;
    Effects::token_and_mail(t, letter(MailTemplate::Invitation, address, i.user.now))
}

async fn invite(ctx: &Ctx, i: &NewInvitation, tag: u8) -> Invitation {
    ctx.accounts.invite(i, &effects(i, tag)).await.unwrap().0
}

fn accept(tag: u8, name: Option<&str>, secs: i64) -> Redemption {
    let action = RedeemAction::AcceptInvitation { password_hash: format!("hash-{tag}"), name: name.map(str::to_owned) };
    Redemption { hash: hash(tag), action, now: at(secs) }
}

async fn statuses(ctx: &Ctx, status: Option<InvitationStatus>, secs: i64) -> Vec<(Uuid, InvitationStatus)> {
    let page = ctx.accounts.list_invitations(status, 1, 50, at(secs)).await.unwrap();
    page.items.iter().map(|i| (i.id, i.status)).collect()
}

#[tokio::test]
async fn invite_a_new_user_then_accept() {
    let ctx = setup().await;
    let boss = member(&ctx, "boss@example.com", None, at(0)).await;
    let mut new = invitation("Guest@Example.com", BuiltinRole::Admin, 10, false);
    new.invited_by = Some(boss.id);
    let (inv, user) = ctx.accounts.invite(&new, &effects(&new, 1)).await.unwrap();

    assert_eq!((user.id, user.status, user.email_verified), (new.user.id, UserStatus::Pending, false));
    assert_eq!((user.email.as_str(), user.role.as_deref()), ("Guest@example.com", Some("admin")));
    assert_eq!(ctx.users.password_hash(user.id).await.unwrap(), None);
    let expected = Invitation {
        id: new.id,
        user_id: user.id,
        email: "Guest@example.com".to_owned(),
        role: "admin".to_owned(),
        invited_by: Some(boss.id),
        status: InvitationStatus::Pending,
        created_at: at(10),
        expires_at: new.expires_at,
        accepted_at: None,
    };
    assert_eq!(inv, expected);
    let record = ctx.accounts.find_token(&hash(1)).await.unwrap().unwrap();
    assert_eq!((record.invitation_id, record.user.id), (Some(new.id), user.id));
    assert_eq!(outbox_rows(&ctx).await.iter().map(|r| r.template.as_str()).collect::<Vec<_>>(), ["invitation"]);

    let out = ctx.accounts.redeem(&accept(1, Some("Guest Star"), 20), &Effects::none()).await.unwrap();
    let RedeemOutcome::Redeemed(active) = out else { panic!("not redeemed") };
    assert_eq!(
        (active.status, active.email_verified, active.name.as_deref()),
        (UserStatus::Active, true, Some("Guest Star"))
    );
    assert_eq!((active.role.as_deref(), active.updated_at), (Some("admin"), at(20)));
    assert_eq!(ctx.users.password_hash(user.id).await.unwrap().as_deref(), Some("hash-1"));
    let listed = ctx.accounts.list_invitations(None, 1, 10, at(21)).await.unwrap();
    assert_eq!(
        listed.items,
        [Invitation { status: InvitationStatus::Accepted, accepted_at: Some(at(20)), ..expected }]
    );

    assert_eq!(ctx.accounts.redeem(&accept(1, None, 22), &Effects::none()).await, Ok(RedeemOutcome::NotLive));
}

#[tokio::test]
async fn accepting_needs_a_user_still_pending() {
    let ctx = setup().await;
    let new = invitation("early@example.com", BuiltinRole::Member, 0, false);
    invite(&ctx, &new, 1).await;
    ctx.users.set_status(new.user.id, UserStatus::Active, at(5)).await.unwrap();

    assert_eq!(ctx.accounts.redeem(&accept(1, Some("X"), 6), &Effects::none()).await, Ok(RedeemOutcome::NotLive));
    assert_eq!(ctx.users.password_hash(new.user.id).await.unwrap(), None);
    assert_eq!(ctx.users.get(new.user.id).await.unwrap().unwrap().name, None);
    assert_eq!(statuses(&ctx, None, 7).await, [(new.id, InvitationStatus::Pending)]);
}

#[tokio::test]
async fn reinviting_a_pending_user_supersedes_the_open_invitation() {
    let ctx = setup().await;
    let first = invitation("again@example.com", BuiltinRole::Member, 0, false);
    let (i1, u1) = ctx.accounts.invite(&first, &effects(&first, 1)).await.unwrap();

    // Without `reinvite` the address is taken.
    let refused = invitation("again@example.com", BuiltinRole::Admin, 5, false);
    assert_eq!(
        ctx.accounts.invite(&refused, &effects(&refused, 9)).await,
        Err(RepoError::Conflict(Conflict::EmailTaken))
    );

    let second = invitation("AGAIN@example.com", BuiltinRole::Admin, 10, true);
    let (i2, u2) = ctx.accounts.invite(&second, &effects(&second, 2)).await.unwrap();
    assert_eq!(u2.id, u1.id, "the pending user is reused");
    assert_eq!((u2.role.as_deref(), u2.status), (Some("admin"), UserStatus::Pending));
    assert_eq!((i2.user_id, i2.email.as_str(), i2.role.as_str()), (u1.id, "again@example.com", "admin"));
    assert_eq!(
        statuses(&ctx, None, 11).await,
        [(i2.id, InvitationStatus::Pending), (i1.id, InvitationStatus::Superseded)]
    );

    let old = ctx.accounts.find_token(&hash(1)).await.unwrap().unwrap();
    assert_eq!(old.state(at(11)), TokenState::Superseded);
    let new = ctx.accounts.find_token(&hash(2)).await.unwrap().unwrap();
    assert_eq!((new.state(at(11)), new.user.id, new.invitation_id), (TokenState::Live, u1.id, Some(second.id)));
    assert_eq!(ctx.accounts.find_token(&hash(9)).await.unwrap(), None);
    assert_eq!(outbox_rows(&ctx).await.len(), 2);

    assert_eq!(ctx.accounts.redeem(&accept(1, None, 12), &Effects::none()).await, Ok(RedeemOutcome::NotLive));
    let out = ctx.accounts.redeem(&accept(2, None, 12), &Effects::none()).await.unwrap();
    assert!(
        matches!(out, RedeemOutcome::Redeemed(u) if u.status == UserStatus::Active && u.role.as_deref() == Some("admin"))
    );
}

#[tokio::test]
async fn inviting_an_active_user_is_refused_and_writes_nothing() {
    let ctx = setup().await;
    let existing = member(&ctx, "active@example.com", None, at(0)).await;
    let new = invitation("ACTIVE@example.com", BuiltinRole::Owner, 5, true);
    assert_eq!(ctx.accounts.invite(&new, &effects(&new, 1)).await, Err(RepoError::Conflict(Conflict::EmailTaken)));
    assert_eq!(ctx.accounts.list_invitations(None, 1, 10, at(6)).await.unwrap().total, Some(0));
    assert_eq!(ctx.accounts.find_token(&hash(1)).await.unwrap(), None);
    assert!(outbox_rows(&ctx).await.is_empty());
    assert_eq!(ctx.users.get(existing.id).await.unwrap().unwrap(), existing);
}

#[tokio::test]
async fn list_by_status_newest_first_in_pages() {
    let ctx = setup().await;
    let accepted = invitation("a@example.com", BuiltinRole::Member, 0, false);
    let revoked = invitation("b@example.com", BuiltinRole::Member, 1, false);
    let superseded = invitation("c@example.com", BuiltinRole::Member, 2, false);
    let mut expired = invitation("d@example.com", BuiltinRole::Member, 3, false);
    expired.expires_at = at(50);
    let pending = invitation("e@example.com", BuiltinRole::Admin, 4, false);
    let renewed = invitation("c@example.com", BuiltinRole::Member, 5, true);
    for (tag, i) in [&accepted, &revoked, &superseded, &expired, &pending, &renewed].into_iter().enumerate() {
        invite(&ctx, i, tag as u8 + 1).await;
    }
    ctx.accounts.redeem(&accept(1, None, 10), &Effects::none()).await.unwrap();
    assert_eq!(ctx.accounts.revoke_invitation(revoked.id, at(11)).await, Ok(RevokeOutcome::Revoked));

    use InvitationStatus::*;
    let all = [
        (renewed.id, Pending),
        (pending.id, Pending),
        (expired.id, Expired),
        (superseded.id, Superseded),
        (revoked.id, Revoked),
        (accepted.id, Accepted),
    ];
    assert_eq!(statuses(&ctx, None, 100).await, all);
    // Before its expiry, `expired` is pending.
    assert_eq!(statuses(&ctx, Some(Pending), 49).await, [all[0].0, all[1].0, all[2].0].map(|id| (id, Pending)));
    for (i, status) in [Pending, Expired, Superseded, Revoked, Accepted].into_iter().enumerate() {
        let page = ctx.accounts.list_invitations(Some(status), 1, 10, at(100)).await.unwrap();
        let expected: Vec<_> = all.iter().filter(|(_, s)| *s == status).map(|(id, _)| *id).collect();
        assert_eq!(page.items.iter().map(|i| i.id).collect::<Vec<_>>(), expected, "{status:?}");
        assert_eq!(page.total, Some(expected.len() as u64), "{i}");
    }

    let p1 = ctx.accounts.list_invitations(None, 1, 4, at(100)).await.unwrap();
    assert_eq!((p1.items.len(), p1.total, p1.page, p1.per_page, p1.has_more), (4, Some(6), Some(1), 4, true));
    let p2 = ctx.accounts.list_invitations(None, 2, 4, at(100)).await.unwrap();
    assert_eq!(p2.items.iter().map(|i| (i.id, i.status)).collect::<Vec<_>>(), all[4..]);
    assert!(!p2.has_more);
    let p3 = ctx.accounts.list_invitations(None, 3, 4, at(100)).await.unwrap();
    assert_eq!((p3.items.len(), p3.total, p3.has_more), (0, Some(6), false));
    assert_eq!(p1.items[1].role, "admin");
}

#[tokio::test]
async fn revoking() {
    let ctx = setup().await;
    let open = invitation("revoke@example.com", BuiltinRole::Member, 0, false);
    invite(&ctx, &open, 1).await;
    assert_eq!(ctx.accounts.revoke_invitation(open.id, at(5)).await, Ok(RevokeOutcome::Revoked));
    // The pending user is gone with their token; the invitation stays, revoked.
    assert_eq!(ctx.users.get(open.user.id).await.unwrap(), None);
    assert_eq!(ctx.accounts.find_token(&hash(1)).await.unwrap(), None);
    assert_eq!(ctx.accounts.redeem(&accept(1, None, 6), &Effects::none()).await, Ok(RedeemOutcome::NotLive));
    assert_eq!(statuses(&ctx, None, 6).await, [(open.id, InvitationStatus::Revoked)]);
    assert_eq!(ctx.accounts.revoke_invitation(open.id, at(7)).await, Ok(RevokeOutcome::AlreadyClosed));
    // The address is free again.
    let again = invitation("revoke@example.com", BuiltinRole::Member, 8, false);
    invite(&ctx, &again, 2).await;

    let accepted = invitation("accepted@example.com", BuiltinRole::Member, 0, false);
    invite(&ctx, &accepted, 3).await;
    ctx.accounts.redeem(&accept(3, None, 1), &Effects::none()).await.unwrap();
    assert_eq!(ctx.accounts.revoke_invitation(accepted.id, at(9)).await, Ok(RevokeOutcome::Accepted));

    let mut lapsed = invitation("lapsed@example.com", BuiltinRole::Member, 0, false);
    lapsed.expires_at = at(10);
    invite(&ctx, &lapsed, 4).await;
    assert_eq!(ctx.accounts.revoke_invitation(lapsed.id, at(10)).await, Ok(RevokeOutcome::AlreadyClosed));
    assert!(ctx.users.get(lapsed.user.id).await.unwrap().is_some());

    // A user activated meanwhile keeps their account; the link stops working.
    let activated = invitation("activated@example.com", BuiltinRole::Member, 0, false);
    invite(&ctx, &activated, 5).await;
    ctx.users.set_status(activated.user.id, UserStatus::Active, at(1)).await.unwrap();
    assert_eq!(ctx.accounts.revoke_invitation(activated.id, at(11)).await, Ok(RevokeOutcome::Revoked));
    assert!(ctx.users.get(activated.user.id).await.unwrap().is_some());
    assert_eq!(ctx.accounts.find_token(&hash(5)).await.unwrap().unwrap().state(at(12)), TokenState::Superseded);

    assert_eq!(ctx.accounts.revoke_invitation(Uuid::now_v7(), at(12)).await, Ok(RevokeOutcome::NotFound));
}

#[tokio::test]
async fn deleting_an_invited_user_takes_their_invitations() {
    let ctx = setup().await;
    let gone = invitation("gone@example.com", BuiltinRole::Member, 0, false);
    let stays = invitation("stays@example.com", BuiltinRole::Member, 0, false);
    invite(&ctx, &gone, 1).await;
    invite(&ctx, &stays, 2).await;
    assert!(ctx.users.delete(gone.user.id).await.unwrap());
    assert_eq!(statuses(&ctx, None, 1).await, [(stays.id, InvitationStatus::Pending)]);
    assert_eq!(ctx.accounts.find_token(&hash(1)).await.unwrap(), None);
    assert_eq!(ctx.accounts.revoke_invitation(gone.id, at(2)).await, Ok(RevokeOutcome::NotFound));
}
