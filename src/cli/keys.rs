//! `toktok keys rotate [--rsa]`.

use anyhow::{bail, Context as _};

use super::open_store;
use crate::app::new_key_row;
use crate::auth::jwe;
use crate::auth::jwt::Algorithm;
use crate::auth::rotation;
use crate::clock::{Clock as _, SystemClock};
use crate::config::Config;
use crate::store::RsaKeyRow;

pub(super) async fn keys_rotate(config: Config) -> anyhow::Result<()> {
    let alg = config.jwt.algorithm;
    if alg == Algorithm::HS256 {
        bail!("jwt.algorithm is HS256: its key is jwt.secret; rotate by changing the secret");
    }
    let store = open_store(&config).await?;
    let row = new_key_row(alg, SystemClock.now()).await?;
    let kid = row.kid.clone();
    store.insert_signing_key(row).await?;
    let delay = rotation::publish_delay(config.jwt.key_reload);
    println!(
        "new {} signing key {kid}: in the JWKS within {}s (jwt.key_reload), \
         signing from {delay}s after now",
        alg.as_str(),
        config.jwt.key_reload.as_secs(),
    );
    // With OIDC on, ID tokens have an RS256 keyring of their own: it
    // rotates with the rest (same publish delay, same retirement).
    if crate::app::needs_id_keyring(&config) {
        let row = new_key_row(Algorithm::RS256, SystemClock.now()).await?;
        let kid = row.kid.clone();
        store.insert_signing_key(row).await?;
        println!("new RS256 ID-token key {kid}: the same schedule");
    }
    Ok(())
}

/// `keys rotate --rsa`: a new current RSA key; the others are retired now
/// and keep decrypting for the grace period.
pub(super) async fn keys_rotate_rsa(config: Config) -> anyhow::Result<()> {
    if !config.rsa.enabled {
        bail!("rsa.enabled is false: there is no RSA key to rotate");
    }
    let store = open_store(&config).await?;
    let bits = config.rsa.key_bits;
    let key = tokio::task::spawn_blocking(move || jwe::generate_key(bits))
        .await
        .context("the RSA key generation task failed")??;
    let kid = key.kid.clone();
    let now = SystemClock.now();
    store
        .rotate_rsa_key(
            RsaKeyRow {
                kid: key.kid,
                private_der: key.private_der,
                created_at: now,
                retired_at: None,
            },
            now,
        )
        .await
        .context("while storing the new RSA key")?;
    let delay = rotation::publish_delay(config.jwt.key_reload);
    println!(
        "new RSA key {kid}: decrypts within {}s (jwt.key_reload), served from {delay}s \
         after now; the previous key still decrypts for {} hours",
        config.jwt.key_reload.as_secs(),
        jwe::GRACE_PERIOD / 3600
    );
    Ok(())
}
