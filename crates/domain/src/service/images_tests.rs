use std::sync::{Arc, Mutex};

use chrono::Duration;

use super::*;
use crate::{
    error::ImageRefusal,
    image::Rendition,
    ports::{BlobMeta, ClaimedDeletion, ImageError},
    service::test_support::*,
};

fn rendition(size: ImageSize) -> Rendition {
    Rendition {
        size,
        bytes: vec![size.index() as u8; 8],
        content_type: "image/jpeg".into(),
        width: size.px(),
        height: size.px(),
        etag: format!("etag-{}", size.as_str()),
    }
}

fn stored(id: Uuid) -> StoredImage {
    StoredImage { id, renditions: ImageSize::ALL.map(|s| RenditionMeta::from(&rendition(s))) }
}

fn rendering(m: &mut Mocks) {
    m.processor.expect_render().returning(|_| Ok(ImageSize::ALL.map(rendition).to_vec()));
}

#[tokio::test]
async fn an_upload_writes_four_objects_then_its_record() {
    let mut m = Mocks::new();
    rendering(&mut m);
    let keys = Arc::new(Mutex::new(Vec::new()));
    let seen = keys.clone();
    m.blobs.expect_put().times(4).returning(move |key, bytes, ty| {
        assert_eq!((bytes.len(), ty), (8, "image/jpeg"));
        seen.lock().unwrap().push(key.to_string());
        Ok(())
    });
    let user = Uuid::now_v7();
    let written = keys.clone();
    m.images.expect_attach().times(1).returning(move |u, image, _| {
        assert_eq!(u, user);
        // The record comes after every object.
        let mut expected: Vec<String> = ImageSize::ALL.iter().map(|s| object_key(image.id, *s)).collect();
        let mut got = written.lock().unwrap().clone();
        expected.sort();
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(image.rendition(ImageSize::High).etag, "etag-high");
        Ok(true)
    });
    let s = m.services(AuthPolicy::default());
    s.images.attach(user, b"upload".to_vec()).await.unwrap();
}

#[tokio::test]
async fn a_user_gone_before_the_record_leaves_no_objects_behind() {
    let mut m = Mocks::new();
    rendering(&mut m);
    m.blobs.expect_put().times(4).returning(|_, _, _| Ok(()));
    m.images.expect_attach().returning(|_, _, _| Ok(false));
    m.blobs.expect_delete().times(4).returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    let e = s.images.attach(Uuid::now_v7(), vec![1]).await.unwrap_err();
    assert!(matches!(e, Error::NotFound("user")), "{e:?}");
}

#[tokio::test]
async fn a_store_that_is_down_is_unavailable_and_the_partial_upload_is_queued_for_deletion() {
    let mut m = Mocks::new();
    rendering(&mut m);
    m.blobs.expect_put().returning(|key, _, _| {
        if key.ends_with("/high") {
            Err(BlobError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    });
    m.blobs.expect_delete().returning(|_| Err(BlobError::Unavailable("connection refused".into())));
    m.images.expect_attach().never();
    m.images.expect_queue_deletion().times(1).returning(|_, _| Ok(()));
    let s = m.services(AuthPolicy::default());
    let e = s.images.attach(Uuid::now_v7(), vec![1]).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable(_)), "{e:?}");
}

#[tokio::test]
async fn refused_images_keep_their_reason_and_write_nothing() {
    for (err, want) in [
        (ImageError::Unsupported, ImageRefusal::Unsupported),
        (
            ImageError::TooLarge { width: 20_000, height: 20_000 },
            ImageRefusal::TooLarge { width: 20_000, height: 20_000 },
        ),
        (ImageError::Invalid("truncated".into()), ImageRefusal::Invalid),
    ] {
        let mut m = Mocks::new();
        m.processor.expect_render().return_once(move |_| Err(err));
        m.blobs.expect_put().never();
        m.images.expect_attach().never();
        let s = m.services(AuthPolicy::default());
        let e = s.images.attach(Uuid::now_v7(), vec![1]).await.unwrap_err();
        assert!(matches!(e, Error::ImageRefused(r) if r == want), "{e:?}");
    }
}

#[tokio::test]
async fn serving_answers_not_modified_without_reading_the_store() {
    let id = new_image_id();
    let mut m = Mocks::new();
    m.images.expect_get().returning(move |i| Ok(Some(stored(i))));
    m.blobs.expect_get().never();
    let s = m.services(AuthPolicy::default());
    let served = s.images.serve(Some(id), ImageSize::Low, Some("\"other\", W/\"etag-low\"")).await.unwrap();
    assert_eq!(served, Served::NotModified { etag: "etag-low".into(), immutable: true });
}

#[tokio::test]
async fn serving_reads_the_size_asked_for_with_the_recorded_type_and_tag() {
    let id = new_image_id();
    let mut m = Mocks::new();
    m.images.expect_get().returning(move |i| Ok(Some(stored(i))));
    m.blobs
        .expect_get()
        .withf(move |k| k == object_key(id, ImageSize::High))
        .returning(|_| Ok(crate::ports::Blob { bytes: vec![3; 8], content_type: "application/octet-stream".into() }));
    let s = m.services(AuthPolicy::default());
    let Served::Image(img) = s.images.serve(Some(id), ImageSize::High, Some("\"etag-low\"")).await.unwrap() else {
        panic!("expected the image")
    };
    assert_eq!((img.content_type.as_str(), img.etag.as_str(), img.immutable), ("image/jpeg", "etag-high", true));
}

#[tokio::test]
async fn an_unknown_image_is_not_found_and_null_is_the_default_image() {
    let mut m = Mocks::new();
    m.images.expect_get().returning(|_| Ok(None));
    m.processor.expect_default_image().returning(rendition);
    let s = m.services(AuthPolicy::default());
    let e = s.images.serve(Some(new_image_id()), ImageSize::Mid, None).await.unwrap_err();
    assert!(matches!(e, Error::NotFound("image")));
    let Served::Image(img) = s.images.serve(None, ImageSize::Thumbnail, None).await.unwrap() else {
        panic!("expected the default image")
    };
    assert_eq!((img.etag.as_str(), img.immutable), ("etag-thumbnail", false));
}

#[tokio::test]
async fn an_image_replaced_while_served_is_not_found_but_a_missing_object_of_a_live_one_is_a_fault() {
    let mut m = Mocks::new();
    let mut reads = 0;
    m.images.expect_get().returning(move |i| {
        reads += 1;
        Ok((reads == 1).then(|| stored(i)))
    });
    m.blobs.expect_get().returning(|_| Err(BlobError::NotFound));
    let s = m.services(AuthPolicy::default());
    let e = s.images.serve(Some(new_image_id()), ImageSize::Mid, None).await.unwrap_err();
    assert!(matches!(e, Error::NotFound("image")), "{e:?}");

    let mut m = Mocks::new();
    m.images.expect_get().returning(|i| Ok(Some(stored(i))));
    m.blobs.expect_get().returning(|_| Err(BlobError::NotFound));
    let s = m.services(AuthPolicy::default());
    let e = s.images.serve(Some(new_image_id()), ImageSize::Mid, None).await.unwrap_err();
    assert!(matches!(e, Error::Internal(_)), "{e:?}");
}

#[tokio::test]
async fn deletions_finish_only_when_every_object_is_gone() {
    let (done, failing) = (new_image_id(), new_image_id());
    let mut m = Mocks::new();
    m.images.expect_claim_deletions().returning(move |_, limit, lease| {
        assert_eq!((limit, lease), (10, Duration::seconds(60)));
        Ok(vec![ClaimedDeletion { image_id: done, attempts: 1 }, ClaimedDeletion { image_id: failing, attempts: 2 }])
    });
    m.blobs.expect_delete().returning(move |key| {
        if image_id_of_key(key) == Some(failing) {
            Err(BlobError::Unavailable("down".into()))
        } else {
            Ok(())
        }
    });
    m.images.expect_finish_deletion().withf(move |id| *id == done).times(1).returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    let report = s.images.process_deletions(10).await.unwrap();
    assert_eq!(report, DeletionReport { claimed: 2, deleted: 1, failed: 1 });
}

#[tokio::test]
async fn the_sweep_deletes_old_objects_of_unrecorded_images_only() {
    let (kept, orphan) = (new_image_id(), new_image_id());
    let mut m = Mocks::new();
    m.blobs.expect_list_older().returning(move |prefix, before, limit| {
        assert_eq!((prefix, before, limit), ("images/", now() - Duration::hours(24), 500));
        Ok([
            object_key(kept, ImageSize::Mid),
            object_key(orphan, ImageSize::Mid),
            object_key(orphan, ImageSize::Low),
            "images/stray.txt".into(),
        ]
        .into_iter()
        .map(|key| BlobMeta { key, size: 1, last_modified: now() - Duration::days(2) })
        .collect())
    });
    m.images.expect_existing().returning(move |ids| Ok(ids.iter().copied().filter(|i| *i == kept).collect()));
    m.blobs.expect_delete().withf(move |key| image_id_of_key(key) == Some(orphan)).times(2).returning(|_| Ok(()));
    let s = m.services(AuthPolicy::default());
    assert_eq!(s.images.sweep_orphans(500).await.unwrap(), 2);
}

#[test]
fn entity_tags_match_weakly_in_lists_and_star_matches_anything() {
    assert!(etag_matches("\"abc\"", "abc"));
    assert!(etag_matches("W/\"abc\"", "abc"));
    assert!(etag_matches("\"x\", \"abc\"", "abc"));
    assert!(etag_matches("*", "abc"));
    assert!(!etag_matches("\"abcd\"", "abc"));
    assert!(!etag_matches("", "abc"));
}

#[tokio::test]
async fn a_processor_that_does_not_render_the_four_sizes_in_order_is_a_fault_and_nothing_is_written() {
    for sizes in
        [vec![ImageSize::Thumbnail, ImageSize::Low, ImageSize::Mid], ImageSize::ALL.into_iter().rev().collect()]
    {
        let mut m = Mocks::new();
        m.processor.expect_render().return_once(move |_| Ok(sizes.into_iter().map(rendition).collect()));
        m.blobs.expect_put().never();
        m.images.expect_attach().never();
        let s = m.services(AuthPolicy::default());
        let e = s.images.attach(Uuid::now_v7(), vec![1]).await.unwrap_err();
        assert!(matches!(e, Error::Internal(_)), "{e:?}");
    }
}
