//! A user's settings: notification channels, how far ahead reminders come,
//! a default location and a free object for the host application. Stored
//! as one JSON document holding only the keys that were set; changed by a
//! JSON merge patch (RFC 7396), which the domain applies and then checks
//! whole, so a bad patch never writes half of itself.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::validation::ValidationErrors;

/// Most notification channels a user may name.
pub const MAX_NOTIFICATION_CHANNELS: usize = 50;
/// Largest serialized size of `app`.
pub const MAX_APP_BYTES: usize = 8 * 1024;
/// The known top-level keys.
pub const SETTINGS_KEYS: [&str; 4] = ["notifications", "reminder_advance", "default_location_id", "app"];
/// The longest reminder advance: a year (366 days).
const MAX_ADVANCE_SECS: u64 = 366 * 86_400;

/// A user's settings with every known key, defaults included.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// Named notification channels, on or off (`invites`, `booking_reminder`,
    /// `email`, …): names match `^[a-z][a-z0-9_]{0,39}$`, at most 50.
    /// Seed 000's `bookingReminder` is `booking_reminder` here.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, bool>))]
    pub notifications: BTreeMap<String, bool>,
    /// How long before an event reminders come, as an ISO 8601 duration
    /// (`P1W`, `P1D`, `PT2H`, `P1DT12H`), normalized (`P7D` is `P1W`,
    /// `PT90M` is `PT1H30M`); at most a year. Seed 003's `1_WEEK` style is
    /// accepted too (`1_WEEK` is `P1W`, `2_DAYS` is `P2D`).
    #[cfg_attr(feature = "openapi", schema(example = "P1W"))]
    pub reminder_advance: Option<String>,
    /// A location of an organization the user is a member of.
    pub default_location_id: Option<Uuid>,
    /// A free JSON object for the host application, at most 8 KiB serialized.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub app: Map<String, Value>,
}

/// A settings document that passed every check but the default location's,
/// which needs the store: the document to keep, and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSettings {
    /// The normalized document, holding only the keys that are set.
    pub document: Map<String, Value>,
    pub settings: Settings,
}

impl Settings {
    /// The settings a stored document holds, defaults for what it lacks.
    /// A stored document was checked before it was written; a value that
    /// somehow is not what it should be reads as the default.
    pub fn from_document(document: &Map<String, Value>) -> Settings {
        let notifications = match document.get("notifications") {
            Some(Value::Object(m)) => m.iter().filter_map(|(k, v)| v.as_bool().map(|b| (k.clone(), b))).collect(),
            _ => BTreeMap::new(),
        };
        Settings {
            notifications,
            reminder_advance: document.get("reminder_advance").and_then(Value::as_str).map(String::from),
            default_location_id: document
                .get("default_location_id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok()),
            app: match document.get("app") {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            },
        }
    }
}

/// Applies a JSON merge patch (RFC 7396) to `target`: `null` removes a
/// member, an object merges into an object member recursively, anything
/// else replaces.
pub fn merge_patch(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(key);
            }
            Value::Object(inner) => {
                let slot = target.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(existing) = slot {
                    merge_patch(existing, inner);
                }
            }
            other => {
                target.insert(key.clone(), other.clone());
            }
        }
    }
}

/// The unknown top-level keys of a patch, each an error under `prefix` +
/// its name (a `null` for an unknown key is refused too: it names nothing).
pub fn unknown_keys(patch: &Map<String, Value>, prefix: &str, errors: &mut ValidationErrors) {
    for key in patch.keys().filter(|k| !SETTINGS_KEYS.contains(&k.as_str())) {
        errors.add(
            format!("{prefix}{key}"),
            "is not a known setting (notifications, reminder_advance, default_location_id, app)",
        );
    }
}

/// The patch without its unknown top-level keys, which become errors (as
/// [`unknown_keys`] names them), so the rest can still be checked and every
/// bad field be told at once.
pub fn known_part(patch: Map<String, Value>, prefix: &str, errors: &mut ValidationErrors) -> Map<String, Value> {
    unknown_keys(&patch, prefix, errors);
    patch.into_iter().filter(|(k, _)| SETTINGS_KEYS.contains(&k.as_str())).collect()
}

/// Checks a whole settings document (after a merge), field errors named
/// `prefix` + the key: every problem at once.
pub fn check_document(document: Map<String, Value>, prefix: &str) -> Result<CheckedSettings, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    unknown_keys(&document, prefix, &mut errors);
    let mut out = Map::new();
    if let Some(value) = document.get("notifications") {
        let field = format!("{prefix}notifications");
        match value {
            Value::Object(channels) => {
                if channels.len() > MAX_NOTIFICATION_CHANNELS {
                    errors.add(&field, format!("names at most {MAX_NOTIFICATION_CHANNELS} channels"));
                }
                for (name, on) in channels {
                    if !channel_name_ok(name) {
                        errors.add(
                            format!("{field}.{name}"),
                            "channel names are a lower-case letter, then lower-case letters, digits or _ (at most 40)",
                        );
                    } else if !on.is_boolean() {
                        errors.add(format!("{field}.{name}"), "must be true or false (null removes it)");
                    }
                }
                if !channels.is_empty() {
                    out.insert("notifications".into(), value.clone());
                }
            }
            _ => errors.add(&field, "must be an object of channel names to true or false"),
        }
    }
    if let Some(value) = document.get("reminder_advance") {
        let field = format!("{prefix}reminder_advance");
        match value.as_str().map(parse_advance) {
            Some(Ok(normalized)) => {
                out.insert("reminder_advance".into(), Value::String(normalized));
            }
            Some(Err(message)) => errors.add(&field, message),
            None => {
                errors.add(&field, "must be an ISO 8601 duration such as P1W, P1D, PT2H or P1DT12H (null removes it)")
            }
        }
    }
    if let Some(value) = document.get("default_location_id") {
        match value.as_str().and_then(|s| Uuid::parse_str(s.trim()).ok()) {
            Some(id) => {
                out.insert("default_location_id".into(), Value::String(id.to_string()));
            }
            None => errors.add(format!("{prefix}default_location_id"), "must be a location's id (null removes it)"),
        }
    }
    if let Some(value) = document.get("app") {
        let field = format!("{prefix}app");
        match value {
            Value::Object(app) => {
                let size = serde_json::to_vec(app).map(|v| v.len()).unwrap_or(usize::MAX);
                if size > MAX_APP_BYTES {
                    errors.add(&field, format!("must be at most {MAX_APP_BYTES} bytes of JSON"));
                } else if !app.is_empty() {
                    out.insert("app".into(), value.clone());
                }
            }
            _ => errors.add(&field, "must be a JSON object"),
        }
    }
    if errors.is_empty() {
        let settings = Settings::from_document(&out);
        Ok(CheckedSettings { document: out, settings })
    } else {
        Err(errors)
    }
}

/// `^[a-z][a-z0-9_]{0,39}$`.
fn channel_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A reminder advance, normalized: an ISO 8601 duration (`P[nY][nM][nW][nD]
/// [T[nH][nM][nS]]`, whole numbers, case-insensitive) or seed 003's
/// `<n>_<UNIT>` (`1_WEEK`, `2_DAYS`, `30_MINUTES`). Longer than nothing, at
/// most a year.
pub fn parse_advance(raw: &str) -> Result<String, String> {
    const BAD: &str = "must be an ISO 8601 duration such as P1W, P1D, PT2H or P1DT12H";
    let s = raw.trim().to_ascii_uppercase();
    let parts = legacy_advance(&s).or_else(|| iso_duration(&s)).ok_or_else(|| BAD.to_string())?;
    let secs = parts.approx_secs().ok_or_else(|| "must be at most a year".to_string())?;
    if secs == 0 {
        return Err("must be longer than nothing".into());
    }
    if secs > MAX_ADVANCE_SECS {
        return Err("must be at most a year".into());
    }
    Ok(parts.normalized())
}

/// The components of a duration.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Duration {
    years: u64,
    months: u64,
    days: u64,
    hours: u64,
    minutes: u64,
    seconds: u64,
}

impl Duration {
    /// Its length in seconds, counting a year as 365 days and a month as 31:
    /// only to bound it. `None` on overflow.
    fn approx_secs(&self) -> Option<u64> {
        let days = self.years.checked_mul(365)?.checked_add(self.months.checked_mul(31)?)?.checked_add(self.days)?;
        days.checked_mul(86_400)?
            .checked_add(self.hours.checked_mul(3_600)?)?
            .checked_add(self.minutes.checked_mul(60)?)?
            .checked_add(self.seconds)
    }

    /// The canonical spelling: seconds carried into minutes and minutes into
    /// hours (hours are not carried into days, nor days into months: those
    /// are calendar lengths), whole weeks alone as `W`, no zero component.
    fn normalized(mut self) -> String {
        self.minutes += self.seconds / 60;
        self.seconds %= 60;
        self.hours += self.minutes / 60;
        self.minutes %= 60;
        let time = self.hours + self.minutes + self.seconds > 0;
        if self.years == 0 && self.months == 0 && !time && self.days.is_multiple_of(7) {
            return format!("P{}W", self.days / 7);
        }
        let mut out = String::from("P");
        for (n, unit) in [(self.years, 'Y'), (self.months, 'M'), (self.days, 'D')] {
            if n > 0 {
                out.push_str(&format!("{n}{unit}"));
            }
        }
        if time {
            out.push('T');
            for (n, unit) in [(self.hours, 'H'), (self.minutes, 'M'), (self.seconds, 'S')] {
                if n > 0 {
                    out.push_str(&format!("{n}{unit}"));
                }
            }
        }
        out
    }
}

/// `<n>_<UNIT>[S]` (upper-cased already).
fn legacy_advance(s: &str) -> Option<Duration> {
    let (n, unit) = s.split_once('_')?;
    if n.is_empty() || n.len() > 6 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = n.parse().ok()?;
    let mut d = Duration::default();
    match unit.strip_suffix('S').unwrap_or(unit) {
        "MINUTE" => d.minutes = n,
        "HOUR" => d.hours = n,
        "DAY" => d.days = n,
        "WEEK" => d.days = n.checked_mul(7)?,
        "MONTH" => d.months = n,
        _ => return None,
    }
    Some(d)
}

/// `P[nY][nM][nW][nD][T[nH][nM][nS]]`, each component at most once and in
/// order, at least one; `T` only before a time component.
fn iso_duration(s: &str) -> Option<Duration> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut d = Duration::default();
    let mut any = false;
    let mut weeks = 0u64;
    {
        let mut slots: [(&mut u64, char); 4] =
            [(&mut d.years, 'Y'), (&mut d.months, 'M'), (&mut weeks, 'W'), (&mut d.days, 'D')];
        any |= components(date, &mut slots)?;
    }
    if let Some(time) = time {
        let mut slots: [(&mut u64, char); 3] = [(&mut d.hours, 'H'), (&mut d.minutes, 'M'), (&mut d.seconds, 'S')];
        let found = components(time, &mut slots)?;
        if !found {
            return None;
        }
        any = true;
    }
    d.days = d.days.checked_add(weeks.checked_mul(7)?)?;
    any.then_some(d)
}

/// Reads `<digits><unit>` pairs into the slots, whose units must come in
/// their order; `Some(false)` for an empty string.
fn components(mut s: &str, slots: &mut [(&mut u64, char)]) -> Option<bool> {
    let mut next = 0;
    let mut any = false;
    while !s.is_empty() {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let n: u64 = s[..digits].parse().ok()?;
        let unit = s[digits..].chars().next()?;
        let at = slots[next..].iter().position(|(_, u)| *u == unit)? + next;
        *slots[at].0 = n;
        next = at + 1;
        any = true;
        s = &s[digits + unit.len_utf8()..];
    }
    Some(any)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // The examples of RFC 7396, appendix A, that start from objects.
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": "b", "b": "c"}), json!({"a": null}), json!({"b": "c"})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
            (json!({"a": "foo"}), json!({"a": {"b": 1}}), json!({"a": {"b": 1}})),
        ];
        for (target, patch, expected) in cases {
            let mut t = object(target);
            merge_patch(&mut t, &object(patch.clone()));
            assert_eq!(Value::Object(t), expected, "patch {patch}");
        }
    }

    #[test]
    fn a_document_is_checked_whole_and_normalized() {
        let doc = object(json!({
            "notifications": {"invites": true, "booking_reminder": false},
            "reminder_advance": "p7d",
            "default_location_id": "0194b3a0-0000-7000-8000-000000000001",
            "app": {"theme": "dark"}
        }));
        let checked = check_document(doc, "").unwrap();
        assert_eq!(checked.settings.reminder_advance.as_deref(), Some("P1W"));
        assert_eq!(checked.settings.notifications.get("invites"), Some(&true));
        assert_eq!(checked.document["reminder_advance"], json!("P1W"));
        assert_eq!(Settings::from_document(&checked.document), checked.settings);
    }

    #[test]
    fn every_bad_key_is_named() {
        let doc = object(json!({
            "notifications": {"Invites": true, "email": "yes"},
            "reminder_advance": "soon",
            "default_location_id": 7,
            "app": [1],
            "colour": "red",
            "theme": null
        }));
        let errors = check_document(doc, "settings.").unwrap_err();
        assert_eq!(
            errors.fields().collect::<Vec<_>>(),
            [
                "settings.app",
                "settings.colour",
                "settings.default_location_id",
                "settings.notifications.Invites",
                "settings.notifications.email",
                "settings.reminder_advance",
                "settings.theme",
            ]
        );
    }

    #[test]
    fn limits_hold() {
        let many: Map<String, Value> =
            (0..=MAX_NOTIFICATION_CHANNELS).map(|i| (format!("c{i}"), json!(true))).collect();
        let errors = check_document(object(json!({"notifications": many})), "").unwrap_err();
        assert!(errors.get("notifications").is_some());
        let big = "x".repeat(MAX_APP_BYTES);
        assert!(check_document(object(json!({"app": {"k": big}})), "").unwrap_err().get("app").is_some());
        let fits = "x".repeat(MAX_APP_BYTES - 10);
        assert!(check_document(object(json!({"app": {"k": fits}})), "").is_ok());
        assert!(channel_name_ok(&format!("a{}", "b".repeat(39))));
        assert!(!channel_name_ok(&format!("a{}", "b".repeat(40))));
        assert!(!channel_name_ok("9lives"));
        assert!(!channel_name_ok(""));
    }

    #[test]
    fn empty_members_are_not_kept() {
        let checked = check_document(object(json!({"notifications": {}, "app": {}})), "").unwrap();
        assert!(checked.document.is_empty());
        assert_eq!(checked.settings, Settings::default());
    }

    #[test]
    fn reminder_advances_are_normalized() {
        for (raw, expected) in [
            ("P1W", "P1W"),
            ("P1D", "P1D"),
            ("PT2H", "PT2H"),
            ("P1DT12H", "P1DT12H"),
            ("p14d", "P2W"),
            ("P1W2D", "P9D"),
            ("PT90M", "PT1H30M"),
            ("PT36H", "PT36H"),
            ("PT3600S", "PT1H"),
            ("P1M", "P1M"),
            ("P1Y", "P1Y"),
            ("1_WEEK", "P1W"),
            ("2_DAYS", "P2D"),
            ("30_MINUTES", "PT30M"),
            (" P0DT1H ", "PT1H"),
        ] {
            assert_eq!(parse_advance(raw).as_deref(), Ok(expected), "{raw}");
        }
        for raw in [
            "", "P", "PT", "P1", "1W", "P1H", "PT1D", "P1D1W", "P1.5D", "P-1D", "PT0S", "P0D", "P2Y", "P400D",
            "1_YEAR", "_WEEK", "P1DT",
        ] {
            assert!(parse_advance(raw).is_err(), "{raw}");
        }
    }
}
