//! Writing the [`Effects`] of a change inside its transaction: the one-time
//! token to issue (superseding the user's live tokens of the same purpose)
//! and the sealed letters to queue in the outbox.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roster_domain::auth::TokenHash;
use roster_domain::mail::{Effects, NewToken};
use uuid::Uuid;

use crate::error::DbError;
use crate::schema::{one_time_tokens, outbox};

/// A letter to queue: pending, never attempted, due at once.
#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewOutboxRow<'a> {
    id: Uuid,
    template: &'a str,
    recipient: &'a str,
    payload: &'a [u8],
    status: &'a str,
    attempts: i32,
    created_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
}

/// Marks the live tokens of `user_id` for one of `purposes` superseded at
/// `now`, but the token `except`; returns how many.
pub(crate) async fn supersede_tokens(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    purposes: &[&str],
    except: Option<&TokenHash>,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::update(one_time_tokens::table)
        .filter(one_time_tokens::user_id.eq(user_id))
        .filter(one_time_tokens::purpose.eq_any(purposes))
        .filter(one_time_tokens::token_hash.nullable().is_distinct_from(except.map(|h| h.as_slice())))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::superseded_at.is_null())
        .set(one_time_tokens::superseded_at.eq(now))
        .execute(conn)
        .await?)
}

async fn issue_token(conn: &mut AsyncPgConnection, t: &NewToken) -> Result<(), DbError> {
    supersede_tokens(conn, t.user_id, &[t.purpose.as_str()], None, t.now).await?;
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::token_hash.eq(t.hash.as_slice()),
            one_time_tokens::purpose.eq(t.purpose.as_str()),
            one_time_tokens::user_id.eq(t.user_id),
            one_time_tokens::email.eq(t.email.as_str()),
            one_time_tokens::invitation_id.eq(t.invitation_id),
            one_time_tokens::created_at.eq(t.now),
            one_time_tokens::expires_at.eq(t.expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Issues `effects.token` and queues `effects.mails`, on `conn`, which is
/// inside the transaction of the change they belong to.
pub(crate) async fn write_effects(conn: &mut AsyncPgConnection, effects: &Effects) -> Result<(), DbError> {
    if let Some(token) = &effects.token {
        issue_token(conn, token).await?;
    }
    if !effects.mails.is_empty() {
        let rows: Vec<NewOutboxRow<'_>> = effects
            .mails
            .iter()
            .map(|m| NewOutboxRow {
                id: m.id,
                template: m.template.as_str(),
                recipient: m.to.as_str(),
                payload: &m.sealed,
                status: "pending",
                attempts: 0,
                created_at: m.created_at,
                next_attempt_at: m.created_at,
            })
            .collect();
        diesel::insert_into(outbox::table).values(&rows).execute(conn).await?;
    }
    Ok(())
}
