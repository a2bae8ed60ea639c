//! toktok as an OpenID Connect provider (issue 19): discovery and keys.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

async fn get(app: &crate::helpers::TestApp, path: &str) -> (u16, Value) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn discovery_is_404_while_oidc_is_off() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let (status, body) = get(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["code"], "feature_disabled", "{path}");
    }
}

#[tokio::test]
async fn discovery_names_the_public_url_and_an_rs256_key_joins_the_jwks() {
    let app = spawn_app_with("[oidc]\nenabled = true\n").await;
    let (status, doc) = get(&app, "/.well-known/openid-configuration").await;
    assert_eq!(status, 200);
    let (_, same) = get(&app, "/.well-known/oauth-authorization-server").await;
    assert_eq!(doc, same);
    let issuer = doc["issuer"].as_str().unwrap().to_owned();
    // `server.public_url` of the test config.
    assert_eq!(issuer, "http://127.0.0.1:8080");
    assert_eq!(doc["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(doc["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "EdDSA"])
    );
    // The default algorithm is EdDSA: the JWKS has its key and an RS256 one.
    let (_, jwks) = get(&app, "/.well-known/jwks.json").await;
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["EdDSA", "RS256"]);
    // Tokens name the provider by its URL.
    let tokens: Value = app
        .register("oidc-iss@example.com", "correct horse battery staple")
        .await
        .json()
        .await
        .unwrap();
    let payload = tokens["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], issuer);
}

#[tokio::test]
async fn with_rs256_tokens_the_signing_key_serves_id_tokens_too() {
    let app = spawn_app_with("[oidc]\nenabled = true\n[jwt]\nalgorithm = \"RS256\"\n").await;
    let (_, doc) = get(&app, "/.well-known/openid-configuration").await;
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let (_, jwks) = get(&app, "/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
}
