//! Directory benchmark for `just bench-directory [N]`: seeds a fresh embedded
//! PostgreSQL with N realistic users spread over 10,000 organizations
//! (streamed through `COPY … FROM STDIN` into `psql`), starts the release
//! `roster` on it, and times a fixed mix of `GET /api/v1/users` queries —
//! every filter operator, sorts, projection, `q`, shortcuts, offset and keyset
//! paging, counts — sequentially over one connection, as the platform's
//! superadmin; then an organization-scoped mix (first pages, cursors, counts,
//! `GET /users/{id}`) through API keys of the largest organization and of a
//! typical small one. Prints p50 / p99 / max per query next to the targets,
//! then the auto_explain plan of the slowest statement the server ran (and
//! of each query that missed its target).
//!
//! Not a test: it asserts nothing about the figures. See docs/PERFORMANCE.md.
//! Run with `cargo build --release --bin roster && cargo bench --bench directory -- --users 1000000`;
//! options: `--users N` (default 1,000,000; `20k` and `10M` are understood),
//! `--seconds-per-query S` (default 5), `--keep DIR` (keep the seeded cluster
//! in DIR and reuse it on a later run with the same N).

// A benchmark program, not server code: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod org_mix;
mod orgs;
mod queries;
mod report;
mod seed;
mod server;
mod surnames;
mod util;
mod words;

use std::{
    fs,
    path::PathBuf,
    time::{Duration, Instant},
};

use roster_postgres::{EmbeddedOptions, EmbeddedPostgres};
use serde_json::{json, Value};

use crate::{
    cluster::Psql,
    org_mix::{api_key, org_specs, pick_orgs},
    orgs::ORG_COUNT,
    queries::{file_len, measure, picks, specs, Client},
    report::slowest_plan,
    seed::seed,
    server::{roster_bin, start_server, tail},
    util::{chmod, thousands},
};

const USAGE: &str = "usage: cargo bench --bench directory -- [--users N] [--seconds-per-query S] [--keep DIR]";
const DATABASE: &str = "roster_bench";
const ADMIN_EMAIL: &str = "bench@example.com";
const ADMIN_PASSWORD: &str = "bench directory password";
/// Bump when the generated data changes, so `--keep` reseeds.
const SEED_VERSION: u32 = 2;
const PER_PAGE: &str = "20";
/// auto_explain logs the plan of every statement at least this slow.
const EXPLAIN_MIN_DURATION: &str = "20ms";

const DEFAULT_ORG: &str = "00000000-0000-7000-8000-000000000001";
const DEFAULT_ADMIN_ROLE: &str = "00000000-0000-7000-8000-000000000012";
const DEFAULT_MEMBER_ROLE: &str = "00000000-0000-7000-8000-000000000013";

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Sign-ups grow over the five years: density at the end is e^GROWTH times that at the start.
const GROWTH: f64 = 1.0;

// ───────────────────────────── arguments ─────────────────────────────

struct Args {
    users: u64,
    seconds: f64,
    keep: Option<PathBuf>,
}

/// `20000`, `20_000`, `20,000`, `20k`, `10M`.
fn parse_count(s: &str) -> Option<u64> {
    let s: String = s.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    let (digits, factor) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1_000),
        'm' | 'M' => (&s[..s.len() - 1], 1_000_000),
        _ => (&s[..], 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

fn parse_args() -> Args {
    let mut args = Args { users: 1_000_000, seconds: 5.0, keep: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value =
            || inline.clone().or_else(|| it.next()).unwrap_or_else(|| panic!("{name} needs a value\n{USAGE}"));
        match name.as_str() {
            "--users" => {
                let v = value();
                args.users = parse_count(&v).unwrap_or_else(|| panic!("--users {v:?} is not a number\n{USAGE}"));
            }
            "--seconds-per-query" => {
                let v = value();
                args.seconds = v.parse().ok().filter(|s: &f64| *s > 0.0).unwrap_or_else(|| panic!("bad seconds {v:?}"));
            }
            "--keep" => args.keep = Some(PathBuf::from(value())),
            "--bench" => {} // added by `cargo bench`
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => panic!("unknown argument {arg:?}\n{USAGE}"),
        }
    }
    assert!(args.users >= 1000, "--users must be at least 1000");
    args
}

// ───────────────────────────── main ─────────────────────────────

fn main() {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let code = rt.block_on(async {
        tokio::select! {
            () = run(args) => 0,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("interrupted: stopping the server and the cluster");
                130
            }
        }
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    std::process::exit(code);
}

async fn run(args: Args) {
    let n = args.users;
    let bin = roster_bin();
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);

    // Where the cluster lives: a throwaway directory, or DIR with --keep.
    let (base, _temp) = match &args.keep {
        Some(dir) => {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            (fs::canonicalize(dir).unwrap(), None)
        }
        None => {
            let temp = tempfile::Builder::new().prefix("roster-directory-bench-").tempdir().expect("temp dir");
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    // Root runs the cluster as `postgres`, who must reach the directory.
    chmod(&base, 0o755);
    let marker = base.join("seeded");
    let seeded_as = format!("users={n} seed_version={SEED_VERSION}\n");
    let reuse = args.keep.is_some() && fs::read_to_string(&marker).is_ok_and(|m| m == seeded_as);

    let opts = EmbeddedOptions {
        data_dir: base.join("postgres"),
        database: DATABASE.to_owned(),
        // fsync off: the load is faster and reads are unaffected. Never for real data.
        ephemeral: true,
        ..EmbeddedOptions::new(base.join("postgres"))
    };
    let pg = EmbeddedPostgres::start(opts).await.expect("embedded PostgreSQL starts");
    let psql = Psql::new(&pg);
    let server_log = pg.data_dir().join("server.log");

    if reuse {
        eprintln!("reusing the cluster seeded with {} users in {}", thousands(n), base.display());
    } else {
        let _ = fs::remove_file(&marker);
        if args.keep.is_some() {
            // A kept cluster seeded differently (or not completely): start over.
            psql.run(
                "postgres",
                &[
                    format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)").as_str(),
                    format!("CREATE DATABASE {DATABASE}").as_str(),
                ],
            );
        }
    }
    roster_postgres::run_migrations(&pg.database_url()).await.expect("migrations");
    let report = if reuse {
        None
    } else {
        let p = psql.clone();
        Some(tokio::task::spawn_blocking(move || seed(&p, n)).await.expect("seeding"))
    };

    // Plans of slow statements go to server.log; set before the server
    // connects, so that every pooled connection loads auto_explain.
    psql.run(
        DATABASE,
        &[
            "LOAD 'auto_explain'",
            format!("ALTER DATABASE {DATABASE} SET session_preload_libraries = 'auto_explain'").as_str(),
            format!("ALTER DATABASE {DATABASE} SET auto_explain.log_min_duration = '{EXPLAIN_MIN_DURATION}'").as_str(),
            format!("ALTER DATABASE {DATABASE} SET auto_explain.log_analyze = on").as_str(),
            format!("ALTER DATABASE {DATABASE} SET auto_explain.log_buffers = on").as_str(),
        ],
    );

    // The superadmin and the server.
    let secret_file = base.join("key-encryption-secret");
    let secret = match fs::read_to_string(&secret_file) {
        Ok(s) if args.keep.is_some() && s.trim().len() == 64 => s.trim().to_owned(),
        _ => {
            let s = hex::encode(rand::random::<[u8; 32]>());
            fs::write(&secret_file, &s).unwrap();
            chmod(&secret_file, 0o600);
            s
        }
    };
    let roster_data = base.join("roster-data");
    fs::create_dir_all(&roster_data).unwrap();
    let env = [
        ("ROSTER_DATABASE_URL", pg.database_url()),
        ("ROSTER_KEY_ENCRYPTION_SECRET", secret),
        ("ROSTER_DATA_DIR", roster_data.display().to_string()),
        ("ROSTER_AUTH__BCRYPT_COST", "10".to_owned()),
        // One token for the whole mix, however long it takes.
        ("ROSTER_AUTH__ACCESS_TOKEN_TTL_SECS", "86400".to_owned()),
        ("ROSTER_LOG__LEVEL", "warn".to_owned()),
    ];
    let mut server = start_server(&bin, &env, base.join("roster.log"));
    if args.keep.is_some() {
        fs::write(&marker, &seeded_as).unwrap();
    }

    let http = reqwest::Client::builder().pool_max_idle_per_host(1).timeout(Duration::from_secs(600)).build().unwrap();
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{}/health/ready", server.base)).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("roster exited ({status}) before it was ready:\n{}", tail(&server.log, 30));
        }
        assert!(started.elapsed() < Duration::from_secs(180), "server not ready:\n{}", tail(&server.log, 30));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let login = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert!(login.status().is_success(), "login: {}", login.status());
    let token = login.json::<Value>().await.unwrap()["access_token"].as_str().expect("access_token").to_owned();
    let client = Client { http, base: server.base.clone(), token };

    // What we measure on.
    let facts = psql.run(
        DATABASE,
        &[format!(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'), current_setting('work_mem'), \
                    current_setting('jit'), pg_size_pretty(pg_total_relation_size('users')), \
                    pg_size_pretty(pg_total_relation_size('memberships')), (SELECT count(*) FROM memberships), \
                    (SELECT count(*) FROM memberships WHERE org_id = '{DEFAULT_ORG}'), \
                    (SELECT count(*) FROM users WHERE managed_by <> '{DEFAULT_ORG}'), \
                    (SELECT count(*) FROM locations), \
                    (SELECT count(*) FROM memberships WHERE location_id IS NOT NULL)"
        )
        .as_str()],
    );
    let facts = &facts[0];
    let picks = picks(&psql);
    let specs = specs(&picks);
    let orgs = pick_orgs(&psql, n);

    let mix_start = file_len(&server_log);
    let mut results = Vec::new();
    let total = specs.len();
    for (i, spec) in specs.into_iter().enumerate() {
        eprintln!("[{}/{total}] {}", i + 1, spec.display());
        results.push(measure(&client, spec, args.seconds, &server_log).await);
    }
    // The same server in each organization, through an API key of it.
    for org in &orgs {
        let key = Client { token: api_key(&client, org.id).await, ..client.clone() };
        let specs = org_specs(org);
        let total = specs.len();
        for (i, spec) in specs.into_iter().enumerate() {
            eprintln!("[{}/{total}] {}", i + 1, spec.display());
            results.push(measure(&key, spec, args.seconds, &server_log).await);
        }
    }
    let (slowest, explained) = slowest_plan(&server_log, mix_start..u64::MAX);
    let log_kept = args.keep.is_some();

    // The report.
    println!();
    println!(
        "roster directory benchmark — {} users (+1 bench superadmin), {cores} cores, PostgreSQL {} \
         (shared_buffers {}, work_mem {}, jit {})",
        thousands(n),
        facts[0],
        facts[1],
        facts[2],
        facts[3]
    );
    let fact = |i: usize| thousands(facts[i].parse().unwrap_or(0));
    println!(
        "  tables: users {}, memberships {} ({} rows); auto_explain on (log_analyze, buffers) for statements ≥ {EXPLAIN_MIN_DURATION}",
        facts[4],
        facts[5],
        fact(6)
    );
    println!(
        "  data: {} organizations besides the default one (which has {} members); {} accounts managed by an \
         organization (members of it only); {} locations, {} memberships at one",
        thousands(ORG_COUNT as u64),
        fact(7),
        fact(8),
        fact(9),
        fact(10)
    );
    for org in &orgs {
        println!("  {}", org.describe());
    }
    match &report {
        Some(r) => println!(
            "  seeding: {:.1} s in all ({} rows/s overall) — {} organizations with roles and {} locations {:.1} s, \
             users {:.1} s ({} rows/s), memberships {:.1} s ({} rows/s), indexes and foreign keys {:.1} s, ANALYZE {:.1} s",
            r.total.as_secs_f64(),
            thousands(((r.users + r.memberships) as f64 / r.total.as_secs_f64()) as u64),
            thousands(r.orgs),
            thousands(r.locations),
            r.orgs_time.as_secs_f64(),
            r.users_time.as_secs_f64(),
            thousands((r.users as f64 / r.users_time.as_secs_f64()) as u64),
            r.memberships_time.as_secs_f64(),
            thousands((r.memberships as f64 / r.memberships_time.as_secs_f64()) as u64),
            r.index_time.as_secs_f64(),
            r.analyze_time.as_secs_f64()
        ),
        None => println!("  seeding: skipped, reused the cluster kept in {}", base.display()),
    }
    println!(
        "  each query: 3 warm-ups, then ≥ {} s and ≥ 20 runs, sequential on one connection; per_page={PER_PAGE}",
        args.seconds
    );
    println!(
        "  targets: first page of any filter+sort p99 < 50 ms; cursor page p99 < 50 ms; q p99 < 150 ms; filtered count < 1 s; \
         GET /users/{{id}} p99 < 5 ms"
    );
    println!(
        "  platform queries as the superadmin (session); `org …:` queries through an API key of that organization (users:read)"
    );
    println!();
    report::table(&results);
    println!();
    report::slowest(slowest, explained, &results, log_kept, &server_log);

    // Stop the server, then the cluster (the kept one keeps its data).
    server.stop();
    pg.stop().await.expect("cluster stops");
    if log_kept {
        println!();
        println!(
            "the seeded cluster is kept in {}; rerun with --keep {} --users {n} to skip seeding",
            base.display(),
            base.display()
        );
    }
}
