//! Issue 26: one authorization matrix over every route the router serves
//! (`toktok::http::operations()`, taken from the router itself) × every
//! kind of caller.
//!
//! Each cell is one request: the route's path with real ids filled in
//! (the signed-in user's own resources where she has them, so "other
//! user" asks for someone else's), a body ([`body`]), and the caller's
//! credential as a bearer token. Its status must be the one in
//! [`EXPECTED`]; a route without a row there, or a row without a route,
//! fails the test. Authentication and authorization run before the body
//! is read (axum's extractors: the parts first, the body last), so a
//! refused caller gets 401 or 403 whatever the body; but the checks that
//! depend on the session and the account (a recent sign-in, `aal` 2
//! beside a factor, the current password) come after the body's, so the
//! routes that have them get a valid body, and each caller meets them.
//! That is how the matrix found that a session at `aal` 1 of a user with
//! TOTP could change the password and the email, and delete the account,
//! with the password alone (now 403, docs/sign-in.md).
//!
//! The pages outside the OpenAPI document (account center, console,
//! assets) have their own matrix, with browser callers: authz_pages.rs.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, Tokens, PASSWORD};
use crate::oidc_token::{claims_of, confidential, exchange, user_and_code};

/// Every feature a route can sit behind, on; users of role `staff` must
/// enrol a second factor before anything else.
const CONFIG: &str = "[anonymous]\nenabled = true\n[oidc]\nenabled = true\n\
                      [email_code]\nenabled = true\n[rsa]\nenabled = true\n\
                      [mfa]\nrequired_roles = [\"staff\"]\n";

/// The kinds of caller, in the order the cells run for a route: the ones
/// a request could harm (by signing out or deleting) come after those it
/// could not.
const CALLERS: &[&str] = &[
    "nobody",
    "anonymous token",
    "API key: challenges",
    "disabled user",
    "deleted user",
    "refresh token",
    "ID token",
    "OIDC client token",
    "OIDC user token",
    "must enrol a factor",
    "other user",
    "user, aal 1",
    "user with TOTP, aal 1",
    "user, aal 2",
    "admin user",
    "API key: admin",
];

/// Credentials no request of the matrix can spend (made for each route
/// all the same, as they expire).
struct Shared {
    anonymous: String,
    challenges_key: String,
    admin_key: String,
    disabled: String,
    deleted: String,
    id_token: String,
    client_token: String,
    oidc_access: String,
}

/// Made again for each route: the users a request may sign out or delete.
struct Fresh {
    ann: Tokens,
    ann_id: String,
    ann_sid: String,
    bob: Tokens,
    staff: String,
    totp_aal1: String,
    aal2: Tokens,
    admin: Tokens,
    client_id: String,
    webhook_id: String,
}

async fn json_of(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn user_id(app: &TestApp, access: &str) -> String {
    json_of(app.get_auth("/v1/users/me", access).await).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn admin_patch(app: &TestApp, key: &str, id: &str, body: Value) {
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{id}"),
            Some(key),
            Some(body),
        )
        .await;
    json_of(res).await;
}

async fn shared(app: &TestApp, n: usize) -> Shared {
    let admin_key = app.api_key(&["admin"]).await;
    let challenges_key = app.api_key(&["challenges"]).await;
    let anonymous = json_of(app.post("/v1/auth/anonymous", json!({})).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Tokens issued before their user was disabled, or deleted.
    let disabled = app
        .signed_up(&format!("disabled{n}@example.com"))
        .await
        .access;
    let id = user_id(app, &disabled).await;
    admin_patch(app, &admin_key, &id, json!({ "disabled": true })).await;
    let deleted = app
        .signed_up(&format!("deleted{n}@example.com"))
        .await
        .access;
    let id = user_id(app, &deleted).await;
    let res = app
        .request(
            Method::DELETE,
            &format!("/v1/admin/users/{id}"),
            Some(&admin_key),
            None,
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    // An ID token, from a code exchange of a client.
    let client = confidential(app).await;
    let (code, _, _) = user_and_code(app, &client, &format!("oidc{n}@example.com")).await;
    let (status, body) = exchange(app, &client, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id_token = body["id_token"].as_str().unwrap().to_owned();
    let oidc_access = body["access_token"].as_str().unwrap().to_owned();
    // A client's own access token (client_credentials).
    let created = json_of(
        app.request(
            Method::POST,
            "/v1/admin/oauth-clients",
            Some(&admin_key),
            Some(json!({
                "name": "Service",
                "type": "confidential",
                "redirect_uris": ["https://service.example.com/cb"],
                "grant_types": ["authorization_code", "client_credentials"],
            })),
        )
        .await,
    )
    .await;
    let client_id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let basic = STANDARD.encode(format!("{client_id}:{secret}"));
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header("Authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let client_token = json_of(res).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    Shared {
        anonymous,
        challenges_key,
        admin_key,
        disabled,
        deleted,
        id_token,
        client_token,
        oidc_access,
    }
}

/// A new user given `role` by the admin API, then signed in (so the
/// session has the role from its start).
async fn with_role(app: &TestApp, shared: &Shared, email: &str, role: &str) -> Tokens {
    let id = user_id(app, &app.signed_up(email).await.access).await;
    admin_patch(app, &shared.admin_key, &id, json!({ "role": role })).await;
    json_of(app.login(email, PASSWORD).await).await.into()
}

async fn fresh(app: &TestApp, shared: &Shared, n: usize, route: &str) -> Fresh {
    let ann = app.signed_up(&format!("ann{n}@example.com")).await;
    let claims = claims_of(&ann.access);
    let ann_id = claims["sub"].as_str().unwrap().to_owned();
    let ann_sid = claims["sid"].as_str().unwrap().to_owned();
    let bob = app.signed_up(&format!("bob{n}@example.com")).await;
    // A session at aal 1 of a user with a second factor: signed in on a
    // second device before the factor was enrolled on the first.
    let email = format!("totp{n}@example.com");
    let first = app.signed_up(&email).await;
    let second: Tokens = json_of(app.login(&email, PASSWORD).await).await.into();
    crate::totp::enrol(app, &first.access).await;
    // A user signed in with a password and a TOTP code.
    let email = format!("mfa{n}@example.com");
    let first = app.signed_up(&email).await;
    let (secret, step, _) = crate::totp::enrol(app, &first.access).await;
    let login = json_of(app.login(&email, PASSWORD).await).await;
    let mfa_token = login["mfa_token"].as_str().unwrap();
    let aal2: Tokens = json_of(
        app.post(
            "/v1/auth/mfa",
            json!({ "mfa_token": mfa_token, "totp": crate::totp::code(&secret, step + 1) }),
        )
        .await,
    )
    .await
    .into();
    let admin = with_role(app, shared, &format!("admin{n}@example.com"), "admin").await;
    // A user whose role must enrol a second factor first: signed in, the
    // session may only enrol.
    let staff = with_role(app, shared, &format!("staff{n}@example.com"), "staff")
        .await
        .access;
    // A client of their own, and a webhook for the routes that name one
    // (toktok keeps at most 50), for the admin routes that delete them.
    let client = json_of(
        app.request(
            Method::POST,
            "/v1/admin/oauth-clients",
            Some(&shared.admin_key),
            Some(json!({ "name": "Wiki", "type": "confidential",
                         "redirect_uris": ["https://wiki.example.com/cb"] })),
        )
        .await,
    )
    .await;
    let webhook_id = if route.starts_with("/v1/admin/webhooks/") {
        let webhook = json_of(
            app.request(
                Method::POST,
                "/v1/admin/webhooks",
                Some(&shared.admin_key),
                Some(json!({ "url": "https://8.8.4.4/in", "events": ["user.created"] })),
            )
            .await,
        )
        .await;
        webhook["id"].as_str().unwrap().to_owned()
    } else {
        "no-webhook".to_owned()
    };
    Fresh {
        ann,
        ann_id,
        ann_sid,
        bob,
        staff,
        totp_aal1: second.access,
        aal2,
        admin,
        client_id: client["client_id"].as_str().unwrap().to_owned(),
        webhook_id,
    }
}

fn bearer<'a>(caller: &str, shared: &'a Shared, fresh: &'a Fresh) -> Option<&'a str> {
    Some(match caller {
        "nobody" => return None,
        "anonymous token" => &shared.anonymous,
        "API key: challenges" => &shared.challenges_key,
        "API key: admin" => &shared.admin_key,
        "disabled user" => &shared.disabled,
        "deleted user" => &shared.deleted,
        "refresh token" => &fresh.ann.refresh,
        "ID token" => &shared.id_token,
        "OIDC client token" => &shared.client_token,
        "OIDC user token" => &shared.oidc_access,
        "must enrol a factor" => &fresh.staff,
        "other user" => &fresh.bob.access,
        "user, aal 1" => &fresh.ann.access,
        "user with TOTP, aal 1" => &fresh.totp_aal1,
        "user, aal 2" => &fresh.aal2.access,
        "admin user" => &fresh.admin.access,
        other => panic!("no caller {other}"),
    })
}

/// The route's path with its parameters filled in: ann's resources where
/// she has one (so "other user" asks for someone else's), else ids that
/// exist (the client, the webhook) or that do not.
fn concrete(route: &str, fresh: &Fresh) -> String {
    let mut path = route.to_owned();
    let fill = |path: &mut String, name: &str, value: &str| {
        *path = path.replace(name, value);
    };
    if route.starts_with("/v1/admin/users/") {
        fill(&mut path, "{id}", &fresh.ann_id);
    } else if route.starts_with("/v1/admin/oauth-clients/") {
        fill(&mut path, "{id}", &fresh.client_id);
    } else if route.starts_with("/v1/admin/webhooks/") {
        fill(&mut path, "{id}", &fresh.webhook_id);
        fill(&mut path, "{delivery}", "no-such-delivery");
    } else if route.starts_with("/v1/users/me/sessions/") {
        fill(&mut path, "{id}", &fresh.ann_sid);
    } else if route.starts_with("/v1/users/me/apps/") {
        fill(&mut path, "{client_id}", &fresh.client_id);
    }
    fill(&mut path, "{id}", "no-such-id");
    fill(&mut path, "{provider}", "no-such-provider");
    path
}

/// A valid body for the routes whose permission checks (a recent sign-in,
/// `aal` 2 beside a factor, the password) follow the body's: so each
/// caller meets them. An empty JSON object for the other writes.
fn body(method: &Method, route: &str) -> Option<Value> {
    let valid = match (method.as_str(), route) {
        ("DELETE", "/v1/users/me") => json!({ "password": PASSWORD }),
        ("POST", "/v1/users/me/password") => {
            json!({ "current_password": PASSWORD, "new_password": "another long passphrase" })
        }
        ("POST", "/v1/users/me/email") => {
            json!({ "new_email": "new@example.com", "password": PASSWORD })
        }
        ("POST", "/v1/auth/reauthenticate") => json!({ "password": PASSWORD }),
        ("POST", "/v1/users/me/totp/confirm") => json!({ "code": "123456" }),
        ("PATCH", "/v1/users/me/passkeys/{id}") => json!({ "name": "laptop" }),
        ("POST", "/v1/admin/users") => json!({ "email": "made@example.com", "password": PASSWORD }),
        ("POST", "/v1/admin/oauth-clients") => json!({
            "name": "Made", "type": "public", "redirect_uris": ["https://made.example.com/cb"]
        }),
        ("POST", "/v1/admin/webhooks") => {
            json!({ "url": "https://8.8.4.4/made", "events": ["user.created"] })
        }
        ("POST", "/v1/challenges") => json!({ "action": "matrix", "id": "cell" }),
        _ if [Method::POST, Method::PATCH, Method::PUT].contains(method) => json!({}),
        _ => return None,
    };
    Some(valid)
}

async fn send(
    app: &TestApp,
    method: &Method,
    (route, path): (&str, &str),
    token: Option<&str>,
) -> StatusCode {
    app.request(method.clone(), path, token, body(method, route))
        .await
        .status()
}

/// The expected statuses of a route, one per [`CALLERS`] entry.
type Row = [u16; 16];

/// Everyone gets `status`: the route takes no credential (a bearer token
/// is not looked at).
const fn public(status: u16) -> Row {
    [status; 16]
}

/// A signed-in user's route: every credential that is not a live session
/// of toktok's own gets 401; `signed_in` are the answers to the
/// signed-in callers, from "must enrol a factor" to "admin user".
const fn user(signed_in: [u16; 6]) -> Row {
    let mut row = [401; 16];
    let mut i = 0;
    while i < 6 {
        row[9 + i] = signed_in[i];
        i += 1;
    }
    row
}

/// An admin route: 401 without a live credential, 403 with one that is
/// not an admin's; `by_user` and `by_key` are the admin user's and the
/// admin key's answers (in that order: a deletion by the first leaves 404
/// to the second).
const fn admin(by_user: u16, by_key: u16) -> Row {
    [
        401, 401, 403, 401, 401, 401, 401, 401, 401, 403, 403, 403, 403, 403, by_user, by_key,
    ]
}

/// A challenge route: only an API key with scope `challenges`; the admin
/// key is live but lacks the scope.
const fn challenges(by_key: u16) -> Row {
    let mut row = [401; 16];
    row[2] = by_key;
    row[15] = 403;
    row
}

/// OpenID Connect's userinfo: only an access token a client got for a
/// user.
const fn userinfo() -> Row {
    let mut row = [401; 16];
    row[8] = 200;
    row
}

/// Every route the router serves, and what each kind of caller gets.
#[rustfmt::skip]
const EXPECTED: &[(&str, Row)] = &[
    ("GET /.well-known/jwks.json", public(200)),
    ("GET /.well-known/oauth-authorization-server", public(200)),
    ("GET /.well-known/openid-configuration", public(200)),
    ("GET /consent", public(400)),
    ("POST /consent", public(415)),
    ("GET /demo", public(200)),
    ("GET /health", public(200)),
    ("GET /login", public(200)),
    ("POST /login", public(415)),
    ("POST /login/email-code", public(415)),
    ("POST /login/email-code/verify", public(415)),
    ("GET /login/forgot", public(200)),
    ("POST /login/forgot", public(415)),
    ("POST /login/mfa", public(415)),
    ("GET /login/passkey", public(200)),
    ("POST /login/passkey", public(415)),
    ("GET /logout", public(200)),
    ("POST /logout", public(415)),
    ("GET /oauth/authorize", public(400)),
    ("POST /oauth/introspect", public(400)),
    ("GET /oauth/logout", public(200)),
    ("POST /oauth/revoke", public(400)),
    ("POST /oauth/token", public(400)),
    ("GET /oauth/userinfo", userinfo()),
    ("POST /oauth/userinfo", userinfo()),
    ("GET /openapi.json", public(200)),
    ("GET /ready", public(200)),
    ("GET /register", public(200)),
    ("POST /register", public(415)),
    ("GET /v1/admin/audit", admin(200, 200)),
    ("GET /v1/admin/oauth-clients", admin(200, 200)),
    ("POST /v1/admin/oauth-clients", admin(201, 201)),
    ("DELETE /v1/admin/oauth-clients/{id}", admin(204, 404)),
    ("GET /v1/admin/oauth-clients/{id}", admin(200, 200)),
    ("PATCH /v1/admin/oauth-clients/{id}", admin(200, 200)),
    ("POST /v1/admin/oauth-clients/{id}/secret", admin(200, 200)),
    ("GET /v1/admin/users", admin(200, 200)),
    ("POST /v1/admin/users", admin(201, 409)),
    ("POST /v1/admin/users/import", admin(415, 415)),
    ("DELETE /v1/admin/users/{id}", admin(204, 404)),
    ("GET /v1/admin/users/{id}", admin(200, 200)),
    ("PATCH /v1/admin/users/{id}", admin(200, 200)),
    ("DELETE /v1/admin/users/{id}/factors", admin(204, 204)),
    ("POST /v1/admin/users/{id}/logout", admin(204, 204)),
    ("GET /v1/admin/webhooks", admin(200, 200)),
    ("POST /v1/admin/webhooks", admin(201, 201)),
    ("DELETE /v1/admin/webhooks/{id}", admin(204, 404)),
    ("GET /v1/admin/webhooks/{id}", admin(200, 200)),
    ("PATCH /v1/admin/webhooks/{id}", admin(200, 200)),
    ("GET /v1/admin/webhooks/{id}/deliveries", admin(200, 200)),
    ("POST /v1/admin/webhooks/{id}/deliveries/{delivery}/retry", admin(404, 404)),
    ("POST /v1/admin/webhooks/{id}/test", admin(202, 202)),
    ("POST /v1/auth/anonymous", public(200)),
    ("GET /v1/auth/confirm-email", public(200)),
    ("POST /v1/auth/confirm-email", public(422)),
    ("POST /v1/auth/confirm-email/resend", public(422)),
    ("POST /v1/auth/email-code", public(422)),
    ("GET /v1/auth/email-code/verify", public(200)),
    ("POST /v1/auth/email-code/verify", public(422)),
    ("POST /v1/auth/login", public(422)),
    ("POST /v1/auth/logout", user([204, 204, 204, 204, 204, 204])),
    ("POST /v1/auth/logout-all", user([204, 204, 204, 204, 204, 204])),
    ("POST /v1/auth/mfa", public(422)),
    ("POST /v1/auth/mfa/passkey-options", public(422)),
    ("POST /v1/auth/passkey", public(422)),
    ("POST /v1/auth/passkey/options", public(200)),
    ("POST /v1/auth/password/forgot", public(422)),
    ("GET /v1/auth/password/reset", public(200)),
    ("POST /v1/auth/password/reset", public(422)),
    ("GET /v1/auth/providers", public(200)),
    ("POST /v1/auth/providers/exchange", public(422)),
    ("GET /v1/auth/providers/{id}/callback", public(404)),
    ("POST /v1/auth/providers/{id}/callback", public(415)),
    ("GET /v1/auth/providers/{id}/start", public(404)),
    ("GET /v1/auth/public-key", public(200)),
    ("POST /v1/auth/reauthenticate", user([200, 200, 200, 200, 200, 200])),
    ("POST /v1/auth/reauthenticate/passkey-options", user([404, 404, 404, 404, 404, 404])),
    ("POST /v1/auth/refresh", public(422)),
    ("POST /v1/auth/register", public(422)),
    ("POST /v1/challenges", challenges(201)),
    ("POST /v1/challenges/info", challenges(422)),
    ("POST /v1/challenges/regenerate", challenges(422)),
    ("POST /v1/challenges/remove", challenges(422)),
    ("POST /v1/challenges/verify", challenges(422)),
    ("GET /v1/settings", public(200)),
    ("DELETE /v1/users/me", user([403, 204, 204, 403, 204, 204])),
    ("GET /v1/users/me", user([200, 200, 200, 200, 200, 200])),
    ("PATCH /v1/users/me", user([403, 200, 200, 200, 200, 200])),
    ("GET /v1/users/me/apps", user([403, 200, 200, 200, 200, 200])),
    ("DELETE /v1/users/me/apps/{client_id}", user([403, 404, 404, 404, 404, 404])),
    ("POST /v1/users/me/email", user([403, 202, 202, 403, 202, 202])),
    ("GET /v1/users/me/factors", user([200, 200, 200, 200, 200, 200])),
    ("GET /v1/users/me/identities", user([403, 200, 200, 200, 200, 200])),
    ("DELETE /v1/users/me/identities/{id}", user([403, 404, 404, 404, 404, 404])),
    ("POST /v1/users/me/identities/{provider}/start", user([403, 422, 422, 422, 422, 422])),
    ("POST /v1/users/me/passkeys", user([422, 422, 422, 422, 422, 422])),
    ("POST /v1/users/me/passkeys/options", user([200, 200, 200, 403, 200, 200])),
    ("DELETE /v1/users/me/passkeys/{id}", user([403, 404, 404, 403, 404, 404])),
    ("PATCH /v1/users/me/passkeys/{id}", user([403, 404, 404, 404, 404, 404])),
    ("POST /v1/users/me/password", user([403, 204, 204, 403, 204, 204])),
    ("POST /v1/users/me/recovery-codes", user([403, 409, 409, 403, 200, 409])),
    ("GET /v1/users/me/sessions", user([403, 200, 200, 200, 200, 200])),
    ("DELETE /v1/users/me/sessions/{id}", user([403, 404, 204, 404, 404, 404])),
    ("DELETE /v1/users/me/totp", user([403, 404, 404, 403, 204, 404])),
    ("POST /v1/users/me/totp", user([200, 200, 200, 403, 409, 200])),
    ("POST /v1/users/me/totp/confirm", user([404, 404, 404, 403, 409, 404])),
];

#[tokio::test]
async fn every_route_answers_every_kind_of_caller_as_the_table_says() {
    let app = spawn_app_with(CONFIG).await;
    let mut operations = toktok::http::operations();
    operations.sort_by(|a, b| (&a.1, a.0.as_str()).cmp(&(&b.1, b.0.as_str())));
    let names: Vec<String> = operations
        .iter()
        .map(|(method, route)| format!("{method} {route}"))
        .collect();
    let unlisted: Vec<&String> = names
        .iter()
        .filter(|name| !EXPECTED.iter().any(|(row, _)| row == *name))
        .collect();
    assert!(
        unlisted.is_empty(),
        "routes without a row in EXPECTED: {unlisted:?}"
    );
    let stale: Vec<&str> = EXPECTED
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !names.iter().any(|n| n == name))
        .collect();
    assert!(
        stale.is_empty(),
        "rows of EXPECTED without a route: {stale:?}"
    );

    let mut wrong = Vec::new();
    for (n, ((method, route), name)) in operations.iter().zip(&names).enumerate() {
        // Everything made again for each route: the requests may sign
        // callers out or delete them, and the TOTP enrolments move the
        // test clock on, past the tokens' lifetimes.
        let shared = shared(&app, n).await;
        let fresh = fresh(&app, &shared, n, route).await;
        let path = concrete(route, &fresh);
        let expected = EXPECTED.iter().find(|(row, _)| row == name).unwrap().1;
        for (caller, want) in CALLERS.iter().zip(expected) {
            let got = send(
                &app,
                method,
                (route, &path),
                bearer(caller, &shared, &fresh),
            )
            .await;
            if got.as_u16() != want {
                wrong.push(format!("{name}, {caller}: {got} (expected {want})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cells differ:\n{}",
        wrong.len(),
        operations.len() * CALLERS.len(),
        wrong.join("\n")
    );
}
