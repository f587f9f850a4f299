//! The token signing keys. The private half arrives sealed (encrypted by the
//! caller) and is stored as is.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::RunQueryDsl;
use roster_domain::RepoError;

use crate::db::Db;
use crate::pool::PgPool;
use crate::schema::signing_keys;

/// One signing key as stored.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, check_for_backend(diesel::pg::Pg))]
pub struct StoredSigningKey {
    /// Key id, the JWT `kid`.
    pub kid: String,
    /// JWS algorithm; only `EdDSA` is accepted by the schema.
    pub algorithm: String,
    /// The public key bytes.
    pub public_key: Vec<u8>,
    /// The private key, encrypted with the key-encryption secret.
    pub private_key_sealed: Vec<u8>,
    /// When the key was made.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The `signing_keys` table.
#[derive(Clone, Debug)]
pub struct PgSigningKeyStore {
    db: Db,
}

impl PgSigningKeyStore {
    /// A store taking its connections from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { db: Db::new(pool) }
    }

    /// The keys not retired, oldest first.
    pub async fn active_keys(&self) -> Result<Vec<StoredSigningKey>, RepoError> {
        self.db
            .run(|c| {
                async move {
                    let keys = signing_keys::table
                        .filter(signing_keys::retired_at.is_null())
                        .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
                        .select(StoredSigningKey::as_select())
                        .load(c)
                        .await?;
                    Ok(keys)
                }
                .scope_boxed()
            })
            .await
    }

    /// Stores a new key.
    pub async fn insert(&self, key: &StoredSigningKey) -> Result<(), RepoError> {
        self.db
            .run(|c| {
                async move {
                    diesel::insert_into(signing_keys::table).values(key).execute(c).await?;
                    Ok(())
                }
                .scope_boxed()
            })
            .await
    }
}
