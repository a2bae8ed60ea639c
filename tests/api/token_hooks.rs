//! Claims beyond toktok's own (docs/token-claims.md): `[claims]
//! from_app_metadata` and the `[hooks.access_token]` HTTP hook, on
//! first-party and OIDC tokens; the hook's faults (slow, failing) with
//! `on_error` deny and skip; protected claims. The hook is a real HTTP
//! server on loopback that checks each call's Standard Webhooks signature.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::response::IntoResponse;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use toktok::hooks::signature::SigningSecret;

use crate::helpers::{assert_problem, spawn_app_with, TestApp, PASSWORD};
use crate::oidc_token::{claims_of, confidential, exchange, user_and_code};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The hook: answers `claims` (204 / 500 / slow per `mode`), keeps each
/// verified call's body.
#[derive(Clone)]
struct Hook {
    calls: Arc<Mutex<Vec<Value>>>,
    /// 200: answer; 500: fail; 599: sleep 1 s first.
    mode: Arc<AtomicU16>,
    claims: Arc<Mutex<Value>>,
}

impl Hook {
    async fn start(claims: Value) -> (Hook, String) {
        let hook = Hook {
            calls: Arc::default(),
            mode: Arc::new(AtomicU16::new(200)),
            claims: Arc::new(Mutex::new(claims)),
        };
        let state = hook.clone();
        let app = axum::Router::new()
            .route(
                "/claims",
                axum::routing::post(
                    |axum::extract::State(h): axum::extract::State<Hook>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        let header = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
                        let secret = SigningSecret::parse(SECRET).unwrap();
                        let ts: i64 = header("webhook-timestamp").parse().unwrap();
                        let ok = header("webhook-signature")
                            == secret.sign(&header("webhook-id"), ts, &body);
                        if !ok {
                            return AxStatus::UNAUTHORIZED.into_response();
                        }
                        h.calls
                            .lock()
                            .unwrap()
                            .push(serde_json::from_slice(&body).unwrap());
                        match h.mode.load(Ordering::SeqCst) {
                            500 => AxStatus::INTERNAL_SERVER_ERROR.into_response(),
                            599 => {
                                tokio::time::sleep(Duration::from_secs(1)).await;
                                axum::Json(json!({ "claims": {} })).into_response()
                            }
                            _ => axum::Json(json!({ "claims": h.claims.lock().unwrap().clone() }))
                                .into_response(),
                        }
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/claims", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (hook, url)
    }

    fn set(&self, mode: u16) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

fn hook_toml(url: &str, on_error: &str) -> String {
    format!(
        "[hooks.access_token]\nurl = \"{url}\"\nsecret = \"{SECRET}\"\ntimeout = \"300ms\"\non_error = \"{on_error}\"\n"
    )
}

async fn set_app_metadata(app: &TestApp, uid: &str, value: Value) {
    let key = app.api_key(&["admin"]).await;
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{uid}"),
            Some(&key),
            Some(json!({ "app_metadata": value })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn app_metadata_members_are_copied_into_access_tokens() {
    let app = spawn_app_with("[claims]\nfrom_app_metadata = [\"plan\", \"org\"]\n").await;
    let t = app.signed_up("ada@example.com").await;
    let uid = t.body["user"]["id"].as_str().unwrap().to_owned();
    assert!(claims_of(&t.access).get("plan").is_none());
    set_app_metadata(
        &app,
        &uid,
        json!({ "plan": "pro", "org": { "id": 7 }, "internal": "x" }),
    )
    .await;
    let t = app.signed_in("ada@example.com").await;
    let c = claims_of(&t.access);
    assert_eq!(c["plan"], "pro");
    assert_eq!(c["org"], json!({ "id": 7 }));
    assert!(c.get("internal").is_none());
    assert_eq!(c["sub"], uid.as_str());
    // Still an access token toktok itself accepts.
    let res = app.get_auth("/v1/users/me", &t.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let refreshed: Value = app.refresh(&t.refresh).await.json().await.unwrap();
    assert_eq!(
        claims_of(refreshed["access_token"].as_str().unwrap())["plan"],
        "pro"
    );
}

#[tokio::test]
async fn the_hook_adds_claims_but_never_overrides_toktoks() {
    let (hook, url) = Hook::start(json!({
        "tenant": "acme", "sub": "someone-else", "aud": "other", "exp": 9999999999u64,
        "sid": "forged", "role": "admin",
    }))
    .await;
    let app = spawn_app_with(&hook_toml(&url, "deny")).await;
    let t = app.signed_up("ada@example.com").await;
    let c = claims_of(&t.access);
    assert_eq!(c["tenant"], "acme");
    let uid = t.body["user"]["id"].as_str().unwrap();
    assert_eq!(c["sub"], uid);
    assert_eq!(c["aud"], "toktok");
    assert_ne!(c["sid"], "forged");
    assert_eq!(c["role"], "user");
    assert!(c["exp"].as_i64().unwrap() < 9_999_999_999);
    let res = app.get_auth("/v1/users/me", &t.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    // What the hook was told.
    let call = hook.calls.lock().unwrap()[0].clone();
    assert_eq!(call["user"]["email"], "ada@example.com");
    assert_eq!(call["session"]["id"], c["sid"]);
    assert_eq!(call["client_id"], "toktok");
    assert_eq!(call["token"], "access");
    assert_eq!(call["claims"]["sub"], uid);
    assert!(call["user"].get("password_hash").is_none());
    // Refresh and login ask again.
    let refreshed: Value = app.refresh(&t.refresh).await.json().await.unwrap();
    assert_eq!(
        claims_of(refreshed["access_token"].as_str().unwrap())["tenant"],
        "acme"
    );
    app.signed_in("ada@example.com").await;
    assert_eq!(hook.calls.lock().unwrap().len(), 3);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("toktok_hook_calls_total{outcome=\"ok\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("toktok_hook_duration_seconds_count 3"));
}

#[tokio::test]
async fn a_failing_hook_denies_the_token_and_a_retry_of_the_refresh_works() {
    let (hook, url) = Hook::start(json!({ "tenant": "acme" })).await;
    let app = spawn_app_with(&hook_toml(&url, "deny")).await;
    let t = app.signed_up("ada@example.com").await;
    for mode in [500, 599] {
        hook.set(mode);
        let res = app.login("ada@example.com", PASSWORD).await;
        assert_problem(res, 502, "hook_failed").await;
    }
    // A denied sign-in leaves no session behind.
    assert_eq!(app.sql_count("SELECT count(*) FROM sessions").await, 1);
    // A refresh denied by the hook leaves the token as it was: tried again
    // after an outage longer than reuse_grace, it is not taken for reuse.
    hook.set(500);
    let res = app.refresh(&t.refresh).await;
    assert_problem(res, 502, "hook_failed").await;
    app.clock.advance(60);
    hook.set(200);
    let res = app.refresh(&t.refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["tenant"],
        "acme"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("toktok_hook_calls_total{outcome=\"timeout\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_failing_hook_is_passed_over_with_skip() {
    let (hook, url) = Hook::start(json!({ "tenant": "acme" })).await;
    let app = spawn_app_with(&hook_toml(&url, "skip")).await;
    app.signed_up("ada@example.com").await;
    for mode in [500, 599] {
        hook.set(mode);
        let t = app.signed_in("ada@example.com").await;
        let c = claims_of(&t.access);
        assert!(c.get("tenant").is_none());
        assert!(c.get("sub").is_some());
    }
}

#[tokio::test]
async fn oidc_access_and_id_tokens_carry_the_claims() {
    let (hook, url) = Hook::start(json!({ "tenant": "acme", "nonce": "forged" })).await;
    let app = spawn_app_with(&format!(
        "[oidc]\nenabled = true\n[claims]\nfrom_app_metadata = [\"plan\"]\n{}",
        hook_toml(&url, "deny")
    ))
    .await;
    let client = confidential(&app).await;
    let (code, _, uid) = user_and_code(&app, &client, "ada@example.com").await;
    set_app_metadata(&app, &uid, json!({ "plan": "pro" })).await;
    let (status, body) = exchange(&app, &client, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = claims_of(body["access_token"].as_str().unwrap());
    let id = claims_of(body["id_token"].as_str().unwrap());
    for c in [&access, &id] {
        assert_eq!(c["tenant"], "acme");
        assert_eq!(c["plan"], "pro");
        assert_eq!(c["sub"], uid.as_str());
    }
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    let calls = hook.calls.lock().unwrap().clone();
    let asked: Vec<&str> = calls
        .iter()
        .filter(|c| c["client_id"] == client.id.as_str())
        .map(|c| c["token"].as_str().unwrap())
        .collect();
    assert!(
        asked.contains(&"access") && asked.contains(&"id"),
        "{asked:?}"
    );
    // The hook failing fails the exchange, with no token.
    let (code, _, _) = user_and_code(&app, &client, "bob@example.com").await;
    hook.set(500);
    let (status, body) = exchange(&app, &client, &code).await;
    assert_eq!(status.as_u16(), 502, "{body}");
    assert_eq!(body["code"], "hook_failed");
}
