use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn register_returns_201_with_a_token_response() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/v1/auth/register",
            json!({ "email": "Ada@Example.com", "password": PASSWORD, "name": "Ada",
                    "metadata": { "theme": "dark" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["refresh_expires_in"], 30 * 24 * 3600);
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
    // Opaque since v1.1: `rt_` and 256 bits in base64url.
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(
        refresh.starts_with("rt_") && refresh.len() == 46,
        "{refresh}"
    );
    let user = &body["user"];
    assert_eq!(
        user["email"], "Ada@example.com",
        "domain lower-cased, local part kept"
    );
    assert_eq!(user["email_confirmed"], false);
    assert_eq!(user["name"], "Ada");
    assert_eq!(user["role"], "user");
    assert_eq!(user["metadata"], json!({ "theme": "dark" }));
    assert!(user["id"].as_str().unwrap().len() == 36);
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(
        user.get("app_metadata").is_none(),
        "admin-only field hidden"
    );
}

#[tokio::test]
async fn a_taken_email_is_409_case_insensitively() {
    let app = spawn_app().await;
    app.signed_up("bob@example.com").await;
    let res = app.register("BOB@example.com", PASSWORD).await;
    assert_problem(res, 409, "email_taken").await;
}

#[tokio::test]
async fn with_confirmation_required_new_and_taken_emails_answer_alike() {
    // L1: registration of an existing email answers exactly like a new one.
    let app = spawn_app_with("[email]\nconfirmation_required = true\n").await;
    let first = app.register("carol@example.com", PASSWORD).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = app.register("carol@example.com", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["confirmation_sent"], true);
    assert_eq!(again["confirmation_sent"], true);
    let keys = |v: &Value| {
        v["user"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&first), keys(&again));
    assert!(first.get("access_token").is_none());
    // And login says "confirm first" only after a correct password.
    let res = app.login("carol@example.com", PASSWORD).await;
    assert_problem(res, 403, "email_not_confirmed").await;
    let res = app.login("carol@example.com", "a wrong password!").await;
    assert_problem(res, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn weak_passwords_are_422() {
    let app = spawn_app().await;
    for password in [
        "short",
        "12345678901",
        "1qaz2wsx3edc",
        "dave@example.com",
        "dave",
    ] {
        let res = app.register("dave@example.com", password).await;
        let body = assert_problem(res, 422, "weak_password").await;
        assert!(body["detail"].is_string());
    }
    // P2/P3: length counts code points; 128 of them are accepted.
    let long: String = "ü".repeat(128);
    assert_eq!(
        app.register("dave@example.com", &long).await.status(),
        StatusCode::CREATED
    );
    let too_long: String = "x".repeat(257);
    let res = app.register("erin@example.com", &too_long).await;
    assert_problem(res, 422, "weak_password").await;
}

#[tokio::test]
async fn twelve_code_points_of_any_script_are_enough() {
    let app = spawn_app().await;
    // 12 code points, 36 bytes: counted as 12 (P2), no composition rules (P4).
    let res = app
        .register("zoe@example.com", "パスワードパスワードパス")
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // NFKC (P7): the full-width form of the same password logs in.
    let app2 = spawn_app().await;
    assert_eq!(
        app2.register(
            "yan@example.com",
            "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ"
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app2.login("yan@example.com", "correct horse battery")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn invalid_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let res = app.register("not-an-email", PASSWORD).await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "email");
    let res = app
        .post(
            "/v1/auth/register",
            json!({ "email": "f@example.com", "password": PASSWORD, "metadata": [1] }),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "metadata");
    let big = "x".repeat(17 * 1024);
    let res = app
        .post(
            "/v1/auth/register",
            json!({ "email": "f@example.com", "password": PASSWORD, "metadata": { "k": big } }),
        )
        .await;
    // Either the body limit (64 KiB) or the metadata limit (16 KiB) speaks; here metadata.
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "metadata");
    let res = app
        .post(
            "/v1/auth/register",
            json!({ "email": "f@example.com", "password": PASSWORD, "role": "admin" }),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "role");
}

#[tokio::test]
async fn closed_registration_is_403() {
    let app = spawn_app_with("[accounts]\nregistration_open = false\n").await;
    let res = app.register("g@example.com", PASSWORD).await;
    assert_problem(res, 403, "registration_closed").await;
}

#[tokio::test]
async fn concurrent_registrations_never_500() {
    // D3: many writers at once queue on the write lock; none fails.
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let client = app.client.clone();
        let url = app.url("/v1/auth/register");
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "email": format!("u{i}@example.com"), "password": PASSWORD }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    // Plus the same address eight times: exactly one wins.
    for _ in 0..8 {
        let client = app.client.clone();
        let url = app.url("/v1/auth/register");
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "email": "same@example.com", "password": PASSWORD }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => conflicts += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 25);
    assert_eq!(conflicts, 7);
}

#[tokio::test]
async fn with_confirmation_required_a_registration_race_never_answers_409() {
    // L1 under concurrency: registrations of one new address at once all
    // pass the "is it taken?" read before any commits; the losers must still
    // answer like any registration, not 409 (docs/API.md: only without
    // confirmation), and exactly one account is stored.
    let app = spawn_app_with("[email]\nconfirmation_required = true\n").await;
    for round in 0..4 {
        let email = format!("race{round}@example.com");
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (client, url, email) = (
                app.client.clone(),
                app.url("/v1/auth/register"),
                email.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let res = client
                    .post(url)
                    .json(&json!({ "email": email, "password": PASSWORD }))
                    .send()
                    .await
                    .unwrap();
                (res.status(), res.json::<Value>().await.unwrap())
            }));
        }
        for task in tasks {
            let (status, body) = task.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "round {round}: {body}");
            assert_eq!(body["confirmation_sent"], true, "round {round}: {body}");
        }
        let stored = app
            .sql_count(&format!(
                "SELECT count(*) FROM users WHERE email = '{email}'"
            ))
            .await;
        assert_eq!(stored, 1, "round {round}");
    }
}
