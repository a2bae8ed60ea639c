//! Every way toktok hands out tokens checks the account again at the
//! moment it hands them out (issue 26; landscape §5: Keycloak
//! CVE-2026-9798 and Rauthy 0.32.4 checked an account at sign-in but not at
//! refresh). Each path gets its credential first — a refresh token, an
//! `mfa_token`, a passkey flow, a mailed code, an OIDC code or refresh
//! token, a provider's code — then the account is spoiled, then the
//! credential is presented:
//! - **disabled** (`PATCH /v1/admin/users/{id}`) and **deleted**
//!   (`DELETE /v1/admin/users/{id}`): refused on every path;
//! - **revoked**: the sessions ended (`POST /v1/admin/users/{id}/logout`):
//!   refused wherever the credential belongs to a session (refresh, OIDC
//!   code and refresh); a sign-in in progress (`mfa_token`, passkey flow,
//!   mailed code) is not a session and finishes;
//! - **locked** (five wrong passwords, API.md "Failed logins"): refused on
//!   every path that checks a guessable secret (password, MFA code, mailed
//!   code). The lockout is a brake on guessing that anyone who knows the
//!   address can pull, so it never ends or blocks what guessing cannot
//!   reach: refresh, passkeys, OIDC codes and refresh tokens.
//!
//! `client_credentials` has no account: its client deleted, or its secret
//! renewed, refuses it. Provider sign-in runs against a second toktok as
//! the provider (`providers.rs`'s pair).
//! Both stores (`tests/postgres/run.sh grant_recheck`).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::authenticator::Authenticator;
use crate::email::with_sink;
use crate::email_code::{by_code, code_for};
use crate::helpers::{TestApp, PASSWORD};
use crate::oidc_token::{
    claims_of, code_for as oidc_code_for, confidential, exchange, post_form, refresh, Client,
};
use crate::passkeys::{register, sign_in_options, sign_in_with};
use crate::smtp::SmtpSink;
use crate::totp;

/// What happens to the account between getting a credential and using it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Spoil {
    Nothing,
    Disabled,
    Deleted,
    Locked,
    Revoked,
}

const EVERY: [Spoil; 5] = [
    Spoil::Nothing,
    Spoil::Disabled,
    Spoil::Deleted,
    Spoil::Locked,
    Spoil::Revoked,
];

const CONFIG: &str = "[oidc]\nenabled = true\n[email_code]\nenabled = true\n\
    [rate_limit]\nenabled = true\nper_ip_burst = 10000\nper_ip_per_minute = 10000\n";

struct Fixture {
    app: TestApp,
    sink: SmtpSink,
    admin: String,
    client: Client,
}

async fn fixture() -> Fixture {
    let (app, sink) = with_sink(CONFIG).await;
    let admin = app.api_key(&["admin"]).await;
    let client = confidential(&app).await;
    Fixture {
        app,
        sink,
        admin,
        client,
    }
}

/// A signed-up user and the session of the sign-up.
struct User {
    email: String,
    id: String,
    access: String,
    sid: String,
    refresh: String,
}

impl Fixture {
    async fn user(&self, path: &str, spoil: Spoil) -> User {
        let email = format!("{path}-{spoil:?}@example.com").to_lowercase();
        let tokens = self.app.signed_up(&email).await;
        let claims = claims_of(&tokens.access);
        User {
            email,
            id: claims["sub"].as_str().unwrap().to_owned(),
            sid: claims["sid"].as_str().unwrap().to_owned(),
            access: tokens.access.clone(),
            refresh: tokens.refresh,
        }
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) {
        admin(&self.app, &self.admin, method, path, body).await;
    }

    async fn spoil(&self, user: &User, how: Spoil) {
        spoil(&self.app, &self.admin, &user.email, &user.id, how).await;
    }
}

/// An admin call with the admin key `key` that must succeed.
async fn admin(app: &TestApp, key: &str, method: Method, path: &str, body: Option<Value>) {
    let res = app.request(method, path, Some(key), body).await;
    assert!(res.status().is_success(), "{path}: {}", res.status());
}

/// Does `how` to the account `id` (address `email`) of `app`.
async fn spoil(app: &TestApp, key: &str, email: &str, id: &str, how: Spoil) {
    let at = format!("/v1/admin/users/{id}");
    match how {
        Spoil::Nothing => {}
        Spoil::Disabled => {
            let body = json!({ "disabled": true });
            admin(app, key, Method::PATCH, &at, Some(body)).await;
        }
        Spoil::Deleted => admin(app, key, Method::DELETE, &at, None).await,
        Spoil::Revoked => admin(app, key, Method::POST, &format!("{at}/logout"), None).await,
        Spoil::Locked => {
            for _ in 0..5 {
                let res = app.login(email, "not the password").await;
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            }
            let res = app.login(email, PASSWORD).await;
            assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        }
    }
}

/// Fails with every cell of `wrong` (`"<path> <spoil>: got …, want …"`).
fn verdict(wrong: &[String]) {
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// "status code" of an answer: toktok's problem `code` or OAuth's `error`.
async fn outcome(res: reqwest::Response) -> String {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    with_body(status, &body)
}

fn with_body(status: u16, body: &Value) -> String {
    let code = body["code"]
        .as_str()
        .or(body["error"].as_str())
        .unwrap_or(if status == 200 { "ok" } else { "?" });
    format!("{status} {code}")
}

/// The ways to tokens that a user's account stands behind.
#[derive(Clone, Copy, Debug)]
enum Path {
    Password,
    Refresh,
    MfaTotp,
    Passkey,
    EmailCode,
    OidcCode,
    OidcRefresh,
}

/// Gets `path`'s credential for `user`, spoils the account, presents the
/// credential: the answer.
async fn attempt(f: &Fixture, path: Path, user: &User, spoil: Spoil) -> String {
    let app = &f.app;
    match path {
        Path::Password => {
            f.spoil(user, spoil).await;
            outcome(app.login(&user.email, PASSWORD).await).await
        }
        Path::Refresh => {
            f.spoil(user, spoil).await;
            outcome(app.refresh(&user.refresh).await).await
        }
        Path::MfaTotp => {
            let (secret, step, _) = totp::enrol(app, &user.access).await;
            let body: Value = app.login(&user.email, PASSWORD).await.json().await.unwrap();
            let mfa_token = body["mfa_token"].as_str().expect("an mfa_token");
            // The next time step first: the lockout's first window is 1 s.
            app.clock.advance(30);
            f.spoil(user, spoil).await;
            let body = json!({ "mfa_token": mfa_token, "totp": totp::code(&secret, step + 1) });
            outcome(app.post("/v1/auth/mfa", body).await).await
        }
        Path::Passkey => {
            let mut authn = Authenticator::for_config(&app.state.config);
            register(app, &user.access, &mut authn).await;
            let (flow_id, options) = sign_in_options(app).await;
            let credential = authn.get(&options);
            f.spoil(user, spoil).await;
            outcome(sign_in_with(app, &flow_id, credential).await).await
        }
        Path::EmailCode => {
            let (code, _) = code_for(app, &f.sink, &user.email, false).await;
            f.spoil(user, spoil).await;
            outcome(by_code(app, &user.email, &code).await).await
        }
        Path::OidcCode => {
            let code = oidc_code_for(app, &f.client.id, &user.sid, &user.id, "openid").await;
            f.spoil(user, spoil).await;
            let (status, body) = exchange(app, &f.client, &code).await;
            with_body(status.as_u16(), &body)
        }
        Path::OidcRefresh => {
            let code = oidc_code_for(app, &f.client.id, &user.sid, &user.id, "openid").await;
            let (status, body) = exchange(app, &f.client, &code).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let token = body["refresh_token"].as_str().expect("a refresh token");
            f.spoil(user, spoil).await;
            let (status, body) = refresh(app, &f.client, token).await;
            with_body(status.as_u16(), &body)
        }
    }
}

/// Runs `path` once per spoiler, each with a user of its own, and compares
/// with `want` (in `EVERY`'s order); every cell is reported before the
/// test fails.
async fn check(path: Path, want: [&str; 5]) {
    let f = fixture().await;
    let mut wrong = Vec::new();
    for (spoil, want) in EVERY.into_iter().zip(want) {
        let user = f.user(&format!("{path:?}"), spoil).await;
        let got = attempt(&f, path, &user, spoil).await;
        if got != want {
            wrong.push(format!("{path:?} {spoil:?}: got {got}, want {want}"));
        }
    }
    verdict(&wrong);
}

const OK: &str = "200 ok";

#[tokio::test]
async fn password_sign_in() {
    let no = "401 invalid_credentials";
    check(Path::Password, [OK, no, no, "429 rate_limited", OK]).await;
}

#[tokio::test]
async fn refresh_rotation() {
    let no = "401 invalid_token";
    check(Path::Refresh, [OK, no, no, OK, no]).await;
}

#[tokio::test]
async fn mfa_step_with_totp() {
    let no = "401 invalid_token";
    check(Path::MfaTotp, [OK, no, no, "429 rate_limited", OK]).await;
}

#[tokio::test]
async fn passkey_sign_in() {
    let no = "401 invalid_credentials";
    check(Path::Passkey, [OK, no, no, OK, OK]).await;
}

#[tokio::test]
async fn email_code_sign_in() {
    let no = "400 invalid_token";
    check(Path::EmailCode, [OK, no, no, "429 rate_limited", OK]).await;
}

#[tokio::test]
async fn oidc_code_exchange() {
    let no = "400 invalid_grant";
    check(Path::OidcCode, [OK, no, no, OK, no]).await;
}

#[tokio::test]
async fn oidc_refresh() {
    let no = "400 invalid_grant";
    check(Path::OidcRefresh, [OK, no, no, OK, no]).await;
}

/// The client is the account of `client_credentials`: deleted, or with a
/// renewed secret, it gets nothing.
#[tokio::test]
async fn client_credentials() {
    let f = fixture().await;
    let body = json!({ "grant_types": ["client_credentials"] });
    let renewed = crate::oidc_token::client(&f.app, body.clone()).await;
    assert_eq!(token(&f, &renewed).await, OK);
    let at = format!("/v1/admin/oauth-clients/{}", renewed.id);
    f.admin(Method::POST, &format!("{at}/secret"), None).await;
    assert_eq!(token(&f, &renewed).await, "401 invalid_client");

    let deleted = crate::oidc_token::client(&f.app, body).await;
    let at = format!("/v1/admin/oauth-clients/{}", deleted.id);
    f.admin(Method::DELETE, &at, None).await;
    assert_eq!(token(&f, &deleted).await, "401 invalid_client");
}

async fn token(f: &Fixture, client: &Client) -> String {
    let grant = [("grant_type", "client_credentials")];
    let (status, _, body) = post_form(&f.app, "/oauth/token", client, &grant).await;
    with_body(status.as_u16(), &body)
}

/// Provider sign-in: the provider's code comes back to the app, the account
/// is spoiled, then the app exchanges the code.
#[tokio::test]
async fn provider_sign_in() {
    use crate::providers::{
        exchange, pair, person, round_trip, round_trip_signed_in, Browser, START,
    };
    let (up, down) = pair(CONFIG).await;
    let key = down.api_key(&["admin"]).await;
    // Disabled: the callback's own answer for a disabled account; deleted:
    // the code went with the account.
    let want = [OK, "403 forbidden", "400 invalid_token", OK, OK];
    let mut wrong = Vec::new();
    for (how, want) in EVERY.into_iter().zip(want) {
        let email = format!("provider-{how:?}@example.com").to_lowercase();
        person(&up, &email, true).await;
        let mut b = Browser::new();
        let first = round_trip(&mut b, &up, &down, START, &email).await;
        let body: Value = exchange(&down, &first.fragment()["code"])
            .await
            .json()
            .await
            .unwrap();
        let id = body["user"]["id"].as_str().unwrap();
        let again = round_trip_signed_in(&mut b, &up, &down).await;
        spoil(&down, &key, &email, id, how).await;
        let got = outcome(exchange(&down, &again.fragment()["code"]).await).await;
        if got != want {
            wrong.push(format!("provider {how:?}: got {got}, want {want}"));
        }
    }
    verdict(&wrong);
}
