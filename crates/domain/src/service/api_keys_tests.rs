use std::sync::Arc;

use chrono::Utc;
use mockall::predicate::{always, eq};
use uuid::Uuid;

use super::*;
use crate::{
    error::{Error, TokenRejection},
    org::{ApiKey, NewApiKeyInput},
    service::test_support::*,
};

fn key(org: Uuid, permissions: &[&str]) -> ApiKey {
    ApiKey {
        id: Uuid::now_v7(),
        org_id: org,
        name: "booking-service".into(),
        prefix: "rsk_abcdefgh".into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        created_by: None,
        created_at: Utc::now(),
        last_used_at: None,
        expires_at: None,
    }
}

fn input(permissions: &[&str]) -> NewApiKeyInput {
    NewApiKeyInput {
        name: "booking-service".into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        expires_at: None,
    }
}

#[tokio::test]
async fn a_key_is_created_with_permissions_its_creator_holds_and_stored_hashed() {
    let org = Uuid::now_v7();
    let (mut m, p) = caller(org, "admin", &["api_keys:manage", "users:write"]);
    let creator = p.user_id();
    m.api_keys
        .expect_create()
        .withf(move |k| k.org_id == org && k.created_by == creator && k.prefix.starts_with("rsk_"))
        .returning(|k| {
            Ok(ApiKey {
                id: k.id,
                org_id: k.org_id,
                name: k.name.clone(),
                prefix: k.prefix.clone(),
                permissions: k.permissions.clone(),
                created_by: k.created_by,
                created_at: k.now,
                last_used_at: None,
                expires_at: k.expires_at,
            })
        });
    let s = m.services(AuthPolicy::default());
    let (created, secret) = s.api_keys.create(&p, org, input(&["users:write"])).await.unwrap();
    assert_eq!(created.prefix, secret.prefix());
    assert_eq!(created.permissions, vec!["users:write"]);
    assert!(matches!(s.api_keys.create(&p, org, input(&["users:delete"])).await, Err(Error::Forbidden(_))));
    match s.api_keys.create(&p, org, input(&["beacons:toggle"])).await {
        Err(Error::Validation(e)) => assert!(e.get("permissions[0]").is_some()),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn keys_need_the_permission_and_other_organizations_keys_do_not_exist() {
    let org = Uuid::now_v7();
    let (mut m, p) = caller(org, "admin", &["users:write"]);
    m.api_keys.expect_create().never();
    m.api_keys.expect_revoke().never();
    m.api_keys.expect_list().never();
    let s = m.services(AuthPolicy::default());
    assert!(matches!(
        s.api_keys.create(&p, org, input(&[])).await,
        Err(Error::Forbidden(Refusal::MissingPermission(Permission::ApiKeysManage)))
    ));
    assert!(matches!(s.api_keys.list(&p, org, 1, 20).await, Err(Error::Forbidden(_))));
    let elsewhere = Uuid::now_v7();
    assert!(matches!(s.api_keys.revoke(&p, elsewhere, Uuid::now_v7()).await, Err(Error::NotFound("organization"))));
}

#[tokio::test]
async fn a_key_acts_in_its_organization_only_and_never_as_a_user() {
    let org = Uuid::now_v7();
    let mut m = Mocks::new();
    m.members.expect_membership().never();
    m.roles.expect_list_permissions().returning(|_| Ok(vec![]));
    m.orgs.expect_get_org().returning(|_| Ok(None));
    m.api_keys.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let p = key(org, &["api_keys:manage", "users:read"]).principal();
    assert!(p.user().is_none() && !p.is_superadmin);
    assert!(matches!(s.roles.list(&p, Uuid::now_v7()).await, Err(Error::NotFound("organization"))));
    // Keys it makes may hold no more than it does.
    assert!(matches!(s.api_keys.create(&p, org, input(&["users:write"])).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.auth.logout(&p).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.auth.change_password(&p, "a", "b").await, Err(Error::Forbidden(_))));
    assert!(matches!(
        s.orgs.create(&p, crate::org::NewOrgInput { name: "X".into(), slug: "x".into(), owner_id: None }).await,
        Err(Error::Forbidden(_))
    ));
}

#[tokio::test]
async fn bearer_keys_are_looked_up_by_hash_and_refused_when_unknown() {
    let org = Uuid::now_v7();
    let secret = crate::org::ApiKeySecret::generate();
    let expected = secret.hash();
    let mut m = Mocks::new();
    m.api_keys.expect_authenticate().returning(move |h, _| Ok((*h == expected).then(|| key(org, &["users:read"]))));
    let s = m.services(AuthPolicy::default());
    let p = s.auth.authenticate(secret.expose()).await.unwrap();
    assert_eq!((p.org_id, p.user_id()), (org, None));
    assert!(p.has("users:read") && !p.has("users:write"));
    let other = crate::org::ApiKeySecret::generate();
    assert!(matches!(s.auth.authenticate(other.expose()).await, Err(Error::Unauthenticated(TokenRejection::Invalid))));
    assert!(matches!(s.auth.authenticate("rsk_garbage").await, Err(Error::Unauthenticated(TokenRejection::Invalid))));
}

#[tokio::test]
async fn the_service_reaches_only_the_ports_it_names() {
    // Built from its own four ports, not from every port of the app.
    let org = Uuid::now_v7();
    let id = Uuid::now_v7();
    let (Mocks { orgs, members, roles, mut api_keys, .. }, p) = caller(org, "admin", &["api_keys:manage"]);
    api_keys.expect_revoke().with(eq(org), eq(id), always()).times(1).returning(|_, _, _| Ok(true));
    let service = ApiKeyService::new(ApiKeyPorts {
        gate: OrgGate::new(Arc::new(orgs), Arc::new(members)),
        roles: Arc::new(roles),
        api_keys: Arc::new(api_keys),
        clock: clock(),
    });
    service.revoke(&p, org, id).await.unwrap();
}
