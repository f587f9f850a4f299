//! The locations (venues, offices) of an organization. Any member reads
//! them; changing them takes `locations:manage`.

use std::sync::Arc;

use uuid::Uuid;

use crate::{
    auth::{Permission, Principal},
    error::Error,
    org::{Access, Location, LocationInput, LocationPatch},
    ports::{Clock, LocationRepository},
    user::Page,
};

use super::OrgGate;

const LOCATIONS_MANAGE: Access = Access::Permission(Permission::LocationsManage);

/// What [`LocationService`] calls.
#[derive(Clone)]
pub struct LocationPorts {
    pub gate: OrgGate,
    pub locations: Arc<dyn LocationRepository>,
    pub clock: Arc<dyn Clock>,
}

/// Location use cases.
#[derive(Clone)]
pub struct LocationService {
    ports: LocationPorts,
}

impl LocationService {
    pub fn new(ports: LocationPorts) -> LocationService {
        LocationService { ports }
    }

    /// Locations by name; `q` searches names and keywords. Any member.
    pub async fn list(
        &self,
        principal: &Principal,
        org: Uuid,
        q: Option<String>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Location>, Error> {
        self.ports.gate.authorized(principal, org, Access::Read).await?;
        Ok(self.ports.locations.list_locations(org, q.filter(|q| !q.trim().is_empty()), page, per_page).await?)
    }

    pub async fn get(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<Location, Error> {
        self.ports.gate.authorized(principal, org, Access::Read).await?;
        self.ports.locations.get_location(org, id).await?.ok_or(Error::NotFound("location"))
    }

    /// Needs `locations:manage`.
    pub async fn create(&self, principal: &Principal, org: Uuid, input: LocationInput) -> Result<Location, Error> {
        self.ports.gate.authorized(principal, org, LOCATIONS_MANAGE).await?;
        let input = input.validate()?;
        let now = self.ports.clock.now();
        let location = Location {
            id: Uuid::now_v7(),
            org_id: org,
            name: input.name,
            timezone: input.timezone,
            keywords: input.keywords,
            created_at: now,
            updated_at: now,
        };
        Ok(self.ports.locations.create_location(&location).await?)
    }

    /// Needs `locations:manage`.
    pub async fn update(
        &self,
        principal: &Principal,
        org: Uuid,
        id: Uuid,
        patch: LocationPatch,
    ) -> Result<Location, Error> {
        self.ports.gate.authorized(principal, org, LOCATIONS_MANAGE).await?;
        let patch = patch.validate()?;
        let now = self.ports.clock.now();
        self.ports.locations.update_location(org, id, &patch, now).await?.ok_or(Error::NotFound("location"))
    }

    /// Needs `locations:manage`; refused while members have it.
    pub async fn delete(&self, principal: &Principal, org: Uuid, id: Uuid) -> Result<(), Error> {
        self.ports.gate.authorized(principal, org, LOCATIONS_MANAGE).await?;
        if self.ports.locations.delete_location(org, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("location"))
        }
    }
}
