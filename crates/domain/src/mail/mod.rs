//! Mail-bearing account flows: the one-time tokens mailed to users, the
//! letters Roster writes, the transactional outbox that delivers them, and
//! invitations.
//!
//! A state change and the mail it causes are written in one transaction: a
//! repository method takes [`Effects`] (at most one token to issue and the
//! messages to queue) next to its own change. Messages are rendered by the
//! [`MailComposer`](crate::ports::MailComposer) when queued, sealed by the
//! [`Sealer`](crate::ports::Sealer) (they carry live tokens), and opened
//! again only by the outbox worker that hands them to the relay.

mod invitation;
mod letter;
mod outbox;
mod policy;
mod token;

pub use invitation::{Invitation, InvitationStatus, NewInvitation, RevokeOutcome};
pub use letter::{Letter, LetterBody, MailTemplate, OutgoingMail, QueuedMail, SealedMail};
pub use outbox::{ClaimedMail, OutboxEntry, OutboxStats, OutboxStatus};
pub use policy::{AccountPolicy, RateLimit, RateLimits, RetryPolicy};
pub use token::{NewToken, RedeemAction, RedeemOutcome, Redemption, TokenPurpose, TokenRecord, TokenState};

/// What a state change brings with it, written in the same transaction:
/// a token to issue (superseding the user's live tokens of the same purpose)
/// and messages to queue.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    pub token: Option<NewToken>,
    pub mails: Vec<QueuedMail>,
}

impl Effects {
    /// Nothing to issue, nothing to send.
    pub fn none() -> Effects {
        Effects::default()
    }

    pub fn mail(mail: QueuedMail) -> Effects {
        Effects { token: None, mails: vec![mail] }
    }

    pub fn token_and_mail(token: NewToken, mail: QueuedMail) -> Effects {
        Effects { token: Some(token), mails: vec![mail] }
    }
}
