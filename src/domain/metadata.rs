//! User-supplied JSON documents: the [`Metadata`] newtype and its parser.
//!
//! `metadata` (the user's own) and `app_metadata` (set by an operator) are
//! documents toktok stores and hands back without reading them (docs/API.md
//! "User object"). Two rules keep them usable by every client and cheap to
//! store: the document is a JSON object (so a client can always add a key
//! of its own), and its serialised form is at most [`METADATA_MAX_BYTES`].
//! The field an error is reported under is the caller's to say
//! (`metadata` or `app_metadata`).

use serde_json::{Map, Value};

/// Largest document, serialised (docs/API.md "User object").
pub const METADATA_MAX_BYTES: usize = 16 * 1024;

/// A JSON object of at most [`METADATA_MAX_BYTES`] serialised.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata(Map<String, Value>);

/// Why a document is refused. The `Display` text is the message reported
/// under the document's field (docs/API.md "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("must be a JSON object")]
    NotAnObject,
    #[error("must be at most {METADATA_MAX_BYTES} bytes")]
    TooLarge,
}

impl Metadata {
    /// The document `value`, if it is an object small enough. The size is
    /// that of `value` serialised compactly, as the store writes it.
    pub fn parse(value: Value) -> Result<Metadata, MetadataError> {
        if !value.is_object() {
            return Err(MetadataError::NotAnObject);
        }
        // `Value`'s `Display` is the compact JSON form.
        if value.to_string().len() > METADATA_MAX_BYTES {
            return Err(MetadataError::TooLarge);
        }
        match value {
            Value::Object(map) => Ok(Metadata(map)),
            _ => Err(MetadataError::NotAnObject),
        }
    }

    /// The empty object a new account starts with.
    pub fn empty() -> Metadata {
        Metadata(Map::new())
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The document as a JSON value, for storage.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

impl TryFrom<Value> for Metadata {
    type Error = MetadataError;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Metadata::parse(value)
    }
}

impl From<Metadata> for Value {
    fn from(metadata: Metadata) -> Value {
        metadata.into_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn messages_are_the_api_ones() {
        assert_eq!(
            MetadataError::NotAnObject.to_string(),
            "must be a JSON object"
        );
        assert_eq!(
            MetadataError::TooLarge.to_string(),
            "must be at most 16384 bytes"
        );
    }

    #[test]
    fn only_objects_pass() {
        for value in [
            json!(null),
            json!(true),
            json!(1),
            json!("x"),
            json!([]),
            json!([{}]),
        ] {
            assert_eq!(
                Metadata::parse(value.clone()),
                Err(MetadataError::NotAnObject),
                "{value}"
            );
        }
        let value = json!({ "plan": "pro", "tags": ["a"], "n": 1.5 });
        assert_eq!(Metadata::parse(value.clone()).unwrap().into_value(), value);
        assert_eq!(Metadata::empty().into_value(), json!({}));
    }

    /// `{"k":"…"}` is 8 bytes around the string.
    fn object_of_len(len: usize) -> Value {
        json!({ "k": "x".repeat(len - 8) })
    }

    #[test]
    fn the_limit_is_on_the_compact_serialised_form() {
        assert_eq!(object_of_len(100).to_string().len(), 100);
        assert!(Metadata::parse(object_of_len(METADATA_MAX_BYTES)).is_ok());
        assert_eq!(
            Metadata::parse(object_of_len(METADATA_MAX_BYTES + 1)),
            Err(MetadataError::TooLarge)
        );
        // Escapes count as sent: a quote serialises as two bytes.
        let quotes = json!({ "k": "\"".repeat((METADATA_MAX_BYTES - 8) / 2 + 1) });
        assert_eq!(Metadata::parse(quotes), Err(MetadataError::TooLarge));
    }

    proptest! {
        // Documents near the limit are slow to generate unoptimised.
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn the_verdict_matches_the_rule(
            entries in proptest::collection::vec(("[a-z]{1,8}", "\\PC{0,4000}"), 0..8),
            wrap in any::<bool>(),
        ) {
            let object: Map<String, Value> = entries
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let value = if wrap {
                Value::Array(vec![Value::Object(object)])
            } else {
                Value::Object(object)
            };
            let expected = if !value.is_object() {
                Err(MetadataError::NotAnObject)
            } else if value.to_string().len() > METADATA_MAX_BYTES {
                Err(MetadataError::TooLarge)
            } else {
                Ok(value.clone())
            };
            prop_assert_eq!(Metadata::parse(value).map(Metadata::into_value), expected);
        }
    }
}
