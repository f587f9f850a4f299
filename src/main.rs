//! `roster`: serve the API, run migrations, or create the first administrator.

use std::{io::Read, net::TcpListener, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use roster::{
    banner::{self, Banner, MetricsAt},
    config::Config,
    telemetry, Database, Roster,
};

#[derive(Parser)]
#[command(name = "roster", version, about = "Self-hosted user and access management", long_about = None)]
struct Cli {
    /// TOML configuration file; `ROSTER_*` environment variables override it.
    #[arg(long, short, env = "ROSTER_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administrator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a platform superadmin, or promote an existing user to one and
    /// set their password.
    Create {
        /// The administrator's email address.
        #[arg(long)]
        email: String,
        /// Read the password from standard input (first line) instead of a
        /// flag, so it stays out of shell history and `ps`.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("roster: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(serve(config, cli.config)),
        Command::Migrate => runtime().and_then(|rt| rt.block_on(migrate(config))),
        Command::Admin { command: AdminCommand::Create { email, password_stdin: _ } } => {
            runtime().and_then(|rt| rt.block_on(admin_create(config, email)))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

async fn serve(config: Config, config_file: Option<PathBuf>) -> anyhow::Result<()> {
    let db = Database::open(&config).await?;
    let outcome = async {
        let roster = Roster::build(&config, &db.url).await?;
        let listener =
            TcpListener::bind(config.listen).with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let (metrics_at, metrics_server) = match config.metrics.listen {
            Some(at) => {
                let l = TcpListener::bind(at).with_context(|| format!("cannot listen on {at} (metrics.listen)"))?;
                let at = l.local_addr()?;
                (MetricsAt::Own(at), Some(roster.serve_metrics(l)?))
            }
            None if config.metrics.token.is_some() => (MetricsAt::Public, None),
            None => (MetricsAt::Off, None),
        };
        tracing::info!(%addr, embedded_database = db.embedded.is_some(), metrics = ?metrics_at, "roster is serving");
        let banner = Banner {
            addr,
            metrics: metrics_at,
            program: banner::program(),
            config_file,
            mail_dir: config.smtp_url.is_none().then(|| config.data_dir.join("mail")),
        };
        println!("{}", banner.text());
        let metrics_server = metrics_server.map(|server| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        let worker = roster.start_worker();
        let served = roster.serve(listener)?.await;
        tracing::info!("HTTP server drained and stopped");
        if let Some(metrics_server) = metrics_server {
            metrics_server.stop(true).await;
        }
        if let Some(worker) = worker {
            worker.stop(std::time::Duration::from_secs(config.mail.timeout_secs * 3 + 1)).await;
        }
        served?;
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    outcome
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = Database::open(&config).await?;
    let outcome = roster_postgres::migrate::run_migrations(&db.url).await;
    db.close().await;
    let applied = outcome?;
    println!("{applied} migration(s) applied");
    Ok(())
}

async fn admin_create(config: Config, email: String) -> anyhow::Result<()> {
    let mut password = zeroize::Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut password).context("reading the password from standard input")?;
    let line = password.lines().next().unwrap_or_default().to_string();
    let password = zeroize::Zeroizing::new(line);
    let db = Database::open(&config).await?;
    let outcome = async {
        let roster = Roster::build(&config, &db.url).await?;
        let (user, created) =
            roster.state.services.users.ensure_superadmin(&email, &password).await.map_err(|e| match e {
                roster_domain::Error::Validation(v) => {
                    let msgs: Vec<String> = v.as_map().iter().map(|(f, m)| format!("{f} {}", m.join(", "))).collect();
                    anyhow::anyhow!("{}", msgs.join("; "))
                }
                other => anyhow::anyhow!(other),
            })?;
        println!("{} superadmin {} ({})", if created { "Created" } else { "Promoted" }, user.email, user.id);
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    outcome
}
