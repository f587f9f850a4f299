//! The query mix and its measuring.

use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    cluster::Psql,
    util::{encode, percentile, rfc3339},
    words::org_id,
    DATABASE, DAY_MS, PER_PAGE,
};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// First page of a filter and/or sort.
    FirstPage,
    /// A keyset page fetched through a cursor.
    Cursor,
    /// `q=`.
    Search,
    /// `GET /users/count` with a filter.
    Count,
    /// `GET /users/{id}`.
    Get,
    /// Reported, no target.
    Info,
}

impl Target {
    pub(crate) fn limit(self) -> Option<Duration> {
        match self {
            Target::FirstPage | Target::Cursor => Some(Duration::from_millis(50)),
            Target::Search => Some(Duration::from_millis(150)),
            Target::Count => Some(Duration::from_secs(1)),
            Target::Get => Some(Duration::from_millis(5)),
            Target::Info => None,
        }
    }

    pub(crate) fn text(self) -> &'static str {
        match self {
            Target::FirstPage | Target::Cursor => "p99<50ms",
            Target::Search => "p99<150ms",
            Target::Count => "p99<1s",
            Target::Get => "p99<5ms",
            Target::Info => "-",
        }
    }
}

pub(crate) struct Spec {
    pub(crate) label: String,
    pub(crate) endpoint: String,
    pub(crate) params: Vec<(&'static str, String)>,
    /// Follow `links.next` this many times from the page of `params`, then measure that page.
    pub(crate) hops: usize,
    pub(crate) target: Target,
}

impl Spec {
    pub(crate) fn new(label: impl Into<String>, target: Target, params: &[(&'static str, &str)]) -> Spec {
        let mut params: Vec<(&'static str, String)> = params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        // A first page is the page itself: its exact total is measured by the
        // count queries (and by "offset page 1 with total" below).
        if !params.iter().any(|(k, _)| *k == "total" || *k == "after") {
            params.push(("total", "false".to_owned()));
        }
        params.push(("per_page", PER_PAGE.to_owned()));
        Spec { label: label.into(), endpoint: "/api/v1/users".to_owned(), params, hops: 0, target }
    }

    pub(crate) fn count(label: impl Into<String>, params: &[(&'static str, &str)]) -> Spec {
        let params = params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Spec { label: label.into(), endpoint: "/api/v1/users/count".to_owned(), params, hops: 0, target: Target::Count }
    }

    /// `GET /users/{id}`.
    pub(crate) fn get(label: impl Into<String>, id: uuid::Uuid) -> Spec {
        Spec {
            label: label.into(),
            endpoint: format!("/api/v1/users/{id}"),
            params: Vec::new(),
            hops: 0,
            target: Target::Get,
        }
    }

    pub(crate) fn cursor(label: impl Into<String>, hops: usize, params: &[(&'static str, &str)]) -> Spec {
        let mut spec = Spec::new(label, Target::Cursor, params);
        spec.params.insert(spec.params.len() - 1, ("after", String::new()));
        spec.hops = hops;
        spec
    }

    pub(crate) fn path(&self) -> String {
        let query: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        if query.is_empty() {
            return self.endpoint.clone();
        }
        format!("{}?{}", self.endpoint, query.join("&"))
    }

    /// The query as a reader wants it: unencoded.
    pub(crate) fn display(&self) -> String {
        let query: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let hops = if self.hops > 0 { format!("  → links.next ×{}", self.hops) } else { String::new() };
        let sep = if query.is_empty() { "" } else { "?" };
        format!("{}{sep}{}{hops}", self.endpoint, query.join("&"))
    }
}

/// Values picked from the seeded data, so the queries select what they should.
pub(crate) struct Picks {
    pub(crate) email: String,
    pub(crate) date_10: String,
    pub(crate) date_90: String,
    pub(crate) login_week: String,
    pub(crate) login_month: String,
}

pub(crate) fn picks(psql: &Psql) -> Picks {
    let row = psql.run(
        DATABASE,
        &["SELECT (extract(epoch FROM min(created_at)) * 1000)::bigint, (extract(epoch FROM max(created_at)) * 1000)::bigint, \
                  (extract(epoch FROM max(last_login_at)) * 1000)::bigint \
           FROM users WHERE NOT is_superadmin"],
    );
    let v: Vec<i64> = row[0].iter().map(|s| s.parse().expect("seeded users")).collect();
    let (min, max, last_login) = (v[0], v[1], v[2]);
    let at = |f: f64| rfc3339(min + ((max - min) as f64 * f) as i64);
    let mid = at(0.5);
    let email = psql.value(&format!(
        "SELECT email FROM users WHERE created_at >= '{mid}' AND NOT is_superadmin ORDER BY created_at, id LIMIT 1"
    ));
    Picks {
        email,
        date_10: at(0.1),
        date_90: at(0.9),
        login_week: rfc3339(last_login - 7 * DAY_MS),
        login_month: rfc3339(last_login - 30 * DAY_MS),
    }
}

pub(crate) fn specs(p: &Picks) -> Vec<Spec> {
    use Target::{FirstPage, Info, Search};
    let org = org_id(3);
    let f = |label: &str, filter: &str| Spec::new(format!("filter {label}"), FirstPage, &[("filter", filter)]);
    vec![
        f("email eq", &format!(r#"email eq "{}""#, p.email)),
        f("email sw", r#"email sw "zoe.""#),
        f("name co", r#"name co "mart""#),
        f("family_name ew", r#"family_name ew "sson""#),
        f("status eq", r#"status eq "banned""#),
        f("status ne", r#"status ne "active""#),
        f("created_at gt (90 %)", &format!(r#"created_at gt "{}""#, p.date_90)),
        f("created_at lt (10 %)", &format!(r#"created_at lt "{}""#, p.date_10)),
        f("last_login_at ge (7 days)", &format!(r#"last_login_at ge "{}""#, p.login_week)),
        f("profile.birthdate le", r#"profile.birthdate le "1970-01-01""#),
        f("profile.department eq", r#"profile.department eq "R&D""#),
        f("attributes.team eq", r#"attributes.team eq "core""#),
        f("attributes.level gt", "attributes.level gt 5"),
        f("email_verified eq false", "email_verified eq false"),
        f("name pr", "name pr"),
        f("role eq admin", r#"role eq "admin""#),
        f("org_id eq", &format!(r#"org_id eq "{org}""#)),
        f(
            "and/or/not",
            r#"status eq "active" and (profile.department eq "Sales" or attributes.level ge 5) and not (email ew "@gmail.com")"#,
        ),
        Spec::new("sort -created_at", FirstPage, &[("sort", "-created_at")]),
        Spec::new("sort email", FirstPage, &[("sort", "email")]),
        Spec::new("sort family_name,given_name", FirstPage, &[("sort", "family_name,given_name")]),
        Spec::new("sort -last_login_at", FirstPage, &[("sort", "-last_login_at")]),
        Spec::new(
            "status eq + sort family_name,given_name",
            FirstPage,
            &[("filter", r#"status eq "active""#), ("sort", "family_name,given_name")],
        ),
        Spec::new(
            "department eq + sort -last_login_at",
            FirstPage,
            &[("filter", r#"profile.department eq "Sales""#), ("sort", "-last_login_at")],
        ),
        Spec::new("fields=id,email,name", FirstPage, &[("fields", "id,email,name"), ("sort", "-created_at")]),
        Spec::new("q common (ann)", Search, &[("q", "ann")]),
        Spec::new("q rare (wojciechow)", Search, &[("q", "wojciechow")]),
        Spec::new("q non-ASCII (ø)", Search, &[("q", "ø")]),
        Spec::new("q email domain (fastmail)", Search, &[("q", "fastmail")]),
        Spec::new("status=active,inactive", FirstPage, &[("status", "active,inactive")]),
        Spec::new("offset page 1", FirstPage, &[("page", "1")]),
        Spec::new("offset page 1 with exact total", Info, &[("page", "1"), ("total", "true")]),
        Spec::new("offset page 1,000", Info, &[("page", "1000")]),
        Spec::new("keyset first page (after=)", FirstPage, &[("after", "")]),
        Spec::cursor(
            "cursor: created_at gt (90 %), 10 pages in",
            10,
            &[("filter", &format!(r#"created_at gt "{}""#, p.date_90))],
        ),
        Spec::cursor("cursor: sort family_name,given_name, 10 in", 10, &[("sort", "family_name,given_name")]),
        Spec::count("count status eq", &[("filter", r#"status eq "active""#)]),
        Spec::count(
            "count team and recent login",
            &[("filter", &format!(r#"attributes.team eq "core" and last_login_at ge "{}""#, p.login_month))],
        ),
        Spec { target: Info, ..Spec::count("count, no filter", &[]) },
    ]
}

pub(crate) struct Measured {
    pub(crate) spec: Spec,
    /// Sorted.
    pub(crate) samples: Vec<Duration>,
    pub(crate) rows: Option<u64>,
    pub(crate) total: Option<u64>,
    pub(crate) failure: Option<String>,
    /// The server.log bytes written while this query ran.
    pub(crate) log: (u64, u64),
}

impl Measured {
    pub(crate) fn verdict(&self) -> &'static str {
        match (self.failure.is_some(), self.spec.target.limit()) {
            (true, _) => "FAILED",
            (false, None) => "",
            (false, Some(limit)) if percentile(&self.samples, 0.99) < limit => "ok",
            (false, Some(_)) => "MISSED",
        }
    }
}

pub(crate) fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// `status code: the first error` of a problem+json body, or the start of the body.
pub(crate) fn problem(status: reqwest::StatusCode, body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let code = v["code"].as_str().unwrap_or("");
            let first_error = v["errors"].as_object().and_then(|errors| {
                let (field, messages) = errors.iter().next()?;
                let message = messages.as_array().and_then(|m| m.first()).and_then(Value::as_str).unwrap_or("");
                Some(format!("{field}: {message}"))
            });
            let detail = first_error.or(v["detail"].as_str().map(str::to_owned)).unwrap_or_default();
            format!("{code}: {detail}")
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let mut text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > 100 {
        text = text.chars().take(99).chain(['…']).collect();
    }
    format!("{} {text}", status.as_u16())
}

/// The HTTP client and the bearer token it sends: the superadmin's access
/// token, or an organization's API key.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Client {
    /// GET `path`: status, body and the time to the last byte.
    pub(crate) async fn get(&self, path: &str) -> Result<(reqwest::StatusCode, Vec<u8>, Duration), String> {
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, body.to_vec(), started.elapsed()))
    }

    /// GET `path` as JSON; a failure says why.
    pub(crate) async fn json(&self, path: &str) -> Result<Value, String> {
        let (status, body, _) = self.get(path).await?;
        if !status.is_success() {
            return Err(problem(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| format!("{status} with a body that is not JSON: {e}"))
    }
}

/// Measures one query: 3 warm-ups, then repeats until `seconds` have passed
/// and at least 20 runs were timed (a very slow query stops after 5 runs once
/// 12 × `seconds`, at least a minute, have passed).
pub(crate) async fn measure(client: &Client, spec: Spec, seconds: f64, server_log: &Path) -> Measured {
    let log_start = file_len(server_log);
    let mut m =
        Measured { spec, samples: Vec::new(), rows: None, total: None, failure: None, log: (log_start, log_start) };
    let mut path = m.spec.path();
    for hop in 0..m.spec.hops {
        let next = client.json(&path).await.map(|page| page["links"]["next"].as_str().map(str::to_owned));
        match next {
            Ok(Some(next)) => path = next,
            Ok(None) => {
                eprintln!("  (the list ended after {hop} pages; measuring its last cursor page)");
                break;
            }
            Err(e) => {
                m.failure = Some(e);
                break;
            }
        }
    }
    if m.failure.is_none() {
        for _ in 0..3 {
            match client.json(&path).await {
                Ok(v) => {
                    // A page's items, or the one user of `GET /users/{id}`.
                    m.rows = v["data"].as_array().map(|a| a.len() as u64).or(v["id"].is_string().then_some(1));
                    m.total = v["meta"]["total"].as_u64().or(v["count"].as_u64());
                }
                Err(e) => {
                    m.failure = Some(e);
                    break;
                }
            }
        }
    }
    if m.failure.is_none() {
        let budget = Duration::from_secs_f64(seconds);
        let cap = Duration::from_secs_f64((seconds * 12.0).max(60.0));
        let started = Instant::now();
        let mut failures = 0;
        loop {
            let elapsed = started.elapsed();
            let runs = m.samples.len() + failures;
            if (elapsed >= budget && runs >= 20) || (elapsed >= cap && runs >= 5) {
                break;
            }
            match client.get(&path).await {
                Ok((status, _, took)) if status.is_success() => m.samples.push(took),
                Ok((status, body, _)) => {
                    failures += 1;
                    m.failure = Some(format!("{failures} of the runs failed, last: {}", problem(status, &body)));
                }
                Err(e) => {
                    failures += 1;
                    m.failure = Some(format!("{failures} of the runs failed, last: {e}"));
                }
            }
        }
        m.samples.sort();
    }
    m.log.1 = file_len(server_log);
    m
}
