//! The access-token hook (`[hooks.access_token]`, docs/token-claims.md):
//! before an access token is issued, toktok `POST`s
//! `{"user", "session", "client_id", "claims"}` to the configured URL,
//! signed like a webhook (Standard Webhooks headers, the configured
//! `whsec_` secret), and reads `{"claims": {…}}` back. Which of those
//! claims are kept is the caller's rule (`accounts::claims`); this module
//! only makes the call, within the timeout, following no redirect, reading
//! at most [`MAX_ANSWER`] bytes. The URL is operator configuration, so the
//! webhook SSRF rule does not apply to it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::signature::{self, SigningSecret};
use crate::config::{AccessTokenHookConfig, HookOnError};
use crate::metrics::Metrics;

/// Longest answer read.
pub const MAX_ANSWER: usize = 64 * 1024;
/// Calls by outcome (`ok`, `error`, `timeout`).
pub const METRIC: &str = "toktok_hook_calls_total";
/// Call latency.
pub const LATENCY: &str = "toktok_hook_duration_seconds";

/// The configured hook, ready to call. Cheap to clone.
#[derive(Clone)]
pub struct AccessTokenHook {
    url: String,
    secret: Arc<SigningSecret>,
    timeout: Duration,
    pub on_error: HookOnError,
    client: reqwest::Client,
}

impl std::fmt::Debug for AccessTokenHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenHook")
            .field("url", &self.url)
            .finish()
    }
}

/// Why a call gave no claims (for the log; the client sees `hook_failed`).
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("timed out")]
    Timeout,
    #[error("request failed: {0}")]
    Request(String),
    #[error("answered {0}")]
    Status(u16),
    #[error("answered something other than {{\"claims\": {{…}}}} ({0})")]
    Answer(&'static str),
}

impl AccessTokenHook {
    /// The hook of `config`, or `None` when no URL is set.
    pub fn from_config(config: &AccessTokenHookConfig) -> anyhow::Result<Option<Self>> {
        if config.url.is_empty() {
            return Ok(None);
        }
        let secret = SigningSecret::parse(config.secret.expose())
            .map_err(|e| anyhow::anyhow!("hooks.access_token.secret: {e}"))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()?;
        Ok(Some(AccessTokenHook {
            url: config.url.clone(),
            secret: Arc::new(secret),
            timeout: config.timeout,
            on_error: config.on_error,
            client,
        }))
    }

    /// Calls the hook with `input`; the `claims` object it answered.
    pub async fn call(
        &self,
        input: &Value,
        now: i64,
        metrics: &Metrics,
    ) -> Result<Map<String, Value>, HookError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.timeout, self.exchange(input, now))
            .await
            .unwrap_or(Err(HookError::Timeout));
        let label = match &outcome {
            Ok(_) => "ok",
            Err(HookError::Timeout) => "timeout",
            Err(_) => "error",
        };
        metrics.incr(METRIC, &[("outcome", label)]);
        metrics.observe(LATENCY, started.elapsed().as_secs_f64());
        outcome
    }

    async fn exchange(&self, input: &Value, now: i64) -> Result<Map<String, Value>, HookError> {
        let body = input.to_string();
        let id = crate::domain::webhook::message_id();
        let request = signature::post(&self.client, &self.url, &self.secret, &id, now, body);
        let mut answer = request.send().await.map_err(|e| {
            if e.is_timeout() {
                HookError::Timeout
            } else {
                HookError::Request(e.to_string())
            }
        })?;
        let status = answer.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(HookError::Status(status));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|e| HookError::Request(e.to_string()))?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Err(HookError::Answer("larger than 64 KiB"));
            }
            bytes.extend_from_slice(&chunk);
        }
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|_| HookError::Answer("not JSON"))?;
        match value {
            Value::Object(mut o) => match o.remove("claims") {
                Some(Value::Object(claims)) => Ok(claims),
                None => Ok(Map::new()),
                Some(_) => Err(HookError::Answer("claims is not an object")),
            },
            _ => Err(HookError::Answer("not an object")),
        }
    }
}
