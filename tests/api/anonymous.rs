//! Anonymous tokens and RSA-encrypted bodies over HTTP (docs/API.md "Discovery,
//! anonymous, RSA"). The JWEs here are built with code the server does not
//! share: the `rsa` crate's public-key OAEP and ring's AES-256-GCM.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, spawn_in, TestApp, PASSWORD};

const ANON_REQUIRED: &str = "[anonymous]\nenabled = true\nrequired = true\n";
const RSA_ON: &str = "[rsa]\nenabled = true\nkey_bits = 2048\n";
const RSA_REQUIRED: &str = "[rsa]\nenabled = true\nrequired = true\nkey_bits = 2048\n";

async fn anonymous_token(app: &TestApp) -> Value {
    let res = app
        .request(Method::POST, "/v1/auth/anonymous", None, None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A compact JWE (RSA-OAEP-256 + A256GCM) of `plaintext` for `public_key`
/// (the `/v1/auth/public-key` answer), built independently of the server.
pub fn seal(public_key: &Value, plaintext: &[u8], header: Option<Value>) -> String {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    use ring::rand::{SecureRandom as _, SystemRandom};
    let pem = public_key["pem"].as_str().unwrap();
    let rng = SystemRandom::new();
    let mut cek = [0u8; 32];
    rng.fill(&mut cek).unwrap();
    let mut iv = [0u8; 12];
    rng.fill(&mut iv).unwrap();
    let header = header.unwrap_or_else(
        || json!({ "alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": public_key["kid"] }),
    );
    let protected = URL_SAFE_NO_PAD.encode(header.to_string());
    let wrapped = crate::rsa_keys::oaep_sha256(pem, &cek);
    let sealing = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &cek).unwrap());
    let mut data = plaintext.to_vec();
    let tag = sealing
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut data,
        )
        .unwrap();
    [
        protected,
        URL_SAFE_NO_PAD.encode(wrapped),
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(data),
        URL_SAFE_NO_PAD.encode(tag.as_ref()),
    ]
    .join(".")
}

async fn public_key(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/v1/auth/public-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn post_jose(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: String,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", "application/jose")
        .body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn anonymous_tokens_are_off_by_default() {
    let app = spawn_app().await;
    let res = app
        .request(Method::POST, "/v1/auth/anonymous", None, None)
        .await;
    assert_problem(res, 404, "feature_disabled").await;
    let res = app
        .client
        .get(app.url("/v1/auth/public-key"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "feature_disabled").await;
}

#[tokio::test]
async fn an_anonymous_token_has_its_own_kind_and_no_refresh_token() {
    let app = spawn_app_with("[anonymous]\nenabled = true\n").await;
    let body = anonymous_token(&app).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("public_key").is_none(), "RSA is off");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["typ"], "anonymous");
    assert_eq!(claims["role"], "anonymous");
    assert!(claims["sub"].as_str().unwrap().starts_with("anon:"));
    // J3: refused where a user token is needed, and on refresh.
    let token = body["access_token"].as_str().unwrap();
    assert_problem(
        app.get_auth("/v1/users/me", token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.refresh(token).await, 401, "invalid_token").await;
}

#[tokio::test]
async fn required_anonymous_tokens_gate_register_login_forgot_and_resend() {
    let app = spawn_app_with(ANON_REQUIRED).await;
    for (path, body) in [
        (
            "/v1/auth/register",
            json!({ "email": "a@example.com", "password": PASSWORD }),
        ),
        (
            "/v1/auth/login",
            json!({ "email": "a@example.com", "password": PASSWORD }),
        ),
        (
            "/v1/auth/password/forgot",
            json!({ "email": "a@example.com" }),
        ),
        (
            "/v1/auth/confirm-email/resend",
            json!({ "email": "a@example.com" }),
        ),
    ] {
        let res = app.post(path, body.clone()).await;
        assert_problem(res, 401, "anonymous_token_required").await;
        let res = app
            .request(Method::POST, path, Some("garbage"), Some(body))
            .await;
        assert_problem(res, 401, "anonymous_token_required").await;
    }
    let anon = anonymous_token(&app).await;
    let anon_token = anon["access_token"].as_str().unwrap();
    let res = app
        .request(
            Method::POST,
            "/v1/auth/register",
            Some(anon_token),
            Some(json!({ "email": "a@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user: Value = res.json().await.unwrap();
    let access = user["access_token"].as_str().unwrap();
    // A signed-in user's token on an (A) endpoint: 403 already_authenticated.
    let res = app
        .request(
            Method::POST,
            "/v1/auth/login",
            Some(access),
            Some(json!({ "email": "a@example.com", "password": PASSWORD })),
        )
        .await;
    assert_problem(res, 403, "already_authenticated").await;
    let res = app
        .request(
            Method::POST,
            "/v1/auth/login",
            Some(anon_token),
            Some(json!({ "email": "a@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // An expired anonymous token is no token.
    app.clock.advance(3600 + 60);
    let res = app
        .request(
            Method::POST,
            "/v1/auth/login",
            Some(anon_token),
            Some(json!({ "email": "a@example.com", "password": PASSWORD })),
        )
        .await;
    assert_problem(res, 401, "anonymous_token_required").await;
}

#[tokio::test]
async fn a_user_remembers_the_anonymous_visitor_it_grew_from() {
    let app = spawn_app_with("[anonymous]\nenabled = true\n").await;
    let anon = anonymous_token(&app).await;
    let anon_token = anon["access_token"].as_str().unwrap();
    let sub = claims_of(anon_token)["sub"].as_str().unwrap().to_owned();
    let res = app
        .request(
            Method::POST,
            "/v1/auth/register",
            Some(anon_token),
            Some(json!({ "email": "grow@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user = app
        .state
        .store
        .user_by_email_key("grow@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user.app_metadata["anonymous_id"],
        sub.strip_prefix("anon:").unwrap()
    );
}

#[tokio::test]
async fn the_public_key_is_served_and_survives_a_restart() {
    let app = spawn_app_with(&format!("{RSA_ON}[anonymous]\nenabled = true\n")).await;
    let key = public_key(&app).await;
    assert_eq!(key["alg"], "RSA-OAEP-256");
    assert_eq!(key["enc"], "A256GCM");
    assert!(key["pem"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(key["jwk"]["kty"], "RSA");
    assert_eq!(key["jwk"]["kid"], key["kid"]);
    assert!(key["jwk"].get("d").is_none(), "no private part");
    // The anonymous answer carries it too.
    assert_eq!(anonymous_token(&app).await["public_key"], key);
    let dir = app.stop().await;
    let app = spawn_in(dir, &format!("{RSA_ON}[anonymous]\nenabled = true\n")).await;
    assert_eq!(
        public_key(&app).await,
        key,
        "O3: the same key after a restart"
    );
}

#[tokio::test]
async fn encrypted_bodies_work_on_every_e_endpoint() {
    let app = spawn_app_with(RSA_ON).await;
    let key = public_key(&app).await;
    let body = json!({ "email": "jwe@example.com", "password": PASSWORD }).to_string();
    let res = post_jose(
        &app,
        "/v1/auth/register",
        None,
        seal(&key, body.as_bytes(), None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post_jose(
        &app,
        "/v1/auth/login",
        None,
        seal(&key, body.as_bytes(), None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let change = json!({ "current_password": PASSWORD, "new_password": "a new secret passphrase" })
        .to_string();
    let res = post_jose(
        &app,
        "/v1/users/me/password",
        Some(access),
        seal(&key, change.as_bytes(), None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Plain JSON still works while encryption is optional.
    assert_eq!(
        app.login("jwe@example.com", "a new secret passphrase")
            .await
            .status(),
        StatusCode::OK
    );
    // And the decrypted body is validated like any JSON body.
    let wrong = json!({ "email": "jwe@example.com" }).to_string();
    let res = post_jose(
        &app,
        "/v1/auth/login",
        None,
        seal(&key, wrong.as_bytes(), None),
    )
    .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "password");
}

#[tokio::test]
async fn with_rsa_required_plain_json_is_refused_on_e_endpoints_only() {
    let app = spawn_app_with(RSA_REQUIRED).await;
    let res = app.register("plain@example.com", PASSWORD).await;
    assert_problem(res, 400, "encryption_required").await;
    let res = app.login("plain@example.com", PASSWORD).await;
    assert_problem(res, 400, "encryption_required").await;
    // Refresh is not (E): plain JSON is fine there.
    let res = app.refresh("x.y.z").await;
    assert_problem(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn every_decryption_failure_is_one_answer() {
    // O1, O2.
    let app = spawn_app_with(RSA_ON).await;
    let key = public_key(&app).await;
    let good = seal(
        &key,
        br#"{"email":"x@example.com","password":"whatever it is"}"#,
        None,
    );
    let parts: Vec<&str> = good.split('.').collect();
    let flip = |i: usize| {
        let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        let mut bytes = URL_SAFE_NO_PAD.decode(&p[i]).unwrap();
        bytes[0] ^= 1;
        p[i] = URL_SAFE_NO_PAD.encode(bytes);
        p.join(".")
    };
    let other = spawn_app_with(RSA_ON).await;
    let other_key = public_key(&other).await;
    let mut wrong_key = other_key.clone();
    wrong_key["kid"] = key["kid"].clone();
    let bad = vec![
        "".to_owned(),
        "garbage".to_owned(),
        "a.b.c.d".to_owned(),
        format!("{good}.extra"),
        flip(0),
        flip(1),
        flip(2),
        flip(3),
        flip(4),
        seal(&key, b"not json at all", None).replace('.', ".!"),
        seal(
            &key,
            b"{}",
            Some(json!({ "alg": "RSA1_5", "enc": "A256GCM" })),
        ),
        seal(
            &key,
            b"{}",
            Some(json!({ "alg": "RSA-OAEP", "enc": "A256GCM" })),
        ),
        seal(
            &key,
            b"{}",
            Some(json!({ "alg": "RSA-OAEP-256", "enc": "A128GCM" })),
        ),
        seal(
            &key,
            b"{}",
            Some(json!({ "alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "unknown" })),
        ),
        seal(&wrong_key, b"{}", None),
    ];
    let mut answers = Vec::new();
    for body in bad {
        let res = post_jose(&app, "/v1/auth/login", None, body).await;
        let problem = assert_problem(res, 400, "invalid_encryption").await;
        answers.push(problem);
    }
    // Plaintext that is not JSON is bad encryption too.
    let res = post_jose(&app, "/v1/auth/login", None, seal(&key, b"not json", None)).await;
    answers.push(assert_problem(res, 400, "invalid_encryption").await);
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one identical answer"
    );
}

#[tokio::test]
async fn jose_bodies_are_refused_where_rsa_is_off_or_the_endpoint_is_not_e() {
    let app = spawn_app().await;
    let res = post_jose(&app, "/v1/auth/login", None, "a.b.c.d.e".into()).await;
    assert_problem(res, 415, "unsupported_media_type").await;
    let app = spawn_app_with(RSA_ON).await;
    let res = post_jose(&app, "/v1/auth/refresh", None, "a.b.c.d.e".into()).await;
    assert_problem(res, 415, "unsupported_media_type").await;
}
