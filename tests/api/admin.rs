//! The admin API (docs/API.md "Admin"): who may call it, the user endpoints, and
//! the audit log with its filters, paging and retention.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use toktok::mail::MailKind;

use crate::helpers::{assert_problem, spawn_app, TestApp, PASSWORD};

const USERS: &str = "/v1/admin/users";

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Response {
    app.request(method, path, Some(token), body).await
}

async fn ok_json(res: Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    res.json().await.expect("json body")
}

/// A user created with role `admin` (as `toktok user create --role admin`
/// does), signed in: their access token.
async fn admin_user_token(app: &TestApp, email: &str) -> String {
    toktok::accounts::create_user(&app.state, email, "admin", Some(PASSWORD.into()))
        .await
        .expect("admin created");
    app.signed_in(email).await.access
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let me: Value = app
        .get_auth("/v1/users/me", token)
        .await
        .json()
        .await
        .expect("me");
    me["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn only_admins_get_in() {
    let app = spawn_app().await;
    let plain = app.signed_up("plain@example.test").await;
    let challenges_key = app.api_key(&["challenges"]).await;
    let admin_key = app.api_key(&["admin"]).await;
    let admin_token = admin_user_token(&app, "boss@example.test").await;

    let res = app.request(Method::GET, USERS, None, None).await;
    assert_problem(res, 401, "unauthenticated").await;
    let res = app.get_auth(USERS, "tk_not-a-real-key").await;
    assert_problem(res, 401, "unauthenticated").await;
    let res = app.get_auth(USERS, "garbage").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.get_auth(USERS, &plain.access).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.get_auth(USERS, &challenges_key).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.get_auth("/v1/admin/audit", &challenges_key).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .request(
            Method::POST,
            USERS,
            Some(&plain.access),
            Some(json!({"email": "x@example.test"})),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;

    for token in [&admin_key, &admin_token] {
        let res = app.get_auth(USERS, token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.get_auth("/v1/admin/audit", token).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn list_filters_by_email_case_insensitively() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    app.signed_up("Alice@Example.test").await;
    app.signed_up("bob@example.test").await;

    let body = ok_json(app.get_auth(USERS, &key).await, StatusCode::OK).await;
    assert_eq!(body["users"].as_array().unwrap().len(), 2);
    assert_eq!(body["next"], Value::Null);
    let first = &body["users"][0];
    assert_eq!(first["email"], "Alice@example.test");
    assert_eq!(first["disabled"], false);
    assert_eq!(first["app_metadata"], json!({}));
    assert!(first["last_login_at"].is_string(), "{first}");

    let path = format!("{USERS}?email=ALICE%40example.TEST");
    let body = ok_json(app.get_auth(&path, &key).await, StatusCode::OK).await;
    let users = body["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["email"], "Alice@example.test");

    let path = format!("{USERS}?email=nobody%40example.test");
    let body = ok_json(app.get_auth(&path, &key).await, StatusCode::OK).await;
    assert_eq!(body["users"], json!([]));
}

#[tokio::test]
async fn pages_are_stable_under_concurrent_inserts() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let mut before = HashSet::new();
    for i in 0..7 {
        let email = format!("u{i}@example.test");
        app.signed_up(&email).await;
        before.insert(email);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut added = 0;
    loop {
        let path = match &after {
            Some(a) => format!("{USERS}?limit=3&after={a}"),
            None => format!("{USERS}?limit=3"),
        };
        let body = ok_json(app.get_auth(&path, &key).await, StatusCode::OK).await;
        let users = body["users"].as_array().unwrap();
        assert!(users.len() <= 3);
        seen.extend(
            users
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_owned()),
        );
        // Someone registers between two page fetches.
        app.signed_up(&format!("late{added}@example.test")).await;
        added += 1;
        match body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
        assert!(added < 20, "paging does not end");
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    assert!(before.is_subset(&unique), "nothing skipped: {seen:?}");
}

#[tokio::test]
async fn bad_list_parameters_name_the_field() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("after=not-an-id", "after"),
    ] {
        let res = app.get_auth(&format!("{USERS}?{query}"), &key).await;
        let body = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{query}");
        let res = app
            .get_auth(&format!("/v1/admin/audit?{query}"), &key)
            .await;
        let body = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "audit {query}");
    }
    let res = app.get_auth(&format!("{USERS}?limit=200"), &key).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn create_with_a_password_can_log_in() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let res = call(
        &app,
        Method::POST,
        USERS,
        &key,
        Some(json!({
            "email": "New@Example.test",
            "password": PASSWORD,
            "role": "editor",
            "metadata": {"team": "a"},
            "app_metadata": {"plan": "pro"},
        })),
    )
    .await;
    let user = ok_json(res, StatusCode::CREATED).await;
    assert_eq!(user["email"], "New@example.test");
    assert_eq!(user["role"], "editor");
    assert_eq!(user["email_confirmed"], true);
    assert_eq!(user["metadata"], json!({"team": "a"}));
    assert_eq!(user["app_metadata"], json!({"plan": "pro"}));
    assert_eq!(user["disabled"], false);
    assert_eq!(user["last_login_at"], Value::Null);
    let tokens = app.signed_in("new@example.test").await;
    assert_eq!(user_id(&app, &tokens.access).await, user["id"]);

    let path = format!("{USERS}/{}", user["id"].as_str().unwrap());
    let fetched = ok_json(app.get_auth(&path, &key).await, StatusCode::OK).await;
    assert!(fetched["last_login_at"].is_string());

    // Taken, case-insensitively.
    let res = call(
        &app,
        Method::POST,
        USERS,
        &key,
        Some(json!({"email": "NEW@example.test"})),
    )
    .await;
    assert_problem(res, 409, "email_taken").await;
}

#[tokio::test]
async fn create_refuses_bad_input() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let cases = [
        (
            json!({"email": "a@example.test", "password": "short"}),
            422,
            "weak_password",
            None,
        ),
        (
            json!({"email": "not an email"}),
            422,
            "validation_failed",
            Some("email"),
        ),
        (
            json!({"email": "a@example.test", "role": "bad role!"}),
            422,
            "validation_failed",
            Some("role"),
        ),
        (
            json!({"email": "a@example.test", "app_metadata": [1]}),
            422,
            "validation_failed",
            Some("app_metadata"),
        ),
        (
            json!({"email": "a@example.test", "disabled": true}),
            422,
            "validation_failed",
            Some("disabled"),
        ),
        (
            json!({"password": PASSWORD}),
            422,
            "validation_failed",
            Some("email"),
        ),
    ];
    for (body, status, code, field) in cases {
        let res = call(&app, Method::POST, USERS, &key, Some(body.clone())).await;
        let problem = assert_problem(res, status, code).await;
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
        }
    }
    let big = "x".repeat(17 * 1024);
    let res = call(
        &app,
        Method::POST,
        USERS,
        &key,
        Some(json!({"email": "a@example.test", "metadata": {"big": big}})),
    )
    .await;
    // Over the body limit or over the metadata limit: either way refused.
    assert!(res.status().is_client_error());
}

#[tokio::test]
async fn create_without_a_password_mails_a_set_password_link() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let res = call(
        &app,
        Method::POST,
        USERS,
        &key,
        Some(json!({"email": "nopass@example.test"})),
    )
    .await;
    let user = ok_json(res, StatusCode::CREATED).await;
    let id = user["id"].as_str().unwrap().to_owned();
    // No password: no login.
    let res = app.login("nopass@example.test", PASSWORD).await;
    assert_problem(res, 401, "invalid_credentials").await;

    // The reset mail is queued (dev mode writes it out soon after).
    let deadline = Instant::now() + Duration::from_secs(10);
    let outbox = app.dir.path().join("outbox");
    loop {
        let queued = app
            .state
            .store
            .outbox_rows()
            .await
            .expect("outbox")
            .iter()
            .any(|r| {
                r.user_id.as_deref() == Some(&id) && r.kind == MailKind::ResetPassword.as_str()
            });
        let written = std::fs::read_dir(&outbox)
            .map(|entries| {
                entries.flatten().any(|e| {
                    std::fs::read_to_string(e.path())
                        .is_ok_and(|text| text.contains("nopass@example.test"))
                })
            })
            .unwrap_or(false);
        if queued || written {
            break;
        }
        assert!(Instant::now() < deadline, "no set-password mail");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn unknown_users_are_404() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let missing = format!("{USERS}/{}", uuid::Uuid::now_v7());
    for (method, path, body) in [
        (Method::GET, missing.clone(), None),
        (Method::PATCH, missing.clone(), Some(json!({"name": "x"}))),
        (Method::DELETE, missing.clone(), None),
        (Method::POST, format!("{missing}/logout"), None),
        (Method::GET, format!("{USERS}/not-a-uuid"), None),
    ] {
        let res = call(&app, method, &path, &key, body).await;
        assert_problem(res, 404, "not_found").await;
    }
}

#[tokio::test]
async fn disabling_ends_sessions_and_login_answers_like_a_wrong_password() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let tokens = app.signed_up("victim@example.test").await;
    let id = user_id(&app, &tokens.access).await;
    let path = format!("{USERS}/{id}");

    let res = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({"disabled": true})),
    )
    .await;
    let user = ok_json(res, StatusCode::OK).await;
    assert_eq!(user["disabled"], true);

    let res = app.get_auth("/v1/users/me", &tokens.access).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.refresh(&tokens.refresh).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let wrong = app
        .login("victim@example.test", "not the password at all")
        .await;
    let wrong_status = wrong.status();
    let mut wrong: Value = wrong.json().await.unwrap();
    let right = app.login("victim@example.test", PASSWORD).await;
    assert_eq!(right.status(), wrong_status);
    let mut right: Value = right.json().await.unwrap();
    wrong.as_object_mut().unwrap().remove("instance");
    right.as_object_mut().unwrap().remove("instance");
    assert_eq!(right, wrong);
    assert_eq!(right["code"], "invalid_credentials");

    let res = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.signed_in("victim@example.test").await;

    let kinds = app.state.store.audit_kinds(&id).await.unwrap();
    assert!(kinds.contains(&"user.disabled".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn patch_edits_fields_and_a_role_change_shows_after_refresh() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let tokens = app.signed_up("member@example.test").await;
    let id = user_id(&app, &tokens.access).await;
    let path = format!("{USERS}/{id}");

    let res = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({
            "role": "editor",
            "name": "Mem Ber",
            "metadata": {"a": 1},
            "app_metadata": {"tier": 2},
            "email_confirmed": false,
        })),
    )
    .await;
    let user = ok_json(res, StatusCode::OK).await;
    assert_eq!(user["role"], "editor");
    assert_eq!(user["name"], "Mem Ber");
    assert_eq!(user["metadata"], json!({"a": 1}));
    assert_eq!(user["app_metadata"], json!({"tier": 2}));
    assert_eq!(user["email_confirmed"], false);

    let res = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({"name": null})),
    )
    .await;
    let user = ok_json(res, StatusCode::OK).await;
    assert_eq!(user["name"], Value::Null);
    assert_eq!(user["role"], "editor");

    let refreshed = ok_json(app.refresh(&tokens.refresh).await, StatusCode::OK).await;
    let access = refreshed["access_token"].as_str().unwrap();
    let payload = access.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["role"], "editor", "{claims}");

    for (body, field) in [
        (json!({"role": ""}), "role"),
        (json!({"metadata": "x"}), "metadata"),
        (
            json!({"app_metadata": {"big": "x".repeat(16 * 1024)}}),
            "app_metadata",
        ),
        (json!({"email": "x@example.test"}), "email"),
    ] {
        let res = call(&app, Method::PATCH, &path, &key, Some(body)).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
}

#[tokio::test]
async fn an_admin_user_can_promote_and_the_promoted_is_admin() {
    let app = spawn_app().await;
    let admin = admin_user_token(&app, "boss@example.test").await;
    let tokens = app.signed_up("soon@example.test").await;
    let id = user_id(&app, &tokens.access).await;
    let res = app.get_auth(USERS, &tokens.access).await;
    assert_problem(res, 403, "forbidden").await;
    let res = call(
        &app,
        Method::PATCH,
        &format!("{USERS}/{id}"),
        &admin,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.get_auth(USERS, &tokens.access).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn delete_removes_the_user_and_everything_of_theirs() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let tokens = app.signed_up("gone@example.test").await;
    let id = user_id(&app, &tokens.access).await;
    // A queued reset mail and its throttle slot (a toktok challenge).
    let res = app
        .post(
            "/v1/auth/password/forgot",
            json!({"email": "gone@example.test"}),
        )
        .await;
    assert!(res.status().is_success());
    // Let dev mode write the mail out, so its link challenge exists (the
    // worker mints it at send time).
    let deadline = Instant::now() + Duration::from_secs(10);
    while app
        .state
        .store
        .outbox_rows()
        .await
        .expect("outbox")
        .iter()
        .any(|r| r.user_id.as_deref() == Some(id.as_str()))
    {
        assert!(Instant::now() < deadline, "the reset mail is never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let path = format!("{USERS}/{id}");

    let res = call(&app, Method::DELETE, &path, &key, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get_auth(&path, &key).await;
    assert_problem(res, 404, "not_found").await;
    let res = call(&app, Method::DELETE, &path, &key, None).await;
    assert_problem(res, 404, "not_found").await;
    let res = app.login("gone@example.test", PASSWORD).await;
    assert_problem(res, 401, "invalid_credentials").await;
    let res = app.get_auth("/v1/users/me", &tokens.access).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.refresh(&tokens.refresh).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let (sessions, challenges, mail) = (
        app.sql_count(&format!(
            "SELECT count(*) FROM sessions WHERE user_id = '{id}'"
        ))
        .await,
        app.sql_count(&format!(
            "SELECT count(*) FROM challenges WHERE id = '{id}'"
        ))
        .await,
        app.sql_count(&format!(
            "SELECT count(*) FROM outbox WHERE user_id = '{id}'"
        ))
        .await,
    );
    assert_eq!((sessions, challenges, mail), (0, 0, 0));
    let kinds = app.state.store.audit_kinds(&id).await.unwrap();
    assert_eq!(kinds.last().map(String::as_str), Some("user.deleted"));
}

#[tokio::test]
async fn force_logout_ends_every_session() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let one = app.signed_up("many@example.test").await;
    let two = app.signed_in("many@example.test").await;
    let id = user_id(&app, &one.access).await;

    let res = call(
        &app,
        Method::POST,
        &format!("{USERS}/{id}/logout"),
        &key,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for tokens in [&one, &two] {
        let res = app.get_auth("/v1/users/me", &tokens.access).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = app.refresh(&tokens.refresh).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The account itself still works.
    app.signed_in("many@example.test").await;
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_names_the_actor() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let admin = admin_user_token(&app, "boss@example.test").await;
    let admin_id = user_id(&app, &admin).await;
    let tokens = app.signed_up("watched@example.test").await;
    let id = user_id(&app, &tokens.access).await;
    let path = format!("{USERS}/{id}");
    call(&app, Method::PATCH, &path, &key, Some(json!({"name": "A"}))).await;
    call(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some(json!({"name": "B"})),
    )
    .await;
    call(&app, Method::POST, &format!("{path}/logout"), &key, None).await;

    let q = format!("/v1/admin/audit?user_id={id}");
    let body = ok_json(app.get_auth(&q, &key).await, StatusCode::OK).await;
    let events = body["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "sessions.ended_all",
            "user.updated",
            "user.updated",
            "login.succeeded",
            "user.registered"
        ]
    );
    assert!(events.iter().all(|e| e["user_id"] == id.as_str()));
    let ended = &events[0];
    assert!(ended["actor"].as_str().unwrap().starts_with("api_key:"));
    assert_eq!(events[1]["actor"], format!("user:{admin_id}"));
    assert!(events[2]["actor"].as_str().unwrap().starts_with("api_key:"));
    assert_eq!(events[3]["actor"], Value::Null);
    assert!(chrono_like(events[0]["at"].as_str().unwrap()));
    assert!(ended["ip"].is_string());
    assert!(ended["detail"].is_object());

    let q = format!("/v1/admin/audit?user_id={id}&kind=user.updated");
    let body = ok_json(app.get_auth(&q, &key).await, StatusCode::OK).await;
    assert_eq!(body["events"].as_array().unwrap().len(), 2);

    // Paging, newest first, two at a time.
    let mut collected = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut q = format!("/v1/admin/audit?user_id={id}&limit=2");
        if let Some(after) = &next {
            q.push_str(&format!("&after={after}"));
        }
        let body = ok_json(app.get_auth(&q, &key).await, StatusCode::OK).await;
        for e in body["events"].as_array().unwrap() {
            collected.push(e["kind"].as_str().unwrap().to_owned());
        }
        match body["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(collected, kinds);
}

/// `2024-01-02T03:04:05Z`-shaped.
fn chrono_like(text: &str) -> bool {
    text.len() >= 20 && text.as_bytes()[4] == b'-' && text.as_bytes()[10] == b'T'
}

#[tokio::test]
async fn old_audit_events_are_swept() {
    let app = spawn_app().await;
    let tokens = app.signed_up("old@example.test").await;
    let id = user_id(&app, &tokens.access).await;
    assert!(!app.state.store.audit_kinds(&id).await.unwrap().is_empty());
    app.clock.advance(89 * 86_400);
    toktok::server::sweep_once(&app.state).await;
    assert!(!app.state.store.audit_kinds(&id).await.unwrap().is_empty());
    app.clock.advance(2 * 86_400);
    toktok::server::sweep_once(&app.state).await;
    assert!(app.state.store.audit_kinds(&id).await.unwrap().is_empty());
}
