//! The 10,000 organizations besides the default one: their sizes, how many
//! of their members they manage, their locations, and their rows (`COPY`
//! CSV for `organizations`, `roles` and `locations`).
//!
//! Organization 1 holds [`BIG_SHARE`] of all users (1M at 10M); the other
//! 9,999 share [`TAIL_SHARE`] of the users as a Zipf long tail (tens of
//! thousands for the largest, a few hundred for a typical one, a few dozen
//! for the smallest at 10M). Everything about organization `k` comes from
//! `k` alone, so the seeding and the query mix agree without storing it.

use std::fmt::Write as _;

use uuid::Uuid;

use crate::{
    seed::{Rng, Weighted},
    surnames::FAMILY,
    util::{ascii_fold, csv, ts},
    words::{org_id, org_role_id, CITIES, ORGS, ORG_ROLES, ORG_SUFFIXES},
    DAY_MS,
};

/// Organizations besides the default one, numbered from 1.
pub(crate) const ORG_COUNT: usize = 10_000;
/// Share of all users who are members of organization 1.
pub(crate) const BIG_SHARE: f64 = 0.10;
/// Share of all users who are members of one of organizations 2..=ORG_COUNT.
pub(crate) const TAIL_SHARE: f64 = 0.20;
/// Zipf exponent of the sizes of organizations 2..=ORG_COUNT.
const TAIL_ZIPF: f64 = 0.8;
/// Of the org members it does not manage, the share also in a second organization.
pub(crate) const SECOND_ORG_SHARE: f64 = 0.03;
/// Locations of organization 1 (stores and offices).
const BIG_LOCATIONS: u64 = 250;
/// Share of the memberships in an organization (not the default one) deactivated there.
pub(crate) const DEACTIVATED_SHARE: f64 = 0.02;

/// What organization `k` is like.
#[derive(Clone, Copy)]
pub(crate) struct Profile {
    /// Share of its members whose account it manages (members of it only).
    pub(crate) managed: f64,
    /// Its locations (0: none).
    pub(crate) locations: u64,
    /// Share of its members who have a location (when it has locations).
    pub(crate) at_location: f64,
    /// When it was created (ms after the start of the five years).
    pub(crate) created_after_ms: i64,
}

impl Profile {
    /// Organization 1 manages most of its people (an employer provisioning
    /// its staff) and has stores; of the others, 30 % manage none of their
    /// members (they invite platform users), 30 % nearly all, the rest some;
    /// 40 % have 1–30 locations.
    pub(crate) fn of(k: usize) -> Profile {
        let mut r = Rng::for_row(4, k as u64);
        let created_after_ms =
            if k <= ORGS.len() { k as i64 * 7 * DAY_MS } else { (r.unit() * 4.5 * 365.0) as i64 * DAY_MS };
        if k == 1 {
            return Profile { managed: 0.6, locations: BIG_LOCATIONS, at_location: 0.85, created_after_ms };
        }
        let managed = match r.unit() {
            x if x < 0.3 => 0.0,
            x if x < 0.6 => 0.95,
            _ => 0.2 + 0.6 * r.unit(),
        };
        let locations = if r.chance(0.4) {
            let u = r.unit();
            1 + (u * u * 30.0) as u64
        } else {
            0
        };
        Profile { managed, locations, at_location: 0.7, created_after_ms }
    }
}

/// Location `j` (from 0) of organization `k`.
pub(crate) fn location_id(k: usize, j: u64) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_7000_8002_0000_0000_0000 + ((k as u128) << 16) + u128::from(j))
}

/// Which of `locations` a member is at: location 0 is the busiest, and sizes
/// fall off (a member density ∝ 1/√j).
pub(crate) fn pick_location(r: &mut Rng, locations: u64) -> u64 {
    let u = r.unit();
    ((locations as f64 * u * u) as u64).min(locations - 1)
}

/// The mid-sized location of organization `k` (by [`pick_location`]'s law).
pub(crate) fn typical_location(k: usize) -> Option<Uuid> {
    let locations = Profile::of(k).locations;
    (locations > 0).then(|| location_id(k, locations / 2))
}

/// The organizations' profiles and the law of their sizes.
pub(crate) struct Orgs {
    /// `profiles[k - 1]` is organization `k`'s.
    pub(crate) profiles: Vec<Profile>,
    /// Picks among organizations 2..=ORG_COUNT (index 0 is organization 2).
    pub(crate) tail: Weighted,
}

impl Orgs {
    pub(crate) fn new() -> Orgs {
        Orgs { profiles: (1..=ORG_COUNT).map(Profile::of).collect(), tail: Weighted::zipf(ORG_COUNT - 1, TAIL_ZIPF) }
    }

    pub(crate) fn profile(&self, k: usize) -> &Profile {
        &self.profiles[k - 1]
    }

    /// A tail organization (2..=ORG_COUNT), Zipf-weighted.
    pub(crate) fn pick_tail(&self, r: &mut Rng) -> usize {
        self.tail.pick(r) + 2
    }

    /// The expected members of tail organization `k` among `n` users.
    pub(crate) fn expected_members(&self, k: usize, n: u64) -> f64 {
        n as f64 * TAIL_SHARE * self.tail.share(k - 2)
    }

    /// A typical small organization for `n` users: one with locations that
    /// manages some of its members and invited the others, whose expected
    /// size is nearest 300 members at 10M (scaled with `n`, at least 30, so
    /// a smaller run still has a few pages of it).
    pub(crate) fn typical_small(&self, n: u64) -> usize {
        let wanted = (300.0 * n as f64 / 10_000_000.0).max(30.0);
        (2..=ORG_COUNT)
            .filter(|&k| {
                let p = self.profile(k);
                p.locations > 0 && p.managed > 0.0 && p.managed < 0.9
            })
            .min_by(|&a, &b| {
                let off = |k| (self.expected_members(k, n) - wanted).abs();
                off(a).total_cmp(&off(b))
            })
            .expect("some organization has locations and manages some of its members")
    }

    /// The slug and name of organization `k`: the named ones first, then
    /// `<Family> <Suffix>` (`hansen-logistics-123`).
    pub(crate) fn names(k: usize) -> (String, String) {
        if let Some((slug, name)) = ORGS.get(k - 1) {
            return ((*slug).to_owned(), (*name).to_owned());
        }
        let mut r = Rng::for_row(5, k as u64);
        let family = FAMILY[r.below(FAMILY.len() as u64) as usize];
        let suffix = ORG_SUFFIXES[r.below(ORG_SUFFIXES.len() as u64) as usize];
        let slug = format!("{}-{}-{k}", ascii_fold(family), ascii_fold(suffix));
        (slug, format!("{family} {suffix}"))
    }

    /// The CSV lines of `organizations (id, slug, name, created_at)`.
    pub(crate) fn organization_rows(&self, start_ms: i64) -> String {
        let mut out = String::new();
        for k in 1..=ORG_COUNT {
            let (slug, name) = Orgs::names(k);
            let _ = write!(out, "{},{slug},", org_id(k));
            csv(&mut out, &name);
            out.push(',');
            ts(&mut out, start_ms + self.profile(k).created_after_ms);
            out.push('\n');
        }
        out
    }

    /// The CSV lines of `roles (id, org_id, name, title, description, permissions, builtin)`:
    /// every organization has the [`ORG_ROLES`].
    pub(crate) fn role_rows() -> String {
        let mut out = String::new();
        for k in 1..=ORG_COUNT {
            for (kind, name, title, description, permissions, builtin) in ORG_ROLES {
                let _ = write!(out, "{},{},{name},", org_role_id(k, *kind), org_id(k));
                csv(&mut out, title);
                out.push(',');
                csv(&mut out, description);
                let _ = writeln!(out, ",\"{{{}}}\",{builtin}", permissions.join(","));
            }
        }
        out
    }

    /// The CSV lines of `locations (id, org_id, name, timezone, created_at, updated_at)`.
    pub(crate) fn location_rows(&self, start_ms: i64) -> String {
        let mut out = String::new();
        for k in 1..=ORG_COUNT {
            let profile = self.profile(k);
            let mut r = Rng::for_row(6, k as u64);
            for j in 0..profile.locations {
                let city = CITIES[r.below(CITIES.len() as u64) as usize];
                let created = start_ms + profile.created_after_ms + j as i64 * DAY_MS;
                let _ = write!(out, "{},{},", location_id(k, j), org_id(k));
                csv(&mut out, &format!("{} {}", city.0, j + 1));
                let _ = write!(out, ",{},", city.1);
                ts(&mut out, created);
                out.push(',');
                ts(&mut out, created);
                out.push('\n');
            }
        }
        out
    }
}
