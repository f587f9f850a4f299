//! Picture benchmark for `just bench-images` (after the pipeline's own
//! `render` bench): starts the release `roster` on a fresh embedded database
//! with the file store, and prints
//! - uploads/s of a 12-megapixel JPEG with 4 concurrent clients,
//! - `GET /images/{id}` requests/s, p50 and p99 (32 connections),
//! - the server's peak RSS across 8 concurrent 40-megapixel uploads.
//!
//! Not a test: it asserts nothing about speed and prints figures. Run with
//! `cargo build --release --bin roster && cargo bench --bench images -- --seconds 10`.

// A benchmark program, not server code: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::{
    io::Write as _,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use image::{codecs::jpeg::JpegEncoder, ImageEncoder, RgbImage};
use serde_json::{json, Value};
use support::{arg, percentile, rss_kib};

const PASSWORD: &str = "bench password 1";

struct Server {
    child: Child,
    base: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let bin = std::env::var_os("ROSTER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/roster"));
    assert!(bin.exists(), "{} is missing: run `cargo build --release --bin roster` first", bin.display());
    let data = tempfile::Builder::new().prefix("roster-bench-images-").tempdir().expect("temp dir");
    std::fs::set_permissions(data.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut admin = Command::new(&bin)
        .args(["admin", "create", "--email", "root@example.com", "--password-stdin"])
        .env("ROSTER_DATA_DIR", data.path())
        .env("ROSTER_LOG__LEVEL", "warn")
        .env_remove("ROSTER_DATABASE_URL")
        .env_remove("ROSTER_BIN")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("roster admin create starts");
    admin.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
    assert!(admin.wait().unwrap().success(), "roster admin create failed");
    let child = Command::new(&bin)
        .env("ROSTER_DATA_DIR", data.path())
        .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"))
        .env("ROSTER_AUTH__BCRYPT_COST", "10")
        .env("ROSTER_LOG__LEVEL", "warn")
        // 40-megapixel JPEGs of noise are larger than the default 10 MiB.
        .env("ROSTER_IMAGES__MAX_UPLOAD_BYTES", (64 * 1024 * 1024).to_string())
        .env_remove("ROSTER_DATABASE_URL")
        .env_remove("ROSTER_BIN")
        .stdout(Stdio::null())
        .spawn()
        .expect("roster starts");
    Server { child, base: format!("http://127.0.0.1:{port}"), _data: data }
}

/// A photo-like `w`×`h` JPEG: smooth gradients with grain, at quality 90.
fn photo(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x9E37_79B9u32;
    let img = RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let grain = (seed % 24) as i32 - 12;
        let c = |v: u32| (v as i32 + grain).clamp(0, 255) as u8;
        image::Rgb([c(x * 255 / w), c(y * 255 / h), c((x + y) * 127 / (w + h) + 64)])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

async fn upload(client: &reqwest::Client, base: &str, token: &str, bytes: Vec<u8>) -> (bool, Value) {
    let r = client
        .put(format!("{base}/api/v1/me/avatar"))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await
        .expect("upload sent");
    let ok = r.status().is_success();
    (ok, r.json().await.unwrap_or(Value::Null))
}

async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "login {email}: {}", r.status());
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

/// `n` users, each signed in (one picture each, so uploads do not contend on one row).
async fn users(client: &reqwest::Client, base: &str, root: &str, n: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..n {
        let email = format!("pic{i}-{}@example.com", std::process::id());
        let r = client
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(root)
            .json(&json!({"email": email, "password": PASSWORD, "email_verified": true}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "create user: {}", r.status());
        tokens.push(login(client, base, &email).await);
    }
    tokens
}

fn main() {
    let seconds = arg("--seconds", 10);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("making a 12 MP and a 40 MP JPEG…");
    let twelve = photo(4000, 3000);
    let forty = photo(8000, 5000);
    let server = start_server();
    let pid = server.child.id();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async move {
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
        let base = server.base.clone();
        let started = Instant::now();
        while !client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
            assert!(started.elapsed() < Duration::from_secs(180), "server did not become ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let root = login(&client, &base, "root@example.com").await;
        let tokens = users(&client, &base, &root, 8).await;

        // Phase 1: 12 MP uploads, 4 clients, for `seconds`.
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for token in &tokens[..4] {
            let (client, base, stop, done, latencies, bytes, token) = (
                client.clone(),
                base.clone(),
                stop.clone(),
                done.clone(),
                latencies.clone(),
                twelve.clone(),
                token.clone(),
            );
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let (ok, _) = upload(&client, &base, &token, bytes.clone()).await;
                    assert!(ok, "a 12 MP upload failed");
                    latencies.lock().unwrap().push(t.elapsed());
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        let upload_rate = done.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
        let mut up = latencies.lock().unwrap().clone();
        up.sort();

        // Phase 2: GET /images/{id}?size=mid, 32 connections, no token.
        let (_, shown) = upload(&client, &base, &tokens[0], twelve.clone()).await;
        let url = format!("{base}{}", shown["avatar"]["urls"]["mid"].as_str().unwrap());
        let size = client.get(&url).send().await.unwrap().bytes().await.unwrap().len();
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (client, url, stop, done, latencies) =
                (client.clone(), url.clone(), stop.clone(), done.clone(), latencies.clone());
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = client.get(&url).send().await.unwrap();
                    let ok = r.status().is_success() && r.bytes().await.is_ok();
                    mine.push(t.elapsed());
                    if ok {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.lock().unwrap().extend(mine);
            }));
        }
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        let get_rate = done.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
        let mut gets = latencies.lock().unwrap().clone();
        gets.sort();
        let (_, hwm_before) = rss_kib(pid);

        // Phase 3: 8 concurrent 40 MP uploads; the server's peak RSS.
        let t0 = Instant::now();
        let uploads: Vec<_> = tokens
            .iter()
            .cloned()
            .map(|token| {
                let (client, base, bytes) = (client.clone(), base.clone(), forty.clone());
                tokio::spawn(async move { upload(&client, &base, &token, bytes).await.0 })
            })
            .collect();
        let mut ok = 0;
        for u in uploads {
            ok += usize::from(u.await.unwrap());
        }
        let forty_secs = t0.elapsed().as_secs_f64();
        let (rss, hwm) = rss_kib(pid);

        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("roster images benchmark — {cores} cores, file store, {seconds} s phases");
        println!(
            "  12 MP JPEG ({:.1} MB) uploads, 4 clients   {upload_rate:>8.2} /s   p50 {:.0} ms  p99 {:.0} ms",
            twelve.len() as f64 / 1e6,
            ms(percentile(&up, 0.5)),
            ms(percentile(&up, 0.99))
        );
        println!(
            "  GET /images/{{id}}?size=mid ({size} B), 32 conns {get_rate:>8.0} /s   p50 {:.2} ms  p99 {:.2} ms",
            ms(percentile(&gets, 0.5)),
            ms(percentile(&gets, 0.99))
        );
        println!("  peak RSS before the 40 MP uploads       {:>8.1} MiB", hwm_before as f64 / 1024.0);
        println!(
            "  8 × 40 MP JPEG ({:.1} MB) at once         {ok}/8 stored in {forty_secs:.1} s",
            forty.len() as f64 / 1e6
        );
        println!(
            "  peak RSS (VmHWM) after them             {:>8.1} MiB   (now {:.1} MiB)",
            hwm as f64 / 1024.0,
            rss as f64 / 1024.0
        );
    });
}
