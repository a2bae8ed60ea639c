//! The raw form: what the TOML table deserialises into, every field
//! optional, before any check.

use serde::Deserialize;

use super::Secret;

// ---------------------------------------------------------------------------
// The raw form
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) server: Option<RawServer>,
    pub(super) accounts: Option<RawAccounts>,
    pub(super) database: Option<RawDatabase>,
    pub(super) jwt: Option<RawJwt>,
    pub(super) password: Option<RawPassword>,
    pub(super) anonymous: Option<RawAnonymous>,
    pub(super) rsa: Option<RawRsa>,
    pub(super) email: Option<RawEmail>,
    pub(super) smtp: Option<RawSmtp>,
    pub(super) challenges: Option<RawChallenges>,
    pub(super) audit: Option<RawAudit>,
    pub(super) rate_limit: Option<RawRateLimit>,
    pub(super) log: Option<RawLog>,
    pub(super) metrics: Option<RawMetrics>,
}

/// A duration as written: `"15m"` or a number of seconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawDuration {
    Seconds(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) listen: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) max_body_bytes: Option<i64>,
    pub(super) cors_origins: Option<Vec<String>>,
    pub(super) trusted_proxies: Option<Vec<String>>,
    pub(super) request_timeout: Option<RawDuration>,
    pub(super) demo: Option<bool>,
    pub(super) idle_timeout: Option<RawDuration>,
    pub(super) max_connections_per_ip: Option<i64>,
    pub(super) docs: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccounts {
    pub(super) registration_open: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) path: Option<String>,
    pub(super) url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJwt {
    pub(super) algorithm: Option<String>,
    pub(super) secret: Option<Secret>,
    pub(super) issuer: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) access_ttl: Option<RawDuration>,
    pub(super) refresh_ttl: Option<RawDuration>,
    pub(super) refresh_idle_ttl: Option<RawDuration>,
    pub(super) reuse_grace: Option<RawDuration>,
    pub(super) key_reload: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPassword {
    pub(super) algorithm: Option<String>,
    pub(super) pbkdf2_iterations: Option<i64>,
    pub(super) min_length: Option<i64>,
    pub(super) max_length: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAnonymous {
    pub(super) enabled: Option<bool>,
    pub(super) required: Option<bool>,
    pub(super) ttl: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRsa {
    pub(super) enabled: Option<bool>,
    pub(super) required: Option<bool>,
    pub(super) key_bits: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEmail {
    pub(super) mode: Option<String>,
    pub(super) confirmation_required: Option<bool>,
    pub(super) from: Option<String>,
    pub(super) app_name: Option<String>,
    pub(super) outbox_dir: Option<String>,
    pub(super) templates_dir: Option<String>,
    pub(super) link_ttl: Option<RawDuration>,
    pub(super) give_up_after: Option<RawDuration>,
    pub(super) confirm_redirect_url: Option<String>,
    pub(super) reset_redirect_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) host: Option<String>,
    pub(super) port: Option<i64>,
    pub(super) tls: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<Secret>,
    pub(super) timeout: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChallenges {
    pub(super) max_attempts: Option<i64>,
    pub(super) sweep_interval: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    pub(super) retention: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimit {
    pub(super) enabled: Option<bool>,
    pub(super) per_ip_per_minute: Option<i64>,
    pub(super) per_ip_burst: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub(super) format: Option<String>,
    pub(super) level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    pub(super) enabled: Option<bool>,
    pub(super) listen: Option<String>,
}
