//! Per-user IP allowlists (seed 000's "IP addresses a user may log in
//! from" and "block anonymous IP addresses"): the addresses and ranges of a
//! list, the user's policy (the list and whether it is enforced), and the
//! one rule the login applies, [`IpPolicy::allows`].
//!
//! An entry is an IPv4 or IPv6 address (`/32` or `/128`) or a CIDR range,
//! kept canonical: host bits cleared, IPv6 in RFC 5952 text, and an
//! IPv4-mapped IPv6 address (`::ffff:192.0.2.7`) read as the IPv4 address
//! it maps, so that a list and a client address agree however a dual-stack
//! listener reports the client.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

use crate::{validation::ValidationErrors, values::Email};

/// Most entries one user's list holds (`422` on `cidr` past it).
pub const MAX_ALLOWED_IPS: usize = 100;
/// Longest `cidr` taken as sent (the longest canonical form is 43).
pub const MAX_CIDR_INPUT: usize = 64;
/// Most users one bulk request names by id (`user_ids`).
pub const MAX_BULK_TARGETS: usize = 1000;
/// Most users one bulk request names by address (`emails`): so many of the
/// longest addresses still fit in the default body limit (64 KiB), so a
/// body the schema allows is never `413`.
pub const MAX_BULK_EMAILS: usize = 200;

/// An address or a range of addresses, canonical (see the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AllowedNet(IpNet);

/// The address as the allowlist compares it: IPv4-mapped IPv6 as IPv4.
fn canonical_addr(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

const NOT_AN_ADDRESS: &str =
    "must be an IPv4 or IPv6 address (192.0.2.7, 2001:db8::1) or a CIDR range (192.0.2.0/24, 2001:db8::/48)";

impl AllowedNet {
    /// Reads a single address or a CIDR range, IPv4 or IPv6, surrounding
    /// blanks ignored, and clears the host bits of a range
    /// (`192.0.2.77/24` is `192.0.2.0/24`). Zone ids, leading zeros in
    /// IPv4 octets and prefixes past the family's length are refused.
    pub fn parse(raw: &str) -> Result<AllowedNet, String> {
        if raw.chars().count() > MAX_CIDR_INPUT {
            return Err(format!("must be at most {MAX_CIDR_INPUT} characters"));
        }
        let s = raw.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| NOT_AN_ADDRESS.to_string())?;
        let prefix = match prefix {
            None => None,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse::<u8>().map_err(|_| NOT_AN_ADDRESS.to_string())?)
            }
            Some(_) => return Err("the prefix length after `/` must be a number".into()),
        };
        let too_long = |max: u8| format!("the prefix length must be at most {max} for this address");
        let net = match (addr, prefix) {
            (IpAddr::V4(v4), None) => IpNet::V4(Ipv4Net::from(v4)),
            (IpAddr::V4(v4), Some(p)) => IpNet::V4(Ipv4Net::new(v4, p).map_err(|_| too_long(32))?),
            (IpAddr::V6(v6), p) => match (v6.to_ipv4_mapped(), p) {
                (Some(v4), None) => IpNet::V4(Ipv4Net::from(v4)),
                (Some(v4), Some(p)) if p >= 96 => IpNet::V4(Ipv4Net::new(v4, p - 96).map_err(|_| too_long(128))?),
                (_, None) => IpNet::V6(Ipv6Net::from(v6)),
                (_, Some(p)) => IpNet::V6(Ipv6Net::new(v6, p).map_err(|_| too_long(128))?),
            },
        };
        Ok(AllowedNet(net.trunc()))
    }

    /// Whether `ip` lies in this address or range (IPv4-mapped IPv6 as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&canonical_addr(ip))
    }

    /// The canonical text, as stored and shown: `192.0.2.7/32`, `2001:db8::/48`.
    pub fn as_text(&self) -> String {
        self.0.to_string()
    }
}

impl std::fmt::Display for AllowedNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for AllowedNet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// One entry of a user's allowlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllowedIp {
    pub id: Uuid,
    /// The address or range in canonical CIDR form (`192.0.2.7/32`, `2001:db8::/48`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "192.0.2.0/24"))]
    pub cidr: AllowedNet,
    pub created_at: DateTime<Utc>,
}

/// Whether `client_ip` lies in one of `entries` (an empty list holds
/// nothing; an address that does not parse is in no list). This is the
/// list alone: [`IpPolicy::allows`] applies it only when the user blocks
/// unknown addresses.
pub fn allows(entries: &[AllowedIp], client_ip: &str) -> bool {
    match client_ip.trim().parse::<IpAddr>() {
        Ok(ip) => entries.iter().any(|e| e.cidr.contains(ip)),
        Err(_) => false,
    }
}

/// A user's IP policy: whether sign-ins from addresses outside the list are
/// refused, and the list (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IpPolicy {
    /// With it on, a correct sign-in from an address outside `items` is
    /// refused; with it off the list blocks nothing.
    pub block_unknown_ips: bool,
    /// The addresses and ranges, oldest first.
    #[serde(rename = "items")]
    #[cfg_attr(feature = "openapi", schema(rename = "items"))]
    pub entries: Vec<AllowedIp>,
}

impl IpPolicy {
    /// Whether the user may sign in from `client_ip`: always with
    /// `block_unknown_ips` off; with it on, only from an address in the list
    /// (an empty list then allows nothing, nor does an unknown address).
    pub fn allows(&self, client_ip: Option<&str>) -> bool {
        !self.block_unknown_ips || client_ip.is_some_and(|ip| allows(&self.entries, ip))
    }
}

/// `POST /users/{id}/allowed-ips`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AllowedIpInput {
    /// An IPv4 or IPv6 address, or a CIDR range (`192.0.2.0/24`, `2001:db8::/48`).
    #[cfg_attr(feature = "openapi", schema(max_length = 64, example = "192.0.2.0/24"))]
    pub cidr: String,
}

impl AllowedIpInput {
    /// The address or range, or a `Validation` naming `cidr`.
    pub fn validate(&self) -> Result<AllowedNet, ValidationErrors> {
        AllowedNet::parse(&self.cidr).map_err(|message| {
            let mut errors = ValidationErrors::new();
            errors.add("cidr", message);
            errors
        })
    }
}

/// `PATCH /users/{id}/security`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SecurityPatch {
    /// Refuse correct sign-ins from addresses outside the user's allowlist.
    pub block_unknown_ips: bool,
}

/// Whom a bulk request names: user ids, or addresses (compared
/// case-insensitively), each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkTargets {
    UserIds(Vec<Uuid>),
    Emails(Vec<String>),
}

impl BulkTargets {
    /// Exactly one of the two lists, not empty, at most
    /// [`MAX_BULK_TARGETS`] ids or [`MAX_BULK_EMAILS`] addresses, every
    /// address valid; repeats dropped.
    fn read(
        user_ids: Option<Vec<Uuid>>,
        emails: Option<Vec<String>>,
        errors: &mut ValidationErrors,
    ) -> Option<BulkTargets> {
        match (user_ids, emails) {
            (Some(_), Some(_)) => {
                errors.add("user_ids", "give user_ids or emails, not both");
                errors.add("emails", "give user_ids or emails, not both");
                None
            }
            (None, None) => {
                errors.add("user_ids", "give user_ids or emails: the users to apply this to");
                None
            }
            (Some(ids), None) if ids.is_empty() => {
                errors.add("user_ids", "must name at least one user");
                None
            }
            (Some(ids), None) if ids.len() > MAX_BULK_TARGETS => {
                errors.add("user_ids", format!("must name at most {MAX_BULK_TARGETS} users"));
                None
            }
            (Some(ids), None) => {
                let mut unique = Vec::with_capacity(ids.len());
                for id in ids {
                    if !unique.contains(&id) {
                        unique.push(id);
                    }
                }
                Some(BulkTargets::UserIds(unique))
            }
            (None, Some(emails)) if emails.is_empty() => {
                errors.add("emails", "must name at least one user");
                None
            }
            (None, Some(emails)) if emails.len() > MAX_BULK_EMAILS => {
                errors.add("emails", format!("must name at most {MAX_BULK_EMAILS} users"));
                None
            }
            (None, Some(emails)) => {
                let mut unique: Vec<String> = Vec::with_capacity(emails.len());
                for raw in &emails {
                    match Email::parse(raw) {
                        Ok(e) => {
                            let e = e.as_str().to_lowercase();
                            if !unique.contains(&e) {
                                unique.push(e);
                            }
                        }
                        Err(_) => errors.add("emails", format!("'{}' is not a valid email address", raw.trim())),
                    }
                }
                Some(BulkTargets::Emails(unique))
            }
        }
    }
}

/// `POST /allowed-ips` and `POST /allowed-ips/remove`: an address or range
/// for many users at once (seed 000's `add-ip` / `remove-ip` with `emails`).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkAllowedIpInput {
    /// An IPv4 or IPv6 address, or a CIDR range.
    #[cfg_attr(feature = "openapi", schema(max_length = 64, example = "10.0.0.4"))]
    pub cidr: String,
    /// The users, by id (or give `emails`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub user_ids: Option<Vec<Uuid>>,
    /// The users, by address (or give `user_ids`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Email>>, min_items = 1, max_items = 200))]
    pub emails: Option<Vec<String>>,
}

impl BulkAllowedIpInput {
    /// The address or range and the users; every bad field at once.
    pub fn validate(self) -> Result<(AllowedNet, BulkTargets), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let net = errors.check("cidr", AllowedNet::parse(&self.cidr));
        let targets = BulkTargets::read(self.user_ids, self.emails, &mut errors);
        match (net, targets) {
            (Some(net), Some(targets)) if errors.is_empty() => Ok((net, targets)),
            _ => Err(errors),
        }
    }
}

/// `POST /users/security`: turn blocking on or off for many users at once
/// (seed 000's "toggle allow anonymous IP" with `emails`).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkSecurityInput {
    /// Refuse correct sign-ins from addresses outside each user's allowlist.
    pub block_unknown_ips: bool,
    /// The users, by id (or give `emails`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub user_ids: Option<Vec<Uuid>>,
    /// The users, by address (or give `user_ids`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Email>>, min_items = 1, max_items = 200))]
    pub emails: Option<Vec<String>>,
}

impl BulkSecurityInput {
    /// The setting and the users; every bad field at once.
    pub fn validate(self) -> Result<(bool, BulkTargets), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match BulkTargets::read(self.user_ids, self.emails, &mut errors) {
            Some(targets) if errors.is_empty() => Ok((self.block_unknown_ips, targets)),
            _ => Err(errors),
        }
    }
}

/// `GET /me/ip`: the address Roster sees the caller at (through
/// `http.trusted_proxies`) and whether they may sign in from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IpCheck {
    /// The client's address (IPv4-mapped IPv6 shown as IPv4); `null` if unknown.
    #[cfg_attr(feature = "openapi", schema(example = "192.0.2.7"))]
    pub ip: Option<String>,
    /// Whether a sign-in from it passes the caller's IP policy (always when
    /// `block_unknown_ips` is off).
    pub allowed: bool,
}

/// The address a client is seen at, for display: IPv4-mapped IPv6 as IPv4.
pub fn display_ip(client_ip: &str) -> String {
    match client_ip.trim().parse::<IpAddr>() {
        Ok(ip) => canonical_addr(ip).to_string(),
        Err(_) => client_ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> String {
        AllowedNet::parse(s).unwrap().to_string()
    }

    fn entry(s: &str) -> AllowedIp {
        AllowedIp { id: Uuid::now_v7(), cidr: AllowedNet::parse(s).unwrap(), created_at: Utc::now() }
    }

    #[test]
    fn addresses_and_ranges_are_canonical() {
        assert_eq!(net("192.0.2.7"), "192.0.2.7/32");
        assert_eq!(net("  192.0.2.7 "), "192.0.2.7/32");
        assert_eq!(net("192.0.2.77/24"), "192.0.2.0/24");
        assert_eq!(net("10.1.2.3/8"), "10.0.0.0/8");
        assert_eq!(net("0.0.0.0/0"), "0.0.0.0/0");
        assert_eq!(net("2001:DB8:0:0::1"), "2001:db8::1/128");
        assert_eq!(net("2001:db8:abcd:12::1/48"), "2001:db8:abcd::/48");
        assert_eq!(net("::1"), "::1/128");
        assert_eq!(net("::/0"), "::/0");
        let longest = net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
        assert_eq!(longest.len(), 43);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_read_as_ipv4() {
        assert_eq!(net("::ffff:192.0.2.7"), "192.0.2.7/32");
        assert_eq!(net("::ffff:192.0.2.7/120"), "192.0.2.0/24");
        assert_eq!(net("::ffff:c000:207"), "192.0.2.7/32");
        // A prefix shorter than the mapped block is an IPv6 range.
        assert_eq!(net("::ffff:0:0/95"), "::fffe:0:0/95");
        let v4 = entry("192.0.2.0/24");
        assert!(v4.cidr.contains("::ffff:192.0.2.9".parse().unwrap()));
        let mapped = entry("::ffff:192.0.2.9");
        assert!(mapped.cidr.contains("192.0.2.9".parse().unwrap()));
    }

    #[test]
    fn malformed_input_is_refused() {
        for bad in [
            "",
            "   ",
            "192.0.2",
            "192.0.2.256",
            "192.0.2.7/33",
            "2001:db8::/129",
            "192.0.2.7/",
            "192.0.2.7/-1",
            "192.0.2.7/+8",
            "192.0.2.7/ 8",
            "192.0.2.7/08x",
            "192.0.2.7/0008",
            "192.0.2.0/24/8",
            "fe80::1%eth0",
            "2001:db8:::1",
            "example.com",
            "010.0.0.1",
            "[::1]",
            "192.0.2.7,192.0.2.8",
        ] {
            assert!(AllowedNet::parse(bad).is_err(), "{bad:?}");
        }
        assert!(AllowedNet::parse(&"1".repeat(65)).is_err());
        let errors = AllowedIpInput { cidr: "nope".into() }.validate().unwrap_err();
        assert_eq!(errors.fields().collect::<Vec<_>>(), ["cidr"]);
    }

    #[test]
    fn the_list_holds_addresses_in_its_ranges() {
        let list = [entry("192.0.2.0/24"), entry("2001:db8::/32"), entry("198.51.100.7")];
        for ok in ["192.0.2.1", "192.0.2.255", "2001:db8::1", "2001:db8:ffff::9", "198.51.100.7", "::ffff:198.51.100.7"]
        {
            assert!(allows(&list, ok), "{ok}");
        }
        for no in ["192.0.3.1", "198.51.100.8", "2001:db9::1", "::1", "not an address", ""] {
            assert!(!allows(&list, no), "{no}");
        }
        assert!(!allows(&[], "192.0.2.1"));
    }

    #[test]
    fn the_policy_blocks_only_when_on() {
        let off = IpPolicy { block_unknown_ips: false, entries: vec![entry("192.0.2.0/24")] };
        assert!(off.allows(Some("203.0.113.1")));
        assert!(off.allows(None));
        assert!(IpPolicy { block_unknown_ips: false, entries: vec![] }.allows(Some("203.0.113.1")));
        let on = IpPolicy { block_unknown_ips: true, entries: vec![entry("192.0.2.0/24"), entry("2001:db8::1")] };
        assert!(on.allows(Some("192.0.2.44")));
        assert!(on.allows(Some("2001:db8::1")));
        assert!(!on.allows(Some("2001:db8::2")));
        assert!(!on.allows(Some("203.0.113.1")));
        assert!(!on.allows(None));
        let empty = IpPolicy { block_unknown_ips: true, entries: vec![] };
        assert!(!empty.allows(Some("192.0.2.44")));
        assert!(!empty.allows(Some("127.0.0.1")));
    }

    #[test]
    fn the_policy_serializes_its_list_as_items() {
        let e = entry("192.0.2.0/24");
        let json = serde_json::to_value(IpPolicy { block_unknown_ips: true, entries: vec![e.clone()] }).unwrap();
        assert_eq!(json["block_unknown_ips"], true);
        assert_eq!(json["items"][0]["cidr"], "192.0.2.0/24");
        assert_eq!(json["items"][0]["id"], e.id.to_string());
    }

    #[test]
    fn bulk_targets_are_one_list_bounded_and_checked() {
        let a = Uuid::now_v7();
        let input = |ids: Option<Vec<Uuid>>, emails: Option<Vec<&str>>| BulkAllowedIpInput {
            cidr: "10.0.0.4".into(),
            user_ids: ids,
            emails: emails.map(|e| e.into_iter().map(String::from).collect()),
        };
        let (n, t) = input(Some(vec![a, a]), None).validate().unwrap();
        assert_eq!(n.to_string(), "10.0.0.4/32");
        assert_eq!(t, BulkTargets::UserIds(vec![a]));
        let (_, t) = input(None, Some(vec!["Ada@Example.com", "ada@example.COM", "b@example.com"])).validate().unwrap();
        assert_eq!(t, BulkTargets::Emails(vec!["ada@example.com".into(), "b@example.com".into()]));
        let both = input(Some(vec![a]), Some(vec!["a@example.com"])).validate().unwrap_err();
        assert_eq!(both.fields().collect::<Vec<_>>(), ["emails", "user_ids"]);
        assert!(input(None, None).validate().unwrap_err().get("user_ids").is_some());
        assert!(input(Some(vec![]), None).validate().unwrap_err().get("user_ids").is_some());
        assert!(input(None, Some(vec![])).validate().unwrap_err().get("emails").is_some());
        let bad = input(None, Some(vec!["a@example.com", "nope"])).validate().unwrap_err();
        assert_eq!(bad.fields().collect::<Vec<_>>(), ["emails"]);
        let many: Vec<Uuid> = (0..=MAX_BULK_TARGETS).map(|_| Uuid::now_v7()).collect();
        assert!(input(Some(many[1..].to_vec()), None).validate().is_ok());
        assert!(input(Some(many), None).validate().unwrap_err().get("user_ids").is_some());
        let addresses: Vec<String> = (0..=MAX_BULK_EMAILS).map(|i| format!("u{i}@example.com")).collect();
        let emails = |n: usize| Some(addresses[..n].iter().map(String::as_str).collect());
        assert!(input(None, emails(MAX_BULK_EMAILS)).validate().is_ok());
        assert!(input(None, emails(MAX_BULK_EMAILS + 1)).validate().unwrap_err().get("emails").is_some());
        let every = BulkAllowedIpInput { cidr: "x".into(), user_ids: None, emails: None }.validate().unwrap_err();
        assert_eq!(every.fields().collect::<Vec<_>>(), ["cidr", "user_ids"]);
        let toggle =
            BulkSecurityInput { block_unknown_ips: true, user_ids: None, emails: Some(vec!["a@example.com".into()]) };
        assert_eq!(toggle.validate().unwrap(), (true, BulkTargets::Emails(vec!["a@example.com".into()])));
    }

    #[test]
    fn client_addresses_are_shown_as_compared() {
        assert_eq!(display_ip("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(display_ip("2001:db8::1"), "2001:db8::1");
        assert_eq!(display_ip("192.0.2.7"), "192.0.2.7");
    }
}
