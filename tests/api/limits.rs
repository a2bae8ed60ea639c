//! Limits from the December 2026 review (issue 16): the client address
//! behind proxies (TT-16), the decrypt token taken before RSA work (TT-04),
//! current-password checks counted like logins (TT-03), the lockout that
//! can no longer keep an owner out (TT-09), HTTP/2 idle connections and the
//! per-IP connection cap (TT-07), and `/metrics` on its own listener (TT-10).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, TestApp};
use crate::rsa_keys::encrypt_body;

/// The value of one series in the app's metrics, 0 when absent.
fn series(app: &TestApp, line_prefix: &str) -> u64 {
    app.state
        .metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(line_prefix)?.trim().parse().ok())
        .unwrap_or(0)
}

async fn login_via(app: &TestApp, xff: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", xff)
        .json(&json!({ "email": email, "password": "wrong wrong wrong" }))
        .send()
        .await
        .unwrap()
}

/// TT-16: behind a proxy that writes `ip:port` (or garbage) hops, clients
/// kept their own buckets instead of all sharing the proxy's.
#[tokio::test]
async fn forwarded_hops_with_ports_or_garbage_keep_clients_apart() {
    let app = spawn_app_with(
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n\
         [rate_limit]\nenabled = true\nper_ip_burst = 2\nper_ip_per_minute = 1\n",
    )
    .await;
    for _ in 0..2 {
        let res = login_via(&app, "203.0.113.1:5555", "a@example.com").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_via(&app, "203.0.113.1:6666", "b@example.com").await;
    assert_problem(res, 429, "rate_limited").await;
    // Another client, written with a port, or behind a garbage hop: its own.
    let res = login_via(&app, "[2001:db8::1]:443", "c@example.com").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = login_via(&app, "203.0.113.2, unknown", "c@example.com").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = login_via(&app, "garbage", "c@example.com").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// TT-04: undecryptable JWEs from one address reached the RSA key before
/// any rate limit. Now the decrypt token goes first, and the refused ones
/// cost no decryption.
#[tokio::test]
async fn undecryptable_bodies_take_the_decrypt_token_before_any_rsa_work() {
    let app = spawn_app_with(
        "[rsa]\nenabled = true\nkey_bits = 2048\n\
         [rate_limit]\nenabled = true\nper_ip_burst = 3\nper_ip_per_minute = 1\n",
    )
    .await;
    let key: Value = app
        .client
        .get(app.url("/v1/auth/public-key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A real RSA-OAEP key wrap with a flipped GCM tag: the private-key
    // operation succeeds, then the body is refused.
    let good = encrypt_body(&key, true, br#"{"email":"a@example.com","password":"x"}"#);
    let (head, tag) = good.rsplit_once('.').unwrap();
    let flipped = if tag.starts_with('A') { "B" } else { "A" };
    let bad = format!("{head}.{flipped}{}", &tag[1..]);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let res = app
            .client
            .post(app.url("/v1/auth/login"))
            .header("content-type", "application/jose")
            .body(bad.clone())
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 429, 429, 429]);
    let tried = |outcome: &str| {
        series(
            &app,
            &format!("toktok_jwe_decryptions_total{{outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(tried("invalid"), 3, "no decryption for the refused ones");
    assert_eq!(tried("ok") + tried("overloaded"), 0);
    // Plain JSON from that address is not refused by the decrypt bucket.
    let res = app.login("a@example.com", "wrong wrong wrong").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
