//! `PgOutboxRepository` against a real PostgreSQL: claiming with leases,
//! marking, listing, figures and pruning.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use crate::common::{at, letter, outbox_rows, setup, Ctx, OutboxRow};
use chrono::Duration;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use roster_domain::mail::{Effects, MailTemplate, OutboxStats, OutboxStatus, QueuedMail};
use roster_domain::ports::{AccountRepository, OutboxRepository};
use roster_postgres::outbox::STATS_SQL;
use uuid::Uuid;

/// Queues `n` letters created (and due) at `secs`.
async fn queue(ctx: &Ctx, n: usize, secs: i64) -> Vec<QueuedMail> {
    let mails: Vec<QueuedMail> =
        (0..n).map(|i| letter(MailTemplate::VerifyEmail, &format!("user{i}@example.com"), at(secs))).collect();
    ctx.accounts.issue(&Effects { token: None, mails: mails.clone() }).await.unwrap();
    mails
}

async fn row(ctx: &Ctx, id: Uuid) -> OutboxRow {
    outbox_rows(ctx).await.into_iter().find(|r| r.id == id).unwrap()
}

fn lease(secs: i64) -> Duration {
    Duration::seconds(secs)
}

#[tokio::test]
async fn claim_takes_due_messages_up_to_the_limit() {
    let ctx = setup().await;
    let due = queue(&ctx, 3, 0).await;
    let later = queue(&ctx, 2, 100).await;

    let first = ctx.outbox.claim(at(50), 2, lease(60)).await.unwrap();
    assert_eq!(first.len(), 2);
    for c in &first {
        let mail = due.iter().find(|m| m.id == c.id).unwrap();
        assert_eq!((c.attempt, &c.sealed), (1, &mail.sealed));
    }
    let second = ctx.outbox.claim(at(50), 10, lease(60)).await.unwrap();
    assert_eq!(second.len(), 1, "only the third due message");
    let claimed: HashSet<Uuid> = first.iter().chain(&second).map(|c| c.id).collect();
    assert_eq!(claimed, due.iter().map(|m| m.id).collect());
    assert!(ctx.outbox.claim(at(99), 10, lease(60)).await.unwrap().is_empty());
    let r = row(&ctx, second[0].id).await;
    assert_eq!((r.attempts, r.next_attempt_at, r.status.as_str()), (1, at(110), "pending"));

    let at_100: HashSet<Uuid> = ctx.outbox.claim(at(100), 10, lease(60)).await.unwrap().iter().map(|c| c.id).collect();
    assert_eq!(at_100, later.iter().map(|m| m.id).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_claim_each_message_once() {
    let ctx = setup().await;
    let queued: HashSet<Uuid> = queue(&ctx, 50, 0).await.iter().map(|m| m.id).collect();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let outbox = ctx.outbox.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = outbox.claim(at(1), 3, lease(300)).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch);
            }
        }));
    }
    let mut all = Vec::new();
    let mut busy_tasks = 0;
    for t in tasks {
        let mine = t.await.unwrap();
        busy_tasks += usize::from(!mine.is_empty());
        all.extend(mine);
    }
    let ids: HashSet<Uuid> = all.iter().map(|c| c.id).collect();
    assert_eq!(all.len(), 50, "no message claimed twice");
    assert_eq!(ids, queued);
    assert!(all.iter().all(|c| c.attempt == 1));
    assert!(busy_tasks >= 2, "the claims ran side by side");
}

#[tokio::test]
async fn a_lapsed_lease_makes_the_message_claimable_again() {
    let ctx = setup().await;
    let mail = queue(&ctx, 1, 0).await.remove(0);
    let first = ctx.outbox.claim(at(0), 5, lease(30)).await.unwrap();
    assert_eq!(first.iter().map(|c| (c.id, c.attempt)).collect::<Vec<_>>(), [(mail.id, 1)]);
    assert!(ctx.outbox.claim(at(29), 5, lease(30)).await.unwrap().is_empty());
    let second = ctx.outbox.claim(at(30), 5, lease(30)).await.unwrap();
    assert_eq!(second.iter().map(|c| (c.id, c.attempt)).collect::<Vec<_>>(), [(mail.id, 2)]);

    // The first worker's late report is ignored; the second one's counts.
    assert!(!ctx.outbox.mark_sent(mail.id, 1, at(31)).await.unwrap());
    assert!(!ctx.outbox.mark_failed(mail.id, 1, "late", None, at(31)).await.unwrap());
    assert!(ctx.outbox.mark_sent(mail.id, 2, at(32)).await.unwrap());
    let r = row(&ctx, mail.id).await;
    assert_eq!((r.status.as_str(), r.payload, r.sent_at, r.last_error), ("sent", None, Some(at(32)), None));
    assert!(!ctx.outbox.mark_sent(mail.id, 2, at(33)).await.unwrap(), "sent once");
    assert!(ctx.outbox.claim(at(1000), 5, lease(30)).await.unwrap().is_empty());
}

#[tokio::test]
async fn failures_retry_or_die_and_the_dead_can_be_requeued() {
    let ctx = setup().await;
    let mail = queue(&ctx, 1, 0).await.remove(0);
    ctx.outbox.claim(at(0), 1, lease(30)).await.unwrap();
    assert!(ctx.outbox.mark_failed(mail.id, 1, "421 try later", Some(at(100)), at(1)).await.unwrap());
    let r = row(&ctx, mail.id).await;
    assert_eq!((r.status.as_str(), r.attempts, r.next_attempt_at), ("pending", 1, at(100)));
    assert_eq!(r.last_error.as_deref(), Some("421 try later"));
    assert!(ctx.outbox.claim(at(99), 1, lease(30)).await.unwrap().is_empty());
    assert_eq!(ctx.outbox.claim(at(100), 1, lease(30)).await.unwrap()[0].attempt, 2);

    assert!(!ctx.outbox.requeue(mail.id, at(101)).await.unwrap(), "not dead");
    let long = "x".repeat(3000);
    assert!(ctx.outbox.mark_failed(mail.id, 2, &long, None, at(101)).await.unwrap());
    let r = row(&ctx, mail.id).await;
    assert_eq!((r.status.as_str(), r.attempts), ("dead", 2));
    assert_eq!(r.last_error.map(|e| e.len()), Some(1000));
    assert_eq!(r.payload.as_ref(), Some(&mail.sealed), "kept for a requeue");
    assert!(ctx.outbox.claim(at(5000), 1, lease(30)).await.unwrap().is_empty());

    assert!(ctx.outbox.requeue(mail.id, at(200)).await.unwrap());
    let r = row(&ctx, mail.id).await;
    assert_eq!((r.status.as_str(), r.attempts, r.next_attempt_at, r.last_error), ("pending", 0, at(200), None));
    assert!(!ctx.outbox.requeue(mail.id, at(201)).await.unwrap());
    assert!(!ctx.outbox.requeue(Uuid::now_v7(), at(201)).await.unwrap());
    let again = ctx.outbox.claim(at(200), 1, lease(30)).await.unwrap();
    assert_eq!((again[0].attempt, &again[0].sealed), (1, &mail.sealed));
}

#[tokio::test]
async fn list_newest_first_without_content() {
    let ctx = setup().await;
    let mut ids = Vec::new();
    for secs in 0..4 {
        ids.push(queue(&ctx, 1, secs).await[0].id);
    }
    // ids[0] and ids[1] are claimed: [0] is sent, [1] dies.
    ctx.outbox.claim(at(1), 5, lease(30)).await.unwrap();
    ctx.outbox.mark_sent(ids[0], 1, at(5)).await.unwrap();
    ctx.outbox.mark_failed(ids[1], 1, "550 no such user", None, at(5)).await.unwrap();

    let page = ctx.outbox.list(None, 1, 10).await.unwrap();
    assert_eq!(page.items.iter().map(|e| e.id).rev().collect::<Vec<_>>(), ids);
    assert_eq!((page.total, page.page, page.per_page, page.has_more), (Some(4), Some(1), 10, false));
    let [newest, _, dead, sent] = &page.items[..] else { panic!("four entries") };
    assert_eq!((newest.status, newest.attempts, newest.next_attempt_at), (OutboxStatus::Pending, 0, Some(at(3))));
    assert_eq!((newest.template.as_str(), newest.to.as_str()), ("verify_email", "user0@example.com"));
    assert_eq!((dead.status, dead.attempts, dead.next_attempt_at), (OutboxStatus::Dead, 1, None));
    assert_eq!(dead.last_error.as_deref(), Some("550 no such user"));
    assert_eq!((sent.status, sent.sent_at, sent.next_attempt_at), (OutboxStatus::Sent, Some(at(5)), None));

    let pending = ctx.outbox.list(Some(OutboxStatus::Pending), 1, 1).await.unwrap();
    assert_eq!((pending.items[0].id, pending.total, pending.has_more), (ids[3], Some(2), true));
    let pending2 = ctx.outbox.list(Some(OutboxStatus::Pending), 2, 1).await.unwrap();
    assert_eq!((pending2.items[0].id, pending2.has_more), (ids[2], false));
    let dead_only = ctx.outbox.list(Some(OutboxStatus::Dead), 1, 10).await.unwrap();
    assert_eq!(dead_only.items.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[1]]);
    assert_eq!(ctx.outbox.list(Some(OutboxStatus::Sent), 2, 10).await.unwrap().items, []);
}

#[tokio::test]
async fn stats_and_pruning() {
    let ctx = setup().await;
    assert_eq!(ctx.outbox.stats(at(0)).await.unwrap(), OutboxStats::default());
    let done = queue(&ctx, 3, 0).await;
    ctx.outbox.claim(at(0), 3, lease(1)).await.unwrap();
    ctx.outbox.mark_sent(done[0].id, 1, at(20)).await.unwrap();
    ctx.outbox.mark_sent(done[1].id, 1, at(200)).await.unwrap();
    ctx.outbox.mark_failed(done[2].id, 1, "550", None, at(1)).await.unwrap();
    queue(&ctx, 1, 0).await;
    queue(&ctx, 1, 10).await;
    queue(&ctx, 1, 500).await;

    let s = ctx.outbox.stats(at(100)).await.unwrap();
    assert_eq!(s, OutboxStats { pending: 3, due: 2, dead: 1, oldest_due_seconds: 100.0 });
    let s = ctx.outbox.stats(at(5)).await.unwrap();
    assert_eq!((s.due, s.oldest_due_seconds), (1, 5.0));
    let s = ctx.outbox.stats(at(-1)).await.unwrap();
    assert_eq!((s.pending, s.due, s.oldest_due_seconds), (3, 0, 0.0));

    assert_eq!(ctx.outbox.prune_sent(at(20)).await.unwrap(), 0, "strictly before");
    assert_eq!(ctx.outbox.prune_sent(at(100)).await.unwrap(), 1);
    assert_eq!(ctx.outbox.prune_sent(at(1000)).await.unwrap(), 1);
    let left: Vec<String> = outbox_rows(&ctx).await.into_iter().map(|r| r.status).collect();
    assert_eq!(left.iter().filter(|s| *s == "sent").count(), 0);
    assert_eq!(left.len(), 4, "pending and dead messages are never pruned");
}

#[derive(diesel::QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[tokio::test]
async fn stats_read_only_the_partial_indexes() {
    let ctx = setup().await;
    let mut c = ctx.pool.get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO outbox (id, template, recipient, payload, status, attempts, created_at, next_attempt_at, sent_at) \
         SELECT gen_random_uuid(), 'verify_email', 'x@example.com', \
                CASE WHEN g % 1000 = 0 THEN '\\x00'::bytea END, \
                CASE WHEN g % 2000 = 0 THEN 'dead' WHEN g % 1000 = 0 THEN 'pending' ELSE 'sent' END, \
                1, now(), now(), CASE WHEN g % 1000 <> 0 THEN now() END \
         FROM generate_series(1, 20000) AS g",
    )
    .execute(&mut c)
    .await
    .unwrap();
    diesel::sql_query("VACUUM ANALYZE outbox").execute(&mut c).await.unwrap();
    let explain = format!("EXPLAIN {}", STATS_SQL.replace("$1", "now()"));
    let plan: Vec<PlanLine> = diesel::sql_query(explain).load(&mut c).await.unwrap();
    let plan: Vec<&str> = plan.iter().map(|l| l.line.as_str()).collect();
    assert!(!plan.iter().any(|l| l.contains("Seq Scan")), "{plan:#?}");
    assert!(plan.iter().any(|l| l.contains("outbox_due_idx")), "{plan:#?}");
    assert!(plan.iter().any(|l| l.contains("outbox_dead_idx")), "{plan:#?}");
}
