//! Finding the PostgreSQL server binaries and running them, as the `postgres`
//! system user when Roster runs as root.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use nix::unistd::{Gid, Uid, User};

use super::EmbeddedError;

/// The server tools the embedded cluster needs from one bin directory.
const TOOLS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Runs the PostgreSQL tools of one bin directory, through `runuser` when
/// the process is root.
#[derive(Clone, Debug)]
pub(crate) struct Runner {
    pub(crate) bin_dir: PathBuf,
    /// Set when running as root: the `postgres` user's ids.
    pub(crate) as_postgres: Option<(Uid, Gid)>,
}

impl Runner {
    /// The `postgres` user's ids if this process is root, `None` otherwise.
    pub(crate) fn postgres_user_if_root() -> Result<Option<(Uid, Gid)>, EmbeddedError> {
        if !Uid::effective().is_root() {
            return Ok(None);
        }
        match User::from_name("postgres") {
            Ok(Some(user)) => Ok(Some((user.uid, user.gid))),
            Ok(None) | Err(_) => Err(EmbeddedError::NoPostgresUser),
        }
    }

    /// The command line (program first) that runs `program` with `args` as
    /// the cluster's owner.
    pub(crate) fn argv(&self, program: &Path, args: &[OsString]) -> Vec<OsString> {
        let mut argv = Vec::with_capacity(args.len() + 5);
        if self.as_postgres.is_some() {
            argv.push(runuser().into_os_string());
            argv.extend(["-u", "postgres", "--"].map(OsString::from));
        }
        argv.push(program.as_os_str().to_owned());
        argv.extend(args.iter().cloned());
        argv
    }

    /// A `std` command for one of the PostgreSQL tools.
    pub(crate) fn tool(&self, tool: &str, args: &[OsString]) -> Command {
        self.program(&self.bin_dir.join(tool), args)
    }

    /// A `std` command for any program, run as the cluster's owner.
    pub(crate) fn program(&self, program: &Path, args: &[OsString]) -> Command {
        let argv = self.argv(program, args);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            // The postgres user may not be able to reach our working directory.
            .current_dir("/")
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs a command to completion, killing it after `timeout`.
    pub(crate) async fn run(cmd: Command, timeout: Duration) -> Result<Output, EmbeddedError> {
        let display = display_command(&cmd);
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        match tokio::time::timeout(timeout, cmd.output()).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(source)) => Err(EmbeddedError::Spawn { command: display, source }),
            Err(_) => Err(EmbeddedError::Timeout { command: display, after: timeout }),
        }
    }

    /// Runs a command and turns a non-zero exit into [`EmbeddedError::Command`],
    /// with the tail of its output and of `log` (the server log) if given.
    pub(crate) async fn run_ok(cmd: Command, timeout: Duration, log: Option<&Path>) -> Result<Output, EmbeddedError> {
        let display = display_command(&cmd);
        let output = Self::run(cmd, timeout).await?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(command_failed(display, &output, log))
        }
    }
}

/// Builds the error for a command that exited unsuccessfully.
pub(crate) fn command_failed(command: String, output: &Output, log: Option<&Path>) -> EmbeddedError {
    let mut detail = String::new();
    for stream in [&output.stdout, &output.stderr] {
        let text = tail(&String::from_utf8_lossy(stream), 15);
        if !text.is_empty() {
            detail.push('\n');
            detail.push_str(&text);
        }
    }
    if let Some(log) = log {
        if let Ok(text) = std::fs::read_to_string(log) {
            let text = tail(&text, 20);
            if !text.is_empty() {
                detail.push_str(&format!("\n--- last lines of {} ---\n{text}", log.display()));
            }
        }
    }
    EmbeddedError::Command { command, status: output.status.to_string(), detail }
}

/// The last `lines` non-empty lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn display_command(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

fn runuser() -> PathBuf {
    ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("runuser"))
}

fn has_tools(dir: &Path) -> bool {
    TOOLS.iter().all(|t| dir.join(t).is_file())
}

/// Finds the bin directory of the PostgreSQL server: the explicit one, else
/// the one matching an existing cluster's major `version`, else
/// `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin` (Debian)
/// or `/usr/pgsql-*/bin` (RHEL).
pub(crate) async fn find_bin_dir(explicit: Option<&Path>, version: Option<&str>) -> Result<PathBuf, EmbeddedError> {
    if let Some(dir) = explicit {
        return if has_tools(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(EmbeddedError::BinariesNotFound { searched: dir.display().to_string() })
        };
    }
    let mut searched = Vec::new();
    if let Some(version) = version {
        for dir in [format!("/usr/lib/postgresql/{version}/bin"), format!("/usr/pgsql-{version}/bin")] {
            if has_tools(Path::new(&dir)) {
                return Ok(PathBuf::from(dir));
            }
        }
    }
    if let Some(dir) = pg_config_bindir().await {
        if has_tools(&dir) {
            return Ok(dir);
        }
        searched.push(format!("{} (from pg_config)", dir.display()));
    }
    let mut candidates: Vec<(Vec<u32>, PathBuf)> = Vec::new();
    for (parent, prefix, suffix) in [("/usr/lib/postgresql", "", "bin"), ("/usr", "pgsql-", "bin")] {
        searched.push(format!("{parent}/{prefix}*/{suffix}"));
        let Ok(entries) = std::fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(version) = name.strip_prefix(prefix) else {
                continue;
            };
            let Some(key) = version_key(version) else {
                continue;
            };
            let dir = entry.path().join(suffix);
            if has_tools(&dir) {
                candidates.push((key, dir));
            }
        }
    }
    candidates.sort();
    match candidates.pop() {
        Some((_, dir)) => Ok(dir),
        None => Err(EmbeddedError::BinariesNotFound { searched: searched.join(", ") }),
    }
}

/// `"15"` → `[15]`, `"9.6"` → `[9, 6]`; `None` for anything else.
fn version_key(version: &str) -> Option<Vec<u32>> {
    version.split('.').map(|p| p.parse().ok()).collect()
}

async fn pg_config_bindir() -> Option<PathBuf> {
    let mut cmd = tokio::process::Command::new("pg_config");
    cmd.arg("--bindir").stdin(Stdio::null()).stderr(Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(10), cmd.output()).await.ok()?.ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?;
    let dir = dir.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_keys_sort_numerically() {
        let mut keys = [version_key("9.6"), version_key("15"), version_key("10")];
        keys.sort();
        assert_eq!(keys.last(), Some(&Some(vec![15])));
        assert_eq!(version_key("main"), None);
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\n\nc\n", 2), "b\nc");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn argv_wraps_runuser_when_root() {
        let runner =
            Runner { bin_dir: PathBuf::from("/pg/bin"), as_postgres: Some((Uid::from_raw(1), Gid::from_raw(1))) };
        let argv = runner.argv(Path::new("/pg/bin/pg_ctl"), &[OsString::from("status")]);
        assert!(argv[0].to_string_lossy().ends_with("runuser"));
        assert_eq!(&argv[1..], ["-u", "postgres", "--", "/pg/bin/pg_ctl", "status"]);
    }
}
