//! JSON as the documented schema reads it: a deserializer over a parsed
//! [`Value`] that differs from `serde_json::Value`'s own in one way, that
//! an array never fills a struct.
//!
//! serde's derived `Deserialize` for a struct accepts a sequence as well as
//! a map (its fields in declaration order), so `{"profile": ["1990-01-02",
//! "nonbinary"]}` would set the profile's first fields. Every object-typed
//! member of Roster's bodies is documented as an object; this deserializer
//! answers an array there with the usual "invalid type" error, which the body
//! reader reports under the member's path. Everything else (numbers, maps,
//! sequences, options, enums) behaves as `serde_json::Value` does.

use serde::de::{
    self, value::StringDeserializer, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde_json::{Error, Map, Number, Value};

/// Deserializes from `value`, refusing arrays where a struct is expected.
pub(super) struct Strict(pub(super) Value);

fn visit_number<'de, V: Visitor<'de>>(n: Number, visitor: V) -> Result<V::Value, Error> {
    if let Some(u) = n.as_u64() {
        visitor.visit_u64(u)
    } else if let Some(i) = n.as_i64() {
        visitor.visit_i64(i)
    } else if let Some(f) = n.as_f64() {
        visitor.visit_f64(f)
    } else {
        Err(de::Error::custom("number out of range"))
    }
}

impl<'de> Deserializer<'de> for Strict {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => visit_number(n, visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visitor.visit_seq(Seq(items.into_iter())),
            Value::Object(map) => visitor.visit_map(Members::new(map)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Strict(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(_) => Err(de::Error::invalid_type(Unexpected::Seq, &"a JSON object")),
            Value::Object(map) => visitor.visit_map(Members::new(map)),
            other => Err(unexpected(&other, &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(Variant { name: variant, value: None }),
            Value::Object(map) if map.len() == 1 => {
                let Some((name, value)) = map.into_iter().next() else {
                    return Err(de::Error::invalid_length(0, &"an object with one member"));
                };
                visitor.visit_enum(Variant { name, value: Some(value) })
            }
            other => Err(unexpected(&other, &"a string or an object with one member")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

fn unexpected(value: &Value, expected: &dyn de::Expected) -> Error {
    let unexpected = match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Unexpected::Unsigned(u),
            (_, Some(i), _) => Unexpected::Signed(i),
            (_, _, Some(f)) => Unexpected::Float(f),
            _ => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    };
    de::Error::invalid_type(unexpected, expected)
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|v| seed.deserialize(Strict(v))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Members {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Members {
    fn new(map: Map<String, Value>) -> Members {
        Members { iter: map.into_iter(), value: None }
    }
}

impl<'de> MapAccess<'de> for Members {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.iter.next() else { return Ok(None) };
        self.value = Some(value);
        let key: StringDeserializer<Error> = key.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self.value.take().ok_or_else(|| de::Error::custom("a value was asked for before its key"))?;
        seed.deserialize(Strict(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An enum's variant: a bare string (unit variant) or `{"name": value}`.
struct Variant {
    name: String,
    value: Option<Value>,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = VariantValue;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, VariantValue), Error> {
        let name: StringDeserializer<Error> = self.name.into_deserializer();
        Ok((seed.deserialize(name)?, VariantValue(self.value)))
    }
}

/// What follows a variant's name: nothing for a bare string.
struct VariantValue(Option<Value>);

impl<'de> VariantAccess<'de> for VariantValue {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            None | Some(Value::Null) => Ok(()),
            Some(other) => Err(unexpected(&other, &"a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.0 {
            Some(value) => seed.deserialize(Strict(value)),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &"a newtype variant")),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Some(Value::Array(items)) => visitor.visit_seq(Seq(items.into_iter())),
            Some(other) => Err(unexpected(&other, &"a tuple variant")),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &"a tuple variant")),
        }
    }

    fn struct_variant<V: Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Some(Value::Object(map)) => visitor.visit_map(Members::new(map)),
            Some(other) => Err(unexpected(&other, &"a struct variant")),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &"a struct variant")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        a: Option<String>,
        b: Option<u8>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        One,
        Two,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<Inner>,
        #[serde(default)]
        map: BTreeMap<String, serde_json::Value>,
        #[serde(default)]
        kind: Option<Kind>,
        #[serde(default)]
        n: Option<i32>,
        #[serde(default)]
        f: Option<f64>,
        #[serde(default)]
        id: Option<uuid::Uuid>,
    }

    fn strict(v: Value) -> Result<Outer, Error> {
        Outer::deserialize(Strict(v))
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let v = serde_json::json!({
            "inner": {"a": "x", "b": 7},
            "list": [{"a": null}, {"b": 1}],
            "map": {"k": [1, {"z": null}]},
            "kind": "two",
            "n": -5,
            "f": 1.5,
            "id": "0190a0b2-0000-7000-8000-000000000001"
        });
        let ours = strict(v.clone()).expect("strict reads it");
        let theirs: Outer = serde_json::from_value(v).expect("serde_json reads it");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn an_array_never_fills_a_struct() {
        let err = strict(serde_json::json!({"inner": ["x", 7]})).expect_err("refused");
        assert!(err.to_string().contains("invalid type: sequence, expected a JSON object"), "{err}");
        let err = strict(serde_json::json!({"list": [["x", 7]]})).expect_err("refused");
        assert!(err.to_string().contains("expected a JSON object"), "{err}");
        assert!(
            serde_json::from_value::<Outer>(serde_json::json!({"inner": ["x", 7]})).is_ok(),
            "serde_json's own would"
        );
    }

    #[test]
    fn wrong_types_are_still_refused_by_their_visitors() {
        for bad in [
            serde_json::json!({"n": "5"}),
            serde_json::json!({"n": 1.5}),
            serde_json::json!({"n": 4_294_967_296_i64}),
            serde_json::json!({"kind": "three"}),
            serde_json::json!({"kind": 1}),
            serde_json::json!({"inner": "x"}),
            serde_json::json!({"inner": {"c": 1}}),
            serde_json::json!({"map": []}),
            serde_json::json!({"id": "nope"}),
        ] {
            assert!(strict(bad.clone()).is_err(), "{bad} must be refused");
        }
    }
}
