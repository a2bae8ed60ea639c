//! [`KEYS`]: every section and key toktok knows, and the [`Rule`] that turns
//! each key's value into its [`Config`] field.
//!
//! This table is the one place a key is spelled, apart from its `Config`
//! field (with its doc and its `Default`) and `toktok.toml`. It decides at
//! once which keys exist (in the file and as `TOKTOK_*` variables), what
//! kind of value each takes, and which check stores it where; so a key
//! cannot be known but never stored, or stored but refused as unknown. A
//! new key is one row here, naming its field and a checker method from
//! `check.rs` (or a new method there when no existing check fits).

use std::time::Duration;

use super::check::Checker;
use super::{Config, ConfigError};

/// What kind of value a key takes, which decides how the file's value is
/// checked and how an environment variable's text is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    Int,
    Bool,
    /// `"15m"`-style string or an integer number of seconds.
    Duration,
    /// A list of strings; comma-separated in the environment.
    List,
}

/// Where a key's value goes and how it is checked on the way. The simple
/// shapes name only the field; the others name a function given the
/// checker, the full key (`server.listen`, for messages) and the value.
pub(super) enum Rule {
    /// `true` or `false`, stored as is.
    Bool(fn(&mut Config) -> &mut bool),
    /// A duration of at least a second and at most 100 years.
    Duration(fn(&mut Config) -> &mut Duration),
    /// A duration as above, or zero (`jwt.reuse_grace`: strict rotation).
    DurationOrZero(fn(&mut Config) -> &mut Duration),
    /// A whole number from `.0` to `.1`.
    U16(i64, i64, fn(&mut Config) -> &mut u16),
    U32(i64, i64, fn(&mut Config) -> &mut u32),
    Usize(i64, i64, fn(&mut Config) -> &mut usize),
    /// A string, checked and stored by the function.
    Str(StrRule),
    /// A list of strings, checked and stored by the function.
    List(ListRule),
}

type StrRule = fn(&Checker, &str, String, &mut Config) -> Result<(), ConfigError>;
type ListRule = fn(&Checker, &str, Vec<String>, &mut Config) -> Result<(), ConfigError>;

impl Rule {
    pub(super) fn kind(&self) -> Kind {
        match self {
            Rule::Bool(_) => Kind::Bool,
            Rule::Duration(_) | Rule::DurationOrZero(_) => Kind::Duration,
            Rule::U16(..) | Rule::U32(..) | Rule::Usize(..) => Kind::Int,
            Rule::Str(_) => Kind::Str,
            Rule::List(_) => Kind::List,
        }
    }
}

pub(super) type SectionKeys = &'static [(&'static str, Rule)];

const U16_MAX: i64 = u16::MAX as i64;
const U32_MAX: i64 = u32::MAX as i64;

/// Every section and key toktok knows, in the order `toktok.toml` lists
/// them (and errors name them). Values are checked in this order, so the
/// first bad key in it is the one reported. One row per key, as a table
/// (hence `rustfmt::skip`).
#[rustfmt::skip]
pub(super) const KEYS: &[(&str, SectionKeys)] = &[
    ("server", &[
        ("listen", Rule::Str(|ck, key, v, c| ck.socket_addr(key, v, &mut c.server.listen))),
        ("public_url", Rule::Str(|ck, key, v, c| ck.public_url(key, v, &mut c.server.public_url))),
        ("max_body_bytes", Rule::Usize(1024, i64::MAX, |c| &mut c.server.max_body_bytes)),
        ("cors_origins", Rule::List(|ck, key, v, c| ck.origins(key, v, &mut c.server.cors_origins))),
        ("trusted_proxies", Rule::List(|ck, key, v, c| ck.networks(key, v, &mut c.server.trusted_proxies))),
        ("request_timeout", Rule::Duration(|c| &mut c.server.request_timeout)),
        ("demo", Rule::Bool(|c| &mut c.server.demo)),
        ("idle_timeout", Rule::Duration(|c| &mut c.server.idle_timeout)),
        ("max_connections_per_ip", Rule::Usize(0, 1_000_000, |c| &mut c.server.max_connections_per_ip)),
        ("docs", Rule::Bool(|c| &mut c.server.docs)),
    ]),
    ("accounts", &[
        ("registration_open", Rule::Bool(|c| &mut c.accounts.registration_open)),
        ("allowed_redirects", Rule::List(|ck, key, v, c| ck.allowed_redirects(key, v, &mut c.accounts.allowed_redirects))),
    ]),
    ("branding", &[
        ("name", Rule::Str(|ck, key, v, c| ck.brand_name(key, v, &mut c.branding.name))),
        // Read and served from here: src/branding.rs.
        ("logo", Rule::Str(|ck, key, v, c| ck.logo_path(key, v, &mut c.branding.logo))),
        ("support_email", Rule::Str(|ck, key, v, c| ck.support_email(key, v, &mut c.branding.support_email))),
        ("primary_color", Rule::Str(|ck, key, v, c| ck.color(key, v, &mut c.branding.primary_color))),
        ("default_locale", Rule::Str(|ck, key, v, c| ck.choice(key, &v, &mut c.branding.default_locale))),
        // Read and checked when the catalogues are built (src/i18n/).
        ("messages_dir", Rule::Str(|ck, _, v, c| ck.trimmed(v, &mut c.branding.messages_dir))),
    ]),
    ("database", &[
        ("path", Rule::Str(|ck, key, v, c| ck.non_empty(key, v, &mut c.database.path))),
        ("url", Rule::Str(|ck, key, v, c| ck.postgres_url(key, v, &mut c.database.url))),
    ]),
    ("jwt", &[
        ("algorithm", Rule::Str(|ck, key, v, c| ck.choice(key, &v, &mut c.jwt.algorithm))),
        ("secret", Rule::Str(|ck, _, v, c| ck.as_is(v, &mut c.jwt.secret))),
        ("issuer", Rule::Str(|ck, key, v, c| ck.non_empty(key, v, &mut c.jwt.issuer))),
        ("audience", Rule::Str(|ck, key, v, c| ck.non_empty(key, v, &mut c.jwt.audience))),
        ("access_ttl", Rule::Duration(|c| &mut c.jwt.access_ttl)),
        ("refresh_ttl", Rule::Duration(|c| &mut c.jwt.refresh_ttl)),
        ("refresh_idle_ttl", Rule::Duration(|c| &mut c.jwt.refresh_idle_ttl)),
        ("reuse_grace", Rule::DurationOrZero(|c| &mut c.jwt.reuse_grace)),
        ("key_reload", Rule::Duration(|c| &mut c.jwt.key_reload)),
    ]),
    ("password", &[
        ("algorithm", Rule::Str(|ck, key, v, c| ck.choice(key, &v, &mut c.password.algorithm))),
        ("pbkdf2_iterations", Rule::U32(1000, U32_MAX, |c| &mut c.password.pbkdf2_iterations)),
        ("min_length", Rule::Usize(1, i64::MAX, |c| &mut c.password.min_length)),
        ("max_length", Rule::Usize(128, i64::MAX, |c| &mut c.password.max_length)),
    ]),
    ("anonymous", &[
        ("enabled", Rule::Bool(|c| &mut c.anonymous.enabled)),
        ("required", Rule::Bool(|c| &mut c.anonymous.required)),
        ("ttl", Rule::Duration(|c| &mut c.anonymous.ttl)),
    ]),
    ("rsa", &[
        ("enabled", Rule::Bool(|c| &mut c.rsa.enabled)),
        ("required", Rule::Bool(|c| &mut c.rsa.required)),
        ("key_bits", Rule::Usize(2048, 8192, |c| &mut c.rsa.key_bits)),
    ]),
    ("email", &[
        ("mode", Rule::Str(|ck, key, v, c| ck.choice(key, &v, &mut c.email.mode))),
        ("confirmation_required", Rule::Bool(|c| &mut c.email.confirmation_required)),
        ("from", Rule::Str(|ck, key, v, c| ck.mailbox(key, v, &mut c.email.from))),
        ("app_name", Rule::Str(|ck, key, v, c| ck.one_line(key, v, &mut c.email.app_name))),
        ("outbox_dir", Rule::Str(|ck, key, v, c| ck.non_empty(key, v, &mut c.email.outbox_dir))),
        // Empty means built-in only; whether the directory exists is
        // checked when the mailer starts (src/mail/templates.rs).
        ("templates_dir", Rule::Str(|ck, _, v, c| ck.trimmed(v, &mut c.email.templates_dir))),
        ("link_ttl", Rule::Duration(|c| &mut c.email.link_ttl)),
        ("give_up_after", Rule::Duration(|c| &mut c.email.give_up_after)),
        ("confirm_redirect_url", Rule::Str(|ck, key, v, c| ck.redirect_url(key, v, &mut c.email.confirm_redirect_url))),
        ("reset_redirect_url", Rule::Str(|ck, key, v, c| ck.redirect_url(key, v, &mut c.email.reset_redirect_url))),
    ]),
    ("smtp", &[
        ("host", Rule::Str(|ck, _, v, c| ck.trimmed(v, &mut c.smtp.host))),
        ("port", Rule::U16(1, U16_MAX, |c| &mut c.smtp.port)),
        ("tls", Rule::Str(|ck, key, v, c| ck.choice(key, &v, &mut c.smtp.tls))),
        ("username", Rule::Str(|ck, _, v, c| ck.as_is(v, &mut c.smtp.username))),
        ("password", Rule::Str(|ck, _, v, c| ck.as_is(v, &mut c.smtp.password))),
        ("timeout", Rule::Duration(|c| &mut c.smtp.timeout)),
    ]),
    ("challenges", &[
        ("max_attempts", Rule::U32(1, U32_MAX, |c| &mut c.challenges.max_attempts)),
        ("sweep_interval", Rule::Duration(|c| &mut c.challenges.sweep_interval)),
    ]),
    ("audit", &[
        ("retention", Rule::Duration(|c| &mut c.audit.retention)),
    ]),
    ("rate_limit", &[
        ("enabled", Rule::Bool(|c| &mut c.rate_limit.enabled)),
        ("per_ip_per_minute", Rule::U32(1, U32_MAX, |c| &mut c.rate_limit.per_ip_per_minute)),
        ("per_ip_burst", Rule::U32(1, U32_MAX, |c| &mut c.rate_limit.per_ip_burst)),
    ]),
    ("log", &[
        ("format", Rule::Str(|ck, key, v, c| ck.choice(key, &v, &mut c.log.format))),
        ("level", Rule::Str(|ck, key, v, c| ck.log_filter(key, v, &mut c.log.level))),
    ]),
    ("metrics", &[
        ("enabled", Rule::Bool(|c| &mut c.metrics.enabled)),
        ("listen", Rule::Str(|ck, key, v, c| ck.metrics_listen(key, v, &mut c.metrics.listen))),
    ]),
    ("mfa", &[
        ("required", Rule::Bool(|c| &mut c.mfa.required)),
        ("required_roles", Rule::List(|ck, key, v, c| ck.roles(key, v, &mut c.mfa.required_roles))),
        ("reauth_window", Rule::Duration(|c| &mut c.mfa.reauth_window)),
    ]),
    ("totp", &[
        ("enabled", Rule::Bool(|c| &mut c.totp.enabled)),
        ("issuer", Rule::Str(|ck, key, v, c| ck.optional_line(key, v, &mut c.totp.issuer))),
    ]),
    ("webauthn", &[
        ("enabled", Rule::Bool(|c| &mut c.webauthn.enabled)),
        ("rp_id", Rule::Str(|ck, key, v, c| ck.rp_id(key, v, &mut c.webauthn.rp_id))),
        ("rp_name", Rule::Str(|ck, key, v, c| ck.optional_line(key, v, &mut c.webauthn.rp_name))),
        ("origins", Rule::List(|ck, key, v, c| ck.origins(key, v, &mut c.webauthn.origins))),
    ]),
    ("email_code", &[
        ("enabled", Rule::Bool(|c| &mut c.email_code.enabled)),
        ("ttl", Rule::Duration(|c| &mut c.email_code.ttl)),
        ("length", Rule::Usize(6, 10, |c| &mut c.email_code.length)),
    ]),
    ("oidc", &[
        ("enabled", Rule::Bool(|c| &mut c.oidc.enabled)),
        ("code_ttl", Rule::Duration(|c| &mut c.oidc.code_ttl)),
        ("consent_ttl", Rule::Duration(|c| &mut c.oidc.consent_ttl)),
    ]),
    ("hooks", &[
        ("allow_private_targets", Rule::Bool(|c| &mut c.hooks.allow_private_targets)),
        ("timeout", Rule::Duration(|c| &mut c.hooks.timeout)),
        ("give_up_after", Rule::Duration(|c| &mut c.hooks.give_up_after)),
        ("retention", Rule::Duration(|c| &mut c.hooks.retention)),
        ("max_per_second", Rule::U32(0, U32_MAX, |c| &mut c.hooks.max_per_second)),
    ]),
    // `[hooks.access_token]`: a subsection (load.rs `lift_subsections`).
    ("hooks.access_token", &[
        ("url", Rule::Str(|ck, key, v, c| ck.redirect_url(key, v, &mut c.hooks.access_token.url))),
        ("secret", Rule::Str(|ck, key, v, c| ck.hook_secret(key, v, &mut c.hooks.access_token.secret))),
        ("timeout", Rule::Str(|ck, key, v, c| ck.hook_timeout(key, v, &mut c.hooks.access_token.timeout))),
        ("on_error", Rule::Str(|ck, key, v, c| ck.choice(key, &v, &mut c.hooks.access_token.on_error))),
    ]),
    ("claims", &[
        ("from_app_metadata", Rule::List(|ck, key, v, c| ck.claim_names(key, v, &mut c.claims.from_app_metadata))),
    ]),
    // `[import]` holds only its subsection.
    ("import", &[]),
    ("import.firebase", &[
        ("signer_key", Rule::Str(|ck, key, v, c| ck.base64_secret(key, v, &mut c.import.firebase.signer_key))),
        ("salt_separator", Rule::Str(|ck, key, v, c| ck.base64(key, v, &mut c.import.firebase.salt_separator))),
        ("rounds", Rule::U32(1, 32, |c| &mut c.import.firebase.rounds)),
        ("mem_cost", Rule::U32(1, 24, |c| &mut c.import.firebase.mem_cost)),
    ]),
];

pub(super) fn section_keys(section: &str) -> Option<SectionKeys> {
    KEYS.iter()
        .find(|(name, _)| *name == section)
        .map(|(_, keys)| *keys)
}

pub(super) fn key_kind(keys: SectionKeys, key: &str) -> Option<Kind> {
    keys.iter()
        .find(|(name, _)| *name == key)
        .map(|(_, rule)| rule.kind())
}

pub(super) fn known_sections() -> String {
    let names: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

pub(super) fn known_keys(keys: SectionKeys) -> String {
    let names: Vec<&str> = keys.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}
