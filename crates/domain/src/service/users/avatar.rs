//! A user's picture: set from an upload, removed, and found for
//! `GET /users/{id}/avatar`. The objects and their record are the image
//! service's; who may change whose picture is decided here.

use uuid::Uuid;

use crate::{auth::Principal, error::Error, user::User};

use super::{Reach, UserService};

impl UserService {
    /// Whether the caller may change user `id`'s picture, with the rules of
    /// [`Self::set_avatar`]: asked before an upload is read, so nobody
    /// uploads megabytes only to be refused (`set_avatar` asks again).
    pub async fn authorize_avatar_change(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        self.records_of(principal, id, true).await.map(|_| ())
    }

    /// Makes `upload` (a JPEG, PNG or WebP) user `id`'s picture, replacing
    /// any other, and answers the user with it: oneself, or whoever may edit
    /// the account (`users:write` where the caller acts, an owner for an
    /// owner, a superadmin for a superadmin, an organization only for
    /// accounts it manages). Errors: `ImageRefused` for what is not a
    /// picture Roster takes, `Forbidden`, `NotFound`, `Unavailable`
    /// (database or object store down: nothing recorded).
    pub async fn set_avatar(&self, principal: &Principal, id: Uuid, upload: Vec<u8>) -> Result<User, Error> {
        self.records_of(principal, id, true).await?;
        self.ports.images.attach(id, upload).await?;
        self.view(Reach::of(principal), id).await
    }

    /// Removes user `id`'s picture (nothing to do if there is none), with
    /// the same rules as [`Self::set_avatar`].
    pub async fn remove_avatar(&self, principal: &Principal, id: Uuid) -> Result<(), Error> {
        self.records_of(principal, id, true).await?;
        self.ports.images.detach(id).await?;
        Ok(())
    }

    /// The id of user `id`'s picture (`None`: the default image), for whoever
    /// may read the user: themselves, or `users:read` where the caller acts.
    pub async fn avatar_of(&self, principal: &Principal, id: Uuid) -> Result<Option<Uuid>, Error> {
        Ok(self.records_of(principal, id, false).await?.avatar.map(|a| a.id))
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use crate::{
        auth::Refusal,
        image::{ImageSize, Rendition},
        service::test_support::*,
        Error,
    };

    fn rendering(m: &mut Mocks) {
        m.processor.expect_render().returning(|_| {
            Ok(ImageSize::ALL
                .map(|size| Rendition {
                    size,
                    bytes: vec![1],
                    content_type: "image/jpeg".into(),
                    width: size.px(),
                    height: size.px(),
                    etag: "e".into(),
                })
                .to_vec())
        });
        m.blobs.expect_put().returning(|_, _, _| Ok(()));
    }

    #[tokio::test]
    async fn members_set_their_own_picture_without_any_permission() {
        let me = user("ada@example.com", "member");
        let id = me.id;
        let mut m = Mocks::new();
        rendering(&mut m);
        let copy = me.clone();
        m.users.expect_get().with(eq(id)).returning(move |_| Ok(Some(copy.clone())));
        m.images.expect_attach().withf(move |u, _, _| *u == id).times(1).returning(|_, _, _| Ok(true));
        let s = m.services(AuthPolicy::default());
        s.users.set_avatar(&principal(me, vec![]), id, vec![1]).await.unwrap();
    }

    #[tokio::test]
    async fn another_users_picture_takes_users_write_and_is_checked_before_any_work() {
        let me = user("ada@example.com", "member");
        let other = user("bob@example.com", "member");
        let mut m = Mocks::new();
        m.processor.expect_render().never();
        m.images.expect_detach().never();
        let s = m.services(AuthPolicy::default());
        let caller = principal(me, vec![]);
        let e = s.users.set_avatar(&caller, other.id, vec![1]).await.unwrap_err();
        assert!(matches!(e, Error::Forbidden(Refusal::MissingPermission(_))), "{e:?}");
        let e = s.users.remove_avatar(&caller, other.id).await.unwrap_err();
        assert!(matches!(e, Error::Forbidden(Refusal::MissingPermission(_))), "{e:?}");
    }

    #[tokio::test]
    async fn an_admin_cannot_change_a_superadmins_picture() {
        let mut boss = user("root@example.com", "owner");
        boss.is_superadmin = true;
        let id = boss.id;
        let mut m = Mocks::new();
        m.users.expect_get().returning(move |_| Ok(Some(boss.clone())));
        m.processor.expect_render().never();
        let s = m.services(AuthPolicy::default());
        let admin = principal(user("admin@example.com", "admin"), admin_perms());
        let e = s.users.set_avatar(&admin, id, vec![1]).await.unwrap_err();
        assert!(matches!(e, Error::Forbidden(Refusal::SuperadminOnly)), "{e:?}");
    }
}
