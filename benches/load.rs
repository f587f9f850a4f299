//! Load benchmark for `just bench`: starts the release `roster` on a fresh
//! embedded database, loads it on loopback, and prints
//! - logins/s against the limit `cores / (time of one bcrypt hash)`,
//! - `GET /me` requests/s and p99 while logins saturate the hashing pool,
//! - refreshes/s, and `GET /me` alone,
//! - `GET /orgs/{id}` authenticated by a session and by an API key,
//! - the server's peak RSS.
//!
//! Not a test: it asserts nothing and prints figures. Run with
//! `cargo build --release --bin roster && cargo bench --bench load -- --seconds 20`.

// A benchmark program, not server code: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use support::{arg, percentile, rss_kib};

const PASSWORD: &str = "bench password 1";

struct Server {
    child: Child,
    base: String,
    bin: PathBuf,
    data: tempfile::TempDir,
}

impl Server {
    /// `roster admin create` beside the running server (a guest of its cluster).
    fn create_superadmin(&self, email: &str) {
        let mut child = Command::new(&self.bin)
            .args(["admin", "create", "--email", email, "--password-stdin"])
            .env("ROSTER_DATA_DIR", self.data.path())
            .env("ROSTER_LOG__LEVEL", "warn")
            .env_remove("ROSTER_DATABASE_URL")
            // The bench's own setting, not the server's (its configuration refuses unknown keys).
            .env_remove("ROSTER_BIN")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("roster admin create starts");
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "roster admin create failed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM: the server drains and stops its embedded PostgreSQL.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn start_server(cost: u32) -> Server {
    let bin = std::env::var_os("ROSTER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/roster"));
    assert!(bin.exists(), "{} is missing: run `cargo build --release --bin roster` first", bin.display());
    let data = tempfile::Builder::new().prefix("roster-bench-").tempdir().expect("temp dir");
    // The embedded cluster may run as the `postgres` user, who must reach it.
    std::fs::set_permissions(data.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&bin)
        .env("ROSTER_DATA_DIR", data.path())
        .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"))
        .env("ROSTER_AUTH__BCRYPT_COST", cost.to_string())
        .env("ROSTER_LOG__LEVEL", "warn")
        .env_remove("ROSTER_DATABASE_URL")
        // The bench's own setting, not the server's (its configuration refuses unknown keys).
        .env_remove("ROSTER_BIN")
        .stdout(Stdio::null())
        .spawn()
        .expect("roster starts");
    Server { child, base: format!("http://127.0.0.1:{port}"), bin, data }
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> reqwest::Response {
    client.post(url).json(&body).send().await.expect("request")
}

/// Runs `f` in `n` loops until `stop`; counts successes.
fn spawn_loops<F, Fut>(n: usize, stop: Arc<AtomicBool>, ok: Arc<AtomicU64>, f: F) -> Vec<tokio::task::JoinHandle<()>>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = bool> + Send,
{
    (0..n)
        .map(|i| {
            let (stop, ok, f) = (stop.clone(), ok.clone(), f.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if f(i).await {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect()
}

/// How many login loops keep every hashing worker busy.
fn login_loops(cores: usize) -> usize {
    cores * 2 + 2
}

/// Runs `2 × cores + 2` login loops (and, with a token, 4 `GET /me` loops) for
/// `seconds`; returns logins/s, `GET /me`/s and the sorted `GET /me` latencies.
async fn login_phase(
    client: &reqwest::Client,
    base: &str,
    cores: usize,
    me_token: Option<&str>,
    seconds: u64,
) -> (f64, f64, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let logins = Arc::new(AtomicU64::new(0));
    let me_ok = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let (c, b) = (client.clone(), base.to_string());
    // One account per loop: lockout lets at most 5 attempts on one account
    // be under way at once (a slot each), and real sign-ins are of many accounts.
    let mut tasks = spawn_loops(login_loops(cores), stop.clone(), logins.clone(), move |i| {
        let (c, b) = (c.clone(), b.clone());
        async move {
            post(
                &c,
                format!("{b}/api/v1/auth/login"),
                json!({"email": format!("bench-{i}@example.com"), "password": PASSWORD}),
            )
            .await
            .status()
            .is_success()
        }
    });
    if let Some(token) = me_token {
        let (c, b, t, lat) = (client.clone(), base.to_string(), token.to_string(), latencies.clone());
        tasks.extend(spawn_loops(4, stop.clone(), me_ok.clone(), move |_| {
            let (c, b, t, lat) = (c.clone(), b.clone(), t.clone(), lat.clone());
            async move {
                let start = Instant::now();
                let ok = c
                    .get(format!("{b}/api/v1/me"))
                    .bearer_auth(&t)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                lat.lock().unwrap().push(start.elapsed());
                ok
            }
        }));
    }
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    (logins.load(Ordering::Relaxed) as f64 / elapsed, me_ok.load(Ordering::Relaxed) as f64 / elapsed, lat)
}

/// GET `url` with `token` from 8 loops for `seconds`: the rate of successes
/// and every latency, sorted.
async fn get_phase(client: &reqwest::Client, url: String, token: &str, seconds: u64) -> (f64, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let (c, u, t, l) = (client.clone(), url, token.to_string(), latencies.clone());
    let tasks = spawn_loops(8, stop.clone(), ok.clone(), move |_| {
        let (c, u, t, l) = (c.clone(), u.clone(), t.clone(), l.clone());
        async move {
            let start = Instant::now();
            let ok = c.get(&u).bearer_auth(&t).send().await.map(|r| r.status().is_success()).unwrap_or(false);
            l.lock().unwrap().push(start.elapsed());
            ok
        }
    });
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let rate = ok.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    (rate, lat)
}

fn main() {
    let seconds = arg("--seconds", 20);
    let cost = arg("--cost", 12) as u32;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    // The limit: one core does one hash at a time.
    let hash = bcrypt::hash("calibration", cost).unwrap();
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            bcrypt::verify("calibration", &hash).unwrap();
            t.elapsed()
        })
        .collect();
    times.sort();
    let t_hash = times[2];
    let limit = cores as f64 / t_hash.as_secs_f64();

    let server = start_server(cost);
    let pid = server.child.id();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async move {
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
        let base = server.base.clone();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{base}/health/ready")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(180), "server did not become ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let ready_after = started.elapsed();

        let r = post(&client, format!("{base}/api/v1/auth/register"), json!({"email": "bench@example.com", "password": PASSWORD})).await;
        assert!(r.status().is_success(), "register: {}", r.status());
        let me_token = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();

        for i in 0..login_loops(cores) {
            let r = post(&client, format!("{base}/api/v1/auth/register"), json!({"email": format!("bench-{i}@example.com"), "password": PASSWORD})).await;
            assert!(r.status().is_success(), "register: {}", r.status());
        }

        // Phase 0: does a failed login say whether the email exists? Compare
        // the medians of wrong-password and unknown-email attempts, interleaved
        // (4 per address, under the lockout's 5; a success clears the count).
        let mut wrong = Vec::new();
        let mut unknown = Vec::new();
        for i in 0..12 {
            let known = format!("bench-{}@example.com", i % 3);
            let nobody = format!("nobody-{}@example.com", i % 3);
            for (email, into) in [(known.as_str(), &mut wrong), (nobody.as_str(), &mut unknown)] {
                let t = Instant::now();
                let r = post(&client, format!("{base}/api/v1/auth/login"), json!({"email": email, "password": format!("wrong {i}")})).await;
                assert_eq!(r.status().as_u16(), 401);
                into.push(t.elapsed());
            }
        }
        for i in 0..3 {
            let r = post(&client, format!("{base}/api/v1/auth/login"), json!({"email": format!("bench-{i}@example.com"), "password": PASSWORD})).await;
            assert!(r.status().is_success(), "login after the failures: {}", r.status());
        }
        wrong.sort();
        unknown.sort();

        // Phase 1: logins alone, enough of them to keep every hashing worker
        // busy: this is what the `cores / t_hash` limit describes.
        let (alone_logins, _, _) = login_phase(&client, &base, cores, None, seconds).await;
        let login_rate = alone_logins;
        // Phase 1b: the same login load with GET /me alongside (4 connections).
        let (mixed_logins, me_under_load, lat) = login_phase(&client, &base, cores, Some(&me_token), seconds).await;

        // Phase 2: refresh chains, one per session.
        let mut refresh_tokens = Vec::new();
        for _ in 0..8 {
            let r = post(&client, format!("{base}/api/v1/auth/login"), json!({"email": "bench@example.com", "password": PASSWORD})).await;
            refresh_tokens.push(Arc::new(Mutex::new(r.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_string())));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let refreshes = Arc::new(AtomicU64::new(0));
        let (c, b) = (client.clone(), base.clone());
        let chains = Arc::new(refresh_tokens);
        let tasks = spawn_loops(8, stop.clone(), refreshes.clone(), move |i| {
            let (c, b, chains) = (c.clone(), b.clone(), chains.clone());
            async move {
                let token = chains[i].lock().unwrap().clone();
                let r = post(&c, format!("{b}/api/v1/auth/refresh"), json!({"refresh_token": token})).await;
                if !r.status().is_success() {
                    return false;
                }
                *chains[i].lock().unwrap() = r.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_string();
                true
            }
        });
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds.div_ceil(2))).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        let refresh_rate = refreshes.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();

        // Phase 3: GET /me alone.
        let (me_alone_rate, alone) = get_phase(&client, format!("{base}/api/v1/me"), &me_token, seconds.div_ceil(2)).await;

        // Phase 4: an organization read, authenticated by a session's access
        // token and by an API key (looked up by hash; its last use written
        // at most once a minute).
        server.create_superadmin("root@example.com");
        let r = post(&client, format!("{base}/api/v1/auth/login"), json!({"email": "root@example.com", "password": PASSWORD})).await;
        let root_token = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
        let org = format!("{base}/api/v1/orgs/{}", roster_domain::DEFAULT_ORG_ID);
        let r = client.post(format!("{org}/api-keys")).bearer_auth(&root_token).json(&json!({"name": "bench", "permissions": ["users:read"]})).send().await.unwrap();
        assert!(r.status().is_success(), "create key: {}", r.status());
        let key = r.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_string();
        let (org_session_rate, org_session) = get_phase(&client, org.clone(), &root_token, seconds.div_ceil(2)).await;
        let (org_key_rate, org_key) = get_phase(&client, org, &key, seconds.div_ceil(2)).await;

        // Phase 5: the MFA step of login. Users with an authenticator, and
        // challenges made beforehand (each login is a bcrypt hash); then each
        // challenge redeemed with a recovery code (a TOTP code works once per
        // step, a recovery code once), 8 at a time.
        let (mfa_users, per_user) = (12, 10);
        let mut pending = Vec::new();
        for u in 0..mfa_users {
            let email = format!("mfa-{u}@example.com");
            let r = post(&client, format!("{base}/api/v1/auth/register"), json!({"email": email, "password": PASSWORD})).await;
            let token = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
            let r = client.post(format!("{base}/api/v1/me/mfa/totp")).bearer_auth(&token).json(&json!({"current_password": PASSWORD})).send().await.unwrap();
            let secret = roster_domain::auth::TotpSecret::from_base32(r.json::<Value>().await.unwrap()["secret"].as_str().unwrap()).unwrap();
            let step = roster_domain::auth::totp::step_at(chrono::Utc::now().timestamp());
            let r = client.post(format!("{base}/api/v1/me/mfa/totp/confirm")).bearer_auth(&token).json(&json!({"code": secret.code(step).unwrap()})).send().await.unwrap();
            assert!(r.status().is_success(), "confirm: {}", r.status());
            let codes = r.json::<Value>().await.unwrap()["recovery_codes"].clone();
            for c in 0..per_user {
                let r = post(&client, format!("{base}/api/v1/auth/login"), json!({"email": email, "password": PASSWORD})).await;
                let challenge = r.json::<Value>().await.unwrap()["challenge"].as_str().unwrap().to_string();
                pending.push(json!({"challenge": challenge, "recovery_code": codes[c]}));
            }
        }
        // Interleaved by user, so the 8 concurrent verifies are of different
        // accounts (lockout lets 5 attempts on one account be under way at once).
        let mut pending: Vec<Value> =
            (0..per_user).flat_map(|c| (0..mfa_users).map(move |u| u * per_user + c)).map(|i| pending[i].clone()).collect();
        pending.reverse();
        let pending = Arc::new(Mutex::new(pending));
        let verified = Arc::new(AtomicU64::new(0));
        let verify_lat = Arc::new(Mutex::new(Vec::new()));
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (c, b, pending, verified, lat) = (client.clone(), base.clone(), pending.clone(), verified.clone(), verify_lat.clone());
                tokio::spawn(async move {
                    loop {
                        let Some(body) = pending.lock().unwrap().pop() else { break };
                        let t = Instant::now();
                        if post(&c, format!("{b}/api/v1/auth/mfa/verify"), body).await.status().is_success() {
                            verified.fetch_add(1, Ordering::Relaxed);
                        }
                        lat.lock().unwrap().push(t.elapsed());
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
        let verify_rate = verified.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
        assert_eq!(verified.load(Ordering::Relaxed), (mfa_users * per_user) as u64, "every challenge signs in");
        let mut verify_lat = verify_lat.lock().unwrap().clone();
        verify_lat.sort();

        let (rss, hwm) = rss_kib(pid);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("roster load benchmark — {cores} cores, bcrypt cost {cost}, {seconds} s phases (server ready after {:.1} s)", ready_after.as_secs_f64());
        println!("  one bcrypt hash            {:>9.1} ms  → limit {limit:.2} logins/s", ms(t_hash));
        println!("  failed login, median       {:>9.1} ms wrong password, {:.1} ms unknown email (same work: no enumeration by timing)", ms(percentile(&wrong, 0.5)), ms(percentile(&unknown, 0.5)));
        println!("  logins                     {login_rate:>9.2} /s   ({:.1} % of the limit; target ≥ 90 %)", 100.0 * login_rate / limit);
        println!("  logins with GET /me load   {mixed_logins:>9.2} /s");
        println!("  GET /me during logins      {me_under_load:>9.0} /s   p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms (target p99 < 10 ms)", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)), ms(percentile(&lat, 1.0)));
        println!("  refreshes                  {refresh_rate:>9.0} /s   (8 concurrent chains)");
        println!("  GET /me alone              {me_alone_rate:>9.0} /s   p50 {:.2} ms  p99 {:.2} ms", ms(percentile(&alone, 0.5)), ms(percentile(&alone, 0.99)));
        println!("  GET /orgs/{{id}}, session    {org_session_rate:>9.0} /s   p50 {:.2} ms  p99 {:.2} ms", ms(percentile(&org_session, 0.5)), ms(percentile(&org_session, 0.99)));
        println!("  GET /orgs/{{id}}, API key    {org_key_rate:>9.0} /s   p50 {:.2} ms  p99 {:.2} ms", ms(percentile(&org_key, 0.5)), ms(percentile(&org_key, 0.99)));
        println!("  MFA verify                 {verify_rate:>9.0} /s   p50 {:.2} ms  p99 {:.2} ms ({} challenges, recovery codes, 8 concurrent)", ms(percentile(&verify_lat, 0.5)), ms(percentile(&verify_lat, 0.99)), mfa_users * per_user);
        println!("  server RSS                 {:>9.1} MiB now, {:.1} MiB peak (target < 64 MiB; the embedded PostgreSQL is separate processes)", rss as f64 / 1024.0, hwm as f64 / 1024.0);
        drop(server);
    });
}
