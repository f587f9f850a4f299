//! Raw inputs (as deserialized from a request) and their validation into the
//! values the store accepts. Validation lists every bad field at once.
//! Edits of a user are here; new users in [`new`].

mod new;

pub use new::{NewMembership, NewUser, NewUserExtras, NewUserInput, NewUserRecord};

use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    validation::{Patch, ValidationErrors},
    values::{
        limits::{NAME_MAX, SHORT_TEXT_MAX},
        BoundedText, Email, Locale, Phone, TimeZone,
    },
};

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
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
}
