use mockall::predicate::*;

use super::*;
use crate::{
    service::test_support::*,
    user::{Page, Paging, UserPatchInput, UserReplaceInput},
    validation::Patch,
};

#[tokio::test]
async fn member_reads_only_itself_without_touching_the_store_for_others() {
    let me = user("member@example.com", "member");
    let me_id = me.id;
    let mut m = Mocks::new();
    let copy = me.clone();
    m.users.expect_get().with(eq(me_id)).times(1).returning(move |_| Ok(Some(copy.clone())));
    let s = m.services(AuthPolicy::default());
    let p = principal(me, vec![]);
    assert_eq!(s.users.get(&p, me_id).await.unwrap().id, me_id);
    assert!(matches!(s.users.get(&p, Uuid::now_v7()).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.users.list(&p, &ListParams::default()).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.users.delete(&p, Uuid::now_v7()).await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn admin_cannot_touch_a_superadmin_or_an_owner() {
    let mut boss = user("boss@example.com", "owner");
    boss.is_superadmin = true;
    let owner = user("owner@example.com", "owner");
    let (boss_id, owner_id) = (boss.id, owner.id);
    let mut m = Mocks::new();
    m.users.expect_get().with(eq(boss_id)).returning(move |_| Ok(Some(boss.clone())));
    m.users.expect_get().with(eq(owner_id)).returning(move |_| Ok(Some(owner.clone())));
    m.users.expect_set_status().never();
    m.users.expect_delete().never();
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    assert!(matches!(s.users.set_status(&admin, boss_id, UserStatus::Banned).await, Err(Error::Forbidden(_))));
    assert!(matches!(s.users.delete(&admin, owner_id).await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn admin_cannot_ban_or_delete_itself() {
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let s = Mocks::new().services(AuthPolicy::default());
    assert!(matches!(
        s.users.set_status(&admin, admin.user_id().unwrap(), UserStatus::Banned).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(s.users.delete(&admin, admin.user_id().unwrap()).await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn status_changes_are_idempotent() {
    let target = user("t@example.com", "member");
    let id = target.id;
    let mut m = Mocks::new();
    m.users.expect_get().returning(move |_| Ok(Some(target.clone())));
    m.users.expect_set_status().never();
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    assert_eq!(s.users.set_status(&admin, id, UserStatus::Active).await.unwrap().status, UserStatus::Active);
}

#[tokio::test]
async fn members_cannot_change_their_own_email_or_verification() {
    let me = user("member@example.com", "member");
    let id = me.id;
    let s = Mocks::new().services(AuthPolicy::default());
    let p = principal(me, vec![]);
    let input: UserPatchInput = serde_json::from_value(
        serde_json::json!({"email": "x@example.com", "email_verified": true, "locale": "zz-top-x"}),
    )
    .unwrap();
    match s.users.patch(&p, id, input).await {
        Err(Error::Validation(e)) => {
            assert_eq!(e.fields().collect::<Vec<_>>(), vec!["email", "email_verified", "locale"])
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_changed_email_becomes_unverified() {
    let mut target = user("old@example.com", "member");
    target.email_verified = true;
    let id = target.id;
    let mut m = Mocks::new();
    let t = target.clone();
    m.users.expect_get().returning(move |_| Ok(Some(t.clone())));
    m.users
        .expect_update()
        .withf(|_, c, effects, _| {
            // The new address is unverified and sent a link of its own.
            let link = effects.token.as_ref().is_some_and(|t| {
                t.purpose == crate::mail::TokenPurpose::VerifyEmail && t.email.as_str() == "new@example.com"
            });
            c.email.as_ref().map(|e| e.as_str()) == Some("new@example.com")
                && c.email_verified == Some(false)
                && c.name == Patch::Set("New".into())
                && link
                && effects.mails.len() == 1
                && effects.mails[0].to.as_str() == "new@example.com"
        })
        .times(1)
        .returning(move |_, _, _, _| Ok(Some(target.clone())));
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let input: UserPatchInput =
        serde_json::from_value(serde_json::json!({"email": "new@example.com", "name": "New"})).unwrap();
    s.users.patch(&admin, id, input).await.unwrap();
}

#[tokio::test]
async fn only_owners_grant_owner() {
    let mut m = Mocks::new();
    m.users.expect_create().never();
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let input: NewUserInput = serde_json::from_value(
        serde_json::json!({"email": "n@example.com", "password": "long enough", "role": "owner"}),
    )
    .unwrap();
    assert!(matches!(s.users.create(&admin, input, &ClientMeta::default()).await, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn keyset_lists_hand_out_a_cursor_that_decodes_to_the_last_row() {
    let rows: Vec<_> = (0..3).map(|i| user(&format!("u{i}@example.com"), "member")).collect();
    let last = rows[2].clone();
    let mut m = Mocks::new();
    m.users
        .expect_list()
        .withf(|q| q.paging == Paging::Keyset(None) && q.scope == Scope::Platform && !q.with_total)
        .times(1)
        .returning(move |q| {
            Ok(Page { items: rows.clone(), total: None, page: None, per_page: q.per_page, has_more: true })
        });
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let params =
        ListParams { after: Some(String::new()), per_page: Some(3), sort: Some("-email".into()), ..Default::default() };
    let list = s.users.list(&admin, &params).await.unwrap();
    let cursor = list.next_cursor.expect("a next cursor");
    // The same service decodes it for the same sort, and refuses it for another.
    let mut m = Mocks::new();
    m.users
        .expect_list()
        .withf(move |q| matches!(&q.paging, Paging::Keyset(Some(k)) if k.id == last.id))
        .returning(|q| Ok(Page { items: vec![], total: None, page: None, per_page: q.per_page, has_more: false }));
    let s = m.services(AuthPolicy::default());
    let next = ListParams { after: Some(cursor.clone()), ..params.clone() };
    assert!(s.users.list(&admin, &next).await.unwrap().next_cursor.is_none());
    let other_sort = ListParams { after: Some(cursor), sort: Some("email".into()), ..params };
    assert!(matches!(s.users.list(&admin, &other_sort).await, Err(Error::InvalidCursor(_))));
}

#[tokio::test]
async fn bad_filters_never_reach_the_store() {
    let mut m = Mocks::new();
    m.users.expect_list().never();
    m.users.expect_count().never();
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let params = ListParams { filter: Some("email eq".into()), ..Default::default() };
    assert!(matches!(s.users.list(&admin, &params).await, Err(Error::InvalidFilter(_))));
    assert!(matches!(s.users.count(&admin, &params).await, Err(Error::InvalidFilter(_))));
}

#[tokio::test]
async fn created_users_with_an_unverified_address_get_a_verification_link() {
    for (verified, status, links) in [(false, "active", 1), (true, "active", 0), (false, "inactive", 0)] {
        let mut m = Mocks::new().default_roles();
        m.hasher.expect_hash().returning(|_| Ok("$h".into()));
        m.users.expect_create().times(1).returning(move |rec, effects| {
            assert_eq!(effects.mails.len(), links);
            assert_eq!(effects.token.is_some(), links == 1);
            let mut u = user(rec.email.as_str(), "member");
            u.id = rec.id;
            Ok(u)
        });
        let s = m.services(AuthPolicy::default());
        let admin = principal(user("admin@example.com", "admin"), admin_perms());
        let input: NewUserInput = serde_json::from_value(serde_json::json!({
            "email": "n@example.com", "password": "long enough", "email_verified": verified, "status": status
        }))
        .unwrap();
        s.users.create(&admin, input, &ClientMeta::default()).await.unwrap();
    }
}

#[tokio::test]
async fn send_invite_creates_a_pending_user_through_an_invitation() {
    let mut m = Mocks::new().unlimited().default_roles();
    m.users.expect_create().never();
    m.hasher.expect_hash().never();
    m.accounts.expect_invite().times(1).returning(|inv, effects| {
        assert!(!inv.reinvite, "POST /users never takes over an existing pending user");
        assert_eq!(inv.user.fields.department, Patch::Set("Ops".into()));
        assert_eq!(effects.mails[0].template, crate::mail::MailTemplate::Invitation);
        let mut u = user(inv.user.email.as_str(), "member");
        u.status = UserStatus::Pending;
        let invitation = crate::mail::Invitation {
            id: inv.id,
            user_id: u.id,
            email: u.email.clone(),
            role: "member".into(),
            invited_by: inv.invited_by,
            status: crate::mail::InvitationStatus::Pending,
            created_at: now(),
            expires_at: inv.expires_at,
            accepted_at: None,
        };
        Ok((invitation, u))
    });
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let input: NewUserInput = serde_json::from_value(serde_json::json!({
        "email": "n@example.com", "send_invite": true, "profile": {"department": "Ops"}
    }))
    .unwrap();
    let created = s.users.create(&admin, input, &ClientMeta::default()).await.unwrap();
    assert_eq!(created.status, UserStatus::Pending);
}

#[tokio::test]
async fn admin_password_resets_skip_pending_and_banned_users() {
    for (status, ok) in [(UserStatus::Pending, false), (UserStatus::Banned, false), (UserStatus::Inactive, true)] {
        let mut target = user("t@example.com", "member");
        target.status = status;
        let id = target.id;
        let mut m = Mocks::new().unlimited();
        m.users.expect_get().returning(move |_| Ok(Some(target.clone())));
        m.accounts
            .expect_issue()
            .withf(|e| {
                matches!(&e.mails[0].template, crate::mail::MailTemplate::PasswordReset)
                    && subject_of(&e.mails[0]).starts_with("password_reset ")
            })
            .times(usize::from(ok))
            .returning(|_| Ok(()));
        let s = m.services(AuthPolicy::default());
        let admin = principal(user("admin@example.com", "admin"), admin_perms());
        let r = s.users.send_password_reset(&admin, id).await;
        assert_eq!(r.is_ok(), ok, "{status}: {r:?}");
        if !ok {
            assert!(matches!(r, Err(Error::InvalidState(_))));
        }
    }
}

#[tokio::test]
async fn admin_password_resets_count_against_the_forgot_limit_of_the_address() {
    let target = user("T@Example.com", "member");
    let id = target.id;
    let mut m = Mocks::new();
    m.users.expect_get().returning(move |_| Ok(Some(target.clone())));
    // The same key `forgot` counts "t@example.com" under, and no client IP:
    // one administrator resetting many users is not throttled as a client.
    let forgot_key = crate::service::throttle::address_key("forgot", "t@example.com");
    m.rate_limits.expect_hit().withf(move |k, _| *k == forgot_key).times(1).returning(|_, _| Ok(4));
    m.accounts.expect_issue().never();
    let mut policy = AuthPolicy::default();
    policy.accounts.limits.forgot =
        crate::mail::RateLimit { per_address: 3, per_ip: 10, window: chrono::Duration::hours(1) };
    let s = m.services(policy);
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    // The fixed clock is 12:00:00 sharp: the whole hour is left.
    match s.users.send_password_reset(&admin, id).await {
        Err(Error::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 3600),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn nobody_sends_a_password_reset_to_themselves() {
    let mut m = Mocks::new();
    m.users.expect_get().never();
    m.rate_limits.expect_hit().never();
    m.accounts.expect_issue().never();
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let mut root = principal(user("root@example.com", "owner"), admin_perms());
    root.is_superadmin = true;
    for p in [admin, root] {
        let r = s.users.send_password_reset(&p, p.user_id().unwrap()).await;
        assert!(matches!(r, Err(Error::Forbidden(Refusal::NotYourself))), "{r:?}");
    }
}

#[tokio::test]
async fn users_write_of_another_organization_edits_only_its_members() {
    // An owner of some tenant holds users:write there; signed into it, they
    // are no platform administrator: other users do not exist for them.
    let mut owner = user("tenant-owner@example.com", "member");
    owner.role = Some("owner".into());
    let mut p = principal(owner, admin_perms());
    let tenant = Uuid::now_v7();
    p.org_id = tenant;
    let mut m = Mocks::new();
    m.users.expect_get_in().withf(move |org, _| *org == tenant).returning(|_, _| Ok(None));
    m.users.expect_get().never();
    m.users.expect_update().never();
    m.users.expect_update_in().never();
    let s = m.services(AuthPolicy::default());
    let input: UserPatchInput = serde_json::from_value(serde_json::json!({"email": "mine@example.com"})).unwrap();
    assert!(matches!(s.users.patch(&p, Uuid::now_v7(), input).await, Err(Error::NotFound("user"))));
    let input: UserReplaceInput = serde_json::from_value(serde_json::json!({"email": "mine@example.com"})).unwrap();
    assert!(matches!(s.users.replace(&p, Uuid::now_v7(), input).await, Err(Error::NotFound("user"))));
}

#[tokio::test]
async fn nobody_grants_a_role_stronger_than_themselves() {
    let mut m = Mocks::new().default_roles();
    m.users.expect_create().never();
    m.hasher.expect_hash().never();
    let s = m.services(AuthPolicy::default());
    // A caller (a custom role, or an API key) who may write users but not delete them.
    let writer = principal(
        user("w@example.com", "member"),
        vec![Permission::UsersWrite.as_str().into(), Permission::UsersRead.as_str().into()],
    );
    let input = |role: &str| -> NewUserInput {
        serde_json::from_value(serde_json::json!({"email": "n@example.com", "password": "long enough", "role": role}))
            .unwrap()
    };
    for role in ["admin", "owner"] {
        let r = s.users.create(&writer, input(role), &ClientMeta::default()).await;
        assert!(matches!(r, Err(Error::Forbidden(_))), "{role}: {r:?}");
    }
}

#[tokio::test]
async fn new_users_bring_their_settings_and_push_token_to_the_one_write() {
    let venue = Uuid::now_v7();
    let mut m = Mocks::new().default_roles();
    m.hasher.expect_hash().returning(|_| Ok("$h".into()));
    m.locations.expect_get_location().returning(move |org, id| {
        Ok((org == crate::DEFAULT_ORG_ID && id == venue).then(|| crate::org::Location {
            id,
            org_id: org,
            name: "HQ".into(),
            timezone: "UTC".into(),
            keywords: vec![],
            created_at: now(),
            updated_at: now(),
        }))
    });
    m.users.expect_create().times(1).returning(move |rec, _| {
        let settings = rec.extras.settings.as_ref().expect("settings");
        assert_eq!(settings.settings.default_location_id, Some(venue));
        assert_eq!(settings.document["reminder_advance"], "P1W");
        let token = rec.extras.push_token.as_ref().expect("a push token");
        assert_eq!(token.token, "ExponentPushToken[abc]");
        let mut u = user(rec.email.as_str(), "member");
        u.id = rec.id;
        Ok(u)
    });
    let s = m.services(AuthPolicy::default());
    let admin = principal(user("admin@example.com", "admin"), admin_perms());
    let input = |location: Uuid| -> NewUserInput {
        serde_json::from_value(serde_json::json!({
            "email": "n@example.com", "password": "long enough",
            "settings": {"reminder_advance": "P7D", "default_location_id": location},
            "push_token": {"token": "ExponentPushToken[abc]", "provider": "expo"}
        }))
        .unwrap()
    };
    let r = s.users.create(&admin, input(Uuid::now_v7()), &ClientMeta::default()).await;
    let Err(Error::Validation(e)) = r else { panic!("a foreign location passed: {r:?}") };
    assert_eq!(e.fields().collect::<Vec<_>>(), ["settings.default_location_id"]);
    s.users.create(&admin, input(venue), &ClientMeta::default()).await.unwrap();
}
