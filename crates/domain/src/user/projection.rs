//! `fields=id,email,name`: which members of each user a list returns.

use crate::validation::ValidationErrors;

/// The top-level members of a user that a projection may name.
pub const PROJECTABLE: [&str; 19] = [
    "id",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "phone",
    "locale",
    "timezone",
    "status",
    "profile",
    "attributes",
    "avatar",
    "role",
    "is_superadmin",
    "mfa_enabled",
    "created_at",
    "updated_at",
    "last_login_at",
];

/// A validated projection; `id` is always included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection(Vec<&'static str>);

impl Projection {
    /// `None` for an absent or empty list (every member).
    pub fn parse(raw: Option<&str>) -> Result<Option<Projection>, ValidationErrors> {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
        let mut errors = ValidationErrors::new();
        let mut fields = vec!["id"];
        for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match PROJECTABLE.iter().find(|f| **f == name) {
                Some(f) if !fields.contains(f) => fields.push(f),
                Some(_) => {}
                None => errors.add("fields", format!("unknown field '{name}'; fields: {}", PROJECTABLE.join(", "))),
            }
        }
        errors.finish(|| Some(Projection(fields)))
    }

    pub fn includes(&self, field: &str) -> bool {
        self.0.contains(&field)
    }

    pub fn fields(&self) -> &[&'static str] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_always_there_and_unknown_fields_are_named() {
        let p = Projection::parse(Some("email, name")).unwrap().unwrap();
        assert_eq!(p.fields(), &["id", "email", "name"]);
        assert_eq!(Projection::parse(Some("")).unwrap(), None);
        let e = Projection::parse(Some("email,password_hash")).unwrap_err();
        assert!(e.get("fields").unwrap()[0].contains("password_hash"));
    }
}
