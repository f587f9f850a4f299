//! Organizations (tenants), their roles, the permission vocabulary and their
//! locations, and the one policy function every organization-scoped use case
//! asks.

mod input;
mod model;
mod permission;
mod policy;

pub use input::{
    AddMemberInput, LocationInput, LocationPatch, MemberPatch, MemberPermissionsInput, NewOrgInput, NewRoleInput,
    OrgPatch, PermissionInput, RolePatch,
};
pub use model::{Location, Member, MemberChange, MemberOutcome, Membership, OrgPermission, Organization, Role};
pub use permission::{Permission, CATALOGUE};
pub use policy::{authorize, Access};
