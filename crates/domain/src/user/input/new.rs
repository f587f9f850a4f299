//! A new user: its input (registration, an administrator's `POST /users`),
//! its validation, and the record the store inserts.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{fields, opt, ProfileInput, UserChanges};
use crate::user::{check_document, known_part, merge_patch, CheckedSettings, NewPushToken, PushTokenInput};
#[cfg(feature = "openapi")]
use crate::values::{Locale, Phone, TimeZone};
use crate::{
    user::{BuiltinRole, UserStatus},
    validation::ValidationErrors,
    values::{Email, Password, PasswordPolicy},
};

/// A new user, from self-registration or from an administrator.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    #[cfg_attr(feature = "openapi", schema(value_type = Email))]
    pub email: String,
    /// Required unless `send_invite` is set. The password policy is the
    /// managing organization's.
    #[serde(default)]
    pub password: Option<String>,
    /// When given, must equal `password`.
    #[serde(default)]
    pub password_confirmation: Option<String>,
    /// Administrators only: create the user `pending`, without a password,
    /// and mail them an invitation to set one.
    #[serde(default)]
    pub send_invite: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name_or_null))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub given_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub family_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Phone>))]
    pub phone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Locale>))]
    pub locale: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<TimeZone>))]
    pub timezone: Option<String>,
    #[serde(default)]
    pub profile: Option<ProfileInput>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attributes: Option<serde_json::Value>,
    /// Administrators only: initial status (`active` by default).
    #[serde(default)]
    pub status: Option<UserStatus>,
    /// The role (by name, `member` by default): any role of the caller's
    /// organization; for the platform's administrators `owner`, `admin` or
    /// `member` of the default organization.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::role_name_or_null))]
    pub role: Option<String>,
    /// The member's location in the caller's organization; required when
    /// the role requires one.
    #[serde(default)]
    pub location_id: Option<Uuid>,
    /// The platform's administrators only: mark the address as verified.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Initial settings, as `PATCH /users/{id}/settings` takes them
    /// (`notifications`, `reminder_advance`, `default_location_id` — a
    /// location of the caller's organization — and `app`). Seed 000's
    /// `notifications: {invites, bookingReminder}` is
    /// `notifications: {invites, booking_reminder}` here.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub settings: Option<serde_json::Map<String, serde_json::Value>>,
    /// A device's push token, registered with the user (seed 000's
    /// `expoPushToken` is `{"token": "ExponentPushToken[…]", "provider": "expo"}`).
    #[serde(default)]
    pub push_token: Option<PushTokenInput>,
    /// Refuse correct sign-ins from addresses outside the user's IP
    /// allowlist (seed 000's `blockAnonymousIPAddress`; off by default).
    /// The list is kept under `/users/{id}/allowed-ips`.
    #[serde(default)]
    pub block_unknown_ips: Option<bool>,
}

impl std::fmt::Debug for NewUserInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUserInput")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("send_invite", &self.send_invite)
            .field("role", &self.role)
            .field("location_id", &self.location_id)
            .finish_non_exhaustive()
    }
}

/// A validated new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    /// `None` for an invited user, who sets it when accepting.
    pub password: Option<Password>,
    pub status: UserStatus,
    /// The role asked for, by name (checked by the use case, which knows
    /// the organization); `None`: `member`.
    pub role: Option<String>,
    pub location_id: Option<Uuid>,
    pub email_verified: bool,
    /// Every editable field, as `Set` or `Keep`.
    pub fields: UserChanges,
    pub extras: NewUserExtras,
}

/// What a new account may start with besides its fields: settings (whose
/// default location the use case still checks), a device's push token and
/// whether sign-ins from addresses outside its IP allowlist are refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUserExtras {
    pub settings: Option<CheckedSettings>,
    pub push_token: Option<NewPushToken>,
    pub block_unknown_ips: bool,
}

/// Where a new account belongs, and so who manages it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewMembership {
    /// A platform account: managed by the platform and a member of the
    /// default organization with this role.
    Platform(BuiltinRole),
    /// An organization's account: managed by `org_id` and a member there
    /// (only) with this role and location.
    Org { org_id: Uuid, role_id: Uuid, location_id: Option<Uuid> },
}

impl NewMembership {
    /// The organization that will manage the account.
    pub fn managed_by(&self) -> Uuid {
        match self {
            NewMembership::Platform(_) => crate::DEFAULT_ORG_ID,
            NewMembership::Org { org_id, .. } => *org_id,
        }
    }
}

/// A user to insert, with everything validated and decided: their id,
/// password hash, status and membership.
#[derive(Debug, Clone)]
pub struct NewUserRecord {
    pub id: Uuid,
    pub email: Email,
    /// `None` for users who have not set a password (invited).
    pub password_hash: Option<String>,
    pub status: UserStatus,
    pub email_verified: bool,
    pub is_superadmin: bool,
    /// Where the account belongs and who manages it.
    pub membership: NewMembership,
    /// Every editable field as `Set` or `Keep`.
    pub fields: UserChanges,
    /// Settings and a push token, written in the same transaction.
    pub extras: NewUserExtras,
    pub now: DateTime<Utc>,
}

impl NewUserInput {
    /// Validates a new user against the password policy.
    pub fn validate(self, policy: &PasswordPolicy, today: NaiveDate) -> Result<NewUser, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&self.email));
        let password = match (&self.password, self.send_invite) {
            (Some(_), true) => {
                errors.add("password", "must not be given with send_invite: the invited user sets it");
                None
            }
            (None, true) => None,
            (None, false) => {
                errors.add("password", "is required unless send_invite is true");
                None
            }
            (Some(raw), false) => match Password::new(policy, raw, Some(self.email.as_str())) {
                Ok(p) => Some(p),
                Err(msgs) => {
                    errors.extend("password", msgs);
                    None
                }
            },
        };
        if self.password_confirmation.is_some() && self.password_confirmation != self.password {
            errors.add("password_confirmation", "must match password");
        }
        let status = match (self.status, self.send_invite) {
            (None | Some(UserStatus::Pending), true) => UserStatus::Pending,
            (Some(_), true) => {
                errors.add("status", "must be pending (or left out) with send_invite");
                UserStatus::Pending
            }
            (Some(UserStatus::Pending), false) => {
                errors.add("status", "must be active, inactive or banned for a user created with a password");
                UserStatus::Pending
            }
            (s, false) => s.unwrap_or(UserStatus::Active),
        };
        let mut out = UserChanges::default();
        fields(
            &mut errors,
            today,
            &mut out,
            opt(self.name),
            opt(self.given_name),
            opt(self.family_name),
            opt(self.phone),
            opt(self.locale),
            opt(self.timezone),
            self.profile.unwrap_or_default(),
            self.attributes,
        );
        let mut extras =
            NewUserExtras { block_unknown_ips: self.block_unknown_ips.unwrap_or(false), ..NewUserExtras::default() };
        if let Some(patch) = self.settings {
            let patch = known_part(patch, "settings.", &mut errors);
            let mut document = serde_json::Map::new();
            merge_patch(&mut document, &patch);
            match check_document(document, "settings.") {
                Ok(checked) => extras.settings = Some(checked),
                Err(e) => errors.absorb(e),
            }
        }
        if let Some(token) = self.push_token {
            match token.validate("push_token.") {
                Ok(token) => extras.push_token = Some(token),
                Err(e) => errors.absorb(e),
            }
        }
        match (email, errors.is_empty()) {
            (Some(email), true) => Ok(NewUser {
                email,
                password,
                status,
                role: self.role.map(|r| r.trim().to_string()),
                location_id: self.location_id,
                email_verified: self.email_verified.unwrap_or(false),
                fields: out,
                extras,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn every_bad_field_is_listed() {
        let input: NewUserInput = serde_json::from_value(json!({
            "email": "not-an-email",
            "password": "short",
            "name": "   ",
            "phone": "call me",
            "locale": "english",
            "timezone": "Mars/Base",
            "profile": {"birthdate": "2999-01-01"},
            "attributes": [1, 2]
        }))
        .unwrap();
        let errs = input.validate(&PasswordPolicy::default(), today()).unwrap_err();
        let fields: Vec<&str> = errs.fields().collect();
        assert_eq!(
            fields,
            vec!["attributes", "email", "locale", "name", "password", "phone", "profile.birthdate", "timezone"]
        );
    }

    #[test]
    fn new_user_defaults() {
        let input: NewUserInput =
            serde_json::from_value(json!({"email": "a@example.com", "password": "correct horse"})).unwrap();
        let u = input.validate(&PasswordPolicy::default(), today()).unwrap();
        assert_eq!(u.status, UserStatus::Active);
        assert_eq!(u.role, None);
        assert!(!u.email_verified);
        assert!(u.password.is_some());
    }

    #[test]
    fn invited_users_have_no_password_and_are_pending() {
        let policy = PasswordPolicy::default();
        let ok: NewUserInput = serde_json::from_value(json!({"email": "a@example.com", "send_invite": true})).unwrap();
        let u = ok.validate(&policy, today()).unwrap();
        assert_eq!(u.status, UserStatus::Pending);
        assert!(u.password.is_none());

        let both: NewUserInput = serde_json::from_value(
            json!({"email": "a@example.com", "send_invite": true, "password": "correct horse", "status": "active"}),
        )
        .unwrap();
        let errs = both.validate(&policy, today()).unwrap_err();
        assert_eq!(errs.fields().collect::<Vec<_>>(), vec!["password", "status"]);

        let neither: NewUserInput = serde_json::from_value(json!({"email": "a@example.com"})).unwrap();
        assert!(neither.validate(&policy, today()).unwrap_err().get("password").is_some());
    }
}
