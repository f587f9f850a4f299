use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{auth::OneTimeToken, values::Email};

/// Which message a letter is. Each has an HTML and a plain-text template in
/// every supported locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailTemplate {
    VerifyEmail,
    ConfirmEmailChange,
    EmailChangeNotice,
    EmailInUse,
    PasswordReset,
    PasswordChanged,
    Invitation,
    OrgInvitation,
    /// Two-step verification was turned on.
    MfaEnabled,
    /// Two-step verification was turned off (by the user or an administrator).
    MfaDisabled,
    /// A recovery code was used to sign in.
    RecoveryCodeUsed,
    /// A spent one-time code was presented again and refused.
    MfaCodeReused,
    /// Failed sign-ins locked the account for a while.
    AccountLocked,
    /// A sign-in with correct credentials from outside the allowlist was refused.
    LoginBlocked,
}

impl MailTemplate {
    pub const ALL: [MailTemplate; 14] = [
        MailTemplate::VerifyEmail,
        MailTemplate::ConfirmEmailChange,
        MailTemplate::EmailChangeNotice,
        MailTemplate::EmailInUse,
        MailTemplate::PasswordReset,
        MailTemplate::PasswordChanged,
        MailTemplate::Invitation,
        MailTemplate::OrgInvitation,
        MailTemplate::MfaEnabled,
        MailTemplate::MfaDisabled,
        MailTemplate::RecoveryCodeUsed,
        MailTemplate::MfaCodeReused,
        MailTemplate::AccountLocked,
        MailTemplate::LoginBlocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailTemplate::VerifyEmail => "verify_email",
            MailTemplate::ConfirmEmailChange => "confirm_email_change",
            MailTemplate::EmailChangeNotice => "email_change_notice",
            MailTemplate::EmailInUse => "email_in_use",
            MailTemplate::PasswordReset => "password_reset",
            MailTemplate::PasswordChanged => "password_changed",
            MailTemplate::Invitation => "invitation",
            MailTemplate::OrgInvitation => "org_invitation",
            MailTemplate::MfaEnabled => "mfa_enabled",
            MailTemplate::MfaDisabled => "mfa_disabled",
            MailTemplate::RecoveryCodeUsed => "recovery_code_used",
            MailTemplate::MfaCodeReused => "mfa_code_reused",
            MailTemplate::AccountLocked => "account_locked",
            MailTemplate::LoginBlocked => "login_blocked",
        }
    }

    pub fn parse(s: &str) -> Option<MailTemplate> {
        MailTemplate::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// What a letter says, with the values its template needs. Links are built
/// by the composer from the token and the configured URL template of the flow.
#[derive(Debug, Clone)]
pub enum LetterBody {
    /// "Confirm your address": after registration or creation by an administrator.
    VerifyEmail { token: OneTimeToken, valid_for: Duration },
    /// To the new address: "confirm this is your new address".
    ConfirmEmailChange { token: OneTimeToken, valid_for: Duration, new_email: String },
    /// To the old address: "your address is being changed to …".
    EmailChangeNotice { new_email: String },
    /// To an address someone tried to move their account to, which already
    /// has an account (the requester is not told, so nothing is enumerated).
    EmailInUse,
    /// "Set a new password" (asked by the user, or by an administrator).
    PasswordReset { token: OneTimeToken, valid_for: Duration, by_admin: bool },
    /// "Your password was changed" (`reset`: through a mailed link).
    PasswordChanged { reset: bool },
    /// "You are invited": set a password to activate the account.
    Invitation { token: OneTimeToken, valid_for: Duration, inviter: Option<String> },
    /// "Join {organization}": accept to become a member (creating an account
    /// if the address has none). Sent alike whether it has one or not.
    OrgInvitation { token: OneTimeToken, valid_for: Duration, inviter: Option<String>, organization: String },
    /// "Two-step verification is on": an authenticator app was confirmed.
    MfaEnabled,
    /// "Two-step verification is off": turned off by the user, or reset by an
    /// administrator (`by_admin`, e.g. after a lost phone).
    MfaDisabled { by_admin: bool },
    /// "A recovery code was used to sign in"; `remaining` unused codes are left
    /// (the letter urges a new set when few are left, say 3 or fewer).
    RecoveryCodeUsed { remaining: u32 },
    /// "A one-time code was used twice": a code already spent was presented
    /// again and refused (ASVS V2.9.4: the holder is notified).
    MfaCodeReused,
    /// "Your account is locked": `failures` failed sign-ins locked it for
    /// `locked_for` (shown in whole minutes, rounded up, at least one).
    AccountLocked { failures: u32, locked_for: chrono::Duration },
    /// "A sign-in was blocked": correct credentials from `ip`, an address
    /// outside the account's allowlist.
    LoginBlocked { ip: String },
}

impl LetterBody {
    pub fn template(&self) -> MailTemplate {
        match self {
            LetterBody::VerifyEmail { .. } => MailTemplate::VerifyEmail,
            LetterBody::ConfirmEmailChange { .. } => MailTemplate::ConfirmEmailChange,
            LetterBody::EmailChangeNotice { .. } => MailTemplate::EmailChangeNotice,
            LetterBody::EmailInUse => MailTemplate::EmailInUse,
            LetterBody::PasswordReset { .. } => MailTemplate::PasswordReset,
            LetterBody::PasswordChanged { .. } => MailTemplate::PasswordChanged,
            LetterBody::Invitation { .. } => MailTemplate::Invitation,
            LetterBody::OrgInvitation { .. } => MailTemplate::OrgInvitation,
            LetterBody::MfaEnabled => MailTemplate::MfaEnabled,
            LetterBody::MfaDisabled { .. } => MailTemplate::MfaDisabled,
            LetterBody::RecoveryCodeUsed { .. } => MailTemplate::RecoveryCodeUsed,
            LetterBody::MfaCodeReused => MailTemplate::MfaCodeReused,
            LetterBody::AccountLocked { .. } => MailTemplate::AccountLocked,
            LetterBody::LoginBlocked { .. } => MailTemplate::LoginBlocked,
        }
    }
}

/// One message to one recipient, before rendering.
#[derive(Debug, Clone)]
pub struct Letter {
    /// The outbox id; also the left part of the `Message-ID`.
    pub id: Uuid,
    pub to: Email,
    pub to_name: Option<String>,
    /// The recipient's BCP 47 locale; the composer falls back to English.
    pub locale: Option<String>,
    pub body: LetterBody,
}

/// A rendered message, ready to hand to a relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Stable per message (`<uuid@host>`), so a retried send is recognisably
    /// the same message.
    pub message_id: String,
    pub to: Email,
    /// The recipient's display name, if known.
    pub to_name: Option<String>,
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// A rendered message as it travels sealed through the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedMail {
    pub message_id: String,
    pub to: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl From<&OutgoingMail> for SealedMail {
    fn from(m: &OutgoingMail) -> Self {
        SealedMail {
            message_id: m.message_id.clone(),
            to: m.to.as_str().to_string(),
            to_name: m.to_name.clone(),
            subject: m.subject.clone(),
            text: m.text.clone(),
            html: m.html.clone(),
        }
    }
}

impl From<SealedMail> for OutgoingMail {
    fn from(m: SealedMail) -> Self {
        OutgoingMail {
            message_id: m.message_id,
            to: Email::from_trusted(m.to),
            to_name: m.to_name,
            subject: m.subject,
            text: m.text,
            html: m.html,
        }
    }
}

/// A rendered, sealed message ready to be written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: Uuid,
    pub template: MailTemplate,
    /// The recipient, kept in the clear for the administrators' listing.
    pub to: Email,
    /// The [`SealedMail`] as JSON, encrypted by the sealer.
    pub sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
}
