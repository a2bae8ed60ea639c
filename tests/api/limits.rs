//! Limits from the December 2026 review (issue 16): the client address
//! behind proxies (TT-16), the decrypt token taken before RSA work (TT-04),
//! current-password checks counted like logins (TT-03), the lockout that
//! can no longer keep an owner out (TT-09), HTTP/2 idle connections and the
//! per-IP connection cap (TT-07), and `/metrics` on its own listener (TT-10).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, TestApp, PASSWORD};
use crate::rsa_keys::encrypt_body;

/// The value of one series in the app's metrics, 0 when absent.
fn series(app: &TestApp, line_prefix: &str) -> u64 {
    app.state
        .metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(line_prefix)?.trim().parse().ok())
        .unwrap_or(0)
}

async fn login_via(app: &TestApp, xff: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", xff)
        .json(&json!({ "email": email, "password": "wrong wrong wrong" }))
        .send()
        .await
        .unwrap()
}

/// TT-16: behind a proxy that writes `ip:port` (or garbage) hops, clients
/// kept their own buckets instead of all sharing the proxy's.
#[tokio::test]
async fn forwarded_hops_with_ports_or_garbage_keep_clients_apart() {
    let app = spawn_app_with(
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n\
         [rate_limit]\nenabled = true\nper_ip_burst = 2\nper_ip_per_minute = 1\n",
    )
    .await;
    for _ in 0..2 {
        let res = login_via(&app, "203.0.113.1:5555", "a@example.com").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_via(&app, "203.0.113.1:6666", "b@example.com").await;
    assert_problem(res, 429, "rate_limited").await;
    // Another client, written with a port, or behind a garbage hop: its own.
    let res = login_via(&app, "[2001:db8::1]:443", "c@example.com").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = login_via(&app, "203.0.113.2, unknown", "c@example.com").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = login_via(&app, "garbage", "c@example.com").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// TT-04: undecryptable JWEs from one address reached the RSA key before
/// any rate limit. Now the decrypt token goes first, and the refused ones
/// cost no decryption.
#[tokio::test]
async fn undecryptable_bodies_take_the_decrypt_token_before_any_rsa_work() {
    let app = spawn_app_with(
        "[rsa]\nenabled = true\nkey_bits = 2048\n\
         [rate_limit]\nenabled = true\nper_ip_burst = 3\nper_ip_per_minute = 1\n",
    )
    .await;
    let key: Value = app
        .client
        .get(app.url("/v1/auth/public-key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A real RSA-OAEP key wrap with a flipped GCM tag: the private-key
    // operation succeeds, then the body is refused.
    let good = encrypt_body(&key, true, br#"{"email":"a@example.com","password":"x"}"#);
    let (head, tag) = good.rsplit_once('.').unwrap();
    let flipped = if tag.starts_with('A') { "B" } else { "A" };
    let bad = format!("{head}.{flipped}{}", &tag[1..]);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let res = app
            .client
            .post(app.url("/v1/auth/login"))
            .header("content-type", "application/jose")
            .body(bad.clone())
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 429, 429, 429]);
    let tried = |outcome: &str| {
        series(
            &app,
            &format!("toktok_jwe_decryptions_total{{outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(tried("invalid"), 3, "no decryption for the refused ones");
    assert_eq!(tried("ok") + tried("overloaded"), 0);
    // Plain JSON from that address is not refused by the decrypt bucket.
    let res = app.login("a@example.com", "wrong wrong wrong").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

const LOCKOUT: &str =
    "[rate_limit]\nenabled = true\nper_ip_burst = 1000\nper_ip_per_minute = 1000\n";

async fn change_password(app: &TestApp, token: &str, current: &str) -> reqwest::Response {
    app.request(
        reqwest::Method::POST,
        "/v1/users/me/password",
        Some(token),
        Some(json!({ "current_password": current, "new_password": "a brand new passphrase 1" })),
    )
    .await
}

/// TT-03: a stolen access token allowed unlimited guesses at the current
/// password. Now they count like failed logins, before any hash.
#[tokio::test]
async fn wrong_current_passwords_lock_like_failed_logins() {
    let app = spawn_app_with(LOCKOUT).await;
    let tokens = app.signed_up("victim@example.com").await;
    for _ in 0..5 {
        let res = change_password(&app, &tokens.access, "a wrong guess 0000").await;
        assert_problem(res, 403, "wrong_password").await;
    }
    // Locked: the right password waits too, on every route that checks it.
    let res = change_password(&app, &tokens.access, PASSWORD).await;
    assert_eq!(res.headers()["retry-after"], "1");
    let body = assert_problem(res, 429, "rate_limited").await;
    assert!(body["detail"].as_str().unwrap().contains("password reset"));
    let res = app
        .request(
            reqwest::Method::DELETE,
            "/v1/users/me",
            Some(&tokens.access),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_problem(res, 429, "rate_limited").await;
    // The same count as logins.
    let res = app.login("victim@example.com", PASSWORD).await;
    assert_problem(res, 429, "rate_limited").await;
    // Once the window has passed, the right password goes through.
    app.clock.advance(1);
    let res = change_password(&app, &tokens.access, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

/// TT-03: 80 connections of wrong current passwords filled the hash pool
/// and every other user's login got 503. Past the lockout (and the
/// client's bucket) a check costs no hash: at most five of a flood reach
/// the hasher, and other users sign in meanwhile.
#[tokio::test]
async fn a_flood_of_current_password_checks_reaches_the_hasher_five_times() {
    let app =
        spawn_app_with("[rate_limit]\nenabled = true\nper_ip_burst = 30\nper_ip_per_minute = 1\n")
            .await;
    let flooder = app.signed_up("flooder@example.com").await;
    app.signed_up("bystander@example.com").await;
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..60 {
        let (client, url) = (app.client.clone(), app.url("/v1/users/me/password"));
        let token = flooder.access.clone();
        flood.spawn(async move {
            let body = json!({
                "current_password": format!("guess number {i} xx"),
                "new_password": "a brand new passphrase 1",
            });
            let res = client.post(url).bearer_auth(token).json(&body).send().await;
            res.unwrap().status().as_u16()
        });
    }
    let statuses = flood.join_all().await;
    let hashed = statuses.iter().filter(|&&s| s == 403).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(hashed, 5, "{statuses:?}");
    assert_eq!(refused, 55, "{statuses:?}");
    assert_eq!(
        app.signed_in("bystander@example.com").await.body["token_type"],
        "Bearer"
    );
    // The client's own bucket: a second account from the same address is
    // refused once the 30 checks of the burst are spent.
    let other = app.signed_in("bystander@example.com").await;
    let res = change_password(&app, &other.access, "another wrong guess").await;
    assert_problem(res, 429, "rate_limited").await;
}

/// Behind a trusted proxy (127.0.0.1), so each request picks its address.
const BEHIND_PROXY: &str = "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n\
     [rate_limit]\nenabled = true\nper_ip_burst = 1000\nper_ip_per_minute = 1000\n";

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

fn retry_after(res: &reqwest::Response) -> i64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// TT-09: five wrong passwords from anywhere, then one per window, kept
/// the owner's correct password at 429 indefinitely. Now the attacker's
/// address is locked, and the owner's known address is not.
#[tokio::test]
async fn an_attacker_at_one_address_cannot_keep_the_owner_out() {
    let app = spawn_app_with(BEHIND_PROXY).await;
    let (home, attacker, cafe) = ("198.51.100.7", "203.0.113.66", "192.0.2.50");
    let email = "kate@example.com";
    // The owner signed in from home before.
    assert_eq!(login_from(&app, home, email, "x").await.status(), 401);
    app.register(email, PASSWORD).await;
    assert_eq!(login_from(&app, home, email, PASSWORD).await.status(), 200);

    // The attacker climbs the back-off to its cap, one guess per window.
    for _ in 0..5 {
        let res = login_from(&app, attacker, email, "attacker guess 000").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    for _ in 0..15 {
        let res = login_from(&app, attacker, email, "attacker guess 000").await;
        app.clock.advance(retry_after(&res));
        let res = login_from(&app, attacker, email, "attacker guess 000").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, attacker, email, PASSWORD).await;
    assert_eq!(retry_after(&res), 900);
    // A client the account never signed in from waits on the account's
    // count (guesses from many addresses share it), and is told that a
    // reset link works.
    let res = login_from(&app, cafe, email, PASSWORD).await;
    let body = assert_problem(res, 429, "rate_limited").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("password reset link"),
        "{body}"
    );
    // The owner at home is not locked out ...
    let res = login_from(&app, home, email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    // ... while the attacker still is, even with the right password.
    let res = login_from(&app, attacker, email, PASSWORD).await;
    assert_eq!(retry_after(&res), 900);
    assert_problem(res, 429, "rate_limited").await;
    // A wrong password from home counts too: home has its own back-off.
    for _ in 0..5 {
        let res = login_from(&app, home, email, "owner typo 000000").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, home, email, PASSWORD).await;
    assert_problem(res, 429, "rate_limited").await;
    app.clock.advance(1);
    let res = login_from(&app, home, email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// TT-09, the other side: an attacker with a fresh address for every guess
/// is held to L3's per-account back-off (5 failures, then 1 s doubling to
/// 15 min): over an hour, guessing as fast as the answers allow, exactly
/// the guesses L3 permits get through, and never one early.
#[tokio::test]
async fn an_attacker_at_many_addresses_guesses_no_faster_than_l3() {
    let app = spawn_app_with(BEHIND_PROXY).await;
    app.register("kate@example.com", PASSWORD).await;
    let start = app.state.now();
    let (mut guesses, mut n) = (0u32, 0u32);
    let mut address = || {
        n += 1;
        format!("10.{}.{}.1", n / 250, n % 250)
    };
    let mut waits = Vec::new();
    while app.state.now() - start < 3600 {
        let res = login_from(&app, &address(), "kate@example.com", "a guess 1234567").await;
        match res.status().as_u16() {
            401 => guesses += 1,
            429 => {
                let wait = retry_after(&res);
                waits.push(wait);
                // One second early is still refused, from yet another address.
                app.clock.advance(wait - 1);
                let early = login_from(&app, &address(), "kate@example.com", "x").await;
                assert_eq!(early.status(), StatusCode::TOO_MANY_REQUESTS);
                app.clock.advance(1);
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(&waits[..11], [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]);
    assert!(waits[11..].iter().all(|&w| w == 900), "{waits:?}");
    // 5, then 1 per window (the last window may end past the hour); L3's
    // hard cap is 100 an hour.
    let windows = waits.len();
    assert!(
        (4 + windows..=5 + windows).contains(&(guesses as usize)),
        "{guesses}"
    );
    assert!(guesses < 20, "{guesses}");
}

/// TT-10: `/metrics` on the API's port showed whether a password-forgot
/// matched an account (`toktok_mail_total`). It is now served only on its
/// own listener (`metrics.listen`, loopback by default).
#[tokio::test]
async fn metrics_are_served_on_their_own_listener_only() {
    let app = spawn_app_with("[email]\nmode = \"dev\"\n").await;
    app.signed_up("known@example.com").await;
    let res = app
        .post(
            "/v1/auth/password/forgot",
            json!({ "email": "known@example.com" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    let res = app.client.get(app.metrics_url()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("toktok_logins_total"));
    // The metrics listener serves nothing else.
    let other = format!("http://{}/health", app.metrics_addr);
    let res = app.client.get(other).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    // The default is loopback.
    let defaults = toktok::Config::default();
    assert!(defaults.metrics.listen.unwrap().ip().is_loopback());
}

/// A raw TCP connection to the server from `source` (a 127.x address).
async fn connect_from(app: &TestApp, source: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(app.addr).await.unwrap()
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Plays a live but idle HTTP/2 client (settings and pings answered, no
/// stream ever opened) until the server closes; returns how long that took.
async fn idle_h2_client(mut conn: tokio::net::TcpStream) -> std::time::Duration {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let started = std::time::Instant::now();
    conn.write_all(H2_PREFACE).await.unwrap();
    loop {
        let mut head = [0u8; 9];
        if conn.read_exact(&mut head).await.is_err() {
            return started.elapsed();
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; len];
        if conn.read_exact(&mut payload).await.is_err() {
            return started.elapsed();
        }
        let (kind, flags) = (head[3], head[4]);
        let ack = match kind {
            4 if flags & 1 == 0 => Some((4u8, Vec::new())),
            6 if flags & 1 == 0 => Some((6u8, payload)),
            _ => None,
        };
        if let Some((kind, payload)) = ack {
            let len = (payload.len() as u32).to_be_bytes();
            let mut frame = vec![len[1], len[2], len[3], kind, 1, 0, 0, 0, 0];
            frame.extend_from_slice(&payload);
            if conn.write_all(&frame).await.is_err() {
                return started.elapsed();
            }
        }
    }
}

/// TT-07: an idle h2c (prior knowledge) connection was held for ever, so a
/// few hundred of them stopped the server accepting. Now it is closed after
/// `server.idle_timeout`, even when it answers every ping.
#[tokio::test]
async fn idle_http2_connections_are_closed_after_the_idle_timeout() {
    let app = spawn_app_with("[server]\nidle_timeout = \"1s\"\n").await;
    let conn = connect_from(&app, "127.0.0.1").await;
    let held = tokio::time::timeout(std::time::Duration::from_secs(10), idle_h2_client(conn))
        .await
        .expect("the server closes an idle HTTP/2 connection");
    assert!(held >= std::time::Duration::from_millis(900), "{held:?}");
    // One that never answers (the review's attacker) goes too.
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut silent = connect_from(&app, "127.0.0.1").await;
    silent.write_all(H2_PREFACE).await.unwrap();
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        silent.read_to_end(&mut sink),
    )
    .await;
    assert!(closed.is_ok(), "a silent idle HTTP/2 connection is closed");
    // A connection that is used is not cut while a request runs.
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// TT-07: connections per client address are capped
/// (`server.max_connections_per_ip`): past the cap a connection is closed at
/// accept, while other clients are served, and a freed slot is reusable.
#[tokio::test]
async fn the_per_address_connection_cap_refuses_extra_connections() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app_with("[server]\nmax_connections_per_ip = 3\n").await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = connect_from(&app, "127.0.0.2").await;
        conn.write_all(H2_PREFACE).await.unwrap();
        held.push(conn);
    }
    // Let the server accept all three before the fourth arrives.
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut extra = connect_from(&app, "127.0.0.2").await;
    let _ = extra
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), extra.read(&mut buf))
        .await
        .expect("closed at once")
        .unwrap_or(0);
    assert_eq!(n, 0, "refused: {:?}", String::from_utf8_lossy(&buf[..n]));
    assert!(series(&app, "toktok_connections_refused_total") >= 1);
    // Another address is served meanwhile.
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A freed slot takes a new connection.
    drop(held.pop());
    let mut answered = false;
    for _ in 0..50 {
        let mut conn = connect_from(&app, "127.0.0.2").await;
        let _ = conn
            .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await;
        let mut text = Vec::new();
        let _ = conn.read_to_end(&mut text).await;
        if text.starts_with(b"HTTP/1.1 200") {
            answered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(answered, "the freed slot is reusable");
}

/// TT-09: the addresses an account signed in from are remembered bounded
/// (the 10 most recent) and only as HMACs; a forgotten one waits on the
/// account's count like any other.
#[tokio::test]
async fn known_addresses_are_bounded_and_not_stored_in_clear() {
    let app = spawn_app_with(BEHIND_PROXY).await;
    let email = "roamer@example.com";
    app.register(email, PASSWORD).await;
    for i in 0..12 {
        app.clock.advance(1);
        let res = login_from(&app, &format!("198.51.100.{i}"), email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(
        app.sql_count("SELECT count(*) FROM sign_in_clients").await,
        10
    );
    let rows = app.sql("SELECT client_hash FROM sign_in_clients").await;
    assert!(
        rows.iter().all(|r| !r[0].contains("198.51.100")),
        "{rows:?}"
    );
    // Lock the account from elsewhere.
    for _ in 0..5 {
        let _ = login_from(&app, "203.0.113.66", email, "attacker guess 000").await;
    }
    // The two oldest addresses were forgotten; the newest pass.
    let res = login_from(&app, "198.51.100.0", email, PASSWORD).await;
    assert_problem(res, 429, "rate_limited").await;
    let res = login_from(&app, "198.51.100.11", email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// An address that signed in with a password that has since been changed
/// or reset (a thief's, perhaps) is no longer a known one: it waits on the
/// account's lock like any other.
#[tokio::test]
async fn a_new_password_forgets_the_known_addresses() {
    let app = spawn_app_with(BEHIND_PROXY).await;
    let email = "lee@example.com";
    let thief = "203.0.113.9";
    let owner = app.signed_up(email).await;
    assert_eq!(login_from(&app, thief, email, PASSWORD).await.status(), 200);
    let changed = app
        .request(
            reqwest::Method::POST,
            "/v1/users/me/password",
            Some(&owner.access),
            Some(
                json!({ "current_password": PASSWORD, "new_password": "the owner's fresh one 1" }),
            ),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.sql_count("SELECT count(*) FROM sign_in_clients").await,
        0
    );
    // Lock the account from elsewhere: the thief's address waits too.
    for _ in 0..5 {
        let _ = login_from(&app, "192.0.2.77", email, "attacker guess 000").await;
    }
    let res = login_from(&app, thief, email, "the owner's fresh one 1").await;
    assert_problem(res, 429, "rate_limited").await;
}

/// TT-16: `trusted_proxies = ["0.0.0.0/0"]` was accepted silently; `check`
/// (like `serve`) now warns that it trusts every address.
#[test]
fn check_warns_when_trusted_proxies_trust_everything() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("toktok.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ntrusted_proxies = [\"10.0.0.1\", \"::/0\"]\n{}\
             [password]\npbkdf2_iterations = 600000\n",
            crate::helpers::database_toml(dir.path())
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toktok"))
        .arg("--config")
        .arg(&config)
        .arg("check")
        .env_remove("TOKTOK_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("the toktok binary runs");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("::/0, which trusts every address"), "{said}");
}

/// The connection bookkeeping of TT-07 also drives the drain: at shutdown a
/// request in flight (here, its body still arriving) finishes and is
/// answered before the server stops.
#[tokio::test]
async fn a_request_in_flight_at_shutdown_is_answered() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app_with("").await;
    let body = br#"{"email":"late@example.com","password":"wrong wrong wrong"}"#;
    let mut conn = connect_from(&app, "127.0.0.1").await;
    let head = format!(
        "POST /v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    conn.write_all(&body[10..]).await.unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 401"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stopping.await.unwrap();
}

/// Landscape §5.6 (better-auth GHSA-x732-6j76-qmhm: `//sign-in/email`
/// reached the route but not its rate limit): once the login bucket is
/// empty, every other spelling of the login path is either not a route
/// (404) or the same route in the same bucket (429), never a fresh try.
#[tokio::test]
async fn other_spellings_of_a_path_never_escape_its_rate_limit() {
    let app =
        spawn_app_with("[rate_limit]\nenabled = true\nper_ip_burst = 2\nper_ip_per_minute = 1\n")
            .await;
    let wrong = json!({ "email": "a@example.com", "password": "wrong wrong wrong" });
    let post = |path: &str| {
        app.client
            .post(format!("http://{}{path}", app.addr))
            .json(&wrong)
            .send()
    };
    for _ in 0..2 {
        let res = post("/v1/auth/login").await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    for path in [
        "//v1/auth/login",
        "/v1//auth/login",
        "/v1/auth/login/",
        "/v1/auth/login//",
        "/v1%2Fauth/login",
        "/v1/auth%2Flogin",
        "/v1/auth/%6Cogin",
        "/V1/auth/login",
        "/v1/auth/LOGIN",
        "/v1/auth/login;x",
        "/v1/auth/login%00",
        "/v1/auth/login?x=1",
        "/v1/auth/login#x",
    ] {
        let status = post(path).await.unwrap().status();
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::TOO_MANY_REQUESTS,
            "{path}: {status}"
        );
    }
}
