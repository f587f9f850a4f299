//! Collecting every bad field of an input at once, and the tri-state `Patch`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Field name → messages. Serialized as the `errors` member of a `422`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(BTreeMap<String, Vec<String>>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one message for `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Records every message for `field`.
    pub fn extend(&mut self, field: &str, messages: impl IntoIterator<Item = String>) {
        for m in messages {
            self.add(field, m);
        }
    }

    /// Records every message of `other`, field by field.
    pub fn absorb(&mut self, other: ValidationErrors) {
        for (field, messages) in other.0 {
            self.extend(&field, messages);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    pub fn as_map(&self) -> &BTreeMap<String, Vec<String>> {
        &self.0
    }

    /// Runs a parser and keeps its value, or records its error under `field`.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<&str> = self.fields().collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

/// A field of a partial update: leave it, clear it (`null`), or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }

    /// Applies a fallible parser to the value being set.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => Patch::Set(f(v)?),
        })
    }

    /// The new value given the current one.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current,
            Patch::Clear => None,
            Patch::Set(v) => Some(v),
        }
    }
}

/// A JSON member that is absent deserializes to `Keep` (with `#[serde(default)]`),
/// `null` to `Clear`, and a value to `Set`.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Patch::Clear,
            Some(v) => Patch::Set(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct P {
        #[serde(default)]
        a: Patch<String>,
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let absent: P = serde_json::from_str("{}").unwrap();
        let null: P = serde_json::from_str(r#"{"a":null}"#).unwrap();
        let set: P = serde_json::from_str(r#"{"a":"x"}"#).unwrap();
        assert_eq!(absent.a, Patch::Keep);
        assert_eq!(null.a, Patch::Clear);
        assert_eq!(set.a, Patch::Set("x".into()));
    }

    #[test]
    fn errors_collect_every_field() {
        let mut e = ValidationErrors::new();
        e.add("email", "bad");
        e.add("name", "too long");
        e.add("email", "taken");
        assert_eq!(e.get("email").unwrap().len(), 2);
        assert_eq!(e.fields().collect::<Vec<_>>(), vec!["email", "name"]);
    }
}
