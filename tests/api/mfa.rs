//! The MFA step of a sign-in (docs/API.md "Sign-in beyond passwords"): a
//! right password of a user with a second factor gets an `mfa_token`, never
//! a session; `POST /v1/auth/mfa` finishes it once. The second factor here
//! is a passkey (the software authenticator) or TOTP; the attacks: a token
//! used twice, after expiry, after five wrong answers, for another user's
//! passkey, after the password changed; wrong answers counted in the
//! account's lockout; concurrent right answers sign in once.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::authenticator::Authenticator;
use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp, PASSWORD};
use crate::passkeys::{claims, register};

/// A user with a password and a device-bound passkey; its authenticator.
async fn with_passkey(app: &TestApp, email: &str) -> Authenticator {
    let t = app.signed_up(email).await;
    let mut authn = Authenticator::for_config(&app.state.config);
    register(app, &t.access, &mut authn).await;
    authn
}

/// A password sign-in that must stop at the MFA step: its answer.
async fn mfa_required(app: &TestApp, email: &str) -> Value {
    let res = app.login(email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["mfa_required"], true, "{body}");
    body
}

/// Answers the MFA step of `mfa_token` with a passkey assertion by `authn`.
async fn answer_with_passkey(
    app: &TestApp,
    mfa_token: &str,
    authn: &mut Authenticator,
) -> reqwest::Response {
    let res = app
        .post(
            "/v1/auth/mfa/passkey-options",
            json!({ "mfa_token": mfa_token }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let options: Value = res.json().await.unwrap();
    let credential = authn.get(&options["options"]);
    app.post(
        "/v1/auth/mfa",
        json!({ "mfa_token": mfa_token, "flow_id": options["flow_id"], "credential": credential }),
    )
    .await
}

async fn sessions(app: &TestApp) -> i64 {
    app.sql_count("SELECT count(*) FROM sessions").await
}

#[tokio::test]
async fn a_right_password_with_a_second_factor_makes_no_session() {
    let app = spawn_app().await;
    with_passkey(&app, "ada@example.com").await;
    let before = sessions(&app).await;
    let body = mfa_required(&app, "ada@example.com").await;
    assert_eq!(body["factors"], json!(["passkey"]));
    assert_eq!(body["expires_in"], 300);
    let token = body["mfa_token"].as_str().unwrap();
    assert!(token.starts_with("mfa_") && token.len() == 47, "{token}");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    assert_eq!(
        sessions(&app).await,
        before,
        "no session before the second factor"
    );
    let challenged = app
        .sql_count("SELECT count(*) FROM audit_events WHERE kind = 'mfa.challenged'")
        .await;
    assert_eq!(challenged, 1);
}

#[tokio::test]
async fn a_passkey_finishes_the_step_at_aal_2_once() {
    let app = spawn_app().await;
    let mut authn = with_passkey(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    let token = body["mfa_token"].as_str().unwrap();
    let res = answer_with_passkey(&app, token, &mut authn).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    let c = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(c["aal"], 2);
    assert_eq!(c["amr"], json!(["pwd", "hwk"]));
    let sid = c["sid"].as_str().unwrap();
    let factor = app
        .sql(&format!("SELECT factor FROM sessions WHERE id = '{sid}'"))
        .await;
    assert!(factor[0][0].starts_with("passkey:"), "{factor:?}");
    // The refresh token works, and keeps aal 2.
    let res = app.refresh(tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let refreshed: Value = res.json().await.unwrap();
    assert_eq!(
        claims(refreshed["access_token"].as_str().unwrap())["aal"],
        2
    );
    // The token is spent.
    let res = answer_with_passkey_options_only(&app, token).await;
    assert_problem(res, 401, "invalid_token").await;
    let res = app
        .post(
            "/v1/auth/mfa",
            json!({ "mfa_token": token, "totp": "123456" }),
        )
        .await;
    assert_problem(res, 401, "invalid_token").await;
    let succeeded = app
        .sql_count("SELECT count(*) FROM audit_events WHERE kind = 'mfa.succeeded'")
        .await;
    assert_eq!(succeeded, 1);
}

async fn answer_with_passkey_options_only(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(
        "/v1/auth/mfa/passkey-options",
        json!({ "mfa_token": token }),
    )
    .await
}

#[tokio::test]
async fn an_mfa_token_expires_after_five_minutes() {
    let app = spawn_app().await;
    let mut authn = with_passkey(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    app.clock.advance(301);
    let res = answer_with_passkey_options_only(&app, body["mfa_token"].as_str().unwrap()).await;
    assert_problem(res, 401, "invalid_token").await;
    // A fresh one works.
    let body = mfa_required(&app, "ada@example.com").await;
    let res = answer_with_passkey(&app, body["mfa_token"].as_str().unwrap(), &mut authn).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_and_unknown_tokens_are_invalid() {
    let app = spawn_app().await;
    with_passkey(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    let token = body["mfa_token"].as_str().unwrap();
    let unknown = format!("mfa_{}", "A".repeat(43));
    for bad in [
        unknown.as_str(),
        &token[..46],
        &format!("{token}A"),
        token.trim_start_matches("mfa_"),
        "",
    ] {
        let res = app
            .post(
                "/v1/auth/mfa",
                json!({ "mfa_token": bad, "totp": "123456" }),
            )
            .await;
        assert_problem(res, 401, "invalid_token").await;
    }
    // Bodies that name no single proof: 422, nothing spent.
    for body in [
        json!({ "mfa_token": token }),
        json!({ "mfa_token": token, "totp": "1", "recovery_code": "2" }),
        json!({ "mfa_token": token, "flow_id": "x" }),
    ] {
        let res = app.post("/v1/auth/mfa", body).await;
        assert_problem(res, 422, "validation_failed").await;
    }
    let res = app
        .post(
            "/v1/auth/mfa",
            json!({ "mfa_token": token, "totp": "1", "other": 1 }),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn five_wrong_answers_kill_the_token_and_count_in_the_lockout() {
    let app = spawn_app_with("[rate_limit]\nenabled = true\nper_ip_burst = 100000\n").await;
    let mut authn = with_passkey(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    let token = body["mfa_token"].as_str().unwrap();
    // Wrong TOTP codes (the user has none, so none is right) and a
    // passkey assertion signing the wrong challenge.
    for _ in 0..4 {
        let res = app
            .post(
                "/v1/auth/mfa",
                json!({ "mfa_token": token, "totp": "000000" }),
            )
            .await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    authn.challenge = Some(vec![9; 32]);
    let res = answer_with_passkey(&app, token, &mut authn).await;
    assert_problem(res, 401, "invalid_credentials").await;
    authn.challenge = None;
    // Dead now, even for a right answer.
    let res = answer_with_passkey_options_only(&app, token).await;
    assert_problem(res, 401, "invalid_token").await;
    let failed = app
        .sql_count("SELECT count(*) FROM audit_events WHERE kind = 'mfa.failed'")
        .await;
    assert_eq!(failed, 5);
    // The five wrong answers are five failed sign-ins: the account waits
    // (L3), and a right password alone does not reset the count.
    let res = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(2);
    let body = mfa_required(&app, "ada@example.com").await;
    // Past the threshold each attempt waits its window, the second
    // factor's too (taking the password's attempt restarted it).
    app.clock.advance(2);
    let res = app
        .post(
            "/v1/auth/mfa",
            json!({ "mfa_token": body["mfa_token"], "totp": "000000" }),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
    let res = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the count went on"
    );
    // A complete sign-in clears it.
    app.clock.advance(5);
    let body = mfa_required(&app, "ada@example.com").await;
    app.clock.advance(5);
    let res = answer_with_passkey(&app, body["mfa_token"].as_str().unwrap(), &mut authn).await;
    assert_eq!(res.status(), StatusCode::OK);
    let failures = app
        .sql("SELECT count(*) FROM login_failures WHERE failures > 0")
        .await;
    assert_eq!(failures[0][0], "0");
}

#[tokio::test]
async fn another_users_passkey_does_not_answer() {
    let app = spawn_app().await;
    with_passkey(&app, "ada@example.com").await;
    let mut eve = with_passkey(&app, "eve@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    // Eve's passkey answers a flow of Eve's token; not Ada's token.
    let eve_body = mfa_required(&app, "eve@example.com").await;
    let res = app
        .post(
            "/v1/auth/mfa/passkey-options",
            json!({ "mfa_token": eve_body["mfa_token"] }),
        )
        .await;
    let eve_options: Value = res.json().await.unwrap();
    let credential = eve.get(&eve_options["options"]);
    let res = app
        .post(
            "/v1/auth/mfa",
            json!({ "mfa_token": body["mfa_token"], "flow_id": eve_options["flow_id"], "credential": credential }),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn a_password_change_or_disable_kills_a_pending_step() {
    let app = spawn_app().await;
    let authn = with_passkey(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    // The password changes meanwhile (a reset, elsewhere).
    let hash = app
        .sql("SELECT password_hash FROM users WHERE email = 'ada@example.com'")
        .await;
    let other = hash[0][0].replace('$', "$x");
    app.sql(&format!(
        "UPDATE users SET password_hash = '{other}' WHERE email = 'ada@example.com'"
    ))
    .await;
    let res = answer_with_passkey_options_only(&app, body["mfa_token"].as_str().unwrap()).await;
    assert_problem(res, 401, "invalid_token").await;
    app.sql(&format!(
        "UPDATE users SET password_hash = '{}' WHERE email = 'ada@example.com'",
        hash[0][0]
    ))
    .await;
    let body = mfa_required(&app, "ada@example.com").await;
    let key = app.api_key(&["admin"]).await;
    let id = app
        .sql("SELECT id FROM users WHERE email = 'ada@example.com'")
        .await;
    let res = app
        .request(
            reqwest::Method::PATCH,
            &format!("/v1/admin/users/{}", id[0][0]),
            Some(&key),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = answer_with_passkey_options_only(&app, body["mfa_token"].as_str().unwrap()).await;
    assert_problem(res, 401, "invalid_token").await;
    drop(authn);
}

#[tokio::test]
async fn concurrent_right_answers_sign_in_once() {
    let app = spawn_app().await;
    let mut authn = with_passkey(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    // Eight assertions, each on its own passkey flow of the same token.
    let mut answers = Vec::new();
    for _ in 0..8 {
        let res = answer_with_passkey_options_only(&app, &token).await;
        let options: Value = res.json().await.unwrap();
        let credential = authn.get(&options["options"]);
        answers.push(
            json!({ "mfa_token": token, "flow_id": options["flow_id"], "credential": credential }),
        );
    }
    let before = sessions(&app).await;
    let url = app.url("/v1/auth/mfa");
    let client = reqwest::Client::new();
    let results = futures_join(answers.into_iter().map(|b| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move { client.post(url).json(&b).send().await.unwrap().status() })
    }))
    .await;
    let ok = results.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{results:?}");
    assert_eq!(sessions(&app).await, before + 1);
}

async fn futures_join(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<StatusCode>>,
) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn without_a_second_factor_login_signs_in_as_before() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let t = app.signed_in("ada@example.com").await;
    let c = claims(&t.access);
    assert_eq!(c["aal"], 1);
    assert_eq!(c["amr"], json!(["pwd"]));
    assert!(t.body.get("mfa_required").is_none());
}

/// A user with TOTP: its secret, the step its confirmation used, and its
/// recovery codes.
async fn with_totp(app: &TestApp, email: &str) -> (String, i64, Vec<String>) {
    let t = app.signed_up(email).await;
    crate::totp::enrol(app, &t.access).await
}

async fn answer(app: &TestApp, token: &Value, field: &str, code: &str) -> reqwest::Response {
    app.post("/v1/auth/mfa", json!({ "mfa_token": token, field: code }))
        .await
}

#[tokio::test]
async fn a_totp_code_finishes_the_step_once_and_never_again() {
    let app = spawn_app().await;
    let (secret, step, _) = with_totp(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    assert_eq!(body["factors"], json!(["totp", "recovery_code"]));
    // The confirmation used this step's code: replaying it is refused.
    let used = crate::totp::code(&secret, step);
    let res = answer(&app, &body["mfa_token"], "totp", &used).await;
    assert_problem(res, 401, "invalid_credentials").await;
    // The next step's code (one step of drift) signs in, at aal 2.
    let next = crate::totp::code(&secret, step + 1);
    let res = answer(&app, &body["mfa_token"], "totp", &next).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    let c = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        (c["aal"].clone(), c["amr"].clone()),
        (json!(2), json!(["pwd", "otp"]))
    );
    // Within its window, the same code never works again, on a new step.
    let body = mfa_required(&app, "ada@example.com").await;
    let res = answer(&app, &body["mfa_token"], "totp", &next).await;
    assert_problem(res, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn a_recovery_code_finishes_the_step_once() {
    let app = spawn_app().await;
    let (_, _, codes) = with_totp(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    let res = answer(&app, &body["mfa_token"], "recovery_code", &codes[0]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    let sid = claims(tokens["access_token"].as_str().unwrap())["sid"].clone();
    let factor = app
        .sql(&format!(
            "SELECT factor FROM sessions WHERE id = '{}'",
            sid.as_str().unwrap()
        ))
        .await;
    assert_eq!(factor[0][0], "recovery_code");
    let body = mfa_required(&app, "ada@example.com").await;
    let res = answer(&app, &body["mfa_token"], "recovery_code", &codes[0]).await;
    assert_problem(res, 401, "invalid_credentials").await;
    let res = answer(&app, &body["mfa_token"], "recovery_code", &codes[1]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_totp_codes_lock_the_account_like_wrong_passwords() {
    let app = spawn_app_with("[rate_limit]\nenabled = true\nper_ip_burst = 100000\n").await;
    let (secret, step, _) = with_totp(&app, "ada@example.com").await;
    // Three wrong passwords, then two wrong codes: five failures.
    for _ in 0..3 {
        let res = app
            .login("ada@example.com", "not the password at all")
            .await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let body = mfa_required(&app, "ada@example.com").await;
    for _ in 0..2 {
        let res = answer(&app, &body["mfa_token"], "totp", "000000").await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    // Locked: the right code waits too.
    let right = crate::totp::code(&secret, step + 1);
    let res = answer(&app, &body["mfa_token"], "totp", &right).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let locked = app
        .sql_count("SELECT count(*) FROM audit_events WHERE kind = 'login.locked'")
        .await;
    assert_eq!(locked, 1);
    app.clock.advance(1);
    let res = answer(&app, &body["mfa_token"], "totp", &right).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_mfa_token_is_not_a_token_anywhere_else() {
    let app = spawn_app().await;
    with_totp(&app, "ada@example.com").await;
    let body = mfa_required(&app, "ada@example.com").await;
    let token = body["mfa_token"].as_str().unwrap();
    let res = app.get_auth("/v1/users/me", token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.refresh(token).await;
    assert_problem(res, 401, "invalid_token").await;
}
