//! The user entity and the inputs that create and change it.

mod cursor;
pub mod filter;
mod input;
mod model;
mod projection;
mod query;

pub use cursor::CursorCodec;
pub use input::{
    MePatch, MembershipEdit, NewMembership, NewUser, NewUserInput, NewUserRecord, UserChanges, UserPatchInput,
    UserReplaceInput, MAX_ATTRIBUTES_BYTES,
};
pub use model::{BuiltinRole, MembershipView, Profile, User, UserStatus};
pub use projection::Projection;
#[cfg(feature = "openapi")]
pub use query::statuses_schema;
pub use query::{
    parse_sort, sort_spec, Keyset, ListParams, ListParamsError, ListQueryError, Page, Paging, Scope, SortKey,
    SortValue, UserFilter, UserListQuery, UserSortField, MAX_PER_PAGE,
};
