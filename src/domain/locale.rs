//! [`Locale`]: the languages toktok speaks, as a value the configuration
//! parses (`[branding] default_locale`) and the catalogues (`crate::i18n`)
//! are indexed by.
//!
//! A closed enum rather than a free language tag: every page, mail and
//! problem title exists in each of these, a test holds the catalogues to
//! it, and a tag from a browser (`fr-CA`, `de-AT`) is reduced to one of
//! them by its language subtag, or to none.

use unic_langid::LanguageIdentifier;

/// One of the languages toktok ships catalogues for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Locale {
    En,
    Fr,
    De,
    Es,
}

impl Locale {
    /// Every locale, English (the reference catalogue) first.
    pub const ALL: [Locale; 4] = [Locale::En, Locale::Fr, Locale::De, Locale::Es];

    /// The language subtag: `en`, `fr`, `de`, `es` (also the catalogue's
    /// folder and the pages' `<html lang>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
            Locale::De => "de",
            Locale::Es => "es",
        }
    }

    /// The locale of a BCP 47 tag by its language subtag, any case, any
    /// region or script: `fr`, `fr-CA` and `FR_ca` are all French. `None`
    /// for a tag that does not parse or a language toktok does not speak.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let tag = tag.trim().replace('_', "-");
        let id: LanguageIdentifier = tag.parse().ok()?;
        let language = id.language.as_str();
        Locale::ALL.into_iter().find(|l| l.as_str() == language)
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_reduce_to_their_language() {
        assert_eq!(Locale::from_tag("fr"), Some(Locale::Fr));
        assert_eq!(Locale::from_tag("fr-CA"), Some(Locale::Fr));
        assert_eq!(Locale::from_tag("DE_at"), Some(Locale::De));
        assert_eq!(Locale::from_tag(" es-419 "), Some(Locale::Es));
        assert_eq!(Locale::from_tag("en-GB"), Some(Locale::En));
        assert_eq!(Locale::from_tag("it"), None);
        assert_eq!(Locale::from_tag("*"), None);
        assert_eq!(Locale::from_tag(""), None);
        assert_eq!(Locale::from_tag("not a tag"), None);
    }
}
