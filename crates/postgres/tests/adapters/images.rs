//! Users' pictures: records written in one transaction with the user's
//! pointer, and the objects of every dropped record queued for deletion,
//! whatever dropped it.

#![allow(clippy::unwrap_used)]

use chrono::Duration;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use roster_domain::image::{new_image_id, ImageSize, RenditionMeta, StoredImage};
use roster_domain::mail::Effects;
use roster_domain::ports::{ImageRepository, UserRepository};
use roster_domain::user::BuiltinRole;
use roster_postgres::schema::image_deletions;
use roster_postgres::PgImageRepository;
use uuid::Uuid;

use crate::common::*;

fn image() -> StoredImage {
    StoredImage {
        id: new_image_id(),
        renditions: ImageSize::ALL.map(|s| RenditionMeta {
            content_type: "image/jpeg".into(),
            width: s.px(),
            height: s.px(),
            etag: format!("hash-{}", s.as_str()),
            bytes: u64::from(s.px()) * 10,
        }),
    }
}

async fn queued(ctx: &Ctx) -> Vec<Uuid> {
    let mut c = ctx.pool.get().await.unwrap();
    let mut ids: Vec<Uuid> = image_deletions::table.select(image_deletions::image_id).load(&mut c).await.unwrap();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_picture_is_recorded_and_shown_on_its_user_and_replacing_it_queues_the_old_objects() {
    let ctx = setup().await;
    let images = PgImageRepository::new(ctx.pool.clone());
    let user =
        ctx.users.create(&new_user("pic@example.com", BuiltinRole::Member, at(0)), &Effects::none()).await.unwrap();
    let first = image();
    assert!(images.attach(user.id, &first, at(1)).await.unwrap());
    assert_eq!(images.get(first.id).await.unwrap(), Some(first.clone()));
    let shown = ctx.users.get(user.id).await.unwrap().unwrap();
    assert_eq!(shown.avatar.as_ref().map(|a| a.id), Some(first.id));
    assert_eq!(shown.updated_at, at(1));
    assert!(queued(&ctx).await.is_empty());

    let second = image();
    assert!(images.attach(user.id, &second, at(2)).await.unwrap());
    assert_eq!(images.get(first.id).await.unwrap(), None);
    assert_eq!(queued(&ctx).await, vec![first.id]);
    assert_eq!(ctx.users.get(user.id).await.unwrap().unwrap().avatar.map(|a| a.id), Some(second.id));

    assert!(images.detach(user.id, at(3)).await.unwrap());
    assert!(!images.detach(user.id, at(4)).await.unwrap(), "nothing left to remove");
    assert_eq!(ctx.users.get(user.id).await.unwrap().unwrap().avatar, None);
    let mut both = vec![first.id, second.id];
    both.sort();
    assert_eq!(queued(&ctx).await, both);
}

#[tokio::test]
async fn no_user_no_record_and_deleting_a_user_queues_their_pictures_objects() {
    let ctx = setup().await;
    let images = PgImageRepository::new(ctx.pool.clone());
    let orphan = image();
    assert!(!images.attach(Uuid::now_v7(), &orphan, at(0)).await.unwrap());
    assert_eq!(images.get(orphan.id).await.unwrap(), None);

    let user =
        ctx.users.create(&new_user("gone@example.com", BuiltinRole::Member, at(0)), &Effects::none()).await.unwrap();
    let pic = image();
    images.attach(user.id, &pic, at(1)).await.unwrap();
    assert!(ctx.users.delete(user.id).await.unwrap());
    assert_eq!(images.get(pic.id).await.unwrap(), None);
    assert_eq!(queued(&ctx).await, vec![pic.id]);
}

#[tokio::test]
async fn deletions_are_claimed_once_per_lease_and_finished() {
    let ctx = setup().await;
    let images = PgImageRepository::new(ctx.pool.clone());
    let (a, b) = (new_image_id(), new_image_id());
    images.queue_deletion(a, at(0)).await.unwrap();
    images.queue_deletion(a, at(0)).await.unwrap();
    images.queue_deletion(b, at(10)).await.unwrap();

    let first = images.claim_deletions(at(5), 10, Duration::seconds(60)).await.unwrap();
    assert_eq!(first.iter().map(|c| (c.image_id, c.attempts)).collect::<Vec<_>>(), vec![(a, 1)]);
    let (x, y) = tokio::join!(
        images.claim_deletions(at(20), 10, Duration::seconds(60)),
        images.claim_deletions(at(20), 10, Duration::seconds(60))
    );
    let mut got: Vec<Uuid> = x.unwrap().into_iter().chain(y.unwrap()).map(|c| c.image_id).collect();
    assert_eq!(got, vec![b], "a claimed deletion is hidden until its lease ends");
    let again = images.claim_deletions(at(70), 10, Duration::seconds(60)).await.unwrap();
    assert_eq!(again.iter().map(|c| (c.image_id, c.attempts)).collect::<Vec<_>>(), vec![(a, 2)]);

    images.finish_deletion(a).await.unwrap();
    got = queued(&ctx).await;
    assert_eq!(got, vec![b]);
}

#[tokio::test]
async fn existing_names_the_recorded_ids_only() {
    let ctx = setup().await;
    let images = PgImageRepository::new(ctx.pool.clone());
    let user =
        ctx.users.create(&new_user("ex@example.com", BuiltinRole::Member, at(0)), &Effects::none()).await.unwrap();
    let pic = image();
    images.attach(user.id, &pic, at(1)).await.unwrap();
    let stray = new_image_id();
    assert_eq!(images.existing(&[pic.id, stray]).await.unwrap(), vec![pic.id]);
    assert!(images.existing(&[]).await.unwrap().is_empty());
}
