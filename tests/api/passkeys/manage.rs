//! Renaming and removing passkeys: the name rules, the owner, the (R)
//! guard, the sessions a passkey raised, and the last way to sign in.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{audit_count, post_auth, register, with_passkey};
use crate::helpers::{assert_problem, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn renaming_checks_the_name_and_the_owner() {
    let app = spawn_app().await;
    let (_, view, tokens) = with_passkey(&app, "name@example.com").await;
    let path = format!("/v1/users/me/passkeys/{}", view["id"].as_str().unwrap());
    let rename = |token: &str, name: Value| {
        let token = token.to_owned();
        let (app, path) = (&app, path.clone());
        async move {
            app.request(
                Method::PATCH,
                &path,
                Some(&token),
                Some(json!({ "name": name })),
            )
            .await
        }
    };
    let res = rename(&tokens.access, json!("Work laptop")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(renamed["name"], "Work laptop");
    assert_eq!(renamed["id"], view["id"]);
    for bad in [
        json!(""),
        json!("   "),
        json!("x".repeat(65)),
        json!("a\u{7}b"),
    ] {
        let res = rename(&tokens.access, bad).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "name");
    }
    assert_eq!(
        rename(&tokens.access, json!("é".repeat(64))).await.status(),
        StatusCode::OK
    );
    let other = app.signed_up("other-name@example.com").await;
    assert_problem(rename(&other.access, json!("mine")).await, 404, "not_found").await;
}

#[tokio::test]
async fn removing_ends_the_sessions_it_raised_and_never_someone_elses() {
    let app = spawn_app().await;
    let (_, view, tokens) = with_passkey(&app, "rm@example.com").await;
    let id = view["id"].as_str().unwrap();
    let path = format!("/v1/users/me/passkeys/{id}");
    // Another user's passkey, or none at all: 404 either way.
    let other = app.signed_up("rm-other@example.com").await;
    let res = app
        .request(Method::DELETE, &path, Some(&other.access), None)
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .request(
            Method::DELETE,
            "/v1/users/me/passkeys/nope",
            Some(&tokens.access),
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    // A password session (aal 1) of a user with a passkey is not recent enough.
    // (Once the MFA step exists, the password alone gets no session at all.)
    let password: Value = app
        .login("rm@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    if let Some(access) = password["access_token"].as_str() {
        let res = app.request(Method::DELETE, &path, Some(access), None).await;
        assert_problem(res, 403, "reauthentication_required").await;
    }
    let res = app
        .request(Method::DELETE, &path, Some(&tokens.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.sql_count("SELECT count(*) FROM passkeys").await, 0);
    assert_eq!(audit_count(&app, "passkey.removed").await, 1);
    // The session that passkey raised to aal 2 is over.
    let res = app.get_auth("/v1/users/me", &tokens.access).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let ended = app
        .sql(&format!(
            "SELECT count(*) FROM sessions WHERE factor = 'passkey:{id}' AND revoked_at IS NULL"
        ))
        .await;
    assert_eq!(ended[0][0], "0");
}

#[tokio::test]
async fn the_last_way_to_sign_in_is_not_removed() {
    let app = spawn_app().await;
    let (mut authn, view, tokens) = with_passkey(&app, "last@example.com").await;
    app.sql("UPDATE users SET password_hash = NULL WHERE email = 'last@example.com'")
        .await;
    let path = format!("/v1/users/me/passkeys/{}", view["id"].as_str().unwrap());
    let res = app
        .request(Method::DELETE, &path, Some(&tokens.access), None)
        .await;
    assert_problem(res, 409, "conflict").await;
    // With a second passkey, the first can go.
    let second = register(&app, &tokens.access, &mut authn).await;
    assert_ne!(second["id"], view["id"]);
    let res = app
        .request(Method::DELETE, &path, Some(&tokens.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn with_email_codes_on_the_address_is_a_way_in() {
    let app = spawn_app_with("[email_code]\nenabled = true\n").await;
    let (_, view, tokens) = with_passkey(&app, "codes@example.com").await;
    app.sql("UPDATE users SET password_hash = NULL WHERE email = 'codes@example.com'")
        .await;
    let path = format!("/v1/users/me/passkeys/{}", view["id"].as_str().unwrap());
    let res = app
        .request(Method::DELETE, &path, Some(&tokens.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn registration_is_recent_authentication_only() {
    let app = spawn_app().await;
    let t = app.signed_up("recent@example.com").await;
    app.clock.advance(301);
    let res = post_auth(&app, "/v1/users/me/passkeys/options", &t.access, json!({})).await;
    assert_problem(res, 403, "reauthentication_required").await;
    let res = app.post("/v1/users/me/passkeys/options", json!({})).await;
    assert_problem(res, 401, "unauthenticated").await;
}

#[tokio::test]
async fn two_removals_at_once_never_take_the_last_two() {
    // On PostgreSQL each removal counts under the user's row lock.
    let app = spawn_app().await;
    let (mut authn, first, tokens) = with_passkey(&app, "race@example.com").await;
    let second = register(&app, &tokens.access, &mut authn).await;
    app.sql("UPDATE users SET password_hash = NULL WHERE email = 'race@example.com'")
        .await;
    let paths: Vec<String> = [&first, &second]
        .iter()
        .map(|v| format!("/v1/users/me/passkeys/{}", v["id"].as_str().unwrap()))
        .collect();
    let (a, b) = tokio::join!(
        app.request(Method::DELETE, &paths[0], Some(&tokens.access), None),
        app.request(Method::DELETE, &paths[1], Some(&tokens.access), None),
    );
    // One goes; the other is the last way in (409), or its session was the
    // one the first removal ended (401).
    let statuses = [a.status(), b.status()];
    let removed = statuses
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(removed, 1, "{statuses:?}");
    assert_eq!(app.sql_count("SELECT count(*) FROM passkeys").await, 1);
}
