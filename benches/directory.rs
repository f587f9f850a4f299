//! Directory benchmark for `just bench-directory [N]`: seeds a fresh embedded
//! PostgreSQL with N realistic users (streamed through `COPY … FROM STDIN`
//! into `psql`), starts the release `roster` on it, and times a fixed mix of
//! `GET /api/v1/users` queries — every filter operator, sorts, projection,
//! `q`, shortcuts, offset and keyset paging, counts — sequentially over one
//! connection. Prints p50 / p99 / max per query next to the targets, then the
//! auto_explain plan of the slowest statement the server ran.
//!
//! Not a test: it asserts nothing about the figures. See docs/PERFORMANCE.md.
//! Run with `cargo build --release --bin roster && cargo bench --bench directory -- --users 1000000`;
//! options: `--users N` (default 1,000,000; `20k` and `10M` are understood),
//! `--seconds-per-query S` (default 5), `--keep DIR` (keep the seeded cluster
//! in DIR and reuse it on a later run with the same N).

// A benchmark program, not server code: failing loudly is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    fmt::Write as _,
    fs,
    io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write},
    net::TcpListener,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use roster_postgres::{EmbeddedOptions, EmbeddedPostgres};
use serde_json::{json, Value};
use uuid::Uuid;

const USAGE: &str = "usage: cargo bench --bench directory -- [--users N] [--seconds-per-query S] [--keep DIR]";
const DATABASE: &str = "roster_bench";
const ADMIN_EMAIL: &str = "bench@example.com";
const ADMIN_PASSWORD: &str = "bench directory password";
/// Bump when the generated data changes, so `--keep` reseeds.
const SEED_VERSION: u32 = 1;
const PER_PAGE: &str = "20";
/// auto_explain logs the plan of every statement at least this slow.
const EXPLAIN_MIN_DURATION: &str = "20ms";

const DEFAULT_ORG: &str = "00000000-0000-7000-8000-000000000001";
const DEFAULT_ADMIN_ROLE: &str = "00000000-0000-7000-8000-000000000012";
const DEFAULT_MEMBER_ROLE: &str = "00000000-0000-7000-8000-000000000013";

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Sign-ups grow over the five years: density at the end is e^GROWTH times that at the start.
const GROWTH: f64 = 1.0;

// ───────────────────────────── word lists ─────────────────────────────

/// Given names, most common first (weights fall off as a Zipf law over this order).
const GIVEN: &[&str] = &[
    "James",
    "Anna",
    "Mary",
    "Lars",
    "Maria",
    "John",
    "Søren",
    "Sarah",
    "Michael",
    "Emma",
    "Jens",
    "Marie",
    "David",
    "Laura",
    "Thomas",
    "Sophie",
    "Peter",
    "Anne",
    "Daniel",
    "Julia",
    "José",
    "Lucía",
    "Jean",
    "Mette",
    "Robert",
    "Hanne",
    "Niels",
    "Elizabeth",
    "Pierre",
    "Jennifer",
    "Henrik",
    "Linda",
    "William",
    "Kirsten",
    "Stefan",
    "Sabine",
    "Andreas",
    "Olivia",
    "Mads",
    "Camilla",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Christopher",
    "Nancy",
    "Mark",
    "Karen",
    "Paul",
    "Emily",
    "Antonio",
    "Carmen",
    "Manuel",
    "Isabelle",
    "Nathalie",
    "François",
    "Zoë",
    "Chloé",
    "Léa",
    "Hélène",
    "Jürgen",
    "Klaus",
    "Monika",
    "Ursula",
    "Katrin",
    "Matthias",
    "Rasmus",
    "Ida",
    "Frederik",
    "Freja",
    "Magnus",
    "Astrid",
    "Bjørn",
    "Sigrid",
    "Jørgen",
    "Signe",
    "Ingrid",
    "Kasper",
    "Line",
    "Emil",
    "Sofie",
    "Maja",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Melissa",
    "Edward",
    "Deborah",
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "Jack",
    "Ava",
    "Charlie",
    "Noah",
    "Lena",
    "Lukas",
    "Leon",
    "Jonas",
    "Mia",
    "Hannah",
    "Maximilian",
    "Felix",
    "Jörg",
    "Uwe",
    "Günter",
    "Dieter",
    "Wolfgang",
    "Birgit",
    "Sven",
    "Käthe",
    "Céline",
    "Amélie",
    "Théo",
    "Clément",
    "Raphaël",
    "Gaël",
    "Élodie",
    "Benoît",
    "Jérôme",
    "Stéphane",
    "Aurélie",
    "Inès",
    "Noémie",
    "Loïc",
    "Mathilde",
    "Francisco",
    "Dolores",
    "Javier",
    "Pilar",
    "Ángel",
    "Rocío",
    "Alejandro",
    "Begoña",
    "Íñigo",
    "Núria",
    "Sergio",
    "Paula",
    "Álvaro",
    "Ramón",
    "Sofía",
    "Martín",
    "Elena",
    "Raúl",
    "Ana",
    "Ann",
    "Joanna",
    "Johanna",
    "Ånund",
    "Åse",
    "Øystein",
    "Asger",
    "Torben",
    "Birgitte",
    "Malthe",
    "Thor",
    "Björn",
    "Linnéa",
    "Åsa",
    "Łukasz",
    "Małgorzata",
    "Zofia",
    "Wojciech",
    "Agnieszka",
    "Piotr",
    "Katarzyna",
    "Dmitri",
    "Olga",
    "Yuki",
    "Haruto",
    "Wei",
    "Mei",
    "Priya",
    "Arjun",
    "Aisha",
    "Omar",
    "Fatima",
    "Mohammed",
    "Chidi",
    "Ngozi",
    "Kwame",
    "Ayşe",
    "Mehmet",
    "Zeynep",
    "Ioana",
    "Andrei",
    "Giulia",
    "Matteo",
    "Francesca",
    "Lorenzo",
    "Siobhán",
    "Seán",
    "Aoife",
    "Niamh",
    "Eoin",
    "Róisín",
    "Dorothy",
    "Kenneth",
    "Betty",
];

/// Family names, most common first. The last one is the rare needle of `q=`.
const FAMILY: &[&str] = &[
    "Hansen",
    "Smith",
    "Jensen",
    "Müller",
    "García",
    "Nielsen",
    "Martin",
    "Johnson",
    "Pedersen",
    "Schmidt",
    "Rodríguez",
    "Andersen",
    "Williams",
    "Bernard",
    "Christensen",
    "Schneider",
    "González",
    "Larsen",
    "Brown",
    "Dubois",
    "Sørensen",
    "Fischer",
    "Fernández",
    "Rasmussen",
    "Jones",
    "Thomas",
    "Jørgensen",
    "Weber",
    "López",
    "Petersen",
    "Miller",
    "Robert",
    "Madsen",
    "Meyer",
    "Martínez",
    "Kristensen",
    "Davis",
    "Richard",
    "Olsen",
    "Wagner",
    "Sánchez",
    "Thomsen",
    "Wilson",
    "Petit",
    "Christiansen",
    "Becker",
    "Pérez",
    "Poulsen",
    "Anderson",
    "Durand",
    "Johansen",
    "Schulz",
    "Gómez",
    "Møller",
    "Taylor",
    "Leroy",
    "Mortensen",
    "Hoffmann",
    "Jiménez",
    "Knudsen",
    "Moore",
    "Moreau",
    "Jakobsen",
    "Schäfer",
    "Ruiz",
    "Mikkelsen",
    "Jackson",
    "Simon",
    "Østergaard",
    "Koch",
    "Hernández",
    "Søndergaard",
    "White",
    "Laurent",
    "Frederiksen",
    "Bauer",
    "Díaz",
    "Lund",
    "Harris",
    "Lefebvre",
    "Holm",
    "Richter",
    "Moreno",
    "Nørgaard",
    "Clark",
    "Michel",
    "Dahl",
    "Klein",
    "Muñoz",
    "Bach",
    "Lewis",
    "Bertrand",
    "Kjær",
    "Wolf",
    "Álvarez",
    "Lauridsen",
    "Robinson",
    "Roux",
    "Vestergaard",
    "Schröder",
    "Romero",
    "Nyborg",
    "Walker",
    "Vincent",
    "Ågård",
    "Neumann",
    "Alonso",
    "Bruun",
    "Young",
    "Fournier",
    "Skov",
    "Schwarz",
    "Gutiérrez",
    "Friis",
    "Allen",
    "Morel",
    "Iversen",
    "Zimmermann",
    "Navarro",
    "Johansson",
    "King",
    "Girard",
    "Karlsson",
    "Braun",
    "Torres",
    "Nilsson",
    "Wright",
    "André",
    "Eriksson",
    "Krüger",
    "Domínguez",
    "Larsson",
    "Scott",
    "Lefèvre",
    "Olsson",
    "Hofmann",
    "Vázquez",
    "Persson",
    "Hill",
    "Mercier",
    "Svensson",
    "Hartmann",
    "Ramos",
    "Gustafsson",
    "Green",
    "Dupont",
    "Lindqvist",
    "Lange",
    "Gil",
    "Lindström",
    "Adams",
    "Lambert",
    "Bergström",
    "Schmitt",
    "Ramírez",
    "Åkesson",
    "Baker",
    "Bonnet",
    "Öberg",
    "Werner",
    "Serrano",
    "Haugen",
    "Nelson",
    "François",
    "Bakken",
    "Schmitz",
    "Blanco",
    "Carter",
    "Legrand",
    "Krause",
    "Molina",
    "Mitchell",
    "Garnier",
    "Meier",
    "Morales",
    "Roberts",
    "Faure",
    "Lehmann",
    "Suárez",
    "Turner",
    "Rousseau",
    "Schmid",
    "Ortega",
    "Phillips",
    "Blanc",
    "Schulze",
    "Delgado",
    "Campbell",
    "Guérin",
    "Maier",
    "Castro",
    "Parker",
    "Henry",
    "Köhler",
    "Ortiz",
    "Evans",
    "Roussel",
    "Herrmann",
    "Rubio",
    "Edwards",
    "Nicolas",
    "König",
    "Marín",
    "Collins",
    "Perrin",
    "Walter",
    "Sanz",
    "Stewart",
    "Morin",
    "Mayer",
    "Núñez",
    "Morris",
    "Mathieu",
    "Huber",
    "Iglesias",
    "Murphy",
    "Clément",
    "Kaiser",
    "Medina",
    "Cook",
    "Gauthier",
    "Fuchs",
    "Garrido",
    "Rogers",
    "Dumont",
    "Peters",
    "Cortés",
    "Morgan",
    "Fontaine",
    "Lang",
    "Castillo",
    "Cooper",
    "Chevalier",
    "Scholz",
    "Santos",
    "Peterson",
    "Robin",
    "Weiß",
    "Lozano",
    "Reed",
    "Masson",
    "Jäger",
    "Guerrero",
    "Bailey",
    "Gérard",
    "Groß",
    "Cano",
    "O'Brien",
    "Boyer",
    "Nowak",
    "Prieto",
    "Kelly",
    "Denis",
    "Kowalski",
    "Méndez",
    "Howard",
    "Lemaire",
    "Wiśniewski",
    "Cruz",
    "Ward",
    "Duval",
    "Wójcik",
    "Calvo",
    "Richardson",
    "Joly",
    "Kowalczyk",
    "Gallego",
    "Wood",
    "Noël",
    "Kamiński",
    "Vidal",
    "Watson",
    "Meunier",
    "Lewandowski",
    "León",
    "Brooks",
    "Marchand",
    "Zieliński",
    "Márquez",
    "Bennett",
    "Dufour",
    "Szymański",
    "Herrera",
    "Gray",
    "Brunet",
    "Woźniak",
    "Peña",
    "Hughes",
    "Ivanov",
    "Sato",
    "Wang",
    "Patel",
    "Yılmaz",
    "Okafor",
    "Nguyen",
    "Kim",
    "Rossi",
    "Suzuki",
    "Li",
    "Sharma",
    "Kaya",
    "Mensah",
    "Tran",
    "Park",
    "Russo",
    "Smirnov",
    "Tanaka",
    "Zhang",
    "Singh",
    "Demir",
    "Ferrari",
    "Popov",
    "Chen",
    "Kumar",
    "Şahin",
    "Bianchi",
    "Petrov",
    "Watanabe",
    "Liu",
    "Gupta",
    "Çelik",
    "Esposito",
    "Öztürk",
    "Wojciechowski",
];

/// Email domains and their weights.
const DOMAINS: &[(&str, f64)] = &[
    ("gmail.com", 30.0),
    ("outlook.com", 10.0),
    ("hotmail.com", 8.0),
    ("yahoo.com", 7.0),
    ("icloud.com", 6.0),
    ("example.com", 5.0),
    ("gmx.de", 4.0),
    ("acme.io", 4.0),
    ("web.de", 3.0),
    ("orange.fr", 3.0),
    ("proton.me", 3.0),
    ("globex.com", 3.0),
    ("fastmail.com", 2.0),
    ("free.fr", 2.0),
    ("laposte.net", 2.0),
    ("live.dk", 2.0),
    ("telefonica.es", 2.0),
    ("initech.com", 2.0),
    ("mail.dk", 1.0),
    ("umbrella.org", 1.0),
];

/// Locales, their weights, their phone country code and their usual time zones.
const LOCALES: &[(&str, f64, &str, &[&str])] = &[
    ("en", 30.0, "44", &["Europe/London"]),
    ("en-US", 28.0, "1", &["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]),
    ("de", 12.0, "49", &["Europe/Berlin"]),
    ("fr", 10.0, "33", &["Europe/Paris"]),
    ("da", 10.0, "45", &["Europe/Copenhagen"]),
    ("es", 7.0, "34", &["Europe/Madrid", "America/Sao_Paulo"]),
];

const TIME_ZONES: &[&str] = &[
    "Europe/London",
    "Europe/Copenhagen",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
];

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Support",
    "Marketing",
    "Operations",
    "Finance",
    "R&D",
    "Product",
    "Design",
    "Legal",
    "People",
];
const POSITIONS: &[&str] = &[
    "Engineer",
    "Senior Engineer",
    "Specialist",
    "Analyst",
    "Consultant",
    "Coordinator",
    "Manager",
    "Designer",
    "Associate",
    "Director",
    "Intern",
    "VP",
];
const TEAMS: &[&str] =
    &["core", "platform", "growth", "billing", "identity", "mobile", "web", "data", "infra", "security"];

/// The benchmark's organizations (slug, name), largest first.
const ORGS: &[(&str, &str)] = &[
    ("acme", "Acme Corporation"),
    ("globex", "Globex"),
    ("initech", "Initech"),
    ("umbrella", "Umbrella Corporation"),
    ("hooli", "Hooli"),
    ("stark", "Stark Industries"),
    ("wayne", "Wayne Enterprises"),
    ("wonka", "Wonka Industries"),
    ("cyberdyne", "Cyberdyne Systems"),
    ("soylent", "Soylent Corp"),
    ("tyrell", "Tyrell Corporation"),
    ("aperture", "Aperture Science"),
    ("oscorp", "Oscorp"),
    ("vandelay", "Vandelay Industries"),
    ("dunder-mifflin", "Dunder Mifflin"),
    ("pied-piper", "Pied Piper"),
    ("massive-dynamic", "Massive Dynamic"),
    ("nordisk-data", "Nordisk Data ApS"),
    ("ateliers-reunis", "Les Ateliers Réunis"),
    ("bodega-del-sol", "Bodega del Sol"),
];
/// Role kinds of the benchmark's organizations: 1 owner, 2 admin, 3 member, 4 staff.
const ORG_ROLES: &[(u64, &str, &str, &str, bool)] = &[
    (
        1,
        "owner",
        "Full control of the organization",
        "ARRAY['users:read','users:write','users:delete','users:manage_status','sessions:revoke','org:manage','roles:manage']",
        true,
    ),
    (
        2,
        "admin",
        "Manages the users of the organization",
        "ARRAY['users:read','users:write','users:delete','users:manage_status','sessions:revoke']",
        true,
    ),
    (3, "member", "Reads and edits only itself", "ARRAY[]::text[]", true),
    (4, "staff", "Reads the directory", "ARRAY['users:read']", false),
];

fn org_id(k: usize) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0100 + k as u128)
}

fn org_role_id(k: usize, kind: u64) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_1000 + 0x10 * k as u128 + u128::from(kind))
}

// ───────────────────────────── arguments ─────────────────────────────

struct Args {
    users: u64,
    seconds: f64,
    keep: Option<PathBuf>,
}

/// `20000`, `20_000`, `20,000`, `20k`, `10M`.
fn parse_count(s: &str) -> Option<u64> {
    let s: String = s.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    let (digits, factor) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1_000),
        'm' | 'M' => (&s[..s.len() - 1], 1_000_000),
        _ => (&s[..], 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

fn parse_args() -> Args {
    let mut args = Args { users: 1_000_000, seconds: 5.0, keep: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value =
            || inline.clone().or_else(|| it.next()).unwrap_or_else(|| panic!("{name} needs a value\n{USAGE}"));
        match name.as_str() {
            "--users" => {
                let v = value();
                args.users = parse_count(&v).unwrap_or_else(|| panic!("--users {v:?} is not a number\n{USAGE}"));
            }
            "--seconds-per-query" => {
                let v = value();
                args.seconds = v.parse().ok().filter(|s: &f64| *s > 0.0).unwrap_or_else(|| panic!("bad seconds {v:?}"));
            }
            "--keep" => args.keep = Some(PathBuf::from(value())),
            "--bench" => {} // added by `cargo bench`
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => panic!("unknown argument {arg:?}\n{USAGE}"),
        }
    }
    assert!(args.users >= 1000, "--users must be at least 1000");
    args
}

// ───────────────────────────── small helpers ─────────────────────────────

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Percent-encodes a query component (all but RFC 3986 unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The lowercase ASCII form of a name, for email local parts (`Søren` → `soren`).
fn ascii_fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        let folded = match c {
            'a'..='z' | '0'..='9' | '-' => {
                out.push(c);
                continue;
            }
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'ę' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ı' => "i",
            'ñ' | 'ń' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ý' | 'ÿ' => "y",
            'ß' => "ss",
            'ł' => "l",
            'ś' | 'š' | 'ş' => "s",
            'ź' | 'ż' | 'ž' => "z",
            'ğ' => "g",
            'ř' => "r",
            _ => "", // apostrophes, spaces
        };
        out.push_str(folded);
    }
    out
}

/// Appends `s` as one CSV field: quoted when needed (an empty unquoted field is NULL).
fn csv(line: &mut String, s: &str) {
    if s.is_empty() || s.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&s.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(s);
    }
}

/// A timestamp as PostgreSQL reads it.
fn ts(line: &mut String, millis: i64) {
    let _ = write!(line, "{}+00", DateTime::from_timestamp_millis(millis).unwrap().naive_utc());
}

fn rfc3339(millis: i64) -> String {
    DateTime::from_timestamp_millis(millis).unwrap().to_rfc3339_opts(SecondsFormat::Secs, true)
}

// ───────────────────────────── deterministic data ─────────────────────────────

/// SplitMix64, seeded per row, so any row can be regenerated on its own
/// (the memberships pass recomputes each user's id instead of storing it).
#[derive(Clone, Copy)]
struct Rng(u64);

fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn for_row(stream: u64, row: u64) -> Rng {
        Rng(fmix(fmix(row ^ stream.rotate_left(32)).wrapping_add(stream)))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        fmix(self.0)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Picks indexes with given weights.
struct Weighted(Vec<f64>);

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
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
    fn zipf(n: usize, s: f64) -> Weighted {
        Weighted::new((1..=n).map(|k| (k as f64).powf(-s)))
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let x = rng.unit() * self.0[self.0.len() - 1];
        self.0.partition_point(|&c| c <= x).min(self.0.len() - 1)
    }
}

/// Generates the rows of user `i` of `n` (and their memberships) from `i` alone.
struct Generator {
    n: u64,
    now_ms: i64,
    start_ms: i64,
    given: Weighted,
    family: Weighted,
    domain: Weighted,
    locale: Weighted,
    org: Weighted,
    given_ascii: Vec<String>,
    family_ascii: Vec<String>,
}

impl Generator {
    fn new(n: u64, now_ms: i64) -> Generator {
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
    fn key(&self, i: u64) -> (i64, Uuid, Rng) {
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
    fn user(&self, i: u64, line: &mut String) {
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
    fn memberships(&self, i: u64, line: &mut String) -> u64 {
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

const USER_COLUMNS: &str = "id, email, email_verified, name, given_name, family_name, phone, locale, timezone, \
                            status, birthdate, employee_id, position, department, attributes, created_at, \
                            updated_at, last_login_at";

// ───────────────────────────── psql ─────────────────────────────

/// Runs `psql` (from the cluster's bin directory) against the embedded cluster.
#[derive(Clone)]
struct Psql {
    bin: PathBuf,
    port: u16,
    password: String,
}

impl Psql {
    fn new(pg: &EmbeddedPostgres) -> Psql {
        // The cluster's `pg_ctl` tells which bin directory it runs from; psql sits beside it.
        let bin = pg
            .stop_command(false)
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.file_name().is_some_and(|n| n == "pg_ctl"))
            .and_then(|p| p.parent().map(|d| d.join("psql")))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"));
        let url = pg.database_url();
        let password = url
            .strip_prefix("postgres://postgres:")
            .and_then(|rest| rest.split_once('@'))
            .map(|(pw, _)| pw.to_owned())
            .expect("embedded URL has a password");
        Psql { bin, port: pg.port(), password }
    }

    fn command(&self, db: &str) -> Command {
        let mut cmd = Command::new(&self.bin);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                cmd.env_remove(key);
            }
        }
        cmd.env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "30")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-p"])
            .arg(self.port.to_string());
        cmd
    }

    /// Runs each statement (one `-c` each, in one session) and returns the rows
    /// of their output, fields split.
    fn run(&self, db: &str, statements: &[&str]) -> Vec<Vec<String>> {
        let mut cmd = self.command(db);
        cmd.args(["-A", "-t", "-F", "\u{1f}"]);
        for s in statements {
            cmd.arg("-c").arg(s);
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{}: {e}", self.bin.display()));
        assert!(
            out.status.success(),
            "psql failed ({}): {}\nstatements:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            statements.join(";\n")
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\u{1f}').map(str::to_owned).collect())
            .collect()
    }

    /// One value.
    fn value(&self, sql: &str) -> String {
        self.run(DATABASE, &[sql]).into_iter().next().and_then(|r| r.into_iter().next()).unwrap_or_default()
    }

    /// In one transaction: `prelude`, then `copy` (`COPY … FROM STDIN`) fed by
    /// `rows`, which writes CSV and returns how many rows it wrote.
    fn copy(&self, prelude: &[&str], copy: &str, rows: impl FnOnce(&mut dyn Write) -> io::Result<u64>) -> u64 {
        let mut cmd = self.command(DATABASE);
        cmd.arg("-1");
        for s in prelude {
            cmd.arg("-c").arg(s);
        }
        cmd.arg("-c").arg(copy).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{}: {e}", self.bin.display()));
        let mut input = BufWriter::with_capacity(1 << 20, child.stdin.take().unwrap());
        let written = rows(&mut input).and_then(|n| input.flush().map(|()| n));
        drop(input); // EOF ends the COPY
        let out = child.wait_with_output().expect("psql finishes");
        assert!(out.status.success(), "{copy} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
        written.expect("writing rows to psql")
    }
}

// ───────────────────────────── seeding ─────────────────────────────

/// Streams `n` rows made by `row` into `out`, reporting progress on stderr.
fn stream_rows(
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

struct SeedReport {
    users: u64,
    memberships: u64,
    users_time: Duration,
    memberships_time: Duration,
    index_time: Duration,
    analyze_time: Duration,
    total: Duration,
}

/// Seeds organizations, `n` users and their memberships, rebuilds the
/// indexes and foreign keys dropped for the load, and analyzes.
fn seed(psql: &Psql, n: u64) -> SeedReport {
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

// ───────────────────────────── the server ─────────────────────────────

struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    fn stop(&mut self) {
        // SIGTERM: the server drains its connections and exits.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(45);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

fn roster_bin() -> PathBuf {
    let bin = std::env::var_os("ROSTER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/roster"));
    assert!(bin.exists(), "{} is missing: run `cargo build --release --bin roster` first", bin.display());
    bin
}

/// `roster` with a clean `ROSTER_*` environment plus `env`.
fn roster_command(bin: &Path, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ROSTER_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Creates the superadmin, then starts `roster serve`.
fn start_server(bin: &Path, env: &[(&str, String)], log: PathBuf) -> Server {
    let mut create = roster_command(bin, env)
        .args(["admin", "create", "--email", ADMIN_EMAIL, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("roster admin create starts");
    create.stdin.take().unwrap().write_all(format!("{ADMIN_PASSWORD}\n").as_bytes()).unwrap();
    let out = create.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "roster admin create failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log_file = fs::File::create(&log).unwrap();
    let child = roster_command(bin, env)
        .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("roster starts");
    Server { child, base: format!("http://127.0.0.1:{port}"), log }
}

// ───────────────────────────── the query mix ─────────────────────────────

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// First page of a filter and/or sort.
    FirstPage,
    /// A keyset page fetched through a cursor.
    Cursor,
    /// `q=`.
    Search,
    /// `GET /users/count` with a filter.
    Count,
    /// Reported, no target.
    Info,
}

impl Target {
    fn limit(self) -> Option<Duration> {
        match self {
            Target::FirstPage | Target::Cursor => Some(Duration::from_millis(50)),
            Target::Search => Some(Duration::from_millis(150)),
            Target::Count => Some(Duration::from_secs(1)),
            Target::Info => None,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Target::FirstPage | Target::Cursor => "p99<50ms",
            Target::Search => "p99<150ms",
            Target::Count => "p99<1s",
            Target::Info => "-",
        }
    }
}

struct Spec {
    label: String,
    endpoint: &'static str,
    params: Vec<(&'static str, String)>,
    /// Follow `links.next` this many times from the page of `params`, then measure that page.
    hops: usize,
    target: Target,
}

impl Spec {
    fn new(label: impl Into<String>, target: Target, params: &[(&'static str, &str)]) -> Spec {
        let mut params: Vec<(&'static str, String)> = params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        // A first page is the page itself: its exact total is measured by the
        // count queries (and by "offset page 1 with total" below).
        if !params.iter().any(|(k, _)| *k == "total" || *k == "after") {
            params.push(("total", "false".to_owned()));
        }
        params.push(("per_page", PER_PAGE.to_owned()));
        Spec { label: label.into(), endpoint: "/api/v1/users", params, hops: 0, target }
    }

    fn count(label: impl Into<String>, params: &[(&'static str, &str)]) -> Spec {
        let params = params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Spec { label: label.into(), endpoint: "/api/v1/users/count", params, hops: 0, target: Target::Count }
    }

    fn cursor(label: impl Into<String>, hops: usize, params: &[(&'static str, &str)]) -> Spec {
        let mut spec = Spec::new(label, Target::Cursor, params);
        spec.params.insert(spec.params.len() - 1, ("after", String::new()));
        spec.hops = hops;
        spec
    }

    fn path(&self) -> String {
        let query: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        if query.is_empty() {
            return self.endpoint.to_owned();
        }
        format!("{}?{}", self.endpoint, query.join("&"))
    }

    /// The query as a reader wants it: unencoded.
    fn display(&self) -> String {
        let query: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let hops = if self.hops > 0 { format!("  → links.next ×{}", self.hops) } else { String::new() };
        let sep = if query.is_empty() { "" } else { "?" };
        format!("{}{sep}{}{hops}", self.endpoint, query.join("&"))
    }
}

/// Values picked from the seeded data, so the queries select what they should.
struct Picks {
    email: String,
    date_10: String,
    date_90: String,
    login_week: String,
    login_month: String,
}

fn picks(psql: &Psql) -> Picks {
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

fn specs(p: &Picks) -> Vec<Spec> {
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

struct Measured {
    spec: Spec,
    /// Sorted.
    samples: Vec<Duration>,
    rows: Option<u64>,
    total: Option<u64>,
    failure: Option<String>,
    /// The server.log bytes written while this query ran.
    log: (u64, u64),
}

impl Measured {
    fn verdict(&self) -> &'static str {
        match (self.failure.is_some(), self.spec.target.limit()) {
            (true, _) => "FAILED",
            (false, None) => "",
            (false, Some(limit)) if percentile(&self.samples, 0.99) < limit => "ok",
            (false, Some(_)) => "MISSED",
        }
    }
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// `status code: the first error` of a problem+json body, or the start of the body.
fn problem(status: reqwest::StatusCode, body: &[u8]) -> String {
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

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    /// GET `path`: status, body and the time to the last byte.
    async fn get(&self, path: &str) -> Result<(reqwest::StatusCode, Vec<u8>, Duration), String> {
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
    async fn json(&self, path: &str) -> Result<Value, String> {
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
async fn measure(client: &Client, spec: Spec, seconds: f64, server_log: &Path) -> Measured {
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
                    m.rows = v["data"].as_array().map(|a| a.len() as u64);
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

// ───────────────────────────── the plans ─────────────────────────────

struct Plan {
    offset: u64,
    duration_ms: f64,
    text: String,
}

/// The auto_explain entry with the longest `duration:` in `path` from
/// `from`, and how many entries there were.
fn slowest_plan(path: &Path, from: u64) -> (Option<Plan>, usize) {
    let Ok(mut file) = fs::File::open(path) else { return (None, 0) };
    if file.seek(SeekFrom::Start(from)).is_err() {
        return (None, 0);
    }
    let mut reader = BufReader::new(file);
    let mut offset = from;
    let mut best: Option<Plan> = None;
    let mut current: Option<Plan> = None;
    let mut count = 0;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let read = reader.read_until(b'\n', &mut raw).unwrap_or(0);
        let line = String::from_utf8_lossy(&raw);
        let continues = read > 0 && line.starts_with('\t');
        if let (Some(plan), true) = (current.as_mut(), continues) {
            plan.text.push_str(&line);
        } else {
            if let Some(plan) = current.take() {
                if best.as_ref().is_none_or(|b| plan.duration_ms > b.duration_ms) {
                    best = Some(plan);
                }
            }
            if read == 0 {
                break;
            }
            let duration = line
                .split_once("duration: ")
                .filter(|_| line.contains(" plan:"))
                .and_then(|(_, rest)| rest.split_once(" ms"))
                .and_then(|(d, _)| d.trim().parse::<f64>().ok());
            if let Some(duration_ms) = duration {
                count += 1;
                current = Some(Plan { offset, duration_ms, text: line.into_owned() });
            }
        }
        offset += read as u64;
    }
    (best, count)
}

// ───────────────────────────── main ─────────────────────────────

fn main() {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let code = rt.block_on(async {
        tokio::select! {
            () = run(args) => 0,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("interrupted: stopping the server and the cluster");
                130
            }
        }
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    std::process::exit(code);
}

async fn run(args: Args) {
    let n = args.users;
    let bin = roster_bin();
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);

    // Where the cluster lives: a throwaway directory, or DIR with --keep.
    let (base, _temp) = match &args.keep {
        Some(dir) => {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            (fs::canonicalize(dir).unwrap(), None)
        }
        None => {
            let temp = tempfile::Builder::new().prefix("roster-directory-bench-").tempdir().expect("temp dir");
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    // Root runs the cluster as `postgres`, who must reach the directory.
    chmod(&base, 0o755);
    let marker = base.join("seeded");
    let seeded_as = format!("users={n} seed_version={SEED_VERSION}\n");
    let reuse = args.keep.is_some() && fs::read_to_string(&marker).is_ok_and(|m| m == seeded_as);

    let opts = EmbeddedOptions {
        data_dir: base.join("postgres"),
        database: DATABASE.to_owned(),
        // fsync off: the load is faster and reads are unaffected. Never for real data.
        ephemeral: true,
        ..EmbeddedOptions::new(base.join("postgres"))
    };
    let pg = EmbeddedPostgres::start(opts).await.expect("embedded PostgreSQL starts");
    let psql = Psql::new(&pg);
    let server_log = pg.data_dir().join("server.log");

    if reuse {
        eprintln!("reusing the cluster seeded with {} users in {}", thousands(n), base.display());
    } else {
        let _ = fs::remove_file(&marker);
        if args.keep.is_some() {
            // A kept cluster seeded differently (or not completely): start over.
            psql.run(
                "postgres",
                &[
                    format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)").as_str(),
                    format!("CREATE DATABASE {DATABASE}").as_str(),
                ],
            );
        }
    }
    roster_postgres::run_migrations(&pg.database_url()).await.expect("migrations");
    let report = if reuse {
        None
    } else {
        let p = psql.clone();
        Some(tokio::task::spawn_blocking(move || seed(&p, n)).await.expect("seeding"))
    };

    // Plans of slow statements go to server.log; set before the server
    // connects, so that every pooled connection loads auto_explain.
    psql.run(
        DATABASE,
        &[
            "LOAD 'auto_explain'",
            format!("ALTER DATABASE {DATABASE} SET session_preload_libraries = 'auto_explain'").as_str(),
            format!("ALTER DATABASE {DATABASE} SET auto_explain.log_min_duration = '{EXPLAIN_MIN_DURATION}'").as_str(),
            format!("ALTER DATABASE {DATABASE} SET auto_explain.log_analyze = on").as_str(),
            format!("ALTER DATABASE {DATABASE} SET auto_explain.log_buffers = on").as_str(),
        ],
    );

    // The superadmin and the server.
    let secret_file = base.join("key-encryption-secret");
    let secret = match fs::read_to_string(&secret_file) {
        Ok(s) if args.keep.is_some() && s.trim().len() == 64 => s.trim().to_owned(),
        _ => {
            let s = hex::encode(rand::random::<[u8; 32]>());
            fs::write(&secret_file, &s).unwrap();
            chmod(&secret_file, 0o600);
            s
        }
    };
    let roster_data = base.join("roster-data");
    fs::create_dir_all(&roster_data).unwrap();
    let env = [
        ("ROSTER_DATABASE_URL", pg.database_url()),
        ("ROSTER_KEY_ENCRYPTION_SECRET", secret),
        ("ROSTER_DATA_DIR", roster_data.display().to_string()),
        ("ROSTER_AUTH__BCRYPT_COST", "10".to_owned()),
        // One token for the whole mix, however long it takes.
        ("ROSTER_AUTH__ACCESS_TOKEN_TTL_SECS", "86400".to_owned()),
        ("ROSTER_LOG__LEVEL", "warn".to_owned()),
    ];
    let mut server = start_server(&bin, &env, base.join("roster.log"));
    if args.keep.is_some() {
        fs::write(&marker, &seeded_as).unwrap();
    }

    let http = reqwest::Client::builder().pool_max_idle_per_host(1).timeout(Duration::from_secs(600)).build().unwrap();
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{}/health/ready", server.base)).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("roster exited ({status}) before it was ready:\n{}", tail(&server.log, 30));
        }
        assert!(started.elapsed() < Duration::from_secs(180), "server not ready:\n{}", tail(&server.log, 30));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let login = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert!(login.status().is_success(), "login: {}", login.status());
    let token = login.json::<Value>().await.unwrap()["access_token"].as_str().expect("access_token").to_owned();
    let client = Client { http, base: server.base.clone(), token };

    // What we measure on.
    let facts = psql.run(
        DATABASE,
        &["SELECT current_setting('server_version'), current_setting('shared_buffers'), current_setting('work_mem'), \
                  current_setting('jit'), pg_size_pretty(pg_total_relation_size('users')), \
                  pg_size_pretty(pg_total_relation_size('memberships')), (SELECT count(*) FROM memberships)"],
    );
    let facts = &facts[0];
    let picks = picks(&psql);
    let specs = specs(&picks);

    let mix_start = file_len(&server_log);
    let mut results = Vec::new();
    let total = specs.len();
    for (i, spec) in specs.into_iter().enumerate() {
        eprintln!("[{}/{total}] {}", i + 1, spec.display());
        results.push(measure(&client, spec, args.seconds, &server_log).await);
    }
    let (slowest, explained) = slowest_plan(&server_log, mix_start);
    let log_kept = args.keep.is_some();

    // The report.
    println!();
    println!(
        "roster directory benchmark — {} users (+1 bench superadmin), {cores} cores, PostgreSQL {} \
         (shared_buffers {}, work_mem {}, jit {})",
        thousands(n),
        facts[0],
        facts[1],
        facts[2],
        facts[3]
    );
    println!(
        "  tables: users {}, memberships {} ({} rows); auto_explain on (log_analyze, buffers) for statements ≥ {EXPLAIN_MIN_DURATION}",
        facts[4],
        facts[5],
        thousands(facts[6].parse().unwrap_or(0))
    );
    match &report {
        Some(r) => println!(
            "  seeding: {:.1} s in all ({} rows/s overall) — users {:.1} s ({} rows/s), memberships {:.1} s \
             ({} rows/s), indexes and foreign keys {:.1} s, ANALYZE {:.1} s",
            r.total.as_secs_f64(),
            thousands(((r.users + r.memberships) as f64 / r.total.as_secs_f64()) as u64),
            r.users_time.as_secs_f64(),
            thousands((r.users as f64 / r.users_time.as_secs_f64()) as u64),
            r.memberships_time.as_secs_f64(),
            thousands((r.memberships as f64 / r.memberships_time.as_secs_f64()) as u64),
            r.index_time.as_secs_f64(),
            r.analyze_time.as_secs_f64()
        ),
        None => println!("  seeding: skipped, reused the cluster kept in {}", base.display()),
    }
    println!(
        "  each query: 3 warm-ups, then ≥ {} s and ≥ 20 runs, sequential on one connection; per_page={PER_PAGE}",
        args.seconds
    );
    println!(
        "  targets: first page of any filter+sort p99 < 50 ms; cursor page p99 < 50 ms; q p99 < 150 ms; filtered count < 1 s"
    );
    println!();
    println!(
        "{:<46} {:>5} {:>9} {:>9} {:>9} {:>6} {:>11}  {:<10} result",
        "query", "runs", "p50 ms", "p99 ms", "max ms", "rows", "total", "target"
    );
    for m in &results {
        let label: String = m.spec.label.chars().take(46).collect();
        if m.samples.is_empty() {
            println!(
                "{label:<46} {:>5} {:>9} {:>9} {:>9} {:>6} {:>11}  {:<10} FAILED {}",
                0,
                "-",
                "-",
                "-",
                "-",
                "-",
                m.spec.target.text(),
                m.failure.as_deref().unwrap_or("")
            );
            continue;
        }
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), thousands);
        println!(
            "{label:<46} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>6} {:>11}  {:<10} {}{}",
            m.samples.len(),
            ms(percentile(&m.samples, 0.5)),
            ms(percentile(&m.samples, 0.99)),
            ms(percentile(&m.samples, 1.0)),
            opt(m.rows),
            opt(m.total),
            m.spec.target.text(),
            m.verdict(),
            m.failure.as_deref().map(|f| format!(" ({f})")).unwrap_or_default()
        );
    }
    let with_target: Vec<&Measured> = results.iter().filter(|m| m.spec.target.limit().is_some()).collect();
    let met = with_target.iter().filter(|m| m.verdict() == "ok").count();
    let failed = results.iter().filter(|m| m.failure.is_some()).count();
    println!();
    println!("targets met: {met} of {}; queries with failures: {failed}", with_target.len());
    println!();
    println!("queries:");
    for m in &results {
        println!("  {:<46} {}", m.spec.label, m.spec.display());
    }
    println!();
    match slowest {
        Some(plan) => {
            let during = results
                .iter()
                .find(|m| (m.log.0..m.log.1).contains(&plan.offset))
                .map_or_else(|| "between queries".to_owned(), |m| format!("during “{}”", m.spec.label));
            println!(
                "slowest statement: {:.1} ms, {during} ({explained} plans ≥ {EXPLAIN_MIN_DURATION} logged during the mix{})",
                plan.duration_ms,
                if log_kept { format!(", all in {}", server_log.display()) } else { String::new() }
            );
            let lines: Vec<&str> = plan.text.lines().collect();
            for line in lines.iter().take(200) {
                println!("  {line}");
            }
            if lines.len() > 200 {
                println!("  … {} more lines in {}", lines.len() - 200, server_log.display());
            }
        }
        None => {
            println!("slowest statement: none took {EXPLAIN_MIN_DURATION} or more (nothing for auto_explain to log)")
        }
    }

    // Stop the server, then the cluster (the kept one keeps its data).
    server.stop();
    pg.stop().await.expect("cluster stops");
    if log_kept {
        println!();
        println!(
            "the seeded cluster is kept in {}; rerun with --keep {} --users {n} to skip seeding",
            base.display(),
            base.display()
        );
    }
}
