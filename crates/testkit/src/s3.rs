//! An in-process S3-compatible server on loopback: [s3s](https://docs.rs/s3s)
//! with SigV4 authentication over [s3s-fs](https://docs.rs/s3s-fs) (objects
//! are files in a temporary directory), one bucket, HTTP/1 on
//! `127.0.0.1:PORT`.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let s3 = roster_testkit::TestS3Server::start().await?;
//! // ... point an S3 client at s3.endpoint() (path style, plain HTTP)
//! // with s3.access_key() / s3.secret_key() / s3.region() ...
//! s3.set_down(true).await?; // connections refused from now on
//! s3.set_down(false).await?; // back on the same port
//! # Ok(()) }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};

const BUCKET: &str = "roster-test";
const REGION: &str = "us-east-1";
/// How long `set_down(false)` tries to bind the port again.
const REBIND_FOR: Duration = Duration::from_secs(5);

/// The server; stops (closing every connection) and removes its files when dropped.
pub struct TestS3Server {
    addr: SocketAddr,
    access_key: String,
    secret_key: String,
    service: UpOnly,
    /// The accept loop while up; `None` while down.
    task: Mutex<Option<JoinHandle<()>>>,
    dir: tempfile::TempDir,
}

impl TestS3Server {
    /// Listens on `127.0.0.1:0` with a fresh directory, one bucket
    /// ([`bucket`](Self::bucket)) and random keys.
    pub async fn start() -> anyhow::Result<TestS3Server> {
        let dir = tempfile::Builder::new().prefix("roster-s3-").tempdir()?;
        std::fs::create_dir(dir.path().join(BUCKET))?;
        let fs = s3s_fs::FileSystem::new(dir.path()).map_err(|e| anyhow::anyhow!("s3s-fs: {e:?}"))?;
        let access_key = format!("ROSTER{}", &uuid::Uuid::new_v4().simple().to_string()[..14]).to_uppercase();
        let secret_key = uuid::Uuid::new_v4().simple().to_string();
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(access_key.clone(), secret_key.clone()));
        let service = UpOnly { service: builder.build(), down: Arc::new(AtomicBool::new(false)) };

        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(accept_loop(listener, service.clone()));
        Ok(TestS3Server { addr, access_key, secret_key, service, task: Mutex::new(Some(task)), dir })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (requests are path-style: `/{bucket}/{key}`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn bucket(&self) -> &str {
        BUCKET
    }

    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// Any region signs correctly; this is the one to use.
    pub fn region(&self) -> &str {
        REGION
    }

    /// `s3://{bucket}`.
    pub fn storage_url(&self) -> String {
        format!("s3://{BUCKET}")
    }

    /// Where the objects are kept (one directory per bucket).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Down: the accept loop stops, the listener is closed (new connections
    /// are refused) and open connections are closed (a request on one is
    /// reset); a request already being read is dropped unanswered. Up
    /// again: the same port is bound again (retried for a few seconds while
    /// the old socket goes away) and served as before, objects intact.
    ///
    /// Returns once the change is in effect; fails only if the port cannot
    /// be bound again.
    pub async fn set_down(&self, down: bool) -> anyhow::Result<()> {
        let mut task = self.task.lock().await;
        self.service.down.store(down, Ordering::SeqCst);
        if down {
            if let Some(running) = task.take() {
                running.abort();
                // Once the aborted task is joined its listener and
                // connections have been dropped.
                let _ = running.await;
            }
        } else if task.is_none() {
            let listener = rebind(self.addr).await?;
            *task = Some(tokio::spawn(accept_loop(listener, self.service.clone())));
        }
        Ok(())
    }
}

impl Drop for TestS3Server {
    fn drop(&mut self) {
        self.service.down.store(true, Ordering::SeqCst);
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        if let Some(task) = self.task.get_mut().take() {
            task.abort();
        }
    }
}

async fn rebind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let deadline = tokio::time::Instant::now() + REBIND_FOR;
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("test S3 server: binding {addr} again")),
        }
    }
}

async fn accept_loop(listener: TcpListener, service: UpOnly) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) if service.down.load(Ordering::SeqCst) => drop(stream),
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let service = service.clone();
                    connections.spawn(async move {
                        let connection = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service);
                        if let Err(e) = connection.await {
                            tracing::debug!(error = %e, "test S3 connection ended");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "test S3 server: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// The S3 service, refusing to answer while the server is down (hyper then
/// closes the connection without a response), so no request slips through
/// between `set_down(true)` and the connections' end.
#[derive(Clone)]
struct UpOnly {
    service: S3Service,
    down: Arc<AtomicBool>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Service<hyper::Request<Incoming>> for UpOnly {
    type Response = s3s::HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(BoxError::from("test S3 server is down")) });
        }
        let answer = Service::call(&self.service, req);
        Box::pin(async move { answer.await.map_err(|e| BoxError::from(format!("{e:?}"))) })
    }
}
