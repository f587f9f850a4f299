//! Letters: addressing them, the tokens they carry, and turning them into
//! sealed outbox messages.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{
    auth::{OneTimeToken, Principal},
    error::Error,
    mail::{Effects, Letter, LetterBody, NewToken, QueuedMail, SealedMail, TokenPurpose},
    ports::{MailComposer, Sealer},
    user::{NewUserRecord, User},
    values::Email,
    Patch,
};

use super::AuthPolicy;

/// Renders letters and seals them for the outbox.
#[derive(Clone)]
pub struct Letters {
    composer: Arc<dyn MailComposer>,
    sealer: Arc<dyn Sealer>,
}

impl Letters {
    pub fn new(composer: Arc<dyn MailComposer>, sealer: Arc<dyn Sealer>) -> Letters {
        Letters { composer, sealer }
    }

    /// Renders and seals a letter for the outbox. A composer or sealer
    /// failure is a bug or a broken key: `Internal`.
    pub(super) fn queue(&self, letter: Letter, now: DateTime<Utc>) -> Result<QueuedMail, Error> {
        let mail = self.composer.compose(&letter).map_err(|e| Error::Internal(format!("composing a letter: {e}")))?;
        let json = serde_json::to_vec(&SealedMail::from(&mail)).map_err(|e| Error::Internal(e.to_string()))?;
        let sealed = self.sealer.seal(&json).map_err(|e| Error::Internal(format!("sealing a letter: {e}")))?;
        Ok(QueuedMail { id: letter.id, template: letter.body.template(), to: letter.to, sealed, created_at: now })
    }

    /// A verification token for a user about to be created, and its letter.
    pub(super) fn verification_for_new(&self, policy: &AuthPolicy, user: &NewUserRecord) -> Result<Effects, Error> {
        let ttl = policy.accounts.verify_email_ttl;
        let (token, record) = new_token(TokenPurpose::VerifyEmail, user.id, user.email.clone(), None, ttl, user.now);
        let mail = self.queue(letter_to_new(user, LetterBody::VerifyEmail { token, valid_for: ttl }), user.now)?;
        Ok(Effects::token_and_mail(record, mail))
    }
}

/// A letter to `user` at their current address.
pub(super) fn letter_to(user: &User, body: LetterBody) -> Letter {
    Letter {
        id: Uuid::now_v7(),
        to: Email::from_trusted(user.email.clone()),
        to_name: user.name.clone().or_else(|| user.given_name.clone()),
        locale: user.locale.clone(),
        body,
    }
}

/// A letter to a user about to be written (registration, creation,
/// invitation), addressed from their record.
pub(super) fn letter_to_new(user: &NewUserRecord, body: LetterBody) -> Letter {
    let set = |p: &Patch<String>| match p {
        Patch::Set(v) => Some(v.clone()),
        Patch::Keep | Patch::Clear => None,
    };
    Letter {
        id: Uuid::now_v7(),
        to: user.email.clone(),
        to_name: set(&user.fields.name).or_else(|| set(&user.fields.given_name)),
        locale: set(&user.fields.locale),
        body,
    }
}

/// How a letter names its sender: the user's name or address; nobody for an API key.
pub(super) fn inviter_name(principal: &Principal) -> Option<String> {
    principal.user().map(|user| user.name.clone().unwrap_or_else(|| user.email.clone()))
}

/// A fresh token for `purpose`, mailed to `email`, and its record.
pub(super) fn new_token(
    purpose: TokenPurpose,
    user_id: Uuid,
    email: Email,
    invitation_id: Option<Uuid>,
    ttl: Duration,
    now: DateTime<Utc>,
) -> (OneTimeToken, NewToken) {
    let token = OneTimeToken::generate();
    let record = NewToken { hash: token.hash(), purpose, user_id, email, invitation_id, expires_at: now + ttl, now };
    (token, record)
}
