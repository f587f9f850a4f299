//! Fixtures: mocked ports, the app built as `serve` builds it, and a
//! one-call request helper.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use actix_web::{
    http::{header::HeaderMap, StatusCode},
    test::{self, TestRequest},
};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone as _, Utc};
use roster_domain::{
    auth::{AccessClaims, Permission, RefreshSecret, SessionSubject},
    error::TokenRejection,
    mail::{OutboxStats, OutgoingMail},
    ports::{
        MockAccountRepository, MockAllowedIpRepository, MockApiKeyRepository, MockClock, MockLocationRepository,
        MockMailComposer, MockMailer, MockMemberRepository, MockOrgInvitationRepository, MockOrganizationRepository,
        MockOutboxRepository, MockPasswordHasher, MockPushTokenRepository, MockRateLimitStore, MockRoleRepository,
        MockSealer, MockSessionRepository, MockSettingsRepository, MockTokenSigner, MockUserRepository,
    },
    service::{AuthPolicy, Ports, Services},
    user::{Profile, User, UserStatus},
    DEFAULT_ORG_ID,
};
use roster_http::{AppState, HttpConfig, Metrics, MetricsToken, PoolStats, Readiness};
use serde_json::Value;
use uuid::Uuid;

/// The bearer token the mocked signer accepts.
pub const GOOD_TOKEN: &str = "good-token";
/// A token the mocked signer reports as expired.
pub const EXPIRED_TOKEN: &str = "expired-token";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

pub fn user(email: &str, role: &str) -> User {
    User {
        id: Uuid::now_v7(),
        email: email.into(),
        email_verified: true,
        name: Some("Ada Lovelace".into()),
        given_name: None,
        family_name: None,
        phone: None,
        locale: None,
        timezone: None,
        status: UserStatus::Active,
        profile: Profile::default(),
        attributes: Default::default(),
        role: Some(role.into()),
        is_superadmin: false,
        mfa_enabled: false,
        created_at: now(),
        updated_at: now(),
        last_login_at: None,
        managed_by: Some(DEFAULT_ORG_ID),
        avatar: None,
        membership: None,
    }
}

pub fn admin_perms() -> Vec<String> {
    [Permission::UsersRead, Permission::UsersWrite, Permission::UsersDelete, Permission::UsersManageStatus]
        .map(|p| p.as_str().to_string())
        .to_vec()
}

/// A readiness probe whose answer the test controls.
pub struct FakeReadiness {
    pub ready: AtomicBool,
}

#[async_trait]
impl Readiness for FakeReadiness {
    async fn check(&self) -> Result<(), String> {
        if self.ready.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("database: connection refused".into())
        }
    }

    fn pool(&self) -> PoolStats {
        PoolStats { size: 3, available: 2, max_size: 10, waiting: 1 }
    }
}

/// The domain's ports as mocks; tests add expectations before `state()`.
pub struct Mocks {
    pub users: MockUserRepository,
    pub sessions: MockSessionRepository,
    pub accounts: MockAccountRepository,
    pub orgs: MockOrganizationRepository,
    pub roles: MockRoleRepository,
    pub locations: MockLocationRepository,
    pub members: MockMemberRepository,
    pub api_keys: MockApiKeyRepository,
    pub org_invitations: MockOrgInvitationRepository,
    pub settings: MockSettingsRepository,
    pub push_tokens: MockPushTokenRepository,
    pub allowed_ips: MockAllowedIpRepository,
    /// Answers `stats` with `outbox_stats` unless the test sets it up first.
    pub outbox: MockOutboxRepository,
    pub outbox_stats: OutboxStats,
    pub rate_limits: MockRateLimitStore,
    pub hasher: MockPasswordHasher,
    pub signer: MockTokenSigner,
    pub policy: AuthPolicy,
    pub config: HttpConfig,
    pub ready: bool,
}

impl Mocks {
    pub fn new() -> Mocks {
        let mut signer = MockTokenSigner::new();
        signer.expect_sign().returning(|c| Ok(format!("access-for-{}", c.sub)));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_dummy_hash().returning(|| "$dummy".to_string());
        Mocks {
            users: MockUserRepository::new(),
            sessions: MockSessionRepository::new(),
            accounts: MockAccountRepository::new(),
            orgs: MockOrganizationRepository::new(),
            roles: MockRoleRepository::new(),
            locations: MockLocationRepository::new(),
            members: MockMemberRepository::new(),
            api_keys: MockApiKeyRepository::new(),
            org_invitations: MockOrgInvitationRepository::new(),
            settings: MockSettingsRepository::new(),
            push_tokens: MockPushTokenRepository::new(),
            allowed_ips: MockAllowedIpRepository::new(),
            outbox: MockOutboxRepository::new(),
            outbox_stats: OutboxStats::default(),
            rate_limits: MockRateLimitStore::new(),
            hasher,
            signer,
            policy: AuthPolicy::default(),
            config: HttpConfig {
                max_body_bytes: 1024,
                max_upload_bytes: 64 * 1024,
                workers: 1,
                shutdown_timeout_secs: 1,
                mail_request_floor: std::time::Duration::ZERO,
                trusted_proxies: Vec::new(),
                ..HttpConfig::default()
            },
            ready: true,
        }
    }

    /// `/metrics` on the public listener, for the bearer of [`METRICS_TOKEN`].
    pub fn metrics_token(mut self) -> Mocks {
        self.config.metrics.token = Some(MetricsToken::new(METRICS_TOKEN));
        self
    }

    /// `GOOD_TOKEN` authenticates as `user` with `permissions`; `EXPIRED_TOKEN`
    /// is expired; anything else is invalid.
    pub fn sign_in_as(mut self, user: &User, permissions: Vec<String>) -> Mocks {
        let claims = AccessClaims {
            sub: user.id,
            sid: Uuid::now_v7(),
            iss: "test".into(),
            aud: "roster".into(),
            exp: now().timestamp() + 900,
            iat: now().timestamp(),
            email: user.email.clone(),
            org: DEFAULT_ORG_ID,
            role: user.role.clone(),
            perms: permissions.clone(),
            amr: vec!["pwd".into()],
        };
        self.signer.expect_verify().returning(move |t| match t {
            GOOD_TOKEN => Ok(claims.clone()),
            EXPIRED_TOKEN => Err(TokenRejection::Expired),
            _ => Err(TokenRejection::Invalid),
        });
        let subject = SessionSubject::in_default_org(user.clone(), permissions);
        self.sessions.expect_subject().returning(move |_, _, _| Ok(Some(subject.clone())));
        self
    }

    pub fn state(mut self) -> AppState {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let mut composer = MockMailComposer::new();
        composer.expect_compose().returning(|l| {
            Ok(OutgoingMail {
                message_id: format!("<{}@test>", l.id),
                to: l.to.clone(),
                to_name: None,
                subject: l.body.template().as_str().into(),
                text: "text".into(),
                html: "html".into(),
            })
        });
        let mut sealer = MockSealer::new();
        sealer.expect_seal().returning(|b| Ok(b.to_vec()));
        sealer.expect_open().returning(|b| Ok(b.to_vec()));
        let stats = self.outbox_stats;
        self.outbox.expect_stats().returning(move |_| Ok(stats));
        // Sign-ins pass the lockout and the client's failure count unless a
        // test says otherwise.
        let mut lockout = roster_domain::ports::MockLockoutStore::new();
        lockout.expect_claim().returning(|_, _, _| Ok(roster_domain::auth::Claim::Granted));
        lockout.expect_fail().returning(|_, _, _| Ok(None));
        lockout.expect_release().returning(|_, _| Ok(()));
        lockout.expect_clear().returning(|_| Ok(true));
        self.rate_limits.expect_count().returning(|_, _| Ok(0));
        self.allowed_ips.expect_ip_policy().returning(|_| Ok(None));
        let mut mfa_sealer = MockSealer::new();
        mfa_sealer.expect_seal().returning(|b| Ok(b.to_vec()));
        mfa_sealer.expect_open().returning(|b| Ok(b.to_vec()));
        let ports = Ports {
            users: Arc::new(self.users),
            sessions: Arc::new(self.sessions),
            accounts: Arc::new(self.accounts),
            orgs: Arc::new(self.orgs),
            roles: Arc::new(self.roles),
            locations: Arc::new(self.locations),
            members: Arc::new(self.members),
            api_keys: Arc::new(self.api_keys),
            org_invitations: Arc::new(self.org_invitations),
            settings: Arc::new(self.settings),
            push_tokens: Arc::new(self.push_tokens),
            allowed_ips: Arc::new(self.allowed_ips),
            outbox: Arc::new(self.outbox),
            rate_limits: Arc::new(self.rate_limits),
            lockout: Arc::new(lockout),
            mfa: Arc::new(roster_domain::ports::MockMfaRepository::new()),
            mfa_sealer: Arc::new(mfa_sealer),
            images: Arc::new(roster_domain::ports::MockImageRepository::new()),
            blobs: Arc::new(roster_domain::ports::MockBlobStore::new()),
            processor: Arc::new(roster_domain::ports::MockImageProcessor::new()),
            hasher: Arc::new(self.hasher),
            signer: Arc::new(self.signer),
            composer: Arc::new(composer),
            sealer: Arc::new(sealer),
            mailer: Arc::new(MockMailer::new()),
            clock: Arc::new(clock),
        };
        AppState {
            services: Services::new(ports, self.policy, RefreshSecret::new([0; 32])),
            jwks: Arc::new(serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "abc"}]})),
            readiness: Arc::new(FakeReadiness { ready: AtomicBool::new(self.ready) }),
            config: self.config,
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and code, whose
    /// `request_id` equals the `X-Request-Id` header; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text());
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        let body = self.json();
        assert_eq!(body["code"], code, "body: {body}");
        assert_eq!(body["status"], status);
        assert_eq!(body["type"], format!("urn:roster:problem:{code}"));
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
        let id = self.header("x-request-id").expect("X-Request-Id header");
        assert_eq!(body["request_id"], id);
        body
    }
}

/// Builds the app from `state` and sends one request.
pub async fn send(state: AppState, req: TestRequest) -> Resp {
    let app = test::init_service(roster_http::app(state, Metrics::new().unwrap())).await;
    let res = test::call_service(&app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await.to_vec();
    Resp { status, headers, body }
}

/// The metrics token of [`Mocks::metrics_token`].
pub const METRICS_TOKEN: &str = "metrics-token-of-the-tests";

/// A bearer `Authorization` header.
pub fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}
