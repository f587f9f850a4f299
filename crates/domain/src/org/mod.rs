//! Organizations (tenants), their roles, API keys, invitations and their
//! locations, and the one policy function every organization-scoped use case
//! asks.

mod api_key;
pub(crate) mod input;
mod invitation;
mod model;
mod policy;

pub use api_key::{ApiKey, ApiKeySecret, NewApiKey, NewApiKeyInput, KEY_PREFIX, PREFIX_LEN};
pub use input::{
    AddMemberInput, LocationInput, LocationPatch, MemberPatch, MemberPermissionsInput, NewOrgInput, NewRoleInput,
    OrgPatch, PermissionInput, RolePatch,
};
pub use invitation::{AcceptOutcome, Acceptance, NewOrgInvitation, OrgInvitation, OrgInvitationTicket, OrgInviteInput};
pub use model::{Location, Member, MemberChange, MemberOutcome, Membership, OrgPermission, Organization, Role};
pub use policy::{authorize, Access};
