//! Sign-in with other providers (issue 20; docs/providers.md), on both
//! stores.
//!
//! The happy paths run against a real OpenID provider: a second toktok
//! with `[oidc]` on, whose hosted pages are filled like a browser without
//! JavaScript would (tests/interop/providers.sh does the same against
//! panva's certified `oidc-provider`). The attacks need ID tokens no honest
//! provider signs, so they come from `Rogue`: a small provider in this
//! file that serves discovery, keys and a token endpoint answering the
//! token the test made; it also stands in for GitHub's two API endpoints
//! (GitHub is not OpenID).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use toktok::auth::jwt::{generate_key, Algorithm, Keyring};

use crate::helpers::{assert_problem, spawn_app_with, spawn_public, TestApp, PASSWORD};
use crate::oidc_flow::{client, OIDC};

const APP: &str = "https://app.example.com/done";
/// Where the downstream toktok's callback is (its default public URL).
const CALLBACK_BASE: &str = "http://127.0.0.1:8080";

/// A browser across several origins: one cookie jar per `host:port`, no
/// redirect followed on its own.
pub(crate) struct Browser {
    client: reqwest::Client,
    jars: HashMap<String, HashMap<String, String>>,
}

pub(crate) struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn input(&self, name: &str) -> String {
        crate::oidc_flow::input_in(&self.body, name)
    }

    /// The `#…` parameters of the redirect.
    pub(crate) fn fragment(&self) -> HashMap<String, String> {
        let location = self.location.as_deref().expect("a redirect");
        let (_, fragment) = location.split_once('#').expect("a fragment");
        url::form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect()
    }
}

impl Browser {
    pub(crate) fn new() -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jars: HashMap::new(),
        }
    }

    async fn send(&mut self, method: Method, url: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let parsed = url::Url::parse(url).unwrap();
        let origin = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
        let jar = self.jars.entry(origin.clone()).or_default();
        let cookie = jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = self.client.request(method, url).header(COOKIE, cookie);
        if let Some(form) = form {
            request = request.form(form);
        }
        let res = request.send().await.unwrap();
        let jar = self.jars.entry(origin).or_default();
        for value in res.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (k, v) = text.split(';').next().unwrap().split_once('=').unwrap();
            if v.is_empty() || text.contains("Max-Age=0") {
                jar.remove(k);
            } else {
                jar.insert(k.to_owned(), v.to_owned());
            }
        }
        Answer {
            status: res.status(),
            location: res
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: res.text().await.unwrap(),
        }
    }

    async fn get(&mut self, url: &str) -> Answer {
        self.send(Method::GET, url, None).await
    }
}

/// `url` (an address of the downstream toktok's public URL, or a path)
/// on `app`'s real address.
fn at(app: &TestApp, url: &str) -> String {
    let path = url.strip_prefix(CALLBACK_BASE).unwrap_or(url);
    app.url(path)
}

fn provider_toml(id: &str, issuer: &str, client_id: &str, secret: &str) -> String {
    format!(
        "[accounts]\nallowed_redirects = [\"{APP}\"]\n\
         [[providers]]\nid = \"{id}\"\nkind = \"oidc\"\nissuer = \"{issuer}\"\n\
         client_id = \"{client_id}\"\nclient_secret = \"{secret}\"\nname = \"Upstream\"\n"
    )
}

/// An upstream toktok (OpenID provider) with a client for the downstream
/// toktok, and the downstream toktok configured with it as `up`.
pub(crate) async fn pair(down_extra: &str) -> (TestApp, TestApp) {
    let up = spawn_public(|_| OIDC.to_owned()).await;
    let c = client(
        &up,
        json!({
            "name": "Downstream",
            "type": "confidential",
            "redirect_uris": [format!("{CALLBACK_BASE}/v1/auth/providers/up/callback")],
            "scopes": ["openid", "email", "profile"],
            "skip_consent": true,
        }),
    )
    .await;
    let issuer = format!("http://{}", up.addr);
    let toml = provider_toml(
        "up",
        &issuer,
        c["client_id"].as_str().unwrap(),
        c["client_secret"].as_str().unwrap(),
    );
    let down = spawn_app_with(&format!("{toml}{down_extra}")).await;
    (up, down)
}

/// A person at the upstream toktok, with a confirmed address (so the
/// provider vouches for it) unless `confirmed` is false.
pub(crate) async fn person(up: &TestApp, email: &str, confirmed: bool) {
    up.signed_up(email).await;
    if confirmed {
        up.sql(&format!(
            "UPDATE users SET email_confirmed_at = 1 WHERE email = '{email}'"
        ))
        .await;
    }
}

/// Start at `down`, sign in at `up` as `email`, back to `down`'s callback:
/// the callback's answer.
pub(crate) async fn round_trip(
    b: &mut Browser,
    up: &TestApp,
    down: &TestApp,
    start: &str,
    email: &str,
) -> Answer {
    let started = b.get(&down.url(start)).await;
    assert_eq!(started.status, StatusCode::FOUND, "{}", started.body);
    let to_provider = started.location.clone().unwrap();
    assert!(to_provider.starts_with(&format!("http://{}/oauth/authorize?", up.addr)));
    let authorize = b.get(&to_provider).await;
    assert_eq!(
        authorize.status,
        StatusCode::SEE_OTHER,
        "{}",
        authorize.body
    );
    let login = b.get(&up.url(&authorize.location.unwrap())).await;
    let signed = upstream_sign_in(b, up, &login, email).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let back = signed.location.unwrap();
    assert!(
        back.starts_with(&format!("{CALLBACK_BASE}/v1/auth/providers/up/callback?")),
        "{back}"
    );
    b.get(&at(down, &back)).await
}

/// Fills the upstream's sign-in page (`login`) as `email`: its answer.
async fn upstream_sign_in(b: &mut Browser, up: &TestApp, login: &Answer, email: &str) -> Answer {
    b.send(
        Method::POST,
        &up.url("/login"),
        Some(&[
            ("csrf", &login.input("csrf")),
            ("flow", &login.input("flow")),
            ("email", email),
            ("password", PASSWORD),
        ]),
    )
    .await
}

pub(crate) async fn exchange(down: &TestApp, code: &str) -> reqwest::Response {
    down.post("/v1/auth/providers/exchange", json!({ "code": code }))
        .await
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub(crate) const START: &str =
    "/v1/auth/providers/up/start?redirect_to=https%3A%2F%2Fapp.example.com%2Fdone";

#[tokio::test]
async fn a_verified_person_signs_up_then_signs_in_again() {
    let (up, down) = pair("").await;
    person(&up, "ada@example.com", true).await;
    let listed: Value = down
        .request(Method::GET, "/v1/auth/providers", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed,
        json!({"providers": [{"id": "up", "name": "Upstream"}]})
    );

    let mut b = Browser::new();
    let back = round_trip(&mut b, &up, &down, START, "ada@example.com").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert!(back
        .location
        .as_deref()
        .unwrap()
        .starts_with(&format!("{APP}#code=")));
    let code = back.fragment()["code"].clone();
    let res = exchange(&down, &code).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["user"]["email"], "ada@example.com");
    assert_eq!(tokens["user"]["email_confirmed"], true);
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], json!(["fed"]));
    // A code works once.
    assert_problem(exchange(&down, &code).await, 400, "invalid_token").await;

    let ids: Value = down
        .get_auth(
            "/v1/users/me/identities",
            tokens["access_token"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    let ids = ids["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0]["provider"], "up");
    assert_eq!(ids[0]["email_verified"], true);

    // Again (the upstream remembers the browser): the same account.
    let again = round_trip_signed_in(&mut b, &up, &down).await;
    let code = again.fragment()["code"].clone();
    let second: Value = exchange(&down, &code).await.json().await.unwrap();
    assert_eq!(second["user"]["id"], tokens["user"]["id"]);
    let kinds = down
        .sql("SELECT kind FROM audit_events WHERE kind = 'login.provider'")
        .await;
    assert_eq!(kinds.len(), 2);
}

/// A round trip where the upstream has the browser signed in already.
pub(crate) async fn round_trip_signed_in(b: &mut Browser, up: &TestApp, down: &TestApp) -> Answer {
    let started = b.get(&down.url(START)).await;
    let authorize = b.get(started.location.as_deref().unwrap()).await;
    assert_eq!(
        authorize.status,
        StatusCode::SEE_OTHER,
        "{}",
        authorize.body
    );
    let back = authorize.location.unwrap();
    assert!(
        back.starts_with(CALLBACK_BASE),
        "{back} (up at {})",
        up.addr
    );
    let answer = b.get(&at(down, &back)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    answer
}

#[tokio::test]
async fn an_unverified_address_is_not_confirmed_and_an_existing_one_needs_a_link() {
    let (up, down) = pair("").await;
    person(&up, "eve@example.com", false).await;
    let mut b = Browser::new();
    let back = round_trip(&mut b, &up, &down, START, "eve@example.com").await;
    let tokens: Value = exchange(&down, &back.fragment()["code"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["user"]["email_confirmed"], false);

    // An account with the address exists at the downstream: no link, no
    // session, an audit event.
    person(&up, "bob@example.com", true).await;
    down.signed_up("bob@example.com").await;
    let mut b = Browser::new();
    let back = round_trip(&mut b, &up, &down, START, "bob@example.com").await;
    let f = back.fragment();
    assert_eq!(f["error"], "link_required", "{f:?}");
    assert!(!f.contains_key("code"));
    assert_eq!(
        down.sql_count("SELECT count(*) FROM identities").await,
        1,
        "only eve's"
    );
    assert_eq!(
        down.sql_count("SELECT count(*) FROM audit_events WHERE kind = 'provider.link_required'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_password_squatter_gains_nothing_over_the_address_owner() {
    // PocketBase CVE-2024-38351: the attacker registers the victim's
    // address with a password (never confirmed) before the victim signs in
    // with a provider.
    let (up, down) = pair("").await;
    person(&up, "victim@example.com", true).await;
    let attacker = down.signed_up("victim@example.com").await;

    let mut b = Browser::new();
    let back = round_trip(&mut b, &up, &down, START, "victim@example.com").await;
    assert_eq!(back.fragment()["error"], "link_required");
    assert_eq!(down.sql_count("SELECT count(*) FROM identities").await, 0);
    assert_eq!(
        down.sql_count("SELECT count(*) FROM sessions WHERE revoked_at IS NULL")
            .await,
        1,
        "the attacker's session only: the provider sign-in made none"
    );

    // The owner takes the address back with a reset; the attacker's
    // session and password die with it.
    let res = down
        .post(
            "/v1/auth/password/forgot",
            json!({"email": "victim@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let token = reset_token(&down).await;
    let res = down
        .post(
            "/v1/auth/password/reset",
            json!({"token": token, "password": "the owner's own passphrase"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let me = down.get_auth("/v1/users/me", &attacker.access).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        down.login("victim@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The token of the reset link the dev outbox holds (waits for the mail).
async fn reset_token(app: &TestApp) -> String {
    for _ in 0..200 {
        let texts = std::fs::read_dir(app.dir.path().join("outbox"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok());
        for text in texts {
            if let Some(at) = text.find("password/reset?token=") {
                let rest = &text[at + "password/reset?token=".len()..];
                let end = rest
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
                    })
                    .unwrap_or(rest.len());
                return rest[..end].to_owned();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no reset mail in the outbox");
}

#[tokio::test]
async fn the_state_is_one_use_and_bound_to_its_browser() {
    let (up, down) = pair("").await;
    person(&up, "ada@example.com", true).await;
    let mut b = Browser::new();
    let started = b.get(&down.url(START)).await;
    let authorize = b.get(started.location.as_deref().unwrap()).await;
    let login = b.get(&up.url(&authorize.location.unwrap())).await;
    let signed = upstream_sign_in(&mut b, &up, &login, "ada@example.com").await;
    let callback = at(&down, signed.location.as_deref().unwrap());

    // Another browser (no binding cookie): refused, and the state is used up.
    let mut other = Browser::new();
    let refused = other.get(&callback).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let late = b.get(&callback).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST, "a state works once");

    // A forged state, and none.
    let forged = b
        .get(&down.url("/v1/auth/providers/up/callback?code=x&state=forged"))
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let none = b
        .get(&down.url("/v1/auth/providers/up/callback?code=x"))
        .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert_eq!(down.sql_count("SELECT count(*) FROM users").await, 0);
}

#[tokio::test]
async fn redirect_to_must_be_on_the_allowlist() {
    let (_up, down) = pair("").await;
    for bad in [
        "https://app.example.com/done-evil",
        "https://app.example.com.evil.com/done",
        "https://app.example.com@evil.com/done",
        "http://app.example.com/done",
        "https://app.example.com/done/../admin",
        "https://app.example.com/done/%2e%2e/admin",
        "javascript:alert(1)",
        "",
    ] {
        let path = format!(
            "/v1/auth/providers/up/start?redirect_to={}",
            url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>()
        );
        let res = down.request(Method::GET, &path, None, None).await;
        assert_problem(res, 422, "validation_failed").await;
    }
    let res = down
        .request(
            Method::GET,
            "/v1/auth/providers/nope/start?redirect_to=x",
            None,
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

/// Starts a link for the holder of `access`: the provider URL.
async fn link_url(down: &TestApp, access: &str) -> String {
    let res = down
        .request(
            Method::POST,
            "/v1/users/me/identities/up/start",
            Some(access),
            Some(json!({"redirect_to": APP})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A link round trip in a browser the upstream knows already: the code.
async fn link_code(b: &mut Browser, down: &TestApp, access: &str) -> String {
    let url = link_url(down, access).await;
    let hop = b.get(&url).await.location.unwrap();
    let back = b.get(&at(down, &hop)).await;
    back.fragment()["code"].clone()
}

/// The exchange of `code` with the access token `access`.
async fn exchange_as(down: &TestApp, access: &str, code: &str) -> reqwest::Response {
    down.request(
        Method::POST,
        "/v1/auth/providers/exchange",
        Some(access),
        Some(json!({"code": code})),
    )
    .await
}

#[tokio::test]
async fn a_signed_in_user_links_and_unlinks_but_never_the_last_way_in() {
    let (up, down) = pair("").await;
    person(&up, "ada-up@example.com", true).await;
    let ada = down.signed_up("ada@example.com").await;

    // Not recent enough: reauthenticate first.
    down.clock.advance(600);
    let res = down
        .request(
            Method::POST,
            "/v1/users/me/identities/up/start",
            Some(&ada.access),
            Some(json!({"redirect_to": APP})),
        )
        .await;
    assert_problem(res, 403, "reauthentication_required").await;
    let ada = down.signed_in("ada@example.com").await;

    // The first time, the upstream asks who signs in.
    let url = link_url(&down, &ada.access).await;
    let mut b = Browser::new();
    let authorize = b.get(&url).await;
    let login = b.get(&up.url(&authorize.location.unwrap())).await;
    let signed = upstream_sign_in(&mut b, &up, &login, "ada-up@example.com").await;
    let back = b.get(&at(&down, signed.location.as_deref().unwrap())).await;
    let code = back.fragment()["code"].clone();

    // The link's code needs the access token of the user who started it.
    assert_problem(exchange(&down, &code).await, 401, "unauthenticated").await;
    let code = link_code(&mut b, &down, &ada.access).await;
    let mallory = down.signed_up("mallory@example.com").await;
    let res = exchange_as(&down, &mallory.access, &code).await;
    assert_problem(res, 403, "forbidden").await;

    let code = link_code(&mut b, &down, &ada.access).await;
    let res = exchange_as(&down, &ada.access, &code).await;
    assert_eq!(res.status(), StatusCode::OK);
    let linked: Value = res.json().await.unwrap();
    assert_eq!(linked["identity"]["provider"], "up");
    let identity = linked["identity"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        down.sql_count("SELECT count(*) FROM audit_events WHERE kind = 'identity.linked'")
            .await,
        1
    );

    // Now the provider signs in to ada's account.
    let again = round_trip_signed_in(&mut b, &up, &down).await;
    let tokens: Value = exchange(&down, &again.fragment()["code"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["user"]["email"], "ada@example.com");

    // The same provider account cannot be linked to mallory too.
    let mallory = down.signed_in("mallory@example.com").await;
    let code = link_code(&mut b, &down, &mallory.access).await;
    let res = exchange_as(&down, &mallory.access, &code).await;
    assert_problem(res, 409, "conflict").await;

    // Unlink: fine while ada has a password…
    let path = format!("/v1/users/me/identities/{identity}");
    let res = down
        .request(Method::DELETE, &path, Some(&mallory.access), None)
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = down
        .request(Method::DELETE, &path, Some(&ada.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        down.sql_count("SELECT count(*) FROM audit_events WHERE kind = 'identity.unlinked'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_last_identity_of_an_account_without_password_stays() {
    let (up, down) = pair("").await;
    person(&up, "ada@example.com", true).await;
    let mut b = Browser::new();
    let back = round_trip(&mut b, &up, &down, START, "ada@example.com").await;
    let tokens: Value = exchange(&down, &back.fragment()["code"])
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let ids: Value = down
        .get_auth("/v1/users/me/identities", access)
        .await
        .json()
        .await
        .unwrap();
    let id = ids["identities"][0]["id"].as_str().unwrap();
    let res = down
        .request(
            Method::DELETE,
            &format!("/v1/users/me/identities/{id}"),
            Some(access),
            None,
        )
        .await;
    assert_problem(res, 409, "conflict").await;
}

#[tokio::test]
async fn a_disabled_account_and_a_disabled_provider_sign_in_nobody() {
    let (up, down) = pair("").await;
    person(&up, "ada@example.com", true).await;
    let mut b = Browser::new();
    let back = round_trip(&mut b, &up, &down, START, "ada@example.com").await;
    let tokens: Value = exchange(&down, &back.fragment()["code"])
        .await
        .json()
        .await
        .unwrap();
    let id = tokens["user"]["id"].as_str().unwrap();
    let key = down.api_key(&["admin"]).await;
    let res = down
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{id}"),
            Some(&key),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again = round_trip_signed_in(&mut b, &up, &down).await;
    assert_eq!(again.fragment()["error"], "forbidden");
}

#[tokio::test]
async fn a_disabled_provider_starts_nothing() {
    let (_up, down) = pair("").await;
    let toml = down.state.config.providers[0].clone();
    drop(down);
    let text = format!(
        "[accounts]\nallowed_redirects = [\"{APP}\"]\n[[providers]]\nid = \"up\"\nkind = \"oidc\"\n\
         issuer = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"x\"\nenabled = false\n",
        toml.issuer, toml.client_id
    );
    let down = spawn_app_with(&text).await;
    let res = down.request(Method::GET, START, None, None).await;
    assert_problem(res, 404, "not_found").await;
    let listed: Value = down
        .request(Method::GET, "/v1/auth/providers", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["providers"], json!([]));
}

#[tokio::test]
async fn a_pending_authorization_continues_after_the_provider() {
    // The downstream toktok is itself an OpenID provider for a wiki: its
    // sign-in page offers the upstream, and signing in there lands at the
    // wiki with a code.
    let (up, down) = pair(OIDC).await;
    person(&up, "ada@example.com", true).await;
    let wiki = client(
        &down,
        json!({"name": "Wiki", "type": "confidential",
               "redirect_uris": [crate::oidc_flow::REDIRECT],
               "scopes": ["openid", "email"], "skip_consent": true}),
    )
    .await;
    let mut b = Browser::new();
    let authorize = b
        .get(&down.url(&crate::oidc_flow::authorize_url(
            wiki["client_id"].as_str().unwrap(),
            "",
        )))
        .await;
    let login = b.get(&down.url(&authorize.location.unwrap())).await;
    assert!(
        login.body.contains("Continue with Upstream"),
        "{}",
        login.body
    );
    let body = login.body.replace("&#x2f;", "/");
    let at_start = body.find("/v1/auth/providers/up/start?flow=").unwrap();
    let end = body[at_start..].find('"').unwrap();
    let start = body[at_start..at_start + end].replace("&amp;", "&");
    let back = round_trip(&mut b, &up, &down, &start, "ada@example.com").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    let to_wiki = back.location.unwrap();
    assert!(to_wiki.starts_with(crate::oidc_flow::REDIRECT), "{to_wiki}");
    assert!(to_wiki.contains("code="), "{to_wiki}");
}

// --- a rogue provider, for what no honest one sends ---------------------------

#[derive(Clone, Default)]
struct RogueState {
    url: String,
    /// The ID token the token endpoint answers next.
    id_token: Arc<Mutex<String>>,
    jwks: Value,
    emails: Value,
    /// What `/userinfo` answers.
    userinfo: Arc<Mutex<Value>>,
}

struct Rogue {
    url: String,
    keys: Keyring,
    other: Keyring,
    state: RogueState,
}

impl Rogue {
    async fn start(emails: Value) -> Rogue {
        let km = generate_key(Algorithm::RS256).unwrap();
        let keys = Keyring::new(Algorithm::RS256, &km, &[]).unwrap();
        // Another key under the same kid: a signature the JWKS cannot vouch for.
        let mut other_km = generate_key(Algorithm::RS256).unwrap();
        other_km.kid = km.kid.clone();
        if let Some(jwk) = other_km.public_jwk.as_object_mut() {
            jwk.insert("kid".into(), json!(km.kid));
        }
        let other = Keyring::new(Algorithm::RS256, &other_km, &[]).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = RogueState {
            url: url.clone(),
            id_token: Arc::default(),
            jwks: keys.jwks(),
            emails,
            userinfo: Arc::default(),
        };
        let router = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(s): State<RogueState>| async move {
                    Json(json!({
                        "issuer": s.url,
                        "authorization_endpoint": format!("{}/authorize", s.url),
                        "token_endpoint": format!("{}/token", s.url),
                        "jwks_uri": format!("{}/jwks", s.url),
                        "userinfo_endpoint": format!("{}/userinfo", s.url),
                        "response_types_supported": ["code"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }))
                }),
            )
            .route("/jwks", get(|State(s): State<RogueState>| async move { Json(s.jwks) }))
            .route(
                "/token",
                post(|State(s): State<RogueState>| async move {
                    let id_token = s.id_token.lock().unwrap().clone();
                    Json(json!({"access_token": "gho_rogue", "token_type": "Bearer", "id_token": id_token}))
                }),
            )
            .route(
                "/login/oauth/access_token",
                post(|| async { Json(json!({"access_token": "gho_rogue", "token_type": "bearer"})) }),
            )
            .route(
                "/user",
                get(|| async { Json(json!({"id": 4242, "login": "octo", "name": "Octo Cat"})) }),
            )
            .route(
                "/userinfo",
                get(|State(s): State<RogueState>| async move {
                    let info = s.userinfo.lock().unwrap().clone();
                    Json(info)
                }),
            )
            .route(
                "/user/emails",
                get(|State(s): State<RogueState>| async move { Json(s.emails) }),
            )
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Rogue {
            url,
            keys,
            other,
            state,
        }
    }

    fn answer(&self, token: String) {
        *self.state.id_token.lock().unwrap() = token;
    }
}

/// Starts a sign-in at `down` and answers its callback with the rogue's
/// next token, built by `make` from the request's nonce.
async fn rogue_round(down: &TestApp, rogue: &Rogue, make: impl FnOnce(&str) -> String) -> Answer {
    let mut b = Browser::new();
    let started =
        b.get(&down.url(
            "/v1/auth/providers/rogue/start?redirect_to=https%3A%2F%2Fapp.example.com%2Fdone",
        ))
        .await;
    assert_eq!(started.status, StatusCode::FOUND, "{}", started.body);
    let to = url::Url::parse(started.location.as_deref().unwrap()).unwrap();
    let q: HashMap<String, String> = to.query_pairs().into_owned().collect();
    rogue.answer(make(q.get("nonce").map_or("", String::as_str)));
    let callback = format!(
        "/v1/auth/providers/rogue/callback?code=abc&state={}",
        q["state"]
    );
    b.get(&down.url(&callback)).await
}

async fn rogue_pair() -> (Rogue, TestApp) {
    let rogue = Rogue::start(json!([])).await;
    let toml = provider_toml("rogue", &rogue.url, "toktok-client", "s3cret")
        .replace("name = \"Upstream\"", "name = \"Rogue\"");
    let down = spawn_app_with(&toml).await;
    (rogue, down)
}

fn id_claims(rogue: &Rogue, nonce: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    json!({
        "iss": rogue.url, "aud": "toktok-client", "sub": "rogue-1",
        "email": "someone@example.com", "email_verified": true,
        "nonce": nonce, "iat": now, "exp": now + 300,
    })
}

#[tokio::test]
async fn an_id_token_is_refused_for_any_one_wrong_thing() {
    let (rogue, down) = rogue_pair().await;
    // The honest token first: the check is not refusing everything.
    let ok = rogue_round(&down, &rogue, |n| {
        rogue.keys.sign_json(&id_claims(&rogue, n)).unwrap()
    })
    .await;
    assert!(ok.fragment().contains_key("code"), "{:?}", ok.location);

    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change)> = vec![
        ("aud", Box::new(|c| c["aud"] = json!("someone-else"))),
        (
            "iss",
            Box::new(|c| c["iss"] = json!("https://evil.example.com")),
        ),
        ("nonce", Box::new(|c| c["nonce"] = json!("another-nonce"))),
        (
            "expired",
            Box::new(|c| {
                let iat = c["iat"].as_i64().unwrap();
                c["iat"] = json!(iat - 7200);
                c["exp"] = json!(iat - 3600);
            }),
        ),
        (
            "no exp",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "no nonce",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
        ),
    ];
    for (what, change) in cases {
        let answer = rogue_round(&down, &rogue, |n| {
            let mut c = id_claims(&rogue, n);
            change(&mut c);
            rogue.keys.sign_json(&c).unwrap()
        })
        .await;
        assert_eq!(answer.fragment()["error"], "invalid_token", "{what}");
    }
    // Signed by another key under the JWKS's kid.
    let answer = rogue_round(&down, &rogue, |n| {
        rogue.other.sign_json(&id_claims(&rogue, n)).unwrap()
    })
    .await;
    assert_eq!(answer.fragment()["error"], "invalid_token", "another key");
    // alg none.
    let answer = rogue_round(&down, &rogue, |n| {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(id_claims(&rogue, n).to_string());
        format!("{header}.{payload}.")
    })
    .await;
    assert_eq!(answer.fragment()["error"], "invalid_token", "alg none");
    // Only the honest sign-in made an account.
    assert_eq!(down.sql_count("SELECT count(*) FROM users").await, 1);
}

#[tokio::test]
async fn github_signs_in_with_its_verified_primary_address() {
    let rogue = Rogue::start(json!([
        {"email": "octo@old.example.com", "primary": false, "verified": true},
        {"email": "octo@example.com", "primary": true, "verified": true},
    ]))
    .await;
    let toml = format!(
        "[accounts]\nallowed_redirects = [\"{APP}\"]\n[[providers]]\nid = \"github\"\nkind = \"github\"\n\
         client_id = \"gh-client\"\nclient_secret = \"gh-secret\"\nauthorization_url = \"{0}/login/oauth/authorize\"\n\
         token_url = \"{0}/login/oauth/access_token\"\napi_url = \"{0}\"\n",
        rogue.url
    );
    let down = spawn_app_with(&toml).await;
    let mut b = Browser::new();
    let started = b
        .get(&down.url(
            "/v1/auth/providers/github/start?redirect_to=https%3A%2F%2Fapp.example.com%2Fdone",
        ))
        .await;
    let to = url::Url::parse(started.location.as_deref().unwrap()).unwrap();
    assert!(to
        .as_str()
        .starts_with(&format!("{}/login/oauth/authorize?", rogue.url)));
    let q: HashMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "read:user user:email");
    assert_eq!(q["code_challenge_method"], "S256");
    let back = b
        .get(&down.url(&format!(
            "/v1/auth/providers/github/callback?code=c&state={}",
            q["state"]
        )))
        .await;
    let tokens: Value = exchange(&down, &back.fragment()["code"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["user"]["email"], "octo@example.com");
    assert_eq!(tokens["user"]["email_confirmed"], true);
    assert_eq!(tokens["user"]["name"], "Octo Cat");
    let ids = down.sql("SELECT subject FROM identities").await;
    assert_eq!(ids, vec![vec!["4242".to_owned()]]);
}

#[tokio::test]
async fn an_unreachable_provider_is_a_502_not_a_500() {
    let toml = provider_toml("up", "http://127.0.0.1:9", "c", "s");
    let down = spawn_app_with(&toml).await;
    let res = down.request(Method::GET, START, None, None).await;
    assert_problem(res, 502, "provider_unavailable").await;
}

#[tokio::test]
async fn an_address_only_at_userinfo_is_read_there_for_the_same_subject() {
    let (rogue, down) = rogue_pair().await;
    let without_email = |n: &str| {
        let mut c = id_claims(&rogue, n);
        let c2 = c.as_object_mut().unwrap();
        c2.remove("email");
        c2.remove("email_verified");
        rogue.keys.sign_json(&c).unwrap()
    };
    // Userinfo about someone else: refused.
    *rogue.state.userinfo.lock().unwrap() =
        json!({"sub": "rogue-2", "email": "other@example.com", "email_verified": true});
    let answer = rogue_round(&down, &rogue, without_email).await;
    assert_eq!(answer.fragment()["error"], "invalid_token");
    // About the ID token's subject: its address counts.
    *rogue.state.userinfo.lock().unwrap() =
        json!({"sub": "rogue-1", "email": "info@example.com", "email_verified": true});
    let answer = rogue_round(&down, &rogue, without_email).await;
    let tokens: Value = exchange(&down, &answer.fragment()["code"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["user"]["email"], "info@example.com");
    assert_eq!(tokens["user"]["email_confirmed"], true);
}

#[tokio::test]
async fn of_concurrent_exchanges_of_one_code_exactly_one_signs_in() {
    let (rogue, down) = rogue_pair().await;
    let answer = rogue_round(&down, &rogue, |n| {
        rogue.keys.sign_json(&id_claims(&rogue, n)).unwrap()
    })
    .await;
    let code = answer.fragment()["code"].clone();
    let url = down.url("/v1/auth/providers/exchange");
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, code) = (down.client.clone(), url.clone(), code.clone());
            tokio::spawn(async move {
                let res = client.post(url).json(&json!({"code": code})).send().await;
                res.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
    assert_eq!(
        down.sql_count("SELECT count(*) FROM sessions").await,
        1,
        "one session"
    );
}

#[tokio::test]
async fn a_user_with_a_second_factor_gets_the_mfa_step_after_the_provider() {
    let (rogue, down) = rogue_pair().await;
    let sign = |n: &str| rogue.keys.sign_json(&id_claims(&rogue, n)).unwrap();
    let first = rogue_round(&down, &rogue, sign).await;
    let tokens: Value = exchange(&down, &first.fragment()["code"])
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let (secret, step, _) = crate::totp::enrol(&down, access).await;

    // The provider is one factor: the exchange answers the MFA step, and
    // the TOTP code finishes it at aal 2 with both methods.
    let again = rogue_round(&down, &rogue, sign).await;
    let step_body: Value = exchange(&down, &again.fragment()["code"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(step_body["mfa_required"], true, "{step_body}");
    let res = down
        .post(
            "/v1/auth/mfa",
            json!({"mfa_token": step_body["mfa_token"], "totp": crate::totp::code(&secret, step + 1)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: Value = res.json().await.unwrap();
    let access = claims(done["access_token"].as_str().unwrap());
    assert_eq!(access["aal"], 2);
    assert_eq!(access["amr"], json!(["fed", "otp"]));
}

#[tokio::test]
async fn starts_share_the_login_rate_limit() {
    let toml = provider_toml("up", "http://127.0.0.1:9", "c", "s");
    let down = spawn_app_with(&format!(
        "{toml}[rate_limit]\nenabled = true\nper_ip_per_minute = 60\nper_ip_burst = 3\n"
    ))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = down.request(Method::GET, START, None, None).await;
        statuses.push(res.status().as_u16());
    }
    // The unreachable provider answers 502 until the bucket is empty.
    assert_eq!(statuses, [502, 502, 502, 429], "{statuses:?}");
}
