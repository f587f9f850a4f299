//! Validated value types. Holding one means it is valid: the only way in is a
//! parser that returns `Result`.

mod email;
pub mod limits;
mod locale;
mod password;
#[cfg(feature = "openapi")]
pub mod schema;
mod text;
mod timezone;

pub use email::Email;
pub use locale::Locale;
pub use password::{Password, PasswordPolicy, BCRYPT_MAX_BYTES};
pub use text::{BoundedText, Phone};
pub use timezone::TimeZone;

/// A parser's complaint, shown to the caller as one of the field's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(m: impl Into<String>) -> Self {
        Invalid(m.into())
    }
}
