//! Opaque, tamper-evident keyset cursors: the position (sort values and id)
//! and the sort they belong to, as base64url JSON followed by a truncated
//! HMAC-SHA-256 tag under a server key.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::query::{sort_spec, Keyset, SortKey, SortValue};
use super::UserSortField;

/// Bytes of the HMAC tag kept in a cursor.
const TAG_LEN: usize = 16;

/// Encodes and checks cursors with one server key.
#[derive(Clone)]
pub struct CursorCodec {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(<redacted>)")
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The sort, canonical (`-created_at,email`).
    s: String,
    v: Vec<SortValue>,
    id: Uuid,
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any size"),
    }
}

impl CursorCodec {
    pub fn new(key: [u8; 32]) -> CursorCodec {
        CursorCodec { key: Zeroizing::new(key) }
    }

    /// The cursor of the position after `keyset` under `sort`.
    pub fn encode(&self, sort: &[SortKey], keyset: &Keyset) -> String {
        let payload = Payload { s: sort_spec(sort), v: keyset.values.clone(), id: keyset.id };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let mut m = mac(self.key.as_ref());
        m.update(body.as_bytes());
        let tag = m.finalize().into_bytes();
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN]))
    }

    /// Checks the tag, that the cursor belongs to `sort`, and the shape of its
    /// values. The message says what is wrong, for `400 invalid_cursor`.
    pub fn decode(&self, sort: &[SortKey], cursor: &str) -> Result<Keyset, String> {
        let bad = || "is not a cursor this server issued (use links.next as given)".to_string();
        let (body, tag) = cursor.split_once('.').ok_or_else(bad)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad())?;
        let mut m = mac(self.key.as_ref());
        m.update(body.as_bytes());
        m.verify_truncated_left(&tag).map_err(|_| bad())?;
        if tag.len() != TAG_LEN {
            return Err(bad());
        }
        let payload: Payload =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).map_err(|_| bad())?).map_err(|_| bad())?;
        if payload.s != sort_spec(sort) {
            return Err(format!("belongs to sort={}; repeat the request with that sort or start again", payload.s));
        }
        if payload.v.len() != sort.len() {
            return Err(bad());
        }
        // Re-type the values by their field (untagged JSON cannot tell a
        // timestamp string from a text one).
        let mut values = Vec::with_capacity(sort.len());
        for (key, value) in sort.iter().zip(payload.v) {
            let text = match value {
                SortValue::Text(t) => t,
                SortValue::Time(t) => t.map(|t| t.to_rfc3339()),
            };
            values.push(match key.field {
                UserSortField::CreatedAt | UserSortField::UpdatedAt | UserSortField::LastLoginAt => {
                    let time = match text {
                        None => None,
                        Some(t) => Some(chrono::DateTime::parse_from_rfc3339(&t).map_err(|_| bad())?.to_utc()),
                    };
                    SortValue::Time(time)
                }
                _ => SortValue::Text(text),
            });
        }
        Ok(Keyset { values, id: payload.id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::query::parse_sort;
    use crate::ValidationErrors;

    fn sort(s: &str) -> Vec<SortKey> {
        parse_sort(Some(s), &mut ValidationErrors::new())
    }

    #[test]
    fn round_trip() {
        let c = CursorCodec::new([9; 32]);
        let s = sort("-last_login_at,email");
        let k = Keyset {
            values: vec![SortValue::Time(Some(chrono::Utc::now())), SortValue::Text(Some("a@b.io".into()))],
            id: Uuid::now_v7(),
        };
        let token = c.encode(&s, &k);
        let back = c.decode(&s, &token).unwrap();
        assert_eq!(back.id, k.id);
        assert_eq!(back.values[1], k.values[1]);
        let null = Keyset { values: vec![SortValue::Time(None), SortValue::Text(None)], id: Uuid::now_v7() };
        assert_eq!(c.decode(&s, &c.encode(&s, &null)).unwrap(), null);
    }

    #[test]
    fn tampering_other_keys_and_other_sorts_are_refused() {
        let c = CursorCodec::new([9; 32]);
        let s = sort("email");
        let token = c.encode(&s, &Keyset { values: vec![SortValue::Text(Some("a".into()))], id: Uuid::now_v7() });
        assert!(CursorCodec::new([8; 32]).decode(&s, &token).is_err());
        assert!(c.decode(&sort("-email"), &token).unwrap_err().contains("sort=email"));
        let (body, tag) = token.split_once('.').unwrap();
        let mut forged = body.to_string();
        forged.insert(0, 'A');
        assert!(c.decode(&s, &format!("{forged}.{tag}")).is_err());
        assert!(c.decode(&s, "garbage").is_err());
        assert!(c.decode(&s, "").is_err());
    }
}
