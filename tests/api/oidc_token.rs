//! The OpenID Connect provider's token side (issue 19, docs/oidc.md
//! "Tokens"): `/oauth/token`, `/oauth/userinfo`, `/oauth/revoke`,
//! `/oauth/introspect`. Codes are stored the way the authorize endpoint
//! stores them (`Store::insert_oauth_code`), for a user's toktok session
//! standing in for the browser session.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use toktok::oidc::pkce::challenge_of;
use toktok::store::{AuditEvent, CodeRow};

use crate::helpers::{spawn_app_with, TestApp};

const ON: &str = "[oidc]\nenabled = true\n";
const REDIRECT: &str = "https://wiki.example.com/oauth/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

async fn oidc_app() -> TestApp {
    spawn_app_with(ON).await
}

/// A registered client: its id and (confidential) secret.
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
}

pub(crate) async fn client(app: &TestApp, extra: Value) -> Client {
    let key = app.api_key(&["admin"]).await;
    let mut body = json!({
        "name": "Wiki",
        "type": "confidential",
        "redirect_uris": [REDIRECT],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app
        .request(
            Method::POST,
            "/v1/admin/oauth-clients",
            Some(&key),
            Some(body),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    Client {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
    }
}

pub(crate) async fn confidential(app: &TestApp) -> Client {
    client(app, json!({})).await
}

async fn public(app: &TestApp) -> Client {
    client(app, json!({ "type": "public" })).await
}

pub(crate) fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A signed-up user: the browser session id and the user id.
async fn user(app: &TestApp, email: &str) -> (String, String) {
    let tokens = app.signed_up(email).await;
    let claims = claims_of(&tokens.access);
    (
        claims["sid"].as_str().unwrap().to_owned(),
        claims["sub"].as_str().unwrap().to_owned(),
    )
}

/// Stores a code for `client_id` as the authorize endpoint would.
pub(crate) async fn code_for(
    app: &TestApp,
    client_id: &str,
    sid: &str,
    uid: &str,
    scope: &str,
) -> String {
    let code = format!("code-{}", uuid::Uuid::new_v4());
    let now = app.state.now();
    let row = CodeRow {
        code_hash: toktok::auth::sha256_hex(&code),
        client_id: client_id.to_owned(),
        user_id: uid.to_owned(),
        session_id: sid.to_owned(),
        redirect_uri: REDIRECT.to_owned(),
        scope: scope.to_owned(),
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
        code_challenge: challenge_of(VERIFIER),
        auth_time: now - 5,
        amr: vec!["pwd".to_owned()],
        aal: 1,
        created_at: now,
        expires_at: now + 60,
    };
    let event = AuditEvent {
        at: now,
        kind: "oauth.authorized",
        user_id: Some(uid.to_owned()),
        actor: None,
        ip: None,
        user_agent: None,
        detail: json!({}),
    };
    app.state.store.insert_oauth_code(row, event).await.unwrap();
    code
}

/// A user with a fresh code for `client`, scope `openid email profile`.
pub(crate) async fn user_and_code(
    app: &TestApp,
    client: &Client,
    email: &str,
) -> (String, String, String) {
    let (sid, uid) = user(app, email).await;
    let code = code_for(app, &client.id, &sid, &uid, "openid email profile").await;
    (code, sid, uid)
}

/// POSTs a form to `path`, authenticating `client` with Basic when it has
/// a secret and with `client_id` in the body otherwise.
pub(crate) async fn post_form(
    app: &TestApp,
    path: &str,
    client: &Client,
    form: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    let mut req = app.client.post(app.url(path));
    match &client.secret {
        Some(secret) => {
            let basic = STANDARD.encode(format!("{}:{}", client.id, secret));
            req = req.header("Authorization", format!("Basic {basic}"));
        }
        None => fields.push(("client_id", &client.id)),
    }
    let res = req.form(&fields).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

pub(crate) async fn exchange(app: &TestApp, client: &Client, code: &str) -> (StatusCode, Value) {
    let (status, _, body) = post_form(
        app,
        "/oauth/token",
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    (status, body)
}

pub(crate) async fn refresh(app: &TestApp, client: &Client, token: &str) -> (StatusCode, Value) {
    let (status, _, body) = post_form(
        app,
        "/oauth/token",
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await;
    (status, body)
}

async fn userinfo(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_auth("/oauth/userinfo", token).await
}

fn assert_oauth_error(status: StatusCode, body: &Value, want: u16, error: &str) {
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

#[tokio::test]
async fn a_code_gives_tokens_once_and_the_answer_is_not_cached() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, _, uid) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (status, headers, body) = post_form(
        &app,
        "/oauth/token",
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid email profile");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("rt_"));
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(access["client_id"], wiki.id);
    assert_eq!(access["sub"], uid);
    assert_eq!(access["scope"], "openid email profile");
    assert!(access.get("email").is_none(), "user data only via scopes");
    let events = app
        .sql("SELECT kind FROM audit_events WHERE kind = 'oauth.token_issued'")
        .await;
    assert_eq!(events.len(), 1);
    let metrics = app
        .client
        .get(app.metrics_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "toktok_oauth_tokens_total{grant=\"authorization_code\",outcome=\"issued\"} 1"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_kills_what_it_issued() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, _, _) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (status, first) = exchange(&app, &wiki, &code).await;
    assert_eq!(status, StatusCode::OK);
    let (status, again) = exchange(&app, &wiki, &code).await;
    assert_oauth_error(status, &again, 400, "invalid_grant");
    // The first exchange's tokens die with it.
    let (status, body) = refresh(&app, &wiki, first["refresh_token"].as_str().unwrap()).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let res = userinfo(&app, first["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let reason = app
        .sql("SELECT revoked_reason FROM sessions WHERE client_id IS NOT NULL")
        .await;
    assert_eq!(reason[0][0], "code_replayed");
    let events = app
        .sql("SELECT kind FROM audit_events WHERE kind = 'oauth.code_replayed'")
        .await;
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn a_code_is_refused_to_another_client_and_is_used_up() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let other = confidential(&app).await;
    let (code, _, _) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (status, body) = exchange(&app, &other, &code).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let (status, body) = exchange(&app, &wiki, &code).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_code_is_refused_with_another_redirect_uri() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, _, _) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (status, _, body) = post_form(
        &app,
        "/oauth/token",
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://wiki.example.com/oauth/callback/"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_code_is_refused_with_a_wrong_or_missing_verifier() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, sid, uid) = user_and_code(&app, &wiki, "ada@example.test").await;
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
    let (status, _, body) = post_form(
        &app,
        "/oauth/token",
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", wrong),
        ],
    )
    .await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let code = code_for(&app, &wiki.id, &sid, &uid, "openid").await;
    let (status, _, body) = post_form(
        &app,
        "/oauth/token",
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    // Used up by the refusal: the right verifier is too late now.
    let (status, body) = exchange(&app, &wiki, &code).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_code_expires_after_sixty_seconds() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, _, _) = user_and_code(&app, &wiki, "ada@example.test").await;
    app.clock.advance(60);
    let (status, body) = exchange(&app, &wiki, &code).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_code_exchanged_twice_at_once_gives_tokens_once() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, _, _) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (a, b) = tokio::join!(exchange(&app, &wiki, &code), exchange(&app, &wiki, &code));
    let ok = [a.0, b.0].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{a:?} {b:?}");
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let app = oidc_app().await;
    let spa = public(&app).await;
    let (status, _, body) = post_form(
        &app,
        "/oauth/token",
        &spa,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(status, &body, 400, "unauthorized_client");
}

#[tokio::test]
async fn client_credentials_name_the_client_as_subject() {
    let app = oidc_app().await;
    let service = client(
        &app,
        json!({ "grant_types": ["client_credentials"], "audience": "https://api.example.com" }),
    )
    .await;
    let (status, _, body) = post_form(
        &app,
        "/oauth/token",
        &service,
        &[("grant_type", "client_credentials"), ("scope", "email")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("id_token").is_none());
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], service.id);
    assert_eq!(claims["client_id"], service.id);
    assert_eq!(claims["aud"], "https://api.example.com");
    assert_eq!(claims["scope"], "email");
    // No user scope that needs a user.
    let (status, _, body) = post_form(
        &app,
        "/oauth/token",
        &service,
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    assert_oauth_error(status, &body, 400, "invalid_scope");
    // A wrong secret.
    let wrong = Client {
        id: service.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let (status, headers, body) = post_form(
        &app,
        "/oauth/token",
        &wrong,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(status, &body, 401, "invalid_client");
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
}

#[tokio::test]
async fn two_client_authentication_methods_at_once_are_refused() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let secret = wiki.secret.clone().unwrap();
    let (status, _, body) = post_form(
        &app,
        "/oauth/token",
        &wiki,
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_oauth_error(status, &body, 400, "invalid_request");
    // client_secret_post alone is fine (the grant is not registered).
    let post = Client {
        id: wiki.id.clone(),
        secret: None,
    };
    let (status, _, body) = post_form(
        &app,
        "/oauth/token",
        &post,
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_oauth_error(status, &body, 400, "unauthorized_client");
    // And a confidential client without its secret is not a client.
    let (status, headers, body) = post_form(
        &app,
        "/oauth/token",
        &post,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(status, &body, 401, "invalid_client");
    assert!(headers.get("www-authenticate").is_none());
}

#[tokio::test]
async fn a_refresh_token_of_one_client_is_refused_to_another() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let other = confidential(&app).await;
    let (code, _, _) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (_, tokens) = exchange(&app, &wiki, &code).await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&app, &other, rt).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    // Untouched: its own client still rotates it.
    let (status, body) = refresh(&app, &wiki, rt).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // And toktok's own refresh refuses a client's token.
    let res = app.refresh(body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session() {
    let app = oidc_app().await;
    let spa = public(&app).await;
    let (code, sid, _) = user_and_code(&app, &spa, "ada@example.test").await;
    let (status, first) = exchange(&app, &spa, &code).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let rt1 = first["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&app, &spa, rt1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    // A fresh ID token, same browser session, no nonce.
    let id = claims_of(second["id_token"].as_str().unwrap());
    assert_eq!(id["sid"], sid);
    assert!(id.get("nonce").is_none());
    // Past the reuse grace, the old token is a theft: the family ends.
    app.clock.advance(60);
    let (status, body) = refresh(&app, &spa, rt1).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let (status, body) = refresh(&app, &spa, rt2).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn the_id_token_verifies_with_the_jwks_and_carries_every_claim() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, sid, uid) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (status, body) = exchange(&app, &wiki, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&wiki.id]);
    validation.set_issuer(&["http://127.0.0.1:8080"]);
    // The test clock is not the wall clock.
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims;
    for name in [
        "iss",
        "sub",
        "aud",
        "azp",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "amr",
        "acr",
        "sid",
    ] {
        assert!(claims.get(name).is_some(), "{name} in {claims}");
    }
    assert_eq!(claims["sub"], uid);
    assert_eq!(claims["azp"], wiki.id);
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["acr"], "aal1");
    assert_eq!(claims["email"], "ada@example.test");
}

#[tokio::test]
async fn userinfo_answers_what_the_scopes_allow() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (sid, uid) = user(&app, "ada@example.test").await;
    let code = code_for(&app, &wiki.id, &sid, &uid, "openid email").await;
    let (_, body) = exchange(&app, &wiki, &code).await;
    let access = body["access_token"].as_str().unwrap();
    let res = userinfo(&app, access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let info: Value = res.json().await.unwrap();
    assert_eq!(
        info,
        json!({ "sub": uid, "email": "ada@example.test", "email_verified": false })
    );
    // POST with the token in the form.
    let res = app
        .client
        .post(app.url("/oauth/userinfo"))
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Without openid: 403 insufficient_scope.
    let code = code_for(&app, &wiki.id, &sid, &uid, "email").await;
    let (_, body) = exchange(&app, &wiki, &code).await;
    let res = userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
    // toktok's own token is not a client's.
    let own = app.signed_in("ada@example.test").await;
    let res = userinfo(&app, &own.access).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
}

#[tokio::test]
async fn revoking_ends_the_clients_session_and_nothing_of_others() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let other = confidential(&app).await;
    let (code, _, _) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (_, tokens) = exchange(&app, &wiki, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    // Another client's revocation: 200, and nothing changes.
    let (status, _, _) = post_form(&app, "/oauth/revoke", &other, &[("token", rt)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(userinfo(&app, access).await.status(), StatusCode::OK);
    let (status, _, _) = post_form(&app, "/oauth/revoke", &wiki, &[("token", "junk")]).await;
    assert_eq!(status, StatusCode::OK);
    // Its own: the session ends.
    let (status, _, _) = post_form(&app, "/oauth/revoke", &wiki, &[("token", rt)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        userinfo(&app, access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = refresh(&app, &wiki, rt).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn introspection_is_for_confidential_clients_and_their_tokens() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let other = confidential(&app).await;
    let spa = public(&app).await;
    let (code, sid, uid) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (_, tokens) = exchange(&app, &wiki, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = post_form(&app, "/oauth/introspect", &spa, &[("token", access)]).await;
    assert_oauth_error(status, &body, 401, "invalid_client");
    let (status, _, body) =
        post_form(&app, "/oauth/introspect", &other, &[("token", access)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "active": false }));
    let (status, _, body) = post_form(&app, "/oauth/introspect", &wiki, &[("token", access)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], wiki.id);
    assert_eq!(body["sub"], uid);
    assert_eq!(body["scope"], "openid email profile");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["sid"].is_string() && body["sid"] != sid);
    let rt = tokens["refresh_token"].as_str().unwrap();
    let (_, _, body) = post_form(&app, "/oauth/introspect", &wiki, &[("token", rt)]).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "refresh_token");
}

#[tokio::test]
async fn a_client_token_is_refused_on_toktoks_own_api() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, _, _) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (_, tokens) = exchange(&app, &wiki, &code).await;
    let res = app
        .get_auth("/v1/users/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_disabled_users_refresh_is_refused() {
    let app = oidc_app().await;
    let wiki = confidential(&app).await;
    let (code, _, uid) = user_and_code(&app, &wiki, "ada@example.test").await;
    let (_, tokens) = exchange(&app, &wiki, &code).await;
    let key = app.api_key(&["admin"]).await;
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{uid}"),
            Some(&key),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = refresh(&app, &wiki, tokens["refresh_token"].as_str().unwrap()).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn with_oidc_off_the_token_routes_answer_feature_disabled() {
    let app = spawn_app_with("").await;
    for path in [
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/introspect",
        "/oauth/userinfo",
    ] {
        let res = app
            .client
            .post(app.url(path))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "feature_disabled", "{path}");
    }
}
