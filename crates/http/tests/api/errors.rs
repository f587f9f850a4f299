//! The mapping of every domain error to status, code and headers.

use actix_web::{body::to_bytes, ResponseError};
use roster_domain::{
    auth::{Permission, Refusal},
    error::TokenRejection,
    mail::TokenState,
    user::UserStatus,
    Conflict, Error, RepoError, StateConflict, ValidationErrors,
};
use roster_http::ApiError;
use serde_json::Value;

use crate::support::*;
use actix_web::test::TestRequest;

async fn render(e: Error) -> (u16, Value, actix_web::http::header::HeaderMap) {
    let res = ApiError::from(e).error_response();
    let status = res.status().as_u16();
    assert_eq!(res.headers().get("content-type").unwrap(), "application/problem+json");
    let headers = res.headers().clone();
    let body: Value = serde_json::from_slice(&to_bytes(res.into_body()).await.unwrap()).unwrap();
    assert_eq!(body["status"], status);
    (status, body, headers)
}

#[actix_web::test]
async fn every_domain_error_has_its_status_code_and_headers() {
    let mut v = ValidationErrors::new();
    v.add("email", "must be a valid email address");
    let www =
        |h: &actix_web::http::header::HeaderMap| h.get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
    let cases: Vec<(Error, u16, &str, Option<&str>)> = vec![
        (Error::Validation(v.clone()), 422, "validation_failed", None),
        (Error::InvalidQuery(v), 400, "invalid_query", None),
        (Error::InvalidCredentials, 401, "invalid_credentials", None),
        (Error::InvalidRefreshToken, 401, "invalid_refresh_token", None),
        (Error::Unauthenticated(TokenRejection::Missing), 401, "unauthenticated", Some(r#"Bearer realm="roster""#)),
        (
            Error::Unauthenticated(TokenRejection::Invalid),
            401,
            "invalid_token",
            Some(r#"Bearer realm="roster", error="invalid_token""#),
        ),
        (
            Error::Unauthenticated(TokenRejection::Expired),
            401,
            "token_expired",
            Some(r#"Bearer realm="roster", error="invalid_token""#),
        ),
        (
            Error::Unauthenticated(TokenRejection::Revoked),
            401,
            "session_revoked",
            Some(r#"Bearer realm="roster", error="invalid_token""#),
        ),
        (Error::AccountDisabled(UserStatus::Banned), 403, "account_disabled", None),
        (Error::RegistrationClosed, 403, "registration_closed", None),
        (Error::Forbidden(Refusal::MissingPermission(Permission::UsersWrite)), 403, "forbidden", None),
        (Error::NotFound("user"), 404, "not_found", None),
        (Error::Conflict(Conflict::EmailTaken), 409, "email_taken", None),
        (Error::InvalidState(StateConflict::InvitationAccepted), 409, "invalid_state", None),
        (Error::InvalidToken, 400, "link_token_invalid", None),
        (Error::TokenGone(TokenState::Used), 410, "link_token_used", None),
        (Error::TokenGone(TokenState::Expired), 410, "link_token_expired", None),
        (Error::TokenGone(TokenState::Superseded), 410, "link_token_superseded", None),
        (Error::EmailNotVerified, 403, "email_not_verified", None),
        (Error::RateLimited { retry_after_secs: 42 }, 429, "rate_limited", None),
        (Error::Unavailable("pool timed out".into()), 503, "service_unavailable", None),
        (Error::Internal("relation \"users\" does not exist".into()), 500, "internal_error", None),
    ];
    for (error, status, code, challenge) in cases {
        let (got, body, headers) = render(error).await;
        assert_eq!((got, body["code"].as_str().unwrap()), (status, code));
        assert_eq!(www(&headers).as_deref(), challenge, "{code}");
        let retry_after = headers.get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let expected = match status {
            503 => Some("5"),
            429 => Some("42"),
            _ => None,
        };
        assert_eq!(retry_after.as_deref(), expected, "{code}");
        assert_eq!(body.get("errors").is_some(), status == 422 || code == "invalid_query", "{code}");
    }
}

#[actix_web::test]
async fn refusals_and_impossible_states_name_their_reason() {
    let (_, body, _) = render(Error::Forbidden(Refusal::MissingPermission(Permission::UsersWrite))).await;
    assert_eq!((&body["reason"], &body["permission"]), (&"missing_permission".into(), &"users:write".into()));
    assert!(body["detail"].as_str().unwrap().contains("`users:write`"), "{body}");
    let refusals = [
        (Refusal::OwnerOnly, "owner_only"),
        (Refusal::SuperadminOnly, "superadmin_only"),
        (Refusal::NotYourself, "not_yourself"),
        (Refusal::DefaultOrgSessionRequired, "default_org_session_required"),
        (Refusal::SignedInUserOnly, "signed_in_user_only"),
        (Refusal::GrantBeyondOwn, "grant_beyond_own"),
        (Refusal::PlatformAdminOnly, "platform_admin_only"),
        (Refusal::LastOwner, "last_owner"),
    ];
    for (refusal, reason) in refusals {
        let (status, body, _) = render(Error::Forbidden(refusal)).await;
        assert_eq!((status, body["code"].as_str(), body["reason"].as_str()), (403, Some("forbidden"), Some(reason)));
        assert!(body.get("permission").is_none(), "{body}");
    }
    let states = [
        (StateConflict::InvitationAccepted, "invitation_accepted"),
        (StateConflict::UserPending, "user_pending"),
        (StateConflict::UserBanned, "user_banned"),
        (StateConflict::DefaultOrgPermanent, "default_org_permanent"),
        (StateConflict::DefaultOrgMembership, "default_org_membership"),
        (StateConflict::BuiltinRole, "builtin_role"),
        (StateConflict::OwnerRoleFixed, "owner_role_fixed"),
    ];
    for (state, reason) in states {
        let (status, body, _) = render(Error::InvalidState(state)).await;
        assert_eq!(
            (status, body["code"].as_str(), body["reason"].as_str()),
            (409, Some("invalid_state"), Some(reason))
        );
    }
    // Other problems carry no reason.
    let (_, body, _) = render(Error::NotFound("user")).await;
    assert!(body.get("reason").is_none() && body.get("permission").is_none(), "{body}");
}

#[actix_web::test]
async fn validation_errors_list_fields_and_internal_errors_hide_their_cause() {
    let mut v = ValidationErrors::new();
    v.add("email", "bad");
    v.add("name", "too long");
    let (_, body, _) = render(Error::Validation(v)).await;
    assert_eq!(body["errors"], serde_json::json!({"email": ["bad"], "name": ["too long"]}));
    let (_, body, _) = render(Error::Internal("password_hash column missing".into())).await;
    assert!(!body.to_string().contains("password_hash"));
    let (_, body, headers) = render(Error::Unavailable("db down at 10.0.0.3".into())).await;
    assert!(!body.to_string().contains("10.0.0.3"));
    assert_eq!(headers.get("retry-after").unwrap(), "5");
}

#[actix_web::test]
async fn store_failures_reach_the_client_as_503_and_500_with_the_request_id() {
    let admin = user("admin@example.com", "admin");
    let mut m = Mocks::new().sign_in_as(&admin, admin_perms());
    m.users.expect_get().returning(|id| {
        if id.as_u128() % 2 == 0 {
            Err(RepoError::Unavailable("pool exhausted".into()))
        } else {
            Err(RepoError::Internal("syntax error at or near SELECT".into()))
        }
    });
    let state = m.state();
    let even = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);
    let odd = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003);
    let r =
        send(state.clone(), TestRequest::get().uri(&format!("/api/v1/users/{even}")).insert_header(bearer(GOOD_TOKEN)))
            .await;
    r.problem(503, "service_unavailable");
    assert_eq!(r.header("retry-after"), Some("5"));
    let r = send(
        state,
        TestRequest::get()
            .uri(&format!("/api/v1/users/{odd}"))
            .insert_header(("X-Request-Id", "trace-500"))
            .insert_header(bearer(GOOD_TOKEN)),
    )
    .await;
    let body = r.problem(500, "internal_error");
    assert_eq!(body["request_id"], "trace-500");
    assert!(!r.text().contains("SELECT"));
}
