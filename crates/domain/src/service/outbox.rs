//! Delivering the outbox: claim due messages, open them, hand them to the
//! relay, and record the outcome — sent, retried later with backoff and
//! jitter, or parked as dead. Plus the superadmins' view of it.
//!
//! Every `roster` process runs a worker calling [`OutboxService::dispatch`];
//! claims use `FOR UPDATE SKIP LOCKED` with a lease, so concurrent workers
//! never send the same message, and a worker that dies mid-send only delays
//! its messages until their lease runs out.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use uuid::Uuid;

use crate::{
    auth::{Principal, Refusal},
    error::Error,
    mail::{ClaimedMail, OutboxEntry, OutboxStats, OutboxStatus, RetryPolicy, SealedMail},
    ports::{Clock, LockoutStore, MailError, Mailer, MfaRepository, OutboxRepository, RateLimitStore, Sealer},
    user::Page,
};

/// What [`OutboxService`] calls.
#[derive(Clone)]
pub struct OutboxPorts {
    pub outbox: Arc<dyn OutboxRepository>,
    /// Pruned with the outbox: old rate-limit windows…
    pub rate_limits: Arc<dyn RateLimitStore>,
    /// …lockout counters with nothing recent…
    pub lockout: Arc<dyn LockoutStore>,
    /// …and expired MFA challenges.
    pub mfa: Arc<dyn MfaRepository>,
    /// Opens the sealed messages.
    pub sealer: Arc<dyn Sealer>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

/// What one round of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub claimed: usize,
    pub sent: usize,
    /// Failed and due again later.
    pub retried: usize,
    /// Failed for good (refused by the relay, unreadable, out of attempts).
    pub dead: usize,
    /// Claimed but not tried before the lease got short; due again when it ends.
    pub deferred: usize,
}

/// The outbox worker and its administration.
#[derive(Clone)]
pub struct OutboxService {
    ports: OutboxPorts,
    retry: RetryPolicy,
}

enum Outcome {
    Sent,
    Retry(String),
    Dead(String),
}

fn superadmin(principal: &Principal) -> Result<(), Error> {
    if principal.is_superadmin {
        Ok(())
    } else {
        Err(Error::Forbidden(Refusal::SuperadminOnly))
    }
}

impl OutboxService {
    pub fn new(ports: OutboxPorts, retry: RetryPolicy) -> OutboxService {
        OutboxService { ports, retry }
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// One round: claims up to a batch of due messages and tries each once.
    /// Messages are tried one after another while at least half of the
    /// lease is left, so none is sent after another worker could claim it.
    pub async fn dispatch(&self) -> Result<DispatchReport, Error> {
        let claimed_at = self.ports.clock.now();
        let claimed = self.ports.outbox.claim(claimed_at, self.retry.batch, self.retry.lease).await?;
        let deadline = claimed_at + self.retry.lease / 2;
        let mut report = DispatchReport { claimed: claimed.len(), ..DispatchReport::default() };
        for mail in claimed {
            if self.ports.clock.now() >= deadline {
                report.deferred += 1;
                continue;
            }
            let outcome = self.attempt(&mail).await;
            let now = self.ports.clock.now();
            match outcome {
                Outcome::Sent => {
                    if self.ports.outbox.mark_sent(mail.id, mail.attempt, now).await? {
                        report.sent += 1;
                    }
                }
                Outcome::Retry(error) if mail.attempt < self.retry.max_attempts => {
                    let retry_at = now + self.retry.delay_after(mail.attempt, rand::thread_rng().gen());
                    tracing::warn!(id = %mail.id, attempt = mail.attempt, %retry_at, %error, "mail not delivered; will retry");
                    self.ports.outbox.mark_failed(mail.id, mail.attempt, &error, Some(retry_at), now).await?;
                    report.retried += 1;
                }
                Outcome::Retry(error) | Outcome::Dead(error) => {
                    tracing::error!(id = %mail.id, attempt = mail.attempt, %error, "mail given up on; parked as dead");
                    self.ports.outbox.mark_failed(mail.id, mail.attempt, &error, None, now).await?;
                    report.dead += 1;
                }
            }
        }
        Ok(report)
    }

    async fn attempt(&self, mail: &ClaimedMail) -> Outcome {
        let opened = match self.ports.sealer.open(&mail.sealed) {
            Ok(bytes) => bytes,
            Err(e) => return Outcome::Dead(format!("cannot open the sealed message: {e}")),
        };
        let sealed: SealedMail = match serde_json::from_slice(&opened) {
            Ok(m) => m,
            Err(e) => return Outcome::Dead(format!("unreadable message: {e}")),
        };
        match self.ports.mailer.send(&sealed.into()).await {
            Ok(()) => Outcome::Sent,
            Err(MailError::Rejected(e)) => Outcome::Dead(format!("rejected by the relay: {e}")),
            Err(e @ (MailError::Unavailable(_) | MailError::Internal(_))) => Outcome::Retry(e.to_string()),
        }
    }

    /// Housekeeping: forgets sent messages older than `keep_sent` and
    /// rate-limit windows older than a day. Returns rows removed.
    pub async fn prune(&self, keep_sent: Duration) -> Result<u64, Error> {
        let now: DateTime<Utc> = self.ports.clock.now();
        let sent = self.ports.outbox.prune_sent(now - keep_sent).await?;
        let windows = self.ports.rate_limits.prune(now - Duration::days(1)).await?;
        let counters = self.ports.lockout.prune(now - Duration::days(1)).await?;
        let challenges = self.ports.mfa.prune_challenges(now - Duration::hours(1)).await?;
        Ok(sent + windows + counters + challenges)
    }

    /// Queued messages, newest first (never their content). Superadmins only.
    pub async fn list(
        &self,
        principal: &Principal,
        status: Option<OutboxStatus>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<OutboxEntry>, Error> {
        superadmin(principal)?;
        Ok(self.ports.outbox.list(status, page, per_page).await?)
    }

    /// Queues a dead message again. Superadmins only. Errors: `NotFound`
    /// (no dead message with this id).
    pub async fn requeue(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        superadmin(principal)?;
        let now = self.ports.clock.now();
        if self.ports.outbox.requeue(id, now).await? {
            Ok(())
        } else {
            Err(Error::NotFound("dead message"))
        }
    }

    /// Figures for `/metrics`.
    pub async fn stats(&self) -> Result<OutboxStats, Error> {
        Ok(self.ports.outbox.stats(self.ports.clock.now()).await?)
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
