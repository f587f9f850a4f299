//! Deterministic data generation and the `COPY` load of the seeded cluster.

use std::{
    fmt::Write as _,
    io::{self, Write},
    time::{Duration, Instant},
};

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::{
    cluster::Psql,
    surnames::FAMILY,
    util::{ascii_fold, csv, rfc3339, sql_str, thousands, ts},
    words::{org_id, org_role_id, DEPARTMENTS, DOMAINS, GIVEN, LOCALES, ORGS, ORG_ROLES, POSITIONS, TEAMS, TIME_ZONES},
    DATABASE, DAY_MS, DEFAULT_ADMIN_ROLE, DEFAULT_MEMBER_ROLE, DEFAULT_ORG, GROWTH,
};

/// SplitMix64, seeded per row, so any row can be regenerated on its own
/// (the memberships pass recomputes each user's id instead of storing it).
#[derive(Clone, Copy)]
pub(crate) struct Rng(u64);

pub(crate) fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub(crate) fn for_row(stream: u64, row: u64) -> Rng {
        Rng(fmix(fmix(row ^ stream.rotate_left(32)).wrapping_add(stream)))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        fmix(self.0)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Picks indexes with given weights.
pub(crate) struct Weighted(Vec<f64>);

impl Weighted {
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut sum = 0.0;
        Weighted(
            weights
                .into_iter()
                .map(|w| {
                    sum += w;
                    sum
                })
                .collect(),
        )
    }

    /// Zipf-like: the k-th (from 1) has weight k^-s.
    pub(crate) fn zipf(n: usize, s: f64) -> Weighted {
        Weighted::new((1..=n).map(|k| (k as f64).powf(-s)))
    }

    pub(crate) fn pick(&self, rng: &mut Rng) -> usize {
        let x = rng.unit() * self.0[self.0.len() - 1];
        self.0.partition_point(|&c| c <= x).min(self.0.len() - 1)
    }
}

/// Generates the rows of user `i` of `n` (and their memberships) from `i` alone.
pub(crate) struct Generator {
    pub(crate) n: u64,
    pub(crate) now_ms: i64,
    pub(crate) start_ms: i64,
    pub(crate) given: Weighted,
    pub(crate) family: Weighted,
    pub(crate) domain: Weighted,
    pub(crate) locale: Weighted,
    pub(crate) org: Weighted,
    pub(crate) given_ascii: Vec<String>,
    pub(crate) family_ascii: Vec<String>,
}

impl Generator {
    pub(crate) fn new(n: u64, now_ms: i64) -> Generator {
        Generator {
            n,
            now_ms,
            start_ms: now_ms - 5 * 365 * DAY_MS,
            given: Weighted::zipf(GIVEN.len(), 0.6),
            family: Weighted::zipf(FAMILY.len(), 0.6),
            domain: Weighted::new(DOMAINS.iter().map(|d| d.1)),
            locale: Weighted::new(LOCALES.iter().map(|l| l.1)),
            org: Weighted::zipf(ORGS.len(), 1.0),
            given_ascii: GIVEN.iter().map(|g| ascii_fold(g)).collect(),
            family_ascii: FAMILY.iter().map(|f| ascii_fold(f)).collect(),
        }
    }

    /// created_at (ms), id (UUIDv7 of created_at) and the row's generator after them.
    pub(crate) fn key(&self, i: u64) -> (i64, Uuid, Rng) {
        let mut rng = Rng::for_row(1, i);
        // Strictly increasing in i, denser towards the end (growth).
        let u = (i as f64 + rng.unit()) / self.n as f64;
        let x = (1.0 + u * (GROWTH.exp() - 1.0)).ln() / GROWTH;
        let created = self.start_ms + (x * (self.now_ms - self.start_ms) as f64) as i64;
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&rng.next().to_le_bytes());
        random[8..].copy_from_slice(&rng.next().to_le_bytes()[..2]);
        let id = uuid::Builder::from_unix_timestamp_millis(created as u64, &random).into_uuid();
        (created, id, rng)
    }

    /// One CSV line of `users`, in [`USER_COLUMNS`] order.
    pub(crate) fn user(&self, i: u64, line: &mut String) {
        let (created, id, mut r) = self.key(i);
        let g = self.given.pick(&mut r);
        let f = self.family.pick(&mut r);
        let domain = DOMAINS[self.domain.pick(&mut r)].0;
        let status = match r.unit() {
            x if x < 0.85 => "active",
            x if x < 0.93 => "inactive",
            x if x < 0.98 => "pending",
            _ => "banned",
        };
        let pending = status == "pending";
        let verified = !pending && r.chance(0.737); // ≈ 70 % overall
        let name = !r.chance(0.03);
        let given = !r.chance(0.04);
        let family = !r.chance(0.04);
        let locale = if r.chance(0.03) { None } else { Some(&LOCALES[self.locale.pick(&mut r)]) };
        let timezone = match locale {
            _ if r.chance(0.05) => None,
            Some(l) if r.chance(0.7) => Some(*r.pick(l.3)),
            _ => Some(*r.pick(TIME_ZONES)),
        };
        let phone = r.chance(0.35);
        let birthdate =
            r.chance(0.6).then(|| NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new(r.below(57 * 365)));
        let employee = r.chance(0.5);
        let department = (!r.chance(0.15)).then(|| *r.pick(DEPARTMENTS));
        let position = department.map(|_| *r.pick(POSITIONS));
        let attributes = r.chance(0.3).then(|| format!(r#"{{"team":"{}","level":{}}}"#, r.pick(TEAMS), 1 + r.below(7)));
        let updated = created + ((self.now_ms - created) as f64 * r.unit()) as i64;
        let last_login = (!pending && !r.chance(0.16)).then(|| {
            let lo = created.max(self.now_ms - 365 * DAY_MS);
            let u = r.unit();
            self.now_ms - ((self.now_ms - lo) as f64 * u * u) as i64 // recent logins are more common
        });

        line.clear();
        let _ = write!(line, "{id},{}.{}.{i}@{domain},{verified},", self.given_ascii[g], self.family_ascii[f]);
        if name {
            csv(line, &format!("{} {}", GIVEN[g], FAMILY[f]));
        }
        line.push(',');
        if given {
            csv(line, GIVEN[g]);
        }
        line.push(',');
        if family {
            csv(line, FAMILY[f]);
        }
        line.push(',');
        if phone {
            let cc = locale.map_or("45", |l| l.2);
            let _ = write!(line, "+{cc}{:09}", r.below(1_000_000_000));
        }
        line.push(',');
        if let Some(l) = locale {
            line.push_str(l.0);
        }
        line.push(',');
        if let Some(tz) = timezone {
            line.push_str(tz);
        }
        let _ = write!(line, ",{status},");
        if let Some(d) = birthdate {
            let _ = write!(line, "{d}");
        }
        line.push(',');
        if employee {
            let _ = write!(line, "E{:07}", i + 1);
        }
        line.push(',');
        if let Some(p) = position {
            csv(line, p);
        }
        line.push(',');
        if let Some(d) = department {
            csv(line, d);
        }
        line.push(',');
        csv(line, attributes.as_deref().unwrap_or("{}"));
        line.push(',');
        ts(line, created);
        line.push(',');
        ts(line, updated);
        line.push(',');
        if let Some(t) = last_login {
            ts(line, t);
        }
        line.push('\n');
    }

    /// The CSV lines of user `i`'s memberships: the default organization
    /// (2 % admins), and for ~30 % one other organization.
    pub(crate) fn memberships(&self, i: u64, line: &mut String) -> u64 {
        let (created, id, _) = self.key(i);
        let mut r = Rng::for_row(2, i);
        let role = if r.chance(0.02) { DEFAULT_ADMIN_ROLE } else { DEFAULT_MEMBER_ROLE };
        line.clear();
        let _ = write!(line, "{DEFAULT_ORG},{id},{role},");
        ts(line, created);
        line.push('\n');
        if !r.chance(0.3) {
            return 1;
        }
        let k = self.org.pick(&mut r) + 1;
        let kind = match r.unit() {
            x if x < 0.002 => 1,
            x if x < 0.032 => 2,
            x if x < 0.152 => 4,
            _ => 3,
        };
        let joined = (created + r.below(30 * DAY_MS as u64) as i64).min(self.now_ms);
        let _ = write!(line, "{},{id},{},", org_id(k), org_role_id(k, kind));
        ts(line, joined);
        line.push('\n');
        2
    }
}

pub(crate) const USER_COLUMNS: &str =
    "id, email, email_verified, name, given_name, family_name, phone, locale, timezone, \
                            status, birthdate, employee_id, position, department, attributes, created_at, \
                            updated_at, last_login_at";

// ───────────────────────────── seeding ─────────────────────────────

/// Streams `n` rows made by `row` into `out`, reporting progress on stderr.
pub(crate) fn stream_rows(
    what: &str,
    n: u64,
    out: &mut dyn Write,
    mut row: impl FnMut(u64, &mut String) -> u64,
) -> io::Result<u64> {
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut line = String::with_capacity(512);
    let mut rows = 0;
    for i in 0..n {
        rows += row(i, &mut line);
        out.write_all(line.as_bytes())?;
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            let rate = i as f64 / started.elapsed().as_secs_f64();
            eprintln!("  {what}: {} of {} users ({:.0} users/s)", thousands(i), thousands(n), rate);
        }
    }
    Ok(rows)
}

pub(crate) struct SeedReport {
    pub(crate) users: u64,
    pub(crate) memberships: u64,
    pub(crate) users_time: Duration,
    pub(crate) memberships_time: Duration,
    pub(crate) index_time: Duration,
    pub(crate) analyze_time: Duration,
    pub(crate) total: Duration,
}

/// Seeds organizations, `n` users and their memberships, rebuilds the
/// indexes and foreign keys dropped for the load, and analyzes.
pub(crate) fn seed(psql: &Psql, n: u64) -> SeedReport {
    let started = Instant::now();
    let generator = Generator::new(n, Utc::now().timestamp() * 1000);

    // Organizations and their roles, in plain SQL.
    let mut orgs = String::from("INSERT INTO organizations (id, slug, name, created_at) VALUES ");
    let mut roles = String::from("INSERT INTO roles (id, org_id, name, description, permissions, builtin) VALUES ");
    for (k, (slug, name)) in ORGS.iter().enumerate().map(|(k, o)| (k + 1, o)) {
        let created = rfc3339(generator.start_ms + k as i64 * 7 * DAY_MS);
        let sep = if k > 1 { ", " } else { "" };
        let _ = write!(orgs, "{sep}('{}', {}, {}, '{created}')", org_id(k), sql_str(slug), sql_str(name));
        for (kind, role, description, permissions, builtin) in ORG_ROLES {
            let sep = if k > 1 || *kind > 1 { ", " } else { "" };
            let _ = write!(
                roles,
                "{sep}('{}', '{}', '{role}', {}, {permissions}, {builtin})",
                org_role_id(k, *kind),
                org_id(k),
                sql_str(description)
            );
        }
    }
    psql.run(DATABASE, &[orgs.as_str(), roles.as_str()]);

    // Secondary indexes and the memberships' foreign keys are rebuilt once
    // after the load rather than maintained row by row during it.
    let rebuild = psql.run(
        DATABASE,
        &["SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid), \
                  i.indexrelid::regclass::text \
           FROM pg_index i \
           WHERE i.indrelid IN ('users'::regclass, 'memberships'::regclass) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
           UNION ALL \
           SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname), \
                  format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), \
                  conname::text \
           FROM pg_constraint WHERE contype = 'f' AND conrelid = 'memberships'::regclass"],
    );
    let drops: Vec<&str> = rebuild.iter().map(|r| r[0].as_str()).collect();
    if !drops.is_empty() {
        psql.run(DATABASE, &drops);
    }

    // COPY … FREEZE into a table truncated in the same transaction loads the
    // rows frozen and all-visible, as a long-lived table's are after vacuum.
    eprintln!("seeding {} users…", thousands(n));
    let t = Instant::now();
    let users = psql.copy(
        &["TRUNCATE users CASCADE"],
        &format!("COPY users ({USER_COLUMNS}) FROM STDIN (FORMAT csv, FREEZE)"),
        |out| {
            stream_rows("users", n, out, |i, line| {
                generator.user(i, line);
                1
            })
        },
    );
    let users_time = t.elapsed();
    eprintln!("  users: {} rows in {:.1} s", thousands(users), users_time.as_secs_f64());

    let t = Instant::now();
    let memberships = psql.copy(
        &["TRUNCATE memberships"],
        "COPY memberships (org_id, user_id, role_id, created_at) FROM STDIN (FORMAT csv, FREEZE)",
        |out| stream_rows("memberships", n, out, |i, line| generator.memberships(i, line)),
    );
    let memberships_time = t.elapsed();
    eprintln!("  memberships: {} rows in {:.1} s", thousands(memberships), memberships_time.as_secs_f64());

    let t = Instant::now();
    for row in &rebuild {
        let t = Instant::now();
        psql.run(DATABASE, &["SET maintenance_work_mem = '512MB'", row[1].as_str()]);
        eprintln!("  rebuilt {} in {:.1} s", row[2], t.elapsed().as_secs_f64());
    }
    let index_time = t.elapsed();

    let t = Instant::now();
    psql.run(DATABASE, &["ANALYZE"]);
    let analyze_time = t.elapsed();
    SeedReport { users, memberships, users_time, memberships_time, index_time, analyze_time, total: started.elapsed() }
}
