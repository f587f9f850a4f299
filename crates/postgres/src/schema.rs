//! Diesel table definitions, written by hand to match
//! `migrations/2026-11-24-000001_foundation/up.sql`,
//! `migrations/2026-11-24-000005_mail/up.sql`,
//! `migrations/2026-11-24-000006_organizations/up.sql`,
//! `migrations/2026-11-24-000007_session_org/up.sql`,
//! `migrations/2026-11-24-000008_api_keys/up.sql`,
//! `migrations/2026-11-24-000009_member_status/up.sql`,
//! `migrations/2026-11-24-000010_org_invitations/up.sql`,
//! `migrations/2026-11-24-000011_managed_users/up.sql`,
//! `migrations/2026-12-07-000014_settings_push_tokens/up.sql` and
//! `migrations/2026-12-08-000015_account_security/up.sql` column for column.

// The `table!` macro generates items without doc comments.
#![allow(missing_docs)]

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        email_verified -> Bool,
        name -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        phone -> Nullable<Text>,
        locale -> Nullable<Text>,
        timezone -> Nullable<Text>,
        status -> Text,
        birthdate -> Nullable<Date>,
        gender -> Nullable<Text>,
        pronouns -> Nullable<Text>,
        employee_id -> Nullable<Text>,
        position -> Nullable<Text>,
        department -> Nullable<Text>,
        attributes -> Jsonb,
        is_superadmin -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
        managed_by -> Uuid,
        avatar_image_id -> Nullable<Uuid>,
        settings -> Jsonb,
        mfa_enabled -> Bool,
        block_unknown_ips -> Bool,
        last_login_ip -> Nullable<Text>,
    }
}

diesel::table! {
    password_credentials (user_id) {
        user_id -> Uuid,
        hash -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    organizations (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        is_default -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        password_policy -> Nullable<Jsonb>,
    }
}

diesel::table! {
    roles (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        permissions -> Array<Text>,
        builtin -> Bool,
        created_at -> Timestamptz,
        requires_location -> Bool,
        title -> Nullable<Text>,
    }
}

diesel::table! {
    memberships (org_id, user_id) {
        org_id -> Uuid,
        user_id -> Uuid,
        role_id -> Uuid,
        permissions -> Array<Text>,
        created_at -> Timestamptz,
        location_id -> Nullable<Uuid>,
        deactivated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    locations (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        timezone -> Text,
        keywords -> Array<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    org_permissions (org_id, name) {
        org_id -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        prefix -> Text,
        secret_hash -> Bytea,
        permissions -> Array<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        org_id -> Uuid,
        amr -> Array<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        successor_hash -> Nullable<Bytea>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        public_key -> Bytea,
        private_key_sealed -> Bytea,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        user_id -> Uuid,
        email -> Text,
        role_id -> Uuid,
        invited_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    org_invitations (id) {
        id -> Uuid,
        org_id -> Uuid,
        email -> Text,
        role_id -> Uuid,
        location_id -> Nullable<Uuid>,
        invited_by -> Nullable<Uuid>,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    one_time_tokens (token_hash) {
        token_hash -> Bytea,
        purpose -> Text,
        user_id -> Uuid,
        email -> Text,
        invitation_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Uuid,
        template -> Text,
        recipient -> Text,
        payload -> Nullable<Bytea>,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        next_attempt_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    push_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        provider -> Text,
        token -> Text,
        device_name -> Nullable<Text>,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    rate_limit_hits (key, window_start) {
        key -> Text,
        window_start -> Timestamptz,
        hits -> Integer,
    }
}

diesel::joinable!(password_credentials -> users (user_id));
diesel::joinable!(roles -> organizations (org_id));
diesel::joinable!(memberships -> organizations (org_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> roles (role_id));
diesel::table! {
    images (id) {
        id -> Uuid,
        user_id -> Uuid,
        renditions -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    image_deletions (image_id) {
        image_id -> Uuid,
        due_at -> Timestamptz,
        attempts -> Int4,
    }
}

diesel::table! {
    mfa_totp (user_id) {
        user_id -> Uuid,
        secret -> Bytea,
        enabled_at -> Nullable<Timestamptz>,
        last_step -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    mfa_recovery_codes (user_id, code_hash) {
        user_id -> Uuid,
        code_hash -> Bytea,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        org_id -> Nullable<Uuid>,
        attempts -> Int4,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    login_failures (key_hash) {
        key_hash -> Bytea,
        failures -> Int4,
        window_start -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        locks -> Int4,
        last_failure_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    user_allowed_ips (id) {
        id -> Uuid,
        user_id -> Uuid,
        cidr -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(mfa_totp -> users (user_id));
diesel::joinable!(mfa_recovery_codes -> users (user_id));
diesel::joinable!(mfa_challenges -> users (user_id));
diesel::joinable!(user_allowed_ips -> users (user_id));
diesel::joinable!(locations -> organizations (org_id));
diesel::joinable!(org_permissions -> organizations (org_id));
diesel::joinable!(api_keys -> organizations (org_id));
diesel::joinable!(api_keys -> users (created_by));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(invitations -> roles (role_id));
diesel::joinable!(org_invitations -> organizations (org_id));
diesel::joinable!(org_invitations -> roles (role_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(one_time_tokens -> invitations (invitation_id));
diesel::joinable!(push_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    password_credentials,
    organizations,
    roles,
    memberships,
    locations,
    org_permissions,
    api_keys,
    sessions,
    refresh_tokens,
    signing_keys,
    invitations,
    org_invitations,
    one_time_tokens,
    outbox,
    push_tokens,
    rate_limit_hits,
    images,
    image_deletions,
    mfa_totp,
    mfa_recovery_codes,
    mfa_challenges,
    login_failures,
    user_allowed_ips,
);
