use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, spawn_in, Tokens};

#[tokio::test]
async fn every_refresh_rotates() {
    // R1.
    let app = spawn_app().await;
    let first = app.signed_up("r@example.com").await;
    let res = app.refresh(&first.refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second = Tokens::from(res.json::<Value>().await.unwrap());
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(second.body["user"]["email"], "r@example.com");
    // The new access token works.
    let me = app.get_auth("/v1/users/me", &second.access).await;
    assert_eq!(me.status(), StatusCode::OK);
    // And the chain goes on.
    app.clock.advance(20);
    let third = app.refresh(&second.refresh).await;
    assert_eq!(third.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_replayed_token_inside_the_grace_window_gets_the_same_successor() {
    // R2: a client that lost the response is not logged out.
    let app = spawn_app().await;
    let first = app.signed_up("g@example.com").await;
    let a = Tokens::from(
        app.refresh(&first.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    app.clock.advance(5);
    let res = app.refresh(&first.refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    let b = Tokens::from(res.json::<Value>().await.unwrap());
    assert_eq!(a.refresh, b.refresh, "the same successor");
    // The successor still rotates normally.
    assert_eq!(app.refresh(&b.refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reuse_outside_the_grace_window_revokes_the_family() {
    // R2: reuse detection.
    let app = spawn_app().await;
    let first = app.signed_up("reuse@example.com").await;
    let second = Tokens::from(
        app.refresh(&first.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    app.clock.advance(11);
    let res = app.refresh(&first.refresh).await;
    assert_problem(res, 401, "token_reused").await;
    // The whole family is dead: the legitimate successor and its access token.
    assert_problem(app.refresh(&second.refresh).await, 401, "invalid_token").await;
    assert_problem(
        app.get_auth("/v1/users/me", &second.access).await,
        401,
        "invalid_token",
    )
    .await;
    let id = first.body["user"]["id"].as_str().unwrap();
    let kinds = app.state.store.audit_kinds(id).await.unwrap();
    assert!(kinds.contains(&"refresh.reused".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn an_older_token_is_reuse_even_inside_the_grace_window() {
    let app = spawn_app().await;
    let t0 = app.signed_up("old@example.com").await;
    let t1 = Tokens::from(
        app.refresh(&t0.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    let _t2 = Tokens::from(
        app.refresh(&t1.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_problem(app.refresh(&t0.refresh).await, 401, "token_reused").await;
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_make_one_head() {
    // R3: all winners hold the same successor; the session has one head.
    let app = spawn_app().await;
    let first = app.signed_up("race@example.com").await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = app.client.clone();
        let url = app.url("/v1/auth/refresh");
        let token = first.refresh.clone();
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .json(&serde_json::json!({ "refresh_token": token }))
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut successors = std::collections::HashSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        successors.insert(body["refresh_token"].as_str().unwrap().to_owned());
    }
    assert_eq!(successors.len(), 1, "one new family head");
}

#[tokio::test]
async fn refresh_tokens_expire_absolutely_and_by_inactivity() {
    // R4.
    let app = spawn_app().await;
    let t = app.signed_up("idle@example.com").await;
    app.clock.advance(7 * 24 * 3600 + 1);
    assert_problem(app.refresh(&t.refresh).await, 401, "token_expired").await;

    let t = app.signed_in("idle@example.com").await;
    let mut current = t.refresh;
    // Refreshing every 6 days keeps the session alive until the 30-day end.
    for _ in 0..4 {
        app.clock.advance(6 * 24 * 3600);
        let res = app.refresh(&current).await;
        assert_eq!(res.status(), StatusCode::OK);
        current = Tokens::from(res.json::<Value>().await.unwrap()).refresh;
    }
    app.clock.advance(6 * 24 * 3600 + 60);
    assert_problem(app.refresh(&current).await, 401, "token_expired").await;
}

#[tokio::test]
async fn token_kinds_cannot_stand_in_for_each_other() {
    // J3: refresh on a protected route, access on refresh → 401.
    let app = spawn_app().await;
    let t = app.signed_up("kind@example.com").await;
    assert_problem(
        app.get_auth("/v1/users/me", &t.refresh).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.refresh(&t.access).await, 401, "invalid_token").await;
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    // R6: no raw refresh token or jti in the database file.
    if crate::helpers::sqlite_only("reads the SQLite file's bytes") {
        return;
    }
    let app = spawn_app().await;
    let t = app.signed_up("hash@example.com").await;
    let t2 = Tokens::from(app.refresh(&t.refresh).await.json::<Value>().await.unwrap());
    let path = app.state.store.db().path().to_owned();
    let dir = app.stop().await;
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let haystack = String::from_utf8_lossy(&bytes);
    for token in [&t.refresh, &t2.refresh] {
        let secret = token.strip_prefix("rt_").unwrap();
        assert!(
            !haystack.contains(secret),
            "refresh token {token} stored raw"
        );
    }
    let payload = t.access.split('.').nth(1).unwrap();
    assert!(!haystack.contains(payload));
    let claims: Value = serde_json::from_slice(&base64_url_decode(payload)).unwrap();
    let jti = claims["jti"].as_str().unwrap();
    assert!(!haystack.contains(jti), "jti {jti} stored raw");
    drop(dir);
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// Landscape §5.4 (Keycloak CVE-2026-9802: reuse was judged against the
/// cluster's start time, so a restart made every rotated token reusable):
/// a token rotated before a restart is reuse after it, and its family dies.
#[tokio::test]
async fn reuse_is_detected_across_a_restart() {
    let app = spawn_app().await;
    let first = app.signed_up("restart@example.com").await;
    let res = app.refresh(&first.refresh).await;
    let second = Tokens::from(res.json::<Value>().await.unwrap());
    let dir = app.stop().await;
    let app = spawn_in(dir, "").await;
    app.clock.advance(11);
    let res = app.refresh(&first.refresh).await;
    assert_problem(res, 401, "token_reused").await;
    let res = app.refresh(&second.refresh).await;
    assert_problem(res, 401, "invalid_token").await;
    let me = app.get_auth("/v1/users/me", &second.access).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}
