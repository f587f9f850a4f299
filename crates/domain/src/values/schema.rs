//! The OpenAPI schemas of validated inputs, built from [`limits`]: the
//! numbers and shapes the validators enforce, never a copy of them. Fields
//! use these through `#[schema(schema_with = …)]` / `#[param(schema_with =
//! …)]`, or as `value_type` for the value types that implement `ToSchema`.

use std::borrow::Cow;

use utoipa::{
    openapi::{
        schema::{ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type},
        RefOr,
    },
    PartialSchema, ToSchema,
};

use super::{
    limits::{
        self, DESCRIPTION_MAX, EMAIL_MAX, IDENTIFIER_MAX, MAX_ITEMS, NAME_MAX, PERMISSION_MAX, PHONE_MAX,
        QUERY_TEXT_MAX, SHORT_TEXT_MAX,
    },
    Email, Locale, Phone, TimeZone,
};

fn string(nullable: bool) -> ObjectBuilder {
    let ty = if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { SchemaType::new(Type::String) };
    ObjectBuilder::new().schema_type(ty)
}

/// Text of at most `max` characters as sent, not blank, no control characters.
fn text(max: usize, nullable: bool) -> Schema {
    Schema::Object(
        string(nullable)
            .min_length(Some(1))
            .max_length(Some(max))
            .pattern(Some(limits::text_pattern()))
            .description(Some(format!("1–{max} characters (surrounding whitespace is trimmed); no control characters")))
            .build(),
    )
}

/// A name (of a person, an organization, a location).
pub fn name() -> Schema {
    text(NAME_MAX, false)
}

/// A name, or `null`.
pub fn name_or_null() -> Schema {
    text(NAME_MAX, true)
}

/// A short text, or `null`: given and family names, profile fields, titles.
pub fn short_text_or_null() -> Schema {
    text(SHORT_TEXT_MAX, true)
}

/// A short text: a keyword, an API key's name.
pub fn short_text() -> Schema {
    text(SHORT_TEXT_MAX, false)
}

/// A description, or `null`.
pub fn description_or_null() -> Schema {
    text(DESCRIPTION_MAX, true)
}

/// An identifier (slug, role name): 1 to [`IDENTIFIER_MAX`] characters of `pattern`.
fn identifier(pattern: String, description: &str, nullable: bool) -> Schema {
    Schema::Object(
        string(nullable)
            .min_length(Some(1))
            .max_length(Some(IDENTIFIER_MAX))
            .pattern(Some(pattern))
            .description(Some(description))
            .build(),
    )
}

fn slug_schema(nullable: bool) -> Schema {
    identifier(
        limits::slug_pattern(),
        "Unique; lower-case letters, digits and `-`, starting with a letter or digit",
        nullable,
    )
}

/// An organization's slug.
pub fn slug() -> Schema {
    slug_schema(false)
}

/// An organization's slug, or `null` (unchanged).
pub fn slug_or_null() -> Schema {
    slug_schema(true)
}

fn role_name_schema(nullable: bool) -> Schema {
    identifier(
        limits::role_name_pattern(),
        "A role name: lower-case letters, digits, `-` and `_`, starting with a letter or digit",
        nullable,
    )
}

/// A role name.
pub fn role_name() -> Schema {
    role_name_schema(false)
}

/// A role name, or `null`.
pub fn role_name_or_null() -> Schema {
    role_name_schema(true)
}

fn permission_schema() -> ObjectBuilder {
    string(false)
        .min_length(Some(3))
        .max_length(Some(PERMISSION_MAX))
        .pattern(Some(limits::permission_pattern()))
        .description(Some("`resource:action`: lower-case letters, digits and `_`, each part starting with a letter"))
}

/// A permission name.
pub fn permission() -> Schema {
    Schema::Object(permission_schema().build())
}

fn list(item: Schema, nullable: bool) -> Schema {
    let mut array = ArrayBuilder::new().items(RefOr::T(item)).max_items(Some(MAX_ITEMS));
    if nullable {
        array = array.schema_type(SchemaType::from_iter([Type::Array, Type::Null]));
    }
    Schema::Array(array.build())
}

/// Permission names.
pub fn permissions() -> Schema {
    list(permission(), false)
}

/// Permission names, or `null` (unchanged).
pub fn permissions_or_null() -> Schema {
    list(permission(), true)
}

/// A location's keywords.
pub fn keywords() -> Schema {
    list(short_text(), false)
}

/// A location's keywords, or `null` (unchanged).
pub fn keywords_or_null() -> Schema {
    list(short_text(), true)
}

/// A text query parameter (`q`, `name`).
pub fn query_text() -> Schema {
    Schema::Object(string(false).max_length(Some(QUERY_TEXT_MAX)).build())
}

/// An email address: its schema.
fn email_schema() -> ObjectBuilder {
    string(false).format(Some(SchemaFormat::KnownFormat(KnownFormat::Email))).max_length(Some(EMAIL_MAX)).description(
        Some(format!(
            "At most {EMAIL_MAX} characters (and bytes); the domain must contain a dot. Compared case-insensitively."
        )),
    )
}

/// Makes `$ty` the component schema `$name`, built by `$schema`.
macro_rules! component {
    ($ty:ty, $name:literal, $schema:expr) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                RefOr::T(Schema::Object($schema))
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

component!(Email, "Email", email_schema().build());
component!(
    Locale,
    "Locale",
    string(false)
        .pattern(Some(limits::locale_pattern()))
        .description(Some("A BCP 47 language tag such as `en`, `fr-CA` or `zh-Hant-TW`"))
        .build()
);
component!(
    TimeZone,
    "TimeZone",
    string(false)
        .pattern(Some(limits::time_zone_pattern()))
        .description(Some("An IANA time zone name such as `Europe/Copenhagen`"))
        .build()
);
component!(
    Phone,
    "Phone",
    string(false)
        .max_length(Some(PHONE_MAX))
        .pattern(Some(limits::phone_pattern()))
        .description(Some("Digits with spaces, `-`, `.`, `(`, `)` and an optional leading `+`"))
        .build()
);

/// An offset page number.
pub fn page() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(limits::MAX_PAGE))
            .description(Some(format!("Page number, 1–{} (default 1).", limits::MAX_PAGE)))
            .build(),
    )
}

/// An offset page number of a list that also pages by cursor (`after`).
pub fn page_or_cursor() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(limits::MAX_PAGE))
            .description(Some(format!(
                "Offset paging: page number, 1–{} (default 1). Not together with `after` (`400`): \
                 the two are two ways of paging.",
                limits::MAX_PAGE
            )))
            .build(),
    )
}

/// A page size.
pub fn per_page() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(limits::MAX_PER_PAGE))
            .default(Some(limits::DEFAULT_PER_PAGE.into()))
            .build(),
    )
}

/// A comma-list query parameter of values that match the regex `item`
/// (see [`limits::comma_list_pattern`]).
pub fn comma_list(item: &str, description: String) -> Schema {
    Schema::Object(string(false).pattern(Some(limits::comma_list_pattern(item))).description(Some(description)).build())
}

/// A comma list of UUIDs (`org_id=`, `location_id=`).
pub fn uuids() -> Schema {
    comma_list(
        &limits::uuid_pattern(),
        format!("UUIDs; a comma list means any of them, at most {} values.", limits::QUERY_LIST_MAX),
    )
}

/// A comma list of free values (`email=`, `role=`): at least one that is
/// not blank.
pub fn values() -> Schema {
    values_at_most(limits::QUERY_LIST_MAX)
}

/// [`values`] with its own cap on the number of values.
pub fn values_at_most(max: usize) -> Schema {
    comma_list(
        &format!("[^,]*[^,{}][^,]*", limits::TRIMMED_CHARS),
        format!(
            "A comma list means any of them: at least one and at most {max} values of at most {} characters each.",
            limits::QUERY_TEXT_MAX
        ),
    )
}

/// [`uuids`] with its own cap on the number of values.
pub fn uuids_at_most(max: usize) -> Schema {
    comma_list(&limits::uuid_pattern(), format!("UUIDs; a comma list means any of them, at most {max} values."))
}
