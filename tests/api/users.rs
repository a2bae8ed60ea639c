use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, PASSWORD};

#[tokio::test]
async fn me_returns_the_user_object() {
    let app = spawn_app().await;
    let t = app.signed_up("me@example.com").await;
    let res = app.get_auth("/v1/users/me", &t.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: Value = res.json().await.unwrap();
    for key in [
        "id",
        "email",
        "email_confirmed",
        "name",
        "role",
        "metadata",
        "created_at",
        "updated_at",
    ] {
        assert!(user.get(key).is_some(), "{key} in {user}");
    }
    assert_eq!(user, t.body["user"]);
}

#[tokio::test]
async fn patch_me_edits_name_and_metadata_only() {
    let app = spawn_app().await;
    let t = app.signed_up("patch@example.com").await;
    let res = app
        .request(
            Method::PATCH,
            "/v1/users/me",
            Some(&t.access),
            Some(json!({ "name": "Pat", "metadata": { "a": 1 } })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["name"], "Pat");
    assert_eq!(user["metadata"], json!({ "a": 1 }));
    // null clears the name; absent fields stay.
    let res = app
        .request(
            Method::PATCH,
            "/v1/users/me",
            Some(&t.access),
            Some(json!({ "name": null })),
        )
        .await;
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["name"], Value::Null);
    assert_eq!(user["metadata"], json!({ "a": 1 }));
    // Other fields → 422 naming them.
    for field in ["role", "email", "app_metadata", "email_confirmed"] {
        let res = app
            .request(
                Method::PATCH,
                "/v1/users/me",
                Some(&t.access),
                Some(json!({ field: "x" })),
            )
            .await;
        let body = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field);
    }
    let res = app
        .request(
            Method::PATCH,
            "/v1/users/me",
            Some(&t.access),
            Some(json!({ "metadata": "x" })),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    // P6, R5.
    let app = spawn_app().await;
    let a = app.signed_up("pw@example.com").await;
    let b = app.signed_in("pw@example.com").await;
    let new = "a brand new passphrase";
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/password",
            Some(&a.access),
            Some(json!({ "current_password": "not it at all", "new_password": new })),
        )
        .await;
    assert_problem(res, 403, "wrong_password").await;
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/password",
            Some(&a.access),
            Some(json!({ "current_password": PASSWORD, "new_password": "short" })),
        )
        .await;
    assert_problem(res, 422, "weak_password").await;
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/password",
            Some(&a.access),
            Some(json!({ "current_password": PASSWORD, "new_password": new })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // This session stays, the other ends.
    assert_eq!(
        app.get_auth("/v1/users/me", &a.access).await.status(),
        StatusCode::OK
    );
    assert_problem(
        app.get_auth("/v1/users/me", &b.access).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.refresh(&b.refresh).await, 401, "invalid_token").await;
    assert_problem(
        app.login("pw@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login("pw@example.com", new).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn deleting_the_account_needs_the_password() {
    let app = spawn_app().await;
    let t = app.signed_up("del@example.com").await;
    let res = app
        .request(
            Method::DELETE,
            "/v1/users/me",
            Some(&t.access),
            Some(json!({ "password": "wrong wrong" })),
        )
        .await;
    assert_problem(res, 403, "wrong_password").await;
    let res = app
        .request(
            Method::DELETE,
            "/v1/users/me",
            Some(&t.access),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get_auth("/v1/users/me", &t.access).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.refresh(&t.refresh).await, 401, "invalid_token").await;
    assert_problem(
        app.login("del@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    // The address is free again.
    assert_eq!(
        app.register("del@example.com", PASSWORD).await.status(),
        StatusCode::CREATED
    );
}
