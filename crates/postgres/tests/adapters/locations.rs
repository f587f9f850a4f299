//! Locations of an organization in `PgLocationRepository`: CRUD, search by name
//! and keyword, paging, and deletion while members have one.

#![allow(clippy::unwrap_used)]

use crate::common::{at, location, member, org, role, setup, strings, Ctx};
use roster_domain::org::{LocationPatch, MemberChange};
use roster_domain::ports::{LocationRepository, MemberRepository};
use roster_domain::{Conflict, RepoError};
use uuid::Uuid;

async fn search(ctx: &Ctx, org: Uuid, q: Option<&str>) -> Vec<String> {
    let page = ctx.locations.list_locations(org, q.map(str::to_owned), 1, 50).await.unwrap();
    page.items.into_iter().map(|l| l.name).collect()
}

#[tokio::test]
async fn locations_crud_scoped_by_org() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let new = location(acme.id, "HQ", &["main", "office"], 1);
    let hq = ctx.locations.create_location(&new).await.unwrap();
    assert_eq!(hq, new);
    assert_eq!(ctx.locations.get_location(acme.id, hq.id).await.unwrap(), Some(hq.clone()));
    assert_eq!(ctx.locations.get_location(globex.id, hq.id).await.unwrap(), None);
    assert_eq!(ctx.locations.get_location(acme.id, Uuid::now_v7()).await.unwrap(), None);

    let patch = LocationPatch {
        name: Some("Headquarters".into()),
        timezone: Some("America/New_York".into()),
        keywords: Some(strings(&["hq"])),
    };
    assert_eq!(ctx.locations.update_location(globex.id, hq.id, &patch, at(2)).await.unwrap(), None);
    let changed = ctx.locations.update_location(acme.id, hq.id, &patch, at(2)).await.unwrap().unwrap();
    assert_eq!((changed.name.as_str(), changed.timezone.as_str()), ("Headquarters", "America/New_York"));
    assert_eq!((changed.keywords.clone(), changed.created_at, changed.updated_at), (strings(&["hq"]), at(1), at(2)));
    let only_keywords = LocationPatch { keywords: Some(Vec::new()), ..LocationPatch::default() };
    let cleared = ctx.locations.update_location(acme.id, hq.id, &only_keywords, at(3)).await.unwrap().unwrap();
    assert_eq!((cleared.name.as_str(), cleared.keywords.len(), cleared.updated_at), ("Headquarters", 0, at(3)));
    assert_eq!(ctx.locations.update_location(acme.id, Uuid::now_v7(), &patch, at(4)).await.unwrap(), None);

    assert!(!ctx.locations.delete_location(globex.id, hq.id).await.unwrap());
    assert_eq!(ctx.locations.get_location(acme.id, hq.id).await.unwrap(), Some(cleared));
    assert!(ctx.locations.delete_location(acme.id, hq.id).await.unwrap());
    assert_eq!(ctx.locations.get_location(acme.id, hq.id).await.unwrap(), None);
    assert!(!ctx.locations.delete_location(acme.id, hq.id).await.unwrap());
}

#[tokio::test]
async fn q_matches_name_or_keyword_case_insensitively_and_literally() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    for (name, keywords) in [
        ("Copenhagen HQ", &["dk", "Nordic"][..]),
        ("Aarhus Office", &["Jutland"][..]),
        ("100% Remote", &[][..]),
        ("berlin", &["de", "100_percent"][..]),
        ("Back\\Office", &[][..]),
    ] {
        ctx.locations.create_location(&location(acme.id, name, keywords, 1)).await.unwrap();
    }
    ctx.locations.create_location(&location(globex.id, "Copenhagen Annex", &["dk"], 1)).await.unwrap();

    assert_eq!(
        search(&ctx, acme.id, None).await,
        ["100% Remote", "Aarhus Office", "Back\\Office", "berlin", "Copenhagen HQ"]
    );
    assert_eq!(search(&ctx, acme.id, Some("hq")).await, ["Copenhagen HQ"]);
    assert_eq!(search(&ctx, acme.id, Some("COPEN")).await, ["Copenhagen HQ"]);
    assert_eq!(search(&ctx, acme.id, Some("jut")).await, ["Aarhus Office"]);
    assert_eq!(search(&ctx, acme.id, Some("NORD")).await, ["Copenhagen HQ"]);
    assert_eq!(search(&ctx, acme.id, Some("office")).await, ["Aarhus Office", "Back\\Office"]);
    // Wildcards and the escape character are taken literally.
    assert_eq!(search(&ctx, acme.id, Some("%")).await, ["100% Remote"]);
    assert_eq!(search(&ctx, acme.id, Some("0%")).await, ["100% Remote"]);
    assert_eq!(search(&ctx, acme.id, Some("_")).await, ["berlin"]);
    assert_eq!(search(&ctx, acme.id, Some("\\")).await, ["Back\\Office"]);
    assert!(search(&ctx, acme.id, Some("r%e")).await.is_empty());
    assert!(search(&ctx, acme.id, Some("nowhere")).await.is_empty());
    assert_eq!(search(&ctx, globex.id, Some("dk")).await, ["Copenhagen Annex"]);
    let page = ctx.locations.list_locations(acme.id, Some("o".into()), 1, 50).await.unwrap();
    assert_eq!(page.total, Some(4));
}

#[tokio::test]
async fn locations_are_paged_by_name() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    for name in ["Delta", "alpha", "Charlie", "bravo", "echo"] {
        ctx.locations.create_location(&location(acme.id, name, &["site"], 1)).await.unwrap();
    }
    let list = |page, q: Option<&str>| ctx.locations.list_locations(acme.id, q.map(str::to_owned), page, 2);
    let p1 = list(1, None).await.unwrap();
    assert_eq!(p1.items.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["alpha", "bravo"]);
    assert_eq!((p1.total, p1.page, p1.per_page, p1.has_more), (Some(5), Some(1), 2, true));
    let p3 = list(3, Some("SITE")).await.unwrap();
    assert_eq!(p3.items.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["echo"]);
    assert_eq!((p3.total, p3.has_more), (Some(5), false));
    let p4 = list(4, None).await.unwrap();
    assert_eq!((p4.items.len(), p4.total, p4.has_more), (0, Some(5), false));
}

#[tokio::test]
async fn locations_members_have_cannot_be_deleted() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let hq = ctx.locations.create_location(&location(acme.id, "HQ", &[], 1)).await.unwrap();
    let member_role = role(&ctx, acme.id, "member").await;
    ctx.members.add_member(acme.id, ada.id, member_role.id, Some(hq.id), at(2)).await.unwrap();
    assert_eq!(ctx.locations.delete_location(acme.id, hq.id).await, Err(RepoError::Conflict(Conflict::InUse)));
    assert!(ctx.locations.get_location(acme.id, hq.id).await.unwrap().is_some());

    let away = MemberChange { location_id: Some(None), ..MemberChange::default() };
    ctx.members.update_member(acme.id, ada.id, &away).await.unwrap();
    assert!(ctx.locations.delete_location(acme.id, hq.id).await.unwrap());
}
