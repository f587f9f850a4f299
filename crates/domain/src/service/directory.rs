//! Paging, filtering and counting users: the directory behind `GET /users`
//! and an organization's member list. Callers have authorized the scope.

use std::sync::Arc;

use crate::{
    error::Error,
    ports::UserRepository,
    user::{
        CursorCodec, Keyset, ListParams, ListQueryError, Page, Paging, Projection, Scope, User, UserFilter,
        UserListQuery,
    },
};

/// One page of the directory, with what the HTTP layer needs for links.
#[derive(Debug, Clone)]
pub struct UserList {
    pub page: Page<User>,
    /// The validated query (its sort and paging build the links).
    pub query: UserListQuery,
    /// The cursor of the next page, for keyset paging with more rows.
    pub next_cursor: Option<String>,
    /// Which members of each user to return.
    pub projection: Option<Projection>,
}

/// Pages and counts the users of a scope.
#[derive(Clone)]
pub struct Directory {
    users: Arc<dyn UserRepository>,
    cursors: CursorCodec,
}

impl Directory {
    pub fn new(users: Arc<dyn UserRepository>, cursors: CursorCodec) -> Directory {
        Directory { users, cursors }
    }

    /// One page of the users in `scope`: shortcuts, `filter=`, sort,
    /// projection, offset or keyset paging. Errors: `InvalidQuery`,
    /// `InvalidFilter`, `InvalidCursor`, `Unavailable`.
    pub(super) async fn list(&self, scope: Scope, params: &ListParams) -> Result<UserList, Error> {
        let projection = Projection::parse(params.fields.as_deref()).map_err(Error::InvalidQuery)?;
        let query = UserListQuery::from_params(params, scope, |token, sort| self.cursors.decode(sort, token))?;
        let mut page = self.users.list(&query).await?;
        if let Scope::Org(_) = scope {
            // An organization sees `managed`, not who else manages an account.
            page.items.iter_mut().for_each(|u| u.managed_by = None);
        }
        let next_cursor = match (&query.paging, page.has_more, page.items.last()) {
            (Paging::Keyset(_), true, Some(last)) => Some(self.cursors.encode(
                &query.sort,
                &Keyset { values: query.sort.iter().map(|k| k.field.value_of(last)).collect(), id: last.id },
            )),
            _ => None,
        };
        Ok(UserList { page, query, next_cursor, projection })
    }

    /// How many users in `scope` match the shortcuts and `filter=`.
    pub(super) async fn count(&self, scope: Scope, params: &ListParams) -> Result<u64, Error> {
        let filter = UserFilter::from_params(params).map_err(ListQueryError::from)?;
        Ok(self.users.count(scope, &filter).await?)
    }
}
