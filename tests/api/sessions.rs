use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn logout_ends_this_session_at_once() {
    // J5: the access token is refused immediately, the refresh token dies.
    let app = spawn_app().await;
    let a = app.signed_up("out@example.com").await;
    let b = app.signed_in("out@example.com").await;
    let res = app
        .request(Method::POST, "/v1/auth/logout", Some(&a.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get_auth("/v1/users/me", &a.access).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.refresh(&a.refresh).await, 401, "invalid_token").await;
    // The other session lives on.
    assert_eq!(
        app.get_auth("/v1/users/me", &b.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_all_ends_every_session() {
    let app = spawn_app().await;
    let a = app.signed_up("all@example.com").await;
    let b = app.signed_in("all@example.com").await;
    let res = app
        .request(Method::POST, "/v1/auth/logout-all", Some(&b.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for t in [&a, &b] {
        assert_problem(
            app.get_auth("/v1/users/me", &t.access).await,
            401,
            "invalid_token",
        )
        .await;
        assert_problem(app.refresh(&t.refresh).await, 401, "invalid_token").await;
    }
}

#[tokio::test]
async fn sessions_are_listed_with_the_current_one_marked() {
    let app = spawn_app().await;
    let a = app.signed_up("list@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("user-agent", "test-agent/1.0")
        .json(&serde_json::json!({ "email": "list@example.com", "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap();
    let b: Value = res.json().await.unwrap();
    let body: Value = app
        .get_auth("/v1/users/me/sessions", &a.access)
        .await
        .json()
        .await
        .unwrap();
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["user_agent"], "test-agent/1.0");
    assert_eq!(other["ip"], "127.0.0.1");
    for key in ["id", "created_at", "last_used_at"] {
        assert!(other[key].is_string(), "{key}");
    }
    // Ending the other session kills its tokens.
    let path = format!("/v1/users/me/sessions/{}", other["id"].as_str().unwrap());
    let res = app
        .request(Method::DELETE, &path, Some(&a.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let b_access = b["access_token"].as_str().unwrap();
    assert_problem(
        app.get_auth("/v1/users/me", b_access).await,
        401,
        "invalid_token",
    )
    .await;
    // Twice, or unknown: 404.
    let res = app
        .request(Method::DELETE, &path, Some(&a.access), None)
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn another_users_session_is_404() {
    let app = spawn_app().await;
    let a = app.signed_up("mine@example.com").await;
    let b = app.signed_up("theirs@example.com").await;
    let body: Value = app
        .get_auth("/v1/users/me/sessions", &b.access)
        .await
        .json()
        .await
        .unwrap();
    let theirs = body["sessions"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/users/me/sessions/{theirs}");
    let res = app
        .request(Method::DELETE, &path, Some(&a.access), None)
        .await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(
        app.get_auth("/v1/users/me", &b.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_at_once() {
    // R5: disabling ends access on toktok's routes and stops refreshes.
    let app = spawn_app().await;
    let t = app.signed_up("off@example.com").await;
    app.sql("UPDATE users SET disabled = TRUE").await;
    assert_problem(
        app.get_auth("/v1/users/me", &t.access).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.refresh(&t.refresh).await, 401, "invalid_token").await;
}
