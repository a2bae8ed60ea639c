//! `[[providers]]`: the upstream sign-in providers (docs/providers.md).
//!
//! The one array of tables in `toktok.toml`, so it is read here, beside
//! the table-driven sections of `keys.rs`: the same rules apply (unknown
//! keys are errors, kinds are checked, `TOKTOK_PROVIDERS__<ID>__<KEY>`
//! sets a key of the provider whose `id` is `<ID>`, which is how client
//! secrets are passed), and each problem names `providers[N].key` or the
//! variable.

use std::collections::HashMap;

use toml::{Table, Value};

use super::keys::Kind;
use super::load::{describe, kind_mismatch};
use super::values::is_http_url;
use super::{ConfigError, Secret};

/// What protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenID Connect: discovery from `issuer`, an ID token per sign-in.
    Oidc,
    /// GitHub's OAuth 2.0 plus its user and email API (not OIDC).
    Github,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Oidc => "oidc",
            ProviderKind::Github => "github",
        }
    }
}

/// How the provider sends the browser back: a query string, or an
/// auto-submitted form (`form_post`: Apple, when it is asked for the
/// name or email scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// Apple's client secret is a JWT signed with the team's key
/// (`federation::apple`), made afresh instead of configured.
#[derive(Debug, Clone, PartialEq)]
pub struct AppleKey {
    pub team_id: String,
    pub key_id: String,
    /// The `.p8` file's PEM text (PKCS#8, P-256). Secret.
    pub private_key: Secret,
}

/// One `[[providers]]` entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    /// `[a-z0-9_-]{1,32}`; appears in URLs and in identities.
    pub id: String,
    pub kind: ProviderKind,
    /// Shown on the sign-in page (default: the id).
    pub name: String,
    /// `false`: nobody signs in or links with it, and its identities
    /// stay stored but do nothing.
    pub enabled: bool,
    /// OIDC: the issuer, discovery at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scopes: Vec<String>,
    pub response_mode: ResponseMode,
    pub apple: Option<AppleKey>,
    /// GitHub (or GitHub Enterprise): the authorization and token
    /// endpoints and the REST API base.
    pub authorization_url: String,
    pub token_url: String,
    pub api_url: String,
}

/// Every key a `[[providers]]` entry may have, and its kind.
const PROVIDER_KEYS: &[(&str, Kind)] = &[
    ("id", Kind::Str),
    ("kind", Kind::Str),
    ("name", Kind::Str),
    ("enabled", Kind::Bool),
    ("issuer", Kind::Str),
    ("client_id", Kind::Str),
    ("client_secret", Kind::Str),
    ("scopes", Kind::List),
    ("response_mode", Kind::Str),
    ("team_id", Kind::Str),
    ("key_id", Kind::Str),
    ("private_key", Kind::Str),
    ("authorization_url", Kind::Str),
    ("token_url", Kind::Str),
    ("api_url", Kind::Str),
];

const GITHUB_AUTHORIZE: &str = "https://github.com/login/oauth/authorize";
const GITHUB_TOKEN: &str = "https://github.com/login/oauth/access_token";
const GITHUB_API: &str = "https://api.github.com";

/// The name of the environment section.
pub(super) const ENV_PREFIX: &str = "TOKTOK_PROVIDERS__";

fn known() -> String {
    PROVIDER_KEYS
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the file's `providers` value (if any) and the `TOKTOK_PROVIDERS__*`
/// variables into checked entries.
pub(super) fn parse(
    file: &str,
    value: Option<Value>,
    env: Vec<(String, String)>,
) -> Result<Vec<ProviderConfig>, ConfigError> {
    let mut tables: Vec<Table> = match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Table(t) => Ok(t),
                other => Err(ConfigError(format!(
                    "providers[{i}]: expected a [[providers]] table in {file}, got {}",
                    describe(&other)
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(ConfigError(format!(
                "providers: expected [[providers]] tables in {file}, got {}",
                describe(&other)
            )))
        }
    };
    // Step 1: keys and kinds, as for the other sections.
    for (i, table) in tables.iter().enumerate() {
        for (key, value) in table {
            let Some((_, kind)) = PROVIDER_KEYS.iter().find(|(k, _)| k == key) else {
                return Err(ConfigError(format!(
                    "unknown key `providers[{i}].{key}` in {file} (known keys in [[providers]]: {})",
                    known()
                )));
            };
            if let Some(problem) = kind_mismatch(*kind, value) {
                return Err(ConfigError(format!("providers[{i}].{key}: {problem}")));
            }
        }
    }
    // Step 2: the variables, each naming a provider of the file.
    let mut origins: HashMap<(usize, String), String> = HashMap::new();
    for (name, text) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some((id, key)) = rest.split_once("__") else {
            return Err(ConfigError(format!(
                "{name}: expected TOKTOK_PROVIDERS__<ID>__<KEY>, like TOKTOK_PROVIDERS__GOOGLE__CLIENT_SECRET"
            )));
        };
        let (id, key) = (id.to_ascii_lowercase(), key.to_ascii_lowercase());
        let Some(i) = tables.iter().position(|t| {
            t.get("id")
                .and_then(Value::as_str)
                .is_some_and(|v| v == id || v.replace('-', "_") == id)
        }) else {
            return Err(ConfigError(format!(
                "{name}: no [[providers]] entry has id \"{id}\"; declare the provider in the file and pass only its secrets this way"
            )));
        };
        let Some((_, kind)) = PROVIDER_KEYS.iter().find(|(k, _)| *k == key) else {
            return Err(ConfigError(format!(
                "{name}: unknown key `{key}` (known keys in [[providers]]: {})",
                known()
            )));
        };
        let value = match kind {
            Kind::Str => Value::String(text),
            Kind::Bool => match text.as_str() {
                "true" => Value::Boolean(true),
                "false" => Value::Boolean(false),
                _ => return Err(ConfigError(format!("{name}: expected true or false"))),
            },
            Kind::List => Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
            Kind::Int | Kind::Duration => {
                return Err(ConfigError(format!(
                    "{name}: not settable from the environment"
                )))
            }
        };
        if key == "id" {
            return Err(ConfigError(format!(
                "{name}: the id is set in the file only"
            )));
        }
        if let Some(table) = tables.get_mut(i) {
            table.insert(key.clone(), value);
        }
        origins.insert((i, key), name);
    }
    // Step 3: values.
    let mut out: Vec<ProviderConfig> = Vec::new();
    for (i, table) in tables.iter().enumerate() {
        let fail = |key: &str, problem: String| match origins.get(&(i, key.to_owned())) {
            Some(var) => ConfigError(format!("{var} (providers[{i}].{key}): {problem}")),
            None => ConfigError(format!("providers[{i}].{key}: {problem}")),
        };
        let provider = one(table, &fail)?;
        if out.iter().any(|p| p.id == provider.id) {
            return Err(fail(
                "id",
                format!(
                    "\"{}\" is used by an earlier [[providers]] entry",
                    provider.id
                ),
            ));
        }
        out.push(provider);
    }
    Ok(out)
}

fn text<'a>(table: &'a Table, key: &str) -> &'a str {
    table.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// An `http(s)` URL usable as a provider endpoint: `https://`, or
/// `http://` on a loopback host (development and tests).
pub fn is_provider_url(url: &str) -> bool {
    if !is_http_url(url) || url.contains('#') {
        return false;
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return false;
    }
    match parsed.scheme() {
        "https" => true,
        "http" => match parsed.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

fn one(
    table: &Table,
    fail: &dyn Fn(&str, String) -> ConfigError,
) -> Result<ProviderConfig, ConfigError> {
    let id = text(table, "id");
    let id_ok = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !id_ok {
        return Err(fail(
            "id",
            format!("expected 1 to 32 of a-z, 0-9, _ and - (it appears in URLs), got \"{id}\""),
        ));
    }
    let kind = match text(table, "kind") {
        "oidc" => ProviderKind::Oidc,
        "github" => ProviderKind::Github,
        other => {
            return Err(fail(
                "kind",
                format!("expected \"oidc\" or \"github\", got \"{other}\""),
            ))
        }
    };
    let name = match text(table, "name").trim() {
        "" => id.to_owned(),
        n if n.chars().count() > 64 || n.chars().any(char::is_control) => {
            return Err(fail("name", "one line of at most 64 characters".to_owned()))
        }
        n => n.to_owned(),
    };
    let enabled = table
        .get("enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let client_id = text(table, "client_id").trim().to_owned();
    if client_id.is_empty() {
        return Err(fail(
            "client_id",
            "the client id the provider gave for toktok is required".to_owned(),
        ));
    }
    let url_key = |key: &str, default: &str| -> Result<String, ConfigError> {
        let value = match text(table, key) {
            "" => default.to_owned(),
            v => v.trim_end_matches('/').to_owned(),
        };
        if is_provider_url(&value) {
            Ok(value)
        } else {
            Err(fail(
                key,
                format!(
                    "expected an https:// URL (http:// only on a loopback host), got \"{value}\""
                ),
            ))
        }
    };
    let (issuer, authorization_url, token_url, api_url) = match kind {
        ProviderKind::Oidc => {
            for key in ["authorization_url", "token_url", "api_url"] {
                if table.contains_key(key) {
                    return Err(fail(
                        key,
                        "only for kind = \"github\" (an OpenID provider's endpoints come from its discovery document)".to_owned(),
                    ));
                }
            }
            if text(table, "issuer").is_empty() {
                return Err(fail(
                    "issuer",
                    "required for kind = \"oidc\", e.g. \"https://accounts.google.com\"".to_owned(),
                ));
            }
            (
                url_key("issuer", "")?,
                String::new(),
                String::new(),
                String::new(),
            )
        }
        ProviderKind::Github => {
            if table.contains_key("issuer") {
                return Err(fail(
                    "issuer",
                    "GitHub is not an OpenID provider; leave issuer out for kind = \"github\""
                        .to_owned(),
                ));
            }
            (
                String::new(),
                url_key("authorization_url", GITHUB_AUTHORIZE)?,
                url_key("token_url", GITHUB_TOKEN)?,
                url_key("api_url", GITHUB_API)?,
            )
        }
    };
    let scopes: Vec<String> = match table.get("scopes").and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        None => match kind {
            ProviderKind::Oidc => vec!["openid".into(), "email".into(), "profile".into()],
            ProviderKind::Github => vec!["read:user".into(), "user:email".into()],
        },
    };
    if let Some(bad) = scopes.iter().find(|s| {
        s.is_empty()
            || s.bytes()
                .any(|b| b <= b' ' || b == b'"' || b == b'\\' || b >= 0x7f)
    }) {
        return Err(fail("scopes", format!("\"{bad}\" is not a scope")));
    }
    if kind == ProviderKind::Oidc && !scopes.iter().any(|s| s == "openid") {
        return Err(fail(
            "scopes",
            "must include \"openid\" for kind = \"oidc\"".to_owned(),
        ));
    }
    let response_mode = match text(table, "response_mode") {
        "" | "query" => ResponseMode::Query,
        "form_post" if kind == ProviderKind::Oidc => ResponseMode::FormPost,
        other => {
            return Err(fail(
                "response_mode",
                format!(
                    "expected \"query\" or \"form_post\" (OpenID providers only), got \"{other}\""
                ),
            ))
        }
    };
    let (team_id, key_id, private_key) = (
        text(table, "team_id").trim(),
        text(table, "key_id").trim(),
        text(table, "private_key"),
    );
    let apple = if team_id.is_empty() && key_id.is_empty() && private_key.is_empty() {
        None
    } else {
        for (key, value) in [
            ("team_id", team_id),
            ("key_id", key_id),
            ("private_key", private_key),
        ] {
            if value.is_empty() {
                return Err(fail(
                    key,
                    "team_id, key_id and private_key go together (Sign in with Apple's client-secret key)".to_owned(),
                ));
            }
        }
        if kind != ProviderKind::Oidc {
            return Err(fail(
                "team_id",
                "only for kind = \"oidc\" (Apple)".to_owned(),
            ));
        }
        if !private_key.contains("-----BEGIN PRIVATE KEY-----") {
            return Err(fail(
                "private_key",
                "expected the PEM text of Apple's .p8 key (-----BEGIN PRIVATE KEY----- …); pass it as TOKTOK_PROVIDERS__<ID>__PRIVATE_KEY".to_owned(),
            ));
        }
        Some(AppleKey {
            team_id: team_id.to_owned(),
            key_id: key_id.to_owned(),
            private_key: Secret::new(private_key),
        })
    };
    let client_secret = text(table, "client_secret").to_owned();
    if apple.is_some() && !client_secret.is_empty() {
        return Err(fail(
            "client_secret",
            "leave it out with team_id/key_id/private_key: Apple's client secret is made from the key".to_owned(),
        ));
    }
    if apple.is_none() && client_secret.is_empty() {
        return Err(fail(
            "client_secret",
            format!(
                "required; pass it as {ENV_PREFIX}{}__CLIENT_SECRET",
                id.replace('-', "_").to_ascii_uppercase()
            ),
        ));
    }
    Ok(ProviderConfig {
        id: id.to_owned(),
        kind,
        name,
        enabled,
        issuer,
        client_id,
        client_secret: Secret::new(client_secret),
        scopes,
        response_mode,
        apple,
        authorization_url,
        token_url,
        api_url,
    })
}

/// `[accounts] allowed_redirects`: each an absolute `https` URL (or `http`
/// on a loopback host) without userinfo, query or fragment. Stored parsed
/// and serialised, so comparisons see one spelling.
pub(super) fn allowed_redirect(item: &str) -> Option<String> {
    if !is_provider_url(item) || item.contains('?') {
        return None;
    }
    let url = url::Url::parse(item).ok()?;
    Some(url.to_string())
}
