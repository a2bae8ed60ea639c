//! Display names: the [`Name`] newtype and its parser.
//!
//! A user's `name` is free text the user chooses (docs/API.md "User object"):
//! any script, any punctuation, empty allowed. Two things are refused, so
//! that a name can be shown in a page, a mail or a log line without
//! surprises: more than [`NAME_MAX_CHARS`] characters, and control
//! characters (newlines, escapes, NUL), which would forge lines in a mail
//! or a log. A name is kept exactly as sent: no trimming, no normalising.

use std::fmt;

/// Longest display name, in characters (Unicode scalar values).
pub const NAME_MAX_CHARS: usize = 256;

/// A display name that passed [`Name::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

/// Why a name is refused. The `Display` text is the message reported
/// under the field `name` (docs/API.md "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must be at most {NAME_MAX_CHARS} characters")]
    TooLong,
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl Name {
    /// The name `raw`, if it is acceptable. Length is checked first: a name
    /// both too long and with control characters is `TooLong`.
    pub fn parse(raw: String) -> Result<Name, NameError> {
        if raw.chars().count() > NAME_MAX_CHARS {
            return Err(NameError::TooLong);
        }
        if raw.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        Ok(Name(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as sent, for storage.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = NameError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Name::parse(raw)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn messages_are_the_api_ones() {
        assert_eq!(
            NameError::TooLong.to_string(),
            "must be at most 256 characters"
        );
        assert_eq!(
            NameError::ControlCharacter.to_string(),
            "must not contain control characters"
        );
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(Name::parse("é".repeat(NAME_MAX_CHARS)).is_ok());
        assert_eq!(
            Name::parse("a".repeat(NAME_MAX_CHARS + 1)),
            Err(NameError::TooLong)
        );
    }

    #[test]
    fn empty_names_and_any_script_pass_as_sent() {
        for raw in ["", " ", "  Ada Lovelace ", "李小龙", "Zoë 🦀", "\u{200B}"] {
            assert_eq!(Name::parse(raw.to_owned()).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for raw in ["a\nb", "a\rb", "\tname", "nul\0", "esc\u{1b}[31m", "\u{85}"] {
            assert_eq!(
                Name::parse(raw.to_owned()),
                Err(NameError::ControlCharacter),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn length_is_checked_before_control_characters() {
        let raw = format!("{}\n", "a".repeat(NAME_MAX_CHARS));
        assert_eq!(Name::parse(raw), Err(NameError::TooLong));
    }

    proptest! {
        #[test]
        fn short_names_without_controls_round_trip(raw in "[^\\p{Cc}]{0,256}") {
            let name = Name::parse(raw.clone()).unwrap();
            prop_assert_eq!(name.into_inner(), raw);
        }

        #[test]
        fn the_verdict_is_length_then_controls(raw in "\\PC{0,300}|.{0,300}") {
            let expected = if raw.chars().count() > NAME_MAX_CHARS {
                Err(NameError::TooLong)
            } else if raw.chars().any(char::is_control) {
                Err(NameError::ControlCharacter)
            } else {
                Ok(Name(raw.clone()))
            };
            prop_assert_eq!(Name::parse(raw), expected);
        }
    }
}
