use chrono::Duration;

use super::*;
use crate::{mail::SealedMail, ports::MailError, service::test_support::*};

fn sealed() -> Vec<u8> {
    serde_json::to_vec(&SealedMail {
        message_id: "<1@test>".into(),
        to: "ada@example.com".into(),
        to_name: None,
        subject: "s".into(),
        text: "t".into(),
        html: "h".into(),
    })
    .unwrap()
}

fn claimed(attempt: u32) -> ClaimedMail {
    ClaimedMail { id: Uuid::now_v7(), attempt, sealed: sealed() }
}

#[tokio::test]
async fn delivered_mail_is_marked_sent_with_its_attempt() {
    let mail = claimed(1);
    let id = mail.id;
    let mut m = Mocks::new();
    m.outbox.expect_claim().returning(move |_, limit, lease| {
        assert_eq!((limit, lease), (16, Duration::minutes(2)));
        Ok(vec![mail.clone()])
    });
    m.mailer.expect_send().times(1).returning(|m| {
        assert_eq!(m.message_id, "<1@test>");
        Ok(())
    });
    m.outbox.expect_mark_sent().withf(move |i, a, _| *i == id && *a == 1).times(1).returning(|_, _, _| Ok(true));
    let s = m.services(AuthPolicy::default());
    let report = s.outbox.dispatch().await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1));
}

#[tokio::test]
async fn an_unavailable_relay_is_retried_with_jittered_backoff_until_the_last_attempt() {
    let mut m = Mocks::new();
    m.outbox.expect_claim().returning(|_, _, _| Ok(vec![claimed(3), claimed(10)]));
    m.mailer.expect_send().times(2).returning(|_| Err(MailError::Unavailable("421 down".into())));
    m.outbox
        .expect_mark_failed()
        .withf(|_, a, e, retry, _| {
            e.contains("421")
                && match (a, retry) {
                    // Attempt 3 of 10: 30 s × 2² = 120 s, half of it jittered.
                    (3, Some(at)) => *at >= now() + Duration::seconds(60) && *at <= now() + Duration::seconds(120),
                    (10, None) => true,
                    _ => false,
                }
        })
        .times(2)
        .returning(|_, _, _, _, _| Ok(true));
    let s = m.services(AuthPolicy::default());
    let report = s.outbox.dispatch().await.unwrap();
    assert_eq!((report.retried, report.dead), (1, 1));
}

#[tokio::test]
async fn refused_or_unreadable_mail_is_dead_at_once() {
    let mut m = Mocks::new();
    let garbage = ClaimedMail { id: Uuid::now_v7(), attempt: 1, sealed: b"not json".to_vec() };
    m.outbox.expect_claim().returning(move |_, _, _| Ok(vec![claimed(1), garbage.clone()]));
    m.mailer.expect_send().times(1).returning(|_| Err(MailError::Rejected("550 no such user".into())));
    m.outbox
        .expect_mark_failed()
        .withf(|_, _, _, retry, _| retry.is_none())
        .times(2)
        .returning(|_, _, _, _, _| Ok(true));
    let s = m.services(AuthPolicy::default());
    assert_eq!(s.outbox.dispatch().await.unwrap().dead, 2);
}

#[tokio::test]
async fn only_superadmins_see_the_outbox() {
    let m = Mocks::new();
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    assert!(matches!(s.outbox.list(&admin, None, 1, 20).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.outbox.requeue(&admin, Uuid::now_v7()).await, Err(Error::Forbidden(_))));
}
