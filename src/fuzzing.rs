//! What the cargo-fuzz targets (`fuzz/`, issue 9) need and the public API
//! does not offer: the challenge-token codec and the account field checks,
//! which are crate-private. Not an API: only with the `fuzzing` feature,
//! hidden from the docs, and nothing in toktok uses it.

// Harness code for the fuzzer, built only for it: fixed keys that failed
// to load should stop the fuzzer at once, not be handled.
#![allow(clippy::expect_used)]

use serde_json::Value;

use crate::challenge::token::{Claims, Keyring, KEY_LEN, KID_LEN};
use crate::challenge::Namespace;
use crate::error::FieldError;

/// A challenge-token keyring with fixed keys: tokens sealed under the last
/// key, opened with any.
pub struct ChallengeTokens(Keyring);

/// What a challenge token carries: action, id, uid, secret.
pub type TokenClaims = (String, String, Option<String>, String);

impl ChallengeTokens {
    /// Two keys: key `i` (1, 2) has the id `[i; 8]` and the bytes `[i; 32]`.
    pub fn new() -> ChallengeTokens {
        use base64::Engine as _;
        let rows: Vec<(String, Vec<u8>)> = (1u8..=2)
            .map(|i| {
                let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([i; KID_LEN]);
                (kid, vec![i; KEY_LEN])
            })
            .collect();
        ChallengeTokens(Keyring::from_rows(&rows).expect("two valid keys"))
    }

    /// `None` unless `token` is a genuine token of these keys (namespace `api`).
    pub fn open(&self, token: &str) -> Option<TokenClaims> {
        self.0
            .open(token, Namespace::Api)
            .map(|c| (c.action, c.id, c.uid, c.secret))
    }

    /// Seals `claims` under the newest key with a random nonce.
    pub fn seal(&self, claims: TokenClaims) -> String {
        let (action, id, uid, secret) = claims;
        let claims = Claims {
            action,
            id,
            uid,
            secret,
        };
        self.0
            .seal(&claims, Namespace::Api, &ring::rand::SystemRandom::new())
            .expect("sealing with a valid key")
    }
}

impl Default for ChallengeTokens {
    fn default() -> Self {
        ChallengeTokens::new()
    }
}

/// The `name` check of registration and profile edits.
pub fn check_name(name: &Option<String>) -> Result<(), FieldError> {
    crate::accounts::check_name(name)
}

/// The `metadata` / `app_metadata` check of registration and edits.
pub fn check_metadata(field: &str, metadata: &Value) -> Result<(), FieldError> {
    crate::accounts::check_metadata(field, metadata)
}

/// The checks of a webhook's body that need no network (the URL's syntax,
/// the events, the description), in the order the handler runs them: the
/// refused fields, none when accepted.
pub fn webhook_fields(url: &str, events: &[String], description: Option<&str>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(e) = crate::hooks::target::parse_target(url) {
        errors.push(FieldError::new("url", e.to_string()));
    }
    crate::accounts::webhooks::check_events(events, &mut errors);
    crate::accounts::webhooks::check_description(description, &mut errors);
    errors
}

/// A mail template file's text as the `part` (`subject`, `txt`, `html`) it
/// would override, rendered with every placeholder set to `value`, escaped
/// as that part is; or why the file is refused.
pub fn mail_template(part: &str, source: &str, value: &str) -> Result<String, String> {
    use crate::mail::templates::{template_of, Escape, Vars};
    let template = template_of(part, source)?;
    let vars = Vars {
        app_name: value,
        link: value,
        expires_in: value,
        email: value,
        new_email: value,
        code: value,
    };
    let escape = match part {
        "subject" => Escape::Line,
        "html" => Escape::Html,
        _ => Escape::None,
    };
    Ok(template.render(&vars, escape))
}

/// An override `.ftl` file, checked as `[branding] messages_dir` checks
/// it; then each of its messages formatted with every argument English
/// passes it. The texts, or the refusal's (line, reason).
pub fn catalogue_override(source: &str) -> Result<Vec<String>, (usize, String)> {
    use crate::i18n::{overrides, CatalogueError, Locale};
    use fluent_bundle::concurrent::FluentBundle;
    use fluent_bundle::FluentArgs;
    use std::path::Path;
    static KNOWN: std::sync::OnceLock<Known> = std::sync::OnceLock::new();
    type Known = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;
    let known = KNOWN.get_or_init(|| {
        crate::i18n::builtin_arguments(Locale::En).expect("the built-in catalogues load")
    });
    let refusal = |e: CatalogueError| match e {
        CatalogueError::File { line, reason, .. } => (line, reason),
        other => (0, other.to_string()),
    };
    let file = Path::new("en/override.ftl");
    let resource = overrides::parse(file, source.to_owned()).map_err(refusal)?;
    overrides::check(file, &resource, known).map_err(refusal)?;
    let keys = overrides::messages(&resource);
    let mut bundle = FluentBundle::new_concurrent(vec!["en".parse().unwrap_or_default()]);
    bundle.set_use_isolating(false);
    bundle.add_resource_overriding(resource);
    let mut texts = Vec::new();
    for key in keys.keys() {
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            continue;
        };
        let mut args = FluentArgs::new();
        for arg in known.get(key).into_iter().flatten() {
            args.set(arg.as_str(), "x");
        }
        let mut errors = Vec::new();
        texts.push(
            bundle
                .format_pattern(pattern, Some(&args), &mut errors)
                .into_owned(),
        );
    }
    Ok(texts)
}
