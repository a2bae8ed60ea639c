//! `[hooks]`, `[hooks.access_token]` and `[claims]` (docs/webhooks.md,
//! docs/token-claims.md): the sections, their defaults, and the checks
//! their values need beyond the shared ones in `check.rs`.

use std::time::Duration;

use super::check::Checker;
use super::values::Choice;
use super::{ConfigError, Secret};

/// `[hooks]`: webhook delivery, and the access-token hook.
#[derive(Debug, Clone, PartialEq)]
pub struct HooksConfig {
    /// Deliver to loopback, private and link-local addresses (off: SSRF).
    pub allow_private_targets: bool,
    /// One delivery attempt, connection to answer.
    pub timeout: Duration,
    /// A delivery still failing this long after its event is given up.
    pub give_up_after: Duration,
    /// Delivered and given-up deliveries stay in the log this long.
    pub retention: Duration,
    /// Most webhook deliveries started per second (0: no limit).
    pub max_per_second: u32,
    /// `[hooks.access_token]`.
    pub access_token: AccessTokenHookConfig,
}

impl Default for HooksConfig {
    fn default() -> Self {
        HooksConfig {
            allow_private_targets: false,
            timeout: Duration::from_secs(10),
            give_up_after: Duration::from_secs(3 * 86_400),
            retention: Duration::from_secs(7 * 86_400),
            max_per_second: 2000,
            access_token: AccessTokenHookConfig::default(),
        }
    }
}

/// What an access-token hook failure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookOnError {
    /// No token: the request fails (502 `hook_failed`).
    Deny,
    /// The token, without the hook's claims.
    Skip,
}

impl HookOnError {
    pub fn as_str(self) -> &'static str {
        match self {
            HookOnError::Deny => "deny",
            HookOnError::Skip => "skip",
        }
    }
}

impl Choice for HookOnError {
    const ALL: &'static [Self] = &[HookOnError::Deny, HookOnError::Skip];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// `[hooks.access_token]`: an HTTP endpoint asked for extra claims before
/// each access token is issued; off while `url` is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessTokenHookConfig {
    pub url: String,
    /// `whsec_…`: the calls are signed with it (Standard Webhooks).
    pub secret: Secret,
    pub timeout: Duration,
    pub on_error: HookOnError,
}

impl Default for AccessTokenHookConfig {
    fn default() -> Self {
        AccessTokenHookConfig {
            url: String::new(),
            secret: Secret::default(),
            timeout: Duration::from_millis(500),
            on_error: HookOnError::Deny,
        }
    }
}

/// `[claims]`: what goes into tokens beyond toktok's own claims.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClaimsConfig {
    /// Members of a user's `app_metadata` copied into access and ID tokens.
    pub from_app_metadata: Vec<String>,
}

/// Claims toktok sets itself, or that JWT and OIDC define: neither
/// `from_app_metadata` nor the hook may set them.
pub const PROTECTED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "typ",
    "sid",
    "client_id",
    "scope",
    "auth_time",
    "amr",
    "aal",
    "acr",
    "azp",
    "nonce",
    "at_hash",
    "c_hash",
    "s_hash",
    "cnf",
    "role",
    "email",
    "email_verified",
    "name",
    "anon",
    "token_use",
    "kid",
    "alg",
];

const MIN_HOOK_TIMEOUT_MS: u64 = 10;
const MAX_HOOK_TIMEOUT_MS: u64 = 10_000;

impl Checker<'_> {
    /// `"250ms"` or a duration (`"2s"`), from 10 ms to 10 s.
    pub(super) fn hook_timeout(
        &self,
        key: &str,
        text: String,
        into: &mut Duration,
    ) -> Result<(), ConfigError> {
        let t = text.trim();
        let parsed = match t.strip_suffix("ms") {
            Some(ms) if !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()) => {
                ms.parse::<u64>().ok().map(Duration::from_millis)
            }
            Some(_) => None,
            None => super::values::parse_duration(t).ok(),
        };
        match parsed {
            Some(d)
                if d >= Duration::from_millis(MIN_HOOK_TIMEOUT_MS)
                    && d <= Duration::from_millis(MAX_HOOK_TIMEOUT_MS) =>
            {
                *into = d;
                Ok(())
            }
            _ => Err(self.fail(
                key,
                format!("expected a time from \"10ms\" to \"10s\" (e.g. \"500ms\"), got \"{t}\""),
            )),
        }
    }

    /// Empty, or a `whsec_…` Standard Webhooks secret.
    pub(super) fn hook_secret(
        &self,
        key: &str,
        text: String,
        into: &mut Secret,
    ) -> Result<(), ConfigError> {
        if !text.is_empty() {
            crate::domain::webhook::secret_bytes(&text).map_err(|e| {
                self.fail(
                    key,
                    format!("{e} (make one: echo whsec_$(openssl rand -base64 32))"),
                )
            })?;
        }
        *into = Secret::from(text);
        Ok(())
    }

    /// Claim names: letters, digits, `_`, `-`, `.`, `:`; none protected,
    /// none twice.
    pub(super) fn claim_names(
        &self,
        key: &str,
        names: Vec<String>,
        into: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        for (i, name) in names.iter().enumerate() {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
            if !ok {
                return Err(self.fail(
                    key,
                    format!("\"{name}\" is not a claim name (letters, digits, _ - . : only)"),
                ));
            }
            if PROTECTED_CLAIMS.contains(&name.as_str()) {
                return Err(self.fail(
                    key,
                    format!("\"{name}\" is a claim toktok sets itself; choose another name"),
                ));
            }
            if names[..i].contains(name) {
                return Err(self.fail(key, format!("\"{name}\" is listed twice")));
            }
        }
        *into = names;
        Ok(())
    }

    /// A hook URL needs its secret.
    pub(super) fn cross_check_hooks(&self, c: &super::Config) -> Result<(), ConfigError> {
        let hook = &c.hooks.access_token;
        if !hook.url.is_empty() && hook.secret.is_empty() {
            return Err(self.fail(
                "hooks.access_token.secret",
                "is required when hooks.access_token.url is set (a \"whsec_…\" secret the \
                 hook verifies calls with)",
            ));
        }
        Ok(())
    }
}
