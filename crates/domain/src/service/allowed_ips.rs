//! Users' IP allowlists (`/users/{id}/allowed-ips`, `/users/{id}/security`,
//! the bulk forms `/allowed-ips` and `/users/security`, and `/me/ip`).
//!
//! Reading a user's policy follows `GET /users/{id}` (oneself, or
//! `users:read`); changing it is an administrator's act on the account
//! (`users:write` where the caller acts, even for oneself, with the rules of
//! any account edit: see [`UserService`]). A bulk request authorizes every
//! user it names the same way: whom the caller cannot see is reported not
//! found, whom it may not change refused, and the rest is written in one
//! statement or transaction. The login reads the policy through
//! [`AllowedIpRepository::ip_policy`] and asks [`IpPolicy::allows`].

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Principal, Refusal},
    error::Error,
    ports::{AllowedIpAdded, AllowedIpRepository, BulkAdded, Clock},
    user::{
        display_ip, AllowedIp, AllowedIpInput, BulkAllowedIpInput, BulkSecurityInput, BulkTargets, IpCheck, IpPolicy,
        SecurityPatch, MAX_ALLOWED_IPS,
    },
    validation::ValidationErrors,
};

use super::UserService;

/// What [`IpAllowlistService`] calls.
#[derive(Clone)]
pub struct IpAllowlistPorts {
    pub allowed_ips: Arc<dyn AllowedIpRepository>,
    /// Decides whose policy the caller may read and change.
    pub users: UserService,
    pub clock: Arc<dyn Clock>,
}

/// A user a bulk request named whom the caller may not change, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedTarget {
    /// The id or address as the request gave it.
    pub target: String,
    pub refusal: Refusal,
}

/// What a bulk request did, per user named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkReport {
    /// The users changed (or already as asked), in the order given.
    pub applied: Vec<Uuid>,
    /// Ids or addresses (as given) of users that do not exist or that the
    /// caller cannot see.
    pub not_found: Vec<String>,
    /// Users the caller sees but may not change (an owner, a superadmin, an
    /// account another organization manages).
    pub refused: Vec<RefusedTarget>,
}

/// The users a bulk request may change, as given and by id, and the report
/// of the others.
struct Resolved {
    allowed: Vec<(String, Uuid)>,
    report: BulkReport,
}

impl Resolved {
    fn ids(&self) -> Vec<Uuid> {
        self.allowed.iter().map(|(_, id)| *id).collect()
    }

    /// The report once `written` (ids) were changed: the other allowed
    /// users disappeared meanwhile, and count as not found.
    fn report(mut self, written: &[Uuid]) -> BulkReport {
        for (given, id) in self.allowed {
            if written.contains(&id) {
                self.report.applied.push(id);
            } else {
                self.report.not_found.push(given);
            }
        }
        self.report
    }
}

/// IP allowlist use cases.
#[derive(Clone)]
pub struct IpAllowlistService {
    ports: IpAllowlistPorts,
}

fn list_full(field: &str, message: String) -> Error {
    let mut errors = ValidationErrors::new();
    errors.add(field, message);
    Error::Validation(errors)
}

impl IpAllowlistService {
    pub fn new(ports: IpAllowlistPorts) -> IpAllowlistService {
        IpAllowlistService { ports }
    }

    /// User `id`'s IP policy (the flag and the list, oldest first):
    /// oneself, or with `users:read` a user the caller's organization sees.
    /// Errors: `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn policy(&self, principal: &Principal, id: Uuid) -> Result<IpPolicy, Error> {
        self.ports.users.records_of(principal, id, false).await?;
        self.ports.allowed_ips.ip_policy(id).await?.ok_or(Error::NotFound("user"))
    }

    /// Adds an address or range to user `id`'s list; `true` with a new
    /// entry, `false` with the entry the list had for it already. Needs
    /// what [`UserService::policy_target`] needs. A full list
    /// ([`MAX_ALLOWED_IPS`]) is a `Validation` on `cidr`. Errors:
    /// `Forbidden`, `NotFound`, `Validation`, `Unavailable`.
    pub async fn add(
        &self,
        principal: &Principal,
        id: Uuid,
        input: AllowedIpInput,
    ) -> Result<(AllowedIp, bool), Error> {
        self.ports.users.policy_target(principal, id).await?;
        let net = input.validate()?;
        let now = self.ports.clock.now();
        match self.ports.allowed_ips.add_allowed_ip(id, Uuid::now_v7(), &net, MAX_ALLOWED_IPS, now).await? {
            AllowedIpAdded::Created(entry) => Ok((entry, true)),
            AllowedIpAdded::Existing(entry) => Ok((entry, false)),
            AllowedIpAdded::Full => Err(list_full(
                "cidr",
                format!("the user's allowlist holds {MAX_ALLOWED_IPS} entries, the most it may; remove one first"),
            )),
            AllowedIpAdded::UserGone => Err(Error::NotFound("user")),
        }
    }

    /// Removes entry `entry` from user `id`'s list. Errors: `Forbidden`,
    /// `NotFound` (the user, or no such entry of theirs), `Unavailable`.
    pub async fn remove(&self, principal: &Principal, id: Uuid, entry: Uuid) -> Result<(), Error> {
        self.ports.users.policy_target(principal, id).await?;
        if self.ports.allowed_ips.remove_allowed_ip(id, entry).await? {
            Ok(())
        } else {
            Err(Error::NotFound("allowed IP"))
        }
    }

    /// Turns `block_unknown_ips` on or off for user `id` and answers their
    /// policy. Errors: `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn set_blocking(&self, principal: &Principal, id: Uuid, patch: SecurityPatch) -> Result<IpPolicy, Error> {
        self.ports.users.policy_target(principal, id).await?;
        let now = self.ports.clock.now();
        if self.ports.allowed_ips.set_block_unknown_ips(&[id], patch.block_unknown_ips, now).await?.is_empty() {
            return Err(Error::NotFound("user"));
        }
        self.ports.allowed_ips.ip_policy(id).await?.ok_or(Error::NotFound("user"))
    }

    /// Turns `block_unknown_ips` on or off for every user named that the
    /// caller may change (see [`BulkReport`]). Needs `users:write` where
    /// the caller acts (`Forbidden` otherwise, before the body is looked
    /// at). Errors: `Forbidden`, `Validation`, `Unavailable`.
    pub async fn bulk_set_blocking(
        &self,
        principal: &Principal,
        input: BulkSecurityInput,
    ) -> Result<BulkReport, Error> {
        UserService::may_write_users(principal)?;
        let (block, targets) = input.validate()?;
        let resolved = self.resolve(principal, &targets).await?;
        let ids = resolved.ids();
        let written = if ids.is_empty() {
            Vec::new()
        } else {
            self.ports.allowed_ips.set_block_unknown_ips(&ids, block, self.ports.clock.now()).await?
        };
        Ok(resolved.report(&written))
    }

    /// Adds an address or range to the list of every user named that the
    /// caller may change, in one transaction; if that would overfill a
    /// list, nothing is written and the answer is a `Validation` on the
    /// targets' field naming those users. Errors: `Forbidden`,
    /// `Validation`, `Unavailable`.
    pub async fn bulk_add(&self, principal: &Principal, input: BulkAllowedIpInput) -> Result<BulkReport, Error> {
        UserService::may_write_users(principal)?;
        let (net, targets) = input.validate()?;
        let resolved = self.resolve(principal, &targets).await?;
        let ids = resolved.ids();
        if ids.is_empty() {
            return Ok(resolved.report(&[]));
        }
        let now = self.ports.clock.now();
        match self.ports.allowed_ips.add_allowed_ip_for(&ids, &net, MAX_ALLOWED_IPS, now).await? {
            BulkAdded::Applied(written) => Ok(resolved.report(&written)),
            BulkAdded::Full(full) => {
                let field = match targets {
                    BulkTargets::UserIds(_) => "user_ids",
                    BulkTargets::Emails(_) => "emails",
                };
                let named: Vec<&str> =
                    resolved.allowed.iter().filter(|(_, id)| full.contains(id)).map(|(g, _)| g.as_str()).collect();
                Err(list_full(
                    field,
                    format!(
                        "the allowlists of {} hold {MAX_ALLOWED_IPS} entries, the most they may; nothing was added",
                        named.join(", ")
                    ),
                ))
            }
        }
    }

    /// Removes an address or range from the list of every user named that
    /// the caller may change (a list without it is left alone), in one
    /// statement. Errors: `Forbidden`, `Validation`, `Unavailable`.
    pub async fn bulk_remove(&self, principal: &Principal, input: BulkAllowedIpInput) -> Result<BulkReport, Error> {
        UserService::may_write_users(principal)?;
        let (net, targets) = input.validate()?;
        let resolved = self.resolve(principal, &targets).await?;
        let ids = resolved.ids();
        if !ids.is_empty() {
            self.ports.allowed_ips.remove_allowed_ip_for(&ids, &net).await?;
        }
        Ok(resolved.report(&ids))
    }

    /// The address the caller is seen at (`client_ip`, as the HTTP layer
    /// resolved it through the trusted proxies) and whether they may sign
    /// in from it. Only a signed-in user has one. Errors: `Forbidden`,
    /// `NotFound`, `Unavailable`.
    pub async fn my_ip(&self, principal: &Principal, client_ip: Option<&str>) -> Result<IpCheck, Error> {
        let id = principal.signed_in()?.0.id;
        let policy = self.ports.allowed_ips.ip_policy(id).await?.ok_or(Error::NotFound("user"))?;
        Ok(IpCheck { ip: client_ip.map(display_ip), allowed: policy.allows(client_ip) })
    }

    /// Sorts the users `targets` names into those the caller may change and
    /// the others, each asked as the single-user routes ask.
    async fn resolve(&self, principal: &Principal, targets: &BulkTargets) -> Result<Resolved, Error> {
        let named: Vec<(String, Option<Uuid>)> = match targets {
            BulkTargets::UserIds(ids) => ids.iter().map(|id| (id.to_string(), Some(*id))).collect(),
            BulkTargets::Emails(emails) => {
                let found = self.ports.allowed_ips.user_ids_by_email(emails).await?;
                emails.iter().map(|e| (e.clone(), found.iter().find(|(f, _)| f == e).map(|(_, id)| *id))).collect()
            }
        };
        let mut resolved = Resolved { allowed: Vec::new(), report: BulkReport::default() };
        for (given, id) in named {
            let Some(id) = id else {
                resolved.report.not_found.push(given);
                continue;
            };
            match self.ports.users.policy_target(principal, id).await {
                Ok(_) => resolved.allowed.push((given, id)),
                Err(Error::NotFound(_)) => resolved.report.not_found.push(given),
                Err(Error::Forbidden(refusal)) => {
                    resolved.report.refused.push(RefusedTarget { target: given, refusal })
                }
                Err(e) => return Err(e),
            }
        }
        Ok(resolved)
    }
}

#[cfg(test)]
#[path = "allowed_ips_tests.rs"]
mod tests;
