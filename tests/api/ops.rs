use reqwest::StatusCode;
use serde_json::{json, Value};

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
    let text = app.metrics().await;
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

/// Landscape §5.8 (Keycloak CVE-2026-16100: request-controlled text as a
/// metric label): paths no route matched share one `unmatched` series, and
/// an odd method folds into `OTHER`; nothing a request spells becomes a
/// label value.
#[tokio::test]
async fn request_spelled_paths_and_methods_never_become_labels() {
    let app = spawn_app().await;
    for i in 0..20 {
        let res = app
            .client
            .get(app.url(&format!("/probe-{i}-xyzzy")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let method = reqwest::Method::from_bytes(b"XYZZY").unwrap();
    let _ = app
        .client
        .request(method, app.url("/health"))
        .send()
        .await
        .unwrap();
    let text = app.metrics().await;
    assert!(!text.contains("xyzzy") && !text.contains("XYZZY"), "{text}");
    assert!(text.contains("route=\"unmatched\""), "{text}");
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let app = spawn_app_with("[metrics]\nenabled = false\n").await;
    let res = app.client.get(app.metrics_url()).send().await.unwrap();
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

/// One sample line of `/metrics`, e.g. `toktok_outbox_queue_depth`.
async fn metric_value(app: &crate::helpers::TestApp, series: &str) -> Option<f64> {
    let text = app.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
}

#[tokio::test]
async fn metrics_show_the_outbox_queue_the_hash_queue_and_sweeper_deletions() {
    use crate::smtp::{Mode, SmtpSink};
    let sink = SmtpSink::start().await;
    sink.set_mode(Mode::TempFail);
    let app = spawn_app_with(&format!(
        "[email]\nmode = \"smtp\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"1s\"\n",
        sink.port()
    ))
    .await;
    // Every gauge and sweeper kind is there from the first scrape.
    toktok::server::sample_gauges(&app.state).await;
    assert_eq!(
        metric_value(&app, "toktok_outbox_queue_depth").await,
        Some(0.0)
    );
    assert_eq!(
        metric_value(&app, "toktok_hash_pool_queue_depth").await,
        Some(0.0)
    );
    for kind in ["sessions", "challenges", "audit", "mail"] {
        let series = format!("toktok_sweeper_deleted_total{{kind=\"{kind}\"}}");
        assert_eq!(metric_value(&app, &series).await, Some(0.0), "{series}");
    }

    // A reset mail the relay refuses for now stays queued.
    let t = app.signed_up("q@example.com").await;
    let res = app
        .request(
            reqwest::Method::POST,
            "/v1/auth/logout",
            Some(&t.access),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post(
            "/v1/auth/password/forgot",
            json!({"email": "q@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    toktok::mail::deliver_due(&app.state).await;
    toktok::server::sample_gauges(&app.state).await;
    assert_eq!(
        metric_value(&app, "toktok_outbox_queue_depth").await,
        Some(1.0)
    );
    // The relay takes it: the queue is empty again.
    sink.set_mode(Mode::Accept);
    app.clock.advance(3600);
    toktok::mail::deliver_due(&app.state).await;
    toktok::server::sample_gauges(&app.state).await;
    assert_eq!(
        metric_value(&app, "toktok_outbox_queue_depth").await,
        Some(0.0)
    );

    // The session ended above is swept a day later, and counted.
    app.clock.advance(2 * 86_400);
    toktok::server::sweep_once(&app.state).await;
    let swept = metric_value(&app, "toktok_sweeper_deleted_total{kind=\"sessions\"}").await;
    assert!(swept.is_some_and(|n| n >= 1.0), "{swept:?}");
    app.stop().await;
    sink.stop().await;
}

/// `X-Forwarded-For` names the client only when the peer is a trusted
/// proxy: rate limits and audit IPs then follow it; from anyone else it is
/// ignored, so a client cannot dodge its limit by inventing addresses.
#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    const LIMITS: &str = "[rate_limit]\nenabled = true\nper_ip_per_minute = 1\nper_ip_burst = 1\n";
    async fn login_from(app: &crate::helpers::TestApp, n: usize, xff: &str) -> StatusCode {
        app.client
            .post(app.url("/v1/auth/login"))
            .header("x-forwarded-for", xff)
            .json(&json!({"email": format!("nobody{n}@example.com"), "password": "wrong wrong wrong"}))
            .send()
            .await
            .unwrap()
            .status()
    }
    /// Logins from `xff` until the per-IP limit answers 429.
    async fn exhaust(app: &crate::helpers::TestApp, xff: &str) {
        for n in 0..20 {
            if login_from(app, n, xff).await == StatusCode::TOO_MANY_REQUESTS {
                return;
            }
        }
        panic!("no 429 after 20 logins from {xff}");
    }

    // Behind a trusted proxy (the test client on loopback plays the proxy).
    let app = spawn_app_with(&format!(
        "{LIMITS}[server]\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]\n"
    ))
    .await;
    exhaust(&app, "198.51.100.7").await;
    assert_eq!(
        login_from(&app, 99, "198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy has its own bucket.
    assert_eq!(
        login_from(&app, 98, "198.51.100.8").await,
        StatusCode::UNAUTHORIZED
    );
    // The audit log records the forwarded address.
    app.signed_up("xff@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"email": "xff@example.com", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let key = app.api_key(&["admin"]).await;
    let audit: Value = app
        .get_auth("/v1/admin/audit?kind=login.succeeded", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["events"][0]["ip"], "203.0.113.9", "{audit}");
    drop(app);

    // No trusted proxy: the header is the client's own claim and is ignored.
    let app = spawn_app_with(LIMITS).await;
    app.signed_up("plain@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"email": "plain@example.com", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let key = app.api_key(&["admin"]).await;
    let audit: Value = app
        .get_auth("/v1/admin/audit?kind=login.succeeded", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["events"][0]["ip"], "127.0.0.1", "{audit}");
    exhaust(&app, "198.51.100.7").await;
    assert_eq!(
        login_from(&app, 97, "198.51.100.8").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
