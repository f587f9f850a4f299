//! The one place where object_store's errors become [`BlobError`]s.
//!
//! object_store 0.14 reports a missing object as `Error::NotFound` (HTTP 404
//! or a missing file), refused credentials as `PermissionDenied` (403) or
//! `Unauthenticated` (401), and everything else from S3 as `Error::Generic`
//! whose `source()` chain holds the client's retry error: either a status
//! (`Server returned non-2xx status code: 503 …`; its type is not exported,
//! so the status is read from its message) or, below it, an
//! [`HttpError`](object_store::client::HttpError) whose kind says connect
//! failure, timeout, interrupted or other, above reqwest's, hyper's and
//! the socket's own errors.

use std::error::Error as StdError;
use std::io::ErrorKind;

use object_store::client::{HttpError, HttpErrorKind};
use roster_domain::ports::BlobError;

/// The message of object_store's retry error for an HTTP error status.
const STATUS_MESSAGE: &str = "Server returned non-2xx status code: ";
/// …and for an S3 error in a `200` answer (`InternalError`, `SlowDown`).
const ERROR_RESPONSE_MESSAGE: &str = "Server returned error response: ";
/// Longest message kept in a `BlobError`.
const MAX_MESSAGE: usize = 400;

/// `NotFound` → `NotFound` (unless S3 says the bucket is missing); a store that cannot be reached or answers that
/// it cannot serve now (connection refused/reset, timeouts, 5xx, `429`,
/// `503 SlowDown`) → `Unavailable`; everything else (refused credentials,
/// bad requests, invalid keys, local file errors) → `Internal`.
pub(crate) fn translate(e: object_store::Error) -> BlobError {
    use object_store::Error as E;
    match &e {
        // S3 answers 404 for a bucket that does not exist too: a
        // misconfiguration, not a missing object.
        E::NotFound { .. } if e.to_string().contains("NoSuchBucket") => BlobError::Internal(describe(&e)),
        E::NotFound { .. } => BlobError::NotFound,
        E::Generic { .. } if is_unavailable(&e) => BlobError::Unavailable(describe(&e)),
        _ => BlobError::Internal(describe(&e)),
    }
}

/// Whether the source chain says the store could not be reached or cannot
/// serve right now.
fn is_unavailable(e: &(dyn StdError + 'static)) -> bool {
    let mut current = e.source();
    while let Some(err) = current {
        if let Some(http) = err.downcast_ref::<HttpError>() {
            match http.kind() {
                HttpErrorKind::Connect
                | HttpErrorKind::Request
                | HttpErrorKind::Timeout
                | HttpErrorKind::Interrupted => return true,
                // Decode/Unknown: look further down for a socket error.
                _ => {}
            }
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if transport_kind(io.kind()) {
                return true;
            }
        }
        let text = err.to_string();
        if let Some(status) = text.strip_prefix(STATUS_MESSAGE) {
            return status.get(..3).and_then(|s| s.parse::<u16>().ok()).is_some_and(retry_later_status);
        }
        if text.starts_with(ERROR_RESPONSE_MESSAGE) {
            // S3's "200 OK" carrying InternalError/SlowDown: a server-side failure.
            return true;
        }
        current = err.source();
    }
    false
}

/// Statuses that say "not now" rather than "not like this".
fn retry_later_status(status: u16) -> bool {
    status >= 500 || status == 429 || status == 408
}

fn transport_kind(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
            | ErrorKind::BrokenPipe
            | ErrorKind::TimedOut
            | ErrorKind::UnexpectedEof
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
            | ErrorKind::NetworkDown
    )
}

/// The error's message and its innermost cause (where reqwest and hyper
/// keep the useful part: "Connection refused"), without S3's XML bodies
/// (which may echo the signature and the string signed) and without
/// presigned query parameters.
fn describe(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut root = e;
    while let Some(next) = root.source() {
        root = next;
    }
    let cause = root.to_string();
    if !text.contains(&cause) {
        text = format!("{text}: {cause}");
    }
    let mut text = redact_query(&strip_xml(&text));
    if text.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Replaces an S3 XML error body with its `Code` and `Message`.
fn strip_xml(text: &str) -> String {
    let Some(start) = ["<?xml", "<Error"].iter().filter_map(|m| text.find(m)).min() else {
        return text.to_owned();
    };
    let body = &text[start..];
    let element = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let from = body.find(&open)? + open.len();
        let len = body[from..].find("</")?;
        Some(body[from..from + len].to_owned())
    };
    let mut out = text[..start].trim_end().to_owned();
    match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => out.push_str(&format!(" {code} ({message})")),
        (Some(code), None) => out.push_str(&format!(" {code}")),
        _ => out.push_str(" (error body omitted)"),
    }
    out
}

/// `X-Amz-Signature=…`, `X-Amz-Credential=…` and `X-Amz-Security-Token=…`
/// with their values removed.
fn redact_query(text: &str) -> String {
    let mut out = text.to_owned();
    for name in ["X-Amz-Signature=", "X-Amz-Credential=", "X-Amz-Security-Token="] {
        let mut from = 0;
        while let Some(at) = out[from..].find(name) {
            let value = from + at + name.len();
            let end = out[value..].find(['&', ' ', '"']).map_or(out.len(), |n| value + n);
            out.replace_range(value..end, "REDACTED");
            from = value + "REDACTED".len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_bodies_keep_only_code_and_message() {
        let text = "Generic S3 error: Server returned non-2xx status code: 403 Forbidden: <?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The signature does not match</Message><SignatureProvided>abc123</SignatureProvided></Error>";
        let out = strip_xml(text);
        assert_eq!(out, "Generic S3 error: Server returned non-2xx status code: 403 Forbidden: SignatureDoesNotMatch (The signature does not match)");
    }

    #[test]
    fn presigned_parameters_are_redacted() {
        let out = redact_query("GET http://h/b/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeef failed");
        assert_eq!(out, "GET http://h/b/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED failed");
    }

    #[test]
    fn not_found_is_not_found_and_other_variants_are_internal() {
        let not_found = object_store::Error::NotFound { path: "a".into(), source: "gone".into() };
        assert_eq!(translate(not_found), BlobError::NotFound);
        let denied = object_store::Error::PermissionDenied { path: "a".into(), source: "403".into() };
        assert!(matches!(translate(denied), BlobError::Internal(_)));
    }

    #[test]
    fn transport_errors_in_the_chain_are_unavailable() {
        let refused = HttpError::new(HttpErrorKind::Connect, std::io::Error::from(ErrorKind::ConnectionRefused));
        let e = object_store::Error::Generic { store: "S3", source: Box::new(refused) };
        assert!(matches!(translate(e), BlobError::Unavailable(_)));
        let reset = std::io::Error::from(ErrorKind::ConnectionReset);
        let e = object_store::Error::Generic { store: "S3", source: Box::new(reset) };
        assert!(matches!(translate(e), BlobError::Unavailable(_)));
        let denied = std::io::Error::from(ErrorKind::PermissionDenied);
        let e = object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(denied) };
        assert!(matches!(translate(e), BlobError::Internal(_)));
    }
}
