//! What `roster serve` prints when it starts: where it serves, where the
//! metrics are, and the command that creates the first administrator —
//! spelled with the program as it was started (`roster` on the `PATH`,
//! `./target/release/roster`, `/usr/local/bin/roster`), never `cargo run`.

use std::{
    ffi::{OsStr, OsString},
    net::SocketAddr,
    path::{Path, PathBuf},
};

/// Where the metrics of a starting server are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAt {
    /// On a listener of their own (`metrics.listen`).
    Own(SocketAddr),
    /// On the public listener, for the bearer of `metrics.token`.
    Public,
    /// Nowhere.
    Off,
}

/// Everything the start-up banner says.
#[derive(Debug, Clone)]
pub struct Banner {
    pub addr: SocketAddr,
    pub metrics: MetricsAt,
    /// The program as started ([`program`]).
    pub program: OsString,
    /// The configuration file the server was started with, which the
    /// administrator command needs too.
    pub config_file: Option<PathBuf>,
    /// Where mail goes as `.eml` files, when no relay is configured.
    pub mail_dir: Option<PathBuf>,
}

impl Banner {
    pub fn text(&self) -> String {
        let addr = self.addr;
        let mut lines = vec![format!("Roster is serving on http://{addr} (API docs: http://{addr}/docs/)")];
        lines.push(match self.metrics {
            MetricsAt::Own(at) => format!("Metrics: http://{at}/metrics"),
            MetricsAt::Public => {
                format!("Metrics: http://{addr}/metrics with `Authorization: Bearer <metrics.token>`")
            }
            MetricsAt::Off => "Metrics are not served (set metrics.listen or metrics.token)".into(),
        });
        lines.push("Create the first administrator with:".into());
        lines.push(format!("  {}", admin_create_command(&self.program, self.config_file.as_deref())));
        if let Some(dir) = &self.mail_dir {
            lines.push(format!(
                "Mail is written as .eml files under {} (set ROSTER_SMTP_URL to send it)",
                dir.display()
            ));
        }
        lines.join("\n")
    }
}

/// The shell command that creates the first administrator with `program`
/// (and the configuration file the server was started with, if any).
pub fn admin_create_command(program: &OsStr, config_file: Option<&Path>) -> String {
    let config = config_file.map(|f| format!(" --config {}", shell_word(f.as_os_str()))).unwrap_or_default();
    format!(
        "echo 'a-long-password' | {}{config} admin create --email you@example.com --password-stdin",
        shell_word(program)
    )
}

/// How this process was started: its `argv[0]` — a bare name was found on
/// the `PATH`, a path works from the directory it was started in (where
/// `cargo run` starts it too: `target/release/roster`) — or, without one,
/// the path of the executable.
pub fn program() -> OsString {
    match std::env::args_os().next() {
        Some(arg0) if !arg0.is_empty() => arg0,
        _ => std::env::current_exe().map(PathBuf::into_os_string).unwrap_or_else(|_| "roster".into()),
    }
}

/// `word` as one word for a POSIX shell: as is when it holds nothing the
/// shell would read, else in single quotes.
fn shell_word(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn banner(program: &str) -> Banner {
        Banner {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics: MetricsAt::Off,
            program: program.into(),
            config_file: None,
            mail_dir: None,
        }
    }

    #[test]
    fn the_command_names_the_program_as_it_was_started() {
        for program in ["roster", "./target/release/roster", "/usr/local/bin/roster"] {
            let text = banner(program).text();
            let expected =
                format!("  echo 'a-long-password' | {program} admin create --email you@example.com --password-stdin");
            assert!(text.lines().any(|l| l == expected), "{text}");
            assert!(!text.contains("cargo"), "{text}");
        }
    }

    #[test]
    fn the_configuration_file_goes_along_and_odd_paths_are_quoted() {
        let command = admin_create_command(OsStr::new("/opt/My Apps/roster"), Some(Path::new("/etc/roster/it's.toml")));
        assert_eq!(
            command,
            r"echo 'a-long-password' | '/opt/My Apps/roster' --config '/etc/roster/it'\''s.toml' admin create --email you@example.com --password-stdin"
        );
    }

    #[test]
    fn the_banner_says_where_metrics_and_mail_are() {
        let mut b = banner("roster");
        assert!(b.text().contains("Metrics are not served (set metrics.listen or metrics.token)"));
        b.metrics = MetricsAt::Own(SocketAddr::from(([127, 0, 0, 1], 9464)));
        assert!(b.text().contains("Metrics: http://127.0.0.1:9464/metrics"));
        b.metrics = MetricsAt::Public;
        assert!(b.text().contains("Metrics: http://127.0.0.1:8080/metrics with `Authorization: Bearer"));
        b.mail_dir = Some(PathBuf::from("/var/lib/roster/mail"));
        assert!(b
            .text()
            .ends_with("Mail is written as .eml files under /var/lib/roster/mail (set ROSTER_SMTP_URL to send it)"));
    }

    #[test]
    fn this_test_binary_is_its_own_program() {
        let program = PathBuf::from(program());
        assert!(program.file_name().is_some_and(|n| !n.is_empty()), "{}", program.display());
    }
}
