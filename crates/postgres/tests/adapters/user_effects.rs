//! `PgUserRepository::create` and `set_password` write their effects (a
//! token, letters) in their own transaction: all or nothing.

#![allow(clippy::unwrap_used)]

use crate::common::{self, at, hash, letter, member, new_session, new_user, outbox_rows, setup, token};
use roster_domain::mail::{Effects, MailTemplate, TokenPurpose, TokenState};
use roster_domain::ports::{AccountRepository, SessionRepository, UserRepository};
use roster_domain::user::BuiltinRole;
use roster_domain::{Conflict, RepoError};

#[tokio::test]
async fn create_issues_the_token_and_queues_the_letter() {
    let ctx = setup().await;
    let rec = new_user("new@example.com", BuiltinRole::Admin, at(0));
    let mail = letter(MailTemplate::VerifyEmail, "new@example.com", at(0));
    let effects =
        Effects::token_and_mail(token(1, TokenPurpose::VerifyEmail, rec.id, "new@example.com", at(0)), mail.clone());
    let user = ctx.users.create(&rec, &effects).await.unwrap();

    let record = ctx.accounts.find_token(&hash(1)).await.unwrap().unwrap();
    assert_eq!(record.user, user);
    assert_eq!((record.purpose, record.email.as_str()), (TokenPurpose::VerifyEmail, "new@example.com"));
    assert_eq!(record.state(at(1)), TokenState::Live);

    let rows = outbox_rows(&ctx).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!((row.id, row.template.as_str(), row.recipient.as_str()), (mail.id, "verify_email", "new@example.com"));
    assert_eq!((row.status.as_str(), row.attempts, row.payload.as_ref()), ("pending", 0, Some(&mail.sealed)));
    assert_eq!((row.created_at, row.next_attempt_at, row.sent_at, row.last_error.clone()), (at(0), at(0), None, None));
}

#[tokio::test]
async fn a_duplicate_email_writes_neither_user_nor_token_nor_letter() {
    let ctx = setup().await;
    member(&ctx, "taken@example.com", None, at(0)).await;
    let dup = new_user("TAKEN@example.com", BuiltinRole::Member, at(1));
    let effects = Effects::token_and_mail(
        token(2, TokenPurpose::VerifyEmail, dup.id, "TAKEN@example.com", at(1)),
        letter(MailTemplate::VerifyEmail, "TAKEN@example.com", at(1)),
    );
    assert_eq!(ctx.users.create(&dup, &effects).await, Err(RepoError::Conflict(Conflict::EmailTaken)));
    assert_eq!(ctx.users.get(dup.id).await.unwrap(), None);
    assert_eq!(ctx.accounts.find_token(&hash(2)).await.unwrap(), None);
    assert!(outbox_rows(&ctx).await.is_empty());
}

#[tokio::test]
async fn set_password_queues_its_notice_with_the_change() {
    let ctx = setup().await;
    let u = member(&ctx, "pw@example.com", None, at(0)).await;
    let keep = new_session(u.id, 1, at(0));
    let other = new_session(u.id, 2, at(0));
    ctx.sessions.create(&keep).await.unwrap();
    ctx.sessions.create(&other).await.unwrap();

    let notice = letter(MailTemplate::PasswordChanged, "pw@example.com", at(5));
    ctx.users.set_password(u.id, "new-hash", Some(keep.id), at(5), &Effects::mail(notice.clone())).await.unwrap();
    assert_eq!(ctx.users.password_hash(u.id).await.unwrap().as_deref(), Some("new-hash"));
    assert!(ctx.sessions.subject(keep.id, u.id, at(6)).await.unwrap().is_some());
    assert!(ctx.sessions.subject(other.id, u.id, at(6)).await.unwrap().is_none());
    let rows = outbox_rows(&ctx).await;
    assert_eq!(rows.iter().map(|r| (r.id, r.template.as_str())).collect::<Vec<_>>(), [(notice.id, "password_changed")]);
}

#[tokio::test]
async fn a_failing_effect_undoes_the_password_change() {
    let ctx = setup().await;
    let u = member(&ctx, "atomic@example.com", None, at(0)).await;
    let s = new_session(u.id, 1, at(0));
    ctx.sessions.create(&s).await.unwrap();
    let queued = letter(MailTemplate::PasswordChanged, "atomic@example.com", at(1));
    ctx.accounts.issue(&Effects::mail(queued.clone())).await.unwrap();

    // The same letter id again: the outbox insert fails, last in the transaction.
    let r = ctx.users.set_password(u.id, "lost-hash", None, at(5), &Effects::mail(queued)).await;
    assert!(matches!(r, Err(RepoError::Internal(_))), "{r:?}");
    assert_eq!(ctx.users.password_hash(u.id).await.unwrap().as_deref(), Some("hash-of-atomic@example.com"));
    assert!(ctx.sessions.subject(s.id, u.id, at(6)).await.unwrap().is_some(), "the session was not revoked");
    assert_eq!(outbox_rows(&ctx).await.len(), 1);

    // Likewise a token that cannot be stored undoes the creation of its user.
    let rec = new_user("second@example.com", BuiltinRole::Member, at(7));
    let mut bad = token(3, TokenPurpose::Invitation, rec.id, "second@example.com", at(7));
    bad.invitation_id = None; // an invitation token needs its invitation
    let r = ctx.users.create(&rec, &common::only(bad)).await;
    assert!(matches!(r, Err(RepoError::Internal(_))), "{r:?}");
    assert_eq!(ctx.users.get(rec.id).await.unwrap(), None);
}
