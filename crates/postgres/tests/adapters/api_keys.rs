//! API keys in `PgApiKeyRepository`: creation, listing newest first with
//! paging, scoping by organization, revocation, authentication with expiry
//! and last-use recording, what deleting an organization or a user does to
//! keys, and registered permissions held by keys.

#![allow(clippy::unwrap_used)]

use crate::common::{at, member, org, setup, strings, Ctx};
use chrono::Duration;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use roster_domain::org::{ApiKey, ApiKeySecret, NewApiKey};
use roster_domain::ports::{ApiKeyRepository, OrganizationRepository, RoleRepository, UserRepository};
use roster_domain::{Conflict, RepoError};
use roster_postgres::schema::api_keys;
use roster_postgres::PgApiKeyRepository;
use uuid::Uuid;

fn repo(ctx: &Ctx) -> PgApiKeyRepository {
    PgApiKeyRepository::new(ctx.pool.clone())
}

/// A key `name` of `org` made at `at(secs)`, and its secret.
fn new_key(org: Uuid, name: &str, secs: i64, permissions: &[&str]) -> (NewApiKey, ApiKeySecret) {
    let secret = ApiKeySecret::generate();
    let key = NewApiKey {
        id: Uuid::now_v7(),
        org_id: org,
        name: name.to_owned(),
        prefix: secret.prefix().to_owned(),
        hash: secret.hash(),
        permissions: strings(permissions),
        created_by: None,
        expires_at: None,
        now: at(secs),
    };
    (key, secret)
}

async fn create(keys: &PgApiKeyRepository, org: Uuid, name: &str, secs: i64) -> (ApiKey, ApiKeySecret) {
    let (new, secret) = new_key(org, name, secs, &[]);
    (keys.create(&new).await.unwrap(), secret)
}

fn names(keys: &[ApiKey]) -> Vec<&str> {
    keys.iter().map(|k| k.name.as_str()).collect()
}

/// Rows of `api_keys` with this id, revoked or not.
async fn stored(ctx: &Ctx, id: Uuid) -> i64 {
    let mut c = ctx.pool.get().await.unwrap();
    api_keys::table.filter(api_keys::id.eq(id)).count().get_result(&mut c).await.unwrap()
}

/// The transaction that last wrote key `id`'s row.
async fn row_version(ctx: &Ctx, id: Uuid) -> String {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Text)]
        xmin: String,
    }
    let mut c = ctx.pool.get().await.unwrap();
    let v: Version = diesel::sql_query("SELECT xmin::text AS xmin FROM api_keys WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(id)
        .get_result(&mut c)
        .await
        .unwrap();
    v.xmin
}

#[tokio::test]
async fn keys_are_created_and_listed_newest_first_with_paging() {
    let ctx = setup().await;
    let keys = repo(&ctx);
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;

    let (mut new, secret) = new_key(acme.id, "booking", 1, &["users:read", "beacons:toggle"]);
    new.created_by = Some(ada.id);
    new.expires_at = Some(at(3600));
    let booking = keys.create(&new).await.unwrap();
    let expected = ApiKey {
        id: new.id,
        org_id: acme.id,
        name: "booking".into(),
        prefix: secret.prefix().to_owned(),
        permissions: strings(&["users:read", "beacons:toggle"]),
        created_by: Some(ada.id),
        created_at: at(1),
        last_used_at: None,
        expires_at: Some(at(3600)),
    };
    assert_eq!(booking, expected);
    assert_eq!(keys.get(acme.id, booking.id).await.unwrap(), Some(expected));
    assert_eq!(keys.get(acme.id, Uuid::now_v7()).await.unwrap(), None);

    create(&keys, acme.id, "billing", 3).await;
    create(&keys, acme.id, "alarms", 2).await;
    create(&keys, globex.id, "elsewhere", 4).await;
    let p1 = keys.list(acme.id, 1, 2).await.unwrap();
    assert_eq!(names(&p1.items), ["billing", "alarms"]);
    assert_eq!((p1.total, p1.page, p1.per_page, p1.has_more), (Some(3), Some(1), 2, true));
    let p2 = keys.list(acme.id, 2, 2).await.unwrap();
    assert_eq!(names(&p2.items), ["booking"]);
    assert_eq!((p2.total, p2.has_more), (Some(3), false));
    let p3 = keys.list(acme.id, 3, 2).await.unwrap();
    assert_eq!((p3.items.len(), p3.total, p3.has_more), (0, Some(3), false));
    assert_eq!(names(&keys.list(globex.id, 1, 50).await.unwrap().items), ["elsewhere"]);

    // A repeated prefix or hash means a broken generator, not a conflict.
    let (mut twin, _) = new_key(acme.id, "twin", 5, &[]);
    twin.prefix = booking.prefix.clone();
    assert!(matches!(keys.create(&twin).await, Err(RepoError::Internal(_))));
    let (mut twin, _) = new_key(acme.id, "twin", 5, &[]);
    twin.hash = secret.hash();
    assert!(matches!(keys.create(&twin).await, Err(RepoError::Internal(_))));
}

#[tokio::test]
async fn another_organizations_key_is_not_found() {
    let ctx = setup().await;
    let keys = repo(&ctx);
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let (key, _) = create(&keys, acme.id, "booking", 1).await;
    assert_eq!(keys.get(globex.id, key.id).await.unwrap(), None);
    assert!(!keys.revoke(globex.id, key.id, at(2)).await.unwrap());
    assert_eq!(keys.get(acme.id, key.id).await.unwrap(), Some(key));
}

#[tokio::test]
async fn revoked_keys_are_hidden_and_refused() {
    let ctx = setup().await;
    let keys = repo(&ctx);
    let acme = org(&ctx, "acme", None).await;
    let (key, secret) = create(&keys, acme.id, "booking", 1).await;
    let (other, _) = create(&keys, acme.id, "billing", 2).await;
    assert!(keys.authenticate(&secret.hash(), at(3)).await.unwrap().is_some());

    assert!(keys.revoke(acme.id, key.id, at(4)).await.unwrap());
    assert_eq!(keys.get(acme.id, key.id).await.unwrap(), None);
    let listed = keys.list(acme.id, 1, 50).await.unwrap();
    assert_eq!((listed.items, listed.total), (vec![other], Some(1)));
    assert_eq!(keys.authenticate(&secret.hash(), at(5)).await.unwrap(), None);
    assert!(!keys.revoke(acme.id, key.id, at(6)).await.unwrap());
    assert_eq!(stored(&ctx, key.id).await, 1, "revoked keys are kept");
}

#[tokio::test]
async fn unknown_and_expired_keys_are_refused() {
    let ctx = setup().await;
    let keys = repo(&ctx);
    let acme = org(&ctx, "acme", None).await;
    assert_eq!(keys.authenticate(&ApiKeySecret::generate().hash(), at(1)).await.unwrap(), None);

    let (mut new, secret) = new_key(acme.id, "temporary", 1, &[]);
    new.expires_at = Some(at(100));
    keys.create(&new).await.unwrap();
    let found = keys.authenticate(&secret.hash(), at(99)).await.unwrap().unwrap();
    assert_eq!((found.id, found.last_used_at), (new.id, Some(at(99))));
    assert_eq!(keys.authenticate(&secret.hash(), at(100)).await.unwrap(), None);
    assert_eq!(keys.authenticate(&secret.hash(), at(500)).await.unwrap(), None);
    // Expired keys are still listed, so their owners see them.
    assert_eq!(names(&keys.list(acme.id, 1, 50).await.unwrap().items), ["temporary"]);
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute() {
    let ctx = setup().await;
    let keys = repo(&ctx);
    let acme = org(&ctx, "acme", None).await;
    let (key, secret) = create(&keys, acme.id, "booking", 1).await;
    let hash = secret.hash();
    let used = |secs| keys.authenticate(&hash, at(secs));
    let last_used = || async { keys.get(acme.id, key.id).await.unwrap().unwrap().last_used_at };

    let first = used(10).await.unwrap().unwrap();
    assert_eq!(first, ApiKey { last_used_at: Some(at(10)), ..key.clone() });
    assert_eq!(last_used().await, Some(at(10)));
    let version = row_version(&ctx, key.id).await;
    for secs in [40, 70] {
        assert_eq!(used(secs).await.unwrap().unwrap().last_used_at, Some(at(10)), "at {secs}");
        assert_eq!(last_used().await, Some(at(10)), "at {secs}");
    }
    assert_eq!(row_version(&ctx, key.id).await, version, "a fresh last use is not written again");
    let later = at(10) + Duration::minutes(2);
    let again = keys.authenticate(&hash, later).await.unwrap().unwrap();
    assert_eq!(again.last_used_at, Some(later));
    assert_eq!(last_used().await, Some(later));
}

#[tokio::test]
async fn deleting_the_organization_removes_its_keys() {
    let ctx = setup().await;
    let keys = repo(&ctx);
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let (key, secret) = create(&keys, acme.id, "booking", 1).await;
    let (revoked, _) = create(&keys, acme.id, "old", 1).await;
    assert!(keys.revoke(acme.id, revoked.id, at(2)).await.unwrap());
    let (kept, _) = create(&keys, globex.id, "elsewhere", 1).await;

    assert!(ctx.orgs.delete_org(acme.id).await.unwrap());
    assert_eq!((stored(&ctx, key.id).await, stored(&ctx, revoked.id).await), (0, 0));
    assert_eq!(keys.authenticate(&secret.hash(), at(3)).await.unwrap(), None);
    assert_eq!(keys.get(globex.id, kept.id).await.unwrap(), Some(kept));
}

#[tokio::test]
async fn deleting_the_creator_keeps_the_key() {
    let ctx = setup().await;
    let keys = repo(&ctx);
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let (mut new, secret) = new_key(acme.id, "booking", 1, &[]);
    new.created_by = Some(ada.id);
    let key = keys.create(&new).await.unwrap();
    assert_eq!(key.created_by, Some(ada.id));

    assert!(ctx.users.delete(ada.id).await.unwrap());
    let orphan = keys.get(acme.id, key.id).await.unwrap().unwrap();
    assert_eq!(orphan, ApiKey { created_by: None, ..key });
    assert!(keys.authenticate(&secret.hash(), at(2)).await.unwrap().is_some());
}

#[tokio::test]
async fn registered_permissions_live_keys_hold_cannot_be_deleted() {
    let ctx = setup().await;
    let keys = repo(&ctx);
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    for o in [acme.id, globex.id] {
        ctx.roles.register_permission(o, "beacons:toggle", None, at(1)).await.unwrap();
    }
    let (held, _) = new_key(acme.id, "beacons", 2, &["users:read", "beacons:toggle"]);
    let held = keys.create(&held).await.unwrap();
    // A key of another organization does not count.
    keys.create(&new_key(globex.id, "beacons", 2, &["beacons:toggle"]).0).await.unwrap();

    assert_eq!(ctx.roles.delete_permission(acme.id, "beacons:toggle").await, Err(RepoError::Conflict(Conflict::InUse)));
    assert_eq!(ctx.roles.list_permissions(acme.id).await.unwrap().len(), 1);
    assert!(keys.revoke(acme.id, held.id, at(3)).await.unwrap());
    assert!(ctx.roles.delete_permission(acme.id, "beacons:toggle").await.unwrap());
    assert!(ctx.roles.list_permissions(acme.id).await.unwrap().is_empty());
    assert_eq!(
        ctx.roles.delete_permission(globex.id, "beacons:toggle").await,
        Err(RepoError::Conflict(Conflict::InUse))
    );
}
