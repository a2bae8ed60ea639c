//! The application: configuration plus everything built from it at start-up.
//!
//! [`App`] is what an embedding program holds: build it from a [`Config`],
//! then either [`crate::serve`] it on a listener or mount [`App::router`]
//! inside another axum/hyper program. [`AppState`] is the shared state handed
//! to every handler; nothing in toktok is global.

use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use ring::rand::SecureRandom as _;

use crate::auth::jwt::{self, Algorithm, KeyMaterial, Keyring};
use crate::auth::password::{HashAlgorithm, HashPool};
use crate::auth::rotation::{self, KeyTimes};
use crate::auth::rsa::RsaKeyring;
use crate::challenge::Engine;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, PasswordAlgorithm};
use crate::domain::password::PasswordPolicy;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::{KeyRow, Store};

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
    /// The challenge-token engine (its own group-commit writer inside).
    pub challenges: Engine,
    /// Wakes the outbox worker after a flow queued mail (`notify`); knows
    /// the templates and the transport. `None` when `email.mode = "off"`.
    pub mailer: Option<Mailer>,
    /// The RSA keys that decrypt JWE request bodies, with their bounded
    /// decryption pool (O1–O3). `None` when `rsa.enabled = false`.
    pub rsa: Option<Arc<RsaKeyring>>,
}

impl AppState {
    pub fn keys(&self) -> Arc<Keyring> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
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
        let jwt = refresh_keyring(&self.config, &self.store, self.clock.now(), Some(&current))
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

/// A built toktok, ready to serve or to mount.
#[derive(Clone)]
pub struct App {
    state: AppState,
}

/// Options for [`App`] beyond the configuration.
pub struct AppBuilder {
    config: Config,
    clock: SharedClock,
}

impl AppBuilder {
    /// Replaces the wall clock (tests move time with `ManualClock`).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Opens the database (migrating it), loads or creates keys.
    pub async fn build(self) -> anyhow::Result<App> {
        let AppBuilder { config, clock } = self;
        let database = config.database.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&database))
            .await
            .context("while opening the database")??;
        let now = clock.now();
        let keyring = load_keyring(&config, &store, now).await?;
        let chain = store
            .server_secret("refresh_chain", now, random_32)
            .await
            .context("while loading the refresh-token key")?;
        let algorithm = match config.password.algorithm {
            PasswordAlgorithm::Pbkdf2Sha256 => HashAlgorithm::Pbkdf2Sha256 {
                iterations: config.password.pbkdf2_iterations,
            },
            PasswordAlgorithm::Argon2id => HashAlgorithm::Argon2id,
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hasher =
            tokio::task::spawn_blocking(move || HashPool::new(algorithm, cores, cores * 32))
                .await
                .context("while preparing the password hasher")?
                .map_err(|e| anyhow::anyhow!("while preparing the password hasher: {e}"))?;
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
        // Mail templates are read and checked here, at start.
        let mailer = Mailer::new(&config).context("while preparing mail")?;
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
        let inner = Inner {
            rsa,
            mailer,
            challenges,
            store,
            keys: RwLock::new(Arc::new(keyring)),
            rereading: tokio::sync::Mutex::new(()),
            hasher,
            policy,
            limiter,
            metrics: Arc::new(Metrics::new()),
            clock,
            refresh_chain_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &chain),
            config,
        };
        Ok(App {
            state: AppState(Arc::new(inner)),
        })
    }
}

impl App {
    pub fn builder(config: Config) -> AppBuilder {
        AppBuilder {
            config,
            clock: Arc::new(SystemClock),
        }
    }

    /// Builds with the wall clock.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        App::builder(config).build().await
    }

    /// Every route of toktok with its layers, to serve or to nest.
    pub fn router(&self) -> axum::Router {
        crate::router::router(self.state.clone())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }
}

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

/// Loads the signing keys, creating the first one on first start, and
/// builds the keyring: which key signs and which only verify is decided by
/// [`rotation::signing_plan`] (a rotated key is published before it signs).
pub async fn load_keyring(config: &Config, store: &Store, now: i64) -> anyhow::Result<Keyring> {
    let keyring = refresh_keyring(config, store, now, None).await?;
    keyring.context("no keyring after loading the signing keys")
}

/// Rereads the signing keys; `None` when the keyring `current` already
/// holds exactly the keys it would build (so its verify memo stays warm).
/// Retires and forgets keys in the database as the plan says, writing only
/// when there is something to change.
pub async fn refresh_keyring(
    config: &Config,
    store: &Store,
    now: i64,
    current: Option<&Keyring>,
) -> anyhow::Result<Option<Keyring>> {
    let alg = config.jwt.algorithm;
    if alg == Algorithm::HS256 {
        if current.is_some() {
            return Ok(None);
        }
        return Ok(Some(Keyring::hs256(config.jwt.secret.expose().as_bytes())));
    }
    let name = alg_name(alg);
    let mut rows = store
        .signing_keys(name)
        .await
        .context("while loading signing keys")?;
    if rows.is_empty() {
        let row = new_key_row(alg, now).await?;
        // Another instance starting at the same time may win: then its key
        // is the one every instance uses.
        let inserted = store
            .insert_first_signing_key(row)
            .await
            .context("while storing the new signing key")?;
        rows = store.signing_keys(name).await?;
        if inserted {
            tracing::info!(alg = name, "generated the first signing key");
        }
    }
    if rows.is_empty() {
        anyhow::bail!("no signing key after creating one");
    }
    // The longest any token it signed may still be presented: refresh,
    // access or anonymous, plus the most leeway a verifier is allowed.
    let lifetime = [
        config.jwt.refresh_ttl,
        config.jwt.access_ttl,
        config.anonymous.ttl,
    ]
    .iter()
    .map(|ttl| i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 4))
    .max()
    .unwrap_or(0)
        + jwt::MAX_LEEWAY;
    let times: Vec<KeyTimes> = rows.iter().map(KeyTimes::from).collect();
    let delay = rotation::publish_delay(config.jwt.key_reload);
    let plan = rotation::signing_plan(&times, now, delay, lifetime);
    let active = &rows[plan.active];
    let kids = |indices: &[usize]| -> Vec<String> {
        indices.iter().map(|&i| rows[i].kid.clone()).collect()
    };
    let unchanged = current.is_some_and(|current| {
        current.holds(
            &active.kid,
            plan.verify_only.iter().map(|&i| rows[i].kid.as_str()),
        )
    });
    // Built (every key parsed) before anything is retired or forgotten: a
    // damaged row must not cost the keys in use their rows.
    let keyring = if unchanged {
        None
    } else {
        let verify_only: Vec<KeyMaterial> = plan
            .verify_only
            .iter()
            .map(|&i| material(alg, &rows[i]))
            .collect::<anyhow::Result<_>>()?;
        let keyring = Keyring::new(alg, &material(alg, active)?, &verify_only)
            .map_err(|e| anyhow::anyhow!("signing key {} is unusable: {e}", active.kid))?;
        Some(keyring)
    };
    if !plan.retire.is_empty() || !plan.forget.is_empty() {
        store
            .retire_signing_keys(name, kids(&plan.retire), kids(&plan.forget), now)
            .await
            .context("while retiring old signing keys")?;
    }
    Ok(keyring)
}

/// Generates a signing key of `alg` as a database row (RSA is slow: blocking pool).
pub async fn new_key_row(alg: Algorithm, now: i64) -> anyhow::Result<KeyRow> {
    let material = tokio::task::spawn_blocking(move || jwt::generate_key(alg))
        .await
        .context("key generation task failed")?
        .map_err(|e| anyhow::anyhow!("could not generate a signing key: {e}"))?;
    Ok(KeyRow {
        kid: material.kid,
        alg: alg_name(alg).to_owned(),
        private_der: material.private_der,
        public_jwk: material.public_jwk.to_string(),
        created_at: now,
        retired_at: None,
    })
}

fn material(alg: Algorithm, row: &KeyRow) -> anyhow::Result<KeyMaterial> {
    Ok(KeyMaterial {
        kid: row.kid.clone(),
        alg,
        private_der: row.private_der.clone(),
        public_jwk: serde_json::from_str(&row.public_jwk)
            .with_context(|| format!("signing key {} has a damaged public JWK", row.kid))?,
    })
}

pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::EdDSA => "EdDSA",
        Algorithm::ES256 => "ES256",
        Algorithm::RS256 => "RS256",
        Algorithm::HS256 => "HS256",
    }
}
