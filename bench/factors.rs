//! Load for the sign-in paths of issue 18, against a running server:
//! password sign-in, passkey sign-in (usernameless), and the TOTP step of
//! a sign-in, each at a fixed number of requests in flight, reporting
//! sign-ins per second and latency percentiles. `bench/factors.sh` starts
//! the servers and runs this; run alone:
//!
//! ```text
//! cargo bench --bench factors -- WORKLOAD URL [--in-flight N] [--duration S] [--users N]
//! ```
//!
//! WORKLOAD is `password` (N users sign in with their password, again and
//! again), `passkey` (N users each register a software passkey, then sign
//! in with it, again and again: options, assertion, verify) or `totp` (N
//! users enrol TOTP; each signs in with a password to reach the MFA step
//! before the clock starts; the measured part is the MFA step itself,
//! `POST /v1/auth/mfa` with a fresh code, once per user, since a code never
//! verifies twice), or `email_code` (N users each ask for a sign-in code by
//! mail; the server writes the mail to its dev outbox, `$OUTBOX`, whence the
//! codes are read before the clock starts; the measured part is
//! `POST /v1/auth/email-code/verify` with the address and the code, once per
//! user). One line of `key=value` on stdout:
//! `workload=… ok=… failed=… seconds=… rate=… p50_ms=… p99_ms=…`.
//!
//! The software passkey is the test suite's own authenticator
//! (`tests/api/authenticator.rs`), written from the WebAuthn spec, not
//! from the server's code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Mutex;

#[allow(dead_code, clippy::all)]
#[path = "../tests/api/authenticator.rs"]
mod authenticator;

#[path = "load.rs"]
mod load;
use load::{drive, report};

const PASSWORD: &str = "a bench user's long passphrase";

struct Args {
    workload: String,
    url: String,
    in_flight: usize,
    duration: Duration,
    users: usize,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    let workload = it.next().ok_or("usage: factors WORKLOAD URL [options]")?;
    let url = it.next().ok_or("missing URL")?;
    let mut a = Args {
        workload,
        url: url.trim_end_matches('/').to_owned(),
        in_flight: 16,
        duration: Duration::from_secs(5),
        users: 16,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let n: u64 = value.parse().map_err(|_| format!("{flag}: not a number"))?;
        match flag.as_str() {
            "--in-flight" => a.in_flight = n as usize,
            "--duration" => a.duration = Duration::from_secs(n),
            "--users" => a.users = n as usize,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

/// RFC 6238 (SHA-1, 6 digits, 30 s) for `step`, with ring's HMAC: the
/// bench's own code, not the server's.
fn totp(secret_b32: &str, step: u64) -> String {
    let key = base32_decode(secret_b32);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key);
    let mac = ring::hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let at = (mac[19] & 0x0f) as usize;
    let n = u32::from_be_bytes([mac[at] & 0x7f, mac[at + 1], mac[at + 2], mac[at + 3]]);
    format!("{:06}", n % 1_000_000)
}

fn base32_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut acc, mut out) = (0u32, 0u32, Vec::new());
    for c in s.trim_end_matches('=').bytes() {
        let v = alphabet
            .iter()
            .position(|&a| a == c.to_ascii_uppercase())
            .unwrap_or(0) as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn now_step() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    now / 30
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.url)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                (status, res.json().await.unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({ "error": e.to_string() })),
        }
    }

    /// A new user signed up with [`PASSWORD`]; its access token.
    async fn user(&self, n: usize) -> String {
        let email = format!("bench-{}-{n}@bench.example", std::process::id());
        let body = json!({ "email": email, "password": PASSWORD });
        let (status, v) = self.post("/v1/auth/register", None, body).await;
        assert_eq!(status, 201, "register: {v}");
        v["access_token"].as_str().unwrap().to_owned()
    }
}

async fn password(c: Arc<Client>, a: &Args) {
    let mut emails = Vec::new();
    for n in 0..a.users {
        let token = c.user(n).await;
        let (_, me) = c.http_get_me(&token).await;
        emails.push(me["email"].as_str().unwrap().to_owned());
    }
    let emails = Arc::new(emails);
    let c2 = c.clone();
    let (lat, failed, s) = drive(a.in_flight, a.duration, move |i| {
        let (c, emails) = (c2.clone(), emails.clone());
        async move {
            let email = &emails[i % emails.len()];
            let body = json!({ "email": email, "password": PASSWORD });
            let (status, _) = c.post("/v1/auth/login", None, body).await;
            Some(status == 200)
        }
    })
    .await;
    report("password", lat, failed, s);
}

impl Client {
    async fn http_get_me(&self, token: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("{}/v1/users/me", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }
}

async fn totp_step(c: Arc<Client>, a: &Args) {
    // Setup: users with TOTP, each signed in with a password up to the
    // MFA step. The code for the next time step (drift +1 is accepted)
    // is unused: the confirmation used the current one.
    let pool = setup(a.users, a.in_flight, {
        let c = c.clone();
        move |n| {
            let c = c.clone();
            async move { totp_user(&c, n).await }
        }
    })
    .await;
    let pool = Arc::new(pool);
    let c2 = c.clone();
    let (lat, failed, s) = drive(a.in_flight, a.duration, move |i| {
        let (c, pool) = (c2.clone(), pool.clone());
        async move {
            let (mfa_token, secret, step) = pool.get(i)?;
            let code = totp(secret, (*step + 1).max(now_step()));
            let body = json!({ "mfa_token": mfa_token, "totp": code });
            let (status, _) = c.post("/v1/auth/mfa", None, body).await;
            Some(status == 200)
        }
    })
    .await;
    report("totp", lat, failed, s);
}

/// Runs `make(n)` for `n` in `0..count`, `in_flight` at once; the results
/// in order.
async fn setup<T, F, Fut>(count: usize, in_flight: usize, make: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let make = Arc::new(make);
    let mut tasks = Vec::new();
    for k in 0..in_flight.max(1) {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for n in (k..count).step_by(in_flight.max(1)) {
                out.push((n, make(n).await));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_by_key(|(n, _)| *n);
    all.into_iter().map(|(_, t)| t).collect()
}

/// A user with TOTP, signed in with a password up to the MFA step: its
/// `mfa_token`, TOTP secret and the time step its confirmation used.
async fn totp_user(c: &Client, n: usize) -> (String, String, u64) {
    {
        let token = c.user(n).await;
        let (status, v) = c.post("/v1/users/me/totp", Some(&token), json!({})).await;
        assert_eq!(status, 200, "totp enrol: {v}");
        let secret = v["secret"].as_str().unwrap().to_owned();
        let step = now_step();
        let (status, v) = c
            .post(
                "/v1/users/me/totp/confirm",
                Some(&token),
                json!({ "code": totp(&secret, step) }),
            )
            .await;
        assert_eq!(status, 200, "totp confirm: {v}");
        let (_, me) = c.http_get_me(&token).await;
        let body = json!({ "email": me["email"], "password": PASSWORD });
        let (status, v) = c.post("/v1/auth/login", None, body).await;
        assert_eq!(status, 200, "login: {v}");
        let mfa_token = v["mfa_token"].as_str().unwrap().to_owned();
        (mfa_token, secret, step)
    }
}

async fn email_code(c: Arc<Client>, a: &Args) {
    let outbox = std::path::PathBuf::from(std::env::var("OUTBOX").expect("OUTBOX: the dev outbox"));
    let emails = setup(a.users, a.in_flight, {
        let c = c.clone();
        move |n| {
            let c = c.clone();
            async move {
                let token = c.user(n).await;
                let (_, me) = c.http_get_me(&token).await;
                let email = me["email"].as_str().unwrap().to_owned();
                let (status, v) = c
                    .post("/v1/auth/email-code", None, json!({ "email": email }))
                    .await;
                assert_eq!(status, 202, "email-code: {v}");
                email
            }
        }
    })
    .await;
    // The outbox is worked through in the background: wait for every code.
    let mut codes = std::collections::HashMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while codes.len() < emails.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} codes in the outbox",
            codes.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        for entry in std::fs::read_dir(&outbox).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            let header = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_owned())
            };
            let (Some(to), Some(subject)) = (header("To:"), header("Subject:")) else {
                continue;
            };
            if let Some((_, code)) = subject.rsplit_once("sign-in code: ") {
                codes.insert(to.trim_matches(['<', '>']).to_owned(), code.to_owned());
            }
        }
    }
    let pool: Vec<(String, String)> = emails
        .into_iter()
        .map(|e| {
            let code = codes[&e].clone();
            (e, code)
        })
        .collect();
    let pool = Arc::new(pool);
    let c2 = c.clone();
    let (lat, failed, s) = drive(a.in_flight, a.duration, move |i| {
        let (c, pool) = (c2.clone(), pool.clone());
        async move {
            let (email, code) = pool.get(i)?;
            let body = json!({ "email": email, "code": code });
            let (status, _) = c.post("/v1/auth/email-code/verify", None, body).await;
            Some(status == 200)
        }
    })
    .await;
    report("email_code", lat, failed, s);
}

async fn passkey(c: Arc<Client>, a: &Args) {
    let origin = c.url.clone();
    let rp_id = url_host(&origin);
    let mut keys = Vec::new();
    for n in 0..a.users {
        let token = c.user(n).await;
        let (status, v) = c
            .post("/v1/users/me/passkeys/options", Some(&token), json!({}))
            .await;
        assert_eq!(status, 200, "passkey options: {v}");
        let mut auth = authenticator::Authenticator::new(&rp_id, &origin);
        let credential = auth.create(&v["options"]);
        let body = json!({ "flow_id": v["flow_id"], "credential": credential });
        let (status, v) = c.post("/v1/users/me/passkeys", Some(&token), body).await;
        assert_eq!(status, 201, "passkey register: {v}");
        keys.push(Mutex::new(auth));
    }
    let keys = Arc::new(keys);
    let c2 = c.clone();
    let (lat, failed, s) = drive(a.in_flight, a.duration, move |i| {
        let (c, keys) = (c2.clone(), keys.clone());
        async move {
            let (status, v) = c.post("/v1/auth/passkey/options", None, json!({})).await;
            if status != 200 {
                return Some(false);
            }
            let credential = keys[i % keys.len()].lock().await.get(&v["options"]);
            let body = json!({ "flow_id": v["flow_id"], "credential": credential });
            let (status, _) = c.post("/v1/auth/passkey", None, body).await;
            Some(status == 200)
        }
    })
    .await;
    report("passkey", lat, failed, s);
}

fn url_host(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.split(['/', ':']).next().unwrap_or(rest).to_owned()
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("factors: {e}");
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
            .build()
            .unwrap();
        let c = Arc::new(Client {
            http,
            url: a.url.clone(),
        });
        match a.workload.as_str() {
            "password" => password(c, &a).await,
            "passkey" => passkey(c, &a).await,
            "totp" => totp_step(c, &a).await,
            "email_code" => email_code(c, &a).await,
            other => {
                eprintln!(
                    "factors: unknown workload {other} (password | passkey | totp | email_code)"
                );
                std::process::exit(2);
            }
        }
    });
}
