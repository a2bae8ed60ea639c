//! Configuration: the one validated [`Config`] the server runs with.
//!
//! This module owns everything between "some TOML text and some environment
//! variables" and a `Config` whose every field is known to be usable, so no
//! other module re-checks a setting or wonders where a default lives.
//!
//! It works in three steps, shaped so that every error names the key at
//! fault in one line that says what is allowed (STYLE 12):
//!
//! 1. The TOML text is parsed into a plain table and compared with `KEYS`
//!    (`keys.rs`), the single table of every section and key, the kind of
//!    value each takes and the check that stores it. An unknown or mistyped
//!    key is reported as `server.lisen`, not as a serde error (`load.rs`).
//! 2. `TOKTOK_<SECTION>__<KEY>` variables are converted according to that
//!    same kind and written over the table, so the environment beats the
//!    file; an unknown one is an error. A key set from the environment is
//!    remembered, and later errors about it name the variable too
//!    (`load.rs`).
//! 3. Each key of the table is checked and stored by its row of `KEYS`
//!    over `Config::default()`, then the rules across keys run (`check.rs`). `warnings.rs` finds
//!    what is allowed but unwise.
//!
//! So a key is spelled in three places: its field below (with its doc),
//! its `Default`, and its row in `KEYS` (plus `toktok.toml`, which a test
//! holds to `KEYS`). Value types and their parsers (`Secret`, `IpNet`,
//! durations) are in `values.rs`.
//!
//! Defaults live only in the `Default` impls: an empty file gives exactly
//! `Config::default()`, and so does the shipped `toktok.toml` (tested).
//! Command-line flags, which outrank the environment, are applied by the
//! caller to the returned `Config`. Secrets are held in [`Secret`], whose
//! `Debug` never prints them, so `{:?}` of a whole `Config` is safe to log.

mod check;
mod hooks;
mod import;
mod keys;
mod load;
mod providers;
#[cfg(test)]
mod tests;
mod values;
mod warnings;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::algorithm::Algorithm;
use crate::domain::locale::Locale;

pub use hooks::{AccessTokenHookConfig, ClaimsConfig, HookOnError, HooksConfig, PROTECTED_CLAIMS};
pub use import::{FirebaseConfig, ImportConfig};
pub use providers::{is_provider_url, AppleKey, ProviderConfig, ProviderKind, ResponseMode};
use values::DAY;
pub use values::{IpNet, ParseIpNetError, Secret};
pub use warnings::weak_secret;

// ---------------------------------------------------------------------------
// The checked configuration
// ---------------------------------------------------------------------------

/// The validated configuration of toktok. Build it with [`Config::load`] or
/// [`Config::from_sources`]; `Config::default()` is what an empty file gives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub server: ServerConfig,
    pub accounts: AccountsConfig,
    pub branding: BrandingConfig,
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
    pub mfa: MfaConfig,
    pub totp: TotpConfig,
    pub webauthn: WebauthnConfig,
    pub email_code: EmailCodeConfig,
    pub oidc: OidcConfig,
    pub hooks: HooksConfig,
    pub claims: ClaimsConfig,
    pub import: ImportConfig,
    /// `[[providers]]`: upstream sign-in providers, in file order.
    pub providers: Vec<ProviderConfig>,
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
    /// Where provider sign-ins may send the browser back (`redirect_to`):
    /// absolute URLs, each matched as origin plus path prefix at a `/`
    /// boundary (`federation::redirect`). Stored parsed and serialised.
    pub allowed_redirects: Vec<String>,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            registration_open: true,
            allowed_redirects: Vec::new(),
        }
    }
}

/// `[branding]`: how the hosted pages (sign-in, consent, links) look.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandingConfig {
    /// Shown in page titles and headings: one line, at most 64 characters.
    pub name: String,
    /// Empty, or the path of an image file shown above each page's heading,
    /// read at start and served by toktok at `/branding/logo`
    /// (`crate::branding`).
    pub logo: PathBuf,
    /// Empty, or the address people can write to for help, shown at the
    /// foot of every page.
    pub support_email: String,
    /// `#rgb` or `#rrggbb`: buttons and links.
    pub primary_color: String,
    /// The language of pages and mail when neither the user, the OpenID
    /// request's `ui_locales` nor the browser's `Accept-Language` names a
    /// supported one (`crate::i18n::negotiate`).
    pub default_locale: Locale,
    /// Empty, or a directory of `<lang>/*.ftl` files whose messages replace
    /// the built-in ones key by key (docs/languages.md). Read and checked
    /// once at start.
    pub messages_dir: PathBuf,
}

impl BrandingConfig {
    /// The media type of an image file, by its extension; `None` for a
    /// file a page should not show as a logo.
    pub fn image_type(path: &Path) -> Option<&'static str> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "png" => "image/png",
            "svg" => "image/svg+xml",
            "jpg" | "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            "gif" => "image/gif",
            _ => return None,
        })
    }
}

impl Default for BrandingConfig {
    fn default() -> Self {
        BrandingConfig {
            name: "toktok".to_owned(),
            logo: PathBuf::new(),
            support_email: String::new(),
            primary_color: "#2b6cb0".to_owned(),
            default_locale: Locale::En,
            messages_dir: PathBuf::new(),
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseConfig {
    /// The SQLite file; created when missing. Unused when `url` is set.
    pub path: PathBuf,
    /// `postgres://…`: use PostgreSQL instead of the SQLite file (docs/scaling-out.md). A secret because it usually carries a password.
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

/// `[rate_limit]`: per-IP and per-account limits (docs/SECURITY.md L3).
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

/// `[mfa]`: second factors and recent authentication (docs/API.md "Sign-in
/// beyond passwords").
#[derive(Debug, Clone, PartialEq)]
pub struct MfaConfig {
    /// Every user must enrol a second factor; until one exists, a sign-in
    /// gets a session that can only enrol.
    pub required: bool,
    /// Users with one of these roles must enrol a second factor, as above.
    pub required_roles: Vec<String>,
    /// How recent `auth_time` must be for the (R) endpoints.
    pub reauth_window: Duration,
}

impl Default for MfaConfig {
    fn default() -> Self {
        MfaConfig {
            required: false,
            required_roles: vec!["admin".to_owned()],
            reauth_window: Duration::from_secs(300),
        }
    }
}

/// `[totp]`: RFC 6238 one-time codes (SHA-1, 6 digits, 30 s).
#[derive(Debug, Clone, PartialEq)]
pub struct TotpConfig {
    pub enabled: bool,
    /// The issuer shown by authenticator apps; empty: `email.app_name`.
    pub issuer: String,
}

impl Default for TotpConfig {
    fn default() -> Self {
        TotpConfig {
            enabled: true,
            issuer: String::new(),
        }
    }
}

impl TotpConfig {
    /// The issuer authenticator apps show.
    pub fn issuer<'a>(&'a self, config: &'a Config) -> &'a str {
        if self.issuer.is_empty() {
            &config.email.app_name
        } else {
            &self.issuer
        }
    }
}

/// `[webauthn]`: passkeys (WebAuthn Level 3).
#[derive(Debug, Clone, PartialEq)]
pub struct WebauthnConfig {
    pub enabled: bool,
    /// The relying party id; empty: the host of `server.public_url`.
    pub rp_id: String,
    /// The name authenticators show; empty: `email.app_name`.
    pub rp_name: String,
    /// Origins allowed to run ceremonies, normalised like CORS origins;
    /// empty: the origin of `server.public_url`.
    pub origins: Vec<String>,
}

impl Default for WebauthnConfig {
    fn default() -> Self {
        WebauthnConfig {
            enabled: true,
            rp_id: String::new(),
            rp_name: String::new(),
            origins: Vec::new(),
        }
    }
}

impl WebauthnConfig {
    /// The relying party id in effect.
    pub fn rp_id(&self, config: &Config) -> String {
        if !self.rp_id.is_empty() {
            return self.rp_id.clone();
        }
        url::Url::parse(&config.server.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned())
    }

    /// The name authenticators show.
    pub fn rp_name<'a>(&'a self, config: &'a Config) -> &'a str {
        if self.rp_name.is_empty() {
            &config.email.app_name
        } else {
            &self.rp_name
        }
    }

    /// The origins in effect.
    pub fn origins(&self, config: &Config) -> Vec<String> {
        if !self.origins.is_empty() {
            return self.origins.clone();
        }
        url::Url::parse(&config.server.public_url)
            .map(|u| vec![u.origin().ascii_serialization()])
            .unwrap_or_default()
    }
}

/// `[email_code]`: sign-in with a code (and link) sent by email.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailCodeConfig {
    pub enabled: bool,
    /// How long a code and its link work.
    pub ttl: Duration,
    /// Digits in a code, 6 to 10.
    pub length: usize,
}

impl Default for EmailCodeConfig {
    fn default() -> Self {
        EmailCodeConfig {
            enabled: false,
            ttl: Duration::from_secs(600),
            length: 6,
        }
    }
}

/// `[oidc]`: toktok as an OpenID Connect provider (docs/oidc.md). Off, the
/// client and grant routes answer 404 `feature_disabled`; the `toktok
/// client` commands work either way (registering clients is set-up).
#[derive(Debug, Clone, PartialEq)]
pub struct OidcConfig {
    pub enabled: bool,
    /// How long an authorization code may wait for its exchange (RFC 6749
    /// §4.1.2 says at most ten minutes; the default is one).
    pub code_ttl: Duration,
    /// How long a user's consent to a client is remembered before the
    /// consent page asks again.
    pub consent_ttl: Duration,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            enabled: false,
            code_ttl: Duration::from_secs(60),
            consent_ttl: Duration::from_secs(365 * 86_400),
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
