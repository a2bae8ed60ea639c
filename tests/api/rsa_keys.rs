//! The RSA key behind encrypted bodies (docs/SECURITY.md O3): generated at first
//! start, the same after a restart, rotated by `toktok keys rotate --rsa`
//! with the previous key decrypting through the grace period. JWEs are built
//! here with aws-lc's public-key OAEP and ring's AES-GCM; the server's
//! private-key side is checked against an independent implementation and
//! the Wycheproof vectors in `src/auth/jwe/tests.rs`.

use std::process::{Command, Output};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use serde_json::Value;
use toktok::auth::jwe::{RsaKeyring, GRACE_PERIOD};

use crate::helpers::{spawn_app, spawn_app_with, spawn_in};

const RSA: &str = "[rsa]\nenabled = true\nkey_bits = 2048\n";
const BODY: &[u8] = br#"{"email":"a@example.com","password":"x"}"#;

/// A compact JWE of `BODY` for the key object served as `public_key`.
fn encrypt_for(public_key: &Value, with_kid: bool) -> String {
    encrypt_body(public_key, with_kid, BODY)
}

/// RSA-OAEP with SHA-256 (JWE `RSA-OAEP-256`) of `plaintext` to the SPKI
/// public key in `pem`.
pub(crate) fn oaep_sha256(pem: &str, plaintext: &[u8]) -> Vec<u8> {
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA256_MGF1SHA256};
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let key = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&der).unwrap()).unwrap();
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut out, None)
        .unwrap()
        .len();
    out.truncate(len);
    out
}

/// A compact JWE of `body` for the key object served as `public_key`.
pub(crate) fn encrypt_body(public_key: &Value, with_kid: bool, body: &[u8]) -> String {
    let pem = public_key["pem"].as_str().unwrap();
    let cek: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
    let ek = oaep_sha256(pem, &cek);
    let header = if with_kid {
        format!(
            r#"{{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"{}"}}"#,
            public_key["kid"].as_str().unwrap()
        )
    } else {
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#.to_owned()
    };
    let header = URL_SAFE_NO_PAD.encode(header);
    let iv = [9u8; 12];
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &cek).unwrap());
    let mut ct = body.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header.as_bytes()),
            &mut ct,
        )
        .unwrap();
    [
        header,
        URL_SAFE_NO_PAD.encode(ek),
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ct),
        URL_SAFE_NO_PAD.encode(tag.as_ref()),
    ]
    .join(".")
}

/// Runs the toktok binary on the test's database with RSA on (2048 bits).
fn toktok(dir: &std::path::Path, args: &[&str], rsa: bool) -> Output {
    let config = dir.join("cli.toml");
    let mut text = crate::helpers::database_toml(dir);
    if rsa {
        text.push_str(RSA);
    }
    std::fs::write(&config, text).unwrap();
    Command::new(env!("CARGO_BIN_EXE_toktok"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("TOKTOK_CONFIG")
        .output()
        .expect("the toktok binary runs")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn keyring(app: &crate::helpers::TestApp) -> std::sync::Arc<RsaKeyring> {
    app.state.rsa.clone().expect("RSA is on")
}

#[tokio::test]
async fn the_rsa_key_is_made_once_and_survives_a_restart() {
    let app = spawn_app_with(RSA).await;
    let before = keyring(&app).public_key();
    assert_eq!(before["alg"], "RSA-OAEP-256");
    assert_eq!(before["enc"], "A256GCM");
    let jwe = encrypt_for(&before, false);
    assert_eq!(
        keyring(&app)
            .decrypt(jwe.clone().into_bytes())
            .await
            .unwrap(),
        BODY
    );

    let app = spawn_in(app.stop().await, RSA).await;
    let after = keyring(&app).public_key();
    assert_eq!(after["kid"], before["kid"]);
    assert_eq!(after["pem"], before["pem"]);
    assert_eq!(after, before);
    // A body encrypted before the restart still opens.
    assert_eq!(keyring(&app).decrypt(jwe.into_bytes()).await.unwrap(), BODY);
    let rows = app.state.store.rsa_keys().await.unwrap();
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn keys_rotate_rsa_makes_a_new_key_and_the_old_one_decrypts_for_the_grace_period() {
    let app = spawn_app_with(RSA).await;
    let old = keyring(&app).public_key();
    let old_jwe = encrypt_for(&old, true);
    let dir = app.stop().await;

    // Plain `keys rotate` is the JWT signing key's: the RSA key stays.
    let out = toktok(dir.path(), &["keys", "rotate"], true);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let app = spawn_in(dir, RSA).await;
    assert_eq!(keyring(&app).public_key(), old);
    let dir = app.stop().await;

    let out = toktok(dir.path(), &["keys", "rotate", "--rsa"], true);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let app = spawn_in(dir, RSA).await;
    let rsa = keyring(&app);
    // The new key decrypts at once, but the old one is served until every
    // instance has reread the keys: 125 s, twice `jwt.key_reload` plus 5 s.
    assert_eq!(rsa.public_key(), old);
    assert_eq!(rsa.kids().len(), 2);
    app.clock.advance(125);
    rsa.reload(&app.state.store, app.state.now()).await.unwrap();
    let new = rsa.public_key();
    assert_ne!(new["kid"], old["kid"]);
    assert_ne!(new["pem"], old["pem"]);
    assert!(
        text(&out.stdout).contains(new["kid"].as_str().unwrap()),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        rsa.kids(),
        [new["kid"].as_str().unwrap(), old["kid"].as_str().unwrap()]
    );
    // The new key decrypts; the old one too, when the JWE names it.
    assert_eq!(
        rsa.decrypt(encrypt_for(&new, false).into_bytes())
            .await
            .unwrap(),
        BODY
    );
    assert_eq!(
        rsa.decrypt(old_jwe.clone().into_bytes()).await.unwrap(),
        BODY
    );
    // A day (and the delay) later the old key is forgotten.
    app.clock.advance(GRACE_PERIOD + 120);
    rsa.reload(&app.state.store, app.state.now()).await.unwrap();
    assert_eq!(rsa.kids(), [new["kid"].as_str().unwrap()]);
    assert!(rsa.decrypt(old_jwe.into_bytes()).await.is_err());
    assert_eq!(app.state.store.rsa_keys().await.unwrap().len(), 1);
}

#[tokio::test]
async fn with_rsa_off_there_is_no_key_and_nothing_to_rotate() {
    let app = spawn_app().await;
    assert!(app.state.rsa.is_none());
    assert!(app.state.store.rsa_keys().await.unwrap().is_empty());
    let out = toktok(app.dir.path(), &["keys", "rotate", "--rsa"], false);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("rsa.enabled"),
        "{}",
        text(&out.stderr)
    );
}
