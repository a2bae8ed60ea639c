//! Clock jumps on the injectable clock (issue 9 "Faults"): a step forward
//! expires what it passes; a step back never lets a token through early and
//! fails closed until the clock catches up.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

#[tokio::test]
async fn a_forward_jump_expires_what_it_passes() {
    let app = spawn_app().await;
    let t = app.signed_up("forward@example.com").await;
    // Past the 15 min access lifetime (and the 30 s leeway).
    app.clock.advance(16 * 60);
    assert_problem(
        app.get_auth("/v1/users/me", &t.access).await,
        401,
        "token_expired",
    )
    .await;
    let res = app.refresh(&t.refresh).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "refresh outlives the access token"
    );
    let fresh: Value = res.json().await.unwrap();
    // Past the 7 day idle lifetime: the session is over.
    app.clock.advance(7 * DAY + 60);
    let res = app.refresh(fresh["refresh_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .get_auth("/v1/users/me", fresh["access_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_backward_jump_fails_closed_until_the_clock_catches_up() {
    let app = spawn_app().await;
    let start = app.state.now();
    let t = app.signed_up("backward@example.com").await;
    // An hour back: the token now claims to be issued in the future.
    app.clock.set(start - HOUR);
    let res = app.get_auth("/v1/users/me", &t.access).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.refresh(&t.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Signing in again works on the stepped-back clock.
    let again = app.signed_in("backward@example.com").await;
    assert_eq!(
        app.get_auth("/v1/users/me", &again.access).await.status(),
        StatusCode::OK
    );
    // Back on time, the first session was never revoked by the jump.
    app.clock.set(start + 60);
    assert_eq!(
        app.get_auth("/v1/users/me", &t.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_used_challenge_stays_used_across_jumps() {
    let app = spawn_app().await;
    let key = app.api_key(&["challenges"]).await;
    let call =
        |path: &'static str, body: Value| app.request(Method::POST, path, Some(&key), Some(body));
    let start = app.state.now();
    let res = call(
        "/v1/challenges",
        json!({ "action": "jump", "id": "a", "ttl": 600 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let token = created["secret"].as_str().unwrap().to_owned();
    let res = call("/v1/challenges/verify", json!({ "token": token })).await;
    assert_eq!(res.status(), StatusCode::OK);
    for now in [start - DAY, start + 300, start - HOUR] {
        app.clock.set(now);
        let res = call("/v1/challenges/verify", json!({ "token": token })).await;
        assert_problem(res, 404, "challenge_not_found").await;
    }
    // An expired one does not come back while the clock is ahead of it.
    let res = call(
        "/v1/challenges",
        json!({ "action": "jump", "id": "b", "ttl": 60 }),
    )
    .await;
    let created: Value = res.json().await.unwrap();
    let token = created["secret"].as_str().unwrap().to_owned();
    app.clock.advance(2 * HOUR);
    let res = call("/v1/challenges/verify", json!({ "token": token })).await;
    assert_problem(res, 404, "challenge_not_found").await;
}
