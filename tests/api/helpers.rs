use std::net::TcpListener;

use reqwest::{Method, Response, StatusCode};
use roster::{config::Config, config::Secret, worker::OutboxWorker, Roster};
use roster_testkit::{
    smtp::{parse, ParsedMail},
    TestDatabase, TestSmtpServer,
};
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery";

/// The metrics token of every test app (`metrics.token`) unless a test
/// changes it: `/metrics` on the public listener answers only its bearer.
pub const METRICS_TOKEN: &str = "metrics-token-of-the-end-to-end-tests";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub roster_pool: roster_postgres::pool::PgPool,
    pub services: roster_domain::service::Services,
    pub db: TestDatabase,
    pub config: Config,
    pub handle: actix_web::dev::ServerHandle,
    /// `http://127.0.0.1:<port>` of the metrics listener, with `metrics.listen`.
    pub metrics_base: Option<String>,
    pub metrics_handle: Option<actix_web::dev::ServerHandle>,
    /// The relay this app sends to (`smtp_url`).
    pub smtp: TestSmtpServer,
    /// This app's outbox worker (polling every 50 ms), held so that it runs
    /// as long as the app; `None` when turned off.
    pub _worker: Option<OutboxWorker>,
    /// Where this app keeps pictures (`storage_url`), removed with the app.
    pub objects: Objects,
}

/// Where a test app keeps pictures: a directory of its own (the file
/// store), or a real S3-compatible server on loopback.
pub enum Objects {
    Dir(tempfile::TempDir),
    S3(roster_testkit::TestS3Server),
}

impl Objects {
    fn configure(&self, config: &mut Config) {
        match self {
            Objects::Dir(dir) => config.storage_url = Some(format!("file://{}", dir.path().display())),
            Objects::S3(s3) => {
                config.storage_url = Some(s3.storage_url());
                config.storage.endpoint = Some(s3.endpoint());
                config.storage.region = Some(s3.region().to_string());
                config.storage.path_style = true;
                config.storage.allow_http = true;
                config.storage.access_key_id = Some(s3.access_key().to_string());
                config.storage.secret_access_key = Some(s3.secret_key().to_string());
                config.storage.timeout_secs = 3;
                config.storage.connect_timeout_secs = 1;
                config.storage.max_retries = 0;
            }
        }
    }
}

/// A signed-in user: their id and tokens.
#[derive(Clone, Debug, Default)]
pub struct Session {
    pub id: String,
    pub email: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let objects = Objects::Dir(tempfile::tempdir().expect("a directory for objects"));
        Self::spawn_on(objects, tweak).await
    }

    /// An app keeping its pictures on a fresh S3-compatible test server.
    pub async fn spawn_with_s3() -> TestApp {
        let s3 = roster_testkit::TestS3Server::start().await.expect("test S3 server");
        Self::spawn_on(Objects::S3(s3), |_| {}).await
    }

    pub async fn spawn_on(objects: Objects, tweak: impl FnOnce(&mut Config)) -> TestApp {
        // `ROSTER_TEST_LOG=debug cargo test …` shows the app's logs.
        if let Ok(filter) = std::env::var("ROSTER_TEST_LOG") {
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        }
        let db = roster_testkit::fresh_database().await.expect("test database");
        let smtp = TestSmtpServer::start().await.expect("test SMTP server");
        let mut config = Config::default();
        config.smtp_url = Some(Secret::new(smtp.url()));
        config.mail.timeout_secs = 2;
        config.mail.worker.poll_interval_ms = 50;
        config.mail.worker.base_delay_secs = 1;
        config.mail.worker.max_delay_secs = 1;
        config.mail.worker.lease_secs = 12;
        config.http.mail_request_floor_ms = 0;
        config.database_url = Some(Secret::new(db.url()));
        config.key_encryption_secret = Some(Secret::new(hex::encode(rand::random::<[u8; 32]>())));
        config.auth.bcrypt_cost = 10;
        config.http.workers = Some(2);
        config.http.shutdown_timeout_secs = 1;
        config.database.max_connections = 8;
        config.metrics.token = Some(Secret::new(METRICS_TOKEN));
        config.images.workers = Some(2);
        objects.configure(&mut config);
        tweak(&mut config);
        config.validate().expect("valid test config");
        let roster = Roster::build(&config, db.url()).await.expect("app builds");
        let worker = roster.start_worker();
        let pool = roster.pool.clone();
        let services = roster.state.services.clone();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (metrics_base, metrics_handle) = match config.metrics.listen {
            Some(at) => {
                let listener = TcpListener::bind(at).unwrap();
                let base = format!("http://{}", listener.local_addr().unwrap());
                let server = roster.serve_metrics(listener).expect("metrics server");
                let handle = server.handle();
                tokio::spawn(server);
                (Some(base), Some(handle))
            }
            None => (None, None),
        };
        let server = roster.serve(listener).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            // Redirects are answers too: tests see them, not where they lead.
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            roster_pool: pool,
            services,
            db,
            config,
            handle,
            metrics_base,
            metrics_handle,
            smtp,
            _worker: worker,
            objects,
        }
    }

    /// Waits (up to 10 s) until `n` messages in all reached the relay, and
    /// returns every message so far, parsed.
    pub async fn mails(&self, n: usize) -> Vec<ParsedMail> {
        let got = self.smtp.wait_for(n, std::time::Duration::from_secs(10)).await;
        assert!(got.len() >= n, "expected {n} messages, {} arrived", got.len());
        got.iter().map(|m| parse(&m.data)).collect()
    }

    /// The newest message to `address`, waiting until `n` messages in all arrived.
    pub async fn mail_to(&self, address: &str, n: usize) -> ParsedMail {
        let all = self.mails(n).await;
        all.into_iter()
            .rev()
            .find(|m| m.to.iter().any(|a| a.address.eq_ignore_ascii_case(address)))
            .unwrap_or_else(|| panic!("no message to {address}"))
    }

    /// The first message to `address` whose text contains `needle` (a link's
    /// path, say), waiting for it up to 10 s whatever else arrives.
    pub async fn letter_to(&self, address: &str, needle: &str) -> ParsedMail {
        for _ in 0..200 {
            let found = self.mails(0).await.into_iter().find(|m| {
                m.to.iter().any(|a| a.address.eq_ignore_ascii_case(address))
                    && m.text.as_deref().is_some_and(|t| t.contains(needle))
            });
            if let Some(m) = found {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no message to {address} with {needle:?}")
    }

    /// The text of `/metrics` on the public listener, read with the metrics token.
    pub async fn metrics(&self) -> String {
        let r = self.client.get(self.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET /metrics");
        r.text().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request; fails the test if the answer's status is not one
    /// the operation's OpenAPI entry documents ([`crate::documented`]).
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let r = self.call_unchecked(method.clone(), path, token, body).await;
        if let Err(undocumented) = crate::documented::check(&method, path, r.status()) {
            panic!("{undocumented}");
        }
        r
    }

    /// Sends a request and returns whatever comes back.
    pub async fn call_unchecked(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    /// `method` with a raw body of `content_type`, status checked against the document.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let mut req = self.client.request(method.clone(), self.url(path)).header("content-type", content_type);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.body(bytes).send().await.expect("request sent");
        if let Err(undocumented) = crate::documented::check(&method, path, r.status()) {
            panic!("{undocumented}");
        }
        r
    }

    /// `PUT path` with a `multipart/form-data` body of one file field.
    pub async fn put_form(&self, path: &str, token: Option<&str>, field: &str, bytes: Vec<u8>) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("picture.jpg").mime_str("image/jpeg").unwrap();
        let form = reqwest::multipart::Form::new().part(field.to_string(), part);
        let mut req = self.client.put(self.url(path)).multipart(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request sent");
        if let Err(undocumented) = crate::documented::check(&Method::PUT, path, r.status()) {
            panic!("{undocumented}");
        }
        r
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn register(&self, email: &str) -> Session {
        let r = self.post("/api/v1/auth/register", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "register {email}");
        session(r.json().await.unwrap())
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/v1/auth/login", None, json!({"email": email, "password": password})).await
    }

    pub async fn login_ok(&self, email: &str) -> Session {
        self.login_ok_with(email, PASSWORD).await
    }

    pub async fn login_ok_with(&self, email: &str, password: &str) -> Session {
        let r = self.login(email, password).await;
        assert_eq!(r.status(), StatusCode::OK, "login {email}");
        session(r.json().await.unwrap())
    }

    /// A platform superadmin, made the way `roster admin create` makes one.
    pub async fn superadmin(&self) -> Session {
        let email = format!("root-{}@example.com", uuid::Uuid::now_v7().simple());
        self.services.users.ensure_superadmin(&email, PASSWORD).await.unwrap();
        self.login_ok(&email).await
    }

    /// A user with `role` in the default organization, created by a superadmin.
    pub async fn user_with_role(&self, role: &str) -> Session {
        let root = self.superadmin().await;
        let email = format!("{role}-{}@example.com", uuid::Uuid::now_v7().simple());
        let r = self
            // Verified, so fixtures send no mail of their own.
            .post(
                "/api/v1/users",
                Some(&root.access),
                json!({"email": email, "password": PASSWORD, "role": role, "email_verified": true}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        self.login_ok(&email).await
    }

    /// A signer holding the app's own signing key, to mint tokens the app
    /// did not issue (expired ones, ones with a wrong issuer).
    pub async fn signer(&self) -> roster::adapters::jwt::JwtSigner {
        let secret =
            roster::secrets::decode_secret(self.config.key_encryption_secret.as_ref().unwrap().expose()).unwrap();
        let keys = roster::secrets::DerivedKeys::new(&secret).unwrap();
        let store = roster_postgres::signing_keys::PgSigningKeyStore::new(self.roster_pool.clone());
        roster::adapters::jwt::JwtSigner::load(&store, &keys, &self.config.public_url, &self.config.auth.audience)
            .await
            .unwrap()
    }

    /// Another process on the same database: a second outbox worker with
    /// this app's configuration (and so its key-encryption secret).
    pub async fn second_worker(&self) -> OutboxWorker {
        let other = Roster::build(&self.config, self.db.url()).await.expect("second app builds");
        other.start_worker().expect("worker enabled")
    }

    pub async fn admin(&self) -> Session {
        self.user_with_role("admin").await
    }

    pub async fn member(&self) -> Session {
        self.user_with_role("member").await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting and close workers; the database drops with `db`.
        let handle = self.handle.clone();
        drop(handle.stop(false));
        if let Some(handle) = &self.metrics_handle {
            drop(handle.stop(false));
        }
    }
}

pub fn session(body: Value) -> Session {
    Session {
        id: body["user"]["id"].as_str().unwrap().to_string(),
        email: body["user"]["email"].as_str().unwrap().to_string(),
        access: body["access_token"].as_str().unwrap().to_string(),
        refresh: body["refresh_token"].as_str().unwrap().to_string(),
    }
}

/// The token of the (first) link in a message's plain-text part, checking
/// the HTML part carries the same link.
pub fn token_in(mail: &ParsedMail) -> String {
    let text = mail.text.as_deref().expect("a text part");
    let at = text.find("token=").expect("a link with a token") + "token=".len();
    let token: String =
        text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert_eq!(token.len(), 43, "token in {text}");
    assert!(mail.html.as_deref().expect("an HTML part").contains(&token), "the HTML part has the same link");
    token
}

pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", uuid::Uuid::now_v7().simple())
}

/// Asserts an RFC 9457 problem with `status` and `code`, and returns its body.
pub async fn problem(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status, "status");
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(ct.starts_with("application/problem+json"), "content type {ct}");
    let request_id = r.headers().get("x-request-id").expect("x-request-id").to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["title"].is_string() && body["type"].is_string());
    body
}

/// The claims of an access token, unverified (the server verified it).
pub fn claims(access: &str) -> Value {
    use base64::Engine;
    let payload = access.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The `nth` (from 1) invitation letter into an organization sent to
/// `address`, waiting for it up to 10 s (other letters — verifications of
/// the accounts the test registers — arrive too, in any order).
pub async fn invitation_to(app: &TestApp, address: &str, nth: usize) -> ParsedMail {
    for _ in 0..200 {
        let found: Vec<_> = app
            .mails(0)
            .await
            .into_iter()
            .filter(|m| m.to.iter().any(|a| a.address.eq_ignore_ascii_case(address)))
            .filter(|m| m.text.as_deref().is_some_and(|t| t.contains("/join-organization?token=")))
            .collect();
        if let Some(m) = found.into_iter().nth(nth - 1) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no invitation #{nth} to {address}")
}

/// The body of a `201 Created` answer.
pub async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// A superadmin makes an organization whose first owner is a new user.
pub async fn org_with_owner(app: &TestApp, root: &Session, slug: &str) -> (String, Session) {
    let owner = app.register(&unique_email(&format!("{slug}-owner"))).await;
    let org = created(
        app.post(
            "/api/v1/orgs",
            Some(&root.access),
            json!({"name": slug.to_uppercase(), "slug": slug, "owner_id": owner.id}),
        )
        .await,
    )
    .await;
    (org["id"].as_str().unwrap().to_string(), owner)
}

/// The body of an answer that must have `status`.
pub async fn body_of(r: Response, status: StatusCode) -> Value {
    let got = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}
