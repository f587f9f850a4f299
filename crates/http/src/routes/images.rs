//! Pictures: `GET /api/v1/images/{id}` serves one size of an image (or of
//! the default image, `null`) to anyone, since image ids are random and
//! unguessable and an `<img src>` carries no bearer token; `PUT`/`DELETE
//! /me/avatar` and `/users/{id}/avatar` change a user's picture, and `GET
//! /users/{id}/avatar` redirects to it. Who may change whose picture is the
//! domain's (`UserService::set_avatar`).

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use roster_domain::{
    image::{image_path, ImageSize},
    service::{ImageBytes, Served},
    user::User,
    Error as DomainError, ValidationErrors,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::resource;
use crate::{
    error::{ApiError, BadRequest, BodyErrors, Forbidden, NotFound, ServerErrors, Unauthorized},
    extract::{parse_query, path_id, query_pairs, read_image, Authenticated},
    AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/images/{id}", "GET, HEAD").route(web::get().to(get_image)))
        .service(
            resource("/me/avatar", "PUT, DELETE")
                .route(web::put().to(put_my_avatar))
                .route(web::delete().to(delete_my_avatar)),
        )
        .service(
            resource("/users/{id}/avatar", "GET, HEAD, PUT, DELETE")
                .route(web::get().to(get_user_avatar))
                .route(web::put().to(put_user_avatar))
                .route(web::delete().to(delete_user_avatar)),
        );
}

/// An immutable image is cached for a year; the default image, which a new
/// version of Roster may change, for a day.
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
const CACHE_DEFAULT: &str = "public, max-age=86400";

/// The bytes of a picture (always a JPEG, whatever was uploaded).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Picture(#[allow(dead_code)] Vec<u8>);

/// A picture sent as a form, as an HTML form or seed 000 sends it.
#[derive(ToSchema)]
pub struct AvatarForm {
    /// The picture: a JPEG, PNG or WebP file (judged by its content).
    #[schema(value_type = String, format = Binary)]
    #[allow(dead_code)]
    image: Vec<u8>,
}

/// The sizes a picture is served at (`size=`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum PictureSize {
    /// 64×64
    Thumbnail,
    /// 128×128
    Low,
    /// 256×256, the default
    Mid,
    /// 512×512
    High,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SizeQuery {
    #[serde(default)]
    size: Option<String>,
}

/// The `size` query parameter (`mid` when absent).
fn size_param(req: &HttpRequest) -> Result<ImageSize, ApiError> {
    let q: SizeQuery = parse_query(&query_pairs(req.query_string())?)?;
    match q.size {
        None => Ok(ImageSize::default()),
        Some(raw) => ImageSize::parse(&raw).ok_or_else(|| {
            let mut errors = ValidationErrors::new();
            errors.add("size", "must be one of `thumbnail`, `low`, `mid`, `high`");
            ApiError::Domain(DomainError::InvalidQuery(errors))
        }),
    }
}

fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// One size of image `id` (`null`: the default image). Needs no token: ids
/// are random and unguessable, so a user answer's `avatar.urls` work in
/// `<img src>`. Answers carry a strong `ETag` (the content hash) and are
/// cacheable (`immutable` for a year; the default image for a day); with a
/// matching `If-None-Match`, `304`.
#[utoipa::path(
    get, path = "/api/v1/images/{id}", tag = "images",
    params(
        ("id" = String, Path, description = "Image id (a UUID), or `null` for the default image"),
        ("size" = Option<PictureSize>, Query, description = "`thumbnail` (64 px), `low` (128), `mid` (256, the default) or `high` (512)"),
        ("If-None-Match" = Option<String>, Header, description = "Entity tags of copies the client has"),
    ),
    responses(
        (status = 200, description = "The picture, a square JPEG", content_type = "image/jpeg", body = Picture,
            headers(
                ("ETag" = String, description = "The content hash"),
                ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`; a day for the default image"),
            )),
        (status = 304, description = "The client's copy is current",
            headers(("ETag" = String, description = "The content hash"))),
        BadRequest,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get_image(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let id = match req.match_info().get("id") {
        Some("null") => None,
        _ => Some(path_id(&req, "image")?),
    };
    let size = size_param(&req)?;
    let tags = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    Ok(match state.services.images.serve(id, size, tags).await? {
        Served::NotModified { etag, immutable } => HttpResponse::NotModified()
            .insert_header((header::ETAG, quoted(&etag)))
            .insert_header((header::CACHE_CONTROL, if immutable { CACHE_IMMUTABLE } else { CACHE_DEFAULT }))
            .finish(),
        Served::Image(ImageBytes { bytes, content_type, etag, immutable }) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::ETAG, quoted(&etag)))
            .insert_header((header::CACHE_CONTROL, if immutable { CACHE_IMMUTABLE } else { CACHE_DEFAULT }))
            .body(bytes),
    })
}

/// Set the caller's picture from a JPEG, PNG or WebP (at most
/// `images.max_upload_bytes`, 10 MiB by default, 8,192 px a side and 40
/// megapixels): sent as `multipart/form-data` with the field `image`, or as
/// the body with its image type. Its EXIF orientation is applied, it is
/// cropped square at the centre and stored at 64, 128, 256 and 512 px with
/// every piece of metadata (EXIF, GPS, XMP, ICC) removed. The type is judged
/// from the bytes: anything else is `415 unsupported_image`; a larger
/// picture `422 image_too_large`; a truncated or corrupt one `422
/// invalid_image`. Replaces (and deletes) any previous picture.
#[utoipa::path(
    put, path = "/api/v1/me/avatar", tag = "me", security(("bearer" = [])),
    request_body(content(
        (AvatarForm = "multipart/form-data"),
        (Picture = "image/jpeg"),
        (Picture = "image/png"),
        (Picture = "image/webp"),
    )),
    responses(
        (status = 200, description = "The caller, with the new picture", body = User),
        BadRequest,
        Unauthorized,
        Forbidden,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn put_my_avatar(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (me, _) = principal.signed_in()?;
    let id = me.id;
    state.services.users.authorize_avatar_change(&principal, id).await?;
    let upload = read_image(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.users.set_avatar(&principal, id, upload).await?))
}

/// Remove the caller's picture (`204` also when there was none); its files
/// are deleted from the object store shortly after.
#[utoipa::path(
    delete, path = "/api/v1/me/avatar", tag = "me", security(("bearer" = [])),
    responses(
        (status = 204, description = "The caller has no picture"),
        Unauthorized,
        Forbidden,
        ServerErrors,
    )
)]
pub(crate) async fn delete_my_avatar(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (me, _) = principal.signed_in()?;
    let id = me.id;
    state.services.users.remove_avatar(&principal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Redirect (`302`) to one size of a user's picture, or of the default
/// image when they have none: for oneself, or with `users:read` anyone the
/// caller's organization sees.
#[utoipa::path(
    get, path = "/api/v1/users/{id}/avatar", tag = "users", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "User id"),
        ("size" = Option<PictureSize>, Query, description = "`thumbnail`, `low`, `mid` (the default) or `high`"),
    ),
    responses(
        (status = 302, description = "Where the picture is served",
            headers(("Location" = String, description = "`/api/v1/images/{id}?size=…`, or `/api/v1/images/null?size=…`"))),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn get_user_avatar(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    let size = size_param(&req)?;
    let image = state.services.users.avatar_of(&principal, id).await?;
    Ok(HttpResponse::build(StatusCode::FOUND)
        .insert_header((header::LOCATION, image_path(image, size)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// Set a user's picture, as `PUT /me/avatar` does: oneself, or with
/// `users:write` where the caller acts (an organization only for accounts
/// it manages, `403 not_managed` otherwise).
#[utoipa::path(
    put, path = "/api/v1/users/{id}/avatar", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body(content(
        (AvatarForm = "multipart/form-data"),
        (Picture = "image/jpeg"),
        (Picture = "image/png"),
        (Picture = "image/webp"),
    )),
    responses(
        (status = 200, description = "The user, with the new picture", body = User),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        BodyErrors,
        ServerErrors,
    )
)]
pub(crate) async fn put_user_avatar(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    // Refused callers are told before their upload is read.
    state.services.users.authorize_avatar_change(&principal, id).await?;
    let upload = read_image(&req, payload).await?;
    Ok(HttpResponse::Ok().json(state.services.users.set_avatar(&principal, id, upload).await?))
}

/// Remove a user's picture, with the rules of `PUT /users/{id}/avatar`.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/avatar", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "The user has no picture"),
        Unauthorized,
        Forbidden,
        NotFound,
        ServerErrors,
    )
)]
pub(crate) async fn delete_user_avatar(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&req, "user")?;
    state.services.users.remove_avatar(&principal, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
