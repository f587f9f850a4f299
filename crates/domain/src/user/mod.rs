//! The user entity and the inputs that create and change it.

mod input;
mod model;
mod query;

pub use input::{MePatch, NewUser, NewUserInput, UserChanges, UserPatchInput, UserReplaceInput, MAX_ATTRIBUTES_BYTES};
pub use model::{BuiltinRole, Profile, User, UserStatus};
pub use query::{Page, SortKey, UserFilter, UserListQuery, UserSortField, MAX_PER_PAGE};
