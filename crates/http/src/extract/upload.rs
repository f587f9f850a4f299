//! Reading an uploaded picture: a `multipart/form-data` body with the field
//! `image` (what HTML forms and seed 000 send), or the bytes themselves with
//! an image content type. The limit (`images.max_upload_bytes`) is enforced
//! while the body streams in: a declared `Content-Length` past it is refused
//! before a byte is read, and a body that grows past it is refused at the
//! chunk that crosses it, never buffered whole. The declared type only picks
//! the framing: what the bytes are is decided from the bytes themselves.

use actix_multipart::{Multipart, MultipartError};
use actix_web::{error::PayloadError, web::Bytes, HttpRequest};
use futures_util::{Stream, StreamExt};
use roster_domain::{Error as DomainError, ValidationErrors};

use super::{declared_length, media_essence, refuse_encoded};
use crate::{error::ApiError, AppState};

/// The form field that carries the picture.
pub const IMAGE_FIELD: &str = "image";

/// Content types a raw picture may be sent with.
const RAW_TYPES: [&str; 4] = ["image/jpeg", "image/jpg", "image/png", "image/webp"];

const WRONG_TYPE: &str =
    "Send the picture as `multipart/form-data` with the field `image`, or as the body itself with \
                          `Content-Type: image/jpeg`, `image/png` or `image/webp`.";

/// The upload limit in bytes.
pub fn upload_limit(req: &HttpRequest) -> usize {
    req.app_data::<actix_web::web::Data<AppState>>().map_or(10 * 1024 * 1024, |s| s.config.max_upload_bytes)
}

/// The picture's bytes. `415` for another content type or an encoded body,
/// `413` past the limit, `400` for a malformed form, `422` naming `image`
/// for a form without exactly one `image` field (other fields named too),
/// `408` for a body that does not arrive in time.
pub async fn read_image<S>(req: &HttpRequest, payload: S) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin + 'static,
{
    refuse_encoded(req)?;
    let essence = media_essence(req);
    let limit = upload_limit(req);
    let declared = declared_length(req);
    let multipart = essence == "multipart/form-data";
    if !multipart && !RAW_TYPES.contains(&essence.as_str()) {
        return Err(ApiError::UnsupportedMediaType(WRONG_TYPE));
    }
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let read = async {
        if multipart {
            read_form(req, limited(payload, limit), limit).await
        } else {
            read_raw(limited(payload, limit), limit, declared).await
        }
    };
    match crate::conn::body_due(req) {
        Some(due) => tokio::time::timeout_at(due, read).await.map_err(|_| ApiError::RequestTimeout)?,
        None => read.await,
    }
}

/// `payload`, failing with `Overflow` at the chunk that takes it past `limit`.
fn limited<S>(payload: S, limit: usize) -> impl Stream<Item = Result<Bytes, PayloadError>> + Unpin + 'static
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin + 'static,
{
    let mut total = 0usize;
    payload.map(move |chunk| {
        let chunk = chunk?;
        total = total.saturating_add(chunk.len());
        if total > limit {
            Err(PayloadError::Overflow)
        } else {
            Ok(chunk)
        }
    })
}

fn payload_error(e: PayloadError, limit: usize) -> ApiError {
    match e {
        PayloadError::Overflow => ApiError::PayloadTooLarge { limit },
        other => ApiError::UnreadableBody(other.to_string()),
    }
}

async fn read_raw<S>(mut payload: S, limit: usize, declared: Option<usize>) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        body.extend_from_slice(&chunk.map_err(|e| payload_error(e, limit))?);
    }
    Ok(body)
}

fn form_error(e: MultipartError, limit: usize) -> ApiError {
    match e {
        MultipartError::Payload(p) => match p {
            actix_web::error::PayloadError::Overflow => ApiError::PayloadTooLarge { limit },
            other => ApiError::UnreadableBody(other.to_string()),
        },
        other => ApiError::UnreadableBody(format!("malformed multipart/form-data body: {other}")),
    }
}

async fn read_form<S>(req: &HttpRequest, payload: S, limit: usize) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin + 'static,
{
    let mut form = Multipart::new(req.headers(), payload);
    let mut image: Option<Vec<u8>> = None;
    let mut errors = ValidationErrors::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| form_error(e, limit))?;
        let name = field.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| form_error(e, limit))?;
            if name == IMAGE_FIELD {
                bytes.extend_from_slice(&chunk);
            }
        }
        if name != IMAGE_FIELD {
            let key = if name.is_empty() { "body".to_string() } else { name.escape_default().to_string() };
            if errors.get(&key).is_none() {
                errors.add(key, "is not a field of this form: send the picture as the field `image`");
            }
        } else if image.replace(bytes).is_some() && errors.get(IMAGE_FIELD).is_none() {
            errors.add(IMAGE_FIELD, "must be given once");
        }
    }
    if image.is_none() {
        errors.add(IMAGE_FIELD, "is required: send the picture as the form field `image`");
    }
    match image {
        Some(bytes) if errors.is_empty() => Ok(bytes),
        _ => Err(ApiError::Domain(DomainError::Validation(errors))),
    }
}
