use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_ready_answer() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert!(body["version"].is_string());
    let res = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert!(res.headers().get("x-request-id").is_some());
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn settings_describe_the_switches() {
    let app = spawn_app_with("[accounts]\nregistration_open = false\n").await;
    let body: Value = app
        .client
        .get(app.url("/v1/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["anonymous"]["enabled"], false);
    assert_eq!(body["anonymous"]["required"], false);
    assert_eq!(body["rsa"]["enabled"], false);
    assert_eq!(body["email"]["enabled"], true);
    assert_eq!(body["email"]["confirmation_required"], false);
    assert_eq!(body["password"]["min_length"], 12);
    assert_eq!(body["password"]["max_length"], 256);
    assert_eq!(body["registration_open"], false);
}

#[tokio::test]
async fn jwks_publishes_public_keys_only() {
    let app = spawn_app().await;
    let body: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert!(keys[0]["kid"].is_string());
    assert!(keys[0].get("d").is_none(), "no private part");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_logins_by_outcome() {
    let app = spawn_app().await;
    app.signed_up("m@example.com").await;
    let _ = app.login("m@example.com", "wrong password here").await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("toktok_http_requests_total{"), "{text}");
    assert!(text.contains("route=\"/v1/auth/register\""), "{text}");
    assert!(
        text.contains("toktok_logins_total{outcome=\"invalid_credentials\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("toktok_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let app = spawn_app_with("[metrics]\nenabled = false\n").await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_problem(res, 404, "feature_disabled").await;
}

#[tokio::test]
async fn unknown_paths_are_problem_404() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn shutdown_is_graceful_and_the_database_survives_a_restart() {
    let app = spawn_app().await;
    app.signed_up("restart@example.com").await;
    let dir = app.stop().await;
    let app = crate::helpers::spawn_in(dir, "").await;
    app.signed_in("restart@example.com").await;
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = spawn_app_with("[server]\ncors_origins = [\"https://app.example\"]\n").await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let res = preflight("https://app.example").await.unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let res = preflight("https://evil.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
