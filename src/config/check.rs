//! Checking (step 3): the [`Checker`] that stores each key's value into
//! [`Config`] as its row of `KEYS` says, with one method per kind of check;
//! and the rules across keys.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::domain::algorithm::Algorithm;

use toml::{Table, Value};

use super::keys::{Rule, KEYS};
use super::load::kind_mismatch;
use super::values::*;
use super::*;

/// Turns the layered table's values into checked ones, key by key as
/// [`KEYS`] says. Knows which keys came from the environment, so an error
/// says `TOKTOK_JWT__SECRET (jwt.secret): ...`.
pub(super) struct Checker<'a> {
    pub(super) origins: &'a HashMap<String, String>,
}

impl Checker<'_> {
    pub(super) fn fail(&self, key: &str, problem: impl fmt::Display) -> ConfigError {
        match self.origins.get(key) {
            Some(var) => ConfigError(format!("{var} ({key}): {problem}")),
            None => ConfigError(format!("{key}: {problem}")),
        }
    }

    /// Step 3: `Config::default()` with every key of `table` checked and
    /// stored over it, in [`KEYS`] order. The table's keys and kinds have
    /// been checked already (load.rs), so a value of the wrong kind here is
    /// reported, not assumed away.
    pub(super) fn config(&self, table: &Table) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        for (section, keys) in KEYS {
            let Some(entries) = table.get(*section).and_then(Value::as_table) else {
                continue;
            };
            if *section == "database" {
                self.one_database(entries)?;
            }
            for (name, rule) in *keys {
                if let Some(value) = entries.get(*name) {
                    self.apply(&format!("{section}.{name}"), rule, value, &mut config)?;
                }
            }
        }
        Ok(config)
    }

    /// The one rule about raw entries rather than checked values: a path
    /// and a (non-empty) url both set. Checked before either, as written.
    fn one_database(&self, entries: &Table) -> Result<(), ConfigError> {
        // An empty url is "not set" (the shipped toktok.toml lists it so).
        let url = entries
            .get("url")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty());
        if entries.contains_key("path") && url.is_some() {
            return Err(self.fail(
                "database.url",
                "set either database.path (SQLite) or database.url (PostgreSQL), not both",
            ));
        }
        Ok(())
    }

    fn apply(
        &self,
        key: &str,
        rule: &Rule,
        value: &Value,
        c: &mut Config,
    ) -> Result<(), ConfigError> {
        let wrong_kind = || {
            let problem = kind_mismatch(rule.kind(), value).unwrap_or_default();
            self.fail(key, problem)
        };
        let int = || value.as_integer().ok_or_else(wrong_kind);
        match rule {
            Rule::Bool(field) => *field(c) = value.as_bool().ok_or_else(wrong_kind)?,
            Rule::Duration(field) => {
                *field(c) = self.duration(key, value).ok_or_else(wrong_kind)??
            }
            Rule::DurationOrZero(field) => {
                // "0s" is allowed here alone: strict rotation, no grace.
                let zero = RawDuration::from_value(value).is_some_and(|v| v.is_zero());
                *field(c) = if zero {
                    Duration::ZERO
                } else {
                    self.duration(key, value).ok_or_else(wrong_kind)??
                };
            }
            Rule::U16(min, max, field) => *field(c) = self.int(key, int()?, *min, *max)?,
            Rule::U32(min, max, field) => *field(c) = self.int(key, int()?, *min, *max)?,
            Rule::Usize(min, max, field) => *field(c) = self.int(key, int()?, *min, *max)?,
            Rule::Str(set) => {
                let text = value.as_str().ok_or_else(wrong_kind)?;
                set(self, key, text.to_owned(), c)?;
            }
            Rule::List(set) => {
                let items = value.as_array().ok_or_else(wrong_kind)?;
                let texts = items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(wrong_kind)?;
                set(self, key, texts, c)?;
            }
        }
        Ok(())
    }

    fn int<T: TryFrom<i64>>(
        &self,
        key: &str,
        value: i64,
        min: i64,
        max: i64,
    ) -> Result<T, ConfigError> {
        if value < min {
            return Err(self.fail(key, format!("must be at least {min}, got {value}")));
        }
        if value > max {
            return Err(self.fail(key, format!("must be at most {max}, got {value}")));
        }
        T::try_from(value)
            .map_err(|_| self.fail(key, format!("{value} is too large for this machine")))
    }

    /// `None` when `value` is no duration at all (neither text nor number).
    fn duration(&self, key: &str, value: &Value) -> Option<Result<Duration, ConfigError>> {
        let (parsed, shown) = match RawDuration::from_value(value)? {
            RawDuration::Seconds(n) => (duration_from_seconds(n), n.to_string()),
            RawDuration::Text(text) => (parse_duration(text), format!("\"{text}\"")),
        };
        Some(parsed.map_err(|problem| self.fail(key, problem.explain(&shown))))
    }

    // The string and list checks below store into the field they are given
    // (`into`), so each row of KEYS is one call.

    /// Any text, as written.
    pub(super) fn as_is<T: From<String>>(
        &self,
        text: String,
        into: &mut T,
    ) -> Result<(), ConfigError> {
        *into = T::from(text);
        Ok(())
    }

    /// The text without surrounding whitespace.
    pub(super) fn trimmed<T: From<String>>(
        &self,
        text: String,
        into: &mut T,
    ) -> Result<(), ConfigError> {
        *into = T::from(text.trim().to_owned());
        Ok(())
    }

    pub(super) fn non_empty<T: From<String>>(
        &self,
        key: &str,
        text: String,
        into: &mut T,
    ) -> Result<(), ConfigError> {
        if text.trim().is_empty() {
            return Err(self.fail(key, "must not be empty"));
        }
        *into = T::from(text);
        Ok(())
    }

    /// One of the words [`Choice::ALL`] spells, exactly.
    pub(super) fn choice<T: Choice>(
        &self,
        key: &str,
        text: &str,
        into: &mut T,
    ) -> Result<(), ConfigError> {
        match T::ALL.iter().find(|option| option.name() == text) {
            Some(option) => {
                *into = *option;
                Ok(())
            }
            None => {
                let names: Vec<String> = T::ALL
                    .iter()
                    .map(|option| format!("\"{}\"", option.name()))
                    .collect();
                Err(self.fail(
                    key,
                    format!("expected one of {}, got \"{text}\"", names.join(", ")),
                ))
            }
        }
    }

    pub(super) fn socket_addr(
        &self,
        key: &str,
        text: String,
        into: &mut SocketAddr,
    ) -> Result<(), ConfigError> {
        *into = text.trim().parse().map_err(|_| {
            self.fail(
                key,
                format!("expected a socket address like \"127.0.0.1:8080\" or \"[::]:8080\", got \"{text}\""),
            )
        })?;
        Ok(())
    }

    /// An http(s) URL, stored without trailing `/`.
    pub(super) fn public_url(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        let url = self.http_url(key, text, false)?;
        *into = url.trim_end_matches('/').to_string();
        Ok(())
    }

    /// Empty, or an http(s) URL.
    pub(super) fn redirect_url(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        *into = self.http_url(key, text, true)?;
        Ok(())
    }

    /// `http://` or `https://` followed by a host; `allow_empty` for the
    /// optional redirect URLs.
    fn http_url(&self, key: &str, text: String, allow_empty: bool) -> Result<String, ConfigError> {
        if allow_empty && text.is_empty() {
            return Ok(text);
        }
        if is_http_url(&text) {
            return Ok(text);
        }
        let allowed = if allow_empty { "empty or " } else { "" };
        Err(self.fail(
            key,
            format!("expected {allowed}an http:// or https:// URL like \"https://auth.example.com\", got \"{text}\""),
        ))
    }

    /// Empty: not set. Else `postgres://` or `postgresql://` followed by
    /// something: the rest is checked by the client library when it
    /// connects at start.
    pub(super) fn postgres_url(
        &self,
        key: &str,
        text: String,
        into: &mut Option<Secret>,
    ) -> Result<(), ConfigError> {
        if text.is_empty() {
            return Ok(());
        }
        let rest = text
            .strip_prefix("postgres://")
            .or_else(|| text.strip_prefix("postgresql://"));
        match rest {
            Some(rest) if !rest.trim().is_empty() => {
                *into = Some(Secret::new(text));
                Ok(())
            }
            _ => Err(self.fail(
                key,
                "must be a PostgreSQL URL like \"postgres://toktok:password@db.example/toktok\"",
            )),
        }
    }

    pub(super) fn mailbox(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        if !text.contains('@') {
            return Err(self.fail(
                key,
                format!(
                    "expected a mailbox like \"toktok <no-reply@example.com>\", got \"{text}\""
                ),
            ));
        }
        *into = text;
        Ok(())
    }

    /// Non-empty, one line, no control characters (it goes into subjects).
    pub(super) fn one_line(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        let mut checked = String::new();
        self.non_empty(key, text, &mut checked)?;
        if checked.chars().any(char::is_control) {
            return Err(self.fail(
                key,
                "must be one line without control characters (it goes into subjects)",
            ));
        }
        *into = checked;
        Ok(())
    }

    /// `[branding] logo`: empty, or the path of an image file that toktok
    /// reads at start and serves itself (`GET /branding/logo`): the pages
    /// load nothing from another origin, so a URL is refused here.
    pub(super) fn logo_path(
        &self,
        key: &str,
        text: String,
        into: &mut PathBuf,
    ) -> Result<(), ConfigError> {
        let text = text.trim();
        if text.contains("://") {
            return Err(self.fail(
                key,
                "must be the path of an image file (toktok serves it at /branding/logo; \
                 its pages load nothing from another origin), not a URL",
            ));
        }
        if !text.is_empty() && BrandingConfig::image_type(std::path::Path::new(text)).is_none() {
            return Err(self.fail(
                key,
                format!("\"{text}\" must end in .png, .svg, .jpg, .jpeg, .webp or .gif"),
            ));
        }
        *into = PathBuf::from(text);
        Ok(())
    }

    /// `[branding] support_email`: empty, or one plain address
    /// (`help@example.com`), shown at the foot of every page.
    pub(super) fn support_email(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        let text = text.trim();
        let plain = text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }) && text.matches('@').count() == 1
            && text
                .chars()
                .all(|c| c.is_ascii_graphic() && !"<>\"'\\(),;:[]".contains(c));
        if !text.is_empty() && !plain {
            return Err(self.fail(
                key,
                format!("must be one plain address like \"help@example.com\", got \"{text}\""),
            ));
        }
        *into = text.to_owned();
        Ok(())
    }

    /// `[branding] name`: one line of 1 to 64 characters.
    pub(super) fn brand_name(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        let mut checked = String::new();
        self.one_line(key, text, &mut checked)?;
        if checked.chars().count() > 64 {
            return Err(self.fail(key, "must be at most 64 characters"));
        }
        *into = checked;
        Ok(())
    }

    /// A CSS hex colour, `#rgb` or `#rrggbb` (it goes into a style sheet,
    /// so nothing else is let through).
    pub(super) fn color(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        let hex = text.strip_prefix('#').unwrap_or("");
        if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.fail(
                key,
                format!("expected a colour like \"#2b6cb0\" or \"#15b\", got \"{text}\""),
            ));
        }
        *into = text.to_ascii_lowercase();
        Ok(())
    }

    pub(super) fn log_filter(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        if !is_log_filter(&text) {
            return Err(self.fail(
                key,
                format!("expected trace, debug, info, warn, error, off or a directive like \"info,toktok=debug\", got \"{text}\""),
            ));
        }
        *into = text;
        Ok(())
    }

    /// A socket address, or `""`/`"off"` for none.
    pub(super) fn metrics_listen(
        &self,
        key: &str,
        text: String,
        into: &mut Option<SocketAddr>,
    ) -> Result<(), ConfigError> {
        let text = text.trim();
        *into = if text.is_empty() || text == "off" {
            None
        } else {
            Some(text.parse().map_err(|_| {
                self.fail(
                    key,
                    format!("expected a socket address like \"127.0.0.1:9464\", or \"off\", got \"{text}\""),
                )
            })?)
        };
        Ok(())
    }

    /// Empty (the documented default applies), or one line as
    /// [`Self::one_line`].
    pub(super) fn optional_line(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        if text.trim().is_empty() {
            into.clear();
            return Ok(());
        }
        self.one_line(key, text, into)
    }

    /// Empty (the host of `server.public_url`), or a bare host name: what
    /// WebAuthn calls a relying party id, without scheme, port or path.
    pub(super) fn rp_id(
        &self,
        key: &str,
        text: String,
        into: &mut String,
    ) -> Result<(), ConfigError> {
        let text = text.trim().to_ascii_lowercase();
        let bare = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !text.is_empty() && (!bare || text.starts_with('.') || text.ends_with('.')) {
            return Err(self.fail(
                key,
                format!("expected a host name like \"example.com\" (no scheme, port or path), got \"{text}\""),
            ));
        }
        *into = text;
        Ok(())
    }

    /// Role names: each non-empty, without spaces or control characters.
    pub(super) fn roles(
        &self,
        key: &str,
        list: Vec<String>,
        into: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        for role in &list {
            if role.is_empty() || role.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(self.fail(key, format!("\"{role}\" is not a role name")));
            }
        }
        *into = list;
        Ok(())
    }

    /// CORS origins, normalised (see [`as_origin`]).
    pub(super) fn origins(
        &self,
        key: &str,
        list: Vec<String>,
        into: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        *into = list
            .iter()
            .map(|item| {
                as_origin(item).ok_or_else(|| {
                    self.fail(
                        key,
                        format!("\"{item}\" is not an origin; expected scheme://host[:port] like \"https://app.example.com\", without path or \"*\""),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    pub(super) fn allowed_redirects(
        &self,
        key: &str,
        list: Vec<String>,
        into: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        *into = list
            .iter()
            .map(|item| {
                super::providers::allowed_redirect(item).ok_or_else(|| {
                    self.fail(
                        key,
                        format!("\"{item}\" is not an allowed redirect; expected an https:// URL (http:// only on a loopback host) like \"https://app.example.com/auth/done\", without userinfo, query or fragment"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    pub(super) fn networks(
        &self,
        key: &str,
        list: Vec<String>,
        into: &mut Vec<IpNet>,
    ) -> Result<(), ConfigError> {
        *into = list
            .iter()
            .map(|item| item.trim().parse().map_err(|e| self.fail(key, e)))
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    /// Rules that involve more than one key. Each error names the key a
    /// reader should change.
    pub(super) fn cross_check(&self, c: &Config) -> Result<(), ConfigError> {
        self.cross_check_hooks(c)?;
        self.cross_check_import(c)?;
        let default_issuer = super::JwtConfig::default().issuer;
        if c.oidc.enabled && c.jwt.issuer != default_issuer && c.jwt.issuer != c.server.public_url {
            return Err(self.fail(
                "jwt.issuer",
                format!(
                    "must be server.public_url (\"{}\") or left unset while oidc.enabled = true \
                     (an OpenID provider's tokens name it by its URL), got \"{}\"",
                    c.server.public_url, c.jwt.issuer
                ),
            ));
        }
        if c.oidc.code_ttl > std::time::Duration::from_secs(600) {
            return Err(self.fail(
                "oidc.code_ttl",
                format!(
                    "must be at most 10m (RFC 6749 §4.1.2), got {}",
                    format_duration(c.oidc.code_ttl)
                ),
            ));
        }
        let secret_len = c.jwt.secret.expose().len();
        if c.jwt.algorithm == Algorithm::HS256 && secret_len < 32 {
            return Err(self.fail(
                "jwt.secret",
                format!("HS256 needs a secret of at least 32 bytes (got {secret_len}); pass it as TOKTOK_JWT__SECRET"),
            ));
        }
        if c.jwt.refresh_idle_ttl > c.jwt.refresh_ttl {
            return Err(self.fail(
                "jwt.refresh_idle_ttl",
                format!(
                    "must not be longer than jwt.refresh_ttl ({} > {})",
                    format_duration(c.jwt.refresh_idle_ttl),
                    format_duration(c.jwt.refresh_ttl)
                ),
            ));
        }
        if c.jwt.reuse_grace >= c.jwt.access_ttl {
            return Err(self.fail(
                "jwt.reuse_grace",
                format!(
                    "must be shorter than jwt.access_ttl ({} >= {})",
                    format_duration(c.jwt.reuse_grace),
                    format_duration(c.jwt.access_ttl)
                ),
            ));
        }
        if c.jwt.key_reload > MAX_KEY_RELOAD {
            return Err(self.fail(
                "jwt.key_reload",
                format!(
                    "must be at most {} (a rotated key waits twice this before it signs), got {}",
                    format_duration(MAX_KEY_RELOAD),
                    format_duration(c.jwt.key_reload)
                ),
            ));
        }
        if c.password.max_length < c.password.min_length {
            return Err(self.fail(
                "password.max_length",
                format!(
                    "must be at least password.min_length ({} < {})",
                    c.password.max_length, c.password.min_length
                ),
            ));
        }
        if c.anonymous.required && !c.anonymous.enabled {
            return Err(self.fail("anonymous.required", "needs anonymous.enabled = true"));
        }
        if c.rsa.required && !c.rsa.enabled {
            return Err(self.fail("rsa.required", "needs rsa.enabled = true"));
        }
        if c.email.confirmation_required && c.email.mode == EmailMode::Off {
            return Err(self.fail(
                "email.confirmation_required",
                "cannot be true while email.mode = \"off\" (no confirmation mail could be sent)",
            ));
        }
        if c.email_code.enabled && c.email.mode == EmailMode::Off {
            return Err(self.fail(
                "email_code.enabled",
                "cannot be true while email.mode = \"off\" (no code could be sent)",
            ));
        }
        if c.email.mode == EmailMode::Smtp && c.smtp.host.is_empty() {
            return Err(self.fail("smtp.host", "must be set when email.mode = \"smtp\""));
        }
        Ok(())
    }
}
