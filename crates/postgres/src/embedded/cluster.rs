//! The on-disk layout of the embedded cluster and the `initdb` / `pg_ctl`
//! calls on it.

use std::ffi::OsString;
use std::fs::{self, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::unistd::{Gid, Uid};
use rand::RngCore;

use super::process::{command_failed, tail, Runner};
use super::EmbeddedError;

/// Longest unix socket path PostgreSQL accepts (sun_path is 108 bytes).
const MAX_SOCKET_PATH: usize = 107;
/// The server log is moved aside at start once it passes this size.
const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;
/// Roster's settings file inside PGDATA, included from postgresql.conf.
const CONFIG_FILE: &str = "roster.conf";

/// Paths of one embedded cluster.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub(crate) data_dir: PathBuf,
    pgdata: PathBuf,
    password_file: PathBuf,
    log_file: PathBuf,
    owner: Option<(Uid, Gid)>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedError + '_ {
    move |source| EmbeddedError::Io { path: path.to_path_buf(), source }
}

impl Layout {
    /// Creates `data_dir` (0700, owned by `owner` if given) and returns its layout.
    pub(crate) fn prepare(data_dir: &Path, owner: Option<(Uid, Gid)>) -> Result<Self, EmbeddedError> {
        fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
        let data_dir = fs::canonicalize(data_dir).map_err(io_err(data_dir))?;
        fs::set_permissions(&data_dir, Permissions::from_mode(0o700)).map_err(io_err(&data_dir))?;
        let layout = Self {
            pgdata: data_dir.join("pgdata"),
            password_file: data_dir.join("password"),
            log_file: data_dir.join("server.log"),
            data_dir,
            owner,
        };
        layout.chown(&layout.data_dir)?;
        Ok(layout)
    }

    fn chown(&self, path: &Path) -> Result<(), EmbeddedError> {
        if let Some((uid, gid)) = self.owner {
            nix::unistd::chown(path, Some(uid), Some(gid)).map_err(|e| io_err(path)(std::io::Error::from(e)))?;
        }
        Ok(())
    }

    /// Major version of the initialized cluster, `None` if not initialized.
    pub(crate) fn cluster_version(&self) -> Result<Option<String>, EmbeddedError> {
        let version_file = self.pgdata.join("PG_VERSION");
        if version_file.is_file() {
            let version = fs::read_to_string(&version_file).map_err(io_err(&version_file))?;
            return Ok(Some(version.trim().to_owned()));
        }
        let empty = match fs::read_dir(&self.pgdata) {
            Ok(mut entries) => entries.next().is_none(),
            Err(_) => true,
        };
        if empty {
            Ok(None)
        } else {
            Err(EmbeddedError::InvalidCluster(format!(
                "{} is not empty but holds no PostgreSQL cluster (no PG_VERSION); \
                 move it away so Roster can create a new one",
                self.pgdata.display()
            )))
        }
    }

    /// Fails unless the `postgres` user can write `data_dir`.
    pub(crate) async fn check_access(&self, runner: &Runner) -> Result<(), EmbeddedError> {
        let dir = self.data_dir.clone().into_os_string();
        let args = vec!["-w".into(), dir.clone(), "-a".into(), "-x".into(), dir];
        let cmd = runner.program(Path::new("test"), &args);
        let output = Runner::run(cmd, Duration::from_secs(10)).await?;
        if output.status.success() {
            Ok(())
        } else {
            Err(EmbeddedError::Inaccessible { path: self.data_dir.clone() })
        }
    }

    /// The superuser password of an initialized cluster.
    pub(crate) fn read_password(&self) -> Result<String, EmbeddedError> {
        match fs::read_to_string(&self.password_file) {
            Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
            Ok(_) => Err(self.missing_password()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(self.missing_password()),
            Err(e) => Err(io_err(&self.password_file)(e)),
        }
    }

    fn missing_password(&self) -> EmbeddedError {
        EmbeddedError::InvalidCluster(format!(
            "the cluster in {} has no password in {}; restore that file or move the \
             directory away so Roster can create a new cluster",
            self.pgdata.display(),
            self.password_file.display()
        ))
    }

    /// Runs `initdb` with a new random superuser password, which it returns.
    pub(crate) async fn init(&self, runner: &Runner, ephemeral: bool) -> Result<String, EmbeddedError> {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let password = hex::encode(bytes);
        self.write_file(&self.password_file, &format!("{password}\n"), 0o600)?;
        if self.pgdata.exists() {
            // Empty (checked by cluster_version); initdb creates it with the right owner.
            fs::remove_dir(&self.pgdata).map_err(io_err(&self.pgdata))?;
        }
        let mut args: Vec<OsString> = vec!["-D".into(), self.pgdata.clone().into()];
        args.extend(["-U", "postgres", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C"].map(OsString::from));
        // Byte-order collation (fast, deterministic, btree-friendly), but a
        // Unicode character type so lower()/ILIKE fold "Å" to "å" and pg_trgm
        // sees non-ASCII letters as letters.
        match utf8_ctype() {
            Some(ctype) => args.push(format!("--lc-ctype={ctype}").into()),
            None => tracing::warn!(
                "no C.UTF-8 locale on this machine: case-insensitive matching of non-ASCII letters will not fold case"
            ),
        }
        let mut pwfile = OsString::from("--pwfile=");
        pwfile.push(&self.password_file);
        args.push(pwfile);
        if ephemeral {
            args.push("--no-sync".into());
        }
        Runner::run_ok(runner.tool("initdb", &args), Duration::from_secs(300), None).await?;
        let conf = self.pgdata.join("postgresql.conf");
        let mut file = OpenOptions::new().append(true).open(&conf).map_err(io_err(&conf))?;
        file.write_all(format!("\n# Added by Roster\ninclude_if_exists = '{CONFIG_FILE}'\n").as_bytes())
            .map_err(io_err(&conf))?;
        Ok(password)
    }

    /// Writes `contents` to `path` with `mode`, owned by the cluster's owner.
    fn write_file(&self, path: &Path, contents: &str, mode: u32) -> Result<(), EmbeddedError> {
        let mut file =
            OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(path).map_err(io_err(path))?;
        file.write_all(contents.as_bytes()).map_err(io_err(path))?;
        fs::set_permissions(path, Permissions::from_mode(mode)).map_err(io_err(path))?;
        self.chown(path)
    }

    /// The port persisted in `roster.conf`, if any.
    pub(crate) fn read_port(&self) -> Result<Option<u16>, EmbeddedError> {
        let path = self.pgdata.join(CONFIG_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        Ok(parse_port(&text))
    }

    /// (Re)writes `roster.conf`; the port is persisted there.
    pub(crate) fn write_config(&self, port: u16, ephemeral: bool) -> Result<(), EmbeddedError> {
        let socket_dir = self.data_dir.to_string_lossy();
        let socket_dir = if socket_dir.len() + "/.s.PGSQL.65535".len() <= MAX_SOCKET_PATH {
            socket_dir.replace('\'', "''")
        } else {
            String::new() // path too long for a unix socket: TCP only
        };
        let mut conf = format!(
            "# Managed by Roster and rewritten at every start; put your own settings\n\
             # in postgresql.auto.conf (ALTER SYSTEM), which is read after this file.\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = '{socket_dir}'\n\
             max_connections = {}\n\
             shared_buffers = {}\n\
             # Exact (not lossy) bitmaps for filtered directory counts: a\n\
             # 10M-user count with two indexed conditions drops from 2.9 s to 0.8 s.\n\
             work_mem = 16MB\n",
            if ephemeral { 300 } else { 100 },
            // Test clusters are many and small; a served one gets PostgreSQL's default.
            if ephemeral { "32MB" } else { "128MB" }
        );
        if ephemeral {
            conf.push_str(
                "# Throwaway test cluster: durability off for speed.\n\
                 fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            );
        }
        self.write_file(&self.pgdata.join(CONFIG_FILE), &conf, 0o600)
    }

    /// Whether a server is running on this cluster (`pg_ctl status`).
    pub(crate) async fn is_running(&self, runner: &Runner) -> Result<bool, EmbeddedError> {
        let args: Vec<OsString> = vec!["-D".into(), self.pgdata.clone().into(), "status".into()];
        let output = Runner::run(runner.tool("pg_ctl", &args), Duration::from_secs(30)).await?;
        if !output.status.success() {
            return Ok(false);
        }
        // A killed postmaster stays a zombie until init reaps it, and looks
        // alive to `pg_ctl status`; wait for it to go so we can start anew.
        if let Some(pid) = self.recorded_pid() {
            if is_zombie(pid) {
                for _ in 0..100 {
                    if !is_zombie(pid) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The postmaster PID recorded in `postmaster.pid`.
    fn recorded_pid(&self) -> Option<u32> {
        let text = fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Moves a large server log aside.
    pub(crate) fn rotate_log(&self) -> Result<(), EmbeddedError> {
        match fs::metadata(&self.log_file) {
            Ok(meta) if meta.len() > MAX_LOG_BYTES => {
                fs::rename(&self.log_file, self.data_dir.join("server.log.1")).map_err(io_err(&self.log_file))
            }
            _ => Ok(()),
        }
    }

    /// `pg_ctl start`, waiting until the server accepts connections.
    pub(crate) async fn start(&self, runner: &Runner, timeout: Duration) -> Result<(), EmbeddedError> {
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.pgdata.clone().into(),
            "-l".into(),
            self.log_file.clone().into(),
            "-w".into(),
            "-t".into(),
            timeout.as_secs().max(1).to_string().into(),
            "start".into(),
        ];
        let limit = timeout + Duration::from_secs(10);
        Runner::run_ok(runner.tool("pg_ctl", &args), limit, Some(&self.log_file)).await?;
        Ok(())
    }

    /// Whether the last start failed because the port was in use.
    pub(crate) fn port_was_taken(&self) -> bool {
        let log = fs::read_to_string(&self.log_file).unwrap_or_default();
        let recent = tail(&log, 10);
        recent.contains("could not bind") || recent.contains("Address already in use")
    }

    /// Arguments of `pg_ctl` that stop the server.
    pub(crate) fn stop_args(&self, immediate: bool, timeout: Duration) -> Vec<OsString> {
        vec![
            "-D".into(),
            self.pgdata.clone().into(),
            "-m".into(),
            (if immediate { "immediate" } else { "fast" }).into(),
            "-w".into(),
            "-t".into(),
            timeout.as_secs().max(1).to_string().into(),
            "stop".into(),
        ]
    }

    /// `pg_ctl stop -m fast`; a server that is not running is fine.
    pub(crate) async fn stop(&self, runner: &Runner, timeout: Duration) -> Result<(), EmbeddedError> {
        let cmd = runner.tool("pg_ctl", &self.stop_args(false, timeout));
        let output = Runner::run(cmd, timeout + Duration::from_secs(10)).await?;
        if output.status.success() || !self.is_running(runner).await? {
            return Ok(());
        }
        let cmd = runner.tool("pg_ctl", &self.stop_args(false, timeout));
        Err(command_failed(display(&cmd), &output, Some(&self.log_file)))
    }

    /// Blocking `pg_ctl stop -m fast`, for `Drop`.
    pub(crate) fn stop_blocking(&self, runner: &Runner, timeout: Duration) -> Result<(), EmbeddedError> {
        let mut cmd = runner.tool("pg_ctl", &self.stop_args(false, timeout));
        let command = display(&cmd);
        let output = cmd.output().map_err(|source| EmbeddedError::Spawn { command: command.clone(), source })?;
        if output.status.success() {
            return Ok(());
        }
        let status_args: Vec<OsString> = vec!["-D".into(), self.pgdata.clone().into(), "status".into()];
        let running = runner.tool("pg_ctl", &status_args).output().map(|o| o.status.success()).unwrap_or(true);
        if running {
            Err(command_failed(command, &output, Some(&self.log_file)))
        } else {
            Ok(())
        }
    }
}

fn display(cmd: &std::process::Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Picks a free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> Result<u16, EmbeddedError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|source| EmbeddedError::Io { path: PathBuf::from("127.0.0.1:0"), source })?;
    let addr =
        listener.local_addr().map_err(|source| EmbeddedError::Io { path: PathBuf::from("127.0.0.1:0"), source })?;
    Ok(addr.port())
}

/// Whether process `pid` is a zombie (Linux `/proc`; false elsewhere).
fn is_zombie(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// The last `port = N` setting in a config file.
fn parse_port(conf: &str) -> Option<u16> {
    conf.lines()
        .filter_map(|line| {
            let line = line.split('#').next()?.trim();
            let (key, value) = line.split_once('=')?;
            (key.trim() == "port").then(|| value.trim().trim_matches('\'').parse().ok())?
        })
        .next_back()
}

/// The name of the machine's C.UTF-8 locale (`C.UTF-8` or `C.utf8`), if any.
fn utf8_ctype() -> Option<String> {
    let out = std::process::Command::new("locale").arg("-a").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .find(|l| l.eq_ignore_ascii_case("C.UTF-8") || l.eq_ignore_ascii_case("C.utf8"))
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_last_port() {
        assert_eq!(parse_port("port = 5433\n# port = 1\nport=5444 # x\n"), Some(5444));
        assert_eq!(parse_port("listen_addresses = '127.0.0.1'\n"), None);
        assert_eq!(parse_port("port = 'x'\n"), None);
    }
}
