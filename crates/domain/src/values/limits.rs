//! The limits the validators enforce, in one place: the parsers use these
//! constants, and the OpenAPI document is generated from them
//! ([`crate::values::schema`]), so the two cannot drift apart.

/// Lengths count the characters of a value as it was sent, before the
/// validators trim it, as JSON Schema's `maxLength` does.
///
/// Most characters of an email address (and, trimmed, at most as many bytes).
pub const EMAIL_MAX: usize = 254;
/// Most characters of a name: a person's full name, an organization's, a location's.
pub const NAME_MAX: usize = 200;
/// Most characters of a short text: given and family names, profile fields,
/// role titles, location keywords, API key names.
pub const SHORT_TEXT_MAX: usize = 100;
/// Most characters of a description (of a role or a registered permission).
pub const DESCRIPTION_MAX: usize = 500;
/// Most characters of an organization's slug and of a role name.
pub const IDENTIFIER_MAX: usize = 63;
/// Most bytes of a permission name (`resource:action`).
pub const PERMISSION_MAX: usize = 64;
/// Most keywords on a location, and most permissions on a role, a member or a key.
pub const MAX_ITEMS: usize = 100;

/// Highest page number of an offset-paged list.
pub const MAX_PAGE: u32 = 1_000_000;
/// Largest page size.
pub const MAX_PER_PAGE: u32 = 100;
/// The page size when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// Most characters of a text query parameter (`q`, `name`) and of each value of a comma list.
pub const QUERY_TEXT_MAX: usize = 254;
/// Most values in a comma-list query parameter (`email`, `status`, `role`, …).
pub const QUERY_LIST_MAX: usize = 50;

macro_rules! trimmed_chars {
    () => {
        r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}

/// The characters `str::trim` removes (Unicode `White_Space`), as a regex
/// class: the validators trim before they check, so the patterns allow them
/// around the value.
pub const TRIMMED: &str = concat!("[", trimmed_chars!(), "]");
/// What [`TRIMMED`] matches, as the inside of a regex class.
pub const TRIMMED_CHARS: &str = trimmed_chars!();
/// Control characters (Unicode `Cc`), which text fields refuse.
pub const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// Whitespace that is not a control character.
const SPACE: &str = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// The shape of [`BoundedText`](crate::values::BoundedText): after
/// trimming, not blank, and no control character. (Its length, counted as
/// sent, is the field's `maxLength`.)
pub fn text_pattern() -> String {
    let visible = format!("[^{CONTROL}{SPACE}]");
    format!("^{TRIMMED}*{visible}(?:[^{CONTROL}]*{visible})?{TRIMMED}*$")
}

/// The shape of an organization's slug, around which the validator trims.
pub fn slug_pattern() -> String {
    format!("^{TRIMMED}*[a-z0-9][a-z0-9-]*{TRIMMED}*$")
}

/// The shape of a role name, around which the validator trims.
pub fn role_name_pattern() -> String {
    format!("^{TRIMMED}*[a-z0-9][a-z0-9_-]*{TRIMMED}*$")
}

/// The shape of a permission name, `resource:action`, around which the
/// validator trims.
pub fn permission_pattern() -> String {
    format!("^{TRIMMED}*[a-z][a-z0-9_]*:[a-z][a-z0-9_]*{TRIMMED}*$")
}

/// Most characters of a phone number as sent.
pub const PHONE_MAX: usize = 32;
/// Fewest and most digits of a phone number.
pub const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 3..=20;

/// The shape of a phone number: an optional leading `+`, then digits
/// ([`PHONE_DIGITS`] of them) with spaces, `-`, `.`, `(` and `)`.
pub fn phone_pattern() -> String {
    let (fewest, most) = (PHONE_DIGITS.start(), PHONE_DIGITS.end());
    format!(r"^{TRIMMED}*\+?(?:[ .()-]*[0-9]){{{fewest},{most}}}[ .()-]*{TRIMMED}*$")
}

/// The shape of a BCP 47 language tag as [`Locale`](crate::values::Locale)
/// takes it: `language[-Script][-REGION]`, `_` or `-` between, any case.
pub fn locale_pattern() -> String {
    format!("^{TRIMMED}*[A-Za-z]{{2,3}}(?:[-_][A-Za-z]{{4}})?(?:[-_](?:[A-Za-z]{{2}}|[0-9]{{3}}))?{TRIMMED}*$")
}

/// Every name of the tz database that [`TimeZone`](crate::values::TimeZone)
/// takes, as one alternation.
pub fn time_zone_pattern() -> String {
    let names: Vec<String> = chrono_tz::TZ_VARIANTS.iter().map(|tz| escape(tz.name())).collect();
    format!("^{TRIMMED}*(?:{}){TRIMMED}*$", names.join("|"))
}

/// `s` with the regex metacharacters escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A comma list of `item`s as the list filters read it: values trimmed,
/// empty ones skipped, at least one given. (At most [`QUERY_LIST_MAX`] of
/// them, which the pattern does not say.)
pub fn comma_list_pattern(item: &str) -> String {
    let empty = format!("{TRIMMED}*");
    let value = format!("{TRIMMED}*(?:{item}){TRIMMED}*");
    format!("^(?:{empty},)*{value}(?:,(?:{value}|{empty}))*$")
}

/// `word` in any ASCII case, as a regex: `[aA][bB]…`.
pub fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
            } else {
                escape(&c.to_string())
            }
        })
        .collect()
}

/// A UUID in every form `Uuid::parse_str` takes: simple, hyphenated,
/// braced and URN.
pub fn uuid_pattern() -> String {
    let h = "[0-9a-fA-F]";
    let hyphenated = format!("{h}{{8}}-{h}{{4}}-{h}{{4}}-{h}{{4}}-{h}{{12}}");
    format!(r"{h}{{32}}|{hyphenated}|\{{{hyphenated}\}}|urn:uuid:{hyphenated}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regex::Regex;

    use super::*;
    use crate::{
        auth::PermissionName,
        org::input::{role_name, slug},
        values::{BoundedText, Locale, Phone, TimeZone},
    };

    /// Whether `s` conforms to a string schema of `pattern` and `max` characters.
    fn conforms(pattern: &str, max: Option<usize>, s: &str) -> bool {
        let re = Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        re.is_match(s) && max.is_none_or(|m| s.chars().count() <= m)
    }

    type Check = (String, Option<usize>, fn(&str) -> bool);

    fn checks() -> Vec<Check> {
        vec![
            (text_pattern(), Some(SHORT_TEXT_MAX), |s| BoundedText::<SHORT_TEXT_MAX>::parse(s).is_ok()),
            (slug_pattern(), Some(IDENTIFIER_MAX), |s| slug(s).is_ok()),
            (role_name_pattern(), Some(IDENTIFIER_MAX), |s| role_name(s).is_ok()),
            (permission_pattern(), Some(PERMISSION_MAX), |s| PermissionName::parse(s).is_ok()),
            (phone_pattern(), Some(PHONE_MAX), |s| Phone::parse(s).is_ok()),
            (locale_pattern(), None, |s| Locale::parse(s).is_ok()),
            (time_zone_pattern(), None, |s| TimeZone::parse(s).is_ok()),
        ]
    }

    const SAMPLES: [&str; 24] = [
        "",
        " ",
        "a",
        " a ",
        "\ta\n",
        "a\u{7}b",
        "a b",
        "\u{3000}x\u{2009}",
        "-a",
        "a-b_c",
        "A",
        "users:read",
        " users:read ",
        "users:",
        ":read",
        "a1:b_2",
        "+45 12 34 56 78",
        "(555) 123-4567",
        "12",
        "fr_ca",
        "zh-Hant-TW",
        "es-419",
        "Europe/Copenhagen",
        " UTC ",
    ];

    #[test]
    fn the_documented_patterns_accept_what_the_validators_accept() {
        let long = [
            "a".repeat(IDENTIFIER_MAX),
            "a".repeat(IDENTIFIER_MAX + 1),
            format!(" {}", "a".repeat(IDENTIFIER_MAX)),
            format!("a:{}", "b".repeat(PERMISSION_MAX - 2)),
            format!("a:{}", "b".repeat(PERMISSION_MAX - 1)),
            "x".repeat(SHORT_TEXT_MAX + 1),
            format!("+{}", "1".repeat(21)),
        ];
        for (pattern, max, valid) in checks() {
            for s in SAMPLES.iter().copied().chain(long.iter().map(String::as_str)) {
                assert_eq!(conforms(&pattern, max, s), valid(s), "{s:?} against {pattern:.80}");
            }
        }
    }

    proptest! {
        #[test]
        fn random_strings_agree(s in "[ \\t\\n\\u{3000}\\u{85}a-zA-Z0-9:_+().\\-/\\u{7}é]{0,70}") {
            for (pattern, max, valid) in checks() {
                prop_assert_eq!(conforms(&pattern, max, &s), valid(&s), "{:?} against {:.80}", s, pattern);
            }
        }
    }
}
