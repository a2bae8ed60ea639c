//! TOTP, recovery codes and the factors overview (issue 18), checked with
//! an RFC 6238 generator written here from the RFC (ring's HMAC-SHA-1),
//! not the one the server uses, on the injectable clock.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp};

/// Base32 (RFC 4648) without padding, decoded by hand.
fn base32(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut acc, mut out) = (0u32, 0u64, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base32") as u64;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// RFC 6238 (RFC 4226 §5.3 truncation), HMAC-SHA-1, `digits` digits, for
/// time step `step`.
fn hotp(key: &[u8], step: u64, digits: u32) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mac = ring::hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[19] & 0x0f);
    let bin = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    format!(
        "{:0width$}",
        bin % 10u32.pow(digits),
        width = digits as usize
    )
}

/// The 6-digit code of `secret` (base32) for `step`.
pub(crate) fn code(secret: &str, step: i64) -> String {
    hotp(&base32(secret), u64::try_from(step).unwrap(), 6)
}

#[test]
fn the_test_generator_matches_rfc6238_appendix_b() {
    let key = b"12345678901234567890";
    for (t, want) in [
        (59u64, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(hotp(key, t / 30, 8), want, "T = {t}");
    }
    assert_eq!(base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), key);
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

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    app.request(method, path, Some(token), body).await
}

async fn json_ok(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Puts the clock in the middle of a time step; returns that step.
fn mid_step(app: &TestApp) -> i64 {
    let step = app.state.now() / 30 + 1;
    app.clock.set(step * 30 + 15);
    step
}

/// Enrols and confirms TOTP with the session `access`; returns the secret,
/// the step its first code used, and the recovery codes.
pub(crate) async fn enrol(app: &TestApp, access: &str) -> (String, i64, Vec<String>) {
    let step = mid_step(app);
    let body = json_ok(call(app, Method::POST, "/v1/users/me/totp", access, None).await).await;
    let secret = body["secret"].as_str().unwrap().to_owned();
    let res = call(
        app,
        Method::POST,
        "/v1/users/me/totp/confirm",
        access,
        Some(json!({ "code": code(&secret, step) })),
    )
    .await;
    let body = json_ok(res).await;
    let codes = body["recovery_codes"].as_array().unwrap();
    let codes = codes
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, step, codes)
}

async fn audits(app: &TestApp, kind: &str) -> i64 {
    app.sql_count(&format!(
        "SELECT count(*) FROM audit_events WHERE kind = '{kind}'"
    ))
    .await
}

#[tokio::test]
async fn enrol_confirm_and_the_factors_overview() {
    let app = spawn_app().await;
    let t = app.signed_up("ada@example.com").await;
    let factors = json_ok(app.get_auth("/v1/users/me/factors", &t.access).await).await;
    assert_eq!(
        factors,
        json!({ "totp": null, "passkeys": [], "recovery_codes": { "remaining": 0 } })
    );
    let step = mid_step(&app);
    let begun = json_ok(call(&app, Method::POST, "/v1/users/me/totp", &t.access, None).await).await;
    let secret = begun["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits, base32 without padding");
    assert_eq!(base32(secret).len(), 20);
    assert_eq!(begun["expires_in"], 600);
    let uri = begun["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("ada%40example.com"), "{uri}");
    // Pending is not on.
    let factors = json_ok(app.get_auth("/v1/users/me/factors", &t.access).await).await;
    assert_eq!(factors["totp"], Value::Null);

    let res = call(
        &app,
        Method::POST,
        "/v1/users/me/totp/confirm",
        &t.access,
        Some(json!({ "code": code(secret, step) })),
    )
    .await;
    let codes = json_ok(res).await["recovery_codes"].clone();
    let codes = codes.as_array().unwrap();
    assert_eq!(codes.len(), 10);
    for c in codes {
        let c = c.as_str().unwrap();
        assert_eq!(c.len(), 11, "{c}");
        assert_eq!(&c[5..6], "-", "{c}");
    }
    let stored = app.sql("SELECT code_hash FROM recovery_codes").await;
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|r| r[0].len() == 64), "SHA-256 hex only");
    assert!(!stored
        .iter()
        .any(|r| codes.iter().any(|c| c.as_str() == Some(&r[0]))));

    let factors = json_ok(app.get_auth("/v1/users/me/factors", &t.access).await).await;
    assert!(
        factors["totp"]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z'),
        "{factors}"
    );
    assert_eq!(factors["recovery_codes"]["remaining"], 10);
    assert_eq!(audits(&app, "totp.enabled").await, 1);
    assert_eq!(audits(&app, "recovery_codes.generated").await, 1);

    // On already: a new enrolment and a second confirm are conflicts.
    let res = call(&app, Method::POST, "/v1/users/me/totp", &t.access, None).await;
    assert_problem(res, 409, "conflict").await;
    let res = call(
        &app,
        Method::POST,
        "/v1/users/me/totp/confirm",
        &t.access,
        Some(json!({ "code": code(secret, step + 1) })),
    )
    .await;
    assert_problem(res, 409, "conflict").await;
}

#[tokio::test]
async fn a_wrong_code_is_422_and_an_expired_enrolment_is_gone() {
    let app = spawn_app().await;
    let t = app.signed_up("bob@example.com").await;
    let confirm = |code: String| {
        call(
            &app,
            Method::POST,
            "/v1/users/me/totp/confirm",
            &t.access,
            Some(json!({ "code": code })),
        )
    };
    assert_problem(confirm("123456".into()).await, 404, "not_found").await;
    let step = mid_step(&app);
    let begun = json_ok(call(&app, Method::POST, "/v1/users/me/totp", &t.access, None).await).await;
    let secret = begun["secret"].as_str().unwrap().to_owned();
    for wrong in [
        code(&secret, step + 2),
        code(&secret, step - 2),
        "12345".into(),
        "abcdef".into(),
    ] {
        if wrong == code(&secret, step) {
            continue;
        }
        let body = assert_problem(confirm(wrong).await, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "code");
    }
    // Ten minutes on, the pending secret is as good as absent (its
    // deadline moved rather than the clock: the session must stay recent).
    app.sql(&format!(
        "UPDATE totp_factors SET pending_until = {}",
        app.state.now()
    ))
    .await;
    let now_step = step;
    assert_problem(confirm(code(&secret, now_step)).await, 404, "not_found").await;
    // A new enrolment replaces it, and the old secret no longer confirms.
    let again = json_ok(call(&app, Method::POST, "/v1/users/me/totp", &t.access, None).await).await;
    let fresh = again["secret"].as_str().unwrap().to_owned();
    assert_ne!(fresh, secret);
    if code(&secret, now_step) != code(&fresh, now_step) {
        let body = assert_problem(
            confirm(code(&secret, now_step)).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "code");
    }
    json_ok(confirm(code(&fresh, now_step)).await).await;
    assert_eq!(audits(&app, "totp.enabled").await, 1);
}

#[tokio::test]
async fn drift_of_one_step_passes_two_do_not_and_no_step_passes_twice() {
    let app = spawn_app().await;
    let t = app.signed_up("cy@example.com").await;
    let user = app.sql("SELECT id FROM users").await[0][0].clone();
    let (secret, first, _) = enrol(&app, &t.access).await;
    let verify = |c: String| {
        let (state, user) = (app.state.clone(), user.clone());
        async move {
            toktok::accounts::totp::verify_code(&state, &user, &c)
                .await
                .unwrap()
        }
    };
    // The confirming code is spent already.
    assert!(
        !verify(code(&secret, first)).await,
        "the confirm code replayed"
    );
    let now = first + 10;
    app.clock.set(now * 30 + 15);
    assert!(!verify(code(&secret, now - 2)).await, "two steps late");
    assert!(!verify(code(&secret, now + 2)).await, "two steps early");
    assert!(!verify("000000x".into()).await);
    assert!(verify(code(&secret, now - 1)).await, "one step late");
    assert!(!verify(code(&secret, now - 1)).await, "replayed");
    assert!(verify(code(&secret, now)).await, "current");
    assert!(
        !verify(code(&secret, now)).await,
        "replayed within its window"
    );
    assert!(verify(code(&secret, now + 1)).await, "one step early");
    // The next step's code is spent, so the current one is too old now.
    app.clock.advance(30);
    assert!(
        !verify(code(&secret, now + 1)).await,
        "a step already taken"
    );
    app.clock.advance(30);
    assert!(verify(code(&secret, now + 2)).await, "the next step");
    // Another user's code of the same secret never exists: unknown user.
    let state = app.state.clone();
    let late = code(&secret, now + 3);
    let stranger = toktok::accounts::totp::verify_code(&state, "nobody", &late).await;
    assert!(!stranger.unwrap());
}

#[tokio::test]
async fn of_concurrent_verifies_of_one_code_exactly_one_succeeds() {
    let app = spawn_app().await;
    let t = app.signed_up("dee@example.com").await;
    let user = app.sql("SELECT id FROM users").await[0][0].clone();
    let (secret, first, _) = enrol(&app, &t.access).await;
    app.clock.set((first + 1) * 30 + 15);
    let c = code(&secret, first + 1);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (state, user, c) = (app.state.clone(), user.clone(), c.clone());
            tokio::spawn(async move {
                toktok::accounts::totp::verify_code(&state, &user, &c)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1, "one code, one success");
}

#[tokio::test]
async fn recovery_codes_work_once_and_a_new_set_kills_the_old() {
    let app = spawn_app().await;
    let t = app.signed_up("eve@example.com").await;
    let user = app.sql("SELECT id FROM users").await[0][0].clone();
    // No second factor: no recovery codes.
    let res = call(
        &app,
        Method::POST,
        "/v1/users/me/recovery-codes",
        &t.access,
        None,
    )
    .await;
    assert_problem(res, 409, "conflict").await;
    let (_, _, codes) = enrol(&app, &t.access).await;
    let redeem = |c: String| {
        let (state, user) = (app.state.clone(), user.clone());
        async move {
            toktok::accounts::recovery::redeem(&state, &user, &c)
                .await
                .unwrap()
        }
    };
    assert!(redeem(codes[0].clone()).await);
    assert!(!redeem(codes[0].clone()).await, "a code works once");
    // Case, spaces and the dash do not matter.
    assert!(redeem(codes[1].to_uppercase()).await);
    assert!(redeem(codes[2].replace('-', "")).await);
    assert!(redeem(format!(" {} ", codes[3].replace('-', " "))).await);
    assert!(!redeem("zzzzz-zzzzz".into()).await);
    assert!(!redeem(String::new()).await);
    assert_eq!(audits(&app, "recovery_code.used").await, 4);
    let factors = json_ok(app.get_auth("/v1/users/me/factors", &t.access).await).await;
    assert_eq!(factors["recovery_codes"]["remaining"], 6);

    let res = call(
        &app,
        Method::POST,
        "/v1/users/me/recovery-codes",
        &t.access,
        None,
    )
    .await;
    let fresh = json_ok(res).await["recovery_codes"].clone();
    let fresh: Vec<String> = serde_json::from_value(fresh).unwrap();
    assert_eq!(fresh.len(), 10);
    assert!(!redeem(codes[4].clone()).await, "the old set is dead");
    assert!(redeem(fresh[0].clone()).await);
    let factors = json_ok(app.get_auth("/v1/users/me/factors", &t.access).await).await;
    assert_eq!(factors["recovery_codes"]["remaining"], 9);
    assert_eq!(audits(&app, "recovery_codes.generated").await, 2);
}

#[tokio::test]
async fn removing_totp_ends_only_the_sessions_it_raised_and_mails() {
    let app = spawn_app().await;
    let a = app.signed_up("fay@example.com").await;
    // Sessions made before enrolment (a password alone, aal 1).
    let by_code = app.signed_in("fay@example.com").await;
    let by_passkey = app.signed_in("fay@example.com").await;
    let plain = app.signed_in("fay@example.com").await;
    let (_, _, _) = enrol(&app, &a.access).await;
    // The confirming session proved both factors.
    let raised = app
        .sql(&format!(
            "SELECT aal, factor FROM sessions WHERE id = '{}'",
            sid(&a.access)
        ))
        .await;
    assert_eq!(raised, vec![vec!["2".to_owned(), "totp".to_owned()]]);
    for (t, factor) in [(&by_code, "recovery_code"), (&by_passkey, "passkey:p1")] {
        app.sql(&format!(
            "UPDATE sessions SET aal = 2, factor = '{factor}' WHERE id = '{}'",
            sid(&t.access)
        ))
        .await;
    }
    // An aal 1 session of a user with a second factor: (R) refuses.
    let res = call(
        &app,
        Method::DELETE,
        "/v1/users/me/totp",
        &plain.access,
        None,
    )
    .await;
    assert_problem(res, 403, "reauthentication_required").await;

    let res = call(
        &app,
        Method::DELETE,
        "/v1/users/me/totp",
        &by_passkey.access,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for (t, live) in [
        (&a, false),
        (&by_code, false),
        (&by_passkey, true),
        (&plain, true),
    ] {
        let status = app.get_auth("/v1/users/me", &t.access).await.status();
        assert_eq!(status == StatusCode::OK, live, "{status}");
    }
    let reasons = app
        .sql("SELECT count(*) FROM sessions WHERE revoked_reason = 'factor_removed'")
        .await;
    assert_eq!(reasons[0][0], "2");
    let factors = json_ok(app.get_auth("/v1/users/me/factors", &plain.access).await).await;
    assert_eq!(factors["totp"], Value::Null);
    assert_eq!(
        factors["recovery_codes"]["remaining"], 0,
        "no passkey: codes go"
    );
    assert_eq!(audits(&app, "totp.disabled").await, 1);
    // The notice is queued in the same transaction; wait for the dev
    // mailer to write it (counting both at once could see it twice).
    for _ in 0..200 {
        let queued = app
            .sql_count("SELECT count(*) FROM outbox WHERE kind = 'totp_disabled_notice'")
            .await;
        if queued == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(notices_written(&app), 1, "the notice is written once");
    // Off now: nothing to remove.
    let res = call(
        &app,
        Method::DELETE,
        "/v1/users/me/totp",
        &plain.access,
        None,
    )
    .await;
    assert_problem(res, 404, "not_found").await;
}

/// Notices the dev outbox directory holds already.
fn notices_written(app: &TestApp) -> i64 {
    let Ok(entries) = std::fs::read_dir(app.dir.path().join("outbox")) else {
        return 0;
    };
    let texts = entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok());
    texts
        .filter(|t| t.contains("(TOTP) was just removed"))
        .count() as i64
}

#[tokio::test]
async fn removing_totp_keeps_the_recovery_codes_while_a_passkey_remains() {
    let app = spawn_app().await;
    let t = app.signed_up("gus@example.com").await;
    let user = app.sql("SELECT id FROM users").await[0][0].clone();
    let (_, _, _) = enrol(&app, &t.access).await;
    app.sql(&format!(
        "INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at)
         VALUES ('p1', '{user}', 'cred', 'Laptop', '{{}}', 1700000000)"
    ))
    .await;
    let factors = json_ok(app.get_auth("/v1/users/me/factors", &t.access).await).await;
    assert_eq!(
        factors["passkeys"],
        json!([{ "id": "p1", "name": "Laptop", "created_at": "2023-11-14T22:13:20Z",
                 "last_used_at": null, "backed_up": false }])
    );
    let res = call(&app, Method::DELETE, "/v1/users/me/totp", &t.access, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.sql_count("SELECT count(*) FROM recovery_codes").await,
        10
    );
}

#[tokio::test]
async fn a_stale_session_must_reauthenticate() {
    let app = spawn_app().await;
    let t = app.signed_up("hal@example.com").await;
    app.clock.advance(6 * 60);
    for (method, path) in [
        (Method::POST, "/v1/users/me/totp"),
        (Method::DELETE, "/v1/users/me/totp"),
        (Method::POST, "/v1/users/me/recovery-codes"),
    ] {
        let res = call(&app, method, path, &t.access, None).await;
        assert_problem(res, 403, "reauthentication_required").await;
    }
    let res = call(
        &app,
        Method::POST,
        "/v1/users/me/totp/confirm",
        &t.access,
        Some(json!({ "code": "123456" })),
    )
    .await;
    assert_problem(res, 403, "reauthentication_required").await;
    // The overview needs no recent sign-in.
    json_ok(app.get_auth("/v1/users/me/factors", &t.access).await).await;
}

#[tokio::test]
async fn with_totp_off_its_routes_are_404_feature_disabled() {
    let app = spawn_app_with("[totp]\nenabled = false\n").await;
    let t = app.signed_up("ida@example.com").await;
    for (method, path, body) in [
        (Method::POST, "/v1/users/me/totp", None),
        (
            Method::POST,
            "/v1/users/me/totp/confirm",
            Some(json!({ "code": "123456" })),
        ),
        (Method::DELETE, "/v1/users/me/totp", None),
    ] {
        let res = call(&app, method, path, &t.access, body).await;
        assert_problem(res, 404, "feature_disabled").await;
    }
    json_ok(app.get_auth("/v1/users/me/factors", &t.access).await).await;
}

#[tokio::test]
async fn of_concurrent_confirms_of_one_code_exactly_one_succeeds() {
    let app = spawn_app().await;
    let t = app.signed_up("jo@example.com").await;
    let step = mid_step(&app);
    let begun = json_ok(call(&app, Method::POST, "/v1/users/me/totp", &t.access, None).await).await;
    let c = code(begun["secret"].as_str().unwrap(), step);
    let body = json!({ "code": c });
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let req = app
                .client
                .post(app.url("/v1/users/me/totp/confirm"))
                .bearer_auth(&t.access)
                .json(&body);
            tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    // A loser finds TOTP on (409), or its session read before the winner
    // raised it next to a factor read after (403): never a second set.
    assert!(
        statuses.iter().all(|s| [200, 403, 409].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(
        app.sql_count("SELECT count(*) FROM recovery_codes").await,
        10
    );
    assert_eq!(audits(&app, "totp.enabled").await, 1);
}
