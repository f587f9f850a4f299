//! A user's settings (`/me/settings`, `/users/{id}/settings`): read with
//! every default filled in, changed by a JSON merge patch that the domain
//! applies to the stored document and checks whole. Who may read or change
//! whose settings is the user service's rule for the user themselves.

use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    auth::Principal,
    error::Error,
    ports::{Clock, SettingsRepository},
    user::{check_document, known_part, merge_patch, Settings},
    validation::ValidationErrors,
};

use super::UserService;

/// How often a patch is merged again after another change got in first.
const WRITE_ATTEMPTS: u32 = 5;

/// What [`SettingsService`] calls.
#[derive(Clone)]
pub struct SettingsPorts {
    pub settings: Arc<dyn SettingsRepository>,
    /// Decides whose settings the caller may read and change.
    pub users: UserService,
    pub clock: Arc<dyn Clock>,
}

/// Settings use cases.
#[derive(Clone)]
pub struct SettingsService {
    ports: SettingsPorts,
}

impl SettingsService {
    pub fn new(ports: SettingsPorts) -> SettingsService {
        SettingsService { ports }
    }

    /// User `id`'s settings: oneself, or with `users:read` a user the
    /// caller's organization sees. Errors: `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn get(&self, principal: &Principal, id: Uuid) -> Result<Settings, Error> {
        self.ports.users.records_of(principal, id, false).await?;
        let document = self.ports.settings.settings(id).await?.ok_or(Error::NotFound("user"))?;
        Ok(Settings::from_document(&document))
    }

    /// Applies a JSON merge patch to user `id`'s settings (`null` restores
    /// a key's default) and answers them whole: oneself, or with
    /// `users:write` a user the caller may edit. The merged document is
    /// checked whole — unknown keys, every bad value, a default location
    /// that is not one of the user's organizations' — and nothing is
    /// written unless all is well. The write is a compare-and-set on the
    /// document read: a patch that lost a race is merged again into the
    /// newer document (a few times; then `Unavailable`). Errors:
    /// `Validation`, `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn patch(&self, principal: &Principal, id: Uuid, patch: Map<String, Value>) -> Result<Settings, Error> {
        self.ports.users.records_of(principal, id, true).await?;
        let mut refused = ValidationErrors::new();
        let patch = known_part(patch, "", &mut refused);
        for _ in 0..WRITE_ATTEMPTS {
            let old = self.ports.settings.settings(id).await?.ok_or(Error::NotFound("user"))?;
            let mut merged = old.clone();
            merge_patch(&mut merged, &patch);
            let checked = match check_document(merged, "") {
                Ok(checked) => checked,
                Err(e) => {
                    refused.absorb(e);
                    return Err(Error::Validation(refused));
                }
            };
            // Checked when the patch names it, so a location that has since
            // gone does not lock the user out of changing other settings.
            if let (Some(location), true) =
                (checked.settings.default_location_id, patch.contains_key("default_location_id"))
            {
                if !self.ports.settings.is_member_location(id, location).await? {
                    refused.add("default_location_id", "must be a location of an organization the user is a member of");
                }
            }
            if !refused.is_empty() {
                return Err(Error::Validation(refused));
            }
            let now = self.ports.clock.now();
            if self.ports.settings.replace_settings(id, &old, &checked.document, now).await? {
                return Ok(checked.settings);
            }
        }
        Err(Error::Unavailable("the settings kept changing while being written; try again".into()))
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
