use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// Handed to the relay; its content has been erased.
    Sent,
    /// Given up on (refused by the relay, or out of attempts); listable and
    /// can be queued again by a superadmin.
    Dead,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        [OutboxStatus::Pending, OutboxStatus::Sent, OutboxStatus::Dead].into_iter().find(|v| v.as_str() == s)
    }
}

/// A queued message as superadmins see it: never its content.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntry {
    pub id: Uuid,
    /// The template (`verify_email`, `password_reset`, …).
    pub template: String,
    pub to: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    /// Why the last attempt failed (the relay's answer).
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due (pending messages).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A message claimed by a worker for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMail {
    pub id: Uuid,
    /// Attempts so far, this one included.
    pub attempt: u32,
    pub sealed: Vec<u8>,
}

/// Figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OutboxStats {
    pub pending: u64,
    /// Pending and due now (a backlog if it stays above zero).
    pub due: u64,
    pub dead: u64,
    /// Age in seconds of the oldest due message, 0 when none is due.
    pub oldest_due_seconds: f64,
}
