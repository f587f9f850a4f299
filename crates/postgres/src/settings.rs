//! [`SettingsRepository`] on PostgreSQL: the `settings` column of `users`,
//! written by compare-and-set on the document read (jsonb equality), so a
//! concurrent change is never overwritten unseen.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::ports::SettingsRepository;
use roster_domain::RepoError;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::schema::{locations, memberships, users};

/// Users' settings in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgSettingsRepository {
    db: Db,
}

impl PgSettingsRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

async fn read(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Option<Map<String, Value>>, DbError> {
    let found: Option<Value> =
        users::table.filter(users::id.eq(user)).select(users::settings).first(conn).await.optional()?;
    match found {
        None => Ok(None),
        Some(Value::Object(document)) => Ok(Some(document)),
        Some(_) => Err(DbError::Corrupt(format!("the settings of user {user} are not an object"))),
    }
}

async fn replace(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n =
        diesel::update(users::table.filter(users::id.eq(user)).filter(users::settings.eq(Value::Object(old.clone()))))
            .set((users::settings.eq(Value::Object(new.clone())), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
    Ok(n > 0)
}

async fn is_member_location(conn: &mut AsyncPgConnection, user: Uuid, location: Uuid) -> Result<bool, DbError> {
    let found: bool = diesel::select(diesel::dsl::exists(
        locations::table
            .inner_join(memberships::table.on(memberships::org_id.eq(locations::org_id)))
            .filter(locations::id.eq(location))
            .filter(memberships::user_id.eq(user))
            .filter(memberships::deactivated_at.is_null()),
    ))
    .get_result(conn)
    .await?;
    Ok(found)
}

#[async_trait]
impl SettingsRepository for PgSettingsRepository {
    async fn settings(&self, user: Uuid) -> Result<Option<Map<String, Value>>, RepoError> {
        self.db.run(|c| read(c, user).scope_boxed()).await
    }

    async fn replace_settings(
        &self,
        user: Uuid,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        self.db.run(|c| replace(c, user, old, new, now).scope_boxed()).await
    }

    async fn is_member_location(&self, user: Uuid, location: Uuid) -> Result<bool, RepoError> {
        self.db.run(|c| is_member_location(c, user, location).scope_boxed()).await
    }
}
