//! Getting typed input out of a request, with every failure an [`ApiError`]:
//!
//! - [`ValidJson`]: JSON bodies (media type, size limit, path-aware errors);
//! - [`Authenticated`]: the bearer token's [`Principal`];
//! - [`query_pairs`] / [`parse_query`]: query strings, failures → `invalid_query`;
//! - [`path_id`]: a UUID path segment, malformed → `404`.
//!
//! actix polls the extractors of a handler concurrently, so a handler that
//! authenticates and also reads a body or path takes `Authenticated` plus
//! `HttpRequest`/`web::Payload` and reads the rest itself afterwards: a caller
//! without a token always gets `401` first.

use actix_web::{
    dev::Payload,
    error::PayloadError,
    http::header,
    web::{self, Bytes, BytesMut},
    FromRequest, HttpRequest,
};
use futures_util::{future::LocalBoxFuture, Stream, StreamExt};
use roster_domain::{auth::Principal, error::TokenRejection, Error as DomainError, ValidationErrors};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::{error::ApiError, AppState};

mod strict;
mod upload;

pub use upload::{read_image, IMAGE_FIELD};

/// Body limit when no `AppState` is registered (never the case in the app).
const FALLBACK_LIMIT: usize = 64 * 1024;

/// The key of an error about the body as a whole (e.g. an array instead of an object).
const BODY_KEY: &str = "body";

/// A JSON request body deserialized into `T`.
///
/// `415` unless `Content-Type` is `application/json` or `application/*+json`;
/// `413` past `HttpConfig::max_body_bytes`; `400 malformed_json` for bad
/// syntax; `422 validation_failed` naming the field for wrong types, missing
/// and unknown fields.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { read_json(&req, payload).await.map(ValidJson) })
    }
}

/// The configured body limit.
pub fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<AppState>>().map_or(FALLBACK_LIMIT, |s| s.config.max_body_bytes)
}

/// Reads and deserializes a JSON body (see [`ValidJson`]).
pub async fn read_json<T, S>(req: &HttpRequest, payload: S) -> Result<T, ApiError>
where
    T: DeserializeOwned,
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    check_media_type(req)?;
    let body = read_body(req, payload).await?;
    deserialize(&body)
}

/// Like [`read_json`], but an empty body, or JSON `null`, is `None`
/// whatever its headers.
pub async fn read_optional_json<T, S>(req: &HttpRequest, payload: S) -> Result<Option<T>, ApiError>
where
    T: DeserializeOwned,
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    let body = read_body(req, payload).await?;
    if body.is_empty() {
        return Ok(None);
    }
    check_media_type(req)?;
    match parse(&body)? {
        serde_json::Value::Null => Ok(None),
        value => from_object(value).map(Some),
    }
}

/// `415` for a body sent compressed (`Content-Encoding` other than `identity`).
pub(crate) fn refuse_encoded(req: &HttpRequest) -> Result<(), ApiError> {
    let encoded = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    if encoded {
        Err(ApiError::UnsupportedMediaType("Request bodies must not be compressed (`Content-Encoding`)."))
    } else {
        Ok(())
    }
}

/// The media type of the body without its parameters, lower-cased (`""` when absent).
pub(crate) fn media_essence(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The body's declared `Content-Length`, if it has a readable one.
pub(crate) fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

/// `application/json` or `application/<anything>+json`, unencoded.
fn check_media_type(req: &HttpRequest) -> Result<(), ApiError> {
    refuse_encoded(req)?;
    let essence = media_essence(req);
    let json = essence
        .strip_prefix("application/")
        .is_some_and(|sub| sub == "json" || (sub.ends_with("+json") && sub.len() > "+json".len()));
    if json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType("Send the body as JSON with `Content-Type: application/json`."))
    }
}

/// Reads the whole body, refusing it as soon as it passes the limit, and
/// with `408` if it has not all arrived when the edge says it is due
/// (`HttpConfig::body_timeout` after its head).
async fn read_body<S>(req: &HttpRequest, payload: S) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    match crate::conn::body_due(req) {
        Some(due) => {
            tokio::time::timeout_at(due, read_limited(req, payload)).await.map_err(|_| ApiError::RequestTimeout)?
        }
        None => read_limited(req, payload).await,
    }
}

async fn read_limited<S>(req: &HttpRequest, mut payload: S) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    let limit = body_limit(req);
    let declared = declared_length(req);
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            PayloadError::Overflow => ApiError::PayloadTooLarge { limit },
            other => ApiError::UnreadableBody(other.to_string()),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Drops serde_json's " at line L column C" suffix from a message.
fn without_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg,
    }
}

/// The key of `field` found at `path`. serde_path_to_error's path already
/// ends with an unknown field's name but stops at the parent of a missing one.
fn join(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." || path == "?" {
        field.to_string()
    } else if path == field || path.ends_with(&format!(".{field}")) {
        path.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// The name between the first pair of backticks.
fn quoted(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(&msg[start..start + len])
}

/// `(key, message)` of a data error at `path`: unknown and missing fields are
/// reported under their own name rather than their parent's.
fn field_error(path: &str, msg: &str, unknown_message: &str) -> (String, String) {
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        if let Some(name) = quoted(rest) {
            let expected = rest.split_once(", expected ").map(|(_, e)| format!(" (expected {e})")).unwrap_or_default();
            return (join(path, name), format!("{unknown_message}{expected}"));
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        if let Some(name) = quoted(rest) {
            return (join(path, name), "is required".to_string());
        }
    }
    let key = if path.is_empty() || path == "." { BODY_KEY.to_string() } else { path.to_string() };
    (key, msg.to_string())
}

/// Deserializes a JSON object: bad syntax is `400 malformed_json`; anything
/// but an object, and data of the wrong shape, is `422` naming the field.
pub fn deserialize<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    from_object(parse(body)?)
}

/// The body as JSON; bad syntax is `400 malformed_json`.
fn parse(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))
}

/// `value` as `T`: anything but an object, a string holding U+0000 and
/// data of the wrong shape are `422` naming the field.
fn from_object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    let mut errors = ValidationErrors::new();
    if !value.is_object() {
        errors.add(BODY_KEY, "must be a JSON object");
        return Err(errors.into());
    }
    nul_members(&value, &mut String::new(), &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    from_value(value).map_err(ApiError::from)
}

/// What a string holding U+0000 is told: PostgreSQL cannot store it in text.
const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// Records every string (member name or value) holding U+0000 under its
/// path, written as `serde_path_to_error` writes paths (`a.b[0].c`).
fn nul_members(value: &serde_json::Value, path: &mut String, errors: &mut ValidationErrors) {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => {
            errors.add(if path.is_empty() { BODY_KEY } else { path.as_str() }, NUL_MESSAGE);
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                nul_members(item, path, errors);
                path.truncate(len);
            }
        }
        serde_json::Value::Object(members) => {
            for (key, member) in members {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if key.contains('\0') {
                    path.push_str(&key.escape_default().to_string());
                    errors.add(path.as_str(), NUL_MESSAGE);
                } else {
                    path.push_str(key);
                    nul_members(member, path, errors);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Deserializes a parsed JSON value, naming the bad field in the error.
///
/// serde cannot report the path of an error inside a `#[serde(flatten)]`
/// member (it buffers the members first); such errors are reported under
/// `body`, so callers with flattened types split the object themselves.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ValidationErrors> {
    serde_path_to_error::deserialize::<_, T>(strict::Strict(value)).map_err(|err| {
        let path = err.path().to_string();
        let msg = err.into_inner().to_string();
        let (key, message) = field_error(&path, without_position(&msg), "is not a known field");
        let mut errors = ValidationErrors::new();
        errors.add(key, message);
        errors
    })
}

/// The decoded `key=value` pairs of a query string, in order. A name or
/// value holding U+0000 (`%00`) is `400 invalid_query` naming it: no query
/// parameter can carry one to PostgreSQL.
pub fn query_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).map(web::Query::into_inner).map_err(|e| {
        let mut errors = ValidationErrors::new();
        errors.add("query", e.to_string());
        ApiError::Domain(DomainError::InvalidQuery(errors))
    })?;
    let mut errors = ValidationErrors::new();
    for (key, value) in &pairs {
        if key.contains('\0') {
            errors.add(key.escape_default().to_string(), NUL_MESSAGE);
        } else if value.contains('\0') && errors.get(key).is_none() {
            errors.add(key.clone(), NUL_MESSAGE);
        }
    }
    if errors.is_empty() {
        Ok(pairs)
    } else {
        Err(ApiError::Domain(DomainError::InvalidQuery(errors)))
    }
}

/// Deserializes query pairs into `T`, whose fields must all be strings
/// (convert numbers with [`int_param`]). A repeated or unknown parameter is
/// `400 invalid_query` naming it.
pub fn parse_query<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, ApiError> {
    let mut map = serde_json::Map::new();
    let mut errors = ValidationErrors::new();
    for (key, value) in pairs {
        if map.insert(key.clone(), serde_json::Value::String(value.clone())).is_some() && errors.get(key).is_none() {
            errors.add(key.clone(), "must be given at most once");
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Domain(DomainError::InvalidQuery(errors)));
    }
    serde_path_to_error::deserialize::<_, T>(serde_json::Value::Object(map)).map_err(|err| {
        let mut errors = ValidationErrors::new();
        let path = err.path().to_string();
        let msg = err.into_inner().to_string();
        let (key, message) = field_error(&path, &msg, "is not a supported query parameter");
        errors.add(key, message);
        ApiError::Domain(DomainError::InvalidQuery(errors))
    })
}

/// Parses an integer query parameter, recording a message under `name` on
/// failure. Given but blank (`?page=`) is a failure, not an absent one.
pub fn int_param(errors: &mut ValidationErrors, name: &str, raw: Option<&str>) -> Option<i64> {
    match raw?.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(name, "must be a whole number");
            None
        }
    }
}

/// The `{id}` path segment as a UUID; anything else names no resource (`404`).
pub fn path_id(req: &HttpRequest, what: &'static str) -> Result<Uuid, ApiError> {
    segment_id(req, "id", what)
}

/// The UUID path segment `name`; anything else names no `what` (`404`).
pub fn segment_id(req: &HttpRequest, name: &str, what: &'static str) -> Result<Uuid, ApiError> {
    req.match_info()
        .get(name)
        .and_then(|raw| Uuid::try_parse(raw).ok())
        .ok_or(ApiError::Domain(DomainError::NotFound(what)))
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The caller, authenticated by their bearer token. No token or another
/// scheme is `401 unauthenticated`; a refused token `401` with its reason.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| DomainError::Internal("AppState is not registered".into()))?;
            let token = token.ok_or(DomainError::Unauthenticated(TokenRejection::Missing))?;
            Ok(Authenticated(state.services.auth.authenticate(&token).await?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_field() {
        assert_eq!(
            field_error(".", "unknown field `nope`, expected `email` or `password`", "is not a known field"),
            ("nope".into(), "is not a known field (expected `email` or `password`)".into())
        );
        assert_eq!(
            field_error("profile", "unknown field `x`", "is not a known field"),
            ("profile.x".into(), "is not a known field".into())
        );
        assert_eq!(
            field_error("profile.x", "unknown field `x`", "is not a known field"),
            ("profile.x".into(), "is not a known field".into())
        );
        assert_eq!(field_error(".", "missing field `email`", "-"), ("email".into(), "is required".into()));
        assert_eq!(
            field_error("name", "invalid type: integer `5`, expected a string", "-"),
            ("name".into(), "invalid type: integer `5`, expected a string".into())
        );
        assert_eq!(field_error(".", "invalid type: sequence, expected struct X", "-").0, "body");
    }

    #[test]
    fn position_is_stripped() {
        assert_eq!(
            without_position("invalid type: null, expected a string at line 1 column 12"),
            "invalid type: null, expected a string"
        );
        assert_eq!(without_position("plain"), "plain");
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_other_schemes_are_ignored() {
        let req =
            actix_web::test::TestRequest::default().insert_header(("Authorization", "bearer abc")).to_http_request();
        assert_eq!(bearer_token(&req), Some("abc"));
        let req =
            actix_web::test::TestRequest::default().insert_header(("Authorization", "Basic abc")).to_http_request();
        assert_eq!(bearer_token(&req), None);
        let req = actix_web::test::TestRequest::default().insert_header(("Authorization", "Bearer ")).to_http_request();
        assert_eq!(bearer_token(&req), None);
    }
}
