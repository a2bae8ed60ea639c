//! Checking: raw values into a [`Config`], the rules across keys, and the
//! warnings worth logging at start.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::jwt::Algorithm;

use super::raw::*;
use super::values::*;
use super::*;

impl Config {
    /// Non-fatal remarks worth logging at start: settings that work but are
    /// probably not what a production deployment wants.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.public_url_warning());
        out.extend(self.hs256_secret_warning());
        if self.password.algorithm == PasswordAlgorithm::Pbkdf2Sha256
            && self.password.pbkdf2_iterations < 600_000
        {
            out.push(format!(
                "password.pbkdf2_iterations = {} is below the recommended 600000; new password hashes are cheaper to crack",
                self.password.pbkdf2_iterations
            ));
        }
        if !self.jwt.secret.is_empty() && self.jwt.algorithm != Algorithm::HS256 {
            out.push(format!(
                "jwt.secret is set but jwt.algorithm is {}; the secret is ignored",
                self.jwt.algorithm.as_str()
            ));
        }
        if self.email.mode == EmailMode::Smtp
            && self.smtp.tls == SmtpTls::None
            && !self.smtp.password.is_empty()
            && !is_local_host(&self.smtp.host)
        {
            out.push(format!(
                "smtp.tls = \"none\": the SMTP password is sent to {} unencrypted",
                self.smtp.host
            ));
        }
        if let Some(all) = self
            .server
            .trusted_proxies
            .iter()
            .find(|net| net.prefix == 0)
        {
            out.push(format!(
                "server.trusted_proxies contains {all}, which trusts every address: any client can set X-Forwarded-For and pick its own rate-limit bucket; list only your proxies' addresses"
            ));
        }
        if let Some(addr) = self
            .metrics
            .listen
            .filter(|a| self.metrics.enabled && !a.ip().is_loopback())
        {
            out.push(format!(
                "metrics.listen = \"{addr}\" is not a loopback address: the metrics (which show, for one, whether a password-forgot matched an account) are reachable from the network; firewall the port"
            ));
        }
        if !self.rate_limit.enabled {
            out.push(
                "rate_limit.enabled = false: nothing slows down password guessing".to_string(),
            );
        }
        let host = url_host(&self.server.public_url);
        if !is_local_host(host) {
            if self.server.public_url.starts_with("http://") {
                out.push(format!(
                    "server.public_url {} is plain http:// for a non-local host; tokens cross the network unencrypted",
                    self.server.public_url
                ));
            }
            if self.email.mode == EmailMode::Dev {
                out.push(format!(
                    "email.mode = \"dev\": mail is written to {} and never sent",
                    self.email.outbox_dir.display()
                ));
            }
        }
        out
    }
}

impl Config {
    /// Only `server.listen` changed: links in mail still name the default
    /// address, which is not where clients reach this server.
    fn public_url_warning(&self) -> Option<String> {
        let default = ServerConfig::default();
        (self.server.public_url == default.public_url && self.server.listen != default.listen).then(
            || {
                format!(
                    "server.public_url is the default {} but server.listen is {}: emailed links \
                     still point at {}; set server.public_url to the URL clients use",
                    default.public_url, self.server.listen, default.public_url
                )
            },
        )
    }

    /// An HS256 secret a person chose rather than a random generator
    /// (TT-13): one captured token is enough to guess it offline.
    fn hs256_secret_warning(&self) -> Option<String> {
        if self.jwt.algorithm != Algorithm::HS256 || self.jwt.secret.is_empty() {
            return None;
        }
        weak_secret(self.jwt.secret.expose()).map(|why| {
            format!(
                "jwt.secret looks guessable ({why}); anyone who guesses it can mint tokens. \
                 Use 32 or more random bytes, e.g. `openssl rand -base64 48` or `toktok init --hs256`"
            )
        })
    }
}

/// Why `secret` looks chosen by a person rather than drawn at random, if it
/// does: few distinct characters, a repeated pattern, characters counting
/// up or down, a common word, or a low estimated entropy (the Shannon
/// entropy of its characters times its length, under 128 bits). Random
/// secrets of 32+ characters (`openssl rand -base64 48`, `-hex 32`, `toktok
/// init --hs256`) pass all of these.
pub fn weak_secret(secret: &str) -> Option<String> {
    let bytes = secret.as_bytes();
    let len = bytes.len();
    if len == 0 {
        return None;
    }
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let distinct = counts.iter().filter(|&&c| c > 0).count();
    if distinct < 10 {
        return Some(format!("only {distinct} distinct characters"));
    }
    if let Some(period) = (1..=len / 2).find(|&p| (p..len).all(|i| bytes[i] == bytes[i - p])) {
        return Some(format!("a {period}-character pattern repeated"));
    }
    let steps = bytes
        .windows(2)
        .filter(|w| w[1].wrapping_sub(w[0]) == 1 || w[0].wrapping_sub(w[1]) == 1)
        .count();
    if steps * 2 >= len {
        return Some("characters counting up or down, like 0123456789abcdef".to_owned());
    }
    let lower = secret.to_ascii_lowercase();
    const WORDS: [&str; 14] = [
        "password",
        "passwd",
        "changeme",
        "secret",
        "letmein",
        "qwerty",
        "admin",
        "example",
        "toktok",
        "default",
        "123456",
        "abcdef",
        "welcome",
        "jwtsecret",
    ];
    if let Some(word) = WORDS.iter().find(|w| lower.contains(*w)) {
        return Some(format!("it contains the word {word:?}"));
    }
    let bits: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len as f64;
            -p * p.log2() * len as f64
        })
        .sum();
    if bits < 128.0 {
        return Some(format!("an estimated {bits:.0} bits of entropy, under 128"));
    }
    None
}

// ---------------------------------------------------------------------------
// Step 3: raw form to Config
// ---------------------------------------------------------------------------

/// Turns raw values into checked ones. Knows which keys came from the
/// environment, so an error says `TOKTOK_JWT__SECRET (jwt.secret): ...`.
pub(super) struct Checker<'a> {
    pub(super) origins: &'a HashMap<String, String>,
}

impl Checker<'_> {
    fn fail(&self, key: &str, problem: impl fmt::Display) -> ConfigError {
        match self.origins.get(key) {
            Some(var) => ConfigError(format!("{var} ({key}): {problem}")),
            None => ConfigError(format!("{key}: {problem}")),
        }
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

    fn duration(&self, key: &str, raw: RawDuration) -> Result<Duration, ConfigError> {
        let (parsed, shown) = match raw {
            RawDuration::Seconds(n) => (duration_from_seconds(n), n.to_string()),
            RawDuration::Text(text) => (parse_duration(&text), format!("\"{text}\"")),
        };
        parsed.map_err(|problem| self.fail(key, problem.explain(&shown)))
    }

    fn choice<T: Copy>(
        &self,
        key: &str,
        text: &str,
        options: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        match options.iter().find(|(name, _)| *name == text) {
            Some((_, value)) => Ok(*value),
            None => {
                let names: Vec<String> = options
                    .iter()
                    .map(|(name, _)| format!("\"{name}\""))
                    .collect();
                Err(self.fail(
                    key,
                    format!("expected one of {}, got \"{text}\"", names.join(", ")),
                ))
            }
        }
    }

    fn non_empty(&self, key: &str, text: String) -> Result<String, ConfigError> {
        if text.trim().is_empty() {
            return Err(self.fail(key, "must not be empty"));
        }
        Ok(text)
    }

    /// `postgres://` or `postgresql://` followed by something: the rest is
    /// checked by the client library when it connects at start.
    fn postgres_url(&self, key: &str, text: String) -> Result<String, ConfigError> {
        let rest = text
            .strip_prefix("postgres://")
            .or_else(|| text.strip_prefix("postgresql://"));
        match rest {
            Some(rest) if !rest.trim().is_empty() => Ok(text),
            _ => Err(self.fail(
                key,
                "must be a PostgreSQL URL like \"postgres://toktok:password@db.example/toktok\"",
            )),
        }
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

    pub(super) fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        if let Some(raw) = raw.server {
            self.server(raw, &mut c.server)?;
        }
        if let Some(raw) = raw.accounts {
            if let Some(v) = raw.registration_open {
                c.accounts.registration_open = v;
            }
        }
        if let Some(raw) = raw.database {
            // An empty url is "not set" (the shipped toktok.toml lists it so).
            let url = raw.url.filter(|u| !u.is_empty());
            if raw.path.is_some() && url.is_some() {
                return Err(self.fail(
                    "database.url",
                    "set either database.path (SQLite) or database.url (PostgreSQL), not both",
                ));
            }
            if let Some(v) = raw.path {
                c.database.path = PathBuf::from(self.non_empty("database.path", v)?);
            }
            if let Some(v) = url {
                c.database.url = Some(Secret::new(self.postgres_url("database.url", v)?));
            }
        }
        if let Some(raw) = raw.jwt {
            self.jwt(raw, &mut c.jwt)?;
        }
        if let Some(raw) = raw.password {
            self.password(raw, &mut c.password)?;
        }
        if let Some(raw) = raw.anonymous {
            if let Some(v) = raw.enabled {
                c.anonymous.enabled = v;
            }
            if let Some(v) = raw.required {
                c.anonymous.required = v;
            }
            if let Some(v) = raw.ttl {
                c.anonymous.ttl = self.duration("anonymous.ttl", v)?;
            }
        }
        if let Some(raw) = raw.rsa {
            if let Some(v) = raw.enabled {
                c.rsa.enabled = v;
            }
            if let Some(v) = raw.required {
                c.rsa.required = v;
            }
            if let Some(v) = raw.key_bits {
                c.rsa.key_bits = self.int("rsa.key_bits", v, 2048, 8192)?;
            }
        }
        if let Some(raw) = raw.email {
            self.email(raw, &mut c.email)?;
        }
        if let Some(raw) = raw.smtp {
            self.smtp(raw, &mut c.smtp)?;
        }
        if let Some(raw) = raw.challenges {
            if let Some(v) = raw.max_attempts {
                c.challenges.max_attempts =
                    self.int("challenges.max_attempts", v, 1, u32::MAX.into())?;
            }
            if let Some(v) = raw.sweep_interval {
                c.challenges.sweep_interval = self.duration("challenges.sweep_interval", v)?;
            }
        }
        if let Some(raw) = raw.audit {
            if let Some(v) = raw.retention {
                c.audit.retention = self.duration("audit.retention", v)?;
            }
        }
        if let Some(raw) = raw.rate_limit {
            if let Some(v) = raw.enabled {
                c.rate_limit.enabled = v;
            }
            if let Some(v) = raw.per_ip_per_minute {
                c.rate_limit.per_ip_per_minute =
                    self.int("rate_limit.per_ip_per_minute", v, 1, u32::MAX.into())?;
            }
            if let Some(v) = raw.per_ip_burst {
                c.rate_limit.per_ip_burst =
                    self.int("rate_limit.per_ip_burst", v, 1, u32::MAX.into())?;
            }
        }
        if let Some(raw) = raw.log {
            if let Some(v) = raw.format {
                c.log.format = self.choice("log.format", &v, LOG_FORMATS)?;
            }
            if let Some(v) = raw.level {
                if !is_log_filter(&v) {
                    return Err(self.fail(
                        "log.level",
                        format!("expected trace, debug, info, warn, error, off or a directive like \"info,toktok=debug\", got \"{v}\""),
                    ));
                }
                c.log.level = v;
            }
        }
        if let Some(raw) = raw.metrics {
            if let Some(v) = raw.enabled {
                c.metrics.enabled = v;
            }
            if let Some(v) = raw.listen {
                let v = v.trim();
                c.metrics.listen = if v.is_empty() || v == "off" {
                    None
                } else {
                    Some(v.parse().map_err(|_| {
                        self.fail(
                            "metrics.listen",
                            format!("expected a socket address like \"127.0.0.1:9464\", or \"off\", got \"{v}\""),
                        )
                    })?)
                };
            }
        }
        Ok(c)
    }

    fn server(&self, raw: RawServer, c: &mut ServerConfig) -> Result<(), ConfigError> {
        if let Some(v) = raw.listen {
            c.listen = v.trim().parse().map_err(|_| {
                self.fail(
                    "server.listen",
                    format!("expected a socket address like \"127.0.0.1:8080\" or \"[::]:8080\", got \"{v}\""),
                )
            })?;
        }
        if let Some(v) = raw.public_url {
            let url = self.http_url("server.public_url", v, false)?;
            c.public_url = url.trim_end_matches('/').to_string();
        }
        if let Some(v) = raw.max_body_bytes {
            c.max_body_bytes = self.int("server.max_body_bytes", v, 1024, i64::MAX)?;
        }
        if let Some(list) = raw.cors_origins {
            c.cors_origins = list
                .iter()
                .map(|item| {
                    as_origin(item).ok_or_else(|| {
                        self.fail(
                            "server.cors_origins",
                            format!("\"{item}\" is not an origin; expected scheme://host[:port] like \"https://app.example.com\", without path or \"*\""),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(list) = raw.trusted_proxies {
            c.trusted_proxies = list
                .iter()
                .map(|item| {
                    item.trim()
                        .parse()
                        .map_err(|e| self.fail("server.trusted_proxies", e))
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = raw.request_timeout {
            c.request_timeout = self.duration("server.request_timeout", v)?;
        }
        if let Some(v) = raw.demo {
            c.demo = v;
        }
        if let Some(v) = raw.idle_timeout {
            c.idle_timeout = self.duration("server.idle_timeout", v)?;
        }
        if let Some(v) = raw.max_connections_per_ip {
            c.max_connections_per_ip =
                self.int("server.max_connections_per_ip", v, 0, 1_000_000)?;
        }
        if let Some(v) = raw.docs {
            c.docs = v;
        }
        Ok(())
    }

    fn jwt(&self, raw: RawJwt, c: &mut JwtConfig) -> Result<(), ConfigError> {
        if let Some(v) = raw.algorithm {
            c.algorithm = self.choice("jwt.algorithm", &v, JWT_ALGORITHMS)?;
        }
        if let Some(v) = raw.secret {
            c.secret = v;
        }
        if let Some(v) = raw.issuer {
            c.issuer = self.non_empty("jwt.issuer", v)?;
        }
        if let Some(v) = raw.audience {
            c.audience = self.non_empty("jwt.audience", v)?;
        }
        if let Some(v) = raw.access_ttl {
            c.access_ttl = self.duration("jwt.access_ttl", v)?;
        }
        if let Some(v) = raw.refresh_ttl {
            c.refresh_ttl = self.duration("jwt.refresh_ttl", v)?;
        }
        if let Some(v) = raw.refresh_idle_ttl {
            c.refresh_idle_ttl = self.duration("jwt.refresh_idle_ttl", v)?;
        }
        if let Some(v) = raw.reuse_grace {
            // "0s" is allowed here alone: strict rotation, no grace.
            c.reuse_grace = if raw_duration_is_zero(&v) {
                Duration::ZERO
            } else {
                self.duration("jwt.reuse_grace", v)?
            };
        }
        if let Some(v) = raw.key_reload {
            c.key_reload = self.duration("jwt.key_reload", v)?;
        }
        Ok(())
    }

    fn password(&self, raw: RawPassword, c: &mut PasswordConfig) -> Result<(), ConfigError> {
        if let Some(v) = raw.algorithm {
            c.algorithm = self.choice("password.algorithm", &v, PASSWORD_ALGORITHMS)?;
        }
        if let Some(v) = raw.pbkdf2_iterations {
            c.pbkdf2_iterations =
                self.int("password.pbkdf2_iterations", v, 1000, u32::MAX.into())?;
        }
        if let Some(v) = raw.min_length {
            c.min_length = self.int("password.min_length", v, 1, i64::MAX)?;
        }
        if let Some(v) = raw.max_length {
            c.max_length = self.int("password.max_length", v, 128, i64::MAX)?;
        }
        Ok(())
    }

    fn email(&self, raw: RawEmail, c: &mut EmailConfig) -> Result<(), ConfigError> {
        if let Some(v) = raw.mode {
            c.mode = self.choice("email.mode", &v, EMAIL_MODES)?;
        }
        if let Some(v) = raw.confirmation_required {
            c.confirmation_required = v;
        }
        if let Some(v) = raw.from {
            if !v.contains('@') {
                return Err(self.fail(
                    "email.from",
                    format!(
                        "expected a mailbox like \"toktok <no-reply@example.com>\", got \"{v}\""
                    ),
                ));
            }
            c.from = v;
        }
        if let Some(v) = raw.app_name {
            let v = self.non_empty("email.app_name", v)?;
            if v.chars().any(char::is_control) {
                return Err(self.fail(
                    "email.app_name",
                    "must be one line without control characters (it goes into subjects)",
                ));
            }
            c.app_name = v;
        }
        if let Some(v) = raw.outbox_dir {
            c.outbox_dir = PathBuf::from(self.non_empty("email.outbox_dir", v)?);
        }
        if let Some(v) = raw.templates_dir {
            // Empty means built-in only; whether the directory exists is
            // checked when the mailer starts (src/mail/templates.rs).
            c.templates_dir = PathBuf::from(v.trim());
        }
        if let Some(v) = raw.link_ttl {
            c.link_ttl = self.duration("email.link_ttl", v)?;
        }
        if let Some(v) = raw.give_up_after {
            c.give_up_after = self.duration("email.give_up_after", v)?;
        }
        if let Some(v) = raw.confirm_redirect_url {
            c.confirm_redirect_url = self.http_url("email.confirm_redirect_url", v, true)?;
        }
        if let Some(v) = raw.reset_redirect_url {
            c.reset_redirect_url = self.http_url("email.reset_redirect_url", v, true)?;
        }
        Ok(())
    }

    fn smtp(&self, raw: RawSmtp, c: &mut SmtpConfig) -> Result<(), ConfigError> {
        if let Some(v) = raw.host {
            c.host = v.trim().to_string();
        }
        if let Some(v) = raw.port {
            c.port = self.int("smtp.port", v, 1, u16::MAX.into())?;
        }
        if let Some(v) = raw.tls {
            c.tls = self.choice("smtp.tls", &v, SMTP_TLS)?;
        }
        if let Some(v) = raw.username {
            c.username = v;
        }
        if let Some(v) = raw.password {
            c.password = v;
        }
        if let Some(v) = raw.timeout {
            c.timeout = self.duration("smtp.timeout", v)?;
        }
        Ok(())
    }

    /// Rules that involve more than one key. Each error names the key a
    /// reader should change.
    pub(super) fn cross_check(&self, c: &Config) -> Result<(), ConfigError> {
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
        if c.email.mode == EmailMode::Smtp && c.smtp.host.is_empty() {
            return Err(self.fail("smtp.host", "must be set when email.mode = \"smtp\""));
        }
        Ok(())
    }
}
