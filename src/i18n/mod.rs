//! Languages: which one a person gets ([`negotiate`]) and the words in it
//! ([`Catalogues`]).
//!
//! The words are Project Fluent message catalogues, one folder per
//! language under `locales/` (`pages.ftl`, `mail.ftl`, `problems.ftl`),
//! compiled into the binary. Fluent rather than format strings because
//! each language has its own plural rules and word order: a message names
//! its arguments (`{ $seconds }`) and chooses its own forms (`[one]`,
//! `*[other]`), and the files are a format translators' tools know. English
//! is the reference: every key of any catalogue exists in all four, with
//! the same arguments (a test holds them to it), and a key that an
//! operator's override lacks falls back to the built-in text.
//!
//! [`Catalogues`] is built once at start (with the overrides of
//! `[branding] messages_dir`, checked there: `overrides.rs`) and held in
//! `AppState`; nothing here is global. It knows nothing of HTTP: the pages
//! (`http::pages`) and the problem titles (`http::error`) ask it for text
//! in the locale they negotiated from the request.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

pub use crate::domain::locale::Locale;

pub(crate) mod overrides;

pub use overrides::CatalogueError;

/// The built-in catalogue files: (locale, file name, source).
const BUILTIN: &[(Locale, &str, &str)] = &[
    (
        Locale::En,
        "pages.ftl",
        include_str!("locales/en/pages.ftl"),
    ),
    (Locale::En, "mail.ftl", include_str!("locales/en/mail.ftl")),
    (
        Locale::En,
        "problems.ftl",
        include_str!("locales/en/problems.ftl"),
    ),
    (
        Locale::En,
        "admin.ftl",
        include_str!("locales/en/admin.ftl"),
    ),
    (
        Locale::En,
        "account.ftl",
        include_str!("locales/en/account.ftl"),
    ),
    (
        Locale::Fr,
        "pages.ftl",
        include_str!("locales/fr/pages.ftl"),
    ),
    (Locale::Fr, "mail.ftl", include_str!("locales/fr/mail.ftl")),
    (
        Locale::Fr,
        "problems.ftl",
        include_str!("locales/fr/problems.ftl"),
    ),
    (
        Locale::Fr,
        "admin.ftl",
        include_str!("locales/fr/admin.ftl"),
    ),
    (
        Locale::Fr,
        "account.ftl",
        include_str!("locales/fr/account.ftl"),
    ),
    (
        Locale::De,
        "pages.ftl",
        include_str!("locales/de/pages.ftl"),
    ),
    (Locale::De, "mail.ftl", include_str!("locales/de/mail.ftl")),
    (
        Locale::De,
        "problems.ftl",
        include_str!("locales/de/problems.ftl"),
    ),
    (
        Locale::De,
        "admin.ftl",
        include_str!("locales/de/admin.ftl"),
    ),
    (
        Locale::De,
        "account.ftl",
        include_str!("locales/de/account.ftl"),
    ),
    (
        Locale::Es,
        "pages.ftl",
        include_str!("locales/es/pages.ftl"),
    ),
    (Locale::Es, "mail.ftl", include_str!("locales/es/mail.ftl")),
    (
        Locale::Es,
        "problems.ftl",
        include_str!("locales/es/problems.ftl"),
    ),
    (
        Locale::Es,
        "admin.ftl",
        include_str!("locales/es/admin.ftl"),
    ),
    (
        Locale::Es,
        "account.ftl",
        include_str!("locales/es/account.ftl"),
    ),
];

/// The locale for one person, in the contract's order (docs/API.md
/// "Account center, admin console, languages"): their account's `locale`,
/// else the first supported tag of the OpenID request's `ui_locales`
/// (space-separated, in order of preference), else the best of the
/// browser's `Accept-Language` (by q-value), else `default`
/// (`[branding] default_locale`). A tag counts by its language alone
/// (`fr-CA` is French); an unsupported one is passed over.
pub fn negotiate(
    user_locale: Option<&str>,
    ui_locales: Option<&str>,
    accept_language: Option<&str>,
    default: Locale,
) -> Locale {
    user_locale
        .and_then(Locale::from_tag)
        .or_else(|| ui_locales.and_then(from_ui_locales))
        .or_else(|| accept_language.and_then(from_accept_language))
        .unwrap_or(default)
}

/// The first supported tag of a space-separated `ui_locales` list.
pub fn from_ui_locales(list: &str) -> Option<Locale> {
    list.split_whitespace().find_map(Locale::from_tag)
}

/// The supported language an `Accept-Language` header (RFC 9110 §12.5.4)
/// prefers most: tags by falling q-value (equal ones in their order),
/// `q=0` refused, `*` and unsupported tags passed over. `None` when no
/// tag is supported.
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut ranked: Vec<(u16, usize, Locale)> = header
        .split(',')
        .enumerate()
        .filter_map(|(at, item)| {
            let mut parts = item.split(';');
            let locale = Locale::from_tag(parts.next()?)?;
            let q = parts
                .find_map(|p| {
                    let (name, value) = p.split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("q")
                        .then(|| quality(value))
                })
                .unwrap_or(Some(1000))?;
            (q > 0).then_some((q, at, locale))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.first().map(|&(_, _, locale)| locale)
}

/// A q-value in thousandths (`0.8` → 800); `None` when it is not one
/// (the tag is then ignored, as a malformed item).
fn quality(text: &str) -> Option<u16> {
    let q: f32 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&q)
        .then(|| (q * 1000.0).round() as u16)
}

/// One argument of a message: text, or a number (which chooses plural
/// forms).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Text(Cow<'a, str>),
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Arg<'_> {
    fn from(text: String) -> Self {
        Arg::Text(Cow::Owned(text))
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// The messages of every locale: the built-in catalogues with the
/// operator's overrides applied. Built once at start; cheap to read from
/// any thread.
pub struct Catalogues {
    /// One bundle per locale, in [`Locale::ALL`]'s order.
    bundles: Vec<FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for Catalogues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogues").finish_non_exhaustive()
    }
}

impl Catalogues {
    /// The built-in catalogues alone.
    #[cfg(test)]
    pub fn builtin() -> Result<Catalogues, CatalogueError> {
        Catalogues::load(Path::new(""))
    }

    /// The built-in catalogues with the overrides in `messages_dir` (empty:
    /// none): `<lang>/*.ftl` files whose messages replace the built-in ones
    /// key by key. A folder that is not a supported language, a file that
    /// does not parse, or a message English does not have (or that uses an
    /// argument toktok does not pass) is an error naming the file and line.
    pub fn load(messages_dir: &Path) -> Result<Catalogues, CatalogueError> {
        let mut bundles = Vec::with_capacity(Locale::ALL.len());
        for locale in Locale::ALL {
            let mut bundle = FluentBundle::new_concurrent(vec![langid(locale)]);
            // Pages put text into HTML; the bidi isolation marks Fluent adds
            // around arguments by default would end up in form values and
            // titles.
            bundle.set_use_isolating(false);
            for (_, file, source) in BUILTIN.iter().filter(|(l, _, _)| *l == locale) {
                let resource = overrides::parse(Path::new(file), (*source).to_owned())?;
                if let Err(errors) = bundle.add_resource(resource) {
                    return Err(CatalogueError::Builtin(format!(
                        "{locale}/{file}: {errors:?}"
                    )));
                }
            }
            bundles.push(bundle);
        }
        if !messages_dir.as_os_str().is_empty() {
            let known = builtin_arguments(Locale::En)?;
            for (locale, resource) in overrides::read(messages_dir, &known)? {
                bundles[index(locale)].add_resource_overriding(resource);
            }
        }
        Ok(Catalogues { bundles })
    }

    /// The text of `key` in `locale` with `args`, plain (not escaped for
    /// HTML). A key missing in `locale` falls back to English, and one
    /// missing everywhere (a bug, which the tests catch) is the key itself,
    /// logged.
    pub fn text(&self, locale: Locale, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let found = [locale, Locale::En].into_iter().find_map(|l| {
            let bundle = &self.bundles[index(l)];
            Some((bundle, bundle.get_message(key)?.value()?))
        });
        let Some((bundle, pattern)) = found else {
            tracing::error!(key, %locale, "a message is missing from the catalogues");
            return key.to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            let value = match value {
                Arg::Text(text) => FluentValue::from(text.as_ref()),
                Arg::Number(n) => FluentValue::from(*n),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, %locale, ?errors, "a message did not format cleanly");
        }
        text.into_owned()
    }
}

/// Every message of `locale`'s built-in catalogues with the arguments it
/// uses: the reference an override (and the completeness test) is held to.
pub fn builtin_arguments(
    locale: Locale,
) -> Result<BTreeMap<String, BTreeSet<String>>, CatalogueError> {
    let mut out = BTreeMap::new();
    for (_, file, source) in BUILTIN.iter().filter(|(l, _, _)| *l == locale) {
        let resource = overrides::parse(Path::new(file), (*source).to_owned())?;
        out.extend(overrides::messages(&resource));
    }
    Ok(out)
}

fn index(locale: Locale) -> usize {
    match locale {
        Locale::En => 0,
        Locale::Fr => 1,
        Locale::De => 2,
        Locale::Es => 3,
    }
}

fn langid(locale: Locale) -> unic_langid::LanguageIdentifier {
    // The four subtags are valid language identifiers; the default (`und`)
    // would only lose plural rules, never fail.
    locale.as_str().parse().unwrap_or_default()
}

#[cfg(test)]
mod tests;
