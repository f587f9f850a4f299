//! One-time tokens of `PgAccountRepository`: issuing, finding, redeeming.

#![allow(clippy::unwrap_used)]

use crate::common::{at, email, hash, letter, member, new_session, only, outbox_rows, setup, token, Ctx};
use chrono::Duration;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use roster_domain::auth::TokenHash;
use roster_domain::mail::{Effects, MailTemplate, RedeemAction, RedeemOutcome, Redemption, TokenPurpose, TokenState};
use roster_domain::ports::{AccountRepository, SessionRepository, UserRepository};
use roster_domain::user::{UserChanges, UserStatus};
use roster_domain::{Conflict, RepoError};
use roster_postgres::schema::sessions;

fn redemption(tag: u8, action: RedeemAction, secs: i64) -> Redemption {
    Redemption { hash: hash(tag), action, now: at(secs) }
}

async fn state(ctx: &Ctx, h: TokenHash, secs: i64) -> TokenState {
    ctx.accounts.find_token(&h).await.unwrap().unwrap().state(at(secs))
}

fn reset(hash: &str) -> RedeemAction {
    RedeemAction::ResetPassword { password_hash: hash.to_owned() }
}

#[tokio::test]
async fn issuing_supersedes_the_live_token_of_the_same_purpose_only() {
    let ctx = setup().await;
    let u = member(&ctx, "ada@example.com", None, at(0)).await;
    let other = member(&ctx, "bob@example.com", None, at(0)).await;
    let verify = |tag, user, addr, secs| token(tag, TokenPurpose::VerifyEmail, user, addr, at(secs));
    ctx.accounts.issue(&only(verify(1, u.id, "ada@example.com", 0))).await.unwrap();
    ctx.accounts.issue(&only(token(2, TokenPurpose::ResetPassword, u.id, "ada@example.com", at(0)))).await.unwrap();
    ctx.accounts.issue(&only(verify(3, other.id, "bob@example.com", 0))).await.unwrap();
    let mail = letter(MailTemplate::VerifyEmail, "ada@example.com", at(10));
    ctx.accounts.issue(&Effects::token_and_mail(verify(4, u.id, "ada@example.com", 10), mail.clone())).await.unwrap();

    let old = ctx.accounts.find_token(&hash(1)).await.unwrap().unwrap();
    assert_eq!((old.superseded_at, old.state(at(11))), (Some(at(10)), TokenState::Superseded));
    assert_eq!(state(&ctx, hash(2), 11).await, TokenState::Live, "another purpose");
    assert_eq!(state(&ctx, hash(3), 11).await, TokenState::Live, "another user");
    assert_eq!(state(&ctx, hash(4), 11).await, TokenState::Live);
    assert_eq!(outbox_rows(&ctx).await.iter().map(|r| r.id).collect::<Vec<_>>(), [mail.id]);
    // The superseded token cannot be redeemed.
    assert_eq!(
        ctx.accounts.redeem(&redemption(1, RedeemAction::VerifyEmail, 12), &Effects::none()).await,
        Ok(RedeemOutcome::NotLive)
    );
}

#[tokio::test]
async fn find_token_in_each_state() {
    let ctx = setup().await;
    assert_eq!(ctx.accounts.find_token(&hash(9)).await.unwrap(), None);
    let u = member(&ctx, "find@example.com", Some("Finn"), at(0)).await;
    ctx.accounts.issue(&only(token(1, TokenPurpose::ResetPassword, u.id, "find@example.com", at(5)))).await.unwrap();

    let r = ctx.accounts.find_token(&hash(1)).await.unwrap().unwrap();
    assert_eq!((r.purpose, r.email.as_str(), r.invitation_id), (TokenPurpose::ResetPassword, "find@example.com", None));
    assert_eq!((r.created_at, r.expires_at, r.used_at, r.superseded_at), (at(5), at(3605), None, None));
    assert_eq!(r.user, u);
    assert_eq!(r.user.role.as_deref(), Some("member"));
    assert_eq!(r.state(at(3604)), TokenState::Live);
    assert_eq!(r.state(at(3605)), TokenState::Expired);

    ctx.accounts.redeem(&redemption(1, reset("h"), 10), &Effects::none()).await.unwrap();
    let used = ctx.accounts.find_token(&hash(1)).await.unwrap().unwrap();
    assert_eq!((used.used_at, used.state(at(11))), (Some(at(10)), TokenState::Used));
}

#[tokio::test]
async fn verify_email_once() {
    let ctx = setup().await;
    let u = member(&ctx, "Verify@example.com", None, at(0)).await;
    ctx.accounts.issue(&only(token(1, TokenPurpose::VerifyEmail, u.id, "verify@example.com", at(1)))).await.unwrap();

    let notice = letter(MailTemplate::PasswordChanged, "Verify@example.com", at(2));
    let out = ctx.accounts.redeem(&redemption(1, RedeemAction::VerifyEmail, 2), &Effects::mail(notice.clone())).await;
    let RedeemOutcome::Redeemed(user) = out.unwrap() else { panic!("not redeemed") };
    assert!(user.email_verified, "compared case-insensitively");
    assert_eq!((user.updated_at, user.role.as_deref()), (at(2), Some("member")));
    assert_eq!(state(&ctx, hash(1), 3).await, TokenState::Used);
    assert_eq!(outbox_rows(&ctx).await.iter().map(|r| r.id).collect::<Vec<_>>(), [notice.id]);

    let again = letter(MailTemplate::PasswordChanged, "Verify@example.com", at(3));
    let out = ctx.accounts.redeem(&redemption(1, RedeemAction::VerifyEmail, 3), &Effects::mail(again)).await;
    assert_eq!(out, Ok(RedeemOutcome::NotLive));
    assert_eq!(outbox_rows(&ctx).await.len(), 1, "a refused redemption queues nothing");
}

#[tokio::test]
async fn verifying_an_address_changed_since_supersedes_the_token() {
    let ctx = setup().await;
    let u = member(&ctx, "before@example.com", None, at(0)).await;
    ctx.accounts.issue(&only(token(1, TokenPurpose::VerifyEmail, u.id, "before@example.com", at(1)))).await.unwrap();
    let changes = UserChanges { email: Some(email("after@example.com")), ..UserChanges::default() };
    ctx.users.update(u.id, &changes, &Effects::none(), at(2)).await.unwrap();

    let out = ctx.accounts.redeem(&redemption(1, RedeemAction::VerifyEmail, 3), &Effects::none()).await;
    assert_eq!(out, Ok(RedeemOutcome::NotLive));
    assert_eq!(state(&ctx, hash(1), 4).await, TokenState::Superseded);
    assert!(!ctx.users.get(u.id).await.unwrap().unwrap().email_verified);
}

#[tokio::test]
async fn a_token_redeems_only_its_own_action_and_only_while_unexpired() {
    let ctx = setup().await;
    let u = member(&ctx, "wrong@example.com", None, at(0)).await;
    ctx.accounts.issue(&only(token(1, TokenPurpose::VerifyEmail, u.id, "wrong@example.com", at(0)))).await.unwrap();
    for action in [RedeemAction::ChangeEmail, reset("h")] {
        let out = ctx.accounts.redeem(&redemption(1, action, 1), &Effects::none()).await;
        assert_eq!(out, Ok(RedeemOutcome::NotLive));
    }
    assert_eq!(ctx.users.password_hash(u.id).await.unwrap().as_deref(), Some("hash-of-wrong@example.com"));
    assert_eq!(state(&ctx, hash(1), 2).await, TokenState::Live);

    // At its expiry it is no longer live; unknown tokens never were.
    let out = ctx.accounts.redeem(&redemption(1, RedeemAction::VerifyEmail, 3600), &Effects::none()).await;
    assert_eq!(out, Ok(RedeemOutcome::NotLive));
    assert!(!ctx.users.get(u.id).await.unwrap().unwrap().email_verified);
    let out = ctx.accounts.redeem(&redemption(7, RedeemAction::VerifyEmail, 1), &Effects::none()).await;
    assert_eq!(out, Ok(RedeemOutcome::NotLive));
}

#[tokio::test]
async fn change_email_moves_the_address_and_supersedes_other_tokens() {
    let ctx = setup().await;
    let u = member(&ctx, "old@example.com", None, at(0)).await;
    let issue = |tag, purpose, addr: &'static str, secs| token(tag, purpose, u.id, addr, at(secs));
    ctx.accounts.issue(&only(issue(1, TokenPurpose::VerifyEmail, "old@example.com", 0))).await.unwrap();
    ctx.accounts.issue(&only(issue(2, TokenPurpose::ResetPassword, "old@example.com", 0))).await.unwrap();
    ctx.accounts.issue(&only(issue(3, TokenPurpose::ChangeEmail, "New@Example.com", 1))).await.unwrap();

    let out = ctx.accounts.redeem(&redemption(3, RedeemAction::ChangeEmail, 5), &Effects::none()).await.unwrap();
    let RedeemOutcome::Redeemed(user) = out else { panic!("not redeemed") };
    assert_eq!((user.email.as_str(), user.email_verified, user.updated_at), ("New@example.com", true, at(5)));
    assert_eq!(state(&ctx, hash(3), 6).await, TokenState::Used);
    assert_eq!(state(&ctx, hash(1), 6).await, TokenState::Superseded);
    assert_eq!(state(&ctx, hash(2), 6).await, TokenState::Live, "a reset token stays");
}

#[tokio::test]
async fn change_email_to_an_address_taken_meanwhile_changes_nothing() {
    let ctx = setup().await;
    let u = member(&ctx, "mover@example.com", None, at(0)).await;
    ctx.accounts.issue(&only(token(1, TokenPurpose::VerifyEmail, u.id, "mover@example.com", at(0)))).await.unwrap();
    ctx.accounts.issue(&only(token(2, TokenPurpose::ChangeEmail, u.id, "wanted@example.com", at(1)))).await.unwrap();
    member(&ctx, "WANTED@example.com", None, at(2)).await;

    let notice = letter(MailTemplate::EmailChangeNotice, "mover@example.com", at(3));
    let out = ctx.accounts.redeem(&redemption(2, RedeemAction::ChangeEmail, 3), &Effects::mail(notice)).await;
    assert_eq!(out, Err(RepoError::Conflict(Conflict::EmailTaken)));
    let unchanged = ctx.users.get(u.id).await.unwrap().unwrap();
    assert_eq!(unchanged, u);
    assert_eq!(state(&ctx, hash(2), 4).await, TokenState::Live);
    assert_eq!(state(&ctx, hash(1), 4).await, TokenState::Live);
    assert!(outbox_rows(&ctx).await.is_empty());
}

#[tokio::test]
async fn reset_password_sets_it_verifies_and_revokes_every_session() {
    let ctx = setup().await;
    let u = member(&ctx, "reset@example.com", None, at(0)).await;
    let s1 = new_session(u.id, 11, at(0));
    let s2 = new_session(u.id, 12, at(0));
    ctx.sessions.create(&s1).await.unwrap();
    ctx.sessions.create(&s2).await.unwrap();
    ctx.accounts.issue(&only(token(1, TokenPurpose::ResetPassword, u.id, "reset@example.com", at(1)))).await.unwrap();

    let out = ctx.accounts.redeem(&redemption(1, reset("fresh-hash"), 5), &Effects::none()).await.unwrap();
    let RedeemOutcome::Redeemed(user) = out else { panic!("not redeemed") };
    assert!(user.email_verified);
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(ctx.users.password_hash(u.id).await.unwrap().as_deref(), Some("fresh-hash"));
    let mut c = ctx.pool.get().await.unwrap();
    let reasons: Vec<Option<String>> =
        sessions::table.filter(sessions::user_id.eq(u.id)).select(sessions::revoked_reason).load(&mut c).await.unwrap();
    assert_eq!(reasons, vec![Some("password_reset".to_owned()); 2]);
    assert_eq!(
        ctx.accounts.redeem(&redemption(1, reset("again"), 6), &Effects::none()).await,
        Ok(RedeemOutcome::NotLive)
    );
    assert_eq!(ctx.users.password_hash(u.id).await.unwrap().as_deref(), Some("fresh-hash"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_of_one_token_have_one_winner() {
    let ctx = setup().await;
    let u = member(&ctx, "race@example.com", None, at(0)).await;
    ctx.accounts.issue(&only(token(1, TokenPurpose::ResetPassword, u.id, "race@example.com", at(0)))).await.unwrap();

    let mut tasks = Vec::new();
    for i in 0..8 {
        let accounts = ctx.accounts.clone();
        tasks.push(tokio::spawn(async move {
            let notice = letter(MailTemplate::PasswordChanged, "race@example.com", at(1) + Duration::milliseconds(i));
            accounts.redeem(&redemption(1, reset(&format!("hash-{i}")), 1), &Effects::mail(notice)).await.unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if let RedeemOutcome::Redeemed(user) = t.await.unwrap() {
            assert_eq!(user.id, u.id);
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(outbox_rows(&ctx).await.len(), 1, "only the winner queued its letter");
}
