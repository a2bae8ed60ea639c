//! Configuration: the one validated [`Config`] the server runs with.
//!
//! This module owns everything between "some TOML text and some environment
//! variables" and a `Config` whose every field is known to be usable, so no
//! other module re-checks a setting or wonders where a default lives.
//!
//! It works in three steps, shaped so that every error names the key at
//! fault in one line that says what is allowed (STYLE 12):
//!
//! 1. The TOML text is parsed into a plain table and compared with `KEYS`,
//!    the single list of every section, key and kind of value. An unknown or
//!    mistyped key is reported as `server.lisen`, not as a serde error.
//! 2. `TOKTOK_<SECTION>__<KEY>` variables are converted according to that
//!    same kind and written over the table, so the environment beats the
//!    file. A key set from the environment is remembered, and later errors
//!    about it name the variable too.
//! 3. The table is deserialised into a raw form (all `Option`, with
//!    `deny_unknown_fields` as a second guard) and checked field by field,
//!    then across fields, into [`Config`].
//!
//! Defaults live only in the `Default` impls: an empty file gives exactly
//! `Config::default()`, and so does the shipped `toktok.toml` (tested below).
//! Command-line flags, which outrank the environment, are applied by the
//! caller to the returned `Config`. Secrets are held in [`Secret`], whose
//! `Debug` never prints them, so `{:?}` of a whole `Config` is safe to log.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use toml::{Table, Value};

use crate::auth::jwt::Algorithm;

// ---------------------------------------------------------------------------
// The checked configuration
// ---------------------------------------------------------------------------

/// The validated configuration of toktok. Build it with [`Config::load`] or
/// [`Config::from_sources`]; `Config::default()` is what an empty file gives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub server: ServerConfig,
    pub accounts: AccountsConfig,
    pub database: DatabaseConfig,
    pub jwt: JwtConfig,
    pub password: PasswordConfig,
    pub anonymous: AnonymousConfig,
    pub rsa: RsaConfig,
    pub email: EmailConfig,
    pub smtp: SmtpConfig,
    pub challenges: ChallengesConfig,
    pub audit: AuditConfig,
    pub rate_limit: RateLimitConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
}

/// `[server]`: where we listen and how we present ourselves.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Address the listener binds.
    pub listen: SocketAddr,
    /// The URL clients reach us at, used in links and the token issuer
    /// metadata. Always `http://` or `https://`, stored without trailing `/`.
    pub public_url: String,
    /// Largest request body accepted; at least 1024.
    pub max_body_bytes: usize,
    /// Browser origins allowed by CORS, as `scheme://host[:port]`, lowercase.
    pub cors_origins: Vec<String>,
    /// Peers whose `X-Forwarded-For` is believed when finding a client's IP.
    pub trusted_proxies: Vec<IpNet>,
    /// Longest a request may take before it is answered with a timeout.
    pub request_timeout: Duration,
    /// Serve the browser demo client at `/demo`.
    pub demo: bool,
    /// A connection with no request in progress (HTTP/1 keep-alive, or
    /// HTTP/2 with no open stream) is closed after this; it is also the
    /// time a client has to send its request headers, and the HTTP/2 ping
    /// interval and ping timeout (TT-07).
    pub idle_timeout: Duration,
    /// Connections one client address (an IPv6 /64) may hold at once; the
    /// next is closed at accept. 0: no cap. Trusted proxies are exempt.
    pub max_connections_per_ip: usize,
    /// Serve Swagger UI at `/docs` (`/openapi.json` is served either way).
    pub docs: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".to_string(),
            max_body_bytes: 65536,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            request_timeout: Duration::from_secs(30),
            demo: true,
            idle_timeout: Duration::from_secs(10),
            max_connections_per_ip: 100,
            docs: true,
        }
    }
}

/// `[accounts]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountsConfig {
    /// When false, self-registration answers 403 `registration_closed`.
    pub registration_open: bool,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            registration_open: true,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseConfig {
    /// The SQLite file; created when missing. Unused when `url` is set.
    pub path: PathBuf,
    /// `postgres://…`: use PostgreSQL instead of the SQLite file (README
    /// "Scaling out"). A secret because it usually carries a password.
    pub url: Option<Secret>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: PathBuf::from("toktok.db"),
            url: None,
        }
    }
}

/// Longest `jwt.key_reload`: a rotated key waits twice this before it signs.
pub const MAX_KEY_RELOAD: Duration = Duration::from_secs(3600);

/// `[jwt]`: how access tokens are signed and how long tokens live.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtConfig {
    pub algorithm: Algorithm,
    /// The HMAC key; used (and required, at least 32 bytes) only for HS256.
    pub secret: Secret,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    /// Absolute lifetime of a refresh-token family.
    pub refresh_ttl: Duration,
    /// A refresh token unused for this long expires; at most `refresh_ttl`.
    pub refresh_idle_ttl: Duration,
    /// How long a just-rotated refresh token may be presented again (racing
    /// tabs) before it counts as reuse; shorter than `access_ttl`; zero is
    /// strict rotation. Counted exactly, not in whole seconds.
    pub reuse_grace: Duration,
    /// How often every instance rereads the signing and RSA keys from the
    /// database. A rotated key is published (JWKS, public key) for
    /// `auth::rotation::publish_delay` (the longer of twice this and this
    /// plus 30 s, plus 5 s) before it is used, so every instance and the
    /// usual JWKS clients know it first.
    pub key_reload: Duration,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            algorithm: Algorithm::EdDSA,
            secret: Secret::default(),
            issuer: "toktok".to_string(),
            audience: "toktok".to_string(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * DAY),
            refresh_idle_ttl: Duration::from_secs(7 * DAY),
            reuse_grace: Duration::from_secs(10),
            key_reload: Duration::from_secs(60),
        }
    }
}

/// `[password]`: hashing and length policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordConfig {
    /// Algorithm for new hashes; existing hashes verify with whatever made them.
    pub algorithm: PasswordAlgorithm,
    /// At least 1000; below 600000 starts with a warning.
    pub pbkdf2_iterations: u32,
    /// At least 1.
    pub min_length: usize,
    /// At least 128 and at least `min_length`.
    pub max_length: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            algorithm: PasswordAlgorithm::Pbkdf2Sha256,
            pbkdf2_iterations: 600_000,
            min_length: 12,
            max_length: 256,
        }
    }
}

/// `[anonymous]`: anonymous tokens handed out without an account.
#[derive(Debug, Clone, PartialEq)]
pub struct AnonymousConfig {
    pub enabled: bool,
    /// Requests must carry an anonymous (or user) token; needs `enabled`.
    pub required: bool,
    pub ttl: Duration,
}

impl Default for AnonymousConfig {
    fn default() -> Self {
        AnonymousConfig {
            enabled: false,
            required: false,
            ttl: Duration::from_secs(3600),
        }
    }
}

/// `[rsa]`: RSA (JWE) encryption of request bodies.
#[derive(Debug, Clone, PartialEq)]
pub struct RsaConfig {
    pub enabled: bool,
    /// Credentials must arrive encrypted; needs `enabled`.
    pub required: bool,
    /// 2048 to 8192.
    pub key_bits: usize,
}

impl Default for RsaConfig {
    fn default() -> Self {
        RsaConfig {
            enabled: false,
            required: false,
            key_bits: 3072,
        }
    }
}

/// `[email]`: outgoing mail (confirmation and reset links).
#[derive(Debug, Clone, PartialEq)]
pub struct EmailConfig {
    pub mode: EmailMode,
    /// Users must confirm their address before logging in; impossible when
    /// `mode` is `off`.
    pub confirmation_required: bool,
    pub from: String,
    /// The product name mail speaks of (`{{app_name}}` in templates).
    pub app_name: String,
    /// Where `dev` mode writes messages instead of sending them.
    pub outbox_dir: PathBuf,
    /// Template overrides (`<kind>.subject`, `<kind>.txt`, `<kind>.html`);
    /// empty: the built-in templates only. Read once at start.
    pub templates_dir: PathBuf,
    pub link_ttl: Duration,
    /// A message still undelivered this long after it was queued is given up
    /// (audited as `mail.failed`).
    pub give_up_after: Duration,
    /// Where a confirmation link lands after success; empty: a built-in page.
    pub confirm_redirect_url: String,
    /// Where a reset link sends the user; empty: a built-in page.
    pub reset_redirect_url: String,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            mode: EmailMode::Dev,
            confirmation_required: false,
            from: "toktok <no-reply@localhost>".to_string(),
            app_name: "toktok".to_string(),
            outbox_dir: PathBuf::from("outbox"),
            templates_dir: PathBuf::new(),
            link_ttl: Duration::from_secs(24 * 3600),
            give_up_after: Duration::from_secs(24 * 3600),
            confirm_redirect_url: String::new(),
            reset_redirect_url: String::new(),
        }
    }
}

/// `[smtp]`: the relay used when `email.mode = "smtp"`.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpConfig {
    pub host: String,
    /// 1 to 65535.
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    pub password: Secret,
    /// Longest one delivery may take, connecting included; a relay that
    /// accepts the connection and then stalls is abandoned after this.
    pub timeout: Duration,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: "localhost".to_string(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: String::new(),
            password: Secret::default(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// `[challenges]`: the challenge-token engine.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengesConfig {
    /// Wrong answers allowed before a challenge is burnt; at least 1.
    pub max_attempts: u32,
    /// How often expired challenges are deleted.
    pub sweep_interval: Duration,
}

impl Default for ChallengesConfig {
    fn default() -> Self {
        ChallengesConfig {
            max_attempts: 5,
            sweep_interval: Duration::from_secs(60),
        }
    }
}

/// `[audit]`: the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    /// Events older than this are deleted by the sweeper.
    pub retention: Duration,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retention: Duration::from_secs(90 * DAY),
        }
    }
}

/// `[rate_limit]`: per-IP and per-account limits (SECURITY.md L3).
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Sustained requests per minute from one IP; at least 1.
    pub per_ip_per_minute: u32,
    /// Requests one IP may make at once above the sustained rate; at least 1.
    pub per_ip_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            per_ip_per_minute: 60,
            per_ip_burst: 30,
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A level (`trace` .. `error`, `off`) or an EnvFilter directive such as
    /// `info,toktok=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Pretty,
            level: "info".to_string(),
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// Serve Prometheus metrics at `/metrics`.
    pub enabled: bool,
    /// The listener `/metrics` is served on, apart from the API (TT-10:
    /// the counters tell, for one, whether a password-forgot matched an
    /// account). `None` (`""` or `"off"`): no metrics listener.
    pub listen: Option<SocketAddr>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

/// `password.algorithm`: `"pbkdf2-sha256"` or `"argon2id"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PasswordAlgorithm {
    #[default]
    Pbkdf2Sha256,
    Argon2id,
}

impl PasswordAlgorithm {
    /// The spelling used in `toktok.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordAlgorithm::Pbkdf2Sha256 => "pbkdf2-sha256",
            PasswordAlgorithm::Argon2id => "argon2id",
        }
    }
}

/// `email.mode`: `"dev"` writes mail to `outbox_dir`, `"smtp"` sends it,
/// `"off"` sends nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EmailMode {
    #[default]
    Dev,
    Smtp,
    Off,
}

impl EmailMode {
    /// The spelling used in `toktok.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailMode::Dev => "dev",
            EmailMode::Smtp => "smtp",
            EmailMode::Off => "off",
        }
    }
}

/// `smtp.tls`: `"none"`, `"starttls"` or `"tls"` (implicit TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SmtpTls {
    None,
    #[default]
    Starttls,
    Tls,
}

impl SmtpTls {
    /// The spelling used in `toktok.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::None => "none",
            SmtpTls::Starttls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }
}

/// `log.format`: `"pretty"` for people, `"json"` for log collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

impl LogFormat {
    /// The spelling used in `toktok.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Pretty => "pretty",
            LogFormat::Json => "json",
        }
    }
}

const JWT_ALGORITHMS: &[(&str, Algorithm)] = &[
    ("EdDSA", Algorithm::EdDSA),
    ("ES256", Algorithm::ES256),
    ("RS256", Algorithm::RS256),
    ("HS256", Algorithm::HS256),
];
const PASSWORD_ALGORITHMS: &[(&str, PasswordAlgorithm)] = &[
    ("pbkdf2-sha256", PasswordAlgorithm::Pbkdf2Sha256),
    ("argon2id", PasswordAlgorithm::Argon2id),
];
const EMAIL_MODES: &[(&str, EmailMode)] = &[
    ("dev", EmailMode::Dev),
    ("smtp", EmailMode::Smtp),
    ("off", EmailMode::Off),
];
const SMTP_TLS: &[(&str, SmtpTls)] = &[
    ("none", SmtpTls::None),
    ("starttls", SmtpTls::Starttls),
    ("tls", SmtpTls::Tls),
];
const LOG_FORMATS: &[(&str, LogFormat)] =
    &[("pretty", LogFormat::Pretty), ("json", LogFormat::Json)];

// ---------------------------------------------------------------------------
// Secret and IpNet
// ---------------------------------------------------------------------------

/// A configured secret (HMAC key, SMTP password). `Debug` and `Display`
/// print `[redacted]` (or `[empty]`), so the value never reaches a log line
/// by accident; call [`Secret::expose`] where it is really used.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Use it; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "[empty]"
        } else {
            "[redacted]"
        })
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An IP network such as `10.0.0.0/8` or `fd00::/8`; a bare address is a
/// network of one. Host bits below the prefix are cleared when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` lies in this network. An IPv4-mapped IPv6 address
    /// (`::ffff:10.1.2.3`, as a dual-stack socket reports IPv4 peers) is
    /// treated as the IPv4 address it carries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask_v4(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask_v6(self.prefix) == u128::from(net)
            }
            (IpAddr::V6(net), IpAddr::V4(ip)) => {
                u128::from(ip.to_ipv6_mapped()) & mask_v6(self.prefix) == u128::from(net)
            }
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }
}

fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why a text is not an [`IpNet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIpNetError(String);

impl fmt::Display for ParseIpNetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected an IP address or network like \"10.0.0.0/8\" or \"fd00::/8\", got \"{}\"",
            self.0
        )
    }
}

impl std::error::Error for ParseIpNetError {}

impl FromStr for IpNet {
    type Err = ParseIpNetError;

    fn from_str(text: &str) -> Result<IpNet, ParseIpNetError> {
        let bad = || ParseIpNetError(text.to_string());
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| bad())?;
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        let addr = match addr {
            IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & mask_v4(prefix)).into()),
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & mask_v6(prefix)).into()),
        };
        Ok(IpNet { addr, prefix })
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A configuration that cannot be used: one line naming the key (or the
/// environment variable) and what is allowed.
#[derive(Debug)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

// ---------------------------------------------------------------------------
// The list of keys
// ---------------------------------------------------------------------------

/// What kind of value a key takes, which decides how the file's value is
/// checked and how an environment variable's text is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Bool,
    /// `"15m"`-style string or an integer number of seconds.
    Duration,
    /// A list of strings; comma-separated in the environment.
    List,
}

type SectionKeys = &'static [(&'static str, Kind)];

/// Every section and key toktok knows, in the order `toktok.toml` lists
/// them. The raw structs below must match (a test checks both directions).
const KEYS: &[(&str, SectionKeys)] = &[
    (
        "server",
        &[
            ("listen", Kind::Str),
            ("public_url", Kind::Str),
            ("max_body_bytes", Kind::Int),
            ("cors_origins", Kind::List),
            ("trusted_proxies", Kind::List),
            ("request_timeout", Kind::Duration),
            ("demo", Kind::Bool),
            ("idle_timeout", Kind::Duration),
            ("max_connections_per_ip", Kind::Int),
            ("docs", Kind::Bool),
        ],
    ),
    ("accounts", &[("registration_open", Kind::Bool)]),
    ("database", &[("path", Kind::Str), ("url", Kind::Str)]),
    (
        "jwt",
        &[
            ("algorithm", Kind::Str),
            ("secret", Kind::Str),
            ("issuer", Kind::Str),
            ("audience", Kind::Str),
            ("access_ttl", Kind::Duration),
            ("refresh_ttl", Kind::Duration),
            ("refresh_idle_ttl", Kind::Duration),
            ("reuse_grace", Kind::Duration),
            ("key_reload", Kind::Duration),
        ],
    ),
    (
        "password",
        &[
            ("algorithm", Kind::Str),
            ("pbkdf2_iterations", Kind::Int),
            ("min_length", Kind::Int),
            ("max_length", Kind::Int),
        ],
    ),
    (
        "anonymous",
        &[
            ("enabled", Kind::Bool),
            ("required", Kind::Bool),
            ("ttl", Kind::Duration),
        ],
    ),
    (
        "rsa",
        &[
            ("enabled", Kind::Bool),
            ("required", Kind::Bool),
            ("key_bits", Kind::Int),
        ],
    ),
    (
        "email",
        &[
            ("mode", Kind::Str),
            ("confirmation_required", Kind::Bool),
            ("from", Kind::Str),
            ("app_name", Kind::Str),
            ("outbox_dir", Kind::Str),
            ("templates_dir", Kind::Str),
            ("link_ttl", Kind::Duration),
            ("give_up_after", Kind::Duration),
            ("confirm_redirect_url", Kind::Str),
            ("reset_redirect_url", Kind::Str),
        ],
    ),
    (
        "smtp",
        &[
            ("host", Kind::Str),
            ("port", Kind::Int),
            ("tls", Kind::Str),
            ("username", Kind::Str),
            ("password", Kind::Str),
            ("timeout", Kind::Duration),
        ],
    ),
    (
        "challenges",
        &[
            ("max_attempts", Kind::Int),
            ("sweep_interval", Kind::Duration),
        ],
    ),
    ("audit", &[("retention", Kind::Duration)]),
    (
        "rate_limit",
        &[
            ("enabled", Kind::Bool),
            ("per_ip_per_minute", Kind::Int),
            ("per_ip_burst", Kind::Int),
        ],
    ),
    ("log", &[("format", Kind::Str), ("level", Kind::Str)]),
    ("metrics", &[("enabled", Kind::Bool), ("listen", Kind::Str)]),
];

fn section_keys(section: &str) -> Option<SectionKeys> {
    KEYS.iter()
        .find(|(name, _)| *name == section)
        .map(|(_, keys)| *keys)
}

fn key_kind(keys: SectionKeys, key: &str) -> Option<Kind> {
    keys.iter()
        .find(|(name, _)| *name == key)
        .map(|(_, kind)| *kind)
}

fn known_sections() -> String {
    let names: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

fn known_keys(keys: SectionKeys) -> String {
    let names: Vec<&str> = keys.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

impl Config {
    /// Reads the file at `path` (an error if given but missing or
    /// unreadable; no file means built-in defaults), then applies `TOKTOK_*`
    /// variables from the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!("cannot read config file {}: {e}", path.display()))
            })?),
            None => None,
        };
        let file = path.map_or_else(|| "toktok.toml".to_string(), |p| p.display().to_string());
        build(&file, text.as_deref(), process_env()?)
    }

    /// The pure core of [`Config::load`]: optional TOML text, then
    /// environment pairs. Only names starting with `TOKTOK_` and containing
    /// `__` are considered (so `TOKTOK_CONFIG` is ignored). Errors about the
    /// text call it `toktok.toml`.
    pub fn from_sources(
        toml_text: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        build("toktok.toml", toml_text, env)
    }

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
                algorithm_name(self.jwt.algorithm)
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

/// Whether an environment variable name is one of ours to interpret.
fn is_config_var(name: &str) -> bool {
    name.starts_with("TOKTOK_") && name.contains("__")
}

/// The process environment's config variables. Other variables are not
/// even decoded, so a non-UTF-8 `PATH` cannot stop the server.
fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if !is_config_var(name) {
            continue;
        }
        let Some(value) = value.to_str() else {
            return Err(ConfigError(format!("{name}: the value is not valid UTF-8")));
        };
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

fn build(
    file: &str,
    toml_text: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut table = match toml_text {
        Some(text) => parse_toml(file, text)?,
        None => Table::new(),
    };
    check_file_keys(file, &table)?;
    let origins = apply_env(&mut table, env)?;
    // After the two checks above this cannot fail in practice; if it does,
    // serde's message still names the field.
    let raw: RawConfig = table
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError(format!("{file}: {}", one_line(e.message()))))?;
    let checker = Checker { origins: &origins };
    let config = checker.config(raw)?;
    checker.cross_check(&config)?;
    Ok(config)
}

fn parse_toml(file: &str, text: &str) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| {
        let message = one_line(e.message());
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                ConfigError(format!(
                    "{file}: invalid TOML at line {line}, column {column}: {message}"
                ))
            }
            None => ConfigError(format!("{file}: invalid TOML: {message}")),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    // Count characters, not bytes: skip UTF-8 continuation bytes.
    let column = before[line_start..]
        .iter()
        .filter(|b| (**b & 0xC0) != 0x80)
        .count()
        + 1;
    (line, column)
}

fn one_line(message: &str) -> String {
    message
        .trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Step 1: every section and key of the file is known and of the right kind.
fn check_file_keys(file: &str, table: &Table) -> Result<(), ConfigError> {
    for (section, value) in table {
        let Some(keys) = section_keys(section) else {
            return Err(ConfigError(if value.is_table() {
                format!(
                    "unknown section `[{section}]` in {file} (known sections: {})",
                    known_sections()
                )
            } else {
                format!(
                    "unknown key `{section}` at the top of {file}; keys belong in a section (known sections: {})",
                    known_sections()
                )
            }));
        };
        let Some(entries) = value.as_table() else {
            return Err(ConfigError(format!(
                "{section}: expected a [{section}] section in {file}, got {}",
                describe(value)
            )));
        };
        for (key, value) in entries {
            let Some(kind) = key_kind(keys, key) else {
                return Err(ConfigError(format!(
                    "unknown key `{section}.{key}` in {file} (known keys in [{section}]: {})",
                    known_keys(keys)
                )));
            };
            if let Some(problem) = kind_mismatch(kind, value) {
                return Err(ConfigError(format!("{section}.{key}: {problem}")));
            }
        }
    }
    Ok(())
}

/// Why `value` does not fit `kind`, if it doesn't. Never quotes the value:
/// it may be a secret written without quotes.
fn kind_mismatch(kind: Kind, value: &Value) -> Option<String> {
    let fits = match kind {
        Kind::Str => value.is_str(),
        Kind::Int => value.is_integer(),
        Kind::Bool => value.is_bool(),
        Kind::Duration => value.is_str() || value.is_integer(),
        Kind::List => match value.as_array() {
            Some(items) => {
                if let Some(item) = items.iter().find(|item| !item.is_str()) {
                    return Some(format!(
                        "expected a list of strings, got a list containing {}",
                        describe(item)
                    ));
                }
                true
            }
            None => false,
        },
    };
    if fits {
        return None;
    }
    let expected = match kind {
        Kind::Str => "a string (in quotes)",
        Kind::Int => "a whole number",
        Kind::Bool => "true or false",
        Kind::Duration => "a duration like \"90s\", \"15m\", \"30d\" or a number of seconds",
        Kind::List => "a list of strings like [\"a\", \"b\"]",
    };
    Some(format!("expected {expected}, got {}", describe(value)))
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// Step 2: `TOKTOK_<SECTION>__<KEY>` variables, converted by the key's kind,
/// written over the file's table. Returns which keys came from which
/// variable, so later errors can name the variable.
fn apply_env(
    table: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<HashMap<String, String>, ConfigError> {
    let mut origins: HashMap<String, String> = HashMap::new();
    for (name, text) in env {
        if !is_config_var(&name) {
            continue;
        }
        let Some((section, key)) = name["TOKTOK_".len()..].split_once("__") else {
            continue;
        };
        let section = section.to_ascii_lowercase();
        let key = key.to_ascii_lowercase();
        let Some(keys) = section_keys(&section) else {
            return Err(ConfigError(format!(
                "{name}: unknown section `{section}` (known sections: {})",
                known_sections()
            )));
        };
        let Some(kind) = key_kind(keys, &key) else {
            return Err(ConfigError(format!(
                "{name}: unknown key `{section}.{key}` (known keys in [{section}]: {})",
                known_keys(keys)
            )));
        };
        let value = env_value(&name, kind, &text)?;
        let full_key = format!("{section}.{key}");
        if let Some(other) = origins.get(&full_key) {
            return Err(ConfigError(format!(
                "{name}: {other} already sets {full_key}; set it once"
            )));
        }
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        let Some(section_table) = entry.as_table_mut() else {
            // check_file_keys has already rejected a non-table section.
            return Err(ConfigError(format!(
                "{section}: expected a [{section}] section"
            )));
        };
        section_table.insert(key, value);
        origins.insert(full_key, name);
    }
    Ok(origins)
}

/// Converts an environment variable's text to the TOML value its key takes.
/// A string key takes the text as is, so `TOKTOK_SMTP__PASSWORD=12345` is the
/// string "12345".
fn env_value(name: &str, kind: Kind, text: &str) -> Result<Value, ConfigError> {
    match kind {
        Kind::Str => Ok(Value::String(text.to_string())),
        Kind::Int => {
            text.trim().parse::<i64>().map(Value::Integer).map_err(|_| {
                ConfigError(format!("{name}: expected a whole number, got \"{text}\""))
            })
        }
        Kind::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Value::Boolean(true)),
            "false" | "0" => Ok(Value::Boolean(false)),
            _ => Err(ConfigError(format!(
                "{name}: expected true, false, 1 or 0, got \"{text}\""
            ))),
        },
        Kind::Duration => match parse_duration(text) {
            Ok(_) => Ok(Value::String(text.trim().to_string())),
            Err(problem) => Err(ConfigError(format!(
                "{name}: {}",
                problem.explain(&format!("\"{text}\""))
            ))),
        },
        Kind::List => Ok(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_string()))
                .collect(),
        )),
    }
}

// ---------------------------------------------------------------------------
// The raw form
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    server: Option<RawServer>,
    accounts: Option<RawAccounts>,
    database: Option<RawDatabase>,
    jwt: Option<RawJwt>,
    password: Option<RawPassword>,
    anonymous: Option<RawAnonymous>,
    rsa: Option<RawRsa>,
    email: Option<RawEmail>,
    smtp: Option<RawSmtp>,
    challenges: Option<RawChallenges>,
    audit: Option<RawAudit>,
    rate_limit: Option<RawRateLimit>,
    log: Option<RawLog>,
    metrics: Option<RawMetrics>,
}

/// A duration as written: `"15m"` or a number of seconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDuration {
    Seconds(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    public_url: Option<String>,
    max_body_bytes: Option<i64>,
    cors_origins: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    request_timeout: Option<RawDuration>,
    demo: Option<bool>,
    idle_timeout: Option<RawDuration>,
    max_connections_per_ip: Option<i64>,
    docs: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccounts {
    registration_open: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    path: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJwt {
    algorithm: Option<String>,
    secret: Option<Secret>,
    issuer: Option<String>,
    audience: Option<String>,
    access_ttl: Option<RawDuration>,
    refresh_ttl: Option<RawDuration>,
    refresh_idle_ttl: Option<RawDuration>,
    reuse_grace: Option<RawDuration>,
    key_reload: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPassword {
    algorithm: Option<String>,
    pbkdf2_iterations: Option<i64>,
    min_length: Option<i64>,
    max_length: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnonymous {
    enabled: Option<bool>,
    required: Option<bool>,
    ttl: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRsa {
    enabled: Option<bool>,
    required: Option<bool>,
    key_bits: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    mode: Option<String>,
    confirmation_required: Option<bool>,
    from: Option<String>,
    app_name: Option<String>,
    outbox_dir: Option<String>,
    templates_dir: Option<String>,
    link_ttl: Option<RawDuration>,
    give_up_after: Option<RawDuration>,
    confirm_redirect_url: Option<String>,
    reset_redirect_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: Option<String>,
    port: Option<i64>,
    tls: Option<String>,
    username: Option<String>,
    password: Option<Secret>,
    timeout: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChallenges {
    max_attempts: Option<i64>,
    sweep_interval: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    retention: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    enabled: Option<bool>,
    per_ip_per_minute: Option<i64>,
    per_ip_burst: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: Option<String>,
    level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    enabled: Option<bool>,
    listen: Option<String>,
}

/// Deserialised straight into a `Secret`, so the raw form's `Debug` is as
/// safe as the checked one's.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

// ---------------------------------------------------------------------------
// Step 3: raw form to Config
// ---------------------------------------------------------------------------

/// Turns raw values into checked ones. Knows which keys came from the
/// environment, so an error says `TOKTOK_JWT__SECRET (jwt.secret): ...`.
struct Checker<'a> {
    origins: &'a HashMap<String, String>,
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

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
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
    fn cross_check(&self, c: &Config) -> Result<(), ConfigError> {
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

// ---------------------------------------------------------------------------
// Durations, URLs, log filters
// ---------------------------------------------------------------------------

const DAY: u64 = 24 * 3600;

/// Longest accepted duration, 100 years: anything longer is surely a typo,
/// and the cap keeps `now + ttl` arithmetic elsewhere far from overflow.
const MAX_DURATION_SECS: u64 = 36_500 * DAY;

/// Why a duration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DurationProblem {
    Malformed,
    TooShort,
    TooLong,
}

impl DurationProblem {
    /// The message, given how the offending value should be shown.
    fn explain(self, shown: &str) -> String {
        match self {
            DurationProblem::Malformed => format!(
                "expected a duration like \"90s\", \"15m\", \"30d\" or a number of seconds, got {shown}"
            ),
            DurationProblem::TooShort => format!("must be at least 1 second, got {shown}"),
            DurationProblem::TooLong => format!("must be at most \"36500d\" (100 years), got {shown}"),
        }
    }
}

/// Whether a raw duration spells zero (`0`, `"0"`, `"0s"`, `"0m"`…), which
/// only `jwt.reuse_grace` accepts.
fn raw_duration_is_zero(raw: &RawDuration) -> bool {
    match raw {
        RawDuration::Seconds(n) => *n == 0,
        RawDuration::Text(text) => {
            let text = text.trim();
            let digits = text.trim_end_matches(['s', 'm', 'h', 'd']);
            text.len() - digits.len() <= 1
                && !digits.is_empty()
                && digits.bytes().all(|b| b == b'0')
        }
    }
}

fn duration_from_seconds(seconds: i64) -> Result<Duration, DurationProblem> {
    match u64::try_from(seconds) {
        Ok(0) | Err(_) => Err(DurationProblem::TooShort),
        Ok(n) if n > MAX_DURATION_SECS => Err(DurationProblem::TooLong),
        Ok(n) => Ok(Duration::from_secs(n)),
    }
}

/// Parses `"90s"`, `"15m"`, `"2h"`, `"30d"`, combinations from the largest
/// unit down such as `"1h30m"`, or a bare number of seconds (`"900"`, as an
/// environment variable gives it).
fn parse_duration(text: &str) -> Result<Duration, DurationProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationProblem::Malformed);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = text.parse::<u64>().map_err(|_| DurationProblem::TooLong)?;
        return duration_from_seconds(
            i64::try_from(seconds).map_err(|_| DurationProblem::TooLong)?,
        );
    }
    let mut total: u64 = 0;
    let mut rest = text;
    let mut previous_unit: Option<u64> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationProblem::Malformed);
        }
        let (number, tail) = rest.split_at(digits);
        let mut chars = tail.chars();
        let unit: u64 = match chars.next() {
            Some('d') => DAY,
            Some('h') => 3600,
            Some('m') => 60,
            Some('s') => 1,
            _ => return Err(DurationProblem::Malformed),
        };
        // Each unit at most once, largest first: "1m30m" is a typo.
        if previous_unit.is_some_and(|previous| unit >= previous) {
            return Err(DurationProblem::Malformed);
        }
        previous_unit = Some(unit);
        let n = number
            .parse::<u64>()
            .map_err(|_| DurationProblem::TooLong)?;
        total = n
            .checked_mul(unit)
            .and_then(|part| total.checked_add(part))
            .ok_or(DurationProblem::TooLong)?;
        rest = chars.as_str();
    }
    match total {
        0 => Err(DurationProblem::TooShort),
        n if n > MAX_DURATION_SECS => Err(DurationProblem::TooLong),
        n => Ok(Duration::from_secs(n)),
    }
}

/// The shortest `"1h30m"`-style spelling of a duration, for messages.
fn format_duration(duration: Duration) -> String {
    let mut left = duration.as_secs();
    if left == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, suffix) in [(DAY, 'd'), (3600, 'h'), (60, 'm'), (1, 's')] {
        if left >= unit {
            out.push_str(&format!("{}{suffix}", left / unit));
            left %= unit;
        }
    }
    out
}

fn algorithm_name(algorithm: Algorithm) -> &'static str {
    JWT_ALGORITHMS
        .iter()
        .find(|(_, a)| *a == algorithm)
        .map_or("?", |(name, _)| *name)
}

/// `http://` or `https://`, a non-empty host, no whitespace.
fn is_http_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            !rest.is_empty()
                && !rest.starts_with(['/', '?', '#'])
                && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// The host part of an http(s) URL, without port.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if let Some(bracketed) = authority.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed);
    }
    authority.split(':').next().unwrap_or(authority)
}

fn is_local_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A CORS origin, normalised to what browsers send: lowercase, no trailing
/// slash. `None` for anything with a path, a wildcard or odd characters.
fn as_origin(text: &str) -> Option<String> {
    let origin = text.trim().to_ascii_lowercase();
    let origin = origin.strip_suffix('/').unwrap_or(&origin);
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']'));
    host_ok.then(|| origin.to_string())
}

const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

/// A level or a simple EnvFilter directive list: `info`, `toktok=debug`,
/// `warn,toktok::http=trace`. Deliberately narrow: lowercase targets made of
/// `[a-z0-9_:]`, levels from [`LOG_LEVELS`].
fn is_log_filter(text: &str) -> bool {
    let is_target = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
    };
    !text.is_empty()
        && text
            .split(',')
            .all(|directive| match directive.split_once('=') {
                Some((target, level)) => is_target(target) && LOG_LEVELS.contains(&level),
                None => is_target(directive),
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_sources(Some(text), [])
    }

    fn parse_env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_sources(None, env(pairs))
    }

    fn err(result: Result<Config, ConfigError>) -> String {
        match result {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    // --- defaults -----------------------------------------------------------

    #[test]
    fn nothing_at_all_is_the_default() {
        assert_eq!(Config::from_sources(None, []).unwrap(), Config::default());
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(parse("# only a comment\n").unwrap(), Config::default());
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::default();
        assert_eq!(c.server.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.server.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.server.max_body_bytes, 65536);
        assert!(c.server.cors_origins.is_empty());
        assert!(c.server.trusted_proxies.is_empty());
        assert_eq!(c.server.request_timeout, Duration::from_secs(30));
        assert!(c.accounts.registration_open);
        assert_eq!(c.database.path, PathBuf::from("toktok.db"));
        assert_eq!(c.jwt.algorithm, Algorithm::EdDSA);
        assert!(c.jwt.secret.is_empty());
        assert_eq!(c.jwt.issuer, "toktok");
        assert_eq!(c.jwt.audience, "toktok");
        assert_eq!(c.jwt.access_ttl, Duration::from_secs(900));
        assert_eq!(c.jwt.refresh_ttl, Duration::from_secs(30 * 86400));
        assert_eq!(c.jwt.refresh_idle_ttl, Duration::from_secs(7 * 86400));
        assert_eq!(c.jwt.reuse_grace, Duration::from_secs(10));
        assert_eq!(c.password.algorithm, PasswordAlgorithm::Pbkdf2Sha256);
        assert_eq!(c.password.pbkdf2_iterations, 600_000);
        assert_eq!((c.password.min_length, c.password.max_length), (12, 256));
        assert!(!c.anonymous.enabled && !c.anonymous.required);
        assert_eq!(c.anonymous.ttl, Duration::from_secs(3600));
        assert!(!c.rsa.enabled && !c.rsa.required);
        assert_eq!(c.rsa.key_bits, 3072);
        assert_eq!(c.email.mode, EmailMode::Dev);
        assert!(!c.email.confirmation_required);
        assert_eq!(c.email.from, "toktok <no-reply@localhost>");
        assert_eq!(c.email.app_name, "toktok");
        assert_eq!(c.email.outbox_dir, PathBuf::from("outbox"));
        assert_eq!(c.email.templates_dir, PathBuf::new());
        assert_eq!(c.email.link_ttl, Duration::from_secs(86400));
        assert_eq!(c.email.give_up_after, Duration::from_secs(86400));
        assert_eq!(c.email.confirm_redirect_url, "");
        assert_eq!(c.email.reset_redirect_url, "");
        assert_eq!(c.smtp.host, "localhost");
        assert_eq!(c.smtp.port, 587);
        assert_eq!(c.smtp.tls, SmtpTls::Starttls);
        assert_eq!(c.smtp.username, "");
        assert!(c.smtp.password.is_empty());
        assert_eq!(c.smtp.timeout, Duration::from_secs(10));
        assert_eq!(c.challenges.max_attempts, 5);
        assert_eq!(c.challenges.sweep_interval, Duration::from_secs(60));
        assert!(c.rate_limit.enabled);
        assert_eq!(c.rate_limit.per_ip_per_minute, 60);
        assert_eq!(c.rate_limit.per_ip_burst, 30);
        assert_eq!(c.log.format, LogFormat::Pretty);
        assert_eq!(c.log.level, "info");
        assert!(c.metrics.enabled);
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    }

    #[test]
    fn shipped_toktok_toml_is_exactly_the_default() {
        let config = Config::from_sources(Some(include_str!("../toktok.toml")), []).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn shipped_toktok_toml_lists_every_key() {
        let table: Table = include_str!("../toktok.toml").parse().unwrap();
        for (section, keys) in KEYS {
            let entries = table[*section].as_table().unwrap();
            for (key, _) in *keys {
                assert!(
                    entries.contains_key(*key),
                    "toktok.toml lacks {section}.{key}"
                );
            }
            assert_eq!(entries.len(), keys.len(), "[{section}]");
        }
        assert_eq!(table.len(), KEYS.len());
    }

    /// KEYS and the raw structs must agree: every listed key deserialises
    /// (deny_unknown_fields would reject an extra one) and fills a field
    /// (a raw field missing from KEYS would stay `None`).
    #[test]
    fn key_list_matches_raw_structs() {
        let mut table = Table::new();
        for (section, keys) in KEYS {
            let mut entries = Table::new();
            for (key, kind) in *keys {
                let sample = match kind {
                    Kind::Str => Value::String("x".into()),
                    Kind::Int => Value::Integer(1),
                    Kind::Bool => Value::Boolean(true),
                    Kind::Duration => Value::String("1m".into()),
                    Kind::List => Value::Array(vec![]),
                };
                entries.insert(key.to_string(), sample);
            }
            table.insert(section.to_string(), Value::Table(entries));
        }
        let raw: RawConfig = table.try_into().unwrap();
        let shown = format!("{raw:?}");
        assert!(
            !shown.contains("None"),
            "a raw field is not in KEYS: {shown}"
        );
    }

    // --- enums ----------------------------------------------------------------

    #[test]
    fn every_enum_value_parses() {
        for (name, algorithm) in JWT_ALGORITHMS {
            let secret = "s".repeat(32);
            let c = parse_env(&[
                ("TOKTOK_JWT__ALGORITHM", name),
                ("TOKTOK_JWT__SECRET", &secret),
            ])
            .unwrap();
            assert_eq!(c.jwt.algorithm, *algorithm);
            assert_eq!(algorithm_name(*algorithm), *name);
        }
        for (name, value) in PASSWORD_ALGORITHMS {
            let c = parse(&format!("[password]\nalgorithm = \"{name}\"")).unwrap();
            assert_eq!(c.password.algorithm, *value);
            assert_eq!(value.as_str(), *name);
        }
        for (name, value) in EMAIL_MODES {
            let c = parse(&format!("[email]\nmode = \"{name}\"")).unwrap();
            assert_eq!(c.email.mode, *value);
            assert_eq!(value.as_str(), *name);
        }
        for (name, value) in SMTP_TLS {
            let c = parse(&format!("[smtp]\ntls = \"{name}\"")).unwrap();
            assert_eq!(c.smtp.tls, *value);
            assert_eq!(value.as_str(), *name);
        }
        for (name, value) in LOG_FORMATS {
            let c = parse(&format!("[log]\nformat = \"{name}\"")).unwrap();
            assert_eq!(c.log.format, *value);
            assert_eq!(value.as_str(), *name);
        }
    }

    #[test]
    fn enum_values_are_exact() {
        let e = err(parse("[jwt]\nalgorithm = \"eddsa\""));
        assert_eq!(
            e,
            "jwt.algorithm: expected one of \"EdDSA\", \"ES256\", \"RS256\", \"HS256\", got \"eddsa\""
        );
        assert!(err(parse("[password]\nalgorithm = \"bcrypt\""))
            .starts_with("password.algorithm: expected one of"));
        assert!(err(parse("[email]\nmode = \"sendmail\"")).starts_with("email.mode: "));
        assert!(err(parse("[smtp]\ntls = \"ssl\"")).starts_with("smtp.tls: "));
        assert!(err(parse("[log]\nformat = \"xml\"")).starts_with("log.format: "));
    }

    // --- unknown keys, types, syntax --------------------------------------------

    #[test]
    fn unknown_key_is_named_with_the_known_ones() {
        let e = err(parse("[server]\nlisen = \"0.0.0.0:80\""));
        assert_eq!(
            e,
            "unknown key `server.lisen` in toktok.toml (known keys in [server]: listen, public_url, max_body_bytes, cors_origins, trusted_proxies, request_timeout, demo, idle_timeout, max_connections_per_ip, docs)"
        );
    }

    #[test]
    fn unknown_section_is_named() {
        let e = err(parse("[sever]\nlisten = \"0.0.0.0:80\""));
        assert!(
            e.starts_with(
                "unknown section `[sever]` in toktok.toml (known sections: server, accounts"
            ),
            "{e}"
        );
        let e = err(parse("[server.tls]\ncert = \"x\""));
        assert!(e.starts_with("unknown key `server.tls`"), "{e}");
        let e = err(parse("listen = \"0.0.0.0:80\""));
        assert!(
            e.starts_with("unknown key `listen` at the top of toktok.toml"),
            "{e}"
        );
        let e = err(parse("server = 5"));
        assert!(e.starts_with("server: expected a [server] section"), "{e}");
    }

    #[test]
    fn wrong_type_in_file_names_the_key_without_echoing_the_value() {
        assert_eq!(
            err(parse("[smtp]\nport = \"587\"")),
            "smtp.port: expected a whole number, got a string"
        );
        assert_eq!(
            err(parse("[smtp]\npassword = 123456789")),
            "smtp.password: expected a string (in quotes), got an integer"
        );
        assert!(err(parse("[metrics]\nenabled = \"yes\""))
            .starts_with("metrics.enabled: expected true or false"));
        assert!(err(parse("[jwt]\naccess_ttl = 1.5"))
            .starts_with("jwt.access_ttl: expected a duration"));
        assert!(err(parse("[server]\ncors_origins = \"https://a.example\""))
            .starts_with("server.cors_origins: expected a list"));
        assert!(
            err(parse("[server]\ntrusted_proxies = [1]")).contains("list containing an integer")
        );
    }

    #[test]
    fn syntax_error_is_one_line_with_position() {
        let e = err(parse(
            "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \n",
        ));
        assert!(
            e.starts_with("toktok.toml: invalid TOML at line 3, column "),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = err(parse("[server]\n[server]\n"));
        assert!(e.starts_with("toktok.toml: invalid TOML at line 2"), "{e}");
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncdé f", 0), (1, 1));
        assert_eq!(line_column("ab\ncdé f", 3), (2, 1));
        assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    // --- environment ---------------------------------------------------------------

    #[test]
    fn env_beats_file() {
        let c = Config::from_sources(
            Some("[jwt]\naccess_ttl = \"5m\"\nissuer = \"file\""),
            env(&[("TOKTOK_JWT__ACCESS_TTL", "900")]),
        )
        .unwrap();
        assert_eq!(c.jwt.access_ttl, Duration::from_secs(900));
        assert_eq!(c.jwt.issuer, "file");
    }

    #[test]
    fn env_unknown_key_or_section_names_the_variable() {
        assert_eq!(
            err(parse_env(&[("TOKTOK_SERVER__PORT", "80")])),
            "TOKTOK_SERVER__PORT: unknown key `server.port` (known keys in [server]: listen, public_url, max_body_bytes, cors_origins, trusted_proxies, request_timeout, demo, idle_timeout, max_connections_per_ip, docs)"
        );
        let e = err(parse_env(&[("TOKTOK_SEVER__LISTEN", "0.0.0.0:80")]));
        assert!(
            e.starts_with("TOKTOK_SEVER__LISTEN: unknown section `sever`"),
            "{e}"
        );
    }

    #[test]
    fn env_without_double_underscore_or_prefix_is_ignored() {
        let c = parse_env(&[
            ("TOKTOK_CONFIG", "/etc/toktok.toml"),
            ("TOKTOK_LOG", "debug"),
            ("HOME", "/root"),
            ("toktok_server__port", "1"),
            ("OTHER__THING", "x"),
        ])
        .unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn env_names_are_case_insensitive_after_the_prefix() {
        let c = parse_env(&[("TOKTOK_Rate_Limit__Per_Ip_Burst", "7")]).unwrap();
        assert_eq!(c.rate_limit.per_ip_burst, 7);
    }

    #[test]
    fn env_setting_one_key_twice_is_an_error() {
        let e = err(parse_env(&[
            ("TOKTOK_LOG__LEVEL", "info"),
            ("TOKTOK_log__level", "debug"),
        ]));
        assert!(e.contains("already sets log.level"), "{e}");
    }

    #[test]
    fn env_string_keys_take_the_text_as_is() {
        let c = parse_env(&[
            ("TOKTOK_SMTP__PASSWORD", "12345"),
            ("TOKTOK_SMTP__USERNAME", "true"),
            ("TOKTOK_JWT__ISSUER", "https://auth.example.com"),
        ])
        .unwrap();
        assert_eq!(c.smtp.password.expose(), "12345");
        assert_eq!(c.smtp.username, "true");
        assert_eq!(c.jwt.issuer, "https://auth.example.com");
    }

    #[test]
    fn env_int() {
        let c = parse_env(&[
            ("TOKTOK_SMTP__PORT", "2525"),
            ("TOKTOK_RSA__KEY_BITS", " 4096 "),
        ])
        .unwrap();
        assert_eq!(c.smtp.port, 2525);
        assert_eq!(c.rsa.key_bits, 4096);
        assert_eq!(
            err(parse_env(&[("TOKTOK_SMTP__PORT", "smtp")])),
            "TOKTOK_SMTP__PORT: expected a whole number, got \"smtp\""
        );
        assert_eq!(
            err(parse_env(&[("TOKTOK_SMTP__PORT", "70000")])),
            "TOKTOK_SMTP__PORT (smtp.port): must be at most 65535, got 70000"
        );
    }

    #[test]
    fn connection_limits_and_the_metrics_listener() {
        let c = parse("").unwrap();
        assert_eq!(c.server.idle_timeout, Duration::from_secs(10));
        assert_eq!(c.server.max_connections_per_ip, 100);
        assert_eq!(c.metrics.listen, Some("127.0.0.1:9464".parse().unwrap()));
        let c = parse(
            "[server]\nidle_timeout = \"2s\"\nmax_connections_per_ip = 0\n\
             [metrics]\nlisten = \"[::1]:9100\"",
        )
        .unwrap();
        assert_eq!(c.server.idle_timeout, Duration::from_secs(2));
        assert_eq!(c.server.max_connections_per_ip, 0);
        assert_eq!(c.metrics.listen, Some("[::1]:9100".parse().unwrap()));
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        for off in ["", "off", " off "] {
            let c = parse(&format!("[metrics]\nlisten = \"{off}\"")).unwrap();
            assert_eq!(c.metrics.listen, None);
        }
        assert!(err(parse("[metrics]\nlisten = \"9464\""))
            .starts_with("metrics.listen: expected a socket address"));
        assert!(err(parse("[server]\nmax_connections_per_ip = -1"))
            .starts_with("server.max_connections_per_ip: "));
        let c = parse("[metrics]\nlisten = \"0.0.0.0:9464\"").unwrap();
        assert!(c.warnings()[0].starts_with("metrics.listen = \"0.0.0.0:9464\" is not a loopback"));
    }

    #[test]
    fn env_bool() {
        for (text, expected) in [("true", true), ("FALSE", false), ("1", true), ("0", false)] {
            let c = parse_env(&[("TOKTOK_METRICS__ENABLED", text)]).unwrap();
            assert_eq!(c.metrics.enabled, expected, "{text}");
        }
        assert_eq!(
            err(parse_env(&[("TOKTOK_METRICS__ENABLED", "yes")])),
            "TOKTOK_METRICS__ENABLED: expected true, false, 1 or 0, got \"yes\""
        );
    }

    #[test]
    fn env_duration() {
        let c = parse_env(&[
            ("TOKTOK_JWT__ACCESS_TTL", "900"),
            ("TOKTOK_ANONYMOUS__TTL", "2h"),
        ])
        .unwrap();
        assert_eq!(c.jwt.access_ttl, Duration::from_secs(900));
        assert_eq!(c.anonymous.ttl, Duration::from_secs(7200));
        assert_eq!(
            err(parse_env(&[("TOKTOK_JWT__ACCESS_TTL", "abc")])),
            "TOKTOK_JWT__ACCESS_TTL: expected a duration like \"90s\", \"15m\", \"30d\" or a number of seconds, got \"abc\""
        );
        assert_eq!(
            err(parse_env(&[("TOKTOK_JWT__ACCESS_TTL", "0")])),
            "TOKTOK_JWT__ACCESS_TTL: must be at least 1 second, got \"0\""
        );
    }

    #[test]
    fn env_list() {
        let c = parse_env(&[
            (
                "TOKTOK_SERVER__CORS_ORIGINS",
                "https://a.example, https://b.example,",
            ),
            ("TOKTOK_SERVER__TRUSTED_PROXIES", "10.0.0.0/8,::1"),
        ])
        .unwrap();
        assert_eq!(
            c.server.cors_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(c.server.trusted_proxies.len(), 2);
        let c = Config::from_sources(
            Some("[server]\ncors_origins = [\"https://a.example\"]"),
            env(&[("TOKTOK_SERVER__CORS_ORIGINS", "")]),
        )
        .unwrap();
        assert!(c.server.cors_origins.is_empty());
    }

    #[test]
    fn env_value_errors_in_checking_name_the_variable() {
        assert_eq!(
            err(parse_env(&[("TOKTOK_SERVER__LISTEN", "localhost")])),
            "TOKTOK_SERVER__LISTEN (server.listen): expected a socket address like \"127.0.0.1:8080\" or \"[::]:8080\", got \"localhost\""
        );
        assert_eq!(
            err(parse_env(&[("TOKTOK_JWT__ALGORITHM", "HS256"), ("TOKTOK_JWT__SECRET", "short")])),
            "TOKTOK_JWT__SECRET (jwt.secret): HS256 needs a secret of at least 32 bytes (got 5); pass it as TOKTOK_JWT__SECRET"
        );
    }

    // --- durations -------------------------------------------------------------------

    #[test]
    fn duration_strings() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("15m"), Ok(900));
        assert_eq!(secs("2h"), Ok(7200));
        assert_eq!(secs("30d"), Ok(30 * 86400));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("1d2h3m4s"), Ok(86400 + 7200 + 180 + 4));
        assert_eq!(secs("900"), Ok(900));
        assert_eq!(secs(" 5m "), Ok(300));
        assert_eq!(secs("36500d"), Ok(MAX_DURATION_SECS));
    }

    #[test]
    fn duration_garbage_and_zero_are_refused() {
        for bad in [
            "", "abc", "m", "15 m", "1.5h", "15M", "1h30", "30m1h", "1m1m", "-5s", "5ms", "1w",
        ] {
            assert_eq!(
                parse_duration(bad),
                Err(DurationProblem::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(parse_duration("0s"), Err(DurationProblem::TooShort));
        assert_eq!(parse_duration("0"), Err(DurationProblem::TooShort));
        assert_eq!(parse_duration("0h0m"), Err(DurationProblem::TooShort));
        assert_eq!(parse_duration("36501d"), Err(DurationProblem::TooLong));
        assert_eq!(
            parse_duration("99999999999999999999999s"),
            Err(DurationProblem::TooLong)
        );
        assert_eq!(
            parse_duration("99999999999999999d"),
            Err(DurationProblem::TooLong)
        );
    }

    #[test]
    fn duration_keys_in_the_file() {
        let c =
            parse("[jwt]\naccess_ttl = 600\nrefresh_ttl = \"1d12h\"\nrefresh_idle_ttl = \"12h\"")
                .unwrap();
        assert_eq!(c.jwt.access_ttl, Duration::from_secs(600));
        assert_eq!(c.jwt.refresh_ttl, Duration::from_secs(36 * 3600));
        assert_eq!(
            err(parse("[jwt]\naccess_ttl = \"abc\"")),
            "jwt.access_ttl: expected a duration like \"90s\", \"15m\", \"30d\" or a number of seconds, got \"abc\""
        );
        assert_eq!(
            err(parse("[challenges]\nsweep_interval = 0")),
            "challenges.sweep_interval: must be at least 1 second, got 0"
        );
        assert_eq!(
            err(parse("[anonymous]\nttl = -3")),
            "anonymous.ttl: must be at least 1 second, got -3"
        );
        assert!(err(parse("[email]\nlink_ttl = \"0s\""))
            .starts_with("email.link_ttl: must be at least 1 second"));
    }

    #[test]
    fn format_duration_is_compact() {
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(7 * 86400)), "7d");
        assert_eq!(format_duration(Duration::from_secs(10)), "10s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    // --- single-key checks ----------------------------------------------------------

    #[test]
    fn server_values() {
        let c = parse(
            "[server]\nlisten = \"[::]:9000\"\npublic_url = \"https://auth.example.com/\"\nmax_body_bytes = 1024\ncors_origins = [\"https://App.Example.com/\"]\ntrusted_proxies = [\"10.0.0.0/8\"]\nrequest_timeout = \"1m\"",
        )
        .unwrap();
        assert_eq!(c.server.listen, "[::]:9000".parse().unwrap());
        assert_eq!(c.server.public_url, "https://auth.example.com");
        assert_eq!(c.server.max_body_bytes, 1024);
        assert_eq!(c.server.cors_origins, ["https://app.example.com"]);
        assert_eq!(
            c.server.trusted_proxies,
            ["10.0.0.0/8".parse::<IpNet>().unwrap()]
        );
        assert_eq!(c.server.request_timeout, Duration::from_secs(60));
    }

    #[test]
    fn server_values_refused() {
        assert!(err(parse("[server]\nlisten = \"127.0.0.1\""))
            .starts_with("server.listen: expected a socket address"));
        assert_eq!(
            err(parse("[server]\npublic_url = \"auth.example.com\"")),
            "server.public_url: expected an http:// or https:// URL like \"https://auth.example.com\", got \"auth.example.com\""
        );
        assert!(err(parse("[server]\npublic_url = \"https://\"")).starts_with("server.public_url"));
        assert_eq!(
            err(parse("[server]\nmax_body_bytes = 1023")),
            "server.max_body_bytes: must be at least 1024, got 1023"
        );
        for bad in ["*", "https://a.example/path", "a.example", "https://a b"] {
            let e = err(parse(&format!("[server]\ncors_origins = [\"{bad}\"]")));
            assert!(
                e.starts_with(&format!("server.cors_origins: \"{bad}\" is not an origin")),
                "{e}"
            );
        }
        let e = err(parse("[server]\ntrusted_proxies = [\"10.0.0.0/33\"]"));
        assert_eq!(
            e,
            "server.trusted_proxies: expected an IP address or network like \"10.0.0.0/8\" or \"fd00::/8\", got \"10.0.0.0/33\""
        );
    }

    #[test]
    fn numeric_ranges() {
        assert_eq!(
            err(parse("[password]\npbkdf2_iterations = 999")),
            "password.pbkdf2_iterations: must be at least 1000, got 999"
        );
        assert!(err(parse("[password]\nmin_length = 0"))
            .starts_with("password.min_length: must be at least 1"));
        assert!(err(parse("[password]\nmax_length = 127"))
            .starts_with("password.max_length: must be at least 128"));
        assert!(
            err(parse("[rsa]\nkey_bits = 1024")).starts_with("rsa.key_bits: must be at least 2048")
        );
        assert!(
            err(parse("[rsa]\nkey_bits = 16384")).starts_with("rsa.key_bits: must be at most 8192")
        );
        assert!(err(parse("[smtp]\nport = 0")).starts_with("smtp.port: must be at least 1"));
        assert!(err(parse("[challenges]\nmax_attempts = 0"))
            .starts_with("challenges.max_attempts: must be at least 1"));
        assert!(err(parse("[rate_limit]\nper_ip_per_minute = 0"))
            .starts_with("rate_limit.per_ip_per_minute: "));
        assert!(
            err(parse("[rate_limit]\nper_ip_burst = 0")).starts_with("rate_limit.per_ip_burst: ")
        );
        assert!(err(parse("[rate_limit]\nper_ip_burst = 4294967296"))
            .starts_with("rate_limit.per_ip_burst: must be at most 4294967295"));
        let c = parse("[password]\npbkdf2_iterations = 1000\nmin_length = 1\nmax_length = 128")
            .unwrap();
        assert_eq!(c.password.pbkdf2_iterations, 1000);
    }

    #[test]
    fn database_url_selects_postgres_and_excludes_path() {
        let c = parse("[database]\nurl = \"postgres://u:pw@127.0.0.1:5432/toktok\"").unwrap();
        let url = c.database.url.as_ref().unwrap();
        assert_eq!(url.expose(), "postgres://u:pw@127.0.0.1:5432/toktok");
        assert!(
            !format!("{:?}", c.database).contains("pw"),
            "the URL is redacted"
        );
        assert!(err(parse(
            "[database]\npath = \"a.db\"\nurl = \"postgres://h/db\""
        ))
        .contains("not both"));
        let c = parse_env(&[("TOKTOK_DATABASE__URL", "postgres://h/db")]).unwrap();
        assert_eq!(c.database.url.unwrap().expose(), "postgres://h/db");
        let c = parse("[database]\npath = \"a.db\"\nurl = \"\"").unwrap();
        assert_eq!(c.database.url, None, "empty means SQLite");
        for bad in ["mysql://h/db", "postgres://", "h/db", " "] {
            let text = format!("[database]\nurl = \"{bad}\"");
            assert!(
                err(parse(&text)).starts_with("database.url: must be a PostgreSQL URL"),
                "{bad}"
            );
        }
    }

    #[test]
    fn strings_that_must_not_be_empty() {
        assert_eq!(
            err(parse("[database]\npath = \"\"")),
            "database.path: must not be empty"
        );
        assert_eq!(
            err(parse("[jwt]\nissuer = \" \"")),
            "jwt.issuer: must not be empty"
        );
        assert_eq!(
            err(parse("[jwt]\naudience = \"\"")),
            "jwt.audience: must not be empty"
        );
        assert_eq!(
            err(parse("[email]\noutbox_dir = \"\"")),
            "email.outbox_dir: must not be empty"
        );
        assert!(
            err(parse("[email]\nfrom = \"toktok\"")).starts_with("email.from: expected a mailbox")
        );
    }

    #[test]
    fn log_level() {
        for ok in [
            "trace",
            "debug",
            "info",
            "warn",
            "error",
            "off",
            "info,toktok=debug",
            "toktok::http=trace",
            "hyper_util=warn,info",
        ] {
            assert_eq!(
                parse(&format!("[log]\nlevel = \"{ok}\""))
                    .unwrap()
                    .log
                    .level,
                ok
            );
        }
        for bad in [
            "",
            "INFO",
            "loud=yes",
            "info,",
            "toktok=verbose",
            "info;debug",
        ] {
            let e = err(parse(&format!("[log]\nlevel = \"{bad}\"")));
            assert!(
                e.starts_with("log.level: expected trace, debug"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn redirect_urls() {
        let c = parse("[email]\nconfirm_redirect_url = \"https://app.example.com/confirmed/\"\nreset_redirect_url = \"http://localhost:3000/reset?x=1\"").unwrap();
        assert_eq!(
            c.email.confirm_redirect_url,
            "https://app.example.com/confirmed/"
        );
        assert_eq!(
            c.email.reset_redirect_url,
            "http://localhost:3000/reset?x=1"
        );
        assert_eq!(
            err(parse("[email]\nreset_redirect_url = \"/reset\"")),
            "email.reset_redirect_url: expected empty or an http:// or https:// URL like \"https://auth.example.com\", got \"/reset\""
        );
        assert!(err(parse(
            "[email]\nconfirm_redirect_url = \"javascript:alert(1)\""
        ))
        .starts_with("email.confirm_redirect_url: "));
    }

    #[test]
    fn mail_keys() {
        let c = parse(
            "[email]\napp_name = \"Acme ID\"\ntemplates_dir = \"/etc/toktok/mail\"\ngive_up_after = \"2h\"\n[smtp]\ntimeout = 3",
        )
        .unwrap();
        assert_eq!(c.email.app_name, "Acme ID");
        assert_eq!(c.email.templates_dir, PathBuf::from("/etc/toktok/mail"));
        assert_eq!(c.email.give_up_after, Duration::from_secs(7200));
        assert_eq!(c.smtp.timeout, Duration::from_secs(3));
        assert_eq!(
            parse("[email]\ntemplates_dir = \"\"")
                .unwrap()
                .email
                .templates_dir,
            PathBuf::new()
        );
        assert_eq!(
            err(parse("[email]\napp_name = \" \"")),
            "email.app_name: must not be empty"
        );
        assert!(err(parse("[email]\napp_name = \"a\\r\\nBcc: x@y\""))
            .starts_with("email.app_name: must be one line"));
        assert!(err(parse("[email]\ngive_up_after = \"0s\""))
            .starts_with("email.give_up_after: must be at least 1 second"));
        assert!(err(parse("[smtp]\ntimeout = \"soon\""))
            .starts_with("smtp.timeout: expected a duration"));
        let c = Config::from_sources(None, env(&[("TOKTOK_SMTP__TIMEOUT", "1")])).unwrap();
        assert_eq!(c.smtp.timeout, Duration::from_secs(1));
    }

    // --- cross-field rules ------------------------------------------------------------

    #[test]
    fn hs256_needs_a_long_secret() {
        assert_eq!(
            err(parse("[jwt]\nalgorithm = \"HS256\"\nsecret = \"12345\"")),
            "jwt.secret: HS256 needs a secret of at least 32 bytes (got 5); pass it as TOKTOK_JWT__SECRET"
        );
        assert!(err(parse("[jwt]\nalgorithm = \"HS256\"")).contains("(got 0)"));
        let secret = "k".repeat(32);
        let c = parse(&format!(
            "[jwt]\nalgorithm = \"HS256\"\nsecret = \"{secret}\""
        ))
        .unwrap();
        assert_eq!(c.jwt.secret.expose(), secret);
        // Other algorithms don't need one.
        parse("[jwt]\nalgorithm = \"RS256\"").unwrap();
    }

    #[test]
    fn required_needs_enabled() {
        assert_eq!(
            err(parse("[anonymous]\nrequired = true")),
            "anonymous.required: needs anonymous.enabled = true"
        );
        assert!(parse("[anonymous]\nrequired = true\nenabled = true").is_ok());
        assert_eq!(
            err(parse("[rsa]\nrequired = true")),
            "rsa.required: needs rsa.enabled = true"
        );
        assert!(parse("[rsa]\nrequired = true\nenabled = true").is_ok());
    }

    #[test]
    fn confirmation_needs_mail() {
        let e = err(parse(
            "[email]\nmode = \"off\"\nconfirmation_required = true",
        ));
        assert!(
            e.starts_with("email.confirmation_required: cannot be true while email.mode = \"off\""),
            "{e}"
        );
        assert!(parse("[email]\nmode = \"dev\"\nconfirmation_required = true").is_ok());
        assert!(parse("[email]\nmode = \"off\"").is_ok());
    }

    #[test]
    fn smtp_mode_needs_a_host() {
        assert_eq!(
            err(parse("[email]\nmode = \"smtp\"\n[smtp]\nhost = \"\"")),
            "smtp.host: must be set when email.mode = \"smtp\""
        );
        assert!(parse("[email]\nmode = \"smtp\"").is_ok());
    }

    #[test]
    fn refresh_idle_at_most_refresh() {
        assert_eq!(
            err(parse(
                "[jwt]\nrefresh_ttl = \"1d\"\nrefresh_idle_ttl = \"2d\""
            )),
            "jwt.refresh_idle_ttl: must not be longer than jwt.refresh_ttl (2d > 1d)"
        );
        assert!(parse("[jwt]\nrefresh_ttl = \"2d\"\nrefresh_idle_ttl = \"2d\"").is_ok());
    }

    #[test]
    fn reuse_grace_may_be_zero_for_strict_rotation() {
        for zero in ["0", "\"0s\"", "\"0\"", "\"00m\""] {
            let c = parse(&format!("[jwt]\nreuse_grace = {zero}")).unwrap();
            assert_eq!(c.jwt.reuse_grace, Duration::ZERO, "{zero}");
        }
        assert_eq!(
            parse("[jwt]\nreuse_grace = \"1s\"")
                .unwrap()
                .jwt
                .reuse_grace,
            Duration::from_secs(1)
        );
        assert!(parse("[jwt]\nreuse_grace = -1").is_err());
        assert!(parse("[jwt]\nreuse_grace = \"0x\"").is_err());
        // Only reuse_grace: other durations still need a second.
        assert!(parse("[jwt]\naccess_ttl = \"0s\"").is_err());
    }

    #[test]
    fn reuse_grace_below_access_ttl() {
        assert_eq!(
            err(parse("[jwt]\naccess_ttl = \"1m\"\nreuse_grace = \"1m\"")),
            "jwt.reuse_grace: must be shorter than jwt.access_ttl (1m >= 1m)"
        );
        assert!(parse("[jwt]\naccess_ttl = \"1m\"\nreuse_grace = \"59s\"").is_ok());
    }

    #[test]
    fn key_reload_is_between_a_second_and_an_hour() {
        assert_eq!(parse("").unwrap().jwt.key_reload, Duration::from_secs(60));
        assert_eq!(
            parse("[jwt]\nkey_reload = \"5s\"").unwrap().jwt.key_reload,
            Duration::from_secs(5)
        );
        assert_eq!(
            err(parse("[jwt]\nkey_reload = \"2h\"")),
            "jwt.key_reload: must be at most 1h (a rotated key waits twice this before it signs), got 2h"
        );
        assert_eq!(
            err(parse("[jwt]\nkey_reload = 0")),
            "jwt.key_reload: must be at least 1 second, got 0"
        );
    }

    #[test]
    fn max_length_at_least_min_length() {
        assert_eq!(
            err(parse("[password]\nmin_length = 200\nmax_length = 150")),
            "password.max_length: must be at least password.min_length (150 < 200)"
        );
    }

    // --- warnings ---------------------------------------------------------------------

    #[test]
    fn warnings_for_risky_settings() {
        let c = parse("[password]\npbkdf2_iterations = 1000").unwrap();
        assert!(c.warnings()[0].starts_with("password.pbkdf2_iterations = 1000 is below"));
        let c = parse("[password]\nalgorithm = \"argon2id\"\npbkdf2_iterations = 1000").unwrap();
        assert!(c.warnings().is_empty());

        let c = parse("[jwt]\nsecret = \"not-used-here\"").unwrap();
        assert_eq!(
            c.warnings(),
            ["jwt.secret is set but jwt.algorithm is EdDSA; the secret is ignored"]
        );
        assert!(!c.warnings()[0].contains("not-used-here"));

        let c = parse("[email]\nmode = \"smtp\"\n[smtp]\nhost = \"mail.example.com\"\ntls = \"none\"\npassword = \"pw\"").unwrap();
        assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
        assert!(c.warnings()[0].starts_with("smtp.tls = \"none\""));

        for all in ["0.0.0.0/0", "::/0"] {
            let c = parse(&format!(
                "[server]\ntrusted_proxies = [\"10.0.0.1\", \"{all}\"]"
            ))
            .unwrap();
            assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
            assert!(c.warnings()[0].contains("trusts every address"));
        }
        let c = parse("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]").unwrap();
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        let c = parse("[rate_limit]\nenabled = false").unwrap();
        assert_eq!(c.warnings().len(), 1);

        let c = parse("[server]\npublic_url = \"http://auth.example.com\"").unwrap();
        let w = c.warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("server.public_url"));
        assert!(w[1].starts_with("email.mode = \"dev\""));

        let c = parse("[server]\npublic_url = \"http://[::1]:8080\"").unwrap();
        assert!(c.warnings().is_empty());
    }

    // --- secrets --------------------------------------------------------------------------

    #[test]
    fn debug_of_a_config_shows_no_secret() {
        let c = Config::from_sources(
            Some("[jwt]\nalgorithm = \"HS256\"\nsecret = \"correct-horse-battery-staple-xyzzy\""),
            env(&[("TOKTOK_SMTP__PASSWORD", "hunter2-smtp-password")]),
        )
        .unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("correct-horse"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"));
        assert_eq!(c.smtp.password.expose(), "hunter2-smtp-password");
        assert_eq!(format!("{}", c.jwt.secret), "[redacted]");
        assert_eq!(format!("{:?}", Secret::default()), "[empty]");
        assert_eq!(Secret::new("a"), Secret::from("a".to_string()));
    }

    #[test]
    fn errors_never_show_a_secret() {
        let e = err(Config::from_sources(
            Some("[jwt]\nalgorithm = \"HS256\"\nsecret = \"tiny-secret\""),
            [],
        ));
        assert!(!e.contains("tiny-secret"), "{e}");
    }

    // --- IpNet ----------------------------------------------------------------------------

    #[test]
    fn ipnet_parses() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert_eq!(net.to_string(), "10.0.0.0/8");
        assert_eq!(
            "10.1.2.3/8".parse::<IpNet>().unwrap(),
            net,
            "host bits are cleared"
        );
        assert_eq!(
            "10.0.0.1".parse::<IpNet>().unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert_eq!("::1".parse::<IpNet>().unwrap().to_string(), "::1/128");
        assert_eq!("fd00::/8".parse::<IpNet>().unwrap().to_string(), "fd00::/8");
        assert_eq!(
            "0.0.0.0/0".parse::<IpNet>().unwrap().to_string(),
            "0.0.0.0/0"
        );
        for bad in [
            "",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/+8",
            "10.0.0/8",
            "host",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ipnet_contains() {
        let v4 = |s: &str| IpAddr::V4(s.parse::<Ipv4Addr>().unwrap());
        let v6 = |s: &str| IpAddr::V6(s.parse::<Ipv6Addr>().unwrap());
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(v4("10.255.1.2")));
        assert!(!net.contains(v4("11.0.0.1")));
        assert!(
            net.contains(v6("::ffff:10.1.2.3")),
            "v4-mapped v6 matches a v4 net"
        );
        assert!(!net.contains(v6("::ffff:11.1.2.3")));
        assert!(!net.contains(v6("fd00::1")));

        let single: IpNet = "192.168.1.5".parse().unwrap();
        assert!(single.contains(v4("192.168.1.5")));
        assert!(!single.contains(v4("192.168.1.6")));

        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(v4("8.8.8.8")));
        assert!(!all.contains(v6("2001:db8::1")));

        let ula: IpNet = "fd00::/8".parse().unwrap();
        assert!(ula.contains(v6("fd12:3456::1")));
        assert!(!ula.contains(v6("fe80::1")));
        assert!(!ula.contains(v4("10.0.0.1")));

        let loopback: IpNet = "::1".parse().unwrap();
        assert!(loopback.contains(v6("::1")));
        assert!(!loopback.contains(v4("127.0.0.1")));

        let mapped: IpNet = "::ffff:0:0/96".parse().unwrap();
        assert!(mapped.contains(v4("1.2.3.4")));
        assert!(mapped.contains(v6("::ffff:1.2.3.4")));
    }

    // --- load ------------------------------------------------------------------------------

    #[test]
    fn load_reports_a_missing_file() {
        let path = Path::new("/nonexistent/toktok-test/toktok.toml");
        let e = Config::load(Some(path)).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot read config file /nonexistent/toktok-test/toktok.toml: "),
            "{e}"
        );
    }

    #[test]
    fn load_names_the_file_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prod.toml");
        std::fs::write(&path, "[server]\nlisen = 1\n").unwrap();
        let e = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(e.contains(&format!("in {}", path.display())), "{e}");
    }

    #[test]
    fn guessable_hs256_secrets_are_warned_about() {
        // The security review's four examples (TT-13).
        for secret in [
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "passwordpasswordpasswordpassword",
            "changeme-changeme-changeme-changeme",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(weak_secret(secret).is_some(), "{secret}");
            let c = parse_env(&[
                ("TOKTOK_JWT__ALGORITHM", "HS256"),
                ("TOKTOK_JWT__SECRET", secret),
            ])
            .unwrap();
            let warnings = c.warnings();
            assert!(
                warnings
                    .iter()
                    .any(|w| w.starts_with("jwt.secret looks guessable")
                        && w.contains("openssl rand -base64 48")),
                "{secret}: {warnings:?}"
            );
        }
        // Other shapes of the same mistakes.
        for secret in [
            "abcdefghijklmnopqrstuvwxyz0123456789",
            "my-company-jwt-secret-key-for-production",
            "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3",
            "0101010101010101010101010101010101",
        ] {
            assert!(weak_secret(secret).is_some(), "{secret}");
        }
        // Random secrets, as documented and as `init --hs256` makes them.
        for secret in [
            "q8V3dJ0mZpL2rX7tYk9sWc4uHf1bNa6eGi5oRy0TxQvMzKjDlPwS8hUnC3gEBAF7",
            "f3a9c1e07b2d48e6a5c0b9d17e3f2a4c8d6b0e1f9a7c3d5e2b4f6a8c0d1e3f5",
            "Jx3kP9mQ2vR8tW5yZ1cF7hL4nB6dG0sA",
        ] {
            assert_eq!(weak_secret(secret), None, "{secret}");
        }
        let c = parse_env(&[
            ("TOKTOK_JWT__ALGORITHM", "HS256"),
            ("TOKTOK_JWT__SECRET", "Jx3kP9mQ2vR8tW5yZ1cF7hL4nB6dG0sA"),
        ])
        .unwrap();
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    }

    #[test]
    fn a_changed_listen_with_the_default_public_url_is_warned_about() {
        let c = parse("[server]\nlisten = \"127.0.0.1:9090\"\n").unwrap();
        let warnings = c.warnings();
        assert!(
            warnings.iter().any(|w| w.starts_with(
                "server.public_url is the default http://127.0.0.1:8080 but server.listen is 127.0.0.1:9090"
            )),
            "{warnings:?}"
        );
        let c = parse(
            "[server]\nlisten = \"127.0.0.1:9090\"\npublic_url = \"http://127.0.0.1:9090\"\n",
        )
        .unwrap();
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        assert!(Config::default().warnings().is_empty());
    }

    #[test]
    fn server_docs_is_a_switch() {
        assert!(Config::default().server.docs);
        assert!(!parse("[server]\ndocs = false\n").unwrap().server.docs);
        assert!(
            !parse_env(&[("TOKTOK_SERVER__DOCS", "false")])
                .unwrap()
                .server
                .docs
        );
    }
}
