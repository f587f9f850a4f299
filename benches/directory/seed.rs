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
    orgs::{location_id, pick_location, Orgs, BIG_SHARE, DEACTIVATED_SHARE, ORG_COUNT, SECOND_ORG_SHARE, TAIL_SHARE},
    surnames::FAMILY,
    util::{ascii_fold, csv, thousands, ts},
    words::{org_id, org_role_id, DEPARTMENTS, DOMAINS, GIVEN, LOCALES, POSITIONS, TEAMS, TIME_ZONES},
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

    /// The probability of picking index `k`.
    pub(crate) fn share(&self, k: usize) -> f64 {
        let below = if k == 0 { 0.0 } else { self.0[k - 1] };
        (self.0[k] - below) / self.0[self.0.len() - 1]
    }
}

/// Which organizations (numbered from 1, see [`crate::orgs`]) user `i` belongs
/// to besides the default one, and whether the first manages the account.
pub(crate) struct Affiliation {
    pub(crate) org: Option<usize>,
    /// The account is managed by `org`, and a member of it only.
    pub(crate) managed: bool,
    /// A second organization, for a few of those not managed.
    pub(crate) second: Option<usize>,
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
    pub(crate) orgs: Orgs,
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
            orgs: Orgs::new(),
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

    /// User `i`'s organizations: ≈ 10 % are in organization 1, ≈ 20 % in one
    /// of the others; each organization manages its own share of its
    /// members ([`crate::orgs::Profile::managed`]); 3 % of the members it
    /// does not manage are in a second one.
    pub(crate) fn affiliation(&self, i: u64) -> Affiliation {
        let mut r = Rng::for_row(3, i);
        let org = match r.unit() {
            x if x < BIG_SHARE => Some(1),
            x if x < BIG_SHARE + TAIL_SHARE => Some(self.orgs.pick_tail(&mut r)),
            _ => None,
        };
        let managed = org.is_some_and(|k| r.chance(self.orgs.profile(k).managed));
        let second = (org.is_some() && !managed && r.chance(SECOND_ORG_SHARE))
            .then(|| self.orgs.pick_tail(&mut r))
            .filter(|k| Some(*k) != org);
        Affiliation { org, managed, second }
    }

    /// One CSV line of `users`, in [`USER_COLUMNS`] order.
    pub(crate) fn user(&self, i: u64, line: &mut String) {
        let affiliation = self.affiliation(i);
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
        match affiliation.org {
            Some(k) if affiliation.managed => {
                let _ = writeln!(line, ",{}", org_id(k));
            }
            _ => {
                let _ = writeln!(line, ",{DEFAULT_ORG}");
            }
        }
    }

    /// The CSV lines of user `i`'s memberships, in [`MEMBERSHIP_COLUMNS`]
    /// order: the default organization (2 % admins) unless another one
    /// manages the account, and the organizations of [`Generator::affiliation`].
    pub(crate) fn memberships(&self, i: u64, line: &mut String) -> u64 {
        let (created, id, _) = self.key(i);
        let affiliation = self.affiliation(i);
        let mut r = Rng::for_row(2, i);
        let role = if r.chance(0.02) { DEFAULT_ADMIN_ROLE } else { DEFAULT_MEMBER_ROLE };
        line.clear();
        let mut rows = 0;
        if !affiliation.managed {
            let _ = write!(line, "{DEFAULT_ORG},{id},{role},");
            ts(line, created);
            line.push_str(",,\n");
            rows += 1;
        }
        for k in affiliation.org.into_iter().chain(affiliation.second) {
            self.membership(k, id, created, &mut r, line);
            rows += 1;
        }
        rows
    }

    /// One membership in organization `k`: owner, admin, staff or member; at
    /// one of its locations for most members if it has any; a few deactivated.
    fn membership(&self, k: usize, id: Uuid, created: i64, r: &mut Rng, line: &mut String) {
        let profile = self.orgs.profile(k);
        let kind = match r.unit() {
            x if x < 0.002 => 1,
            x if x < 0.032 => 2,
            x if x < 0.152 => 4,
            _ => 3,
        };
        let org_created = self.start_ms + profile.created_after_ms;
        let joined = (created.max(org_created) + r.below(30 * DAY_MS as u64) as i64).min(self.now_ms);
        let _ = write!(line, "{},{id},{},", org_id(k), org_role_id(k, kind));
        ts(line, joined);
        line.push(',');
        if profile.locations > 0 && r.chance(profile.at_location) {
            let _ = write!(line, "{}", location_id(k, pick_location(r, profile.locations)));
        }
        line.push(',');
        if r.chance(DEACTIVATED_SHARE) {
            ts(line, joined + ((self.now_ms - joined) as f64 * r.unit()) as i64);
        }
        line.push('\n');
    }
}

pub(crate) const USER_COLUMNS: &str =
    "id, email, email_verified, name, given_name, family_name, phone, locale, timezone, \
                            status, birthdate, employee_id, position, department, attributes, created_at, \
                            updated_at, last_login_at, managed_by";
pub(crate) const MEMBERSHIP_COLUMNS: &str = "org_id, user_id, role_id, created_at, location_id, deactivated_at";

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
    pub(crate) orgs: u64,
    pub(crate) locations: u64,
    pub(crate) users: u64,
    pub(crate) memberships: u64,
    pub(crate) orgs_time: Duration,
    pub(crate) users_time: Duration,
    pub(crate) memberships_time: Duration,
    pub(crate) index_time: Duration,
    pub(crate) analyze_time: Duration,
    pub(crate) total: Duration,
}

/// An index or a foreign key of `users` or `memberships` that is dropped
/// for the load and made again after it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rebuild {
    pub(crate) name: String,
    pub(crate) drop: String,
    /// `CREATE INDEX …` or `ALTER TABLE … ADD CONSTRAINT …`, then the
    /// statistics targets set on the index's columns (`ALTER INDEX … SET STATISTICS`).
    pub(crate) create: Vec<String>,
}

/// Every secondary index (not backing a constraint) and every foreign key
/// of `users` and `memberships`, as they are now.
pub(crate) fn rebuilds(psql: &Psql) -> Vec<Rebuild> {
    let rows = psql.run(
        DATABASE,
        &["SELECT i.indexrelid::regclass::text, format('DROP INDEX %s', i.indexrelid::regclass), \
                  pg_get_indexdef(i.indexrelid), \
                  coalesce((SELECT string_agg(format('ALTER INDEX %s ALTER COLUMN %s SET STATISTICS %s', \
                                                     i.indexrelid::regclass, a.attnum, a.attstattarget), ';' \
                                              ORDER BY a.attnum) \
                            FROM pg_attribute a WHERE a.attrelid = i.indexrelid AND a.attstattarget > 0), '') \
           FROM pg_index i \
           WHERE i.indrelid IN ('users'::regclass, 'memberships'::regclass) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
           UNION ALL \
           SELECT conname::text, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname), \
                  format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), '' \
           FROM pg_constraint \
           WHERE contype = 'f' AND conrelid IN ('users'::regclass, 'memberships'::regclass)"],
    );
    let mut rebuilds: Vec<Rebuild> = rows
        .into_iter()
        .map(|r| {
            let mut create = vec![r[2].clone()];
            create.extend(r[3].split(';').filter(|s| !s.is_empty()).map(str::to_owned));
            Rebuild { name: r[0].clone(), drop: r[1].clone(), create }
        })
        .collect();
    rebuilds.sort();
    rebuilds
}

/// `COPY table (columns) FROM STDIN` of ready CSV `rows`; how many lines.
fn copy_csv(psql: &Psql, table: &str, rows: &str) -> u64 {
    psql.copy(&[], &format!("COPY {table} FROM STDIN (FORMAT csv)"), |out| {
        out.write_all(rows.as_bytes())?;
        Ok(rows.lines().count() as u64)
    })
}

/// Seeds organizations, `n` users and their memberships, rebuilds the
/// indexes and foreign keys dropped for the load (and checks that they are
/// all back as they were), and analyzes.
pub(crate) fn seed(psql: &Psql, n: u64) -> SeedReport {
    let started = Instant::now();
    let generator = Generator::new(n, Utc::now().timestamp() * 1000);
    let start = generator.start_ms;

    // Organizations, their roles and their locations: a few tens of
    // thousands of rows, through COPY too.
    eprintln!("seeding {} organizations…", thousands(ORG_COUNT as u64));
    let t = Instant::now();
    let orgs = copy_csv(psql, "organizations (id, slug, name, created_at)", &generator.orgs.organization_rows(start));
    copy_csv(psql, "roles (id, org_id, name, title, description, permissions, builtin)", &Orgs::role_rows());
    let locations = copy_csv(
        psql,
        "locations (id, org_id, name, timezone, created_at, updated_at)",
        &generator.orgs.location_rows(start),
    );
    let orgs_time = t.elapsed();

    // Secondary indexes and the foreign keys of users and memberships are
    // made once after the load rather than maintained row by row during it.
    let rebuild = rebuilds(psql);
    let drops: Vec<&str> = rebuild.iter().map(|r| r.drop.as_str()).collect();
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
        &format!("COPY memberships ({MEMBERSHIP_COLUMNS}) FROM STDIN (FORMAT csv, FREEZE)"),
        |out| stream_rows("memberships", n, out, |i, line| generator.memberships(i, line)),
    );
    let memberships_time = t.elapsed();
    eprintln!("  memberships: {} rows in {:.1} s", thousands(memberships), memberships_time.as_secs_f64());

    // Indexes first, so that the foreign keys are checked through them.
    let t = Instant::now();
    let (indexes, keys): (Vec<&Rebuild>, Vec<&Rebuild>) =
        rebuild.iter().partition(|r| r.create[0].starts_with("CREATE"));
    for r in indexes.into_iter().chain(keys) {
        let t = Instant::now();
        let mut statements = vec!["SET maintenance_work_mem = '512MB'"];
        statements.extend(r.create.iter().map(String::as_str));
        psql.run(DATABASE, &statements);
        eprintln!("  rebuilt {} in {:.1} s", r.name, t.elapsed().as_secs_f64());
    }
    let after = rebuilds(psql);
    assert!(
        after == rebuild,
        "indexes or foreign keys differ after the load:\nbefore: {rebuild:#?}\nafter: {after:#?}"
    );
    let index_time = t.elapsed();

    let t = Instant::now();
    psql.run(DATABASE, &["ANALYZE"]);
    let analyze_time = t.elapsed();
    SeedReport {
        orgs,
        locations,
        users,
        memberships,
        orgs_time,
        users_time,
        memberships_time,
        index_time,
        analyze_time,
        total: started.elapsed(),
    }
}
