//! `psql` against the embedded PostgreSQL cluster.

use std::{
    io::{self, BufWriter, Write},
    path::PathBuf,
    process::{Command, Stdio},
};

use roster_postgres::EmbeddedPostgres;

use crate::DATABASE;

/// Runs `psql` (from the cluster's bin directory) against the embedded cluster.
#[derive(Clone)]
pub(crate) struct Psql {
    pub(crate) bin: PathBuf,
    pub(crate) port: u16,
    pub(crate) password: String,
}

impl Psql {
    pub(crate) fn new(pg: &EmbeddedPostgres) -> Psql {
        // The cluster's `pg_ctl` tells which bin directory it runs from; psql sits beside it.
        let bin = pg
            .stop_command(false)
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.file_name().is_some_and(|n| n == "pg_ctl"))
            .and_then(|p| p.parent().map(|d| d.join("psql")))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"));
        let url = pg.database_url();
        let password = url
            .strip_prefix("postgres://postgres:")
            .and_then(|rest| rest.split_once('@'))
            .map(|(pw, _)| pw.to_owned())
            .expect("embedded URL has a password");
        Psql { bin, port: pg.port(), password }
    }

    pub(crate) fn command(&self, db: &str) -> Command {
        let mut cmd = Command::new(&self.bin);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                cmd.env_remove(key);
            }
        }
        cmd.env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "30")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-p"])
            .arg(self.port.to_string());
        cmd
    }

    /// Runs each statement (one `-c` each, in one session) and returns the rows
    /// of their output, fields split.
    pub(crate) fn run(&self, db: &str, statements: &[&str]) -> Vec<Vec<String>> {
        let mut cmd = self.command(db);
        cmd.args(["-A", "-t", "-F", "\u{1f}"]);
        for s in statements {
            cmd.arg("-c").arg(s);
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{}: {e}", self.bin.display()));
        assert!(
            out.status.success(),
            "psql failed ({}): {}\nstatements:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            statements.join(";\n")
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\u{1f}').map(str::to_owned).collect())
            .collect()
    }

    /// One value.
    pub(crate) fn value(&self, sql: &str) -> String {
        self.run(DATABASE, &[sql]).into_iter().next().and_then(|r| r.into_iter().next()).unwrap_or_default()
    }

    /// In one transaction: `prelude`, then `copy` (`COPY … FROM STDIN`) fed by
    /// `rows`, which writes CSV and returns how many rows it wrote.
    pub(crate) fn copy(
        &self,
        prelude: &[&str],
        copy: &str,
        rows: impl FnOnce(&mut dyn Write) -> io::Result<u64>,
    ) -> u64 {
        let mut cmd = self.command(DATABASE);
        cmd.arg("-1");
        for s in prelude {
            cmd.arg("-c").arg(s);
        }
        cmd.arg("-c").arg(copy).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{}: {e}", self.bin.display()));
        let mut input = BufWriter::with_capacity(1 << 20, child.stdin.take().unwrap());
        let written = rows(&mut input).and_then(|n| input.flush().map(|()| n));
        drop(input); // EOF ends the COPY
        let out = child.wait_with_output().expect("psql finishes");
        assert!(out.status.success(), "{copy} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
        written.expect("writing rows to psql")
    }
}
