//! Keyset paging: walking every page equals the offset-ordered list, and
//! rows inserted while walking neither make pre-existing rows skipped nor
//! repeated.

use std::time::Duration;

use super::*;
use UserSortField::*;

/// 30 users with tied creation times, NULL and repeated names, NULL and
/// tied logins, every status and varied update times; half of them in A.
async fn crowd() -> Ctx {
    let ctx = setup().await;
    org(&ctx, ORG_A, "org-a", &["viewer"]).await;
    let statuses = [UserStatus::Active, UserStatus::Pending, UserStatus::Inactive, UserStatus::Banned];
    let mut c = ctx.pool.get().await.unwrap();
    for i in 0..30i64 {
        let u = person(&ctx, &format!("u{:02}@example.com", (i * 7) % 30), i / 3, |r| {
            r.status = statuses[(i % 4) as usize];
            if i % 4 != 0 {
                r.fields.name = Patch::Set(format!("Name {}", i % 5));
            }
            if i % 3 != 0 {
                r.fields.family_name = Patch::Set(format!("Fam {}", i % 4));
                r.fields.given_name = Patch::Set(format!("Giv {}", i % 2));
            }
        })
        .await;
        let login = (i % 5 != 0).then(|| at(1000 + (i % 6) * 10));
        diesel::update(users::table.find(u.id))
            .set((users::last_login_at.eq(login), users::updated_at.eq(at(100 - i % 7))))
            .execute(&mut c)
            .await
            .unwrap();
        if i % 2 == 0 {
            join(&ctx, ORG_A, "viewer", u.id).await;
        }
    }
    ctx
}

fn cursor(sort: &[SortKey], last: &User) -> Keyset {
    Keyset { values: sort.iter().map(|k| k.field.value_of(last)).collect(), id: last.id }
}

/// Every page of `q` by keyset, checking `has_more`; the ids in order.
async fn walk(ctx: &Ctx, mut q: UserListQuery) -> Vec<Uuid> {
    q.paging = Paging::Keyset(None);
    let mut ids = Vec::new();
    loop {
        let page = ctx.users.list(&q).await.unwrap();
        assert!(page.items.len() <= q.per_page as usize);
        assert_eq!(page.page, None);
        ids.extend(page.items.iter().map(|u| u.id));
        if !page.has_more {
            return ids;
        }
        assert_eq!(page.items.len(), q.per_page as usize, "only the last page is short");
        let last = page.items.last().unwrap();
        q.paging = Paging::Keyset(Some(cursor(&q.sort, last)));
    }
}

async fn offset_ids(ctx: &Ctx, q: &UserListQuery) -> Vec<Uuid> {
    let q = UserListQuery { per_page: 1000, paging: Paging::Offset { page: 1 }, ..q.clone() };
    ctx.users.list(&q).await.unwrap().items.into_iter().map(|u| u.id).collect()
}

#[tokio::test]
async fn keyset_walks_equal_the_offset_order() {
    let ctx = crowd().await;
    let sorts: [&[(UserSortField, bool)]; 11] = [
        &[(CreatedAt, false)],
        &[(CreatedAt, true)],
        &[(Email, false)],
        &[(Status, false), (CreatedAt, false)],
        &[(Name, false)],
        &[(Name, true)],
        &[(LastLoginAt, false), (Email, true)],
        &[(Status, false), (LastLoginAt, true)],
        &[(FamilyName, true), (GivenName, false), (CreatedAt, true)],
        &[(UpdatedAt, true), (Name, false)],
        &[(GivenName, false), (LastLoginAt, false), (FamilyName, true)],
    ];
    let filtered = UserFilter { status: vec![UserStatus::Active, UserStatus::Banned], ..Default::default() };
    for sort in sorts {
        for (scope, filter) in [(Scope::Platform, UserFilter::default()), (Scope::Org(ORG_A), filtered.clone())] {
            for per_page in [1, 4, 7] {
                let mut q = query(scope, filter.clone(), sort, per_page, Paging::Keyset(None));
                q.with_total = per_page == 4;
                let expected = offset_ids(&ctx, &q).await;
                assert_eq!(expected.len(), if scope == Scope::Platform { 30 } else { 8 });
                assert_eq!(walk(&ctx, q).await, expected, "sort {sort:?}, {scope:?}, per page {per_page}");
            }
        }
    }
}

/// Walks `sort` in pages of 3 and, between pages, inserts a user sorting
/// before the cursor (`early`) and one after it (`late`), while another
/// task keeps inserting users anywhere.
async fn walk_while_inserting(ctx: &Ctx, sort: &[(UserSortField, bool)], tag: &str) {
    let q = query(Scope::Platform, UserFilter::default(), sort, 3, Paging::Keyset(None));
    let before = offset_ids(ctx, &q).await;
    let users = ctx.users.clone();
    let noise_tag = tag.to_owned();
    let noise = tokio::spawn(async move {
        for i in 0..20 {
            let mut r = new_user(&format!("noise{i}-{noise_tag}@example.com"), BuiltinRole::Member, at(i * 3 % 11));
            if i % 2 == 0 {
                r.fields.name = Patch::Set(format!("Name {}", i % 5));
            }
            users.create(&r, &Effects::none()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let mut late = Vec::new();
    let mut seen = Vec::new();
    let mut q = q;
    for round in 0.. {
        let page = ctx.users.list(&q).await.unwrap();
        seen.extend(page.items.iter().map(|u| u.id));
        if !page.has_more {
            break;
        }
        q.paging = Paging::Keyset(Some(cursor(&q.sort, page.items.last().unwrap())));
        // Created first / named first: before the cursor in both sorts.
        person(ctx, &format!("early{round}-{tag}@example.com"), 10_000 + round, |r| {
            r.fields.name = Patch::Set(format!("AAAA {round}"));
        })
        .await;
        // Created last / no name: after the cursor in both sorts.
        late.push(person(ctx, &format!("late{round}-{tag}@example.com"), -10_000 - round, |_| ()).await.id);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    noise.await.unwrap();
    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no row is repeated ({sort:?})");
    for id in before.iter().chain(&late) {
        assert!(unique.contains(id), "row {id} was skipped ({sort:?})");
    }
}

#[tokio::test]
async fn keyset_paging_neither_skips_nor_repeats_while_rows_are_inserted() {
    let ctx = crowd().await;
    walk_while_inserting(&ctx, &[(CreatedAt, true)], "created").await;
    walk_while_inserting(&ctx, &[(Name, false)], "name").await;
}
