//! SmtpMailer against the in-process test SMTP server.

use std::time::{Duration, Instant};

use roster_domain::values::Email;
use roster_domain::{
    mail::OutgoingMail,
    ports::{MailError, Mailer},
};
use roster_smtp::{MailerConfig, SmtpMailer};
use roster_testkit::smtp::parse;
use roster_testkit::TestSmtpServer;

const WAIT: Duration = Duration::from_secs(10);

fn cfg() -> MailerConfig {
    MailerConfig { from: "Roster <no-reply@localhost>".into(), timeout: Duration::from_secs(2) }
}

fn mail(n: usize) -> OutgoingMail {
    OutgoingMail {
        message_id: format!("<msg-{n}@roster.test>"),
        to: Email::from_trusted(format!("user{n}@example.com")),
        to_name: Some("Søren Ålund".into()),
        subject: "Ændr din adgangskode".into(),
        text: "Hej Søren,\n\nKlik på linket for at ændre din adgangskode.\n.\n..leading dots survive\n".into(),
        html: "<p>Hej Søren,</p><p>Klik på <a href=\"https://x.test/r?t=1\">linket</a>.</p>".into(),
    }
}

#[tokio::test]
async fn delivers_a_multipart_message() -> anyhow::Result<()> {
    let server = TestSmtpServer::start().await?;
    let mailer = SmtpMailer::from_url(&server.url(), &cfg())?;
    let m = mail(1);
    mailer.send(&m).await?;

    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "no-reply@localhost");
    assert_eq!(got[0].recipients, ["user1@example.com"]);
    let p = parse(&got[0].data);
    assert_eq!(p.subject.as_deref(), Some("Ændr din adgangskode"));
    assert_eq!(p.message_id.as_deref(), Some("msg-1@roster.test"));
    assert_eq!(p.to.len(), 1);
    assert_eq!(p.to[0].name.as_deref(), Some("Søren Ålund"));
    assert_eq!(p.to[0].address, "user1@example.com");
    let text = p.text.unwrap_or_default();
    assert_eq!(text.replace("\r\n", "\n").trim_end(), m.text.trim_end());
    assert_eq!(p.html.unwrap_or_default().trim_end(), m.html);
    let raw = String::from_utf8_lossy(&got[0].data);
    assert!(raw.contains("multipart/alternative"), "{raw}");
    Ok(())
}

#[tokio::test]
async fn no_display_name_when_none() -> anyhow::Result<()> {
    let server = TestSmtpServer::start().await?;
    let mailer = roster_smtp::from_url(&server.url(), &cfg())?;
    mailer.send(&OutgoingMail { to_name: None, ..mail(2) }).await?;
    let got = server.wait_for(1, WAIT).await;
    let p = parse(&got[0].data);
    assert_eq!(p.to[0].name, None);
    assert_eq!(p.to[0].address, "user2@example.com");
    Ok(())
}

#[tokio::test]
async fn relay_down_is_unavailable() -> anyhow::Result<()> {
    let server = TestSmtpServer::start().await?;
    let mailer = SmtpMailer::from_url(&server.url(), &cfg())?;
    server.set_down(true);
    let err = mailer.send(&mail(3)).await.unwrap_err();
    assert!(matches!(err, MailError::Unavailable(_)), "{err:?}");
    server.set_down(false);
    mailer.send(&mail(3)).await?;
    assert_eq!(server.wait_for(1, WAIT).await.len(), 1);
    Ok(())
}

#[tokio::test]
async fn permanent_and_transient_replies() -> anyhow::Result<()> {
    let server = TestSmtpServer::start().await?;
    let mailer = SmtpMailer::from_url(&server.url(), &cfg())?;
    server.set_rcpt_reply(Some("550 5.1.1 no such user"));
    let err = mailer.send(&mail(4)).await.unwrap_err();
    assert!(matches!(err, MailError::Rejected(_)), "{err:?}");
    server.set_rcpt_reply(Some("451 4.3.0 try again later"));
    let err = mailer.send(&mail(4)).await.unwrap_err();
    assert!(matches!(err, MailError::Unavailable(_)), "{err:?}");
    assert!(server.messages().is_empty());
    Ok(())
}

#[tokio::test]
async fn closed_port_is_unavailable_quickly() -> anyhow::Result<()> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let mailer = SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}?tls=none"), &cfg())?;
    let started = Instant::now();
    let err = mailer.send(&mail(5)).await.unwrap_err();
    assert!(matches!(err, MailError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn silent_relay_times_out() -> anyhow::Result<()> {
    // Accepts connections but never greets: the configured timeout must apply.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let cfg = MailerConfig { timeout: Duration::from_millis(500), ..cfg() };
    let mailer = SmtpMailer::from_url(&format!("smtp://{addr}?tls=none"), &cfg)?;
    let started = Instant::now();
    let err = mailer.send(&mail(6)).await.unwrap_err();
    assert!(matches!(err, MailError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    hold.abort();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_all_arrive() -> anyhow::Result<()> {
    let server = TestSmtpServer::start().await?;
    let mailer = std::sync::Arc::new(SmtpMailer::from_url(&server.url(), &cfg())?);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..10 {
        let mailer = mailer.clone();
        tasks.spawn(async move { mailer.send(&mail(100 + n)).await });
    }
    while let Some(res) = tasks.join_next().await {
        res??;
    }
    let got = server.wait_for(10, WAIT).await;
    let mut ids: Vec<_> = got.iter().filter_map(|m| parse(&m.data).message_id).collect();
    ids.sort();
    let mut want: Vec<_> = (100..110).map(|n| format!("msg-{n}@roster.test")).collect();
    want.sort();
    assert_eq!(ids, want);
    Ok(())
}

#[tokio::test]
async fn server_speaks_smtp() -> anyhow::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let server = TestSmtpServer::start().await?;
    let stream = tokio::net::TcpStream::connect(server.addr()).await?;
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut line = String::new();
    let mut expect = async |send: &str, code: &str| -> anyhow::Result<()> {
        if !send.is_empty() {
            w.write_all(send.as_bytes()).await?;
        }
        loop {
            line.clear();
            r.read_line(&mut line).await?;
            anyhow::ensure!(line.starts_with(code), "sent {send:?}, got {line:?}");
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    };
    expect("", "220").await?;
    expect("MAIL FROM:<a@x>\r\n", "503").await?;
    expect("EHLO client\r\n", "250").await?;
    expect("VRFY a\r\n", "502").await?;
    expect("NOOP\r\n", "250").await?;
    expect("DATA\r\n", "503").await?;
    expect("mail from:<a@x>\r\n", "250").await?;
    expect("RCPT TO:<b@y>\r\n", "250").await?;
    expect("RSET\r\n", "250").await?;
    expect("RCPT TO:<b@y>\r\n", "503").await?;
    expect("MAIL FROM:<a@x> BODY=8BITMIME\r\n", "250").await?;
    expect("RCPT TO:<b@y>\r\n", "250").await?;
    expect("DATA\r\n", "354").await?;
    expect("Subject: hi\r\n\r\n..dot\r\nline\r\n.\r\n", "250").await?;
    expect("QUIT\r\n", "221").await?;
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, b"Subject: hi\r\n\r\n.dot\r\nline\r\n");
    assert_eq!((got[0].from.as_str(), got[0].recipients.clone()), ("a@x", vec!["b@y".to_owned()]));
    Ok(())
}

#[tokio::test]
async fn opportunistic_tls_sends_in_plain_text_without_starttls() -> anyhow::Result<()> {
    // The test server offers no STARTTLS.
    let server = TestSmtpServer::start().await?;
    let mailer = SmtpMailer::from_url(&format!("smtp://{}?tls=opportunistic", server.addr()), &cfg())?;
    mailer.send(&mail(7)).await?;
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(parse(&got[0].data).message_id.as_deref(), Some("msg-7@roster.test"));
    Ok(())
}

#[tokio::test]
async fn required_tls_refuses_a_relay_without_starttls() -> anyhow::Result<()> {
    let server = TestSmtpServer::start().await?;
    let mailer = SmtpMailer::from_url(&format!("smtp://{}", server.addr()), &cfg())?;
    let err = mailer.send(&mail(8)).await.unwrap_err();
    assert!(matches!(&err, MailError::Internal(m) if m.contains("STARTTLS")), "{err:?}");
    assert!(server.messages().is_empty());
    Ok(())
}

#[tokio::test]
async fn implicit_tls_against_a_plain_relay_is_unavailable() -> anyhow::Result<()> {
    // The plain server greets instead of answering the TLS handshake.
    let server = TestSmtpServer::start().await?;
    let mailer = SmtpMailer::from_url(&format!("smtps://{}", server.addr()), &cfg())?;
    let started = Instant::now();
    let err = mailer.send(&mail(9)).await.unwrap_err();
    assert!(matches!(err, MailError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(server.messages().is_empty());
    Ok(())
}

/// A scripted relay that offers AUTH; returns the commands it received.
async fn auth_relay(listener: tokio::net::TcpListener) -> anyhow::Result<Vec<String>> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (stream, _) = listener.accept().await?;
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut commands = Vec::new();
    w.write_all(b"220 relay ready\r\n").await?;
    let mut in_data = false;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(commands);
        }
        if in_data {
            if line == ".\r\n" {
                in_data = false;
                w.write_all(b"250 queued\r\n").await?;
            }
            continue;
        }
        let line = line.trim_end().to_owned();
        let verb = line.split(' ').next().unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-relay\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n",
            "AUTH" => b"235 2.7.0 authenticated\r\n",
            "DATA" => b"354 go ahead\r\n",
            "QUIT" => b"221 bye\r\n",
            _ => b"250 OK\r\n",
        };
        in_data = verb == "DATA";
        commands.push(line);
        w.write_all(reply).await?;
        if verb == "QUIT" {
            return Ok(commands);
        }
    }
}

#[tokio::test]
async fn credentials_authenticate_and_the_session_ends_with_quit() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let relay = tokio::spawn(auth_relay(listener));
    let mailer = SmtpMailer::from_url(&format!("smtp://al%40ice:hunter2@{addr}?tls=none"), &cfg())?;
    mailer.send(&mail(10)).await?;
    let commands = tokio::time::timeout(WAIT, relay).await???;
    let verbs: Vec<&str> = commands.iter().map(|c| c.split(' ').next().unwrap_or_default()).collect();
    assert_eq!(verbs, ["EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"], "{commands:?}");
    // AUTH PLAIN base64("\0al@ice\0hunter2")
    assert_eq!(commands[1], "AUTH PLAIN AGFsQGljZQBodW50ZXIy");
    Ok(())
}
