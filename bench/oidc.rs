//! Load for the OpenID provider's token paths (issue 19), against a running
//! server with `[oidc] enabled`: a refresh-token rotation (the yardstick),
//! the authorization code flow's two requests, and userinfo, each at a
//! fixed number of requests in flight. `bench/oidc.sh` starts the server,
//! registers the client and runs this; run alone:
//!
//! ```text
//! cargo bench --bench oidc -- WORKLOAD URL CLIENT_ID CLIENT_SECRET [--in-flight N] [--duration S] [--users N]
//! ```
//!
//! WORKLOAD is `refresh` (N users, one session each; each operation
//! rotates one session's refresh token at `POST /v1/auth/refresh`), `code`
//! (N browsers signed in on the hosted `/login`; each operation is `GET
//! /oauth/authorize` with the browser-session cookie — the session check,
//! the consent check and a new code — then `POST /oauth/token` exchanging
//! the code with PKCE and client_secret_basic: a new client session, an
//! access token and an RS256 ID token) or `userinfo` (`GET /oauth/userinfo`
//! with a client's access token), or `exchange`: the code exchange alone
//! (`POST /oauth/token`), each operation exchanging one of `EXCHANGE_CODES`
//! codes made before the clock starts (so the server's `code_ttl` must
//! outlast the setup and the run). The client must skip consent and
//! register `REDIRECT`. One line of `key=value` on stdout, as
//! `bench/factors.rs` prints.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Mutex;

#[path = "load.rs"]
mod load;
use load::{drive, report};

const PASSWORD: &str = "a bench user's long passphrase";
/// The redirect URI the bench client registers.
pub const REDIRECT: &str = "https://bench.example/cb";
/// RFC 7636 Appendix B's verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Args {
    workload: String,
    url: String,
    client_id: String,
    client_secret: String,
    in_flight: usize,
    duration: Duration,
    users: usize,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut positional = Vec::new();
    let (mut in_flight, mut duration, mut users) = (16, 5.0, 32);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--in-flight" => in_flight = value()?.parse().map_err(|e| format!("{e}"))?,
            "--duration" => duration = value()?.parse().map_err(|e| format!("{e}"))?,
            "--users" => users = value()?.parse().map_err(|e| format!("{e}"))?,
            _ => positional.push(a),
        }
    }
    let [workload, url, client_id, client_secret]: [String; 4] = positional
        .try_into()
        .map_err(|_| "usage: oidc WORKLOAD URL CLIENT_ID CLIENT_SECRET [--in-flight N] [--duration S] [--users N]".to_owned())?;
    Ok(Args {
        workload,
        url,
        client_id,
        client_secret,
        in_flight,
        duration: Duration::from_secs_f64(duration),
        users,
    })
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    /// A new user signed up with [`PASSWORD`]: its email and tokens.
    async fn user(&self, n: usize) -> (String, Value) {
        let email = format!("oidc-{}-{n}@bench.example", std::process::id());
        let res = self
            .http
            .post(format!("{}/v1/auth/register", self.url))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "register");
        (email, res.json().await.unwrap())
    }

    /// Signs `email` in on the hosted `/login`; the browser-session cookie.
    async fn browser(&self, email: &str) -> String {
        let res = self
            .http
            .get(format!("{}/login", self.url))
            .send()
            .await
            .unwrap();
        let csrf_cookie = cookie(&res, "toktok-csrf").expect("a CSRF cookie");
        let page = res.text().await.unwrap();
        let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = &page[at..at + page[at..].find('"').unwrap()];
        let res = self
            .http
            .post(format!("{}/login", self.url))
            .header("cookie", format!("toktok-csrf={csrf_cookie}"))
            .form(&[
                ("csrf", csrf),
                ("flow", ""),
                ("email", email),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        // 200 (a page) or 303 (the redirect that follows a sign-in now):
        // either way the browser-session cookie is set.
        assert!(
            matches!(res.status().as_u16(), 200 | 303),
            "hosted sign-in: {}",
            res.status()
        );
        cookie(&res, "toktok").expect("a browser-session cookie")
    }

    /// One authorization: the code for `browser`, or `None`.
    async fn code(&self, a: &Args, browser: &str) -> Option<String> {
        let url = format!(
            "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20email\
             &state=s&nonce=n&code_challenge={CHALLENGE}&code_challenge_method=S256",
            self.url,
            a.client_id,
            url_encode(REDIRECT)
        );
        let res = self
            .http
            .get(url)
            .header("cookie", format!("toktok={browser}"))
            .send()
            .await
            .ok()?;
        let location = res.headers().get("location")?.to_str().ok()?;
        let url = reqwest::Url::parse(location).ok()?;
        let code = url.query_pairs().find(|(k, _)| k == "code")?.1.into_owned();
        Some(code)
    }

    /// Exchanges `code`; the token answer.
    async fn exchange(&self, a: &Args, code: &str) -> Option<Value> {
        let res = self
            .http
            .post(format!("{}/oauth/token", self.url))
            .basic_auth(url_encode(&a.client_id), Some(url_encode(&a.client_secret)))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .ok()?;
        if res.status() != 200 {
            return None;
        }
        res.json().await.ok()
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get_all("set-cookie").iter().find_map(|v| {
        let pair = v.to_str().ok()?.split(';').next()?;
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

async fn refresh(c: Arc<Client>, a: &Args) {
    let mut chains = Vec::new();
    for n in 0..a.users.max(a.in_flight) {
        let (_, tokens) = c.user(n).await;
        chains.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }
    let pool = Arc::new(Mutex::new(chains));
    let (lat, failed, seconds) = drive(a.in_flight, a.duration, move |_| {
        let (c, pool) = (c.clone(), pool.clone());
        async move {
            let token = pool.lock().await.pop()?;
            let res = c
                .http
                .post(format!("{}/v1/auth/refresh", c.url))
                .json(&json!({ "refresh_token": token }))
                .send()
                .await;
            let next = match res {
                Ok(res) if res.status() == 200 => res.json::<Value>().await.ok(),
                _ => None,
            };
            let next = next.and_then(|v| v["refresh_token"].as_str().map(str::to_owned));
            let ok = next.is_some();
            pool.lock().await.push(next.unwrap_or(token));
            Some(ok)
        }
    })
    .await;
    report("refresh", lat, failed, seconds);
}

async fn code(c: Arc<Client>, a: Arc<Args>) {
    let mut browsers = Vec::new();
    for n in 0..a.users.max(a.in_flight) {
        let (email, _) = c.user(n).await;
        browsers.push(c.browser(&email).await);
    }
    let pool = Arc::new(Mutex::new(browsers));
    let (lat, failed, seconds) = drive(a.in_flight, a.duration, move |_| {
        let (c, a, pool) = (c.clone(), a.clone(), pool.clone());
        async move {
            let browser = pool.lock().await.pop()?;
            let ok = match c.code(&a, &browser).await {
                Some(code) => c
                    .exchange(&a, &code)
                    .await
                    .is_some_and(|t| t["id_token"].is_string() && t["access_token"].is_string()),
                None => false,
            };
            pool.lock().await.push(browser);
            Some(ok)
        }
    })
    .await;
    report("code", lat, failed, seconds);
}

/// Codes `exchange` makes before its clock starts; more than a run uses.
const EXCHANGE_CODES: usize = 16_000;

async fn exchange(c: Arc<Client>, a: Arc<Args>) {
    let mut browsers = Vec::new();
    for n in 0..a.users.max(a.in_flight) {
        let (email, _) = c.user(n).await;
        browsers.push(c.browser(&email).await);
    }
    let browsers = Arc::new(browsers);
    let mut tasks = Vec::new();
    for k in 0..a.in_flight {
        let (c, a, browsers) = (c.clone(), a.clone(), browsers.clone());
        tasks.push(tokio::spawn(async move {
            let mut codes = Vec::new();
            for n in (k..EXCHANGE_CODES).step_by(a.in_flight) {
                codes.push(
                    c.code(&a, &browsers[n % browsers.len()])
                        .await
                        .expect("a code"),
                );
            }
            codes
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.extend(t.await.unwrap());
    }
    let codes = Arc::new(codes);
    let (lat, failed, seconds) = drive(a.in_flight, a.duration, move |i| {
        let (c, a, codes) = (c.clone(), a.clone(), codes.clone());
        async move {
            let code = codes.get(i)?;
            let ok = c
                .exchange(&a, code)
                .await
                .is_some_and(|t| t["id_token"].is_string() && t["access_token"].is_string());
            Some(ok)
        }
    })
    .await;
    report("exchange", lat, failed, seconds);
}

async fn userinfo(c: Arc<Client>, a: Arc<Args>) {
    let (email, _) = c.user(0).await;
    let browser = c.browser(&email).await;
    let code = c.code(&a, &browser).await.expect("a code");
    let tokens = c.exchange(&a, &code).await.expect("tokens");
    let access = Arc::new(tokens["access_token"].as_str().unwrap().to_owned());
    let (lat, failed, seconds) = drive(a.in_flight, a.duration, move |_| {
        let (c, access) = (c.clone(), access.clone());
        async move {
            let res = c
                .http
                .get(format!("{}/oauth/userinfo", c.url))
                .bearer_auth(access.as_str())
                .send()
                .await;
            Some(matches!(res, Ok(r) if r.status() == 200))
        }
    })
    .await;
    report("userinfo", lat, failed, seconds);
}

fn main() {
    let a = match args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("oidc: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(a.in_flight)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let c = Arc::new(Client {
            http,
            url: a.url.clone(),
        });
        match a.workload.as_str() {
            "refresh" => refresh(c, &a).await,
            "code" => code(c, a.clone()).await,
            "userinfo" => userinfo(c, a.clone()).await,
            "exchange" => exchange(c, a.clone()).await,
            other => {
                eprintln!("oidc: unknown workload {other} (refresh | code | userinfo | exchange)");
                std::process::exit(2);
            }
        }
    });
}
