//! The authorization step of the OpenID provider (issue 19): `/oauth/authorize`
//! and the hosted pages, driven like a browser with a cookie jar and no
//! JavaScript (form posts), redirects followed by hand so that each hop is
//! checked.

use std::collections::HashMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};

pub(crate) const OIDC: &str = "[oidc]\nenabled = true\n";
pub(crate) const REDIRECT: &str = "https://wiki.example.com/oauth/callback";
/// The verifier of the tests' PKCE (RFC 7636 Appendix B) and its S256.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A browser: a client that follows no redirect, and its cookies.
pub(crate) struct Browser {
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

/// One answer, read.
pub(crate) struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the hidden or text input `name` in the page.
    pub fn input(&self, name: &str) -> String {
        input_in(&self.body, name)
    }

    /// The path and query of the redirect, for the next request.
    pub fn next(&self) -> String {
        self.location.clone().expect("a redirect")
    }
}

/// The value of the hidden or text input `name` in the page `body`.
pub(crate) fn input_in(body: &str, name: &str) -> String {
    let at = body
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no input {name} in {body}"));
    let rest = &body[at..];
    let value = rest.find("value=\"").unwrap() + 7;
    let end = rest[value..].find('"').unwrap();
    rest[value..value + end]
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new() -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, res: reqwest::Response) -> Page {
        for value in res.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        Page {
            status: res.status(),
            location: res
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, app: &TestApp, path: &str) -> Page {
        let res = self
            .client
            .request(Method::GET, app.url(path))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    pub async fn post(&mut self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
        let res = self
            .client
            .post(app.url(path))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.read(res).await
    }
}

/// A registered client; answers its id (and secret, if confidential).
pub(crate) async fn client(app: &TestApp, body: Value) -> Value {
    let key = app.api_key(&["admin"]).await;
    let res = app
        .request(
            Method::POST,
            "/v1/admin/oauth-clients",
            Some(&key),
            Some(body),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

pub(crate) fn wiki() -> Value {
    json!({
        "name": "Wiki",
        "type": "confidential",
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": ["https://wiki.example.com/bye"],
        "scopes": ["openid", "profile", "email", "offline_access"],
    })
}

/// `/oauth/authorize` for `client_id` with PKCE, `state` and `nonce`, and
/// `extra` parameters.
pub(crate) fn authorize_url(client_id: &str, extra: &str) -> String {
    format!(
        "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
         &scope=openid%20email&state=st-1&nonce=n-1&code_challenge={CHALLENGE}\
         &code_challenge_method=S256{extra}",
        urlencode(REDIRECT)
    )
}

pub(crate) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The query parameters of a redirect to the client.
pub(crate) fn params(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

/// Fills the sign-in form of the page at `/login?…` as a person would.
pub(crate) async fn sign_in(b: &mut Browser, app: &TestApp, login_path: &str, email: &str) -> Page {
    let page = b.get(app, login_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (csrf, flow) = (page.input("csrf"), page.input("flow"));
    b.post(
        app,
        "/login",
        &[
            ("csrf", &csrf),
            ("flow", &flow),
            ("email", email),
            ("password", PASSWORD),
        ],
    )
    .await
}

/// Allows on the consent page at `path`.
pub(crate) async fn allow(b: &mut Browser, app: &TestApp, path: &str) -> Page {
    let page = b.get(app, path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (csrf, flow) = (page.input("csrf"), page.input("flow"));
    b.post(
        app,
        "/consent",
        &[("csrf", &csrf), ("flow", &flow), ("decision", "allow")],
    )
    .await
}

/// The whole authorization with a fresh browser: sign-in, consent; answers
/// the redirect's parameters (with `code`) and the browser.
pub(crate) async fn authorized(
    app: &TestApp,
    client_id: &str,
    email: &str,
) -> (HashMap<String, String>, Browser) {
    let mut b = Browser::new();
    let start = b.get(app, &authorize_url(client_id, "")).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let signed = sign_in(&mut b, app, &start.next(), email).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    if !signed.next().starts_with("/consent") {
        // Consented before.
        return (params(&signed.next()), b);
    }
    let done = allow(&mut b, app, &signed.next()).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    (params(&done.next()), b)
}

#[tokio::test]
async fn sign_in_consent_and_a_code_then_sso_without_a_prompt() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let start = b.get(&app, &authorize_url(id, "")).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    assert!(
        start.next().starts_with("/login?flow="),
        "{:?}",
        start.location
    );
    let login = b.get(&app, &start.next()).await;
    assert!(login.body.contains("to continue to <strong>Wiki</strong>"));
    let signed = sign_in(&mut b, &app, &start.next(), "ada@example.com").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert!(
        b.cookies.contains_key("toktok"),
        "the browser session cookie"
    );
    let set = signed
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with("toktok=")).unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Path=/"),
        "{session}"
    );
    assert!(signed.next().starts_with("/consent?flow="));
    let consent = b.get(&app, &signed.next()).await;
    assert!(
        consent.body.contains("See your email address"),
        "{}",
        consent.body
    );
    let done = allow(&mut b, &app, &signed.next()).await;
    let location = done.next();
    assert!(
        location.starts_with(&format!("{REDIRECT}?code=")),
        "{location}"
    );
    let p = params(&location);
    assert_eq!(p["state"], "st-1");
    assert_eq!(p["iss"], "http://127.0.0.1:8080", "RFC 9207");
    let hash = toktok::auth::sha256_hex(&p["code"]);
    let rows = app
        .sql(&format!(
            "SELECT client_id, scope, nonce, code_challenge, expires_at - created_at FROM oauth_codes WHERE code_hash = '{hash}'"
        ))
        .await;
    assert_eq!(rows[0], [id, "openid email", "n-1", CHALLENGE, "60"]);
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM audit_events WHERE kind = 'oauth.consent_granted'")
            .await,
        1
    );
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM audit_events WHERE kind = 'oauth.authorized'")
            .await,
        1
    );
    // Again: no password, no consent (remembered): straight back with a code.
    let again = b.get(&app, &authorize_url(id, "")).await;
    assert!(
        again.next().starts_with(&format!("{REDIRECT}?code=")),
        "{:?}",
        again.location
    );
    // A second client: no password (SSO), its own consent.
    let other = client(
        &app,
        json!({"name": "Tracker", "type": "public", "redirect_uris": [REDIRECT]}),
    )
    .await;
    let other_id = other["client_id"].as_str().unwrap();
    let start = b.get(&app, &authorize_url(other_id, "")).await;
    assert!(
        start.next().starts_with("/consent?flow="),
        "{:?}",
        start.location
    );
    let done = allow(&mut b, &app, &start.next()).await;
    assert!(params(&done.next()).contains_key("code"));
    // A client that skips consent goes straight back.
    let mut trusted = wiki();
    trusted["skip_consent"] = json!(true);
    let trusted = client(&app, trusted).await;
    let start = Browser::new()
        .get(
            &app,
            &authorize_url(trusted["client_id"].as_str().unwrap(), ""),
        )
        .await;
    assert!(start.next().starts_with("/login"));
    let res = b
        .get(
            &app,
            &authorize_url(trusted["client_id"].as_str().unwrap(), ""),
        )
        .await;
    assert!(params(&res.next()).contains_key("code"));
}

#[tokio::test]
async fn prompt_none_never_shows_a_page() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let res = b.get(&app, &authorize_url(id, "&prompt=none")).await;
    let p = params(&res.next());
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("login_required", "st-1")
    );
    assert_eq!(p["iss"], "http://127.0.0.1:8080");
    // Signed in but not consented: consent_required.
    let start = b.get(&app, &authorize_url(id, "")).await;
    let signed = sign_in(&mut b, &app, &start.next(), "ada@example.com").await;
    assert!(signed.next().starts_with("/consent"));
    let res = b.get(&app, &authorize_url(id, "&prompt=none")).await;
    assert_eq!(params(&res.next())["error"], "consent_required");
    allow(&mut b, &app, &signed.next()).await;
    let res = b.get(&app, &authorize_url(id, "&prompt=none")).await;
    assert!(params(&res.next()).contains_key("code"));
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_a_fresh_sign_in_once() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let (_, mut b) = authorized(&app, id, "ada@example.com").await;
    app.clock.advance(120);
    for extra in ["&prompt=login", "&max_age=60", "&max_age=0"] {
        let start = b.get(&app, &authorize_url(id, extra)).await;
        assert!(
            start.next().starts_with("/login?flow="),
            "{extra}: {:?}",
            start.location
        );
        let signed = sign_in(&mut b, &app, &start.next(), "ada@example.com").await;
        // Signed in again during this request: on to the client, no loop.
        assert!(
            signed.next().starts_with(REDIRECT),
            "{extra}: {:?}",
            signed.location
        );
        app.clock.advance(120);
    }
    // A recent enough sign-in passes max_age.
    let res = b.get(&app, &authorize_url(id, "&max_age=3600")).await;
    assert!(res.next().starts_with(REDIRECT));
    // consent is asked again with prompt=consent.
    let res = b.get(&app, &authorize_url(id, "&prompt=consent")).await;
    assert!(res.next().starts_with("/consent"));
}

#[tokio::test]
async fn redirect_uris_differing_in_any_way_get_an_error_page_never_a_redirect() {
    let app = spawn_app_with(OIDC).await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let ok = b.get(&app, &authorize_url(id, "")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    for bad in [
        "https://wiki.example.com/oauth/callback/",
        "https://WIKI.example.com/oauth/callback",
        "https://wiki.example.com/OAUTH/callback",
        "https://wiki.example.com/oauth/callback?x=1",
        "https://wiki.example.com@evil.example/oauth/callback",
        "https://good@wiki.example.com/oauth/callback",
        "https://wiki.example.com/oauth",
        "https://wiki.example.com/oauth/callback/more",
        "https://wiki.example.com:443/oauth/callback",
        "http://wiki.example.com/oauth/callback",
        "https://evil.example/",
    ] {
        let path = authorize_url(id, "").replace(&urlencode(REDIRECT), &urlencode(bad));
        // Even with errors that would otherwise be redirected.
        for extra in ["", "&prompt=bogus", "&code_challenge_method=plain"] {
            let res = b.get(&app, &format!("{path}{extra}")).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}{extra}");
            assert!(res.location.is_none(), "{bad}{extra}: redirected");
            assert!(res.body.contains("did not register"), "{bad}: {}", res.body);
        }
    }
    // An unknown client, or none: the page too.
    for path in [
        authorize_url("00000000-0000-0000-0000-000000000000", ""),
        authorize_url("", ""),
        "/oauth/authorize".to_owned(),
        "/oauth/authorize?%zz".to_owned(),
    ] {
        let res = b.get(&app, &path).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(res.location.is_none());
    }
}

#[tokio::test]
async fn pkce_is_required_and_s256_only_errors_go_back_with_state_and_iss() {
    let app = spawn_app_with(OIDC).await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let without = authorize_url(id, "").replace(
        &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
        "",
    );
    let plain =
        authorize_url(id, "").replace("code_challenge_method=S256", "code_challenge_method=plain");
    let cases = [
        (without, "invalid_request"),
        (plain, "invalid_request"),
        (
            authorize_url(id, "").replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            authorize_url(id, "").replace("scope=openid%20email", "scope=openid%20admin"),
            "invalid_scope",
        ),
        (authorize_url(id, "&prompt=none%20login"), "invalid_request"),
    ];
    for (path, error) in cases {
        let res = b.get(&app, &path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
        let location = res.next();
        assert!(location.starts_with(REDIRECT), "{location}");
        let p = params(&location);
        assert_eq!(p["error"], error, "{path}");
        assert_eq!(p["state"], "st-1");
        assert_eq!(p["iss"], "http://127.0.0.1:8080");
        assert!(!p.contains_key("code"));
    }
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused_and_pages_cannot_be_framed() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let start = b.get(&app, &authorize_url(id, "")).await;
    let login = b.get(&app, &start.next()).await;
    {
        let page = &login;
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert!(
            !csp.contains("script-src"),
            "no script on the sign-in page: {csp}"
        );
    }
    let flow = login.input("flow");
    let csrf = login.input("csrf");
    let form = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("flow".to_owned(), flow.clone()),
            ("email".to_owned(), "ada@example.com".to_owned()),
            ("password".to_owned(), PASSWORD.to_owned()),
        ]
    };
    fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
    }
    // No token, a made-up token, and the right token from a browser whose
    // cookie is gone (a cross-site post).
    for token in ["", "AAAA"] {
        let f = form(token);
        let res = b.post(&app, "/login", &as_refs(&f)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{token}");
    }
    let mut stranger = Browser::new();
    let f = form(&csrf);
    let res = stranger.post(&app, "/login", &as_refs(&f)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(!stranger.cookies.contains_key("toktok"));
    // Another browser's token with this browser's cookie.
    let other = Browser::new().get(&app, &start.next()).await;
    let f = form(&other.input("csrf"));
    let res = b.post(&app, "/login", &as_refs(&f)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM sessions").await,
        1,
        "only the sign-up's"
    );
    // The right one signs in; the consent form checks its token too.
    let f = form(&csrf);
    let signed = b.post(&app, "/login", &as_refs(&f)).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let consent = b.get(&app, &signed.next()).await;
    let csp = consent.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let cflow = consent.input("flow");
    let res = b
        .post(
            &app,
            "/consent",
            &[("csrf", ""), ("flow", &cflow), ("decision", "allow")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM oauth_codes").await, 0);
    // A changed flow does not open.
    let mut tampered = cflow.clone();
    tampered.insert(3, 'x');
    let res = b
        .post(
            &app,
            "/consent",
            &[
                ("csrf", &consent.input("csrf")),
                ("flow", &tampered),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    // Deny goes back with access_denied.
    let res = b
        .post(
            &app,
            "/consent",
            &[
                ("csrf", &consent.input("csrf")),
                ("flow", &cflow),
                ("decision", "deny"),
            ],
        )
        .await;
    let p = params(&res.next());
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("access_denied", "st-1")
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_the_second_factor_step_works() {
    let app = spawn_app_with(OIDC).await;
    let t = app.signed_up("ada@example.com").await;
    let (secret, step, codes) = crate::totp::enrol(&app, &t.access).await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let start = b.get(&app, &authorize_url(id, "")).await;
    let login = b.get(&app, &start.next()).await;
    let (csrf, flow) = (login.input("csrf"), login.input("flow"));
    let wrong = b
        .post(
            &app,
            "/login",
            &[
                ("csrf", &csrf),
                ("flow", &flow),
                ("email", "ada@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("role=\"alert\""), "{}", wrong.body);
    assert_eq!(wrong.input("email"), "ada@example.com");
    let step_page = sign_in(&mut b, &app, &start.next(), "ada@example.com").await;
    assert_eq!(step_page.status, StatusCode::OK, "{}", step_page.body);
    assert!(
        !b.cookies.contains_key("toktok"),
        "no session before the second factor"
    );
    let mfa = step_page.input("mfa_token");
    let form = |code: &str| {
        vec![
            ("csrf", step_page.input("csrf")),
            ("flow", step_page.input("flow")),
            ("mfa_token", mfa.clone()),
            ("totp", code.to_owned()),
        ]
    };
    fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        v.iter().map(|(a, b)| (*a, b.as_str())).collect()
    }
    let f = form("000000");
    let again = b.post(&app, "/login/mfa", &refs(&f)).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{}", again.body);
    let f = form(&crate::totp::code(&secret, step + 1));
    let done = b.post(&app, "/login/mfa", &refs(&f)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.next().starts_with("/consent"));
    let sid = b.cookies["toktok"].split('.').next().unwrap().to_owned();
    let rows = app
        .sql(&format!("SELECT aal, amr FROM sessions WHERE id = '{sid}'"))
        .await;
    assert_eq!(rows[0], ["2", "[\"pwd\",\"otp\"]"]);
    // A recovery code works on the page too.
    let mut b2 = Browser::new();
    let step2 = sign_in(&mut b2, &app, &start.next(), "ada@example.com").await;
    let done = b2
        .post(
            &app,
            "/login/mfa",
            &[
                ("csrf", &step2.input("csrf")),
                ("flow", &step2.input("flow")),
                ("mfa_token", &step2.input("mfa_token")),
                ("recovery_code", &codes[0]),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
}

#[tokio::test]
async fn every_way_a_session_ends_ends_the_browser_session() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    // logout-all from the API.
    let (_, mut b) = authorized(&app, id, "ada@example.com").await;
    let t = app.signed_in("ada@example.com").await;
    let res = app
        .request(Method::POST, "/v1/auth/logout-all", Some(&t.access), None)
        .await;
    assert!(res.status().is_success());
    let res = b.get(&app, &authorize_url(id, "")).await;
    assert!(res.next().starts_with("/login"), "{:?}", res.location);
    // An admin disabling the user.
    let (_, mut b) = authorized(&app, id, "ada@example.com").await;
    let uid = app.sql("SELECT id FROM users").await[0][0].clone();
    let key = app.api_key(&["admin"]).await;
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{uid}"),
            Some(&key),
            Some(json!({"disabled": true})),
        )
        .await;
    assert!(res.status().is_success());
    let res = b.get(&app, &authorize_url(id, "")).await;
    assert!(res.next().starts_with("/login"));
    // A cookie for a session it was not made for is nobody's.
    let sid = app
        .sql("SELECT id FROM sessions ORDER BY created_at DESC LIMIT 1")
        .await[0][0]
        .clone();
    let mut forged = Browser::new();
    forged.cookies.insert(
        "toktok".into(),
        format!("{sid}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    );
    let res = forged.get(&app, &authorize_url(id, "")).await;
    assert!(res.next().starts_with("/login"));
}

#[tokio::test]
async fn rp_initiated_logout_confirms_then_ends_the_browser_session() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let (_, mut b) = authorized(&app, id, "ada@example.com").await;
    let sid = b.cookies["toktok"].split('.').next().unwrap().to_owned();
    // Unregistered return address, or one without a client: a page.
    for query in [
        format!(
            "client_id={id}&post_logout_redirect_uri={}",
            urlencode("https://evil.example/")
        ),
        format!(
            "post_logout_redirect_uri={}",
            urlencode("https://wiki.example.com/bye")
        ),
        "id_token_hint=not.a.token".to_owned(),
    ] {
        let res = b.get(&app, &format!("/oauth/logout?{query}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(res.location.is_none());
    }
    let query = format!(
        "client_id={id}&post_logout_redirect_uri={}&state=bye-1",
        urlencode("https://wiki.example.com/bye")
    );
    let confirm = b.get(&app, &format!("/oauth/logout?{query}")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("Wiki asks to sign you out"),
        "{}",
        confirm.body
    );
    // A GET alone signs nobody out.
    let res = b.get(&app, &authorize_url(id, "")).await;
    assert!(res.next().starts_with(REDIRECT));
    let res = b
        .post(
            &app,
            "/logout",
            &[("csrf", ""), ("flow", &confirm.input("flow"))],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = b
        .post(
            &app,
            "/logout",
            &[
                ("csrf", &confirm.input("csrf")),
                ("flow", &confirm.input("flow")),
            ],
        )
        .await;
    assert_eq!(res.next(), "https://wiki.example.com/bye?state=bye-1");
    assert!(!b.cookies.contains_key("toktok"));
    let revoked = app
        .sql(&format!(
            "SELECT revoked_reason FROM sessions WHERE id = '{sid}'"
        ))
        .await;
    assert_eq!(revoked[0][0], "logout");
    let res = b.get(&app, &authorize_url(id, "")).await;
    assert!(res.next().starts_with("/login"));
}

#[tokio::test]
async fn settings_say_whether_oidc_is_on() {
    for (extra, on) in [("", false), (OIDC, true)] {
        let app = spawn_app_with(extra).await;
        let body: Value = app
            .client
            .get(app.url("/v1/settings"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["oidc"], json!({ "enabled": on }));
    }
}

#[tokio::test]
async fn with_oidc_off_the_authorize_endpoint_is_404() {
    let app = crate::helpers::spawn_app().await;
    let mut b = Browser::new();
    let res = b.get(&app, &authorize_url("x", "")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = b.get(&app, "/oauth/logout").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

/// `POST /oauth/token` with client_secret_post.
async fn token(app: &TestApp, c: &Value, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut body: Vec<(&str, &str)> = form.to_vec();
    body.push(("client_id", c["client_id"].as_str().unwrap()));
    body.push(("client_secret", c["client_secret"].as_str().unwrap()));
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .form(&body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn end_to_end_code_tokens_userinfo_sso_and_logout() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let wiki = client(&app, wiki()).await;
    let (p, mut b) = authorized(&app, wiki["client_id"].as_str().unwrap(), "ada@example.com").await;
    let browser_sid = b.cookies["toktok"].split('.').next().unwrap().to_owned();
    let (status, t) = token(
        &app,
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(
        id["sid"],
        browser_sid.as_str(),
        "the ID token names the browser session"
    );
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["aud"], wiki["client_id"]);
    let res = app
        .get_auth("/oauth/userinfo", t["access_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["email"], "ada@example.com");
    // SSO: a second client gets a code without a password.
    let tracker = client(&app, json!({"name": "Tracker", "type": "confidential", "redirect_uris": [REDIRECT], "skip_consent": true})).await;
    let start = b
        .get(
            &app,
            &authorize_url(tracker["client_id"].as_str().unwrap(), ""),
        )
        .await;
    let p2 = params(&start.next());
    let (status, t2) = token(
        &app,
        &tracker,
        &[
            ("grant_type", "authorization_code"),
            ("code", &p2["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t2}");
    // RP-initiated logout from the wiki ends the browser session and every
    // client session issued from it.
    let hint = t["id_token"].as_str().unwrap();
    let confirm = b
        .get(
            &app,
            &format!(
                "/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
                urlencode("https://wiki.example.com/bye")
            ),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let done = b
        .post(
            &app,
            "/logout",
            &[
                ("csrf", &confirm.input("csrf")),
                ("flow", &confirm.input("flow")),
            ],
        )
        .await;
    assert_eq!(done.next(), "https://wiki.example.com/bye");
    for (c, t) in [(&wiki, &t), (&tracker, &t2)] {
        let (status, body) = token(
            &app,
            c,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_grant");
        let res = app
            .get_auth("/oauth/userinfo", t["access_token"].as_str().unwrap())
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn logout_all_ends_every_clients_tokens_and_the_sso() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let wiki = client(&app, wiki()).await;
    let (p, mut b) = authorized(&app, wiki["client_id"].as_str().unwrap(), "ada@example.com").await;
    let (_, t) = token(
        &app,
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    let own = app.signed_in("ada@example.com").await;
    let res = app
        .request(Method::POST, "/v1/auth/logout-all", Some(&own.access), None)
        .await;
    assert!(res.status().is_success());
    let (status, _) = token(
        &app,
        &wiki,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let res = b
        .get(
            &app,
            &authorize_url(wiki["client_id"].as_str().unwrap(), ""),
        )
        .await;
    assert!(res.next().starts_with("/login"));
}

/// The CSP of a page whose form answers with a redirect to the client lets
/// that redirect through: Chromium checks `form-action` on every hop of a
/// form submission, so `'self'` alone left a real browser on the consent
/// page after Allow (tests/browser/oidc.mjs found it). Only the origin of
/// the request's registered redirect URI is added; a page without a flow
/// keeps `'self'` alone.
#[tokio::test]
async fn pages_that_redirect_to_the_client_allow_its_origin_in_form_action() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let csp = |page: &Page| {
        page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let client_origin = "form-action 'self' https://wiki.example.com;";
    let mut b = Browser::new();
    let start = b.get(&app, &authorize_url(id, "")).await;
    let login = b.get(&app, &start.next()).await;
    assert!(csp(&login).contains(client_origin), "{}", csp(&login));
    let signed = sign_in(&mut b, &app, &start.next(), "ada@example.com").await;
    let consent = b.get(&app, &signed.next()).await;
    assert_eq!(consent.status, StatusCode::OK);
    assert!(csp(&consent).contains(client_origin), "{}", csp(&consent));
    let query = format!(
        "client_id={id}&post_logout_redirect_uri={}",
        urlencode("https://wiki.example.com/bye")
    );
    let confirm = b.get(&app, &format!("/oauth/logout?{query}")).await;
    assert!(csp(&confirm).contains(client_origin), "{}", csp(&confirm));
    // Without a flow: toktok's own sign-in, forms to toktok only.
    let own = Browser::new().get(&app, "/login").await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(csp(&own).contains("form-action 'self'; "), "{}", csp(&own));
}
