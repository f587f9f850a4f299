//! Inputs of the organization use cases. `validate` lists every bad field
//! at once and returns the input normalized (trimmed, deduplicated).

use serde::Deserialize;

use crate::{
    auth::PermissionName,
    validation::{Patch, ValidationErrors},
    values::{
        limits::{DESCRIPTION_MAX, IDENTIFIER_MAX, NAME_MAX, SHORT_TEXT_MAX},
        BoundedText, Invalid, PasswordPolicy, TimeZone,
    },
};

pub use crate::values::limits::MAX_ITEMS;

pub(crate) fn slug(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    let ok = !s.is_empty()
        && raw.chars().count() <= IDENTIFIER_MAX
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(Invalid::new(format!(
            "must be 1–{IDENTIFIER_MAX} lower-case letters, digits or -, starting with a letter or digit"
        )))
    }
}

pub(crate) fn role_name(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    let ok = !s.is_empty()
        && raw.chars().count() <= IDENTIFIER_MAX
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(Invalid::new(format!(
            "must be 1–{IDENTIFIER_MAX} lower-case letters, digits, - or _, starting with a letter or digit"
        )))
    }
}

pub(super) fn text<const N: usize>(errors: &mut ValidationErrors, field: &str, raw: &str) -> String {
    errors.check(field, BoundedText::<N>::parse(raw).map(BoundedText::into_inner)).unwrap_or_default()
}

/// Each permission parsed; duplicates dropped, order kept.
pub(super) fn permissions(errors: &mut ValidationErrors, field: &str, raw: &[String]) -> Vec<String> {
    if raw.len() > MAX_ITEMS {
        errors.add(field, format!("must hold at most {MAX_ITEMS} permissions"));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        match PermissionName::parse(p) {
            Ok(p) if out.iter().any(|q| q == p.as_str()) => {}
            Ok(p) => out.push(p.into_inner()),
            Err(e) => errors.add(format!("{field}[{i}]"), e.to_string()),
        }
    }
    out
}

fn keywords(errors: &mut ValidationErrors, raw: &[String]) -> Vec<String> {
    if raw.len() > MAX_ITEMS {
        errors.add("keywords", format!("must hold at most {MAX_ITEMS} keywords"));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for (i, k) in raw.iter().enumerate() {
        match BoundedText::<SHORT_TEXT_MAX>::parse(k).map(BoundedText::into_inner) {
            Ok(k) if out.contains(&k) => {}
            Ok(k) => out.push(k),
            Err(e) => errors.add(format!("keywords[{i}]"), e.to_string()),
        }
    }
    out
}

/// `POST /orgs`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOrgInput {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name))]
    pub name: String,
    /// Unique; lower-case letters, digits and `-`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::slug))]
    pub slug: String,
    /// An existing user to make the first owner.
    #[serde(default)]
    pub owner_id: Option<uuid::Uuid>,
}

impl NewOrgInput {
    pub fn validate(self) -> Result<NewOrgInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = text::<NAME_MAX>(&mut errors, "name", &self.name);
        let slug = errors.check("slug", slug(&self.slug)).unwrap_or_default();
        errors.finish(|| NewOrgInput { name, slug, owner_id: self.owner_id })
    }
}

/// `POST /orgs/{id}/members`: an existing user joins with a role.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddMemberInput {
    pub user_id: uuid::Uuid,
    /// A role name of the organization (`member` by default).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::role_name_or_null))]
    pub role: Option<String>,
    /// Required when the role `requires_location`.
    #[serde(default)]
    pub location_id: Option<uuid::Uuid>,
}

/// `PATCH /orgs/{id}/members/{user}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::role_name_or_null))]
    pub role: Option<String>,
    /// `null` clears it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub location_id: Patch<uuid::Uuid>,
}

/// `PUT /orgs/{id}/members/{user}/permissions`: the member's extra
/// permissions, replacing the previous ones.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberPermissionsInput {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::permissions))]
    pub permissions: Vec<String>,
}

impl MemberPermissionsInput {
    pub fn validate(self) -> Result<Vec<String>, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let permissions = permissions(&mut errors, "permissions", &self.permissions);
        errors.finish(|| permissions)
    }
}

/// `PATCH /orgs/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name_or_null))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::slug_or_null))]
    pub slug: Option<String>,
    /// The password policy of the accounts the organization manages, at
    /// least as strict as the platform's; `null` goes back to the
    /// platform's. Members not given are the platform's.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<PasswordPolicy>))]
    pub password_policy: Patch<PasswordPolicy>,
}

impl OrgPatch {
    /// Checks the fields, and a password policy against the platform's.
    pub fn validate(self, platform: &PasswordPolicy) -> Result<OrgPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = self.name.map(|n| text::<NAME_MAX>(&mut errors, "name", &n));
        let slug = self.slug.and_then(|s| errors.check("slug", slug(&s)));
        if let Patch::Set(policy) = &self.password_policy {
            for (field, message) in policy.weaker_than(platform) {
                errors.add(format!("password_policy.{field}"), message);
            }
        }
        errors.finish(|| OrgPatch { name, slug, password_policy: self.password_policy })
    }
}

/// `POST /orgs/{id}/roles`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRoleInput {
    /// Unique in the organization; lower-case letters, digits, `-`, `_`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::role_name))]
    pub name: String,
    /// How people read it, e.g. `Front Desk` for `front-desk`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub title: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::description_or_null))]
    pub description: Option<String>,
    /// `resource:action` strings: built in, or registered for the organization.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::permissions))]
    pub permissions: Vec<String>,
    /// Members with this role must have a location.
    #[serde(default)]
    pub requires_location: bool,
}

impl NewRoleInput {
    pub fn validate(self) -> Result<NewRoleInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = errors.check("name", role_name(&self.name)).unwrap_or_default();
        let title = self.title.map(|t| text::<SHORT_TEXT_MAX>(&mut errors, "title", &t));
        let description = self.description.map(|d| text::<DESCRIPTION_MAX>(&mut errors, "description", &d));
        let permissions = permissions(&mut errors, "permissions", &self.permissions);
        let requires_location = self.requires_location;
        errors.finish(|| NewRoleInput { name, title, description, permissions, requires_location })
    }
}

/// `PATCH /orgs/{id}/roles/{role}` (`null` clears the description).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolePatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::role_name_or_null))]
    pub name: Option<String>,
    /// `null` clears it (the name is shown instead).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::short_text_or_null))]
    pub title: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::description_or_null))]
    pub description: Patch<String>,
    /// Replaces the whole set.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::permissions_or_null))]
    pub permissions: Option<Vec<String>>,
    #[serde(default)]
    pub requires_location: Option<bool>,
}

impl RolePatch {
    pub fn validate(self) -> Result<RolePatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = self.name.and_then(|n| errors.check("name", role_name(&n)));
        let title = match self.title {
            Patch::Set(t) => Patch::Set(text::<SHORT_TEXT_MAX>(&mut errors, "title", &t)),
            other => other,
        };
        let description = match self.description {
            Patch::Set(d) => Patch::Set(text::<DESCRIPTION_MAX>(&mut errors, "description", &d)),
            other => other,
        };
        let permissions = self.permissions.map(|p| permissions(&mut errors, "permissions", &p));
        let requires_location = self.requires_location;
        errors.finish(|| RolePatch { name, title, description, permissions, requires_location })
    }
}

/// `POST /orgs/{id}/locations`, and `PUT`-like replacement.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name))]
    pub name: String,
    /// IANA time zone, e.g. `Europe/Copenhagen`.
    #[cfg_attr(feature = "openapi", schema(value_type = TimeZone))]
    pub timezone: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::keywords))]
    pub keywords: Vec<String>,
}

impl LocationInput {
    pub fn validate(self) -> Result<LocationInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = text::<NAME_MAX>(&mut errors, "name", &self.name);
        let timezone =
            errors.check("timezone", TimeZone::parse(&self.timezone).map(TimeZone::into_inner)).unwrap_or_default();
        let keywords = keywords(&mut errors, &self.keywords);
        errors.finish(|| LocationInput { name, timezone, keywords })
    }
}

/// `PATCH /orgs/{id}/locations/{location}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LocationPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::name_or_null))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<TimeZone>))]
    pub timezone: Option<String>,
    /// Replaces the whole list.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::keywords_or_null))]
    pub keywords: Option<Vec<String>>,
}

impl LocationPatch {
    pub fn validate(self) -> Result<LocationPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = self.name.map(|n| text::<NAME_MAX>(&mut errors, "name", &n));
        let timezone =
            self.timezone.and_then(|t| errors.check("timezone", TimeZone::parse(&t).map(TimeZone::into_inner)));
        let keywords = self.keywords.map(|k| keywords(&mut errors, &k));
        errors.finish(|| LocationPatch { name, timezone, keywords })
    }
}

/// `POST /orgs/{id}/permissions`: a permission of the host application.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PermissionInput {
    /// `resource:action`, not one of the built-in catalogue.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::permission))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::values::schema::description_or_null))]
    pub description: Option<String>,
}

impl PermissionInput {
    pub fn validate(self) -> Result<PermissionInput, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = match PermissionName::parse(&self.name) {
            Ok(p) if p.is_builtin() => {
                errors.add("name", "is a built-in permission");
                String::new()
            }
            Ok(p) => p.into_inner(),
            Err(e) => {
                errors.add("name", e.to_string());
                String::new()
            }
        };
        let description = self.description.map(|d| text::<DESCRIPTION_MAX>(&mut errors, "description", &d));
        errors.finish(|| PermissionInput { name, description })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_bad_field_is_listed() {
        let r: NewRoleInput = serde_json::from_value(
            json!({"name": "Front Desk", "description": " ", "permissions": ["ok:yes", "nope", "ok:yes"]}),
        )
        .unwrap();
        let e = r.validate().unwrap_err();
        assert_eq!(e.fields().collect::<Vec<_>>(), vec!["description", "name", "permissions[1]"]);
        let l: LocationInput =
            serde_json::from_value(json!({"name": "", "timezone": "Mars/Olympus", "keywords": ["ok", ""]})).unwrap();
        assert_eq!(l.validate().unwrap_err().fields().collect::<Vec<_>>(), vec!["keywords[1]", "name", "timezone"]);
        let o: NewOrgInput = serde_json::from_value(json!({"name": "Acme", "slug": "-acme"})).unwrap();
        assert_eq!(o.validate().unwrap_err().fields().collect::<Vec<_>>(), vec!["slug"]);
        let p: PermissionInput = serde_json::from_value(json!({"name": "users:read"})).unwrap();
        assert!(p.validate().is_err(), "built-in names cannot be registered");
    }

    #[test]
    fn values_are_normalized() {
        let r: NewRoleInput = serde_json::from_value(
            json!({"name": " front-desk ", "permissions": ["beacons:toggle", " beacons:toggle", "metrics:view"]}),
        )
        .unwrap();
        let r = r.validate().unwrap();
        assert_eq!((r.name.as_str(), r.permissions.len()), ("front-desk", 2));
        let l: LocationInput = serde_json::from_value(
            json!({"name": " HQ ", "timezone": "Europe/Copenhagen", "keywords": ["a", " a", "b"]}),
        )
        .unwrap();
        assert_eq!(l.validate().unwrap().keywords, vec!["a", "b"]);
    }
}
