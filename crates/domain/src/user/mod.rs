//! The user entity and the inputs that create and change it.

mod allowed_ip;
mod cursor;
pub mod filter;
mod input;
mod model;
mod projection;
mod push_token;
mod query;
mod settings;

pub use allowed_ip::{
    allows, display_ip, AllowedIp, AllowedIpInput, AllowedNet, BulkAllowedIpInput, BulkSecurityInput, BulkTargets,
    IpCheck, IpPolicy, SecurityPatch, MAX_ALLOWED_IPS, MAX_BULK_EMAILS, MAX_BULK_TARGETS, MAX_CIDR_INPUT,
};
pub use cursor::CursorCodec;
pub use input::{
    MePatch, MembershipEdit, NewMembership, NewUser, NewUserExtras, NewUserInput, NewUserRecord, UserChanges,
    UserPatchInput, UserReplaceInput, MAX_ATTRIBUTES_BYTES,
};
pub use model::{BuiltinRole, MembershipView, Profile, User, UserStatus};
pub use projection::Projection;
#[cfg(feature = "openapi")]
pub use push_token::{lookup_emails_schema, lookup_ids_schema};
pub use push_token::{
    DeviceToken, NewPushToken, PushProvider, PushToken, PushTokenInput, PushTokenLookup, UserPushTokens,
    MAX_PUSH_LOOKUP, MAX_PUSH_TOKENS,
};
#[cfg(feature = "openapi")]
pub use query::statuses_schema;
pub use query::{
    parse_sort, sort_spec, Keyset, ListParams, ListParamsError, ListQueryError, Page, Paging, Scope, SortKey,
    SortValue, UserFilter, UserListQuery, UserSortField, MAX_PER_PAGE,
};
pub use settings::{
    check_document, known_part, merge_patch, parse_advance, unknown_keys, CheckedSettings, Settings, MAX_APP_BYTES,
    MAX_NOTIFICATION_CHANNELS, SETTINGS_KEYS,
};
