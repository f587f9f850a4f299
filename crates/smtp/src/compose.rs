//! The [`Composer`]: renders [`Letter`]s into subject, plain text and HTML
//! with minijinja, in the recipient's locale.
//!
//! The two layouts (`templates/layout.html`, `templates/layout.txt`) and the
//! string tables (`templates/locales/*.json`) are embedded in the binary.
//! Every dynamic value reaches the HTML through minijinja's auto-escaping.

mod strings;

use std::borrow::Cow;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Output, State, UndefinedBehavior};
use roster_domain::auth::OneTimeToken;
use roster_domain::mail::{Letter, LetterBody};
use roster_domain::values::Email;
use roster_domain::{mail::OutgoingMail, ports::MailComposer};
use serde::Serialize;

use strings::{Notice, Strings, TokenMessage};

/// The locales letters are written in; anything else falls back to `en`.
pub const LOCALES: [&str; 4] = ["en", "fr", "da", "de"];

/// From how many unused recovery codes down a letter urges a new set.
const FEW_RECOVERY_CODES: u32 = 3;

const LAYOUT_HTML: &str = "layout.html";
const LAYOUT_TEXT: &str = "layout.txt";

const TABLES: [&str; 4] = [
    include_str!("../templates/locales/en.json"),
    include_str!("../templates/locales/fr.json"),
    include_str!("../templates/locales/da.json"),
    include_str!("../templates/locales/de.json"),
];

/// Link templates per flow. Each must contain `{token}` (replaced by the
/// percent-encoded token) and may contain `{public_url}` (replaced by the
/// public URL without its trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTemplates {
    /// Email verification after registration or creation by an administrator.
    pub verify_email: String,
    /// Confirmation of a new address.
    pub change_email: String,
    /// Password reset, asked by the user or an administrator.
    pub reset_password: String,
    /// Invitation: set a password to activate the account.
    pub invitation: String,
    /// Invitation into an organization: accept to become a member (creating
    /// an account if the address has none).
    pub org_invitation: String,
}

impl Default for LinkTemplates {
    fn default() -> Self {
        LinkTemplates {
            verify_email: "{public_url}/verify-email?token={token}".into(),
            change_email: "{public_url}/verify-email?token={token}".into(),
            reset_password: "{public_url}/reset-password?token={token}".into(),
            invitation: "{public_url}/accept-invitation?token={token}".into(),
            org_invitation: "{public_url}/join-organization?token={token}".into(),
        }
    }
}

/// What the composer needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposerConfig {
    /// Shown in subjects and bodies ("Roster" by default).
    pub product_name: String,
    /// Base URL used in default links and for the Message-ID domain (e.g. "http://127.0.0.1:8080").
    pub public_url: String,
    /// Link templates per flow; each must contain `{token}`; may contain `{public_url}`.
    pub links: LinkTemplates,
}

impl Default for ComposerConfig {
    fn default() -> Self {
        ComposerConfig {
            product_name: "Roster".into(),
            public_url: "http://127.0.0.1:8080".into(),
            links: LinkTemplates::default(),
        }
    }
}

/// Renders letters with the embedded templates. Built once at start-up
/// (which renders a sample of every letter in every locale, so a broken
/// template or translation fails there); composing is then pure and fast.
#[derive(Debug)]
pub struct Composer {
    env: Environment<'static>,
    tables: Vec<Strings>,
    product: String,
    public_url: String,
    host: String,
    links: LinkTemplates,
}

/// What the layouts render. Every string is plain text: the HTML layout
/// escapes it.
#[derive(Serialize)]
struct View<'a> {
    lang: &'a str,
    product: &'a str,
    subject: &'a str,
    greeting: String,
    body: Vec<String>,
    action: Option<Action>,
    closing: String,
    footer: String,
}

/// The strings of one message, whichever its kind.
struct Parts<'a> {
    subject: &'a str,
    body: &'a [String],
    /// The button label, for a letter with a link.
    action: Option<&'a str>,
    closing: &'a str,
}

impl<'a> From<&'a TokenMessage> for Parts<'a> {
    fn from(m: &'a TokenMessage) -> Self {
        Parts { subject: &m.subject, body: &m.body, action: Some(&m.action), closing: &m.closing }
    }
}

impl<'a> From<&'a Notice> for Parts<'a> {
    fn from(m: &'a Notice) -> Self {
        Parts { subject: &m.subject, body: &m.body, action: None, closing: &m.closing }
    }
}

/// The call to action of a letter with a link.
#[derive(Serialize)]
struct Action {
    label: String,
    /// The label as it introduces the link in the text part ("Label:").
    text_label: String,
    url: String,
    hint: String,
    validity: String,
}

impl Composer {
    /// Checks the configuration, compiles the layouts, parses the string
    /// tables and renders every letter in every locale once.
    pub fn new(config: ComposerConfig) -> Result<Composer, String> {
        let product = config.product_name.trim().to_owned();
        if product.is_empty() {
            return Err("mail composer: the product name is empty".into());
        }
        let public_url = config.public_url.trim().trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&public_url).map_err(|e| format!("mail composer: public URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("mail composer: public URL scheme {:?} (expected http or https)", parsed.scheme()));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err("mail composer: the public URL has a query or fragment".into());
        }
        let host = match parsed.host_str() {
            Some(h) if !h.is_empty() => h.to_owned(),
            _ => return Err("mail composer: public URL without a host".into()),
        };

        let tables =
            LOCALES.iter().zip(TABLES).map(|(locale, json)| strings::parse(locale, json)).collect::<Result<_, _>>()?;
        let composer = Composer { env: environment()?, tables, product, public_url, host, links: config.links };

        let sample = OneTimeToken::generate();
        for (flow, template) in composer.link_templates() {
            if !template.contains("{token}") {
                return Err(format!("mail composer: the {flow} link template has no {{token}}: {template:?}"));
            }
            let link = composer.link(template, &sample).map_err(|e| format!("mail composer: {flow} link: {e}"))?;
            url::Url::parse(&link).map_err(|e| format!("mail composer: the {flow} link {link:?} is no URL: {e}"))?;
        }
        for locale in LOCALES {
            for letter in samples(locale, &sample) {
                composer
                    .compose(&letter)
                    .map_err(|e| format!("mail composer: {} in {locale}: {e}", letter.body.template().as_str()))?;
            }
        }
        Ok(composer)
    }

    fn link_templates(&self) -> [(&'static str, &str); 5] {
        let l = &self.links;
        [
            ("verify_email", l.verify_email.as_str()),
            ("change_email", l.change_email.as_str()),
            ("reset_password", l.reset_password.as_str()),
            ("invitation", l.invitation.as_str()),
            ("org_invitation", l.org_invitation.as_str()),
        ]
    }

    /// The link of `template` for `token`.
    fn link(&self, template: &str, token: &OneTimeToken) -> Result<String, String> {
        strings::fill(template, &[("public_url", &self.public_url), ("token", &percent_encode(token.expose()))])
    }

    fn table(&self, locale: &str) -> Result<&Strings, String> {
        let index = LOCALES.iter().position(|l| *l == locale).unwrap_or(0);
        self.tables.get(index).ok_or_else(|| format!("no string table for {locale}"))
    }
}

impl MailComposer for Composer {
    fn compose(&self, letter: &Letter) -> Result<OutgoingMail, String> {
        let lang = locale_of(letter.locale.as_deref());
        let table = self.table(lang)?;
        let (m, counts, links) = (&table.messages, &table.counts, &self.links);
        let product = self.product.as_str();
        // The strings of the letter, its link (template, token, validity) and
        // its placeholders besides {product}.
        let (parts, link, extra): (Parts<'_>, _, Vec<(&str, Cow<'_, str>)>) = match &letter.body {
            LetterBody::VerifyEmail { token, valid_for } => {
                (Parts::from(&m.verify_email), Some((&links.verify_email, token, *valid_for)), vec![])
            }
            LetterBody::ConfirmEmailChange { token, valid_for, new_email } => (
                Parts::from(&m.confirm_email_change),
                Some((&links.change_email, token, *valid_for)),
                vec![("new_email", new_email.into())],
            ),
            LetterBody::EmailChangeNotice { new_email } => {
                (Parts::from(&m.email_change_notice), None, vec![("new_email", new_email.into())])
            }
            LetterBody::EmailInUse => (Parts::from(&m.email_in_use), None, vec![]),
            LetterBody::PasswordReset { token, valid_for, by_admin } => {
                let msg = if *by_admin { &m.password_reset_by_admin } else { &m.password_reset };
                (Parts::from(msg), Some((&links.reset_password, token, *valid_for)), vec![])
            }
            LetterBody::PasswordChanged { reset } => {
                (Parts::from(if *reset { &m.password_changed_by_reset } else { &m.password_changed }), None, vec![])
            }
            LetterBody::Invitation { token, valid_for, inviter } => {
                let link = Some((&links.invitation, token, *valid_for));
                match inviter.as_deref().map(str::trim) {
                    Some(inviter) if !inviter.is_empty() => {
                        (Parts::from(&m.invitation_from), link, vec![("inviter", inviter.into())])
                    }
                    _ => (Parts::from(&m.invitation), link, vec![]),
                }
            }
            LetterBody::OrgInvitation { token, valid_for, inviter, organization } => {
                let link = Some((&links.org_invitation, token, *valid_for));
                let organization = ("organization", organization.trim().into());
                match inviter.as_deref().map(str::trim) {
                    Some(inviter) if !inviter.is_empty() => {
                        (Parts::from(&m.org_invitation_from), link, vec![("inviter", inviter.into()), organization])
                    }
                    _ => (Parts::from(&m.org_invitation), link, vec![organization]),
                }
            }
            LetterBody::MfaEnabled => (Parts::from(&m.mfa_enabled), None, vec![]),
            LetterBody::MfaDisabled { by_admin } => {
                (Parts::from(if *by_admin { &m.mfa_disabled_by_admin } else { &m.mfa_disabled }), None, vec![])
            }
            LetterBody::RecoveryCodeUsed { remaining } => {
                let msg = match *remaining {
                    0 => &m.recovery_code_used_none_left,
                    n if n <= FEW_RECOVERY_CODES => &m.recovery_code_used_few_left,
                    _ => &m.recovery_code_used,
                };
                (Parts::from(msg), None, vec![("remaining", counts.recovery_codes.count((*remaining).into())?.into())])
            }
            LetterBody::MfaCodeReused => (Parts::from(&m.mfa_code_reused), None, vec![]),
            LetterBody::AccountLocked { failures, locked_for } => (
                Parts::from(&m.account_locked),
                None,
                vec![
                    ("failures", counts.failed_sign_ins.count((*failures).into())?.into()),
                    ("minutes", counts.minutes.count(strings::whole_minutes(*locked_for))?.into()),
                ],
            ),
            LetterBody::LoginBlocked { ip } => (Parts::from(&m.login_blocked), None, vec![("ip", ip.trim().into())]),
        };
        let vars: Vec<(&str, &str)> =
            std::iter::once(("product", product)).chain(extra.iter().map(|(k, v)| (*k, v.as_ref()))).collect();
        let fill = |text: &str| strings::fill(text, &vars);

        let action = match (parts.action, link) {
            (Some(label), Some((template, token, valid_for))) => {
                let label = fill(label)?;
                Some(Action {
                    text_label: strings::fill(&table.text_action, &[("action", &label)])?,
                    label,
                    url: self.link(template, token)?,
                    hint: fill(&table.link_hint)?,
                    validity: strings::validity(&table.valid_for, valid_for)?,
                })
            }
            (None, None) => None,
            _ => return Err("a letter with a link needs a button label, and only it".into()),
        };
        let subject = fill(parts.subject)?;
        let body = parts.body.iter().map(|p| fill(p)).collect::<Result<Vec<_>, _>>()?;
        if body.is_empty() {
            return Err("a message without a body".into());
        }
        let closing = fill(parts.closing)?;
        let greeting = match letter.to_name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => strings::fill(&table.greeting, &[("name", name)])?,
            _ => table.greeting_anonymous.clone(),
        };
        let view = View {
            lang,
            product,
            subject: &subject,
            greeting,
            body,
            action,
            closing,
            footer: strings::fill(&table.footer, &[("product", product)])?,
        };
        let html = self.render(LAYOUT_HTML, &view)?;
        let text = self.render(LAYOUT_TEXT, &view)?;
        Ok(OutgoingMail {
            message_id: format!("<{}@{}>", letter.id, self.host),
            to: letter.to.clone(),
            to_name: letter.to_name.clone(),
            subject,
            text,
            html,
        })
    }
}

impl Composer {
    fn render(&self, name: &str, view: &View<'_>) -> Result<String, String> {
        let template = self.env.get_template(name).map_err(|e| format!("{name}: {e}"))?;
        template.render(view).map_err(|e| format!("{name}: {e}"))
    }
}

/// The supported locale of a BCP 47 tag: its primary subtag, lowercased
/// (`fr-CA` → `fr`); anything unsupported, or none, is `en`.
fn locale_of(tag: Option<&str>) -> &'static str {
    let primary = tag.and_then(|t| t.trim().split(['-', '_']).next()).unwrap_or_default().to_ascii_lowercase();
    LOCALES.into_iter().find(|l| *l == primary).unwrap_or("en")
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The layouts, auto-escaped by name (`.html`: HTML; `.txt`: none), with
/// undefined variables as errors.
fn environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_formatter(format_value);
    env.add_template(LAYOUT_HTML, include_str!("../templates/layout.html"))
        .map_err(|e| format!("{LAYOUT_HTML}: {e}"))?;
    env.add_template(LAYOUT_TEXT, include_str!("../templates/layout.txt"))
        .map_err(|e| format!("{LAYOUT_TEXT}: {e}"))?;
    Ok(env)
}

/// minijinja's formatter, except that HTML escaping leaves `/` alone (the
/// default writes `&#x2f;`, which makes every URL in the source unreadable
/// and looks like obfuscation to spam filters). `& < > " '` are escaped.
fn format_value(out: &mut Output, state: &State, value: &Value) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(s)) if !value.is_safe() => {
            let mut last = 0;
            for (i, c) in s.char_indices() {
                let entity = match c {
                    '&' => "&amp;",
                    '<' => "&lt;",
                    '>' => "&gt;",
                    '"' => "&quot;",
                    '\'' => "&#x27;",
                    _ => continue,
                };
                out.write_str(&s[last..i]).map_err(write_error)?;
                out.write_str(entity).map_err(write_error)?;
                last = i + c.len_utf8();
            }
            out.write_str(&s[last..]).map_err(write_error)
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn write_error(_: std::fmt::Error) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "formatter write failed")
}

/// One letter of every template and variant, rendered at start-up.
fn samples(locale: &str, token: &OneTimeToken) -> Vec<Letter> {
    use chrono::Duration;
    let (minutes, hours, days) = (Duration::minutes, Duration::hours, Duration::days);
    let bodies = [
        LetterBody::VerifyEmail { token: token.clone(), valid_for: hours(48) },
        LetterBody::ConfirmEmailChange {
            token: token.clone(),
            valid_for: hours(1),
            new_email: "new@example.com".into(),
        },
        LetterBody::EmailChangeNotice { new_email: "new@example.com".into() },
        LetterBody::EmailInUse,
        LetterBody::PasswordReset { token: token.clone(), valid_for: minutes(30), by_admin: false },
        LetterBody::PasswordReset { token: token.clone(), valid_for: hours(1), by_admin: true },
        LetterBody::PasswordChanged { reset: false },
        LetterBody::PasswordChanged { reset: true },
        LetterBody::Invitation { token: token.clone(), valid_for: days(7), inviter: None },
        LetterBody::Invitation { token: token.clone(), valid_for: minutes(1), inviter: Some("Alice".into()) },
        LetterBody::OrgInvitation {
            token: token.clone(),
            valid_for: days(7),
            inviter: None,
            organization: "Acme & Co".into(),
        },
        LetterBody::OrgInvitation {
            token: token.clone(),
            valid_for: hours(1),
            inviter: Some("Alice".into()),
            organization: "Acme & Co".into(),
        },
        LetterBody::MfaEnabled,
        LetterBody::MfaDisabled { by_admin: false },
        LetterBody::MfaDisabled { by_admin: true },
        LetterBody::RecoveryCodeUsed { remaining: 8 },
        LetterBody::RecoveryCodeUsed { remaining: FEW_RECOVERY_CODES },
        LetterBody::RecoveryCodeUsed { remaining: 1 },
        LetterBody::RecoveryCodeUsed { remaining: 0 },
        LetterBody::MfaCodeReused,
        LetterBody::AccountLocked { failures: 5, locked_for: minutes(15) },
        LetterBody::AccountLocked { failures: 1, locked_for: Duration::seconds(30) },
        LetterBody::LoginBlocked { ip: "2001:db8::1".into() },
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| Letter {
            id: uuid::Uuid::from_u128(i as u128),
            to: Email::from_trusted("sample@example.com".into()),
            to_name: (i % 2 == 0).then(|| "Sample".to_owned()),
            locale: Some(locale.to_owned()),
            body,
        })
        .collect()
}
