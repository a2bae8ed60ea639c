//! The application state: configuration plus everything built from it at
//! start-up, handed to every handler and background task.
//!
//! [`AppState`] is cheap to clone and holds no global: the store, the keys,
//! the hash pool, the limiter, the metrics and the clock all live here.
//! It knows nothing of HTTP or of serving: the router, the server and the
//! embeddable [`crate::App`] (in `server/`) are built on top of it, so the
//! arrows point one way (`http`/`accounts` → `app`, never back).
//! `keys.rs` loads the signing keys from the store.

use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use ring::rand::SecureRandom as _;

use crate::auth::foreign::FirebaseKeys;
use crate::auth::jwe::RsaKeyring;
use crate::auth::jwt::Keyring;
use crate::auth::password::{HashAlgorithm, HashPool};
use crate::auth::rotation;
use crate::challenge::Engine;
use crate::clock::SharedClock;
use crate::config::{Config, PasswordAlgorithm};
use crate::domain::password::PasswordPolicy;
use crate::i18n::Catalogues;
use crate::mail::{Mailer, MailerParts};
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::Store;

mod keys;

pub use keys::{needs_id_keyring, new_key_row};

/// Shared state of a running toktok. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub struct Inner {
    pub config: Config,
    pub store: Store,
    /// Signing and verification keys; replaced whole on SIGHUP after
    /// `toktok keys rotate`, so readers clone the `Arc` and never wait long.
    keys: RwLock<Arc<Keyring>>,
    /// The RS256 keys of OpenID Connect ID tokens when toktok's own tokens
    /// use another algorithm (`keys::needs_id_keyring`); published in the
    /// JWKS beside `keys`.
    id_keys: RwLock<Option<Arc<Keyring>>>,
    /// One key reread at a time (the timer and SIGHUP), so an older, slower
    /// one never lands after a newer one.
    rereading: tokio::sync::Mutex<()>,
    /// Password hashing, bounded to the cores with a queue limit (P8).
    pub hasher: HashPool,
    pub policy: PasswordPolicy,
    /// Per-IP token buckets (L3).
    pub limiter: RateLimiter,
    pub metrics: Arc<Metrics>,
    /// Every expiry decision asks this clock, so tests can move time.
    pub clock: SharedClock,
    /// HMAC key deriving each refresh token's successor from its
    /// predecessor, so the grace window can hand out the same successor
    /// without storing it (R2, R6).
    pub refresh_chain_key: ring::hmac::Key,
    /// HMAC key of the hosted pages (`http::browser`, `oidc::sealed`): the
    /// browser-session cookie, CSRF tokens and sealed authorization
    /// requests. A server secret, so every instance shares it.
    pub pages_key: ring::hmac::Key,
    /// The challenge-token engine (its own group-commit writer inside).
    pub challenges: Engine,
    /// Wakes the outbox worker after a flow queued mail (`notify`); knows
    /// the templates and the transport. `None` when `email.mode = "off"`.
    pub mailer: Option<Mailer>,
    /// The RSA keys that decrypt JWE request bodies, with their bounded
    /// decryption pool (O1–O3). `None` when `rsa.enabled = false`.
    pub rsa: Option<Arc<RsaKeyring>>,
    /// The WebAuthn relying party; `None` when `webauthn.enabled = false`.
    pub webauthn: Option<crate::auth::webauthn::Webauthn>,
    /// The upstream sign-in providers (`[[providers]]`) and the HTTP
    /// client that reaches them.
    pub providers: crate::federation::upstream::Providers,
    /// The message catalogues of every language, with the overrides of
    /// `[branding] messages_dir` (checked at start). An `Arc` so a page's
    /// template function can hold them.
    pub catalogues: Arc<Catalogues>,
    /// `[branding] logo`, read at start; served at `/branding/logo`.
    pub logo: Option<Logo>,
    /// The webhook worker's handle (`crate::hooks::deliver`).
    pub webhooks: crate::hooks::Webhooks,
    /// `[hooks.access_token]`, when a URL is set.
    pub access_token_hook: Option<crate::hooks::access_token::AccessTokenHook>,
}

/// The logo image of `[branding] logo`: its bytes and media type.
#[derive(Debug, Clone)]
pub struct Logo {
    pub bytes: axum::body::Bytes,
    pub content_type: &'static str,
}

/// The largest logo file toktok serves.
const MAX_LOGO_BYTES: u64 = 1024 * 1024;

impl Logo {
    /// Reads `[branding] logo` (none when the key is empty): a missing,
    /// empty or oversized file stops the start with its path named.
    pub(crate) fn load(brand: &crate::config::BrandingConfig) -> anyhow::Result<Option<Logo>> {
        let path = &brand.logo;
        if path.as_os_str().is_empty() {
            return Ok(None);
        }
        let shown = path.display();
        let content_type = crate::config::BrandingConfig::image_type(path).with_context(|| {
            format!("branding.logo: {shown} is not a .png, .svg, .jpg, .webp or .gif file")
        })?;
        let size = std::fs::metadata(path)
            .with_context(|| format!("branding.logo: cannot read {shown}"))?
            .len();
        if size == 0 || size > MAX_LOGO_BYTES {
            anyhow::bail!("branding.logo: {shown} is {size} bytes; a logo must be 1 byte to 1 MiB");
        }
        let bytes =
            std::fs::read(path).with_context(|| format!("branding.logo: cannot read {shown}"))?;
        Ok(Some(Logo {
            bytes: bytes.into(),
            content_type,
        }))
    }
}

impl AppState {
    /// Opens the database (migrating it), loads or creates the keys and
    /// builds everything else a running toktok holds. [`crate::App`] calls
    /// it; nothing runs yet.
    pub(crate) async fn build(config: Config, clock: SharedClock) -> anyhow::Result<AppState> {
        let database = config.database.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&database))
            .await
            .context("while opening the database")??;
        let now = clock.now();
        let keyring = keys::load_keyring(&config, &store, now).await?;
        let id_keyring = keys::refresh_id_keyring(&config, &store, now, None)
            .await
            .context("while loading the ID token keys")?
            .map(Arc::new);
        let chain = store
            .server_secret("refresh_chain", now, random_32)
            .await
            .context("while loading the refresh-token key")?;
        let pages = store
            .server_secret("pages", now, random_32)
            .await
            .context("while loading the pages key")?;
        let algorithm = match config.password.algorithm {
            PasswordAlgorithm::Pbkdf2Sha256 => HashAlgorithm::Pbkdf2Sha256 {
                iterations: config.password.pbkdf2_iterations,
            },
            PasswordAlgorithm::Argon2id => HashAlgorithm::Argon2id,
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let firebase = FirebaseKeys::from_config(&config.import.firebase)
            .map_err(|e| anyhow::anyhow!("import.firebase: {e}"))?;
        let hasher =
            tokio::task::spawn_blocking(move || HashPool::new(algorithm, cores, cores * 32))
                .await
                .context("while preparing the password hasher")?
                .map_err(|e| anyhow::anyhow!("while preparing the password hasher: {e}"))?
                .with_firebase(firebase);
        let policy = PasswordPolicy::new(config.password.min_length, config.password.max_length);
        let limiter = RateLimiter::new(
            config.rate_limit.enabled,
            config.rate_limit.per_ip_per_minute,
            config.rate_limit.per_ip_burst,
            clock.clone(),
        )
        .shared(&store);
        let challenges = Engine::load(store.clone(), clock.clone(), config.challenges.max_attempts)
            .await
            .context("while loading the challenge keys")?;
        let metrics = Arc::new(Metrics::new());
        // Mail templates are read and checked here, at start. The worker
        // gets what it needs, not this state (mail sits below it).
        let catalogues = Arc::new(
            Catalogues::load(&config.branding.messages_dir)
                .context("while loading the message catalogues")?,
        );
        let parts = MailerParts {
            store: store.clone(),
            challenges: challenges.clone(),
            metrics: metrics.clone(),
            clock: clock.clone(),
            catalogues: catalogues.clone(),
        };
        let mailer = Mailer::new(&config, parts).context("while preparing mail")?;
        // The RSA key is generated at first start, then reused.
        let rsa = if config.rsa.enabled {
            let delay = rotation::publish_delay(config.jwt.key_reload);
            let keyring = RsaKeyring::load(&store, config.rsa.key_bits, delay, now)
                .await
                .context("while loading the RSA key")?;
            Some(Arc::new(keyring))
        } else {
            None
        };
        let webauthn = crate::auth::webauthn::Webauthn::from_config(&config)?;
        let providers = crate::federation::upstream::Providers::new(&config.providers)?;
        let logo = Logo::load(&config.branding)?;
        let webhooks = crate::hooks::Webhooks::new(
            store.clone(),
            metrics.clone(),
            clock.clone(),
            crate::hooks::Settings::from(&config),
        );
        let access_token_hook =
            crate::hooks::access_token::AccessTokenHook::from_config(&config.hooks.access_token)
                .context("while preparing [hooks.access_token]")?;
        let inner = Inner {
            access_token_hook,
            webhooks,
            logo,
            catalogues,
            providers,
            webauthn,
            rsa,
            mailer,
            challenges,
            store,
            keys: RwLock::new(Arc::new(keyring)),
            id_keys: RwLock::new(id_keyring),
            rereading: tokio::sync::Mutex::new(()),
            hasher,
            policy,
            limiter,
            metrics,
            clock,
            refresh_chain_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &chain),
            pages_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &pages),
            config,
        };
        Ok(AppState(Arc::new(inner)))
    }

    /// The signing and verification keys in use.
    pub fn keys(&self) -> Arc<Keyring> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The keys that sign ID tokens with RS256: the ID token keyring, or
    /// the signing keys when they are RS256 themselves.
    pub fn rs256_keys(&self) -> Option<Arc<Keyring>> {
        let own = self
            .id_keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        own.or_else(|| {
            let keys = self.keys();
            (keys.algorithm() == crate::auth::jwt::Algorithm::RS256).then_some(keys)
        })
    }

    /// The published JWKS: the signing keys, then the ID token keys.
    pub fn jwks(&self) -> serde_json::Value {
        let mut jwks = self.keys().jwks();
        let own = self
            .id_keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let (Some(own), Some(list)) = (own, jwks["keys"].as_array_mut()) {
            if let Some(more) = own.jwks()["keys"].as_array() {
                list.extend(more.iter().cloned());
            }
        }
        jwks
    }

    /// Rereads the signing and RSA keys from the database: every
    /// `jwt.key_reload`, and on SIGHUP. Keys that did not change are kept
    /// as they are. Each side is reread even if the other fails; on error
    /// the keys in use stay.
    pub async fn reload_keys(&self) -> anyhow::Result<()> {
        let _one_at_a_time = self.rereading.lock().await;
        let rsa = match &self.rsa {
            Some(rsa) => rsa.reload(&self.store, self.clock.now()).await,
            None => Ok(()),
        };
        let current = self.keys();
        let jwt =
            keys::refresh_keyring(&self.config, &self.store, self.clock.now(), Some(&current))
                .await
                .map(|fresh| {
                    if let Some(keyring) = fresh {
                        tracing::info!(kid = keyring.active_kid(), "signing keys reloaded");
                        *self
                            .keys
                            .write()
                            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(keyring);
                    }
                });
        let current = self
            .id_keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let id = keys::refresh_id_keyring(
            &self.config,
            &self.store,
            self.clock.now(),
            current.as_deref(),
        )
        .await
        .map(|fresh| {
            if let Some(keyring) = fresh {
                tracing::info!(kid = keyring.active_kid(), "ID token keys reloaded");
                *self
                    .id_keys
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(keyring));
            }
        });
        let jwt = jwt.and(id);
        match (rsa, jwt) {
            (Err(rsa), Err(jwt)) => Err(jwt.context(format!("and the RSA keys: {rsa:#}"))),
            (Err(e), _) => Err(e.context("while rereading the RSA keys")),
            (_, Err(e)) => Err(e.context("while rereading the signing keys")),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Milliseconds since the epoch (the refresh reuse grace).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// 32 bytes from the OS CSPRNG (the refresh-chain key).
fn random_32() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    // A key of zeros would be worse than no server: without the OS CSPRNG,
    // stop.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        tracing::error!("the operating system's random number generator failed");
        std::process::abort();
    }
    bytes
}

/// The mail worker's handle, for `crate::mail::deliver_due` (tests run
/// the outbox by hand with the state they hold).
#[cfg(any(test, feature = "testing"))]
impl AsRef<Option<Mailer>> for AppState {
    fn as_ref(&self) -> &Option<Mailer> {
        &self.mailer
    }
}
