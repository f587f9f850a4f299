use mockall::predicate::*;

use super::*;
use crate::{
    auth::Principal,
    service::test_support::*,
    user::{NewPushToken, PushProvider},
};

fn input(token: &str) -> PushTokenInput {
    PushTokenInput { token: token.into(), provider: "expo".into(), device_name: Some("Phone".into()) }
}

fn stored(t: &NewPushToken) -> PushToken {
    PushToken {
        id: Uuid::now_v7(),
        provider: t.provider,
        token: t.token.clone(),
        device_name: t.device_name.clone(),
        created_at: now(),
        last_seen_at: now(),
    }
}

fn api_key(perms: &[&str]) -> Principal {
    let perms: Vec<String> = perms.iter().map(|p| p.to_string()).collect();
    Principal::api_key(Uuid::now_v7(), "host".into(), Uuid::now_v7(), &perms)
}

#[tokio::test]
async fn registering_keeps_at_most_the_cap_and_says_whether_it_is_new() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mut m = Mocks::new();
    m.push_tokens.expect_register().with(eq(me.id), always(), eq(MAX_PUSH_TOKENS), eq(now())).returning(
        |_, t, _, _| {
            Ok(if t.token.contains("again") {
                TokenRegistration::Refreshed(stored(t))
            } else {
                TokenRegistration::Created(stored(t))
            })
        },
    );
    let s = m.services(AuthPolicy::default());
    let first = s.push_tokens.register(&p, input("ExponentPushToken[new]")).await.unwrap();
    assert!(first.created);
    assert_eq!(first.token.provider, PushProvider::Expo);
    assert!(!s.push_tokens.register(&p, input("ExponentPushToken[again]")).await.unwrap().created);
}

#[tokio::test]
async fn bad_tokens_are_refused_before_the_store() {
    let p = principal(user("me@example.com", "member"), vec![]);
    let mut m = Mocks::new();
    m.push_tokens.expect_register().never();
    let s = m.services(AuthPolicy::default());
    let Err(Error::Validation(e)) = s.push_tokens.register(&p, input("nope")).await else { panic!("not refused") };
    assert_eq!(e.fields().collect::<Vec<_>>(), ["token"]);
}

#[tokio::test]
async fn api_keys_have_no_tokens_of_their_own() {
    let mut m = Mocks::new();
    m.push_tokens.expect_register().never();
    m.push_tokens.expect_list_tokens().never();
    let s = m.services(AuthPolicy::default());
    let key = api_key(&["push_tokens:read"]);
    assert!(matches!(s.push_tokens.register(&key, input("ExponentPushToken[x]")).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.push_tokens.list(&key).await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn deleting_another_users_token_is_not_found() {
    let me = user("me@example.com", "member");
    let p = principal(me.clone(), vec![]);
    let mine = Uuid::now_v7();
    let mut m = Mocks::new();
    m.push_tokens.expect_delete_token().with(eq(me.id), always()).returning(move |_, id| Ok(id == mine));
    let s = m.services(AuthPolicy::default());
    assert!(s.push_tokens.delete(&p, mine).await.is_ok());
    assert!(matches!(s.push_tokens.delete(&p, Uuid::now_v7()).await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn hosts_read_their_organizations_members_with_the_permission() {
    let key = api_key(&["push_tokens:read"]);
    let org = key.org_id;
    let mut m = Mocks::new();
    m.push_tokens
        .expect_member_tokens()
        .with(eq(org), eq(PushTokenLookup::Emails(vec!["a@example.com".into()])))
        .times(1)
        .returning(|_, _| Ok(vec![]));
    let s = m.services(AuthPolicy::default());
    assert_eq!(s.push_tokens.for_members(&key, None, Some("A@example.com")).await.unwrap(), vec![]);
    let r = s.push_tokens.for_members(&key, Some("x"), Some("a@example.com")).await;
    assert!(matches!(r, Err(Error::InvalidQuery(_))), "{r:?}");
    let without = api_key(&["users:read"]);
    let r = s.push_tokens.for_members(&without, None, Some("a@example.com")).await;
    assert!(matches!(r, Err(Error::Forbidden(Refusal::MissingPermission(Permission::PushTokensRead)))), "{r:?}");
}
