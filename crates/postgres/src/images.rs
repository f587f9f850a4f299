//! [`ImageRepository`] on PostgreSQL: `images` (one row per user's picture,
//! its renditions' metadata as a JSON array), `users.avatar_image_id`, and
//! the deletion queue `image_deletions`, which a trigger on `images` fills
//! whatever deletes a row (see the migration `…_images`).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::image::{ImageSize, RenditionMeta, StoredImage};
use roster_domain::ports::{ClaimedDeletion, ImageRepository};
use roster_domain::RepoError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::Db;
use crate::error::DbError;
use crate::pool::PgPool;
use crate::schema::{image_deletions, images, users};

/// Users' pictures and the deletion queue in PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgImageRepository {
    db: Db,
}

impl PgImageRepository {
    /// A repository taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }
}

/// One element of `images.renditions`.
#[derive(Serialize, Deserialize)]
struct RenditionJson {
    content_type: String,
    width: u32,
    height: u32,
    etag: String,
    bytes: u64,
}

fn to_json(image: &StoredImage) -> Result<serde_json::Value, DbError> {
    let list: Vec<RenditionJson> = image
        .renditions
        .iter()
        .map(|r| RenditionJson {
            content_type: r.content_type.clone(),
            width: r.width,
            height: r.height,
            etag: r.etag.clone(),
            bytes: r.bytes,
        })
        .collect();
    serde_json::to_value(list).map_err(|e| DbError::Corrupt(format!("image renditions: {e}")))
}

fn from_json(id: Uuid, value: serde_json::Value) -> Result<StoredImage, DbError> {
    let list: Vec<RenditionJson> =
        serde_json::from_value(value).map_err(|e| DbError::Corrupt(format!("image {id} renditions: {e}")))?;
    let metas: Vec<RenditionMeta> = list
        .into_iter()
        .map(|r| RenditionMeta {
            content_type: r.content_type,
            width: r.width,
            height: r.height,
            etag: r.etag,
            bytes: r.bytes,
        })
        .collect();
    let renditions = <[RenditionMeta; ImageSize::ALL.len()]>::try_from(metas)
        .map_err(|m| DbError::Corrupt(format!("image {id} has {} renditions", m.len())))?;
    Ok(StoredImage { id, renditions })
}

const CLAIM_SQL: &str = "\
    WITH due AS MATERIALIZED ( \
        SELECT image_id FROM image_deletions \
        WHERE due_at <= $1 \
        ORDER BY due_at \
        LIMIT $3 \
        FOR UPDATE SKIP LOCKED) \
    UPDATE image_deletions d SET attempts = d.attempts + 1, due_at = $2 \
    FROM due WHERE d.image_id = due.image_id \
    RETURNING d.image_id, d.attempts";

#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    image_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
}

/// The user's current picture, with the user's row locked; `None` if there
/// is no such user.
async fn lock_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Option<Option<Uuid>>, DbError> {
    Ok(users::table.find(user_id).select(users::avatar_image_id).for_update().first(conn).await.optional()?)
}

#[async_trait]
impl ImageRepository for PgImageRepository {
    async fn attach(&self, user_id: Uuid, image: &StoredImage, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let renditions = to_json(image).map_err(RepoError::from)?;
        let id = image.id;
        self.db
            .transaction(move |c| {
                let renditions = renditions.clone();
                async move {
                    let Some(old) = lock_user(c, user_id).await? else { return Ok(false) };
                    diesel::insert_into(images::table)
                        .values((
                            images::id.eq(id),
                            images::user_id.eq(user_id),
                            images::renditions.eq(renditions),
                            images::created_at.eq(now),
                        ))
                        .execute(c)
                        .await?;
                    diesel::update(users::table.find(user_id))
                        .set((users::avatar_image_id.eq(id), users::updated_at.eq(now)))
                        .execute(c)
                        .await?;
                    if let Some(old) = old {
                        // The trigger queues its objects for deletion.
                        diesel::delete(images::table.find(old)).execute(c).await?;
                    }
                    Ok(true)
                }
                .scope_boxed()
            })
            .await
    }

    async fn detach(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError> {
        self.db
            .transaction(move |c| {
                async move {
                    let Some(Some(old)) = lock_user(c, user_id).await? else { return Ok(false) };
                    diesel::update(users::table.find(user_id))
                        .set((users::avatar_image_id.eq(None::<Uuid>), users::updated_at.eq(now)))
                        .execute(c)
                        .await?;
                    diesel::delete(images::table.find(old)).execute(c).await?;
                    Ok(true)
                }
                .scope_boxed()
            })
            .await
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredImage>, RepoError> {
        self.db
            .run(move |c| {
                async move {
                    let row: Option<serde_json::Value> =
                        images::table.find(id).select(images::renditions).first(c).await.optional()?;
                    row.map(|r| from_json(id, r)).transpose()
                }
                .scope_boxed()
            })
            .await
    }

    async fn existing(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, RepoError> {
        let ids = ids.to_vec();
        self.db
            .run(move |c| {
                async move { Ok(images::table.filter(images::id.eq_any(ids)).select(images::id).load(c).await?) }
                    .scope_boxed()
            })
            .await
    }

    async fn queue_deletion(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), RepoError> {
        self.db
            .run(move |c| {
                async move {
                    diesel::insert_into(image_deletions::table)
                        .values((image_deletions::image_id.eq(id), image_deletions::due_at.eq(now)))
                        .on_conflict_do_nothing()
                        .execute(c)
                        .await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }

    async fn claim_deletions(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedDeletion>, RepoError> {
        self.db
            .run(move |c| {
                async move {
                    let rows: Vec<ClaimRow> = diesel::sql_query(CLAIM_SQL)
                        .bind::<Timestamptz, _>(now)
                        .bind::<Timestamptz, _>(now + lease)
                        .bind::<BigInt, _>(i64::from(limit))
                        .load(c)
                        .await?;
                    Ok(rows
                        .into_iter()
                        .map(|r| ClaimedDeletion {
                            image_id: r.image_id,
                            attempts: u32::try_from(r.attempts).unwrap_or(0),
                        })
                        .collect())
                }
                .scope_boxed()
            })
            .await
    }

    async fn finish_deletion(&self, image_id: Uuid) -> Result<(), RepoError> {
        self.db
            .run(move |c| {
                async move {
                    diesel::delete(image_deletions::table.find(image_id)).execute(c).await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }
}
