//! OAuth clients (`/v1/admin/oauth-clients*`), users' grants to them
//! (`/v1/users/me/apps*`) and `toktok client` (docs/API.md "OpenID Connect
//! provider", docs/oidc.md "Clients").

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cli::{text, toktok};
use crate::helpers::{assert_problem, spawn_app_with, spawn_in, TestApp, PASSWORD};

const ON: &str = "[oidc]\nenabled = true\n";

async fn oidc_app() -> TestApp {
    spawn_app_with(ON).await
}

fn wiki() -> Value {
    json!({
        "name": "Wiki",
        "type": "confidential",
        "redirect_uris": ["https://wiki.example.com/oauth/callback"],
    })
}

async fn create(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.request(
        Method::POST,
        "/v1/admin/oauth-clients",
        Some(key),
        Some(body),
    )
    .await
}

async fn created(app: &TestApp, key: &str, body: Value) -> Value {
    let res = create(app, key, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

/// The session id an access token names.
fn sid(access: &str) -> String {
    let payload = access.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

fn sha256_hex(s: &str) -> String {
    toktok::auth::sha256_hex(s)
}

#[tokio::test]
async fn a_confidential_client_is_created_with_its_secret_shown_once() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let client = created(&app, &key, wiki()).await;
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "256 bits, base64url");
    assert_eq!(client["type"], "confidential");
    assert_eq!(
        client["redirect_uris"],
        json!(["https://wiki.example.com/oauth/callback"])
    );
    assert_eq!(client["post_logout_redirect_uris"], json!([]));
    assert_eq!(
        client["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        client["scopes"],
        json!(["openid", "profile", "email", "offline_access"])
    );
    assert_eq!(client["audience"], Value::Null);
    assert_eq!(client["skip_consent"], false);
    assert_eq!(client["id_token_signed_response_alg"], "RS256");
    assert!(client["created_at"].as_str().unwrap().ends_with('Z'));
    // Only the hash is stored.
    let stored = app
        .sql(&format!(
            "SELECT secret_hash FROM oauth_clients WHERE client_id = '{id}'"
        ))
        .await;
    assert_eq!(stored[0][0], sha256_hex(secret));
    assert_ne!(stored[0][0], secret);
    // Never again: not by GET, not in the list.
    let one: Value = app
        .get_auth(&format!("/v1/admin/oauth-clients/{id}"), &key)
        .await
        .json()
        .await
        .unwrap();
    assert!(one.get("client_secret").is_none(), "{one}");
    assert!(one.get("secret_hash").is_none(), "{one}");
    assert_eq!(one["name"], "Wiki");
    let list: Value = app
        .get_auth("/v1/admin/oauth-clients", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["clients"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));
    assert!(list["clients"][0].get("client_secret").is_none());
    // Audited, with who did it.
    let audit: Value = app
        .get_auth("/v1/admin/audit?kind=oauth.client_created", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["events"][0]["detail"]["client_id"], id);
    assert!(audit["events"][0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("api_key:"));
}

#[tokio::test]
async fn a_public_client_has_no_secret_and_its_secret_cannot_be_rotated() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let client = created(
        &app,
        &key,
        json!({
            "name": "SPA",
            "type": "public",
            "redirect_uris": ["http://localhost:5173/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb"],
            "scopes": ["openid"],
        }),
    )
    .await;
    assert!(client.get("client_secret").is_none(), "{client}");
    let id = client["client_id"].as_str().unwrap();
    let stored = app
        .sql(&format!(
            "SELECT secret_hash FROM oauth_clients WHERE client_id = '{id}'"
        ))
        .await;
    assert_eq!(stored[0][0], "NULL");
    let res = app
        .request(
            Method::POST,
            &format!("/v1/admin/oauth-clients/{id}/secret"),
            Some(&key),
            None,
        )
        .await;
    assert_problem(res, 409, "conflict").await;
}

#[tokio::test]
async fn rotating_a_secret_replaces_the_stored_hash() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let client = created(&app, &key, wiki()).await;
    let id = client["client_id"].as_str().unwrap();
    let old = client["client_secret"].as_str().unwrap();
    let res = app
        .request(
            Method::POST,
            &format!("/v1/admin/oauth-clients/{id}/secret"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(rotated["client_id"], id);
    let stored = app
        .sql(&format!(
            "SELECT secret_hash FROM oauth_clients WHERE client_id = '{id}'"
        ))
        .await;
    assert_eq!(stored[0][0], sha256_hex(new));
    let n = app
        .sql_count("SELECT count(*) FROM audit_events WHERE kind = 'oauth.client_secret_rotated'")
        .await;
    assert_eq!(n, 1);
    let res = app
        .request(
            Method::POST,
            "/v1/admin/oauth-clients/nope/secret",
            Some(&key),
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn patch_changes_the_fields_given_and_keeps_the_rest() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let client = created(&app, &key, wiki()).await;
    let id = client["client_id"].as_str().unwrap();
    let path = format!("/v1/admin/oauth-clients/{id}");
    let res = app
        .request(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({
                "name": "Wiki 2",
                "redirect_uris": ["https://wiki.example.com/cb2", "http://localhost:3000/cb"],
                "post_logout_redirect_uris": ["https://wiki.example.com/"],
                "grant_types": ["authorization_code", "client_credentials"],
                "scopes": ["openid", "email"],
                "audience": "https://api.example.com",
                "skip_consent": true,
                "id_token_signed_response_alg": "EdDSA",
            })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let got: Value = res.json().await.unwrap();
    assert_eq!(got["name"], "Wiki 2");
    assert_eq!(
        got["redirect_uris"],
        json!(["https://wiki.example.com/cb2", "http://localhost:3000/cb"])
    );
    assert_eq!(
        got["post_logout_redirect_uris"],
        json!(["https://wiki.example.com/"])
    );
    assert_eq!(
        got["grant_types"],
        json!(["authorization_code", "client_credentials"])
    );
    assert_eq!(got["scopes"], json!(["openid", "email"]));
    assert_eq!(got["audience"], "https://api.example.com");
    assert_eq!(got["skip_consent"], true);
    assert_eq!(got["id_token_signed_response_alg"], "EdDSA");
    assert_eq!(got["type"], "confidential");
    assert_eq!(got["created_at"], client["created_at"]);
    // `null` clears the audience; what is absent stays.
    let got: Value = app
        .request(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({ "audience": null })),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["audience"], Value::Null);
    assert_eq!(got["name"], "Wiki 2");
    // The stored secret is untouched by a change.
    let stored = app
        .sql(&format!(
            "SELECT secret_hash FROM oauth_clients WHERE client_id = '{id}'"
        ))
        .await;
    assert_eq!(
        stored[0][0],
        sha256_hex(client["client_secret"].as_str().unwrap())
    );
    // The type cannot change; bad values are refused as on creation.
    let res = app
        .request(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({ "type": "public" })),
        )
        .await;
    assert!(res.status().is_client_error());
    let res = app
        .request(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({ "redirect_uris": ["https://wiki.example.com/*"] })),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "redirect_uris[0]");
    let res = app
        .request(
            Method::PATCH,
            "/v1/admin/oauth-clients/nope",
            Some(&key),
            Some(json!({ "name": "x" })),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let n = app
        .sql_count("SELECT count(*) FROM audit_events WHERE kind = 'oauth.client_updated'")
        .await;
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_public_client_cannot_get_client_credentials_by_patch_either() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let mut body = wiki();
    body["type"] = json!("public");
    let client = created(&app, &key, body).await;
    let id = client["client_id"].as_str().unwrap();
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/oauth-clients/{id}"),
            Some(&key),
            Some(json!({ "grant_types": ["client_credentials"] })),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "grant_types");
}

#[tokio::test]
async fn every_bad_field_is_refused_by_name() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let cases: &[(Value, &str)] = &[
        (
            json!({ "redirect_uris": ["https://app.example.com/*"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "redirect_uris": ["https://*.example.com/cb"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "redirect_uris": ["https://app.example.com/cb#frag"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "redirect_uris": ["https://good@evil.example"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "redirect_uris": ["https://good:pw@evil.example/cb"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "redirect_uris": ["http://app.example.com/cb"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "redirect_uris": ["/oauth/callback"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "redirect_uris": ["app.example.com/cb"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "redirect_uris": ["https://ok.example/cb", "ftp://x.example/"] }),
            "redirect_uris[1]",
        ),
        (json!({ "redirect_uris": [] }), "redirect_uris"),
        (
            json!({ "post_logout_redirect_uris": ["http://evil.example/"] }),
            "post_logout_redirect_uris[0]",
        ),
        (
            json!({ "type": "public", "grant_types": ["client_credentials"] }),
            "grant_types",
        ),
        (json!({ "grant_types": ["implicit"] }), "grant_types[0]"),
        (json!({ "grant_types": [] }), "grant_types"),
        (json!({ "scopes": ["admin"] }), "scopes[0]"),
        (json!({ "type": "service" }), "type"),
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x".repeat(101) }), "name"),
        (json!({ "name": "tab\there" }), "name"),
        (json!({ "audience": "" }), "audience"),
        (json!({ "audience": "a".repeat(257) }), "audience"),
        (
            json!({ "id_token_signed_response_alg": "HS256" }),
            "id_token_signed_response_alg",
        ),
    ];
    for (change, field) in cases {
        let mut body = wiki();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = create(&app, &key, body.clone()).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, [*field], "{body}");
    }
    let too_many: Vec<String> = (0..21)
        .map(|i| format!("https://app.example.com/{i}"))
        .collect();
    let mut body = wiki();
    body["redirect_uris"] = json!(too_many);
    let res = create(&app, &key, body).await;
    assert_problem(res, 422, "validation_failed").await;
    assert_eq!(app.sql_count("SELECT count(*) FROM oauth_clients").await, 0);
}

#[tokio::test]
async fn redirect_uris_are_stored_exactly_as_given() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let uris = json!([
        "https://Wiki.Example.com:443/cb?x=1&y",
        "https://wiki.example.com",
        "http://localhost/cb/"
    ]);
    let mut body = wiki();
    body["redirect_uris"] = uris.clone();
    let client = created(&app, &key, body).await;
    assert_eq!(client["redirect_uris"], uris);
    let id = client["client_id"].as_str().unwrap();
    let one: Value = app
        .get_auth(&format!("/v1/admin/oauth-clients/{id}"), &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["redirect_uris"], uris);
}

#[tokio::test]
async fn with_oidc_off_the_routes_answer_feature_disabled() {
    let app = spawn_app_with("").await;
    let key = app.api_key(&["admin"]).await;
    let res = create(&app, &key, wiki()).await;
    assert_problem(res, 404, "feature_disabled").await;
    for (method, path) in [
        (Method::GET, "/v1/admin/oauth-clients"),
        (Method::GET, "/v1/admin/oauth-clients/x"),
        (Method::PATCH, "/v1/admin/oauth-clients/x"),
        (Method::DELETE, "/v1/admin/oauth-clients/x"),
        (Method::POST, "/v1/admin/oauth-clients/x/secret"),
        (Method::GET, "/v1/users/me/apps"),
        (Method::DELETE, "/v1/users/me/apps/x"),
    ] {
        let body = (method == Method::PATCH).then(|| json!({}));
        let res = app.request(method, path, Some(&key), body).await;
        assert_problem(res, 404, "feature_disabled").await;
    }
}

#[tokio::test]
async fn only_admins_manage_clients() {
    let app = oidc_app().await;
    let user = app.signed_up("plain@example.test").await;
    let res = create(&app, &user.access, wiki()).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.get_auth("/v1/admin/oauth-clients", &user.access).await;
    assert_problem(res, 403, "forbidden").await;
    let challenges = app.api_key(&["challenges"]).await;
    let res = app.get_auth("/v1/admin/oauth-clients", &challenges).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .request(Method::GET, "/v1/admin/oauth-clients", None, None)
        .await;
    assert_problem(res, 401, "unauthenticated").await;
    // An admin user (not only an admin key) may.
    toktok::accounts::create_user(
        &app.state,
        "boss@example.test",
        "admin",
        Some(PASSWORD.into()),
    )
    .await
    .unwrap();
    let admin = app.signed_in("boss@example.test").await;
    let client = created(&app, &admin.access, wiki()).await;
    assert!(client["client_secret"].is_string());
}

/// A user with two sessions: `own` (toktok's) and one marked as a session
/// of `client_id`, as the authorize endpoint will make them.
async fn user_with_client_session(
    app: &TestApp,
    email: &str,
    client_id: &str,
) -> (String, String, String) {
    let own = app.signed_up(email).await;
    let other = app.signed_in(email).await;
    let granted = sid(&other.access);
    app.sql(&format!(
        "UPDATE sessions SET client_id = '{client_id}', scope = 'openid email' WHERE id = '{granted}'"
    ))
    .await;
    (own.access, granted, other.access)
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let me: Value = app
        .get_auth("/v1/users/me", token)
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().to_owned()
}

fn consent_event(user_id: &str, at: i64) -> toktok::store::AuditEvent {
    toktok::store::AuditEvent {
        at,
        kind: "oauth.consent_granted",
        user_id: Some(user_id.to_owned()),
        actor: None,
        ip: None,
        user_agent: None,
        detail: json!({}),
    }
}

#[tokio::test]
async fn a_user_lists_and_revokes_a_grant_and_its_sessions_end() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let client = created(&app, &key, wiki()).await;
    let client_id = client["client_id"].as_str().unwrap();
    let (access, granted, granted_access) =
        user_with_client_session(&app, "ada@example.test", client_id).await;
    let uid = user_id(&app, &access).await;
    let store = &app.state.store;
    let now = app.state.now();
    assert_eq!(store.consent(&uid, client_id).await.unwrap(), None);
    let scopes = store
        .grant_consent(
            &uid,
            client_id,
            vec!["openid".into(), "email".into()],
            consent_event(&uid, now),
        )
        .await
        .unwrap();
    assert_eq!(scopes, Some(vec!["openid".to_owned(), "email".to_owned()]));
    // A second grant adds to the first.
    let scopes = store
        .grant_consent(
            &uid,
            client_id,
            vec!["profile".into(), "email".into()],
            consent_event(&uid, now),
        )
        .await
        .unwrap();
    assert_eq!(
        scopes,
        Some(vec![
            "openid".to_owned(),
            "email".to_owned(),
            "profile".to_owned()
        ])
    );
    assert_eq!(store.consent(&uid, client_id).await.unwrap(), scopes);
    // No grant to a client that does not exist.
    let none = store
        .grant_consent(
            &uid,
            "nope",
            vec!["openid".into()],
            consent_event(&uid, now),
        )
        .await
        .unwrap();
    assert_eq!(none, None);

    let res = app.get_auth("/v1/users/me/apps", &access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let apps: Value = res.json().await.unwrap();
    assert_eq!(apps["apps"].as_array().unwrap().len(), 1);
    assert_eq!(apps["apps"][0]["client_id"], client_id);
    assert_eq!(apps["apps"][0]["name"], "Wiki");
    assert_eq!(
        apps["apps"][0]["scopes"],
        json!(["openid", "email", "profile"])
    );
    assert!(apps["apps"][0]["granted_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    // Another user sees none of it, and cannot revoke it.
    let eve = app.signed_up("eve@example.test").await;
    let theirs: Value = app
        .get_auth("/v1/users/me/apps", &eve.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["apps"], json!([]));
    let path = format!("/v1/users/me/apps/{client_id}");
    let res = app
        .request(Method::DELETE, &path, Some(&eve.access), None)
        .await;
    assert_problem(res, 404, "not_found").await;

    let res = app
        .request(Method::DELETE, &path, Some(&access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let rows = app
        .sql(&format!(
            "SELECT revoked_reason FROM sessions WHERE id = '{granted}'"
        ))
        .await;
    assert_eq!(rows[0][0], "consent_revoked");
    let res = app.get_auth("/v1/users/me", &granted_access).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the app's token is dead"
    );
    // toktok's own session of the user lives on.
    let res = app.get_auth("/v1/users/me", &access).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(store.consent(&uid, client_id).await.unwrap(), None);
    let apps: Value = app
        .get_auth("/v1/users/me/apps", &access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(apps["apps"], json!([]));
    let res = app
        .request(Method::DELETE, &path, Some(&access), None)
        .await;
    assert_problem(res, 404, "not_found").await;
    let n = app
        .sql_count(&format!(
            "SELECT count(*) FROM audit_events WHERE kind = 'oauth.consent_revoked' AND user_id = '{uid}'"
        ))
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn deleting_a_client_ends_its_sessions_and_grants() {
    let app = oidc_app().await;
    let key = app.api_key(&["admin"]).await;
    let client = created(&app, &key, wiki()).await;
    let client_id = client["client_id"].as_str().unwrap();
    let other = created(&app, &key, wiki()).await;
    let other_id = other["client_id"].as_str().unwrap();
    let (access, granted, granted_access) =
        user_with_client_session(&app, "ada@example.test", client_id).await;
    let (_, kept, _) = user_with_client_session(&app, "bob@example.test", other_id).await;
    let uid = user_id(&app, &access).await;
    app.state
        .store
        .grant_consent(
            &uid,
            client_id,
            vec!["openid".into()],
            consent_event(&uid, app.state.now()),
        )
        .await
        .unwrap();

    let path = format!("/v1/admin/oauth-clients/{client_id}");
    let res = app.request(Method::DELETE, &path, Some(&key), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let rows = app
        .sql(&format!(
            "SELECT revoked_reason FROM sessions WHERE id = '{granted}'"
        ))
        .await;
    assert_eq!(rows[0][0], "client_deleted");
    let res = app.get_auth("/v1/users/me", &granted_access).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the client's token is dead"
    );
    // A client's session is not accepted on toktok's own /v1 routes
    // (issue 19, the token side); whether it lives is in the table.
    let rows = app
        .sql(&format!(
            "SELECT revoked_at FROM sessions WHERE id = '{kept}'"
        ))
        .await;
    assert_eq!(rows[0][0], "NULL", "another client's session lives on");
    assert_eq!(
        app.sql_count("SELECT count(*) FROM oauth_consents").await,
        0
    );
    let res = app.get_auth(&path, &key).await;
    assert_problem(res, 404, "not_found").await;
    let res = app.request(Method::DELETE, &path, Some(&key), None).await;
    assert_problem(res, 404, "not_found").await;
    let n = app
        .sql_count("SELECT count(*) FROM audit_events WHERE kind = 'oauth.client_deleted'")
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_cli_registers_lists_and_deletes_clients_with_oidc_off() {
    let dir = tempfile::tempdir().unwrap();
    let out = toktok(
        dir.path(),
        &[
            "client",
            "create",
            "--name",
            "Wiki",
            "--redirect-uri",
            "https://wiki.example.com/cb",
            "--redirect-uri",
            "http://localhost:8000/cb",
            "--scope",
            "openid",
            "--scope",
            "email",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "client_id and secret: {stdout}");
    let (id, secret) = (lines[0], lines[1]);
    assert!(text(&out.stderr).contains("shown only once"));

    let out = toktok(
        dir.path(),
        &[
            "client",
            "create",
            "--name",
            "SPA",
            "--redirect-uri",
            "http://127.0.0.1:5173/cb",
            "--public",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let public_id = text(&out.stdout).trim().to_owned();
    assert!(!public_id.contains('\n'), "a public client has no secret");

    // Refusals name the option.
    let out = toktok(
        dir.path(),
        &[
            "client",
            "create",
            "--name",
            "Bad",
            "--redirect-uri",
            "https://bad.example/cb#x",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--redirect-uri"),
        "{}",
        text(&out.stderr)
    );
    let out = toktok(
        dir.path(),
        &[
            "client",
            "create",
            "--name",
            "Bad",
            "--redirect-uri",
            "https://b.example/",
            "--scope",
            "admin",
        ],
        None,
    );
    assert!(!out.status.success());

    let out = toktok(dir.path(), &["client", "list"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = text(&out.stdout);
    assert!(list.contains(id) && list.contains(&public_id), "{list}");
    assert!(list.contains("https://wiki.example.com/cb"));
    assert!(!list.contains(secret));

    let app = spawn_in(dir, ON).await;
    let key = app.api_key(&["admin"]).await;
    let client: Value = app
        .get_auth(&format!("/v1/admin/oauth-clients/{id}"), &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(client["name"], "Wiki");
    assert_eq!(client["type"], "confidential");
    assert_eq!(client["scopes"], json!(["openid", "email"]));
    let stored = app
        .sql(&format!(
            "SELECT secret_hash FROM oauth_clients WHERE client_id = '{id}'"
        ))
        .await;
    assert_eq!(stored[0][0], sha256_hex(secret));
    let actors = app
        .sql("SELECT actor FROM audit_events WHERE kind = 'oauth.client_created'")
        .await;
    assert_eq!(actors.len(), 2);
    assert!(actors.iter().all(|r| r[0] == "cli"));

    let out = toktok(app.dir.path(), &["client", "delete", id], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let res = app
        .get_auth(&format!("/v1/admin/oauth-clients/{id}"), &key)
        .await;
    assert_problem(res, 404, "not_found").await;
    let out = toktok(app.dir.path(), &["client", "delete", id], None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no OAuth client"));
}
