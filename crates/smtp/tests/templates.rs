//! The mail composer: every template in every locale, locale selection,
//! escaping, links, validity sentences, Message-ID, and a round trip
//! through the SMTP mailer.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration as StdDuration;

use chrono::Duration;
use roster_domain::auth::OneTimeToken;
use roster_domain::mail::{Letter, LetterBody, MailTemplate};
use roster_domain::values::Email;
use roster_domain::{
    mail::OutgoingMail,
    ports::{MailComposer, Mailer},
};
use roster_smtp::{Composer, ComposerConfig, LinkTemplates, MailerConfig, SmtpMailer, LOCALES};
use roster_testkit::smtp::parse;
use roster_testkit::TestSmtpServer;
use uuid::Uuid;

const PUBLIC_URL: &str = "http://127.0.0.1:8080";

fn config() -> ComposerConfig {
    ComposerConfig { public_url: format!("{PUBLIC_URL}/"), ..ComposerConfig::default() }
}

fn composer() -> Composer {
    Composer::new(config()).unwrap()
}

fn letter(body: LetterBody, locale: Option<&str>, to_name: Option<&str>) -> Letter {
    Letter {
        id: Uuid::now_v7(),
        to: Email::from_trusted("søren@example.com".into()),
        to_name: to_name.map(str::to_owned),
        locale: locale.map(str::to_owned),
        body,
    }
}

/// One body of each template, and the link path it must carry (if any).
fn bodies(token: &OneTimeToken) -> Vec<(LetterBody, Option<&'static str>)> {
    let t = || token.clone();
    vec![
        (LetterBody::VerifyEmail { token: t(), valid_for: Duration::hours(48) }, Some("/verify-email?token=")),
        (
            LetterBody::ConfirmEmailChange {
                token: t(),
                valid_for: Duration::hours(1),
                new_email: "new@example.com".into(),
            },
            Some("/verify-email?token="),
        ),
        (LetterBody::EmailChangeNotice { new_email: "new@example.com".into() }, None),
        (LetterBody::EmailInUse, None),
        (
            LetterBody::PasswordReset { token: t(), valid_for: Duration::hours(1), by_admin: false },
            Some("/reset-password?token="),
        ),
        (LetterBody::PasswordChanged { reset: false }, None),
        (
            LetterBody::Invitation { token: t(), valid_for: Duration::days(7), inviter: None },
            Some("/accept-invitation?token="),
        ),
        (
            LetterBody::OrgInvitation {
                token: t(),
                valid_for: Duration::days(7),
                inviter: Some("Ada Lovelace".into()),
                organization: "Acme".into(),
            },
            Some("/join-organization?token="),
        ),
        (LetterBody::MfaEnabled, None),
        (LetterBody::MfaDisabled { by_admin: false }, None),
        (LetterBody::RecoveryCodeUsed { remaining: 2 }, None),
        (LetterBody::MfaCodeReused, None),
        (LetterBody::AccountLocked { failures: 5, locked_for: Duration::minutes(15) }, None),
        (LetterBody::LoginBlocked { ip: "203.0.113.7".into() }, None),
    ]
}

#[test]
fn every_template_renders_in_every_locale() {
    let c = composer();
    let token = OneTimeToken::generate();
    let bodies = bodies(&token);
    assert_eq!(bodies.len(), MailTemplate::ALL.len());
    for template in MailTemplate::ALL {
        assert!(bodies.iter().any(|(b, _)| b.template() == template), "{template:?} not covered");
    }
    for locale in LOCALES {
        for (body, path) in &bodies {
            for name in [Some("Søren Ålund"), None] {
                let m = c.compose(&letter(body.clone(), Some(locale), name)).unwrap();
                let what = format!("{locale} {:?}", body.template());
                assert!(!m.subject.trim().is_empty(), "{what}");
                assert!(!m.subject.contains(['{', '}', '\n']), "{what}: {}", m.subject);
                assert!(m.subject.contains("Roster"), "{what}: {}", m.subject);
                assert!(!m.text.trim().is_empty() && !m.html.trim().is_empty(), "{what}");
                assert!(m.html.contains(&format!("<html lang=\"{locale}\"")), "{what}");
                assert!(m.html.contains("<meta charset=\"utf-8\">"), "{what}");
                for part in [&m.text, &m.html] {
                    assert!(!part.contains(['{', '}']), "{what}: unfilled placeholder\n{part}");
                    if let Some(name) = name {
                        assert!(part.contains(name), "{what}: no greeting by name");
                    }
                }
                if let Some(path) = path {
                    let link = format!("{PUBLIC_URL}{path}{}", token.expose());
                    assert!(m.text.lines().any(|l| l == link), "{what}: link not on its own line\n{}", m.text);
                    assert!(m.html.contains(&format!("href=\"{link}\"")), "{what}\n{}", m.html);
                } else {
                    assert!(!m.text.contains("http"), "{what}: unexpected link\n{}", m.text);
                }
                assert_eq!(m.to.as_str(), "søren@example.com");
                assert_eq!(m.to_name.as_deref(), name);
            }
        }
    }
}

#[test]
fn locale_is_the_primary_subtag_or_english() {
    let c = composer();
    let body = || LetterBody::VerifyEmail { token: OneTimeToken::generate(), valid_for: Duration::hours(48) };
    let subject = |locale: Option<&str>| c.compose(&letter(body(), locale, None)).unwrap().subject;
    assert!(subject(Some("fr-CA")).starts_with("Confirmez"), "{}", subject(Some("fr-CA")));
    assert!(subject(Some("FR")).starts_with("Confirmez"));
    assert!(subject(Some("de-AT")).starts_with("Bestätigen"));
    assert!(subject(Some("DA")).starts_with("Bekræft"));
    assert!(subject(Some("da_DK")).starts_with("Bekræft"));
    for other in [Some("ja"), Some("en-GB"), Some(""), Some("french"), None] {
        assert_eq!(subject(other), "Confirm your email address for Roster", "{other:?}");
    }
    let m = c.compose(&letter(body(), Some("fr-CA"), None)).unwrap();
    assert!(m.html.contains("<html lang=\"fr\""));
    assert!(m.text.starts_with("Bonjour,"), "{}", m.text);
}

#[test]
fn user_data_is_escaped_in_html_and_verbatim_in_text() {
    let c = Composer::new(ComposerConfig { product_name: "R&D <Tools>".into(), ..config() }).unwrap();
    let evil = "<script>alert(1)</script>";
    let body = LetterBody::ConfirmEmailChange {
        token: OneTimeToken::generate(),
        valid_for: Duration::hours(1),
        new_email: "\"><img src=x>@example.com".into(),
    };
    let m = c.compose(&letter(body, Some("de"), Some(evil))).unwrap();
    assert!(m.html.contains("Hallo &lt;script&gt;alert(1)&lt;/script&gt;,"), "{}", m.html);
    assert!(!m.html.contains("<script"), "{}", m.html);
    assert!(!m.html.contains("<img"), "{}", m.html);
    assert!(m.html.contains("&quot;&gt;&lt;img src=x&gt;@example.com"), "{}", m.html);
    assert!(m.html.contains("R&amp;D &lt;Tools&gt;"), "{}", m.html);
    assert!(m.text.contains(&format!("Hallo {evil},")), "{}", m.text);
    assert!(m.text.contains("\"><img src=x>@example.com"), "{}", m.text);
    assert!(m.subject.contains("R&D <Tools>"), "{}", m.subject);

    let inviter = LetterBody::Invitation {
        token: OneTimeToken::generate(),
        valid_for: Duration::days(7),
        inviter: Some(evil.into()),
    };
    let m = c.compose(&letter(inviter, None, None)).unwrap();
    assert!(!m.html.contains("<script"), "{}", m.html);
    assert!(m.text.contains(&format!("{evil} invited you")), "{}", m.text);
}

#[test]
fn organization_names_are_escaped_in_html_and_verbatim_elsewhere() {
    let c = composer();
    let org = "<b>Acme & Co</b>";
    // `/` is left alone (see the composer's formatter).
    let escaped = "&lt;b&gt;Acme &amp; Co&lt;/b&gt;";
    for inviter in [None, Some("Ada <ada@example.com>")] {
        for locale in LOCALES {
            let body = LetterBody::OrgInvitation {
                token: OneTimeToken::generate(),
                valid_for: Duration::days(7),
                inviter: inviter.map(str::to_owned),
                organization: org.into(),
            };
            let m = c.compose(&letter(body, Some(locale), None)).unwrap();
            let what = format!("{locale} {inviter:?}");
            assert!(m.subject.contains(org), "{what}: {}", m.subject);
            assert!(m.text.contains(org), "{what}: {}", m.text);
            assert!(!m.html.contains("<b>") && !m.html.contains("Acme & Co"), "{what}: {}", m.html);
            // In the <title> (the subject) and in the body.
            assert!(m.html.matches(escaped).count() >= 2, "{what}: {}", m.html);
            if let Some(inviter) = inviter {
                assert!(m.subject.contains(inviter) && m.text.contains(inviter), "{what}");
                assert!(m.html.contains("Ada &lt;ada@example.com&gt;") && !m.html.contains("<ada@"), "{what}");
            }
        }
    }
}

#[test]
fn custom_link_templates_are_used_and_checked() {
    let links =
        LinkTemplates { reset_password: "https://app.example.com/reset#t={token}".into(), ..Default::default() };
    let c = Composer::new(ComposerConfig { links, ..config() }).unwrap();
    let token = OneTimeToken::generate();
    let body = LetterBody::PasswordReset { token: token.clone(), valid_for: Duration::hours(1), by_admin: true };
    let m = c.compose(&letter(body, None, None)).unwrap();
    let link = format!("https://app.example.com/reset#t={}", token.expose());
    assert!(m.text.lines().any(|l| l == link), "{}", m.text);
    assert!(m.html.contains(&format!("href=\"{link}\"")), "{}", m.html);
    assert!(m.text.contains("An administrator asked that you set a new password"), "{}", m.text);

    let no_token = LinkTemplates { invitation: "{public_url}/accept-invitation".into(), ..Default::default() };
    let err = Composer::new(ComposerConfig { links: no_token, ..config() }).unwrap_err();
    assert!(err.contains("invitation") && err.contains("{token}"), "{err}");
    let no_token = LinkTemplates { org_invitation: "{public_url}/join-organization".into(), ..Default::default() };
    let err = Composer::new(ComposerConfig { links: no_token, ..config() }).unwrap_err();
    assert!(err.contains("org_invitation") && err.contains("{token}"), "{err}");

    let links = LinkTemplates { org_invitation: "https://app.example.com/join/{token}".into(), ..Default::default() };
    let c = Composer::new(ComposerConfig { links, ..config() }).unwrap();
    let body = LetterBody::OrgInvitation {
        token: token.clone(),
        valid_for: Duration::days(7),
        inviter: None,
        organization: "Acme".into(),
    };
    let m = c.compose(&letter(body, None, None)).unwrap();
    let link = format!("https://app.example.com/join/{}", token.expose());
    assert!(m.text.lines().any(|l| l == link), "{}", m.text);
    let relative = LinkTemplates { verify_email: "/verify?token={token}".into(), ..Default::default() };
    assert!(Composer::new(ComposerConfig { links: relative, ..config() }).is_err());
    let typo = LinkTemplates { verify_email: "{public_ur}/verify?token={token}".into(), ..Default::default() };
    assert!(Composer::new(ComposerConfig { links: typo, ..config() }).unwrap_err().contains("{public_ur}"));
}

#[test]
fn bad_configuration_is_refused() {
    for url in
        ["not a url", "ftp://example.com", "mailto:a@example.com", "", "https://x.test/?a=1", "https://x.test/#a"]
    {
        assert!(Composer::new(ComposerConfig { public_url: url.into(), ..config() }).is_err(), "{url}");
    }
    assert!(Composer::new(ComposerConfig { product_name: "  ".into(), ..config() }).is_err());
}

#[test]
fn validity_sentences() {
    let c = composer();
    let cases = [
        ("en", Duration::hours(1), "This link is valid for 1 hour."),
        ("en", Duration::hours(48), "This link is valid for 48 hours."),
        ("en", Duration::days(7), "This link is valid for 7 days."),
        ("en", Duration::minutes(30), "This link is valid for 30 minutes."),
        ("en", Duration::minutes(1), "This link is valid for 1 minute."),
        ("en", Duration::minutes(90), "This link is valid for 2 hours."),
        ("fr", Duration::hours(1), "Ce lien est valable 1 heure."),
        ("fr", Duration::hours(48), "Ce lien est valable 48 heures."),
        ("fr", Duration::days(7), "Ce lien est valable 7 jours."),
        ("fr", Duration::minutes(30), "Ce lien est valable 30 minutes."),
        ("da", Duration::hours(1), "Linket er gyldigt i 1 time."),
        ("da", Duration::days(7), "Linket er gyldigt i 7 dage."),
        ("de", Duration::hours(1), "Dieser Link ist 1 Stunde gültig."),
        ("de", Duration::hours(48), "Dieser Link ist 48 Stunden gültig."),
        ("de", Duration::minutes(30), "Dieser Link ist 30 Minuten gültig."),
    ];
    for (locale, valid_for, want) in cases {
        let token = OneTimeToken::generate();
        let m = c.compose(&letter(LetterBody::VerifyEmail { token, valid_for }, Some(locale), None)).unwrap();
        assert!(m.text.lines().any(|l| l == want), "{locale} {valid_for:?}: {want:?} not in\n{}", m.text);
        assert!(m.html.contains(want), "{locale} {valid_for:?}");
    }
}

#[test]
fn variants_say_what_happened() {
    let c = composer();
    let text = |body: LetterBody| c.compose(&letter(body, None, None)).unwrap().text;
    assert!(text(LetterBody::PasswordChanged { reset: true }).contains("Every session was signed out"));
    assert!(text(LetterBody::PasswordChanged { reset: false }).contains("Your other sessions were signed out"));
    let reset = text(LetterBody::PasswordReset {
        token: OneTimeToken::generate(),
        valid_for: Duration::hours(1),
        by_admin: false,
    });
    assert!(reset.contains("You asked to reset the password"), "{reset}");
    let notice = text(LetterBody::EmailChangeNotice { new_email: "new@example.com".into() });
    assert!(notice.contains("to new@example.com") && notice.contains("reset your password"), "{notice}");
    let invited = c
        .compose(&letter(
            LetterBody::Invitation {
                token: OneTimeToken::generate(),
                valid_for: Duration::days(7),
                inviter: Some("Ada".into()),
            },
            Some("da"),
            None,
        ))
        .unwrap();
    assert_eq!(invited.subject, "Ada har inviteret dig til Roster");

    let org_invitation = |inviter: Option<&str>, locale: &str| {
        c.compose(&letter(
            LetterBody::OrgInvitation {
                token: OneTimeToken::generate(),
                valid_for: Duration::days(7),
                inviter: inviter.map(str::to_owned),
                organization: "Acme".into(),
            },
            Some(locale),
            None,
        ))
        .unwrap()
    };
    let m = org_invitation(Some("Ada"), "en");
    assert_eq!(m.subject, "Ada invited you to join Acme on Roster");
    assert!(m.text.contains("Ada invited you to join Acme on Roster."), "{}", m.text);
    assert!(m.text.contains("If you do not have a Roster account yet"), "{}", m.text);
    for blank in [None, Some(""), Some("  ")] {
        assert_eq!(org_invitation(blank, "en").subject, "You are invited to join Acme on Roster", "{blank:?}");
    }
    assert_eq!(org_invitation(Some("Ada"), "fr").subject, "Ada vous invite à rejoindre Acme sur Roster");
    assert_eq!(org_invitation(Some("Ada"), "de").subject, "Ada hat Sie eingeladen, Acme auf Roster beizutreten");
    assert_eq!(org_invitation(None, "da").subject, "Du er inviteret til at blive medlem af Acme på Roster");
}

/// The security notices: every variant in every locale, with the counted
/// phrases in their singular and plural forms.
fn security_notices() -> Vec<LetterBody> {
    vec![
        LetterBody::MfaEnabled,
        LetterBody::MfaDisabled { by_admin: false },
        LetterBody::MfaDisabled { by_admin: true },
        LetterBody::RecoveryCodeUsed { remaining: 10 },
        LetterBody::RecoveryCodeUsed { remaining: 4 },
        LetterBody::RecoveryCodeUsed { remaining: 3 },
        LetterBody::RecoveryCodeUsed { remaining: 1 },
        LetterBody::RecoveryCodeUsed { remaining: 0 },
        LetterBody::MfaCodeReused,
        LetterBody::AccountLocked { failures: 1, locked_for: Duration::seconds(30) },
        LetterBody::AccountLocked { failures: 5, locked_for: Duration::minutes(15) },
        LetterBody::LoginBlocked { ip: "2001:db8::1".into() },
    ]
}

#[test]
fn security_notices_render_in_every_locale_and_say_what_to_do() {
    let c = composer();
    // The word each locale's closing line uses for whom to contact.
    let administrator =
        [("en", "administrator"), ("fr", "administrateur"), ("da", "administrator"), ("de", "Administrator")];
    for (locale, admin) in administrator {
        for body in security_notices() {
            let m = c.compose(&letter(body.clone(), Some(locale), Some("Søren"))).unwrap();
            let what = format!("{locale} {body:?}");
            assert!(m.subject.contains("Roster") && !m.subject.contains(['{', '}']), "{what}: {}", m.subject);
            for part in [&m.text, &m.html] {
                assert!(!part.contains(['{', '}']), "{what}: unfilled placeholder\n{part}");
                assert!(!part.contains("http"), "{what}: a notice has no link\n{part}");
            }
            // Every notice ends by telling the reader what to do if it was not them.
            let closing = m.text.split("\n-- \n").next().unwrap().trim_end().lines().last().unwrap();
            assert!(closing.contains(admin), "{what}: {closing}");
        }
    }
}

#[test]
fn security_notices_show_their_counts_and_address() {
    let c = composer();
    let locked = |failures, locked_for| LetterBody::AccountLocked { failures, locked_for };
    let codes = |remaining| LetterBody::RecoveryCodeUsed { remaining };
    let blocked = LetterBody::LoginBlocked { ip: "203.0.113.7".into() };
    let (seconds, minutes, hours) = (Duration::seconds, Duration::minutes, Duration::hours);
    // (locale, body, the start of a paragraph of the text part, whether that
    // paragraph is exactly this).
    let cases = [
        ("en", locked(1, seconds(30)), "After 1 failed sign-in attempt, your Roster account has been locked for 1 minute.", true),
        ("en", locked(5, seconds(14 * 60 + 1)), "After 5 failed sign-in attempts, your Roster account has been locked for 15 minutes.", true),
        ("en", locked(3, hours(2)), "After 3 failed sign-in attempts, your Roster account has been locked for 120 minutes.", true),
        ("en", codes(4), "You have 4 unused recovery codes left.", true),
        ("en", codes(3), "You have 3 unused recovery codes left. Generate a new set of recovery codes", false),
        ("en", codes(1), "You have 1 unused recovery code left. Generate a new set of recovery codes", false),
        ("en", codes(0), "You have no unused recovery codes left. Generate a new set", false),
        ("en", blocked.clone(), "Someone tried to sign in to your Roster account with the correct password from the IP address 203.0.113.7,", false),
        ("fr", locked(1, minutes(1)), "Après 1 tentative de connexion échouée, votre compte Roster a été verrouillé pendant 1 minute.", true),
        ("fr", locked(10, minutes(30)), "Après 10 tentatives de connexion échouées, votre compte Roster a été verrouillé pendant 30 minutes.", true),
        ("fr", codes(10), "Il vous reste 10 codes de récupération inutilisés.", true),
        ("fr", codes(2), "Il vous reste 2 codes de récupération inutilisés. Générez prochainement", false),
        ("fr", codes(1), "Il vous reste 1 code de récupération inutilisé. Générez prochainement", false),
        ("fr", codes(0), "Il ne vous reste plus aucun code de récupération inutilisé.", false),
        ("fr", blocked.clone(), "Quelqu’un a tenté de se connecter à votre compte Roster avec le bon mot de passe depuis l’adresse IP 203.0.113.7,", false),
        ("da", locked(1, seconds(59)), "Efter 1 mislykket loginforsøg er din konto hos Roster blevet låst i 1 minut.", true),
        ("da", locked(5, minutes(15)), "Efter 5 mislykkede loginforsøg er din konto hos Roster blevet låst i 15 minutter.", true),
        ("da", codes(5), "Du har 5 ubrugte gendannelseskoder tilbage.", true),
        ("da", codes(3), "Du har 3 ubrugte gendannelseskoder tilbage. Opret snart", false),
        ("da", codes(1), "Du har 1 ubrugt gendannelseskode tilbage. Opret snart", false),
        ("da", codes(0), "Du har ikke flere ubrugte gendannelseskoder.", false),
        ("da", blocked.clone(), "Nogen har forsøgt at logge ind på din konto hos Roster med den rigtige adgangskode fra IP-adressen 203.0.113.7,", false),
        ("de", locked(1, minutes(1)), "Nach 1 fehlgeschlagenen Anmeldeversuch wurde Ihr Konto bei Roster für 1 Minute gesperrt.", true),
        ("de", locked(5, minutes(15)), "Nach 5 fehlgeschlagenen Anmeldeversuchen wurde Ihr Konto bei Roster für 15 Minuten gesperrt.", true),
        ("de", codes(8), "Sie haben noch 8 unbenutzte Wiederherstellungscodes.", true),
        ("de", codes(3), "Sie haben noch 3 unbenutzte Wiederherstellungscodes. Erstellen Sie bald", false),
        ("de", codes(1), "Sie haben noch 1 unbenutzten Wiederherstellungscode. Erstellen Sie bald", false),
        ("de", codes(0), "Sie haben keine unbenutzten Wiederherstellungscodes mehr.", false),
        ("de", blocked.clone(), "Jemand hat versucht, sich mit dem richtigen Passwort von der IP-Adresse 203.0.113.7 aus an Ihrem Konto bei Roster anzumelden.", false),
    ];
    for (locale, body, want, exact) in cases {
        let m = c.compose(&letter(body.clone(), Some(locale), None)).unwrap();
        let what = format!("{locale} {body:?}");
        let found = m.text.lines().any(|l| if exact { l == want } else { l.starts_with(want) });
        assert!(found, "{what}: no paragraph {want:?} in\n{}", m.text);
        assert!(m.html.contains(want), "{what}: {want:?} not in the HTML\n{}", m.html);
    }

    // The subjects say what happened.
    let subject = |body: LetterBody, locale: &str| c.compose(&letter(body, Some(locale), None)).unwrap().subject;
    assert_eq!(subject(LetterBody::MfaEnabled, "en"), "Two-step verification is on for your Roster account");
    assert_eq!(
        subject(LetterBody::MfaDisabled { by_admin: true }, "en"),
        "Two-step verification is off for your Roster account"
    );
    assert_eq!(subject(LetterBody::MfaCodeReused, "en"), "A one-time code for your Roster account was used twice");
    assert_eq!(subject(locked(5, minutes(15)), "de"), "Ihr Konto bei Roster ist gesperrt");
    assert_eq!(subject(codes(1), "fr"), "Connexion à votre compte Roster avec un code de récupération");
    assert_eq!(subject(blocked, "da"), "Et loginforsøg på din konto hos Roster er blevet blokeret");

    // Whether an administrator turned it off, and whether few codes are left.
    let text = |body: LetterBody| c.compose(&letter(body, None, None)).unwrap().text;
    assert!(
        text(LetterBody::MfaDisabled { by_admin: true }).contains("An administrator turned off two-step verification")
    );
    assert!(!text(LetterBody::MfaDisabled { by_admin: false }).contains("An administrator"));
    for remaining in [4, 10, u32::MAX] {
        assert!(!text(codes(remaining)).contains("Generate a new set"), "{remaining}");
    }
    for remaining in [0, 1, 2, 3] {
        assert!(text(codes(remaining)).contains("Generate a new set"), "{remaining}");
    }
}

#[test]
fn a_blocked_address_is_escaped_in_html_and_verbatim_in_text() {
    let c = composer();
    let ip = "<b>203.0.113.7</b>\"'&";
    for locale in LOCALES {
        let m = c.compose(&letter(LetterBody::LoginBlocked { ip: ip.into() }, Some(locale), None)).unwrap();
        assert!(m.text.contains(ip), "{locale}: {}", m.text);
        assert!(!m.html.contains("<b>"), "{locale}: {}", m.html);
        assert!(m.html.contains("&lt;b&gt;203.0.113.7&lt;/b&gt;&quot;&#x27;&amp;"), "{locale}: {}", m.html);
    }
    let m = c.compose(&letter(LetterBody::LoginBlocked { ip: " 198.51.100.2\n".into() }, None, None)).unwrap();
    assert!(m.text.contains("from the IP address 198.51.100.2, which"), "{}", m.text);
}

#[test]
fn message_id_is_the_letter_id_at_the_public_host() {
    let c = composer();
    let l = letter(LetterBody::EmailInUse, None, None);
    assert_eq!(c.compose(&l).unwrap().message_id, format!("<{}@127.0.0.1>", l.id));
    let c = Composer::new(ComposerConfig { public_url: "https://id.example.org/roster".into(), ..config() }).unwrap();
    assert_eq!(c.compose(&l).unwrap().message_id, format!("<{}@id.example.org>", l.id));
    let token = OneTimeToken::generate();
    let m = c
        .compose(&letter(LetterBody::VerifyEmail { token: token.clone(), valid_for: Duration::hours(1) }, None, None))
        .unwrap();
    assert!(m.text.contains(&format!("https://id.example.org/roster/verify-email?token={}", token.expose())));
}

#[tokio::test]
async fn a_french_letter_survives_smtp() -> anyhow::Result<()> {
    let server = TestSmtpServer::start().await?;
    let mailer = SmtpMailer::from_url(
        &server.url(),
        &MailerConfig { from: "Roster <no-reply@localhost>".into(), timeout: StdDuration::from_secs(2) },
    )?;
    let token = OneTimeToken::generate();
    let body = LetterBody::ConfirmEmailChange {
        token: token.clone(),
        valid_for: Duration::hours(1),
        new_email: "zoé@example.com".into(),
    };
    let mut l = letter(body, Some("fr-FR"), Some("Hélène Müller"));
    l.to = Email::from_trusted("helene@example.com".into());
    let m: OutgoingMail = composer().compose(&l).map_err(anyhow::Error::msg)?;
    mailer.send(&m).await?;

    let got = server.wait_for(1, StdDuration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let p = parse(&got[0].data);
    assert_eq!(p.subject.as_deref(), Some("Confirmez votre nouvelle adresse e-mail pour Roster"));
    assert_eq!(p.message_id.as_deref(), Some(m.message_id.trim_matches(['<', '>'])));
    assert_eq!(p.to[0].name.as_deref(), Some("Hélène Müller"));
    let text = p.text.unwrap_or_default().replace("\r\n", "\n");
    let html = p.html.unwrap_or_default().replace("\r\n", "\n");
    assert_eq!(text.trim_end(), m.text.trim_end());
    assert_eq!(html.trim_end(), m.html.trim_end());
    for part in [&text, &html] {
        assert!(part.contains("Bonjour Hélène Müller,"), "{part}");
        assert!(part.contains("zoé@example.com"), "{part}");
        assert!(part.contains("D’ici là, votre adresse actuelle reste en vigueur."), "{part}");
        assert!(part.contains(&format!("{PUBLIC_URL}/verify-email?token={}", token.expose())), "{part}");
    }
    Ok(())
}

#[test]
#[ignore = "prints samples"]
fn print_samples() {
    let c = composer();
    let token = OneTimeToken::generate();
    for (body, _) in bodies(&token) {
        let m =
            c.compose(&letter(body, Some(&std::env::var("PEEK_LOCALE").unwrap_or_default()), Some("Søren"))).unwrap();
        println!("=== {}\n{}\n--- html\n{}", m.subject, m.text, m.html);
    }
}
