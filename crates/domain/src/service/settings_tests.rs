use std::sync::{
    atomic::{AtomicU32, Ordering},
    Mutex,
};

use mockall::predicate::*;
use serde_json::json;

use super::*;
use crate::service::test_support::*;

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// Mocks whose store holds `document` for every user the directory knows
/// (`target`), with compare-and-set semantics.
fn store(m: &mut Mocks, target: &crate::user::User, document: Value) -> Arc<Mutex<Map<String, Value>>> {
    let stored = Arc::new(Mutex::new(object(document)));
    let t = target.clone();
    m.users.expect_get().returning(move |id| Ok((id == t.id).then(|| t.clone())));
    let s = stored.clone();
    m.settings.expect_settings().returning(move |_| Ok(Some(s.lock().unwrap().clone())));
    let s = stored.clone();
    m.settings.expect_replace_settings().returning(move |_, old, new, _| {
        let mut cur = s.lock().unwrap();
        if *cur == *old {
            *cur = new.clone();
            Ok(true)
        } else {
            Ok(false)
        }
    });
    stored
}

#[tokio::test]
async fn reading_fills_in_every_default() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mut m = Mocks::new();
    store(&mut m, &me, json!({"notifications": {"invites": true}}));
    let s = m.services(AuthPolicy::default());
    let settings = s.settings.get(&p, me.id).await.unwrap();
    assert_eq!(
        serde_json::to_value(&settings).unwrap(),
        json!({"notifications": {"invites": true}, "reminder_advance": null, "default_location_id": null, "app": {}})
    );
}

#[tokio::test]
async fn a_merge_patch_merges_and_null_restores_the_default() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mut m = Mocks::new();
    let stored = store(
        &mut m,
        &me,
        json!({"notifications": {"invites": true, "email": true}, "reminder_advance": "P1D", "app": {"a": 1, "b": {"c": 2}}}),
    );
    let s = m.services(AuthPolicy::default());
    let patch = object(json!({
        "notifications": {"email": null, "booking_reminder": false},
        "reminder_advance": null,
        "app": {"b": {"d": 3}}
    }));
    let settings = s.settings.patch(&p, me.id, patch).await.unwrap();
    assert_eq!(settings.reminder_advance, None);
    assert_eq!(
        Value::Object(stored.lock().unwrap().clone()),
        json!({"notifications": {"invites": true, "booking_reminder": false}, "app": {"a": 1, "b": {"c": 2, "d": 3}}})
    );
}

#[tokio::test]
async fn bad_patches_write_nothing_and_name_every_field() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mut m = Mocks::new();
    let t = me.clone();
    m.users.expect_get().returning(move |_| Ok(Some(t.clone())));
    m.settings.expect_settings().returning(|_| Ok(Some(Map::new())));
    m.settings.expect_replace_settings().never();
    let s = m.services(AuthPolicy::default());
    let unknown = object(json!({"colour": "red", "theme": null, "app": {}}));
    let Err(Error::Validation(e)) = s.settings.patch(&p, me.id, unknown).await else { panic!("not refused") };
    assert_eq!(e.fields().collect::<Vec<_>>(), ["colour", "theme"]);
    let bad = object(json!({"reminder_advance": "soon", "notifications": {"Bad": true}, "app": "x"}));
    let Err(Error::Validation(e)) = s.settings.patch(&p, me.id, bad).await else { panic!("not refused") };
    assert_eq!(e.fields().collect::<Vec<_>>(), ["app", "notifications.Bad", "reminder_advance"]);
    // Unknown keys and bad values together: all of them, each told once.
    let both = object(json!({"colour": "red", "reminder_advance": "soon"}));
    let Err(Error::Validation(e)) = s.settings.patch(&p, me.id, both).await else { panic!("not refused") };
    assert_eq!(e.fields().collect::<Vec<_>>(), ["colour", "reminder_advance"]);
    assert_eq!(e.get("colour").map(<[String]>::len), Some(1));
}

#[tokio::test]
async fn the_default_location_must_be_one_of_the_users_organizations() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let (mine, foreign) = (Uuid::now_v7(), Uuid::now_v7());
    let mut m = Mocks::new();
    store(&mut m, &me, json!({}));
    m.settings.expect_is_member_location().returning(move |_, l| Ok(l == mine));
    let s = m.services(AuthPolicy::default());
    let patch = object(json!({"default_location_id": foreign.to_string()}));
    let Err(Error::Validation(e)) = s.settings.patch(&p, me.id, patch).await else { panic!("not refused") };
    assert_eq!(e.fields().collect::<Vec<_>>(), ["default_location_id"]);
    let patch = object(json!({"default_location_id": mine.to_string()}));
    assert_eq!(s.settings.patch(&p, me.id, patch).await.unwrap().default_location_id, Some(mine));
}

#[tokio::test]
async fn a_lost_race_is_merged_again_into_the_newer_document() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mut m = Mocks::new();
    let t = me.clone();
    m.users.expect_get().returning(move |_| Ok(Some(t.clone())));
    // The first read is stale: another patch got in before the write.
    let reads = Arc::new(AtomicU32::new(0));
    let r = reads.clone();
    m.settings.expect_settings().returning(move |_| {
        Ok(Some(if r.fetch_add(1, Ordering::SeqCst) == 0 {
            Map::new()
        } else {
            object(json!({"notifications": {"invites": true}}))
        }))
    });
    let written = Arc::new(Mutex::new(None));
    let w = written.clone();
    m.settings.expect_replace_settings().times(2).returning(move |_, old, new, _| {
        if old.is_empty() {
            return Ok(false);
        }
        *w.lock().unwrap() = Some(new.clone());
        Ok(true)
    });
    let s = m.services(AuthPolicy::default());
    let settings = s.settings.patch(&p, me.id, object(json!({"notifications": {"email": true}}))).await.unwrap();
    assert_eq!(settings.notifications.len(), 2, "the other patch's channel is kept");
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    assert!(written.lock().unwrap().is_some());
}

#[tokio::test]
async fn a_store_that_keeps_changing_is_unavailable() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mut m = Mocks::new();
    let t = me.clone();
    m.users.expect_get().returning(move |_| Ok(Some(t.clone())));
    m.settings.expect_settings().returning(|_| Ok(Some(Map::new())));
    m.settings.expect_replace_settings().times(WRITE_ATTEMPTS as usize).returning(|_, _, _, _| Ok(false));
    let s = m.services(AuthPolicy::default());
    let r = s.settings.patch(&p, me.id, object(json!({"app": {"x": 1}}))).await;
    assert!(matches!(r, Err(Error::Unavailable(_))), "{r:?}");
}

#[tokio::test]
async fn others_settings_take_the_users_permissions() {
    let target = user("t@example.com", "member");
    let reader = principal(user("r@example.com", "member"), vec![Permission::UsersRead.as_str().into()]);
    let nobody = principal(user("n@example.com", "member"), vec![]);
    let mut m = Mocks::new();
    store(&mut m, &target, json!({}));
    let s = m.services(AuthPolicy::default());
    assert!(s.settings.get(&reader, target.id).await.is_ok());
    let r = s.settings.get(&nobody, target.id).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::MissingPermission(Permission::UsersRead)))), "{r:?}");
    let r = s.settings.patch(&reader, target.id, Map::new()).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::MissingPermission(Permission::UsersWrite)))), "{r:?}");
    let unknown = Uuid::now_v7();
    assert!(matches!(s.settings.get(&reader, unknown).await, Err(Error::NotFound("user"))));
}

#[tokio::test]
async fn an_administrator_cannot_touch_an_owners_settings_nor_a_tenant_an_account_it_does_not_manage() {
    let mut owner = user("o@example.com", "owner");
    owner.role = Some("owner".into());
    let admin = principal(user("a@example.com", "admin"), admin_perms());
    let mut m = Mocks::new();
    store(&mut m, &owner, json!({}));
    let s = m.services(AuthPolicy::default());
    let r = s.settings.patch(&admin, owner.id, Map::new()).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::OwnerOnly))), "{r:?}");
    assert!(s.settings.get(&admin, owner.id).await.is_ok(), "reading is users:read's");

    let org = Uuid::now_v7();
    let member = user("m@example.com", "member");
    let mut tenant = principal(user("t@example.com", "member"), admin_perms());
    tenant.org_id = org;
    tenant.role = Some("admin".into());
    let mut m = Mocks::new();
    let t = member.clone();
    m.users.expect_get_in().with(eq(org), always()).returning(move |_, _| Ok(Some(t.clone())));
    m.settings.expect_replace_settings().never();
    let s = m.services(AuthPolicy::default());
    let r = s.settings.patch(&tenant, member.id, Map::new()).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::NotManaged))), "{r:?}");
}
