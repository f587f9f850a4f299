//! The outbox worker every `roster` process runs: a task that delivers due
//! mail round after round (the rules are the domain's
//! [`OutboxService::dispatch`]), deletes the objects of pictures nobody
//! points at any more ([`ImageService::process_deletions`], the same outbox
//! pattern), prunes old rows and sweeps orphaned objects now and then, and
//! stops between rounds when asked.

use std::time::Duration;

use roster_domain::service::{ImageService, OutboxService};
use tokio::{sync::watch, task::JoinHandle};

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// Pause when a round found less than a full batch.
    pub poll_interval: Duration,
    /// Pause after a round that failed (database down).
    pub error_backoff: Duration,
    /// Sent messages older than this are deleted.
    pub keep_sent: chrono::Duration,
    /// How often to prune.
    pub prune_every: Duration,
}

/// A running worker; dropping the handle stops it after its current round.
pub struct OutboxWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl OutboxWorker {
    /// Starts the worker on the current tokio runtime.
    pub fn start(outbox: OutboxService, images: ImageService, settings: WorkerSettings) -> OutboxWorker {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(outbox, images, settings, stopped));
        OutboxWorker { stop, task }
    }

    /// Asks the worker to stop after the message it is sending, and waits
    /// (at most `grace`) for it to do so. What it did not send stays queued.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("the outbox worker did not stop in time; its claimed mail is retried after the lease");
            abort.abort();
        }
    }
}

/// Image deletions claimed per round.
const DELETIONS_PER_ROUND: u32 = 32;
/// Objects the orphan sweep looks at per run.
const SWEEP_LIMIT: usize = 1000;

async fn run(
    outbox: OutboxService,
    images: ImageService,
    settings: WorkerSettings,
    mut stopped: watch::Receiver<bool>,
) {
    let batch = outbox.retry_policy().batch as usize;
    let mut last_prune = tokio::time::Instant::now();
    // Sweep once soon after start, then with each prune.
    let mut swept = false;
    tracing::info!(poll_ms = settings.poll_interval.as_millis() as u64, batch, "outbox worker started");
    while !*stopped.borrow() {
        let pause = match outbox.dispatch().await {
            Ok(report) => {
                if report.claimed > 0 {
                    tracing::debug!(?report, "outbox round");
                }
                if report.claimed >= batch {
                    Duration::ZERO
                } else {
                    settings.poll_interval
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox round failed; retrying");
                settings.error_backoff
            }
        };
        let pause = match images.process_deletions(DELETIONS_PER_ROUND).await {
            Ok(report) if report.claimed >= DELETIONS_PER_ROUND as usize && report.failed == 0 => Duration::ZERO,
            Ok(_) => pause,
            Err(e) => {
                tracing::warn!(error = %e, "image deletion round failed; retrying");
                pause.max(settings.error_backoff)
            }
        };
        if last_prune.elapsed() >= settings.prune_every || !swept {
            if swept {
                last_prune = tokio::time::Instant::now();
                match outbox.prune(settings.keep_sent).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(
                            removed = n,
                            "pruned sent mail, old rate-limit windows and lockout counters, expired MFA challenges"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning the outbox failed"),
                }
            }
            swept = true;
            if let Err(e) = images.sweep_orphans(SWEEP_LIMIT).await {
                tracing::warn!(error = %e, "sweeping orphaned image objects failed");
            }
        }
        if !pause.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                // A stop, or the handle dropped: either way, stop.
                changed = stopped.changed() => if changed.is_err() { break },
            }
        }
    }
    tracing::info!("outbox worker stopped");
}
