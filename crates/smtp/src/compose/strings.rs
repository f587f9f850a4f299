//! The per-locale string tables (`templates/locales/*.json`): what they hold,
//! placeholder filling, the validity sentence and counted phrases.

use serde::Deserialize;

/// Everything a locale says. Unknown or missing keys fail at parse time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Strings {
    /// `{name}`: the recipient's display name.
    pub greeting: String,
    /// When the recipient has no display name.
    pub greeting_anonymous: String,
    /// Above the raw link, for clients that do not show the button.
    pub link_hint: String,
    /// `{action}`: the button label, introducing the link in the text part.
    pub text_action: String,
    /// `{product}`.
    pub footer: String,
    pub valid_for: Validity,
    pub counts: Counts,
    pub messages: Messages,
}

/// "This link is valid for {n} …", per unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Validity {
    pub minutes: Plural,
    pub hours: Plural,
    pub days: Plural,
}

/// The counted phrases filled into notices, each worded (case, article)
/// for the one sentence it goes into.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Counts {
    /// `{failures}` in `account_locked`: "5 failed sign-in attempts".
    pub failed_sign_ins: Plural,
    /// `{minutes}` in `account_locked`: "15 minutes".
    pub minutes: Plural,
    /// `{remaining}` in `recovery_code_used*`: "3 unused recovery codes"
    /// (never zero: `recovery_code_used_none_left` says so in words).
    pub recovery_codes: Plural,
}

/// A sentence for `{n} == 1` and for every other count.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Plural {
    pub one: String,
    pub other: String,
}

impl Plural {
    /// The form for `n`. Every supported language (en, fr, da, de) uses the
    /// singular for exactly one of a positive count.
    fn pick(&self, n: i64) -> &str {
        if n == 1 {
            &self.one
        } else {
            &self.other
        }
    }

    /// The form for `n` with `{n}` filled in.
    pub(crate) fn count(&self, n: i64) -> Result<String, String> {
        fill(self.pick(n), &[("n", &n.to_string())])
    }
}

/// One entry per letter and variant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Messages {
    pub verify_email: TokenMessage,
    pub confirm_email_change: TokenMessage,
    pub email_change_notice: Notice,
    pub email_in_use: Notice,
    pub password_reset: TokenMessage,
    pub password_reset_by_admin: TokenMessage,
    pub password_changed: Notice,
    pub password_changed_by_reset: Notice,
    pub invitation: TokenMessage,
    pub invitation_from: TokenMessage,
    /// `{organization}`: an invitation into an organization, sent alike
    /// whether the address has an account or not.
    pub org_invitation: TokenMessage,
    /// `{inviter}`, `{organization}`.
    pub org_invitation_from: TokenMessage,
    pub mfa_enabled: Notice,
    pub mfa_disabled: Notice,
    pub mfa_disabled_by_admin: Notice,
    /// `{remaining}`: a recovery code was used, and more than a few are left.
    pub recovery_code_used: Notice,
    /// `{remaining}`: a few are left; urges a new set.
    pub recovery_code_used_few_left: Notice,
    /// The last one was used; urges a new set now.
    pub recovery_code_used_none_left: Notice,
    pub mfa_code_reused: Notice,
    /// `{failures}`, `{minutes}`.
    pub account_locked: Notice,
    /// `{ip}`: the refused client address.
    pub login_blocked: Notice,
}

/// A letter with a link: subject, paragraphs, button label, closing line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenMessage {
    pub subject: String,
    pub body: Vec<String>,
    pub action: String,
    pub closing: String,
}

/// A letter without a link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Notice {
    pub subject: String,
    pub body: Vec<String>,
    pub closing: String,
}

/// Parses one locale's table.
pub(crate) fn parse(locale: &str, json: &str) -> Result<Strings, String> {
    serde_json::from_str(json).map_err(|e| format!("locale {locale}: {e}"))
}

/// Replaces each `{name}` in `text` by its value in `vars`, in one pass (a
/// value is never scanned again). Any other `{` is an error: the strings
/// are plain text, so a brace there is a typo in a placeholder.
pub(crate) fn fill(text: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}').ok_or_else(|| format!("unclosed '{{' in {text:?}"))?;
        let name = &after[..end];
        let value = vars
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
            .ok_or_else(|| format!("unknown placeholder {{{name}}} in {text:?}"))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Shorter validities are counted in hours ("48 hours", not "2 days").
const DAYS_FROM: i64 = 3 * DAY;

/// The unit and count a validity is shown in: whole days from three days
/// on, else hours (rounded up) from one hour on, else minutes (rounded up,
/// at least one).
pub(crate) fn validity_unit(valid_for: chrono::Duration) -> (Unit, i64) {
    let secs = valid_for.num_seconds();
    if secs >= DAYS_FROM && secs % DAY == 0 {
        (Unit::Days, secs / DAY)
    } else if secs >= HOUR {
        (Unit::Hours, (secs + HOUR - 1) / HOUR)
    } else {
        (Unit::Minutes, whole_minutes(valid_for))
    }
}

/// A duration in whole minutes, rounded up, at least one.
pub(crate) fn whole_minutes(d: chrono::Duration) -> i64 {
    const MINUTE_MS: i64 = MINUTE * 1000;
    (d.num_milliseconds().saturating_add(MINUTE_MS - 1) / MINUTE_MS).max(1)
}

/// A unit of [`validity_unit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Minutes,
    Hours,
    Days,
}

/// "This link is valid for 48 hours." in the table's language.
pub(crate) fn validity(table: &Validity, valid_for: chrono::Duration) -> Result<String, String> {
    let (unit, n) = validity_unit(valid_for);
    let plural = match unit {
        Unit::Minutes => &table.minutes,
        Unit::Hours => &table.hours,
        Unit::Days => &table.days,
    };
    plural.count(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn fill_replaces_once_and_refuses_unknown_placeholders() {
        assert_eq!(fill("Hi {name}!", &[("name", "{name}")]).unwrap(), "Hi {name}!");
        assert_eq!(fill("{a}{b}", &[("a", "1"), ("b", "2")]).unwrap(), "12");
        assert_eq!(fill("no braces", &[]).unwrap(), "no braces");
        assert!(fill("Hi {nme}", &[("name", "x")]).unwrap_err().contains("{nme}"));
        assert!(fill("Hi {name", &[("name", "x")]).is_err());
    }

    #[test]
    fn validity_units() {
        let cases = [
            (Duration::minutes(30), (Unit::Minutes, 30)),
            (Duration::seconds(61), (Unit::Minutes, 2)),
            (Duration::seconds(0), (Unit::Minutes, 1)),
            (Duration::hours(1), (Unit::Hours, 1)),
            (Duration::minutes(90), (Unit::Hours, 2)),
            (Duration::hours(24), (Unit::Hours, 24)),
            (Duration::hours(48), (Unit::Hours, 48)),
            (Duration::days(3), (Unit::Days, 3)),
            (Duration::days(7), (Unit::Days, 7)),
            (Duration::days(7) + Duration::hours(1), (Unit::Hours, 169)),
        ];
        for (d, want) in cases {
            assert_eq!(validity_unit(d), want, "{d:?}");
        }
    }

    #[test]
    fn whole_minutes_round_up_to_at_least_one() {
        let cases = [
            (Duration::minutes(15), 15),
            (Duration::seconds(61), 2),
            (Duration::milliseconds(60_001), 2),
            (Duration::seconds(60), 1),
            (Duration::seconds(1), 1),
            (Duration::zero(), 1),
            (Duration::seconds(-5), 1),
            (Duration::hours(2), 120),
            (Duration::days(1), 1440),
            (Duration::MAX, i64::MAX / 60_000),
        ];
        for (d, want) in cases {
            assert_eq!(whole_minutes(d), want, "{d:?}");
        }
    }
}
