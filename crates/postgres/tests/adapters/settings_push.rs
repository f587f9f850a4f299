//! `PgSettingsRepository` and `PgPushTokenRepository`: the settings
//! document's compare-and-set, default locations of the user's
//! organizations, tokens moving between users, the cap, the host lookup and
//! deletion with the user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster_domain::mail::Effects;
use roster_domain::ports::{
    LocationRepository, MemberRepository, PushTokenRepository, SettingsRepository, TokenRegistration, UserRepository,
};
use roster_domain::user::{check_document, BuiltinRole, NewPushToken, PushProvider, PushTokenLookup, MAX_PUSH_TOKENS};
use roster_postgres::{PgPushTokenRepository, PgSettingsRepository};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::common::*;

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn expo(tag: &str) -> NewPushToken {
    NewPushToken { provider: PushProvider::Expo, token: format!("ExponentPushToken[{tag}]"), device_name: None }
}

#[tokio::test]
async fn settings_are_written_only_over_the_document_read() {
    let ctx = setup().await;
    let settings = PgSettingsRepository::new(ctx.pool.clone());
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    assert_eq!(settings.settings(ada.id).await.unwrap(), Some(Map::new()));
    assert_eq!(settings.settings(Uuid::now_v7()).await.unwrap(), None);

    let first = object(json!({"notifications": {"invites": true}}));
    assert!(settings.replace_settings(ada.id, &Map::new(), &first, at(5)).await.unwrap());
    assert_eq!(settings.settings(ada.id).await.unwrap(), Some(first.clone()));
    assert_eq!(ctx.users.get(ada.id).await.unwrap().unwrap().updated_at, at(5));
    // A writer that read the old document loses: nothing is written.
    let stale = object(json!({"app": {"x": 1}}));
    assert!(!settings.replace_settings(ada.id, &Map::new(), &stale, at(6)).await.unwrap());
    assert_eq!(settings.settings(ada.id).await.unwrap(), Some(first.clone()));
    // jsonb equality: the order of members does not matter.
    let two = object(json!({"a": 1, "b": 2}));
    assert!(settings.replace_settings(ada.id, &first, &two, at(7)).await.unwrap());
    assert!(settings.replace_settings(ada.id, &object(json!({"b": 2, "a": 1})), &Map::new(), at(8)).await.unwrap());
    assert!(!settings.replace_settings(Uuid::now_v7(), &Map::new(), &first, at(9)).await.unwrap());
}

#[tokio::test]
async fn a_new_user_starts_with_settings_and_a_push_token_in_one_transaction() {
    let ctx = setup().await;
    let settings = PgSettingsRepository::new(ctx.pool.clone());
    let tokens = PgPushTokenRepository::new(ctx.pool.clone());
    let mut record = new_user("ada@example.com", BuiltinRole::Member, at(0));
    record.extras.settings = Some(check_document(object(json!({"reminder_advance": "P1W"})), "").unwrap());
    record.extras.push_token = Some(expo("first"));
    let ada = ctx.users.create(&record, &Effects::none()).await.unwrap();
    assert_eq!(settings.settings(ada.id).await.unwrap(), Some(object(json!({"reminder_advance": "P1W"}))));
    let listed = tokens.list_tokens(ada.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].token, "ExponentPushToken[first]");

    // A second user created with the same token takes it; a failed creation
    // (taken address) moves nothing.
    let mut taken = new_user("ada@example.com", BuiltinRole::Member, at(1));
    taken.extras.push_token = Some(expo("first"));
    assert!(ctx.users.create(&taken, &Effects::none()).await.is_err());
    assert_eq!(tokens.list_tokens(ada.id).await.unwrap().len(), 1);
    let mut bob = new_user("bob@example.com", BuiltinRole::Member, at(2));
    bob.extras.push_token = Some(expo("first"));
    let bob = ctx.users.create(&bob, &Effects::none()).await.unwrap();
    assert!(tokens.list_tokens(ada.id).await.unwrap().is_empty());
    assert_eq!(tokens.list_tokens(bob.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn default_locations_are_those_of_the_users_active_memberships() {
    let ctx = setup().await;
    let settings = PgSettingsRepository::new(ctx.pool.clone());
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let hq = ctx.locations.create_location(&location(acme.id, "HQ", &[], 1)).await.unwrap();
    let far = ctx.locations.create_location(&location(globex.id, "Far", &[], 1)).await.unwrap();
    let platform =
        ctx.locations.create_location(&location(roster_domain::DEFAULT_ORG_ID, "Main", &[], 1)).await.unwrap();
    assert!(settings.is_member_location(ada.id, platform.id).await.unwrap());
    assert!(!settings.is_member_location(ada.id, hq.id).await.unwrap());
    let member_role = role(&ctx, acme.id, "member").await;
    ctx.members.add_member(acme.id, ada.id, member_role.id, None, at(2)).await.unwrap();
    assert!(settings.is_member_location(ada.id, hq.id).await.unwrap());
    assert!(!settings.is_member_location(ada.id, far.id).await.unwrap());
    assert!(!settings.is_member_location(ada.id, Uuid::now_v7()).await.unwrap());
    ctx.members.set_member_active(acme.id, ada.id, false, at(3)).await.unwrap();
    assert!(!settings.is_member_location(ada.id, hq.id).await.unwrap());
}

#[tokio::test]
async fn a_token_is_refreshed_moved_and_capped() {
    let ctx = setup().await;
    let tokens = PgPushTokenRepository::new(ctx.pool.clone());
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;

    let TokenRegistration::Created(first) = tokens.register(ada.id, &expo("a"), 20, at(1)).await.unwrap() else {
        panic!("not created")
    };
    let mut named = expo("a");
    named.device_name = Some("Phone".into());
    let TokenRegistration::Refreshed(again) = tokens.register(ada.id, &named, 20, at(2)).await.unwrap() else {
        panic!("not refreshed")
    };
    assert_eq!((again.id, again.created_at, again.last_seen_at), (first.id, at(1), at(2)));
    assert_eq!(again.device_name.as_deref(), Some("Phone"));
    // The same characters under another provider are another token.
    let other = NewPushToken { provider: PushProvider::Fcm, ..expo("a") };
    assert!(matches!(tokens.register(ada.id, &other, 20, at(3)).await.unwrap(), TokenRegistration::Created(_)));

    // Bob's phone now: the token moves to him.
    let TokenRegistration::Created(moved) = tokens.register(bob.id, &expo("a"), 20, at(4)).await.unwrap() else {
        panic!("not moved")
    };
    assert_eq!(moved.created_at, at(4));
    assert_eq!(tokens.list_tokens(ada.id).await.unwrap().len(), 1);
    assert_eq!(tokens.list_tokens(bob.id).await.unwrap().len(), 1);
    assert_eq!(tokens.register(Uuid::now_v7(), &expo("z"), 20, at(5)).await.unwrap(), TokenRegistration::UserGone);

    // The cap: the least recently seen goes.
    for i in 0..MAX_PUSH_TOKENS {
        tokens.register(bob.id, &expo(&format!("b{i}")), MAX_PUSH_TOKENS, at(10 + i as i64)).await.unwrap();
    }
    let listed = tokens.list_tokens(bob.id).await.unwrap();
    assert_eq!(listed.len(), MAX_PUSH_TOKENS);
    assert!(listed.iter().all(|t| t.token != "ExponentPushToken[a]"), "the oldest was dropped");
    assert_eq!(listed[0].token, format!("ExponentPushToken[b{}]", MAX_PUSH_TOKENS - 1), "most recent first");

    // Deleting is the holder's only; deleting the user deletes the rest.
    assert!(!tokens.delete_token(ada.id, listed[0].id).await.unwrap());
    assert!(tokens.delete_token(bob.id, listed[0].id).await.unwrap());
    assert_eq!(tokens.list_tokens(bob.id).await.unwrap().len(), MAX_PUSH_TOKENS - 1);
    assert!(ctx.users.delete(bob.id).await.unwrap());
    assert!(tokens.list_tokens(bob.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_registrations_keep_the_cap() {
    let ctx = setup().await;
    let tokens = PgPushTokenRepository::new(ctx.pool.clone());
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let tokens = tokens.clone();
            tokio::spawn(async move { tokens.register(ada.id, &expo(&format!("c{i}")), 3, at(i)).await })
        })
        .collect();
    for r in runs {
        r.await.unwrap().unwrap();
    }
    assert_eq!(tokens.list_tokens(ada.id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn hosts_find_only_the_organizations_active_members() {
    let ctx = setup().await;
    let tokens = PgPushTokenRepository::new(ctx.pool.clone());
    let acme = org(&ctx, "acme", None).await;
    let member_role = role(&ctx, acme.id, "member").await;
    let ada = member(&ctx, "Ada@Example.com", None, at(0)).await;
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;
    let eve = member(&ctx, "eve@example.com", None, at(0)).await;
    for u in [&ada, &bob, &eve] {
        tokens.register(u.id, &expo(&u.email), 20, at(1)).await.unwrap();
    }
    tokens.register(ada.id, &expo("second"), 20, at(2)).await.unwrap();
    ctx.members.add_member(acme.id, ada.id, member_role.id, None, at(1)).await.unwrap();
    ctx.members.add_member(acme.id, bob.id, member_role.id, None, at(1)).await.unwrap();
    ctx.members.set_member_active(acme.id, bob.id, false, at(2)).await.unwrap();

    let by_email = PushTokenLookup::Emails(vec![
        "ada@example.com".into(),
        "bob@example.com".into(),
        "eve@example.com".into(),
        "nobody@example.com".into(),
    ]);
    let found = tokens.member_tokens(acme.id, &by_email).await.unwrap();
    assert_eq!(found.len(), 1, "bob is deactivated there, eve no member");
    assert_eq!(found[0].user_id, ada.id);
    let listed: Vec<&str> = found[0].tokens.iter().map(|t| t.token.as_str()).collect();
    assert_eq!(listed, ["ExponentPushToken[second]".to_string(), format!("ExponentPushToken[{}]", ada.email)]);

    let by_id = PushTokenLookup::UserIds(vec![ada.id, eve.id, Uuid::now_v7()]);
    let found = tokens.member_tokens(acme.id, &by_id).await.unwrap();
    assert_eq!(found.iter().map(|u| u.user_id).collect::<Vec<_>>(), [ada.id]);
    // The platform's members are everyone.
    let found = tokens.member_tokens(roster_domain::DEFAULT_ORG_ID, &by_id).await.unwrap();
    assert_eq!(found.len(), 2);
}
