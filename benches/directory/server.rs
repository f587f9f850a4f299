//! The release `roster` server process.

use std::{
    fs,
    io::Write,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{ADMIN_EMAIL, ADMIN_PASSWORD};

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) log: PathBuf,
}

impl Server {
    pub(crate) fn stop(&mut self) {
        // SIGTERM: the server drains its connections and exits.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(45);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

pub(crate) fn roster_bin() -> PathBuf {
    let bin = std::env::var_os("ROSTER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/roster"));
    assert!(bin.exists(), "{} is missing: run `cargo build --release --bin roster` first", bin.display());
    bin
}

/// `roster` with a clean `ROSTER_*` environment plus `env`.
pub(crate) fn roster_command(bin: &Path, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ROSTER_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Creates the superadmin, then starts `roster serve`.
pub(crate) fn start_server(bin: &Path, env: &[(&str, String)], log: PathBuf) -> Server {
    let mut create = roster_command(bin, env)
        .args(["admin", "create", "--email", ADMIN_EMAIL, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("roster admin create starts");
    create.stdin.take().unwrap().write_all(format!("{ADMIN_PASSWORD}\n").as_bytes()).unwrap();
    let out = create.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "roster admin create failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log_file = fs::File::create(&log).unwrap();
    let child = roster_command(bin, env)
        .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("roster starts");
    Server { child, base: format!("http://127.0.0.1:{port}"), log }
}
