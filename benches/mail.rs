//! Mail benchmark for `just bench-mail`: starts the release `roster` on a fresh
//! embedded database, its mail going to an in-process SMTP server on loopback
//! (`roster_testkit::TestSmtpServer`), and prints
//! - `POST /auth/password/forgot` response times for registered and unknown
//!   addresses, without and with the response-time floor (enumeration by timing),
//! - outbox throughput (delivered messages/s) and end-to-end latency (request
//!   sent → message received) with one server process, then with two sharing
//!   the embedded database, and how many messages arrived twice (must be 0),
//! - the servers' peak RSS.
//!
//! Not a test: it asserts nothing about the figures and prints them. Run with
//! `cargo build --release --bin roster && cargo bench --bench mail -- --requests 400 --messages 2000`
//! (`--users 50`: registered addresses, cycled through by both phases).

// A benchmark program, not server code: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use roster_testkit::{smtp::parse, TestSmtpServer};
use serde_json::{json, Value};
use support::{arg, percentile, rss_kib};

const PASSWORD: &str = "bench password 1";
/// Concurrent clients while registering and while queueing mail.
const CLIENTS: usize = 16;
/// Untimed requests before the timed ones (even, so both kinds warm up).
const WARMUP: usize = 20;
/// `mail.worker.poll_interval_ms` of every server.
const POLL_MS: u64 = 50;
/// The default `http.mail_request_floor_ms`.
const FLOOR_MS: u64 = 250;

struct Server {
    child: Child,
    base: String,
    _data: Arc<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM: the server drains; the owner stops its embedded PostgreSQL, a guest leaves it.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn data_dir() -> Arc<tempfile::TempDir> {
    let data = tempfile::Builder::new().prefix("roster-bench-mail-").tempdir().expect("temp dir");
    // The embedded cluster may run as the `postgres` user, who must reach it.
    std::fs::set_permissions(data.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    Arc::new(data)
}

/// Starts `roster` on `data`: the first process owns the embedded cluster, a
/// later one on the same directory joins it as a guest (like `roster admin`).
fn start_server(data: &Arc<tempfile::TempDir>, smtp_url: &str, floor_ms: u64, worker: bool) -> Server {
    let bin = std::env::var_os("ROSTER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/roster"));
    assert!(bin.exists(), "{} is missing: run `cargo build --release --bin roster` first", bin.display());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&bin)
        .env("ROSTER_DATA_DIR", data.path())
        .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"))
        .env("ROSTER_SMTP_URL", smtp_url)
        .env("ROSTER_AUTH__BCRYPT_COST", "10")
        .env("ROSTER_HTTP__MAIL_REQUEST_FLOOR_MS", floor_ms.to_string())
        .env("ROSTER_RATE_LIMITS__FORGOT_PASSWORD__PER_ADDRESS", "1000000")
        .env("ROSTER_RATE_LIMITS__FORGOT_PASSWORD__PER_IP", "1000000")
        .env("ROSTER_MAIL__WORKER__ENABLED", worker.to_string())
        .env("ROSTER_MAIL__WORKER__POLL_INTERVAL_MS", POLL_MS.to_string())
        .env("ROSTER_LOG__LEVEL", "warn")
        .env_remove("ROSTER_DATABASE_URL")
        // The bench's own setting, not the server's (its configuration refuses unknown keys).
        .env_remove("ROSTER_BIN")
        .env_remove("ROSTER_CONFIG")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    Server { child, base: format!("http://127.0.0.1:{port}"), _data: data.clone() }
}

async fn wait_ready(client: &reqwest::Client, server: &mut Server) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{}/health/ready", server.base)).send().await {
            if r.status().is_success() {
                return started.elapsed();
            }
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("roster exited before it was ready ({status}); its log is above");
        }
        assert!(started.elapsed() < Duration::from_secs(180), "server did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> reqwest::Response {
    client.post(url).json(&body).send().await.expect("request")
}

async fn forgot(client: &reqwest::Client, base: &str, email: &str) {
    let r = post(client, format!("{base}/api/v1/auth/password/forgot"), json!({"email": email})).await;
    assert_eq!(r.status().as_u16(), 202, "forgot {email}");
}

/// Calls `f(i)` for every `i < n`, from `CLIENTS` concurrent tasks.
async fn fan_out<F, Fut>(n: usize, f: F)
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (next, f) = (next.clone(), f.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    f(i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client task");
    }
}

/// `n` forgot requests, one at a time, alternating a registered and an unknown
/// address, after `WARMUP` untimed ones. Returns both sorted latencies and how
/// many letters were queued (one per request for a registered address).
async fn forgot_timings(
    client: &reqwest::Client,
    base: &str,
    known: &[String],
    n: usize,
    tag: &str,
) -> (Vec<Duration>, Vec<Duration>, usize) {
    let (mut hit, mut miss, mut queued) = (Vec::new(), Vec::new(), 0);
    for i in 0..WARMUP + n {
        let is_known = i % 2 == 0;
        let email = if is_known { known[i / 2 % known.len()].clone() } else { format!("nobody-{tag}-{i}@example.com") };
        let t = Instant::now();
        forgot(client, base, &email).await;
        let took = t.elapsed();
        queued += usize::from(is_known);
        match (i >= WARMUP, is_known) {
            (true, true) => hit.push(took),
            (true, false) => miss.push(took),
            _ => {}
        }
    }
    hit.sort();
    miss.sort();
    (hit, miss, queued)
}

fn print_timings(label: &str, known: &[Duration], unknown: &[Duration]) {
    println!("  {label}");
    println!("    {:<8} {:>6} {:>9} {:>9} {:>9} {:>9}", "address", "count", "p50 ms", "p90 ms", "p99 ms", "max ms");
    for (name, d) in [("known", known), ("unknown", unknown)] {
        let [p50, p90, p99, max] = [0.5, 0.9, 0.99, 1.0].map(|p| ms(percentile(d, p)));
        println!("    {name:<8} {:>6} {p50:>9.2} {p90:>9.2} {p99:>9.2} {max:>9.2}", d.len());
    }
    let (k, u) = (ms(percentile(known, 0.5)), ms(percentile(unknown, 0.5)));
    println!("    median known − unknown: {:+.2} ms (known/unknown {:.2}×)", k - u, k / u.max(1e-9));
}

/// Arrival times of messages `before..`, noted as they come (within a few ms),
/// until `n` arrived or none came for 10 s.
async fn watch(smtp: &TestSmtpServer, before: usize, n: usize) -> Vec<Instant> {
    let mut arrivals = Vec::with_capacity(n);
    let mut last_new = Instant::now();
    while arrivals.len() < n && last_new.elapsed() < Duration::from_secs(10) {
        let seen = before + arrivals.len();
        let count = smtp.wait_for(seen + 1, Duration::from_millis(500)).await.len();
        let now = Instant::now();
        if count > seen {
            arrivals.resize(count - before, now);
            last_new = now;
        }
        // `messages()` copies every message so far: look again a little later, not per message.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    arrivals
}

struct Throughput {
    queued_in: Duration,
    delivered: usize,
    duplicates: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// Queues `m` reset letters from `CLIENTS` clients (request `i` to
/// `bases[i % len]`, for `users[i % len]`) and times their delivery.
async fn throughput(
    client: &reqwest::Client,
    bases: &[String],
    smtp: &TestSmtpServer,
    users: &[String],
    m: usize,
) -> Throughput {
    let before = smtp.messages().len();
    let sent = Arc::new(Mutex::new(Vec::with_capacity(m)));
    let (c, b, u, s) = (client.clone(), Arc::new(bases.to_vec()), Arc::new(users.to_vec()), sent.clone());
    let t0 = Instant::now();
    let send = fan_out(m, move |i| {
        let (c, b, u, s) = (c.clone(), b.clone(), u.clone(), s.clone());
        async move {
            let email = &u[i % u.len()];
            let at = Instant::now();
            forgot(&c, &b[i % b.len()], email).await;
            s.lock().unwrap().push((email.clone(), at));
        }
    });
    let (queued_in, arrivals) = tokio::join!(
        async {
            send.await;
            t0.elapsed()
        },
        watch(smtp, before, m)
    );
    let elapsed = arrivals.last().map_or(Duration::ZERO, |a| a.duration_since(t0));
    // A second copy of a message would come right after the first: give it time to.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let messages = smtp.messages();
    let new = &messages[before..];
    let mut ids = HashSet::new();
    let duplicates = new.iter().filter(|m| !ids.insert(parse(&m.data).message_id.unwrap_or_default())).count();

    // The k-th request for an address ↔ the k-th message to it.
    let mut received: HashMap<&str, Vec<Instant>> = HashMap::new();
    for (mail, at) in new.iter().zip(&arrivals) {
        received.entry(mail.recipients.first().map_or("", String::as_str)).or_default().push(*at);
    }
    let mut requested: HashMap<String, Vec<Instant>> = HashMap::new();
    for (email, at) in sent.lock().unwrap().drain(..) {
        requested.entry(email).or_default().push(at);
    }
    let mut latencies = Vec::with_capacity(m);
    for (email, mut sends) in requested {
        sends.sort();
        let got = received.get(email.as_str()).map_or(&[][..], Vec::as_slice);
        latencies.extend(sends.iter().zip(got).map(|(s, r)| r.saturating_duration_since(*s)));
    }
    latencies.sort();
    Throughput { queued_in, delivered: arrivals.len(), duplicates, elapsed, latencies }
}

fn print_throughput(label: &str, m: usize, t: &Throughput) {
    let rate = t.delivered as f64 / t.elapsed.as_secs_f64().max(1e-9);
    let queue_rate = m as f64 / t.queued_in.as_secs_f64().max(1e-9);
    let [p50, p90, p99, max] = [0.5, 0.9, 0.99, 1.0].map(|p| ms(percentile(&t.latencies, p)));
    println!("  {label}");
    println!("    queued      {m:>7} letters in {:.2} s  ({queue_rate:.0} requests/s)", t.queued_in.as_secs_f64());
    println!(
        "    delivered   {:>7} of {m} in {:.2} s from the first request  → {rate:.0} messages/s",
        t.delivered,
        t.elapsed.as_secs_f64()
    );
    println!("    request sent → message received: p50 {p50:.0} ms  p90 {p90:.0} ms  p99 {p99:.0} ms  max {max:.0} ms");
    println!("    duplicates  {:>7} (by Message-ID; must be 0)", t.duplicates);
}

fn print_rss(name: &str, pid: u32) {
    let (rss, hwm) = rss_kib(pid);
    println!(
        "    {name:<32} {:>7.1} MiB now, {:.1} MiB peak (the embedded PostgreSQL is separate processes)",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
}

async fn run(requests: usize, messages: usize, users: usize) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let smtp = TestSmtpServer::start().await.expect("test SMTP server");
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let data = data_dir();
    let mut a = start_server(&data, &smtp.url(), 0, true);
    let ready_after = wait_ready(&client, &mut a).await;
    println!(
        "roster mail benchmark — {cores} cores, bcrypt cost 10, worker poll {POLL_MS} ms, {users} users \
         (server ready after {:.1} s)",
        ready_after.as_secs_f64()
    );

    let emails: Vec<String> = (0..users).map(|i| format!("mail-bench-{i}@example.com")).collect();
    let (c, b, e) = (client.clone(), a.base.clone(), Arc::new(emails.clone()));
    fan_out(users, move |i| {
        let (c, b, e) = (c.clone(), b.clone(), e.clone());
        async move {
            let r = post(&c, format!("{b}/api/v1/auth/register"), json!({"email": e[i], "password": PASSWORD})).await;
            assert!(r.status().is_success(), "register {}: {}", e[i], r.status());
        }
    })
    .await;
    let mut expected = users; // one verification letter each

    println!();
    println!("forgot-password response time, registered (known) vs unknown address, {requests} sequential requests");
    println!("  A registered address costs a reset token and a queued letter, an unknown one only a lookup:");
    println!("  without a floor the difference may tell an attacker which addresses have accounts. The floor");
    println!("  (http.mail_request_floor_ms) pads every answer, so with it both should sit just above {FLOOR_MS} ms.");
    let (known, unknown, queued) = forgot_timings(&client, &a.base, &emails, requests, "nofloor").await;
    expected += queued;
    print_timings("floor 0 ms (ROSTER_HTTP__MAIL_REQUEST_FLOOR_MS=0)", &known, &unknown);
    // A second process on the same cluster, with the default floor and no worker of its own.
    let mut floored = start_server(&data, &smtp.url(), FLOOR_MS, false);
    wait_ready(&client, &mut floored).await;
    let (known, unknown, queued) = forgot_timings(&client, &floored.base, &emails, requests, "floor").await;
    expected += queued;
    print_timings(&format!("floor {FLOOR_MS} ms (the default)"), &known, &unknown);
    drop(floored);

    // Start the throughput phases with an empty outbox.
    let drained = smtp.wait_for(expected, Duration::from_secs(120)).await.len();
    assert!(drained >= expected, "only {drained} of {expected} letters arrived before the throughput phase");

    println!();
    println!(
        "outbox throughput: {messages} reset letters queued by {CLIENTS} concurrent clients (floor 0), \
         delivered to the test SMTP server"
    );
    let one = throughput(&client, std::slice::from_ref(&a.base), &smtp, &emails, messages).await;
    print_throughput("one server process", messages, &one);
    let a_pid = a.child.id();
    let (_, a_hwm) = rss_kib(a_pid);

    let mut second = start_server(&data, &smtp.url(), 0, true);
    wait_ready(&client, &mut second).await;
    let bases = [a.base.clone(), second.base.clone()];
    let two = throughput(&client, &bases, &smtp, &emails, messages).await;
    print_throughput("two server processes sharing the database (requests alternate)", messages, &two);

    println!();
    println!("server memory");
    println!("    {:<32} {:>7.1} MiB peak after the one-process run", "first process", a_hwm as f64 / 1024.0);
    print_rss("first process, at the end", a_pid);
    print_rss("second process, at the end", second.child.id());
    drop(second);
    drop(a);
}

fn main() {
    let requests = arg("--requests", 400) as usize;
    let messages = arg("--messages", 2000) as usize;
    let users = arg("--users", 50).max(1) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(requests, messages, users));
}
