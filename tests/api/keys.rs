//! Signing algorithms, key persistence and rotation (J4).

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, spawn_in, test_config};

async fn round_trip(extra: &str, kty: Option<&str>) {
    let app = spawn_app_with(extra).await;
    let t = app.signed_up("alg@example.com").await;
    assert_eq!(
        app.get_auth("/v1/users/me", &t.access).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.refresh(&t.refresh).await.status(), StatusCode::OK);
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    match kty {
        Some(kty) => assert_eq!(jwks["keys"][0]["kty"], kty),
        None => assert_eq!(
            jwks["keys"].as_array().unwrap().len(),
            0,
            "HS256 publishes nothing"
        ),
    }
}

#[tokio::test]
async fn every_algorithm_signs_and_verifies() {
    round_trip("", Some("OKP")).await;
    round_trip("[jwt]\nalgorithm = \"ES256\"\n", Some("EC")).await;
    round_trip("[jwt]\nalgorithm = \"RS256\"\n", Some("RSA")).await;
    round_trip(
        "[jwt]\nalgorithm = \"HS256\"\nsecret = \"0123456789abcdef0123456789abcdef\"\n",
        None,
    )
    .await;
}

#[tokio::test]
async fn hs256_with_a_short_secret_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let result = std::panic::catch_unwind(|| {
        test_config(
            dir.path(),
            "[jwt]\nalgorithm = \"HS256\"\nsecret = \"too short\"\n",
        )
    });
    let message = match result {
        Err(panic) => panic.downcast_ref::<String>().cloned().unwrap_or_default(),
        Ok(_) => panic!("a short HS256 secret was accepted"),
    };
    assert!(message.contains("jwt.secret"), "{message}");
    assert!(message.contains("32"), "{message}");
}

#[tokio::test]
async fn keys_persist_across_restarts() {
    let app = spawn_app().await;
    let t = app.signed_up("keep@example.com").await;
    let dir = app.stop().await;
    let app = spawn_in(dir, "").await;
    assert_eq!(
        app.get_auth("/v1/users/me", &t.access).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.refresh(&t.refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn rotation_signs_with_the_new_key_and_keeps_the_old_one_published() {
    let app = spawn_app().await;
    let before = app.signed_up("rot@example.com").await;
    let row = toktok::app::new_key_row(toktok::auth::jwt::Algorithm::EdDSA, app.state.now())
        .await
        .unwrap();
    let new_kid = row.kid.clone();
    app.state.store.insert_signing_key(row).await.unwrap();
    app.state.reload_keys().await.unwrap();
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert!(kids.contains(&new_kid.as_str()));
    // Published, but not signing yet: another instance may not know it.
    let waiting = app.signed_in("rot@example.com").await;
    assert_ne!(header_of(&waiting.access)["kid"], new_kid.as_str());
    // 125 s later (twice `jwt.key_reload`, plus 5 s) it signs; old
    // tokens still work.
    app.clock.advance(125);
    app.state.reload_keys().await.unwrap();
    assert_eq!(
        app.get_auth("/v1/users/me", &before.access).await.status(),
        StatusCode::OK
    );
    let after = app.signed_in("rot@example.com").await;
    let header = header_of(&after.access);
    assert_eq!(header["kid"], new_kid.as_str());
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    // Once the old key's tokens can no longer be alive, it leaves the JWKS.
    app.clock.advance(31 * 24 * 3600);
    app.state.reload_keys().await.unwrap();
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
}

/// The decoded JOSE header of a compact JWT.
fn header_of(token: &str) -> Value {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_reload_that_finds_the_same_keys_keeps_the_keyring() {
    // Every instance rereads the keys every `jwt.key_reload`: when nothing
    // changed, the keyring (and its memo of verified tokens) stays.
    let app = spawn_app().await;
    // Verifiers may cache the JWKS as long as an instance keeps its keys.
    let res = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    let before = app.state.keys();
    app.state.reload_keys().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&before, &app.state.keys()));
    // A new key changes it (published, not yet signing).
    let row = toktok::app::new_key_row(toktok::auth::jwt::Algorithm::EdDSA, app.state.now())
        .await
        .unwrap();
    app.state.store.insert_signing_key(row).await.unwrap();
    app.state.reload_keys().await.unwrap();
    let published = app.state.keys();
    assert!(!std::sync::Arc::ptr_eq(&before, &published));
    assert_eq!(published.active_kid(), before.active_kid());
    assert_eq!(published.jwks()["keys"].as_array().unwrap().len(), 2);
}
