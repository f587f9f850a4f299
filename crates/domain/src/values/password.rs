use serde::Deserialize;
use zeroize::Zeroizing;

/// The configurable password policy. Lengths count bytes of UTF-8, because
/// bcrypt ignores everything past 72 bytes: longer passwords are refused
/// rather than silently truncated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    /// Fewest bytes.
    pub min_length: usize,
    /// Most bytes (at most 72: bcrypt ignores the rest).
    pub max_length: usize,
    pub require_digit: bool,
    pub require_symbol: bool,
    pub require_upper: bool,
    pub require_lower: bool,
}

/// bcrypt's hard limit.
pub const BCRYPT_MAX_BYTES: usize = 72;

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: BCRYPT_MAX_BYTES,
            require_digit: false,
            require_symbol: false,
            require_upper: false,
            require_lower: false,
        }
    }
}

impl PasswordPolicy {
    /// Problems with the policy itself, checked at start-up.
    pub fn check(&self) -> Result<(), String> {
        if self.min_length < 1 {
            return Err("password.min_length must be at least 1".into());
        }
        if self.max_length > BCRYPT_MAX_BYTES {
            return Err(format!(
                "password.max_length must be at most {BCRYPT_MAX_BYTES} (bcrypt ignores longer input)"
            ));
        }
        if self.min_length > self.max_length {
            return Err("password.min_length must not exceed password.max_length".into());
        }
        Ok(())
    }

    /// Where this policy (an organization's) is weaker than `floor` (the
    /// platform's) or inconsistent, as (member, message); empty when it is at
    /// least as strict.
    pub fn weaker_than(&self, floor: &PasswordPolicy) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.min_length < floor.min_length {
            out.push(("min_length", format!("must be at least the platform's {}", floor.min_length)));
        }
        if self.max_length > floor.max_length {
            out.push(("max_length", format!("must be at most the platform's {}", floor.max_length)));
        }
        if self.min_length > self.max_length {
            out.push(("max_length", "must not be less than min_length".to_string()));
        }
        let classes = [
            ("require_digit", self.require_digit, floor.require_digit),
            ("require_symbol", self.require_symbol, floor.require_symbol),
            ("require_upper", self.require_upper, floor.require_upper),
            ("require_lower", self.require_lower, floor.require_lower),
        ];
        for (name, own, platform) in classes {
            if platform && !own {
                out.push((name, "must be true: the platform requires it".to_string()));
            }
        }
        out
    }
}

/// A password that satisfies the policy. Its bytes are wiped on drop and it
/// never prints.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// Checks `raw` against `policy`; `email` is the account's address, which
    /// the password may not equal. Returns every broken rule.
    pub fn new(policy: &PasswordPolicy, raw: &str, email: Option<&str>) -> Result<Password, Vec<String>> {
        let mut errors = Vec::new();
        let len = raw.len();
        if len < policy.min_length {
            errors.push(format!("must be at least {} characters", policy.min_length));
        }
        if len > policy.max_length {
            errors.push(format!("must be at most {} bytes", policy.max_length));
        }
        if raw.contains('\0') {
            errors.push("must not contain NUL characters".to_string());
        }
        if policy.require_digit && !raw.chars().any(|c| c.is_ascii_digit()) {
            errors.push("must contain a digit".to_string());
        }
        if policy.require_symbol && !raw.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
            errors.push("must contain a symbol".to_string());
        }
        if policy.require_upper && !raw.chars().any(char::is_uppercase) {
            errors.push("must contain an upper-case letter".to_string());
        }
        if policy.require_lower && !raw.chars().any(char::is_lowercase) {
            errors.push("must contain a lower-case letter".to_string());
        }
        if let Some(email) = email {
            if raw.trim().eq_ignore_ascii_case(email.trim()) {
                errors.push("must not be the email address".to_string());
            }
        }
        if errors.is_empty() {
            Ok(Password(Zeroizing::new(raw.to_string())))
        } else {
            Err(errors)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_policy_may_only_be_stricter_than_the_platform() {
        let platform = PasswordPolicy { min_length: 10, require_digit: true, ..PasswordPolicy::default() };
        let seed = PasswordPolicy {
            min_length: 10,
            max_length: 30,
            require_digit: true,
            require_symbol: true,
            require_upper: true,
            require_lower: true,
        };
        assert!(seed.weaker_than(&platform).is_empty());
        let lax = PasswordPolicy { min_length: 8, max_length: 80, ..PasswordPolicy::default() };
        let fields: Vec<&str> = lax.weaker_than(&platform).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["min_length", "max_length", "require_digit"]);
        let upside_down = PasswordPolicy { min_length: 20, max_length: 12, require_digit: true, ..seed };
        assert_eq!(upside_down.weaker_than(&platform)[0].0, "max_length");
    }
    use proptest::prelude::*;

    #[test]
    fn default_policy_bounds() {
        let p = PasswordPolicy::default();
        assert!(Password::new(&p, "short", None).is_err());
        assert!(Password::new(&p, "longenough", None).is_ok());
        assert!(Password::new(&p, &"a".repeat(72), None).is_ok());
        let err = Password::new(&p, &"a".repeat(73), None).unwrap_err();
        assert_eq!(err, vec!["must be at most 72 bytes".to_string()]);
        // 25 three-byte characters are 75 bytes: over bcrypt's limit.
        assert!(Password::new(&p, &"€".repeat(25), None).is_err());
    }

    #[test]
    fn character_classes_are_all_reported() {
        let p = PasswordPolicy {
            require_digit: true,
            require_symbol: true,
            require_upper: true,
            require_lower: true,
            ..Default::default()
        };
        let errs = Password::new(&p, "        ", None).unwrap_err();
        assert_eq!(errs.len(), 4);
        assert!(Password::new(&p, "Abcdef1!", None).is_ok());
    }

    #[test]
    fn may_not_equal_email() {
        let p = PasswordPolicy::default();
        assert!(Password::new(&p, "Ada@Example.com", Some("ada@example.com")).is_err());
    }

    #[test]
    fn debug_redacts() {
        let p = Password::new(&PasswordPolicy::default(), "secret-password", None).unwrap();
        assert!(!format!("{p:?}").contains("secret"));
    }

    #[test]
    fn policy_check() {
        assert!(PasswordPolicy { max_length: 100, ..Default::default() }.check().is_err());
        assert!(PasswordPolicy { min_length: 10, max_length: 9, ..Default::default() }.check().is_err());
        assert!(PasswordPolicy::default().check().is_ok());
    }

    proptest! {
        #[test]
        fn accepted_passwords_fit_bcrypt(s in "\\PC{0,100}") {
            if let Ok(p) = Password::new(&PasswordPolicy::default(), &s, None) {
                prop_assert!(p.expose().len() <= 72 && p.expose().len() >= 8);
            }
        }
    }
}
