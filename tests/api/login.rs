use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, PASSWORD};

/// Rate limits on, with per-IP buckets too large to interfere.
const LOCKOUT_ON: &str = "[rate_limit]\nenabled = true\nper_ip_burst = 100000\n";

/// Status, the headers that could differ, and the body.
async fn fingerprint(res: reqwest::Response) -> (u16, Vec<(String, String)>, Value) {
    let status = res.status().as_u16();
    let mut headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    headers.sort();
    (status, headers, res.json().await.unwrap())
}

#[tokio::test]
async fn login_returns_a_token_response() {
    let app = spawn_app().await;
    app.signed_up("a@example.com").await;
    let res = app.login("A@EXAMPLE.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["email"], "a@example.com");
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn unknown_email_wrong_password_and_disabled_look_the_same() {
    // L1: same status, body and headers.
    let app = spawn_app().await;
    app.signed_up("known@example.com").await;
    app.signed_up("disabled@example.com").await;
    app.sql("UPDATE users SET disabled = TRUE WHERE email = 'disabled@example.com'")
        .await;
    let unknown = fingerprint(app.login("nobody@example.com", PASSWORD).await).await;
    let wrong = fingerprint(app.login("known@example.com", "not the password").await).await;
    let disabled = fingerprint(app.login("disabled@example.com", PASSWORD).await).await;
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown.2["code"], "invalid_credentials");
    assert_eq!(unknown, wrong);
    assert_eq!(unknown, disabled);
}

#[tokio::test]
async fn five_failures_lock_the_account_with_doubling_back_off() {
    let app = spawn_app_with(LOCKOUT_ON).await;
    app.signed_up("lock@example.com").await;
    for _ in 0..5 {
        let res = app.login("lock@example.com", "wrong wrong wrong").await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    // Locked: even the right password waits.
    let res = app.login("lock@example.com", PASSWORD).await;
    assert_eq!(res.headers()["retry-after"], "1");
    let body = assert_problem(res, 429, "rate_limited").await;
    assert_eq!(body["retry_after"], 1);
    // After the window, one more failure doubles it.
    app.clock.advance(1);
    assert_problem(
        app.login("lock@example.com", "wrong wrong wrong").await,
        401,
        "invalid_credentials",
    )
    .await;
    let res = app.login("lock@example.com", PASSWORD).await;
    assert_eq!(res.headers()["retry-after"], "2");
    // A success after the window resets the count.
    app.clock.advance(2);
    assert_eq!(
        app.login("lock@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_problem(
        app.login("lock@example.com", "wrong wrong wrong").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login("lock@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_lockout_caps_at_fifteen_minutes_and_covers_unknown_emails_too() {
    let app = spawn_app_with(LOCKOUT_ON).await;
    for _ in 0..30 {
        let _ = app.login("ghost@example.com", "wrong wrong wrong").await;
        app.clock.advance(3600);
    }
    let _ = app.login("ghost@example.com", "wrong wrong wrong").await;
    let res = app.login("ghost@example.com", "wrong wrong wrong").await;
    assert_eq!(res.headers()["retry-after"], "900");
    assert_problem(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn per_ip_buckets_limit_login_attempts() {
    let app =
        spawn_app_with("[rate_limit]\nenabled = true\nper_ip_burst = 3\nper_ip_per_minute = 1\n")
            .await;
    for _ in 0..3 {
        assert_eq!(
            app.login("x@example.com", "wrong wrong wrong")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.login("x@example.com", "wrong wrong wrong").await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited").await;
    // Register has its own bucket.
    assert_eq!(
        app.register("y@example.com", PASSWORD).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_raised_iteration_count_upgrades_the_hash_at_next_login() {
    // P1: configured parameters rise → the stored hash is upgraded.
    let app = spawn_app().await;
    app.signed_up("up@example.com").await;
    let dir = app.stop().await;
    let app = crate::helpers::spawn_in(dir, "[password]\npbkdf2_iterations = 2000\n").await;
    let phc = || async {
        app.state
            .store
            .user_by_email_key("up@example.com")
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .unwrap()
    };
    assert!(
        phc().await.starts_with("$pbkdf2-sha256$i=1000,"),
        "{}",
        phc().await
    );
    app.signed_in("up@example.com").await;
    assert!(
        phc().await.starts_with("$pbkdf2-sha256$i=2000,"),
        "{}",
        phc().await
    );
    app.signed_in("up@example.com").await;
}

#[tokio::test]
async fn argon2id_is_offered() {
    let app = spawn_app_with("[password]\nalgorithm = \"argon2id\"\n").await;
    app.signed_up("argon@example.com").await;
    let phc = app
        .state
        .store
        .user_by_email_key("argon@example.com")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    app.signed_in("argon@example.com").await;
}

#[tokio::test]
async fn logins_and_failures_are_audited_without_secrets() {
    // L4.
    let app = spawn_app().await;
    let tokens = app.signed_up("audit@example.com").await;
    let _ = app.login("audit@example.com", "wrong wrong wrong").await;
    app.signed_in("audit@example.com").await;
    let id = tokens.body["user"]["id"].as_str().unwrap();
    let kinds = app.state.store.audit_kinds(id).await.unwrap();
    assert_eq!(
        kinds,
        [
            "user.registered",
            "login.succeeded",
            "login.failed",
            "login.succeeded"
        ]
    );
    let dump: String = app
        .sql("SELECT detail || coalesce(user_agent,'') FROM audit_events")
        .await
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!dump.contains("wrong wrong wrong"));
    assert!(!dump.contains(PASSWORD));
    assert!(!dump.contains(&tokens.refresh));
}
