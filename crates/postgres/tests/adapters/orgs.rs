//! Organizations in `PgOrgRepository`, their roles and registered
//! permissions in `PgRoleRepository`.

#![allow(clippy::unwrap_used)]

use crate::common::{at, location, member, new_role, org, role, setup, strings, Ctx};
use diesel_async::RunQueryDsl;
use roster_domain::auth::Permission;
use roster_domain::org::{MemberChange, OrgPatch, RolePatch};
use roster_domain::ports::{
    LocationRepository, MemberRepository, OrganizationRepository, RoleRepository, UserRepository,
};
use roster_domain::{Conflict, Patch, RepoError, DEFAULT_ORG_ID};
use roster_postgres::{owner_permissions, ADMIN_PERMISSIONS};
use uuid::Uuid;

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| name(i).to_owned()).collect()
}

#[tokio::test]
async fn create_org_makes_the_builtin_roles_and_the_owner() {
    let ctx = setup().await;
    let boss = member(&ctx, "boss@example.com", None, at(0)).await;
    let acme = ctx.orgs.create_org(Uuid::now_v7(), "Acme", "acme", Some(boss.id), at(5)).await.unwrap();
    assert_eq!((acme.name.as_str(), acme.slug.as_str(), acme.is_default), ("Acme", "acme", false));
    assert_eq!((acme.created_at, acme.updated_at), (at(5), at(5)));
    assert_eq!(ctx.orgs.get_org(acme.id).await.unwrap(), Some(acme.clone()));

    let roles = ctx.roles.list_roles(acme.id).await.unwrap();
    assert_eq!(names(&roles, |r| &r.name), ["admin", "member", "owner"]);
    assert!(roles.iter().all(|r| r.builtin && !r.requires_location && r.org_id == acme.id && r.created_at == at(5)));
    let owner = role(&ctx, acme.id, "owner").await;
    assert_eq!(owner.permissions, owner_permissions());
    assert_eq!(owner.description.as_deref(), Some("Full control of the organization"));
    assert_eq!(role(&ctx, acme.id, "admin").await.permissions, strings(&ADMIN_PERMISSIONS.map(Permission::as_str)));
    assert!(role(&ctx, acme.id, "member").await.permissions.is_empty());

    let m = ctx.members.membership(acme.id, boss.id).await.unwrap().unwrap();
    let mut catalogue: Vec<String> = Permission::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    catalogue.sort();
    assert_eq!((m.org_id, m.user_id, m.role.as_str()), (acme.id, boss.id, "owner"));
    assert_eq!(m.permissions, catalogue);
    let member = ctx.members.get_member(acme.id, boss.id).await.unwrap().unwrap();
    assert_eq!((member.role.as_str(), member.location_id, member.created_at), ("owner", None, at(5)));

    // Without an owner there is no member; the default organization's
    // built-in roles have the same permissions (migration 000006).
    let empty = org(&ctx, "empty", None).await;
    assert_eq!(ctx.members.membership(empty.id, boss.id).await.unwrap(), None);
    assert_eq!(role(&ctx, DEFAULT_ORG_ID, "owner").await.permissions, owner_permissions());
    assert_eq!(
        role(&ctx, DEFAULT_ORG_ID, "admin").await.permissions,
        strings(&ADMIN_PERMISSIONS.map(Permission::as_str))
    );
    assert!(role(&ctx, DEFAULT_ORG_ID, "member").await.permissions.is_empty());
}

#[tokio::test]
async fn slugs_are_unique_and_orgs_can_be_renamed() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let r = ctx.orgs.create_org(Uuid::now_v7(), "Other Acme", "acme", None, at(1)).await;
    assert_eq!(r, Err(RepoError::Conflict(Conflict::SlugTaken)));
    let r = ctx.orgs.create_org(Uuid::now_v7(), "Default again", "default", None, at(1)).await;
    assert_eq!(r, Err(RepoError::Conflict(Conflict::SlugTaken)));
    // Nothing of the refused organization was written.
    assert_eq!(ctx.orgs.list_orgs(None, 1, 50).await.unwrap().total, Some(2));

    let globex = org(&ctx, "globex", None).await;
    let taken = OrgPatch { slug: Some("acme".into()), ..OrgPatch::default() };
    assert_eq!(ctx.orgs.update_org(globex.id, &taken, at(2)).await, Err(RepoError::Conflict(Conflict::SlugTaken)));
    let patch =
        OrgPatch { name: Some("Globex Corporation".into()), slug: Some("globex-corp".into()), ..OrgPatch::default() };
    let renamed = ctx.orgs.update_org(globex.id, &patch, at(3)).await.unwrap().unwrap();
    assert_eq!((renamed.name.as_str(), renamed.slug.as_str()), ("Globex Corporation", "globex-corp"));
    assert_eq!((renamed.created_at, renamed.updated_at), (at(0), at(3)));
    let only_name = OrgPatch { name: Some("Acme Inc".into()), ..OrgPatch::default() };
    let acme2 = ctx.orgs.update_org(acme.id, &only_name, at(4)).await.unwrap().unwrap();
    assert_eq!((acme2.name.as_str(), acme2.slug.as_str(), acme2.updated_at), ("Acme Inc", "acme", at(4)));
    assert_eq!(ctx.orgs.update_org(Uuid::now_v7(), &patch, at(5)).await.unwrap(), None);
}

#[tokio::test]
async fn list_orgs_all_or_a_members_by_name_in_pages() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let bob = member(&ctx, "bob@example.com", None, at(0)).await;
    let zeta = ctx.orgs.create_org(Uuid::now_v7(), "zeta", "zeta", Some(ada.id), at(0)).await.unwrap();
    let beta = ctx.orgs.create_org(Uuid::now_v7(), "Beta", "beta", Some(bob.id), at(0)).await.unwrap();
    let alpha = ctx.orgs.create_org(Uuid::now_v7(), "alpha", "alpha", Some(ada.id), at(0)).await.unwrap();
    let member_role = role(&ctx, beta.id, "member").await;
    ctx.members.add_member(beta.id, ada.id, member_role.id, None, at(1)).await.unwrap();

    let all = ctx.orgs.list_orgs(None, 1, 10).await.unwrap();
    assert_eq!(names(&all.items, |o| &o.name), ["alpha", "Beta", "Default", "zeta"]);
    assert_eq!((all.total, all.page, all.per_page, all.has_more), (Some(4), Some(1), 10, false));
    assert_eq!(all.items[0], alpha);

    // Ada is a member of the default organization too (as every user made
    // through the directory).
    let adas = ctx.orgs.list_orgs(Some(ada.id), 1, 10).await.unwrap();
    assert_eq!(names(&adas.items, |o| &o.slug), ["alpha", "beta", "default", "zeta"]);
    let first = ctx.orgs.list_orgs(Some(bob.id), 1, 1).await.unwrap();
    assert_eq!((names(&first.items, |o| &o.slug), first.total, first.has_more), (strings(&["beta"]), Some(2), true));
    let second = ctx.orgs.list_orgs(Some(bob.id), 2, 1).await.unwrap();
    assert_eq!((names(&second.items, |o| &o.slug), second.has_more), (strings(&["default"]), false));

    let p2 = ctx.orgs.list_orgs(None, 2, 3).await.unwrap();
    assert_eq!((p2.items.len(), p2.items[0].id, p2.total, p2.has_more), (1, zeta.id, Some(4), false));
    let past = ctx.orgs.list_orgs(None, 9, 3).await.unwrap();
    assert_eq!((past.items.len(), past.total, past.page, past.has_more), (0, Some(4), Some(9), false));
    assert_eq!(ctx.orgs.list_orgs(Some(Uuid::now_v7()), 1, 10).await.unwrap().total, Some(0));
}

#[tokio::test]
async fn delete_org_takes_its_rows_but_not_its_users() {
    let ctx = setup().await;
    let boss = member(&ctx, "boss@example.com", None, at(0)).await;
    let staff = member(&ctx, "staff@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", Some(boss.id)).await;
    let desk = ctx.roles.create_role(&new_role(acme.id, "desk", &["beacons:toggle"])).await.unwrap();
    ctx.roles.register_permission(acme.id, "beacons:toggle", None, at(1)).await.unwrap();
    let hq = ctx.locations.create_location(&location(acme.id, "HQ", &[], 1)).await.unwrap();
    ctx.members.add_member(acme.id, staff.id, desk.id, Some(hq.id), at(2)).await.unwrap();
    // An invitation naming one of its roles would block the delete.
    insert_invitation(&ctx, desk.id).await;

    assert!(ctx.orgs.delete_org(acme.id).await.unwrap());
    assert_eq!(ctx.orgs.get_org(acme.id).await.unwrap(), None);
    assert!(ctx.roles.list_roles(acme.id).await.unwrap().is_empty());
    assert!(ctx.roles.list_permissions(acme.id).await.unwrap().is_empty());
    assert_eq!(ctx.locations.get_location(acme.id, hq.id).await.unwrap(), None);
    assert_eq!(ctx.members.get_member(acme.id, staff.id).await.unwrap(), None);
    assert_eq!(ctx.members.membership(acme.id, boss.id).await.unwrap(), None);
    assert!(ctx.users.get(boss.id).await.unwrap().is_some());
    assert!(ctx.users.get(staff.id).await.unwrap().is_some());
    assert!(ctx.members.membership(DEFAULT_ORG_ID, staff.id).await.unwrap().is_some());
    assert!(!ctx.orgs.delete_org(acme.id).await.unwrap());

    // The default organization is never deleted, even when asked.
    assert!(!ctx.orgs.delete_org(DEFAULT_ORG_ID).await.unwrap());
    assert!(ctx.orgs.get_org(DEFAULT_ORG_ID).await.unwrap().is_some());
    assert_eq!(ctx.roles.list_roles(DEFAULT_ORG_ID).await.unwrap().len(), 3);
    assert!(ctx.members.membership(DEFAULT_ORG_ID, boss.id).await.unwrap().is_some());
}

/// An invitation (of no real user) to `role`.
async fn insert_invitation(ctx: &Ctx, role: Uuid) {
    use diesel::ExpressionMethods;
    use roster_postgres::schema::invitations as inv;
    let mut c = ctx.pool.get().await.unwrap();
    diesel::insert_into(inv::table)
        .values((
            inv::id.eq(Uuid::now_v7()),
            inv::user_id.eq(Uuid::now_v7()),
            inv::email.eq("invited@example.com"),
            inv::role_id.eq(role),
            inv::created_at.eq(at(0)),
            inv::expires_at.eq(at(3600)),
        ))
        .execute(&mut c)
        .await
        .unwrap();
}

#[tokio::test]
async fn roles_crud_with_unique_names() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let new = new_role(acme.id, "front-desk", &["beacons:toggle", "users:read"]);
    let desk = ctx.roles.create_role(&new).await.unwrap();
    assert_eq!((desk.id, desk.org_id, desk.name.as_str(), desk.builtin), (new.id, acme.id, "front-desk", false));
    assert_eq!((desk.description.as_deref(), desk.created_at), (Some("The front-desks"), at(1)));
    assert_eq!(desk.permissions, strings(&["beacons:toggle", "users:read"]));
    assert_eq!(ctx.roles.get_role(acme.id, desk.id).await.unwrap(), Some(desk.clone()));
    assert_eq!(ctx.roles.role_by_name(acme.id, "front-desk").await.unwrap(), Some(desk.clone()));
    assert_eq!(ctx.roles.role_by_name(acme.id, "nobody").await.unwrap(), None);

    let taken = ctx.roles.create_role(&new_role(acme.id, "front-desk", &[])).await;
    assert_eq!(taken, Err(RepoError::Conflict(Conflict::RoleNameTaken)));
    let taken = ctx.roles.create_role(&new_role(acme.id, "owner", &[])).await;
    assert_eq!(taken, Err(RepoError::Conflict(Conflict::RoleNameTaken)));
    let mut venue = new_role(acme.id, "bartender", &[]);
    venue.requires_location = true;
    venue.description = None;
    let bar = ctx.roles.create_role(&venue).await.unwrap();
    assert!(bar.requires_location && bar.description.is_none());
    let listed = ctx.roles.list_roles(acme.id).await.unwrap();
    assert_eq!(names(&listed, |r| &r.name), ["admin", "member", "owner", "bartender", "front-desk"]);

    let rename = RolePatch { name: Some("bartender".into()), ..RolePatch::default() };
    let r = ctx.roles.update_role(acme.id, desk.id, &rename).await;
    assert_eq!(r, Err(RepoError::Conflict(Conflict::RoleNameTaken)));
    let patch = RolePatch {
        name: Some("reception".into()),
        title: Patch::Keep,
        description: Patch::Set("Greets guests".into()),
        permissions: Some(strings(&["metrics:view"])),
        requires_location: Some(true),
    };
    let changed = ctx.roles.update_role(acme.id, desk.id, &patch).await.unwrap().unwrap();
    assert_eq!((changed.name.as_str(), changed.description.as_deref()), ("reception", Some("Greets guests")));
    assert_eq!((changed.permissions.clone(), changed.requires_location), (strings(&["metrics:view"]), true));
    assert_eq!(changed.created_at, desk.created_at);
    // Keep leaves the description, Clear removes it; an empty patch changes nothing.
    let keep = RolePatch { requires_location: Some(false), ..RolePatch::default() };
    let kept = ctx.roles.update_role(acme.id, desk.id, &keep).await.unwrap().unwrap();
    assert_eq!((kept.description.as_deref(), kept.requires_location), (Some("Greets guests"), false));
    let clear = RolePatch { description: Patch::Clear, permissions: Some(Vec::new()), ..RolePatch::default() };
    let cleared = ctx.roles.update_role(acme.id, desk.id, &clear).await.unwrap().unwrap();
    assert_eq!((cleared.description.clone(), cleared.permissions.len()), (None, 0));
    assert_eq!(ctx.roles.update_role(acme.id, desk.id, &RolePatch::default()).await.unwrap(), Some(cleared));
    assert_eq!(ctx.roles.update_role(acme.id, Uuid::now_v7(), &patch).await.unwrap(), None);
    assert_eq!(ctx.roles.update_role(acme.id, Uuid::now_v7(), &RolePatch::default()).await.unwrap(), None);

    assert!(ctx.roles.delete_role(acme.id, desk.id).await.unwrap());
    assert_eq!(ctx.roles.get_role(acme.id, desk.id).await.unwrap(), None);
    assert!(!ctx.roles.delete_role(acme.id, desk.id).await.unwrap());
}

#[tokio::test]
async fn roles_of_another_org_are_not_found() {
    let ctx = setup().await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let desk = ctx.roles.create_role(&new_role(acme.id, "desk", &["users:read"])).await.unwrap();
    // Same name in another organization is fine.
    ctx.roles.create_role(&new_role(globex.id, "desk", &[])).await.unwrap();

    assert_eq!(ctx.roles.get_role(globex.id, desk.id).await.unwrap(), None);
    let patch = RolePatch { name: Some("hijacked".into()), permissions: Some(Vec::new()), ..RolePatch::default() };
    assert_eq!(ctx.roles.update_role(globex.id, desk.id, &patch).await.unwrap(), None);
    assert!(!ctx.roles.delete_role(globex.id, desk.id).await.unwrap());
    let owner = role(&ctx, acme.id, "owner").await;
    assert!(!ctx.roles.delete_role(globex.id, owner.id).await.unwrap());
    assert_eq!(ctx.roles.get_role(acme.id, desk.id).await.unwrap(), Some(desk));
    assert_eq!(ctx.roles.get_role(acme.id, owner.id).await.unwrap(), Some(owner));
    assert_ne!(role(&ctx, globex.id, "desk").await.id, role(&ctx, acme.id, "desk").await.id);
}

#[tokio::test]
async fn roles_in_use_cannot_be_deleted() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let desk = ctx.roles.create_role(&new_role(acme.id, "desk", &[])).await.unwrap();
    ctx.members.add_member(acme.id, ada.id, desk.id, None, at(1)).await.unwrap();
    assert_eq!(ctx.roles.delete_role(acme.id, desk.id).await, Err(RepoError::Conflict(Conflict::InUse)));
    assert!(ctx.roles.get_role(acme.id, desk.id).await.unwrap().is_some());
    let member_role = role(&ctx, acme.id, "member").await;
    let change = MemberChange { role_id: Some(member_role.id), ..MemberChange::default() };
    ctx.members.update_member(acme.id, ada.id, &change).await.unwrap();

    // An invitation holds a role as well.
    insert_invitation(&ctx, desk.id).await;
    assert_eq!(ctx.roles.delete_role(acme.id, desk.id).await, Err(RepoError::Conflict(Conflict::InUse)));
    let bar = ctx.roles.create_role(&new_role(acme.id, "bar", &[])).await.unwrap();
    assert!(ctx.roles.delete_role(acme.id, bar.id).await.unwrap());
}

#[tokio::test]
async fn permissions_register_list_and_delete_unless_held() {
    let ctx = setup().await;
    let ada = member(&ctx, "ada@example.com", None, at(0)).await;
    let acme = org(&ctx, "acme", None).await;
    let globex = org(&ctx, "globex", None).await;
    let toggle = ctx.roles.register_permission(acme.id, "beacons:toggle", Some("Turn beacons on".into()), at(1)).await;
    let toggle = toggle.unwrap();
    assert_eq!(
        (toggle.name.as_str(), toggle.description.as_deref(), toggle.org_id),
        ("beacons:toggle", Some("Turn beacons on"), Some(acme.id))
    );
    let again = ctx.roles.register_permission(acme.id, "beacons:toggle", None, at(2)).await;
    assert_eq!(again, Err(RepoError::Conflict(Conflict::PermissionTaken)));
    ctx.roles.register_permission(acme.id, "metrics:view", None, at(2)).await.unwrap();
    ctx.roles.register_permission(acme.id, "alarms:arm", None, at(2)).await.unwrap();
    ctx.roles.register_permission(globex.id, "beacons:toggle", None, at(2)).await.unwrap();
    let listed = ctx.roles.list_permissions(acme.id).await.unwrap();
    assert_eq!(names(&listed, |p| &p.name), ["alarms:arm", "beacons:toggle", "metrics:view"]);
    assert!(listed.iter().all(|p| p.org_id == Some(acme.id)));
    assert_eq!(ctx.roles.list_permissions(globex.id).await.unwrap().len(), 1);
    assert!(ctx.roles.list_permissions(DEFAULT_ORG_ID).await.unwrap().is_empty());

    // Held by a role: in use. A role of another organization does not count.
    let desk = ctx.roles.create_role(&new_role(acme.id, "desk", &["users:read", "beacons:toggle"])).await.unwrap();
    ctx.roles.create_role(&new_role(globex.id, "desk", &["metrics:view"])).await.unwrap();
    assert_eq!(ctx.roles.delete_permission(acme.id, "beacons:toggle").await, Err(RepoError::Conflict(Conflict::InUse)));
    let drop_it = RolePatch { permissions: Some(strings(&["users:read"])), ..RolePatch::default() };
    ctx.roles.update_role(acme.id, desk.id, &drop_it).await.unwrap();

    // Held by a member as an extra permission: in use.
    ctx.members.add_member(acme.id, ada.id, desk.id, None, at(3)).await.unwrap();
    let extra = MemberChange { extra_permissions: Some(strings(&["beacons:toggle"])), ..MemberChange::default() };
    ctx.members.update_member(acme.id, ada.id, &extra).await.unwrap();
    assert_eq!(ctx.roles.delete_permission(acme.id, "beacons:toggle").await, Err(RepoError::Conflict(Conflict::InUse)));
    assert_eq!(ctx.roles.list_permissions(acme.id).await.unwrap().len(), 3);
    let none = MemberChange { extra_permissions: Some(Vec::new()), ..MemberChange::default() };
    ctx.members.update_member(acme.id, ada.id, &none).await.unwrap();

    assert!(ctx.roles.delete_permission(acme.id, "beacons:toggle").await.unwrap());
    assert!(ctx.roles.delete_permission(acme.id, "metrics:view").await.unwrap());
    assert!(!ctx.roles.delete_permission(acme.id, "beacons:toggle").await.unwrap());
    assert!(!ctx.roles.delete_permission(acme.id, "never:registered").await.unwrap());
    assert_eq!(names(&ctx.roles.list_permissions(acme.id).await.unwrap(), |p| &p.name), ["alarms:arm"]);
    assert_eq!(ctx.roles.list_permissions(globex.id).await.unwrap().len(), 1);
}
