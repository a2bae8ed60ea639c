//! Every class of bad input gets a precise 4xx, never a 500.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use toktok::auth::jwt::{Claims, TokenKind};

use crate::helpers::{assert_problem, spawn_app, PASSWORD};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    for body in [
        "{",
        "",
        "not json",
        "{\"email\": }",
        "{\"a\":1} trailing",
        "\u{0}",
    ] {
        let res = app
            .client
            .post(app.url("/v1/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(res, 400, "malformed_body").await;
    }
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x7b])
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed_body").await;
}

#[tokio::test]
async fn a_missing_or_wrong_content_type_is_415() {
    let app = spawn_app().await;
    let body = json!({ "email": "a@example.com", "password": PASSWORD }).to_string();
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        let res = app
            .client
            .post(app.url("/v1/auth/login"))
            .header("content-type", ct)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_problem(res, 415, "unsupported_media_type").await;
    }
}

#[tokio::test]
async fn missing_wrongly_typed_and_unknown_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "email": "a@example.com" }), "password"),
        (json!({ "password": PASSWORD }), "email"),
        (json!({ "email": 5, "password": PASSWORD }), "email"),
        (
            json!({ "email": "a@example.com", "password": ["x"] }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "extra": true }),
            "extra",
        ),
        (json!([1, 2]), "body"),
        (json!("text"), "body"),
    ];
    for (body, field) in cases {
        let res = app.post("/v1/auth/login", body.clone()).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "for {body}");
        assert!(problem["errors"][0]["message"].is_string());
    }
    let res = app
        .post("/v1/auth/refresh", json!({ "refresh_token": null }))
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "refresh_token");
}

#[tokio::test]
async fn an_oversized_body_is_413_before_any_hashing() {
    // P3, D4.
    let app = spawn_app().await;
    let huge = "x".repeat(70 * 1024);
    let res = app.register("big@example.com", &huge).await;
    assert_problem(res, 413, "body_too_large").await;
    // Also when the client streams it, chunked, without a Content-Length.
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let _ = stream.write_all(head.as_bytes()).await;
    for _ in 0..80 {
        let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("body_too_large"), "{answer}");
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-filler", "y".repeat(100 * 1024))
        .send()
        .await;
    match res {
        Ok(res) => assert_eq!(res.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
    }
    // The server is still fine.
    assert_eq!(
        app.client
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn missing_garbage_forged_and_expired_tokens_are_401() {
    // J1, J2.
    let app = spawn_app().await;
    let t = app.signed_up("tok@example.com").await;
    let res = app
        .request(reqwest::Method::GET, "/v1/users/me", None, None)
        .await;
    let res_headers = res.headers().clone();
    assert_problem(res, 401, "unauthenticated").await;
    assert!(res_headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let res = app
        .client
        .get(app.url("/v1/users/me"))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthenticated").await;

    let parts: Vec<&str> = t.access.split('.').collect();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let mut admin = claims.clone();
    admin["role"] = json!("admin");
    let kid = serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap()
        ["kid"]
        .clone();
    let none_header = encode(&json!({ "alg": "none", "typ": "JWT" }));
    let hs_header = encode(&json!({ "alg": "HS256", "typ": "JWT", "kid": kid }));
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let hs_signed = {
        let input = format!("{hs_header}.{}", parts[1]);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public);
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(ring::hmac::sign(&key, input.as_bytes()))
        )
    };
    let jku_header = encode(
        &json!({ "alg": "EdDSA", "typ": "JWT", "kid": kid, "jku": "http://evil.example/jwks" }),
    );
    let bad = [
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        "".to_owned() + "...",
        format!("{none_header}.{}.", parts[1]),
        format!("{}.{}.", parts[0], parts[1]),
        format!("{}.{}.{}", parts[0], encode(&admin), parts[2]),
        hs_signed,
        format!("{jku_header}.{}.{}", parts[1], parts[2]),
        "x".repeat(20_000),
    ];
    for token in &bad {
        let res = app.get_auth("/v1/users/me", token).await;
        assert_problem(res, 401, "invalid_token").await;
    }
    // Expired: after access_ttl plus leeway.
    app.clock.advance(15 * 60 + 31);
    let res = app.get_auth("/v1/users/me", &t.access).await;
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\", error_description=\"token_expired\""
    );
    assert_problem(res, 401, "token_expired").await;
}

#[tokio::test]
async fn an_anonymous_token_is_refused_on_user_routes() {
    // J3.
    let app = spawn_app().await;
    let t = app.signed_up("anon@example.com").await;
    let now = app.state.now();
    let claims = Claims {
        iss: "toktok".into(),
        aud: "toktok".into(),
        sub: "anon:0192".into(),
        exp: now + 600,
        iat: now,
        nbf: now,
        jti: "j".into(),
        sid: t.body["user"]["id"].as_str().map(str::to_owned),
        typ: TokenKind::Anonymous,
        email: None,
        email_verified: None,
        role: Some("anonymous".into()),
    };
    let token = app.state.keys().sign(&claims).unwrap();
    assert_problem(
        app.get_auth("/v1/users/me", &token).await,
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn a_token_from_another_toktok_is_refused() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let t = a.signed_up("other@example.com").await;
    assert_problem(
        b.get_auth("/v1/users/me", &t.access).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(b.refresh(&t.refresh).await, 401, "invalid_token").await;
}
