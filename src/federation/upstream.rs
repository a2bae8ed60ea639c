//! Talking to the providers: discovery documents and key sets (fetched
//! when first needed, then cached), the token request, and GitHub's user
//! API. Every request has a timeout, follows no redirect and reads at most
//! [`MAX_BODY`] bytes; every URL used came from the configuration or from
//! a discovery document whose `issuer` matched it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

use super::id_token::{self, Expected, IdClaims, IdTokenError};
use super::jwks::ProviderKeys;
use crate::config::{is_provider_url, ProviderConfig, ProviderKind};

/// Largest response read from a provider.
pub const MAX_BODY: usize = 256 * 1024;
/// How long a discovery document is trusted before it is fetched again.
const DISCOVERY_TTL: i64 = 3600;
/// A key set is fetched again after this, or at once for an unknown `kid`
/// (key rotation at the provider), but not more often than
/// [`JWKS_MIN_INTERVAL`].
const JWKS_TTL: i64 = 3600;
const JWKS_MIN_INTERVAL: i64 = 30;

/// What went wrong with a provider; the text is for logs and for
/// `toktok check`, never sent to a browser (it may name internal hosts).
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The provider could not be reached or answered badly.
    #[error("{0}")]
    Unavailable(String),
    /// The provider's answer about this sign-in was refused (a bad ID
    /// token, a refused code): the sign-in fails, the provider is fine.
    #[error("{0}")]
    Refused(String),
}

/// The parts of a discovery document toktok uses, checked.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// Whether the token endpoint takes client_secret_post only.
    pub post_only: bool,
    pub algs: Vec<String>,
}

/// What a provider says about the person who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Stable id at the provider.
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

#[derive(Default)]
struct Cache {
    discovery: HashMap<String, (Discovery, i64)>,
    keys: HashMap<String, (Arc<ProviderKeys>, i64)>,
}

/// The configured providers and an HTTP client to reach them.
pub struct Providers {
    list: Vec<ProviderConfig>,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

impl Providers {
    /// Checks what can be checked without the network (Apple's key) and
    /// builds the client.
    pub fn new(list: &[ProviderConfig]) -> anyhow::Result<Providers> {
        for p in list {
            if let Some(apple) = &p.apple {
                super::apple::check_private_key(apple.private_key.expose())
                    .map_err(|e| anyhow::anyhow!("providers: {}: private_key: {e}", p.id))?;
            }
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("toktok/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client for providers: {e}"))?;
        Ok(Providers {
            list: list.to_vec(),
            http,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// Every configured provider, enabled or not.
    pub fn all(&self) -> &[ProviderConfig] {
        &self.list
    }

    /// The enabled provider `id`.
    pub fn enabled(&self, id: &str) -> Option<&ProviderConfig> {
        self.list.iter().find(|p| p.id == id && p.enabled)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn get_json(&self, url: &str, bearer: Option<&str>) -> Result<Value, UpstreamError> {
        let mut request = self.http.get(url).header("Accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("GET {url}: {e}")))?;
        read_json(url, response).await
    }

    /// The provider's discovery document, from the cache or fetched.
    pub async fn discovery(
        &self,
        p: &ProviderConfig,
        now: i64,
    ) -> Result<Discovery, UpstreamError> {
        if let Some((d, at)) = self.cache().discovery.get(&p.id) {
            if now - at < DISCOVERY_TTL {
                return Ok(d.clone());
            }
        }
        let d = self.fetch_discovery(p).await?;
        self.cache()
            .discovery
            .insert(p.id.clone(), (d.clone(), now));
        Ok(d)
    }

    /// Fetches and checks `{issuer}/.well-known/openid-configuration`
    /// (what `toktok check` calls too).
    pub async fn fetch_discovery(&self, p: &ProviderConfig) -> Result<Discovery, UpstreamError> {
        let url = format!("{}/.well-known/openid-configuration", p.issuer);
        let doc = self.get_json(&url, None).await?;
        check_discovery(&p.issuer, &doc)
            .map_err(|e| UpstreamError::Unavailable(format!("{url}: {e}")))
    }

    /// The provider's keys; fetched again when `kid` is not among them
    /// (at most every [`JWKS_MIN_INTERVAL`]).
    async fn keys(
        &self,
        p: &ProviderConfig,
        d: &Discovery,
        kid: Option<&str>,
        now: i64,
    ) -> Result<Arc<ProviderKeys>, UpstreamError> {
        if let Some((keys, at)) = self.cache().keys.get(&p.id).cloned() {
            let fresh = now - at < JWKS_TTL;
            let knows = kid.is_none_or(|k| keys.has_kid(k));
            if (fresh && knows) || now - at < JWKS_MIN_INTERVAL {
                return Ok(keys);
            }
        }
        let doc = self.get_json(&d.jwks_uri, None).await?;
        let keys = Arc::new(
            ProviderKeys::from_jwks(&doc)
                .map_err(|e| UpstreamError::Unavailable(format!("{}: {e}", d.jwks_uri)))?,
        );
        self.cache().keys.insert(p.id.clone(), (keys.clone(), now));
        Ok(keys)
    }

    /// The URL to send the browser to.
    pub async fn authorization_url(
        &self,
        p: &ProviderConfig,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        challenge: &str,
        now: i64,
    ) -> Result<String, UpstreamError> {
        let endpoint = match p.kind {
            ProviderKind::Oidc => self.discovery(p, now).await?.authorization_endpoint,
            ProviderKind::Github => p.authorization_url.clone(),
        };
        let scope = p.scopes.join(" ");
        let mut url = url::Url::parse(&endpoint)
            .map_err(|e| UpstreamError::Unavailable(format!("{endpoint}: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &p.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &scope)
                .append_pair("state", state)
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
            if p.kind == ProviderKind::Oidc {
                q.append_pair("nonce", nonce);
            }
            if p.response_mode == crate::config::ResponseMode::FormPost {
                q.append_pair("response_mode", "form_post");
            }
        }
        Ok(url.to_string())
    }

    /// Redeems `code` at the provider and says who signed in: for an
    /// OpenID provider from its verified ID token, for GitHub from its API.
    pub async fn person(
        &self,
        p: &ProviderConfig,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Person, UpstreamError> {
        match p.kind {
            ProviderKind::Oidc => {
                let d = self.discovery(p, now).await?;
                let tokens = self
                    .token(
                        p,
                        &d.token_endpoint,
                        d.post_only,
                        code,
                        redirect_uri,
                        verifier,
                        now,
                    )
                    .await?;
                let Some(id_token) = tokens.get("id_token").and_then(Value::as_str) else {
                    return Err(UpstreamError::Refused(
                        "the token response has no id_token".to_owned(),
                    ));
                };
                let claims = self.verify_id_token(p, &d, id_token, nonce, now).await?;
                Ok(Person {
                    subject: claims.sub,
                    email: claims.email,
                    email_verified: claims.email_verified,
                    name: claims.name,
                })
            }
            ProviderKind::Github => {
                let tokens = self
                    .token(p, &p.token_url, true, code, redirect_uri, verifier, now)
                    .await?;
                let Some(access) = tokens.get("access_token").and_then(Value::as_str) else {
                    return Err(UpstreamError::Refused(
                        "the token response has no access_token".to_owned(),
                    ));
                };
                self.github_person(p, access).await
            }
        }
    }

    async fn verify_id_token(
        &self,
        p: &ProviderConfig,
        d: &Discovery,
        token: &str,
        nonce: &str,
        now: i64,
    ) -> Result<IdClaims, UpstreamError> {
        let kid = id_token::header_kid(token)
            .map_err(|e| UpstreamError::Refused(format!("ID token: {e:?}")))?;
        let algs: Vec<&str> = d.algs.iter().map(String::as_str).collect();
        let expected = Expected {
            issuer: &p.issuer,
            client_id: &p.client_id,
            nonce,
            now,
            algs: &algs,
        };
        let keys = self.keys(p, d, kid.as_deref(), now).await?;
        match id_token::verify(token, &keys, &expected) {
            Ok(claims) => Ok(claims),
            Err(IdTokenError::UnknownKid) => {
                Err(UpstreamError::Refused("ID token: unknown kid".to_owned()))
            }
            Err(e) => Err(UpstreamError::Refused(format!("ID token: {e:?}"))),
        }
    }

    /// The token request (RFC 6749 §4.1.3 with the PKCE verifier).
    #[allow(clippy::too_many_arguments)]
    async fn token(
        &self,
        p: &ProviderConfig,
        endpoint: &str,
        post: bool,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        now: i64,
    ) -> Result<Value, UpstreamError> {
        let secret = match &p.apple {
            Some(apple) => super::apple::client_secret(
                &apple.team_id,
                &apple.key_id,
                &p.client_id,
                apple.private_key.expose(),
                now,
            )
            .map_err(UpstreamError::Unavailable)?,
            None => p.client_secret.expose().to_owned(),
        };
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        let mut request = self
            .http
            .post(endpoint)
            .header("Accept", "application/json");
        if post || p.apple.is_some() {
            form.push(("client_id", &p.client_id));
            form.push(("client_secret", &secret));
        } else {
            // RFC 6749 §2.3.1: each part form-encoded, then Basic.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let basic = STANDARD.encode(format!("{}:{}", enc(&p.client_id), enc(&secret)));
            request = request.header("Authorization", format!("Basic {basic}"));
        }
        let body = serde_urlencoded::to_string(&form)
            .map_err(|e| UpstreamError::Unavailable(format!("token request: {e}")))?;
        let response = request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("POST {endpoint}: {e}")))?;
        let status = response.status();
        let json = read_json_any(endpoint, response).await?;
        if !status.is_success() || json.get("error").is_some() {
            let error = json.get("error").and_then(Value::as_str).unwrap_or("?");
            return Err(UpstreamError::Refused(format!(
                "the provider refused the code ({status}, error {error})"
            )));
        }
        Ok(json)
    }

    /// GitHub: `/user` for the id and name, `/user/emails` for the primary
    /// address and whether GitHub verified it.
    async fn github_person(
        &self,
        p: &ProviderConfig,
        token: &str,
    ) -> Result<Person, UpstreamError> {
        let user = self
            .get_json(&format!("{}/user", p.api_url), Some(token))
            .await?;
        let subject = match user.get("id") {
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            _ => {
                return Err(UpstreamError::Refused(
                    "GitHub's /user has no numeric id".to_owned(),
                ))
            }
        };
        let name = ["name", "login"]
            .iter()
            .find_map(|k| user.get(*k).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let emails = self
            .get_json(&format!("{}/user/emails", p.api_url), Some(token))
            .await?;
        let primary = emails
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true));
        let email = primary
            .and_then(|e| e.get("email"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let email_verified = primary
            .and_then(|e| e.get("verified"))
            .and_then(Value::as_bool)
            == Some(true);
        Ok(Person {
            subject,
            email,
            email_verified,
            name,
        })
    }
}

/// A 2xx JSON answer, read up to [`MAX_BODY`].
async fn read_json(url: &str, response: reqwest::Response) -> Result<Value, UpstreamError> {
    let status = response.status();
    if !status.is_success() {
        return Err(UpstreamError::Unavailable(format!(
            "{url} answered {status}"
        )));
    }
    read_json_any(url, response).await
}

/// Any answer's JSON body, read up to [`MAX_BODY`].
async fn read_json_any(url: &str, mut response: reqwest::Response) -> Result<Value, UpstreamError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| UpstreamError::Unavailable(format!("{url}: {e}")))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(UpstreamError::Unavailable(format!(
                "{url}: the answer is larger than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|e| UpstreamError::Unavailable(format!("{url}: not JSON: {e}")))
}

/// The checks on a discovery document (OIDC Discovery 1.0 §4.3: its
/// `issuer` is exactly the configured one).
pub fn check_discovery(issuer: &str, doc: &Value) -> Result<Discovery, String> {
    let text = |key: &str| doc.get(key).and_then(Value::as_str);
    let found = text("issuer").unwrap_or("");
    if found.trim_end_matches('/') != issuer {
        return Err(format!(
            "its issuer is \"{found}\", not the configured \"{issuer}\""
        ));
    }
    let url = |key: &str| -> Result<String, String> {
        match text(key) {
            Some(u) if is_provider_url(u) => Ok(u.to_owned()),
            Some(u) => Err(format!("{key} \"{u}\" is not https (or http on loopback)")),
            None => Err(format!("it has no {key}")),
        }
    };
    let list = |key: &str| -> Vec<String> {
        doc.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let methods = list("token_endpoint_auth_methods_supported");
    let post_only = !methods.is_empty()
        && !methods.iter().any(|m| m == "client_secret_basic")
        && methods.iter().any(|m| m == "client_secret_post");
    let mut algs: Vec<String> = list("id_token_signing_alg_values_supported")
        .into_iter()
        .filter(|a| super::id_token::DEFAULT_ALGS.contains(&a.as_str()))
        .collect();
    if algs.is_empty() {
        // OIDC Discovery: RS256 is always supported.
        algs.push("RS256".to_owned());
    }
    let response_types = list("response_types_supported");
    if !response_types.is_empty() && !response_types.iter().any(|t| t == "code") {
        return Err("it does not support response_type=code".to_owned());
    }
    Ok(Discovery {
        authorization_endpoint: url("authorization_endpoint")?,
        token_endpoint: url("token_endpoint")?,
        jwks_uri: url("jwks_uri")?,
        post_only,
        algs,
    })
}
