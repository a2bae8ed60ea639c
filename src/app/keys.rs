//! Loading the JWT signing keys from the store at start and on every
//! reread (`jwt.key_reload`, SIGHUP), and generating new ones.
//!
//! The keys live in the database so that every instance, and `toktok keys
//! rotate` on the command line, see the same set; which key signs and which
//! only verify is decided by [`rotation::signing_plan`] (a rotated key is
//! published before it signs). The RSA keys that decrypt JWE bodies reload
//! themselves (`auth::jwe`); this is the signing side.

use anyhow::Context as _;

use crate::auth::jwt::{self, Algorithm, KeyMaterial, Keyring};
use crate::auth::rotation::{self, KeyTimes};
use crate::config::Config;
use crate::store::{KeyRow, Store};

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
    refresh_keyring_of(config.jwt.algorithm, config, store, now, current).await
}

/// Whether ID tokens need a keyring of their own: OIDC is on and toktok's
/// own tokens are not RS256, the algorithm every OpenID provider must
/// offer (OIDC Core §15.1).
pub fn needs_id_keyring(config: &Config) -> bool {
    config.oidc.enabled && config.jwt.algorithm != Algorithm::RS256
}

/// Rereads the RS256 keys of ID tokens (see [`needs_id_keyring`]), kept
/// and rotated like the signing keys, in the same table under their own
/// algorithm; `None` when unchanged or not needed.
pub async fn refresh_id_keyring(
    config: &Config,
    store: &Store,
    now: i64,
    current: Option<&Keyring>,
) -> anyhow::Result<Option<Keyring>> {
    if !needs_id_keyring(config) {
        return Ok(None);
    }
    refresh_keyring_of(Algorithm::RS256, config, store, now, current).await
}

async fn refresh_keyring_of(
    alg: Algorithm,
    config: &Config,
    store: &Store,
    now: i64,
    current: Option<&Keyring>,
) -> anyhow::Result<Option<Keyring>> {
    if alg == Algorithm::HS256 {
        if current.is_some() {
            return Ok(None);
        }
        return Ok(Some(Keyring::hs256(config.jwt.secret.expose().as_bytes())));
    }
    let name = alg.as_str();
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
        alg: alg.as_str().to_owned(),
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
