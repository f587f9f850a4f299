//! Raw inputs (as deserialized from a request) and their validation into the
//! values the store accepts. Validation lists every bad field at once.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    validation::{Patch, ValidationErrors},
    values::{
        limits::{NAME_MAX, SHORT_TEXT_MAX},
        BoundedText, Email, Locale, Password, PasswordPolicy, Phone, TimeZone,
    },
};

use super::{BuiltinRole, UserStatus};

/// Largest serialized size of `attributes`.
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;

/// Profile members of an input; each may be absent, `null` or a value.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// `YYYY-MM-DD`, not in the future.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub birthdate: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub gender: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub pronouns: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub employee_id: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub position: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub department: Patch<String>,
}

/// The profile fields a user may edit about themselves (`PATCH /me`). Email,
/// password, status and role are not among them: unknown members are refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name_or_null))]
    pub name: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub given_name: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub family_name: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Phone>))]
    pub phone: Patch<String>,
    /// BCP 47 tag.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Locale>))]
    pub locale: Patch<String>,
    /// IANA time zone.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<TimeZone>))]
    pub timezone: Patch<String>,
    #[serde(default)]
    pub profile: Option<ProfileInput>,
    /// Replaces the whole attributes object.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attributes: Option<serde_json::Value>,
}

/// An administrator's partial update of a user (`PATCH /users/{id}`): the
/// account's fields, and the user's membership in the caller's organization.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatchInput {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Email>))]
    pub email: Option<String>,
    /// The platform's administrators only.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// The user's role (by name) in the caller's organization (the default
    /// organization for the platform's administrators).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::role_name_or_null))]
    pub role: Option<String>,
    /// The user's location in the caller's organization; `null` clears it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub location_id: Patch<Uuid>,
    /// Superadmins only: hands the account to another organization, of
    /// which the user must be a member.
    #[serde(default)]
    pub managed_by: Option<Uuid>,
    #[serde(flatten)]
    pub fields: MePatch,
}

/// A change of a member's role or location, asked with an edit of the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipEdit {
    /// The new role, by name.
    pub role: Option<String>,
    pub location_id: Patch<Uuid>,
}

impl MembershipEdit {
    pub fn is_empty(&self) -> bool {
        self.role.is_none() && self.location_id.is_keep()
    }
}

/// An administrator's replacement of every editable field (`PUT /users/{id}`):
/// a field of the account left out is cleared; the membership's role and
/// location are kept unless given.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserReplaceInput {
    #[cfg_attr(feature = "openapi", schema(value_type = Email))]
    pub email: String,
    /// The platform's administrators only.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// The user's role (by name) in the caller's organization; kept when left out.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::role_name_or_null))]
    pub role: Option<String>,
    /// The user's location in the caller's organization; kept when left out.
    #[serde(default)]
    pub location_id: Option<Uuid>,
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
}

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

/// Validated changes to a user's editable fields, ready for the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChanges {
    pub email: Option<Email>,
    pub email_verified: Option<bool>,
    pub name: Patch<String>,
    pub given_name: Patch<String>,
    pub family_name: Patch<String>,
    pub phone: Patch<String>,
    pub locale: Patch<String>,
    pub timezone: Patch<String>,
    pub birthdate: Patch<NaiveDate>,
    pub gender: Patch<String>,
    pub pronouns: Patch<String>,
    pub employee_id: Patch<String>,
    pub position: Patch<String>,
    pub department: Patch<String>,
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Hands the account to another organization (superadmins only).
    pub managed_by: Option<Uuid>,
}

impl UserChanges {
    pub fn is_empty(&self) -> bool {
        *self == UserChanges::default()
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
    pub now: DateTime<Utc>,
}

fn opt(v: Option<String>) -> Patch<String> {
    v.map_or(Patch::Keep, Patch::Set)
}

fn replace(v: Option<String>) -> Patch<String> {
    v.map_or(Patch::Clear, Patch::Set)
}

fn text<const N: usize>(errors: &mut ValidationErrors, field: &str, p: Patch<String>) -> Patch<String> {
    match p.try_map(|s| BoundedText::<N>::parse(&s).map(BoundedText::into_inner)) {
        Ok(v) => v,
        Err(e) => {
            errors.add(field, e.to_string());
            Patch::Keep
        }
    }
}

fn parsed<T, E: std::fmt::Display>(
    errors: &mut ValidationErrors,
    field: &str,
    p: Patch<String>,
    f: impl FnOnce(&str) -> Result<T, E>,
) -> Patch<T> {
    match p.try_map(|s| f(&s)) {
        Ok(v) => v,
        Err(e) => {
            errors.add(field, e.to_string());
            Patch::Keep
        }
    }
}

fn birthdate(raw: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let d =
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| "must be a date as YYYY-MM-DD".to_string())?;
    if d > today {
        return Err("must not be in the future".into());
    }
    if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err("must not be before 1900-01-01".into());
    }
    Ok(d)
}

/// Validates the shared editable fields into `out`, recording problems in `errors`.
#[allow(clippy::too_many_arguments)]
fn fields(
    errors: &mut ValidationErrors,
    today: NaiveDate,
    out: &mut UserChanges,
    name: Patch<String>,
    given_name: Patch<String>,
    family_name: Patch<String>,
    phone: Patch<String>,
    locale: Patch<String>,
    timezone: Patch<String>,
    profile: ProfileInput,
    attributes: Option<serde_json::Value>,
) {
    out.name = text::<NAME_MAX>(errors, "name", name);
    out.given_name = text::<SHORT_TEXT_MAX>(errors, "given_name", given_name);
    out.family_name = text::<SHORT_TEXT_MAX>(errors, "family_name", family_name);
    out.phone = parsed(errors, "phone", phone, |s| Phone::parse(s).map(Phone::into_inner));
    out.locale = parsed(errors, "locale", locale, |s| Locale::parse(s).map(Locale::into_inner));
    out.timezone = parsed(errors, "timezone", timezone, |s| TimeZone::parse(s).map(TimeZone::into_inner));
    out.birthdate = parsed(errors, "profile.birthdate", profile.birthdate, |s| birthdate(s, today));
    out.gender = text::<SHORT_TEXT_MAX>(errors, "profile.gender", profile.gender);
    out.pronouns = text::<SHORT_TEXT_MAX>(errors, "profile.pronouns", profile.pronouns);
    out.employee_id = text::<SHORT_TEXT_MAX>(errors, "profile.employee_id", profile.employee_id);
    out.position = text::<SHORT_TEXT_MAX>(errors, "profile.position", profile.position);
    out.department = text::<SHORT_TEXT_MAX>(errors, "profile.department", profile.department);
    if let Some(value) = attributes {
        match value {
            serde_json::Value::Object(map) => {
                let size = serde_json::to_vec(&map).map(|v| v.len()).unwrap_or(usize::MAX);
                if size > MAX_ATTRIBUTES_BYTES {
                    errors.add("attributes", format!("must be at most {} bytes of JSON", MAX_ATTRIBUTES_BYTES));
                } else {
                    out.attributes = Some(map);
                }
            }
            _ => errors.add("attributes", "must be a JSON object"),
        }
    }
}

impl MePatch {
    /// Whether it names no field at all.
    pub fn is_empty(&self) -> bool {
        let names = [&self.name, &self.given_name, &self.family_name, &self.phone, &self.locale, &self.timezone];
        names.iter().all(|p| p.is_keep()) && self.profile.is_none() && self.attributes.is_none()
    }

    /// Validates a self-service profile change.
    pub fn validate(self, today: NaiveDate) -> Result<UserChanges, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut out = UserChanges::default();
        fields(
            &mut errors,
            today,
            &mut out,
            self.name,
            self.given_name,
            self.family_name,
            self.phone,
            self.locale,
            self.timezone,
            self.profile.unwrap_or_default(),
            self.attributes,
        );
        errors.finish(|| out)
    }
}

impl UserPatchInput {
    /// Validates an administrator's partial update.
    pub fn validate(self, today: NaiveDate) -> Result<UserChanges, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = self.email.and_then(|e| errors.check("email", Email::parse(&e)));
        let f = self.fields;
        let mut out = UserChanges::default();
        fields(
            &mut errors,
            today,
            &mut out,
            f.name,
            f.given_name,
            f.family_name,
            f.phone,
            f.locale,
            f.timezone,
            f.profile.unwrap_or_default(),
            f.attributes,
        );
        out.email = email;
        out.email_verified = self.email_verified;
        errors.finish(|| out)
    }
}

impl UserReplaceInput {
    /// Validates a replacement: every editable field not given is cleared.
    pub fn validate(self, today: NaiveDate) -> Result<UserChanges, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&self.email));
        let p = self.profile.unwrap_or_default();
        let clear_absent = |x: Patch<String>| if x.is_keep() { Patch::Clear } else { x };
        let profile = ProfileInput {
            birthdate: clear_absent(p.birthdate),
            gender: clear_absent(p.gender),
            pronouns: clear_absent(p.pronouns),
            employee_id: clear_absent(p.employee_id),
            position: clear_absent(p.position),
            department: clear_absent(p.department),
        };
        let mut out = UserChanges::default();
        let attributes = Some(self.attributes.unwrap_or_else(|| serde_json::Value::Object(Default::default())));
        fields(
            &mut errors,
            today,
            &mut out,
            replace(self.name),
            replace(self.given_name),
            replace(self.family_name),
            replace(self.phone),
            replace(self.locale),
            replace(self.timezone),
            profile,
            attributes,
        );
        out.email = email;
        out.email_verified = self.email_verified;
        errors.finish(|| out)
    }
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
        match (email, errors.is_empty()) {
            (Some(email), true) => Ok(NewUser {
                email,
                password,
                status,
                role: self.role.map(|r| r.trim().to_string()),
                location_id: self.location_id,
                email_verified: self.email_verified.unwrap_or(false),
                fields: out,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn attributes_are_capped() {
        let big = "x".repeat(MAX_ATTRIBUTES_BYTES);
        let input: MePatch = serde_json::from_value(json!({"attributes": {"k": big}})).unwrap();
        assert!(input.validate(today()).unwrap_err().get("attributes").is_some());
    }

    #[test]
    fn me_patch_refuses_privileged_fields() {
        for field in ["email", "password", "status", "role", "is_superadmin", "email_verified"] {
            let r: Result<MePatch, _> = serde_json::from_value(json!({ field: "x" }));
            assert!(r.is_err(), "{field} must be refused");
        }
    }

    #[test]
    fn patch_keeps_clears_and_sets() {
        let input: UserPatchInput =
            serde_json::from_value(json!({"name": null, "locale": "da", "email": "New@Example.com"})).unwrap();
        let c = input.validate(today()).unwrap();
        assert_eq!(c.name, Patch::Clear);
        assert_eq!(c.locale, Patch::Set("da".into()));
        assert_eq!(c.given_name, Patch::Keep);
        assert_eq!(c.email.unwrap().as_str(), "New@example.com");
    }

    #[test]
    fn replace_clears_what_is_left_out() {
        let input: UserReplaceInput = serde_json::from_value(json!({"email": "a@example.com", "name": "Ada"})).unwrap();
        let c = input.validate(today()).unwrap();
        assert_eq!(c.name, Patch::Set("Ada".into()));
        assert_eq!(c.phone, Patch::Clear);
        assert_eq!(c.department, Patch::Clear);
        assert_eq!(c.attributes, Some(Default::default()));
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
